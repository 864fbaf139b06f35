/* Community ID v1 (https://github.com/corelight/community-id-spec): the flow hash Zeek, Suricata,
 * Wireshark and the Elastic stack log, computed from our direction-normalised flow key so records
 * can be joined with those tools' logs. */
#ifndef DNSPROBE_COMMUNITY_ID_H
#define DNSPROBE_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "flow_key.h"

/* "1:" + base64 of a 20-byte SHA-1 (28 characters) + NUL. */
#define COMMUNITY_ID_TEXT_SIZE 31

/* The spec's default seed; tools only agree on IDs computed with the same seed. */
#define COMMUNITY_ID_DEFAULT_SEED 0

/* Writes "1:<base64>" and a NUL for the flow of key; returns the length (30). Ports are hashed for
 * TCP, UDP and SCTP, left out for other protocols as the spec says; ICMP (whose "ports" are type
 * and code) is not covered, the probe never keys ICMP. No allocation, safe to call per packet. */
size_t community_id_v1(const struct flow_key *key, uint16_t seed, char out[COMMUNITY_ID_TEXT_SIZE]);

#endif
