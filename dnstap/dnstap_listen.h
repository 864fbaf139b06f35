/* The dnstap listener: an input that accepts Frame Streams connections from resolvers on unix
 * and TCP sockets and hands out every data frame (one Dnstap protobuf) as a frame of link type
 * FRAME_LINK_DNSTAP (docs/dnstap.md, "Input"). */
#ifndef DNSPROBE_DNSTAP_LISTEN_H
#define DNSPROBE_DNSTAP_LISTEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"

#define DNSTAP_LISTEN_MAX_ADDRESSES	  16
#define DNSTAP_LISTEN_DEFAULT_CONNECTIONS 64
#define DNSTAP_LISTEN_DEFAULT_FRAME_SIZE  (128 * 1024)

struct dnstap_listen_options {
	const char *addresses[DNSTAP_LISTEN_MAX_ADDRESSES]; /* unix:PATH or tcp:HOST:PORT */
	unsigned address_count;
	unsigned max_connections; /* at once, over every listener */
	uint32_t max_frame_size;  /* bytes of one data frame; a larger one closes its connection */
	int socket_mode;	  /* permissions of unix sockets; -1: as the umask gives */
	gid_t socket_gid;	  /* group of unix sockets; (gid_t)-1: unchanged */
};

/* What the listener saw; the runner reads it through capture_ops.drops. */
struct dnstap_listen_counters {
	uint64_t connections_opened;
	uint64_t connections_closed;
	uint64_t connections_refused; /* over max_connections */
	uint64_t frames;	      /* data frames handed out */
	uint64_t bad_control;	      /* malformed or unexpected control frames */
	uint64_t oversized;	      /* data frames over max_frame_size */
	uint64_t bad_content_type;    /* a sender that does not offer protobuf:dnstap.Dnstap */
	uint64_t bad_protobuf;	      /* a data frame the worker found is not a Dnstap protobuf */
};

/* Binds and listens on every address (a stale unix socket is replaced). Returns 0, or -1 with
 * one line in err. */
int dnstap_listen_open(struct capture *out, const struct dnstap_listen_options *o, char *err,
		       size_t err_size);

#endif
