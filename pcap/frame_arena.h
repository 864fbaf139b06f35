/* Room the libpcap inputs copy frames into when libpcap keeps their bytes only until its next
 * call, so that a whole burst stays valid until the runner asks for the next one. */
#ifndef DNSPROBE_FRAME_ARENA_H
#define DNSPROBE_FRAME_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The largest record libpcap hands out (its MAXIMUM_SNAPLEN). */
#define FRAME_ARENA_MAX_FRAME 262144u

struct frame_arena {
	uint8_t *bytes;
	size_t size;
	size_t used;
};

/* Room for a burst of typical frames, and always for one more of the largest after it. */
static inline bool frame_arena_init(struct frame_arena *a, size_t typical_burst_bytes)
{
	a->size = typical_burst_bytes + FRAME_ARENA_MAX_FRAME;
	a->used = 0;
	a->bytes = malloc(a->size);
	return a->bytes != NULL;
}

/* A new burst: the frames of the last one are no longer needed. */
static inline void frame_arena_reset(struct frame_arena *a)
{
	a->used = 0;
}

/* True while the largest frame still fits. */
static inline bool frame_arena_has_room(const struct frame_arena *a)
{
	return a->size - a->used >= FRAME_ARENA_MAX_FRAME;
}

/* Copies len bytes (at most FRAME_ARENA_MAX_FRAME, with room checked before) and returns where. */
static inline const uint8_t *frame_arena_copy(struct frame_arena *a, const uint8_t *data,
					      size_t len)
{
	if (len > a->size - a->used)
		len = a->size - a->used;
	uint8_t *at = a->bytes + a->used;
	memcpy(at, data, len);
	a->used += len;
	return at;
}

static inline void frame_arena_free(struct frame_arena *a)
{
	free(a->bytes);
	a->bytes = NULL;
}

#endif
