/* Bounds-checked big-endian reads from packet bytes (every read from a packet goes through here),
 * the matching writes, and whether a span lies inside a buffer. */
#ifndef DNSPROBE_BYTES_H
#define DNSPROBE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool bytes_have(size_t len, size_t offset, size_t need)
{
	return offset <= len && need <= len - offset;
}

static inline uint16_t bytes_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t bytes_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t bytes_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline void bytes_put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void bytes_put_be32(uint8_t *p, uint32_t v)
{
	bytes_put_be16(p, v >> 16);
	bytes_put_be16(p + 2, v);
}

static inline void bytes_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Whether the len bytes at `at` lie inside the base_len bytes at base (compared as addresses:
 * at may point into another object). */
static inline bool bytes_span_inside(const uint8_t *base, size_t base_len, const uint8_t *at,
				     size_t len)
{
	uintptr_t start = (uintptr_t)base, where = (uintptr_t)at;
	return base && where >= start && bytes_have(base_len, where - start, len);
}

#endif
