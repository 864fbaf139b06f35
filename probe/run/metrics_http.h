/* The /metrics endpoint: an HTTP server (libmicrohttpd, on a thread of its own) bound to the one
 * address the user gave with --metrics-listen, answering GET /metrics with a body a callback
 * writes (the stats report's Prometheus text). */
#ifndef DNSPROBE_METRICS_HTTP_H
#define DNSPROBE_METRICS_HTTP_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/* A listening address: "A.B.C.D:PORT" or "[IPv6]:PORT", numeric only. */
struct metrics_address {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64]; /* as given, for messages */
};

/* Parses text. Returns 0, or -1 with one line for the user in err. */
int metrics_address_parse(const char *text, struct metrics_address *out, char *err,
			  size_t err_size);

/* Writes the body of one answer to out; returns 0, or -1 when it could not. Called on the
 * server's thread. */
typedef int (*metrics_render_fn)(void *ctx, FILE *out);

struct metrics_http;

/* Binds and listens on address, then serves on a thread of its own. Returns 0, or -1 with one
 * line for the user in err (address in use, not an address of this host, not allowed). */
int metrics_http_start(struct metrics_http **out, const struct metrics_address *address,
		       metrics_render_fn render, void *ctx, char *err, size_t err_size);

/* Stops serving, waits for the answers under way, and frees h (NULL: nothing). */
void metrics_http_stop(struct metrics_http *h);

#endif
