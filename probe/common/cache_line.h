/* Allocation for state that a worker writes for every packet: whole cache lines of its own, so
 * that two workers on two cores never write into one line (false sharing made two workers no
 * faster than one). Free it with free(). */
#ifndef DNSPROBE_CACHE_LINE_H
#define DNSPROBE_CACHE_LINE_H

#include <stdlib.h>
#include <string.h>

#define CACHE_LINE_SIZE 64

/* calloc, but aligned to a cache line and rounded up to whole lines. */
static inline void *cache_line_calloc(size_t size)
{
	size_t rounded = size ? (size + CACHE_LINE_SIZE - 1) / CACHE_LINE_SIZE * CACHE_LINE_SIZE
			      : CACHE_LINE_SIZE;
	void *p = aligned_alloc(CACHE_LINE_SIZE, rounded);
	if (p)
		memset(p, 0, rounded);
	return p;
}

#endif
