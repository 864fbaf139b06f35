/* The /metrics endpoint on libmicrohttpd: our own listening socket (so that a bind error can be
 * told in one line), one internal polling thread, GET /metrics answered with a fresh body. */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#define METRICS_PATH	    "/metrics"
#define METRICS_CONTENT	    "text/plain; version=0.0.4; charset=utf-8"
#define CONNECTION_LIMIT    16
#define CONNECTION_TIMEOUTS 10 /* seconds */

struct metrics_http {
	struct MHD_Daemon *daemon;
	int fd;
	metrics_render_fn render;
	void *ctx;
};

static const char usage_hint[] = "give ADDRESS:PORT, e.g. 127.0.0.1:9153 or [::1]:9153";

static int parse_port(const char *text, in_port_t *port)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || value < 1 || value > 65535)
		return -1;
	*port = htons((in_port_t)value);
	return 0;
}

int metrics_address_parse(const char *text, struct metrics_address *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t host_len;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':') {
			snprintf(err, err_size, "--metrics-listen: '%s' is not an address; %s",
				 text, usage_hint);
			return -1;
		}
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host))
			host_len = sizeof(host) - 1;
		memcpy(host, text + 1, host_len);
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text))) {
			snprintf(err, err_size, "--metrics-listen: '%s' is not an address%s; %s",
				 text, colon ? " (an IPv6 address goes in brackets)" : " and port",
				 usage_hint);
			return -1;
		}
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host))
			host_len = sizeof(host) - 1;
		memcpy(host, text, host_len);
		port = colon + 1;
	}
	host[host_len] = '\0';
	in_port_t port_value;
	if (parse_port(port, &port_value) != 0) {
		snprintf(err, err_size, "--metrics-listen: '%s': the port is not 1 to 65535; %s",
			 text, usage_hint);
		return -1;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
	if (text[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = port_value;
		out->len = sizeof(*v4);
	} else if (text[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = port_value;
		out->len = sizeof(*v6);
	} else {
		snprintf(err, err_size,
			 "--metrics-listen: '%s' is not a numeric IPv4 or [IPv6] address; %s", host,
			 usage_hint);
		return -1;
	}
	snprintf(out->text, sizeof(out->text), "%s", text);
	return 0;
}

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned status,
				  const char *text)
{
	struct MHD_Response *response =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	enum MHD_Result rc = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return rc;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **request_state)
{
	(void)version;
	(void)upload_data;
	struct metrics_http *h = cls;
	/* The first call only announces the request; a body (there should be none) follows. */
	if (!*request_state) {
		*request_state = h;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, METRICS_PATH) != 0)
		return queue_text(connection, MHD_HTTP_NOT_FOUND, "dnsprobe serves /metrics\n");
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!head && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return queue_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	if (!out)
		return queue_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	int rc = h->render(h->ctx, out);
	if (fclose(out) != 0 || rc != 0) {
		free(body);
		return queue_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "cannot render the metrics\n");
	}
	struct MHD_Response *response =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT);
	enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
	MHD_destroy_response(response);
	return queued;
}

/* The socket bound to the address and listening; -1 with the reason in err. */
static int listen_on(const struct metrics_address *a, char *err, size_t err_size)
{
	int fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, err_size, "--metrics-listen %s: %s", a->text, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->addr.ss_family == AF_INET6) /* [::] means IPv6 only: what the user gave */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->addr, a->len) != 0) {
		int e = errno;
		const char *advice =
		    e == EADDRINUSE	 ? "another program listens there; choose another port"
		    : e == EADDRNOTAVAIL ? "no interface of this host has that address"
		    : e == EACCES ? "ports below 1024 need privileges the probe no longer has "
				    "(--user); choose a port above 1023"
				  : "check the address";
		snprintf(err, err_size, "--metrics-listen %s: %s; %s", a->text, strerror(e),
			 advice);
		close(fd);
		return -1;
	}
	if (listen(fd, CONNECTION_LIMIT) != 0) {
		snprintf(err, err_size, "--metrics-listen %s: %s", a->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int metrics_http_start(struct metrics_http **out, const struct metrics_address *address,
		       metrics_render_fn render, void *ctx, char *err, size_t err_size)
{
	*out = NULL;
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	h->render = render;
	h->ctx = ctx;
	h->fd = listen_on(address, err, err_size);
	if (h->fd < 0) {
		free(h);
		return -1;
	}
	/* MHD_USE_AUTO: poll or epoll, never select(2), which cannot watch a descriptor past 1023
	 * (a listener with many senders, or many Kafka sockets, has them). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (address->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, answer, h, MHD_OPTION_LISTEN_SOCKET,
				     h->fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUTS,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, err_size, "--metrics-listen %s: cannot start the HTTP server",
			 address->text);
		close(h->fd);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon); /* closes the listening socket */
	free(h);
}
