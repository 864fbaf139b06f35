/* Replay's progress bar. */
#include "progress_bar.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PROGRESS_REDRAW_NS 100000000LL
#define PROGRESS_BAR_WIDTH 30

void progress_bar_clear(struct progress_bar *bar)
{
	if (bar->drawn) {
		fputs("\r\033[K", stderr);
		bar->drawn = false;
	}
}

void progress_bar_draw(struct progress_bar *bar, const struct capture_progress *p, uint64_t records,
		       int64_t now_ns)
{
	if (now_ns < bar->next_draw_ns)
		return;
	bar->next_draw_ns = now_ns + PROGRESS_REDRAW_NS;
	double pass_done = 0;
	if (p->total_bytes)
		pass_done = (double)p->done_bytes / (double)p->total_bytes;
	double done = pass_done;
	if (p->passes)
		done = ((double)(p->pass - 1) + pass_done) / (double)p->passes;
	int filled = (int)(done * PROGRESS_BAR_WIDTH);
	filled = filled < 0 ? 0 : filled > PROGRESS_BAR_WIDTH ? PROGRESS_BAR_WIDTH : filled;
	char line[PROGRESS_BAR_WIDTH + 1];
	memset(line, '#', (size_t)filled);
	memset(line + filled, '-', (size_t)(PROGRESS_BAR_WIDTH - filled));
	line[PROGRESS_BAR_WIDTH] = '\0';
	char passes[64] = "";
	if (p->passes == 0)
		snprintf(passes, sizeof(passes), "  pass %" PRIu64, p->pass);
	else if (p->passes > 1)
		snprintf(passes, sizeof(passes), "  pass %" PRIu64 "/%" PRIu64, p->pass, p->passes);
	fprintf(stderr, "\r[%s] %3d%%  file %u/%u%s  %" PRIu64 " records\033[K", line,
		(int)(done * 100), p->file, p->files, passes, records);
	bar->drawn = true;
}
