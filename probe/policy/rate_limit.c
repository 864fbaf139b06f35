/* Token buckets in integer units: a record costs TOKEN units, and a second of capture time adds
 * rate * TOKEN, so nanoseconds times the rate give units without division. */
#include "rate_limit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

#define TOKEN	  1000000000LL
#define PROBE_MAX 8

struct bucket {
	int64_t tokens;
	int64_t last_ns;
	bool started;
};

struct client_bucket {
	uint8_t addr[16];
	struct bucket b;
	bool used;
};

struct rate_limit {
	uint64_t rate, per_client;
	int64_t cap, client_cap;
	struct bucket global;
	struct client_bucket *clients;
	uint32_t mask;
	uint8_t key[SIPHASH_KEY_LEN];
};

static int64_t capacity(uint64_t rate)
{
	uint64_t burst = rate / 10 ? rate / 10 : 1;
	return (int64_t)burst * TOKEN;
}

struct rate_limit *rate_limit_new(uint64_t rate, uint64_t per_client, uint32_t clients)
{
	struct rate_limit *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->rate = rate;
	r->per_client = per_client;
	r->cap = capacity(rate);
	r->client_cap = capacity(per_client);
	if (per_client) {
		uint32_t slots = PROBE_MAX;
		while (slots < clients)
			slots <<= 1;
		r->mask = slots - 1;
		r->clients = calloc(slots, sizeof(*r->clients));
		if (!r->clients ||
		    getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
			rate_limit_free(r);
			return NULL;
		}
	}
	return r;
}

void rate_limit_free(struct rate_limit *r)
{
	if (!r)
		return;
	free(r->clients);
	free(r);
}

static void refill(struct bucket *b, uint64_t rate, int64_t cap, int64_t now_ns)
{
	if (!b->started) {
		b->started = true;
		b->tokens = cap;
		b->last_ns = now_ns;
		return;
	}
	if (now_ns <= b->last_ns)
		return; /* the clock stood still or went back a little: nothing added */
	int64_t elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	if (elapsed >= (cap - b->tokens) / (int64_t)rate + 1)
		b->tokens = cap;
	else
		b->tokens += elapsed * (int64_t)rate;
}

/* The client's bucket: found, or a new one in a free slot or in place of the one of its window
 * used least recently. */
static struct bucket *client_bucket(struct rate_limit *r, const uint8_t client[16])
{
	uint32_t home = (uint32_t)siphash13(r->key, client, 16) & r->mask;
	struct client_bucket *free_slot = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < PROBE_MAX; i++) {
		struct client_bucket *c = &r->clients[(home + i) & r->mask];
		if (!c->used) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (memcmp(c->addr, client, 16) == 0)
			return &c->b;
		if (!oldest || c->b.last_ns < oldest->b.last_ns)
			oldest = c;
	}
	struct client_bucket *c = free_slot ? free_slot : oldest;
	memcpy(c->addr, client, 16);
	c->used = true;
	c->b = (struct bucket){0};
	return &c->b;
}

bool rate_limit_take(struct rate_limit *r, const uint8_t client[16], int64_t now_ns)
{
	struct bucket *c = NULL;
	if (r->per_client) {
		c = client_bucket(r, client);
		refill(c, r->per_client, r->client_cap, now_ns);
		if (c->tokens < TOKEN)
			return false;
	}
	if (r->rate) {
		refill(&r->global, r->rate, r->cap, now_ns);
		if (r->global.tokens < TOKEN)
			return false;
		r->global.tokens -= TOKEN;
	}
	if (c)
		c->tokens -= TOKEN;
	return true;
}

void rate_limit_charge(struct rate_limit *r, const uint8_t client[16], int64_t now_ns)
{
	if (r->per_client) {
		struct bucket *c = client_bucket(r, client);
		refill(c, r->per_client, r->client_cap, now_ns);
		c->tokens -= TOKEN;
	}
	if (r->rate) {
		refill(&r->global, r->rate, r->cap, now_ns);
		r->global.tokens -= TOKEN;
	}
}

void rate_limit_restart(struct rate_limit *r)
{
	r->global = (struct bucket){0};
	if (r->clients)
		memset(r->clients, 0, ((size_t)r->mask + 1) * sizeof(*r->clients));
}
