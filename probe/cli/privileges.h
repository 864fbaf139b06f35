/* Dropping root once the capture is open: from then on the probe runs as an ordinary user with
 * no capabilities (not even CAP_NET_RAW: the open capture sockets keep working without it) and
 * no way back to root. */
#ifndef DNSPROBE_PRIVILEGES_H
#define DNSPROBE_PRIVILEGES_H

#include <stddef.h>

/* Switches every thread of the process to user's uid, primary group and supplementary groups,
 * then verifies that root and every capability are gone for good. When the process already runs
 * as that user, does nothing. Returns 0, or -1 with one line for the user in err. */
int privileges_drop(const char *user, char *err, size_t err_size);

#endif
