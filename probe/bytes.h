/* Bounds-checked big-endian reads from packet bytes. Every read from a packet goes through here. */
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

#endif
