/* Setting up and tearing down the bounded flow store of the reassemblers. */
#include "flow_store.h"

#include <stdlib.h>
#include <string.h>

int flow_store_init(struct flow_store *s, uint32_t capacity, size_t entry_size, size_t key_len,
		    size_t max_bytes)
{
	memset(s, 0, sizeof(*s));
	s->entries = calloc(capacity, entry_size);
	if (!s->entries || flow_table_init(&s->table, capacity, key_len) != 0 ||
	    chunk_pool_init(&s->pool, max_bytes) != 0) {
		flow_store_destroy(s);
		return -1;
	}
	return 0;
}

void flow_store_destroy(struct flow_store *s)
{
	flow_table_destroy(&s->table);
	chunk_pool_destroy(&s->pool);
	free(s->entries);
	memset(s, 0, sizeof(*s));
}
