/* A small sorted set of byte ranges. */
#include "range_set.h"

#include <string.h>

bool range_set_add(struct range_set *set, uint32_t start, uint32_t end)
{
	if (start >= end)
		return true;
	uint32_t i = 0;
	while (i < set->count && set->ranges[i].end < start)
		i++;
	/* ranges[i] is the first that touches or follows [start, end). */
	uint32_t j = i;
	while (j < set->count && set->ranges[j].start <= end) {
		if (set->ranges[j].start < start)
			start = set->ranges[j].start;
		if (set->ranges[j].end > end)
			end = set->ranges[j].end;
		j++;
	}
	uint32_t merged = j - i;
	if (merged == 0 && set->count == RANGE_SET_MAX)
		return false;
	if (merged != 1)
		memmove(&set->ranges[i + 1], &set->ranges[j],
			(set->count - j) * sizeof(set->ranges[0]));
	set->count = set->count - merged + 1;
	set->ranges[i].start = start;
	set->ranges[i].end = end;
	return true;
}

void range_set_shift(struct range_set *set, uint32_t cut)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < set->count; i++) {
		if (set->ranges[i].end <= cut)
			continue;
		uint32_t start = set->ranges[i].start > cut ? set->ranges[i].start - cut : 0;
		set->ranges[kept].start = start;
		set->ranges[kept].end = set->ranges[i].end - cut;
		kept++;
	}
	set->count = kept;
}
