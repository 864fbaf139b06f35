/* A bounded pool of fixed-size memory chunks and sparse byte buffers built from them. */
#include "chunk_pool.h"

#include <stdlib.h>
#include <string.h>

int chunk_pool_init(struct chunk_pool *pool, size_t max_bytes)
{
	size_t count = max_bytes / CHUNK_SIZE;
	if (count == 0)
		count = 1;
	pool->memory = malloc(count * CHUNK_SIZE);
	pool->free_list = malloc(count * sizeof(*pool->free_list));
	if (!pool->memory || !pool->free_list) {
		chunk_pool_destroy(pool);
		return -1;
	}
	pool->chunk_count = (uint32_t)count;
	pool->free_count = (uint32_t)count;
	for (uint32_t i = 0; i < count; i++)
		pool->free_list[i] = (uint32_t)count - 1 - i;
	return 0;
}

void chunk_pool_destroy(struct chunk_pool *pool)
{
	free(pool->memory);
	free(pool->free_list);
	memset(pool, 0, sizeof(*pool));
}

void chunk_buffer_init(struct chunk_buffer *buf)
{
	memset(buf->slots, 0, sizeof(buf->slots));
}

static uint8_t *chunk_at(const struct chunk_pool *pool, uint32_t slot_value)
{
	return pool->memory + (size_t)(slot_value - 1) * CHUNK_SIZE;
}

bool chunk_buffer_write(struct chunk_pool *pool, struct chunk_buffer *buf, size_t offset,
			const uint8_t *data, size_t len)
{
	if (offset > CHUNK_BUFFER_MAX || len > CHUNK_BUFFER_MAX - offset)
		return false;
	while (len > 0) {
		size_t slot = offset / CHUNK_SIZE, within = offset % CHUNK_SIZE;
		size_t n = CHUNK_SIZE - within < len ? CHUNK_SIZE - within : len;
		if (buf->slots[slot] == 0) {
			if (pool->free_count == 0)
				return false;
			buf->slots[slot] = pool->free_list[--pool->free_count] + 1;
		}
		memcpy(chunk_at(pool, buf->slots[slot]) + within, data, n);
		data += n;
		offset += n;
		len -= n;
	}
	return true;
}

void chunk_buffer_read(const struct chunk_pool *pool, const struct chunk_buffer *buf, size_t offset,
		       uint8_t *out, size_t len)
{
	while (len > 0) {
		size_t slot = offset / CHUNK_SIZE, within = offset % CHUNK_SIZE;
		size_t n = CHUNK_SIZE - within < len ? CHUNK_SIZE - within : len;
		memcpy(out, chunk_at(pool, buf->slots[slot]) + within, n);
		out += n;
		offset += n;
		len -= n;
	}
}

bool chunk_buffer_equal(const struct chunk_pool *pool, const struct chunk_buffer *buf,
			size_t offset, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t slot = offset / CHUNK_SIZE, within = offset % CHUNK_SIZE;
		size_t n = CHUNK_SIZE - within < len ? CHUNK_SIZE - within : len;
		if (memcmp(chunk_at(pool, buf->slots[slot]) + within, data, n) != 0)
			return false;
		data += n;
		offset += n;
		len -= n;
	}
	return true;
}

void chunk_buffer_release(struct chunk_pool *pool, struct chunk_buffer *buf)
{
	for (size_t i = 0; i < CHUNK_SLOTS; i++) {
		if (buf->slots[i]) {
			pool->free_list[pool->free_count++] = buf->slots[i] - 1;
			buf->slots[i] = 0;
		}
	}
}

void chunk_buffer_drop_front(struct chunk_pool *pool, struct chunk_buffer *buf, size_t count)
{
	if (count > CHUNK_SLOTS)
		count = CHUNK_SLOTS;
	for (size_t i = 0; i < count; i++)
		if (buf->slots[i])
			pool->free_list[pool->free_count++] = buf->slots[i] - 1;
	memmove(buf->slots, buf->slots + count, (CHUNK_SLOTS - count) * sizeof(buf->slots[0]));
	memset(buf->slots + CHUNK_SLOTS - count, 0, count * sizeof(buf->slots[0]));
}

uint32_t chunk_buffer_held(const struct chunk_buffer *buf)
{
	uint32_t held = 0;
	for (size_t i = 0; i < CHUNK_SLOTS; i++)
		held += buf->slots[i] != 0;
	return held;
}

bool chunk_buffer_backed(const struct chunk_buffer *buf, size_t offset, size_t len)
{
	if (offset > CHUNK_BUFFER_MAX || len > CHUNK_BUFFER_MAX - offset)
		return false;
	for (size_t at = offset; at < offset + len; at = (at / CHUNK_SIZE + 1) * CHUNK_SIZE)
		if (buf->slots[at / CHUNK_SIZE] == 0)
			return false;
	return true;
}
