/* The one clock reader: a POSIX clock as nanoseconds (async-signal-safe, as clock_gettime is). */
#ifndef DNSPROBE_CLOCK_H
#define DNSPROBE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SECOND 1000000000LL

static inline int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * CLOCK_NS_PER_SECOND + ts.tv_nsec;
}

#endif
