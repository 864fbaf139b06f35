/* IPv4 and IPv6 fragment reassembly, bounded in datagrams and bytes. */
#include "ip_reassembly.h"

#include <string.h>

#include "chunk_pool.h"
#include "clock.h"
#include "flow_store.h"
#include "range_set.h"

#define MAX_DATAGRAM 65535
/* version, protocol, source, destination, identification */
#define KEY_LEN (1 + 1 + 16 + 16 + 4)

struct datagram {
	struct chunk_buffer data;
	struct range_set received;
	uint32_t total_len; /* known once the last fragment arrived; 0 before */
	int64_t first_seen_ns;
};

struct ip_reassembly {
	struct flow_store store; /* first: flow_store_owner_new allocates the whole */
	struct counters *counters;
	struct datagram *datagrams; /* store.entries */
	uint8_t out[MAX_DATAGRAM];
};

static const struct flow_store_limits default_limits = {
    .max_flows = IP_REASSEMBLY_DEFAULT_DATAGRAMS,
    .max_bytes = IP_REASSEMBLY_DEFAULT_BYTES,
    .timeout_ns = IP_REASSEMBLY_DEFAULT_TIMEOUT_S * CLOCK_NS_PER_SECOND,
};

struct ip_reassembly *ip_reassembly_new(const struct flow_store_limits *limits,
					struct counters *counters)
{
	struct ip_reassembly *r = flow_store_owner_new(sizeof(*r), limits, &default_limits,
						       sizeof(struct datagram), KEY_LEN);
	if (r) {
		r->counters = counters;
		r->datagrams = r->store.entries;
	}
	return r;
}

void ip_reassembly_free(struct ip_reassembly *r)
{
	flow_store_owner_free(r);
}

static void make_key(const struct packet_info *p, uint8_t key[KEY_LEN])
{
	key[0] = p->ip_version;
	key[1] = p->ip_protocol;
	memcpy(key + 2, p->src_addr, 16);
	memcpy(key + 18, p->dst_addr, 16);
	memcpy(key + 34, &p->fragment_id, 4);
}

static void drop(struct ip_reassembly *r, uint32_t slot, enum abandon_reason reason)
{
	chunk_buffer_release(&r->store.pool, &r->datagrams[slot].data);
	flow_table_remove(&r->store.table, slot);
	r->counters->abandoned_by_reason[reason]++;
}

void ip_reassembly_expire(struct ip_reassembly *r, int64_t now_ns)
{
	uint32_t slot;
	while ((slot = flow_table_oldest(&r->store.table)) != FLOW_TABLE_NONE &&
	       now_ns - r->datagrams[slot].first_seen_ns > r->store.limits.timeout_ns)
		drop(r, slot, ABANDON_FRAGMENT_TIMEOUT);
}

void ip_reassembly_abandon_all(struct ip_reassembly *r, enum abandon_reason reason)
{
	uint32_t slot;
	while ((slot = flow_table_oldest(&r->store.table)) != FLOW_TABLE_NONE)
		drop(r, slot, reason);
}

bool ip_reassembly_consistent(const struct ip_reassembly *r)
{
	uint32_t held = 0, used = 0;
	for (uint32_t i = 0; i < r->store.limits.max_flows; i++) {
		const struct datagram *d = &r->datagrams[i];
		uint32_t chunks = chunk_buffer_held(&d->data);
		held += chunks;
		if (!r->store.table.slots[i].used) {
			if (chunks > 0)
				return false;
			continue;
		}
		used++;
		for (uint32_t j = 0; j < d->received.count; j++) {
			uint32_t start = d->received.ranges[j].start,
				 end = d->received.ranges[j].end;
			if (start >= end || (j > 0 && start <= d->received.ranges[j - 1].end) ||
			    end > MAX_DATAGRAM ||
			    !chunk_buffer_backed(&d->data, start, end - start))
				return false;
		}
	}
	return used == r->store.table.used &&
	       held + r->store.pool.free_count == r->store.pool.chunk_count;
}

static uint32_t find_or_insert(struct ip_reassembly *r, const uint8_t *key, int64_t now_ns)
{
	uint32_t slot = flow_table_find(&r->store.table, key);
	if (slot != FLOW_TABLE_NONE)
		return slot;
	uint32_t victim = flow_table_victim(&r->store.table, key); /* table or bucket full */
	if (victim != FLOW_TABLE_NONE)
		drop(r, victim, ABANDON_FRAGMENT_TABLE_FULL);
	slot = flow_table_insert(&r->store.table, key, now_ns);
	struct datagram *d = &r->datagrams[slot];
	chunk_buffer_init(&d->data);
	range_set_clear(&d->received);
	d->total_len = 0;
	d->first_seen_ns = now_ns;
	return slot;
}

/* An exact duplicate: the same range as one held, with the same bytes. */
static bool is_duplicate(const struct ip_reassembly *r, const struct datagram *d, uint32_t start,
			 uint32_t end, const uint8_t *data)
{
	for (uint32_t i = 0; i < d->received.count; i++)
		if (d->received.ranges[i].start <= start && end <= d->received.ranges[i].end)
			return chunk_buffer_equal(&r->store.pool, &d->data, start, data,
						  end - start);
	return false;
}

/* A fragment must end on an 8-byte boundary unless it is the last, and agree with the last one. */
static bool fragment_fits(const struct datagram *d, uint32_t start, uint32_t end, bool more)
{
	(void)start;
	if (end > MAX_DATAGRAM)
		return false;
	if (more)
		return (end % 8) == 0 && (d->total_len == 0 || end <= d->total_len);
	uint32_t highest = d->received.count ? d->received.ranges[d->received.count - 1].end : 0;
	return (d->total_len == 0 || d->total_len == end) && highest <= end;
}

bool ip_reassembly_add(struct ip_reassembly *r, const struct packet_info *p, int64_t now_ns,
		       const uint8_t **l4, size_t *l4_len)
{
	ip_reassembly_expire(r, now_ns);
	uint32_t start = p->fragment_offset;
	uint32_t end = start + (uint32_t)p->payload_len;
	uint8_t key[KEY_LEN];
	make_key(p, key);
	uint32_t slot = find_or_insert(r, key, now_ns);
	struct datagram *d = &r->datagrams[slot];
	flow_table_touch(&r->store.table, slot, now_ns);

	if (!fragment_fits(d, start, end, p->more_fragments)) {
		drop(r, slot, ABANDON_FRAGMENT_BAD);
		return false;
	}
	if (range_set_overlaps(&d->received, start, end)) {
		if (is_duplicate(r, d, start, end, p->payload))
			return false;
		drop(r, slot, ABANDON_FRAGMENT_OVERLAP);
		return false;
	}
	if (!chunk_buffer_write(&r->store.pool, &d->data, start, p->payload, p->payload_len)) {
		drop(r, slot, ABANDON_FRAGMENT_MEMORY);
		return false;
	}
	if (!range_set_add(&d->received, start, end)) {
		drop(r, slot, ABANDON_FRAGMENT_BAD);
		return false;
	}
	if (!p->more_fragments)
		d->total_len = end;
	if (d->total_len == 0 || range_set_prefix(&d->received) != d->total_len)
		return false;

	*l4_len = d->total_len;
	chunk_buffer_read(&r->store.pool, &d->data, 0, r->out, d->total_len);
	*l4 = r->out;
	chunk_buffer_release(&r->store.pool, &d->data);
	flow_table_remove(&r->store.table, slot);
	r->counters->reassembled_datagrams++;
	return true;
}
