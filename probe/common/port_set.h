/* A set of transport ports (which ports mean DNS, VXLAN, Geneve): 8 KiB of bits, O(1) lookup. */
#ifndef DNSPROBE_PORT_SET_H
#define DNSPROBE_PORT_SET_H

#include <stdbool.h>
#include <stdint.h>

struct port_set {
	uint8_t bits[65536 / 8];
};

static inline void port_set_add(struct port_set *set, uint16_t port)
{
	set->bits[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static inline bool port_set_has(const struct port_set *set, uint16_t port)
{
	return set->bits[port >> 3] & (1u << (port & 7));
}

#endif
