/* IPv4 and IPv6 fragment reassembly, per worker, bounded in datagrams and bytes. Policy: an exact
 * duplicate of a fragment already held is ignored; any other overlap abandons the datagram
 * (RFC 5722 for IPv6, applied to IPv4 too, since overlaps are how evasion attacks work). */
#ifndef DNSPROBE_IP_REASSEMBLY_H
#define DNSPROBE_IP_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "decode.h"
#include "flow_store.h"

#define IP_REASSEMBLY_DEFAULT_DATAGRAMS 1024
#define IP_REASSEMBLY_DEFAULT_BYTES	(4u << 20)
#define IP_REASSEMBLY_DEFAULT_TIMEOUT_S 30

struct ip_reassembly;

/* Zero limits take the defaults above. */
struct ip_reassembly *ip_reassembly_new(const struct flow_store_limits *limits,
					struct counters *counters);
void ip_reassembly_free(struct ip_reassembly *r);

/* Adds the fragment described by p (from decode_frame). When it completes a datagram, returns
 * true with *l4 and *l4_len set to the transport header and payload, valid until the next call. */
bool ip_reassembly_add(struct ip_reassembly *r, const struct packet_info *p, int64_t now_ns,
		       const uint8_t **l4, size_t *l4_len);

/* Abandons datagrams older than the timeout. */
void ip_reassembly_expire(struct ip_reassembly *r, int64_t now_ns);

/* Abandons every datagram still held (at the end of capture). */
void ip_reassembly_abandon_all(struct ip_reassembly *r, enum abandon_reason reason);

/* For tests and fuzz targets: true when every chunk of the pool is free or held by exactly one
 * datagram, every range a datagram says it holds is backed by chunks, and the table's count of
 * datagrams is right. Walks everything: not for the packet path. */
bool ip_reassembly_consistent(const struct ip_reassembly *r);

#endif
