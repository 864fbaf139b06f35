/* A bounded pool of fixed-size memory chunks, allocated once, and sparse byte buffers built from
 * them. Reassembly keeps held fragments and stream bytes here, so its memory has a hard bound and
 * nothing is allocated per packet. */
#ifndef DNSPROBE_CHUNK_POOL_H
#define DNSPROBE_CHUNK_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNK_SIZE 1024
/* A buffer spans a whole DNS-over-TCP message with its length prefix, or an IP datagram. */
#define CHUNK_BUFFER_MAX (65536 + 2048)
#define CHUNK_SLOTS	 (CHUNK_BUFFER_MAX / CHUNK_SIZE)

struct chunk_pool {
	uint8_t *memory;
	uint32_t *free_list;
	uint32_t free_count;
	uint32_t chunk_count;
};

/* Chunk indices + 1 by position; 0 where nothing was written. */
struct chunk_buffer {
	uint32_t slots[CHUNK_SLOTS];
};

int chunk_pool_init(struct chunk_pool *pool, size_t max_bytes);
void chunk_pool_destroy(struct chunk_pool *pool);

void chunk_buffer_init(struct chunk_buffer *buf);

/* Writes len bytes at offset; false when the range is beyond CHUNK_BUFFER_MAX or the pool is
 * empty (what was written before stays). */
bool chunk_buffer_write(struct chunk_pool *pool, struct chunk_buffer *buf, size_t offset,
			const uint8_t *data, size_t len);

/* Copies len bytes at offset out; the range must have been written. */
void chunk_buffer_read(const struct chunk_pool *pool, const struct chunk_buffer *buf, size_t offset,
		       uint8_t *out, size_t len);

/* True when the bytes at offset equal data. */
bool chunk_buffer_equal(const struct chunk_pool *pool, const struct chunk_buffer *buf,
			size_t offset, const uint8_t *data, size_t len);

void chunk_buffer_release(struct chunk_pool *pool, struct chunk_buffer *buf);

/* Releases the first count chunks and moves the rest down by as many chunks: what was at offset
 * count * CHUNK_SIZE + n is now at n. Needs no memory. */
void chunk_buffer_drop_front(struct chunk_pool *pool, struct chunk_buffer *buf, size_t count);

/* For consistency checks: the chunks the buffer holds, and whether [offset, offset + len) is all
 * in chunks it holds. */
uint32_t chunk_buffer_held(const struct chunk_buffer *buf);
bool chunk_buffer_backed(const struct chunk_buffer *buf, size_t offset, size_t len);

#endif
