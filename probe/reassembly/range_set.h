/* A small sorted set of byte ranges [start, end): which parts of a datagram or stream arrived. */
#ifndef DNSPROBE_RANGE_SET_H
#define DNSPROBE_RANGE_SET_H

#include <stdbool.h>
#include <stdint.h>

#define RANGE_SET_MAX 32

struct range_set {
	uint32_t count;
	struct {
		uint32_t start, end;
	} ranges[RANGE_SET_MAX];
};

static inline void range_set_clear(struct range_set *set)
{
	set->count = 0;
}

/* True when [start, end) shares a byte with a range in the set. */
static inline bool range_set_overlaps(const struct range_set *set, uint32_t start, uint32_t end)
{
	for (uint32_t i = 0; i < set->count; i++)
		if (start < set->ranges[i].end && set->ranges[i].start < end)
			return true;
	return false;
}

/* Adds [start, end), merging touching ranges; false when the set is full. */
bool range_set_add(struct range_set *set, uint32_t start, uint32_t end);

/* Length of the part that starts at 0 and has no hole. */
static inline uint32_t range_set_prefix(const struct range_set *set)
{
	return set->count > 0 && set->ranges[0].start == 0 ? set->ranges[0].end : 0;
}

/* Drops everything below cut and moves the rest down by cut. */
void range_set_shift(struct range_set *set, uint32_t cut);

#endif
