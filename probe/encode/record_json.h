/* The JSON record of one DNS message (docs/records.md): Elastic Common Schema names where ECS has
 * them, ours under "dnsprobe". */
#ifndef DNSPROBE_RECORD_JSON_H
#define DNSPROBE_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "dns_match.h"
#include "dns_message.h"
#include "domain_parts.h"
#include "encoder.h"
#include "flow_key.h"
#include "flow_texts.h"
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

/* The ECS version whose field definitions the records follow (ecs.version). */
#define RECORD_ECS_VERSION "9.4.0"

/* "observer":{"hostname":…,"name":…} as JSON: a host name and an --observer-name of up to 255
 * bytes each, every byte escaped at worst. */
#define RECORD_OBSERVER_JSON_MAX (2 * JSON_STRING_MAX(255) + 48)

/* What a worker's encoder keeps between records. */
struct record_json_state {
	struct timestamp_cache timestamps;
	struct domain_parts_finder *domains; /* the Public Suffix List */
	struct flow_texts *flows;	     /* Community IDs and flow-key hex */
	char observer[RECORD_OBSERVER_JSON_MAX];
	size_t observer_len;
};

/* Loads the Public Suffix List of the system (Debian's publicsuffix package, through libpsl) and
 * sets the observer fields: observer.hostname from gethostname(), observer.name from the settings
 * (the host name when NULL or unset). NULL when out of memory or without a list. */
struct record_json_state *record_json_state_new(const struct encoder_settings *settings);
void record_json_state_free(struct record_json_state *state);

/* Appends the record as one JSON object (no newline). */
void record_json_encode(struct json_writer *w, struct record_json_state *state,
			const struct dns_event *record);

#endif
