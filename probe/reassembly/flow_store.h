/* What IP fragment and TCP stream reassembly both keep: a bounded table of flows, one entry of
 * state per slot, and a pool of 1 KiB chunks for the bytes they hold. */
#ifndef DNSPROBE_FLOW_STORE_H
#define DNSPROBE_FLOW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chunk_pool.h"
#include "flow_table.h"

struct flow_store {
	struct flow_table table;
	void *entries; /* capacity entries of entry_size bytes, zeroed; slot i is entry i */
	struct chunk_pool pool;
};

/* 0, or -1 (out of memory, or no random key for the table's hash) with nothing left held. */
int flow_store_init(struct flow_store *s, uint32_t capacity, size_t entry_size, size_t key_len,
		    size_t max_bytes);
void flow_store_destroy(struct flow_store *s);

#endif
