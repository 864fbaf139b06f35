/* Replay's progress bar on standard error: "[#####-----]  45%  file 2/3  pass 1/3  12345
 * records", redrawn in place by the control loop. */
#ifndef DNSPROBE_PROGRESS_BAR_H
#define DNSPROBE_PROGRESS_BAR_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"

struct progress_bar {
	bool drawn;
	int64_t next_draw_ns;
};

/* Redraws the bar when it was last drawn long enough ago. */
void progress_bar_draw(struct progress_bar *bar, const struct capture_progress *p, uint64_t records,
		       int64_t now_ns);

/* Clears the line, before anything else is written to standard error. */
void progress_bar_clear(struct progress_bar *bar);

#endif
