/* What IP fragment and TCP stream reassembly both keep: a bounded table of flows, one entry of
 * state per slot, and a pool of 1 KiB chunks for the bytes they hold. */
#ifndef DNSPROBE_FLOW_STORE_H
#define DNSPROBE_FLOW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chunk_pool.h"
#include "flow_table.h"

/* How far a store may grow: flows held at once, bytes in its chunk pool, and the time after which
 * a flow is abandoned (since its first fragment for IP, since its last segment for TCP). */
struct flow_store_limits {
	uint32_t max_flows;
	size_t max_bytes;
	int64_t timeout_ns;
};

struct flow_store {
	struct flow_store_limits limits; /* no zero left: the owner's defaults filled in */
	struct flow_table table;
	void *entries; /* capacity entries of entry_size bytes, zeroed; slot i is entry i */
	struct chunk_pool pool;
};

/* Allocates a reassembler of owner_size bytes, cache-line aligned and zeroed, whose first member
 * is its struct flow_store, and sets that store up: each zero limit taken from defaults, entries of
 * entry_size bytes keyed by key_len bytes. The reassembler, or NULL (out of memory, or no random
 * key for the table's hash) with nothing left held. */
void *flow_store_owner_new(size_t owner_size, const struct flow_store_limits *limits,
			   const struct flow_store_limits *defaults, size_t entry_size,
			   size_t key_len);
/* Releases a reassembler from flow_store_owner_new and all its store holds; NULL is ignored. */
void flow_store_owner_free(void *owner);

#endif
