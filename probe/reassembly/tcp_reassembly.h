/* DNS over TCP (RFC 7766): per-direction stream reassembly and 2-byte length framing, bounded in
 * streams, bytes and idle time. Handles retransmissions, out-of-order segments, several messages
 * in one segment, one message over many segments, streams first seen mid-way (the first segment
 * is taken to start a message) and gaps (after a hole that does not fill, it resynchronises at
 * the next data it holds and counts the gap). */
#ifndef DNSPROBE_TCP_REASSEMBLY_H
#define DNSPROBE_TCP_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "decode.h"
#include "flow_store.h"

#define TCP_REASSEMBLY_DEFAULT_STREAMS	 4096
#define TCP_REASSEMBLY_DEFAULT_BYTES	 (16u << 20)
#define TCP_REASSEMBLY_DEFAULT_TIMEOUT_S 60

struct tcp_reassembly;

typedef void (*tcp_message_fn)(void *ctx, const uint8_t *message, size_t len);

/* Zero limits take the defaults above. */
struct tcp_reassembly *tcp_reassembly_new(const struct flow_store_limits *limits,
					  struct counters *counters);
void tcp_reassembly_free(struct tcp_reassembly *r);

/* Adds the segment described by p (from decode_frame); calls on_message for each DNS message it
 * completes (without the length prefix; the bytes are valid during the call). */
void tcp_reassembly_add(struct tcp_reassembly *r, const struct packet_info *p, int64_t now_ns,
			tcp_message_fn on_message, void *ctx);

/* Abandons streams idle for longer than the timeout. */
void tcp_reassembly_expire(struct tcp_reassembly *r, int64_t now_ns);

/* Closes every stream; bytes still held are abandoned (at the end of capture). */
void tcp_reassembly_abandon_all(struct tcp_reassembly *r, enum abandon_reason reason);

/* For tests and fuzz targets: true when every chunk of the pool is free or held by exactly one
 * stream, every byte range a stream says it holds is backed by chunks, and the table's count of
 * streams is right. Walks everything: not for the packet path. */
bool tcp_reassembly_consistent(const struct tcp_reassembly *r);

#endif
