/* Capture times as nanoseconds since 1970, from the seconds and fraction a capture gives. */
#ifndef DNSPROBE_CAPTURE_TIME_H
#define DNSPROBE_CAPTURE_TIME_H

#include <stdint.h>

#define CAPTURE_TIME_NS_PER_SECOND 1000000000LL

/* seconds * 10^9 + fraction_ns, saturated: a pcapng file may say (with a large if_tsoffset, or
 * if_tsresol 10^0) a time past what 64-bit nanoseconds hold (year 2262) or before 1678; such a
 * time becomes the nearest one that can be held, never a wrapped one. */
static inline int64_t capture_time_ns(int64_t seconds, int64_t fraction_ns)
{
	int64_t ns;
	if (__builtin_mul_overflow(seconds, CAPTURE_TIME_NS_PER_SECOND, &ns) ||
	    __builtin_add_overflow(ns, fraction_ns, &ns))
		return seconds < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

#endif
