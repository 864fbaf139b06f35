/* Token buckets on the capture clock: one for the probe's worker and a bounded table of one per
 * client address. A bucket holds at most a tenth of a second of its rate (at least one record)
 * and starts full, so a burst of that size passes at once; after that records pass at the rate.
 * Time is the packets' timestamps, so a replay limits as the live capture did. */
#ifndef DNSPROBE_RATE_LIMIT_H
#define DNSPROBE_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATE_LIMIT_MAX		   100000000
#define RATE_LIMIT_DEFAULT_CLIENTS 65536

struct rate_limit;

/* rate and per_client are records per second (0: that limit is off); clients bounds the table.
 * NULL when out of memory or without a random hash key. */
struct rate_limit *rate_limit_new(uint64_t rate, uint64_t per_client, uint32_t clients);
void rate_limit_free(struct rate_limit *r);

/* A record of client at capture time now_ns may pass: true takes a token from each bucket. */
bool rate_limit_take(struct rate_limit *r, const uint8_t client[16], int64_t now_ns);

/* A record that must pass (the response of a query that passed): takes its tokens anyway, so
 * what follows pays for it. */
void rate_limit_charge(struct rate_limit *r, const uint8_t client[16], int64_t now_ns);

/* Capture time starts again (a new --loop pass): every bucket is full again. */
void rate_limit_restart(struct rate_limit *r);

#endif
