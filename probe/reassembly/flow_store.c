/* Setting up and tearing down the bounded flow store of the reassemblers. */
#include "flow_store.h"

#include <stdlib.h>
#include <string.h>

#include "cache_line.h"

static void flow_store_destroy(struct flow_store *s)
{
	flow_table_destroy(&s->table);
	chunk_pool_destroy(&s->pool);
	free(s->entries);
}

void *flow_store_owner_new(size_t owner_size, const struct flow_store_limits *limits,
			   const struct flow_store_limits *defaults, size_t entry_size,
			   size_t key_len)
{
	struct flow_store *s = cache_line_calloc(owner_size);
	if (!s)
		return NULL;
	s->limits.max_flows = limits->max_flows ? limits->max_flows : defaults->max_flows;
	s->limits.max_bytes = limits->max_bytes ? limits->max_bytes : defaults->max_bytes;
	s->limits.timeout_ns = limits->timeout_ns ? limits->timeout_ns : defaults->timeout_ns;
	s->entries = calloc(s->limits.max_flows, entry_size);
	if (!s->entries || flow_table_init(&s->table, s->limits.max_flows, key_len) != 0 ||
	    chunk_pool_init(&s->pool, s->limits.max_bytes) != 0) {
		flow_store_owner_free(s);
		return NULL;
	}
	return s;
}

void flow_store_owner_free(void *owner)
{
	if (!owner)
		return;
	flow_store_destroy(owner);
	free(owner);
}
