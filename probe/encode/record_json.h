/* The JSON record of one DNS message (docs/records.md): Elastic Common Schema names where ECS has
 * them, ours under "dnsprobe". */
#ifndef DNSPROBE_RECORD_JSON_H
#define DNSPROBE_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "dns_message.h"
#include "encoder.h"
#include "flow_key.h"
#include "json_writer.h"

/* Remembers the formatted date of the last second seen, so most records format no date. */
struct timestamp_cache {
	int64_t second;
	char text[24];
};

void timestamp_cache_init(struct timestamp_cache *cache);

/* RFC 3339 UTC with nanoseconds: "2024-01-02T03:04:05.123456789Z" (30 characters). */
#define TIMESTAMP_TEXT_LEN 30
void timestamp_format(struct timestamp_cache *cache, int64_t ns, char out[TIMESTAMP_TEXT_LEN + 1]);

/* Appends the record as one JSON object (no newline). */
void record_json_encode(struct json_writer *w, struct timestamp_cache *cache,
			const struct dns_event *record);

#endif
