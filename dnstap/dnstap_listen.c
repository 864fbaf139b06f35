/* The dnstap listener: unix and TCP listening sockets, and up to max_connections Frame Streams
 * connections read with poll(2) on the lane's thread. Bidirectional senders (READY, then START)
 * get ACCEPT and, after STOP, FINISH; unidirectional ones start with START. Control frames are
 * decoded and encoded with libfstrm. Each connection has one buffer of a frame's size, taken
 * when it connects; data frames are handed out in place and stay valid until the next call.
 * While the sink blocks, the lane does not call next_burst: nothing is read, and the senders'
 * own buffers take the pressure. A connection that breaks the protocol (or whose frame the worker
 * rejects, reject()) is counted and closed. */
#include "dnstap_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"

#define CONTENT_TYPE	"protobuf:dnstap.Dnstap"
#define POLL_TIMEOUT_MS 100
#define FRAME_HEADER	4 /* a data frame's length; a control frame has 0 there, then its own */
#define CONTROL_HEADER	8
#define NAME_MAX_TEXT	128

enum conn_state {
	CONN_WAIT_START, /* READY answered, or nothing yet */
	CONN_DATA,	 /* after START: data frames */
};

struct conn {
	int fd;
	uint8_t *buf;
	size_t len;	 /* bytes in buf */
	size_t consumed; /* bytes already handed out or handled; moved out at the next call */
	enum conn_state state;
	bool bidirectional;
	bool closing; /* closed at the next call, once its frames were used */
	char name[NAME_MAX_TEXT];
};

struct listener {
	int fd;
	char *unix_path; /* removed at close; NULL for TCP */
	char name[NAME_MAX_TEXT];
};

struct dnstap_listen {
	struct dnstap_listen_options o;
	struct listener listeners[DNSTAP_LISTEN_MAX_ADDRESSES];
	unsigned listener_count;
	struct conn *conns; /* max_connections slots; fd < 0: free */
	struct pollfd *pollfds;
	size_t buf_size;
	struct fstrm_control *control;
	struct dnstap_listen_counters counters;
	char error[256];
};

static void log_line(const char *fmt, const char *name, const char *what)
{
	fprintf(stderr, fmt, name, what);
}

/* The connection is done: it counts closed now, and is closed at the next call, once the
 * frames handed out from it were used. */
static void conn_end(struct dnstap_listen *l, struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	l->counters.connections_closed++;
}

static void conn_close(struct dnstap_listen *l, struct conn *c)
{
	conn_end(l, c);
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Counts why, and ends the connection. */
static void conn_fail(struct dnstap_listen *l, struct conn *c, uint64_t *counter, const char *why)
{
	(*counter)++;
	conn_end(l, c);
	log_line("dnsprobe: dnstap: %s: %s; connection closed\n", c->name, why);
}

static bool send_control(struct dnstap_listen *l, struct conn *c, fstrm_control_type type)
{
	uint8_t frame[FSTRM_CONTROL_FRAME_LENGTH_MAX + CONTROL_HEADER];
	size_t len = sizeof(frame);
	fstrm_control_reset(l->control);
	fstrm_control_set_type(l->control, type);
	if (type == FSTRM_CONTROL_ACCEPT)
		fstrm_control_add_field_content_type(l->control, (const uint8_t *)CONTENT_TYPE,
						     strlen(CONTENT_TYPE));
	if (fstrm_control_encode(l->control, frame, &len, FSTRM_CONTROL_FLAG_WITH_HEADER) !=
	    fstrm_res_success)
		return false;
	/* A few bytes on a socket nothing was written to yet: they go out at once or never. */
	return send(c->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len;
}

/* One control frame's payload; false when the connection is done (closing). */
static bool handle_control(struct dnstap_listen *l, struct conn *c, const uint8_t *payload,
			   size_t len)
{
	fstrm_control_type type;
	if (fstrm_control_decode(l->control, payload, len, 0) != fstrm_res_success ||
	    fstrm_control_get_type(l->control, &type) != fstrm_res_success) {
		conn_fail(l, c, &l->counters.bad_control, "malformed control frame");
		return false;
	}
	bool ours =
	    fstrm_control_match_field_content_type(l->control, (const uint8_t *)CONTENT_TYPE,
						   strlen(CONTENT_TYPE)) == fstrm_res_success;
	switch (type) {
	case FSTRM_CONTROL_READY:
		if (c->state != CONN_WAIT_START || c->bidirectional)
			break;
		if (!ours) {
			conn_fail(l, c, &l->counters.bad_content_type,
				  "offers no " CONTENT_TYPE " content type");
			return false;
		}
		c->bidirectional = true;
		if (!send_control(l, c, FSTRM_CONTROL_ACCEPT)) {
			conn_fail(l, c, &l->counters.bad_control, "cannot send ACCEPT");
			return false;
		}
		return true;
	case FSTRM_CONTROL_START:
		if (c->state != CONN_WAIT_START)
			break;
		if (!ours) {
			conn_fail(l, c, &l->counters.bad_content_type,
				  "starts a stream that is not " CONTENT_TYPE);
			return false;
		}
		c->state = CONN_DATA;
		return true;
	case FSTRM_CONTROL_STOP:
		if (c->state != CONN_DATA)
			break;
		if (c->bidirectional)
			send_control(l, c, FSTRM_CONTROL_FINISH);
		log_line("dnsprobe: dnstap: %s: %s\n", c->name, "stream stopped");
		conn_end(l, c);
		return false;
	default:
		break;
	}
	conn_fail(l, c, &l->counters.bad_control, "unexpected control frame");
	return false;
}

/* Hands out the whole frames buffered on c, at most max; returns how many. */
static unsigned harvest(struct dnstap_listen *l, struct conn *c, struct frame *frames, unsigned max,
			int64_t now_ns)
{
	unsigned n = 0;
	size_t at = c->consumed;
	while (n < max && !c->closing) {
		if (!bytes_have(c->len, at, FRAME_HEADER))
			break;
		uint32_t len = bytes_be32(c->buf + at);
		if (len == 0) {
			if (!bytes_have(c->len, at, CONTROL_HEADER))
				break;
			uint32_t control_len = bytes_be32(c->buf + at + FRAME_HEADER);
			if (control_len > FSTRM_CONTROL_FRAME_LENGTH_MAX) {
				conn_fail(l, c, &l->counters.bad_control, "control frame too long");
				break;
			}
			if (!bytes_have(c->len, at + CONTROL_HEADER, control_len))
				break;
			handle_control(l, c, c->buf + at + CONTROL_HEADER, control_len);
			at += CONTROL_HEADER + control_len;
			continue;
		}
		if (c->state != CONN_DATA) {
			conn_fail(l, c, &l->counters.bad_control, "data frame before START");
			break;
		}
		if (len > l->o.max_frame_size) {
			conn_fail(l, c, &l->counters.oversized, "data frame over --max-frame-size");
			break;
		}
		if (!bytes_have(c->len, at + FRAME_HEADER, len))
			break;
		frames[n++] = (struct frame){
		    .data = c->buf + at + FRAME_HEADER,
		    .caplen = len,
		    .wirelen = len,
		    .ts_ns = now_ns,
		    .link_type = FRAME_LINK_DNSTAP,
		};
		at += FRAME_HEADER + len;
	}
	c->consumed = at;
	l->counters.frames += n;
	return n;
}

/* Closes what was marked closing, and moves what was not handed out yet to the front. */
static void retire(struct dnstap_listen *l)
{
	for (unsigned i = 0; i < l->o.max_connections; i++) {
		struct conn *c = &l->conns[i];
		if (c->fd < 0)
			continue;
		if (c->closing) {
			conn_close(l, c);
			continue;
		}
		if (c->consumed) {
			memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
			c->len -= c->consumed;
			c->consumed = 0;
		}
	}
}

static void peer_name(const struct listener *lis, int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "", port[8] = "";
	if (lis->unix_path || getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, size, "%s (fd %d)", lis->name, fd);
	else
		snprintf(out, size, "%s from %s port %s", lis->name, host, port);
}

static void accept_all(struct dnstap_listen *l, struct listener *lis)
{
	for (;;) {
		int fd = accept4(lis->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or an error of that one connection */
		struct conn *c = NULL;
		for (unsigned i = 0; i < l->o.max_connections && !c; i++)
			if (l->conns[i].fd < 0)
				c = &l->conns[i];
		uint8_t *buf = c ? malloc(l->buf_size) : NULL;
		if (!buf) {
			l->counters.connections_refused++;
			close(fd);
			log_line("dnsprobe: dnstap: %s: %s\n", lis->name,
				 c ? "out of memory for a connection; refused it"
				   : "a connection over --max-connections; refused it");
			continue;
		}
		*c = (struct conn){.fd = fd, .buf = buf};
		peer_name(lis, fd, c->name, sizeof(c->name));
		l->counters.connections_opened++;
		log_line("dnsprobe: dnstap: %s: %s\n", c->name, "connected");
	}
}

static int listen_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct dnstap_listen *l = state;
	retire(l);
	int64_t now = clock_ns(CLOCK_REALTIME);
	unsigned n = 0;
	/* Frames already buffered go first: a burst that filled up left some behind. */
	for (unsigned i = 0; i < l->o.max_connections && n < max; i++)
		if (l->conns[i].fd >= 0)
			n += harvest(l, &l->conns[i], frames + n, max - n, now);
	if (n > 0)
		return (int)n;

	unsigned count = 0;
	for (unsigned i = 0; i < l->listener_count; i++)
		l->pollfds[count++] = (struct pollfd){.fd = l->listeners[i].fd, .events = POLLIN};
	for (unsigned i = 0; i < l->o.max_connections; i++)
		l->pollfds[count++] = (struct pollfd){.fd = l->conns[i].fd, .events = POLLIN};
	if (poll(l->pollfds, count, POLL_TIMEOUT_MS) <= 0)
		return 0; /* nothing came, or a signal: the runner looks at its stop request */
	for (unsigned i = 0; i < l->listener_count; i++)
		if (l->pollfds[i].revents & POLLIN)
			accept_all(l, &l->listeners[i]);
	now = clock_ns(CLOCK_REALTIME);
	for (unsigned i = 0; i < l->o.max_connections; i++) {
		struct conn *c = &l->conns[i];
		if (c->fd < 0 || c->closing || c->fd != l->pollfds[l->listener_count + i].fd ||
		    !l->pollfds[l->listener_count + i].revents)
			continue;
		ssize_t got = read(c->fd, c->buf + c->len, l->buf_size - c->len);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
			log_line("dnsprobe: dnstap: %s: %s\n", c->name,
				 c->state == CONN_DATA ? "disconnected without STOP"
						       : "disconnected");
			conn_end(l, c);
		} else if (got > 0) {
			c->len += (size_t)got;
		}
		if (n < max)
			n += harvest(l, c, frames + n, max - n, now);
	}
	return (int)n;
}

static const char *listen_error(void *state)
{
	return ((struct dnstap_listen *)state)->error;
}

static void listen_free(struct dnstap_listen *l)
{
	for (unsigned i = 0; i < l->o.max_connections; i++)
		if (l->conns[i].fd >= 0)
			conn_close(l, &l->conns[i]);
	for (unsigned i = 0; i < l->listener_count; i++) {
		close(l->listeners[i].fd);
		if (l->listeners[i].unix_path) {
			unlink(l->listeners[i].unix_path);
			free(l->listeners[i].unix_path);
		}
	}
	if (l->control)
		fstrm_control_destroy(&l->control);
	free(l->conns);
	free(l->pollfds);
	free(l);
}

static void listen_close(void *state)
{
	listen_free(state);
}

/* The counters, as the runner reads every input's (they are published with the drops). */
static void listen_drops(void *state, struct capture_drops *out)
{
	const struct dnstap_listen_counters *k = &((struct dnstap_listen *)state)->counters;
	out->has_connections = true;
	out->connections_opened = k->connections_opened;
	out->connections_closed = k->connections_closed;
	out->connections_refused = k->connections_refused;
	out->frames = k->frames;
	out->bad_control = k->bad_control;
	out->oversized = k->oversized;
	out->bad_content_type = k->bad_content_type;
	out->bad_protobuf = k->bad_protobuf;
}

/* The worker could not read a frame as a Dnstap protobuf: its sender is not speaking dnstap,
 * and what else it sends would be as useless. Frames are handed out in place, so the frame's
 * bytes tell which connection it came from. */
static void listen_reject(void *state, const struct frame *frame)
{
	struct dnstap_listen *l = state;
	for (unsigned i = 0; i < l->o.max_connections; i++) {
		struct conn *c = &l->conns[i];
		if (c->fd >= 0 && frame->data >= c->buf && frame->data < c->buf + c->len) {
			if (!c->closing)
				conn_fail(l, c, &l->counters.bad_protobuf,
					  "a data frame that is not a Dnstap protobuf");
			return;
		}
	}
}

static const struct capture_ops listen_ops = {
    .next_burst = listen_next_burst,
    .error = listen_error,
    .close = listen_close,
    .drops = listen_drops,
    .reject = listen_reject,
};

static int open_unix(struct dnstap_listen *l, struct listener *lis, const char *path, char *err,
		     size_t err_size)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, err_size, "--dnstap unix:%s: the path is too long for a socket",
			 path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_size,
				 "--dnstap unix:%s: a file that is not a socket is there; give "
				 "another path",
				 path);
			return -1;
		}
		unlink(path); /* a socket left by an earlier run */
	}
	lis->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lis->fd < 0 || bind(lis->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(err, err_size, "--dnstap unix:%s: cannot bind: %s; check the folder", path,
			 strerror(errno));
		return -1;
	}
	lis->unix_path = strdup(path);
	if (!lis->unix_path || (l->o.socket_mode >= 0 && chmod(path, (mode_t)l->o.socket_mode)) ||
	    (l->o.socket_gid != (gid_t)-1 && chown(path, (uid_t)-1, l->o.socket_gid))) {
		snprintf(err, err_size, "--dnstap unix:%s: cannot set its mode or group: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int open_tcp(struct listener *lis, const char *spec, char *err, size_t err_size)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t host_len = colon ? (size_t)(colon - spec) : 0;
	if (!colon || host_len == 0 || host_len >= sizeof(host) || colon[1] == '\0') {
		snprintf(err, err_size,
			 "--dnstap tcp:%s: expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:6000", spec);
		return -1;
	}
	memcpy(host, spec, host_len);
	host[host_len] = '\0';
	if (host[0] == '[' && host[host_len - 1] == ']') {
		memmove(host, host + 1, host_len - 2);
		host[host_len - 2] = '\0';
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *found;
	int rc = getaddrinfo(host, colon + 1, &hints, &found);
	if (rc != 0) {
		snprintf(err, err_size, "--dnstap tcp:%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	lis->fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (lis->fd >= 0)
		setsockopt(lis->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lis->fd < 0 || bind(lis->fd, found->ai_addr, found->ai_addrlen) != 0) {
		snprintf(err, err_size, "--dnstap tcp:%s: cannot bind: %s", spec, strerror(errno));
		freeaddrinfo(found);
		return -1;
	}
	freeaddrinfo(found);
	return 0;
}

static int open_listener(struct dnstap_listen *l, struct listener *lis, const char *address,
			 char *err, size_t err_size)
{
	snprintf(lis->name, sizeof(lis->name), "%s", address);
	int rc;
	if (strncmp(address, "unix:", 5) == 0 && address[5] != '\0')
		rc = open_unix(l, lis, address + 5, err, err_size);
	else if (strncmp(address, "tcp:", 4) == 0)
		rc = open_tcp(lis, address + 4, err, err_size);
	else {
		snprintf(err, err_size,
			 "--dnstap %s: expected unix:PATH or tcp:HOST:PORT, e.g. "
			 "unix:/run/dnsprobe/dnstap.sock",
			 address);
		return -1;
	}
	if (rc == 0 && listen(lis->fd, SOMAXCONN) != 0) {
		snprintf(err, err_size, "--dnstap %s: cannot listen: %s", address, strerror(errno));
		rc = -1;
	}
	return rc;
}

int dnstap_listen_open(struct capture *out, const struct dnstap_listen_options *o, char *err,
		       size_t err_size)
{
	struct dnstap_listen *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	l->o = *o;
	l->buf_size = FRAME_HEADER + (o->max_frame_size > FSTRM_CONTROL_FRAME_LENGTH_MAX + 4
					  ? o->max_frame_size
					  : FSTRM_CONTROL_FRAME_LENGTH_MAX + 4);
	l->conns = calloc(o->max_connections, sizeof(*l->conns));
	l->pollfds = calloc(o->max_connections + DNSTAP_LISTEN_MAX_ADDRESSES, sizeof(*l->pollfds));
	l->control = fstrm_control_init();
	if (!l->conns || !l->pollfds || !l->control) {
		snprintf(err, err_size, "out of memory");
		l->o.max_connections = 0;
		listen_free(l);
		return -1;
	}
	for (unsigned i = 0; i < o->max_connections; i++)
		l->conns[i].fd = -1;
	for (unsigned i = 0; i < o->address_count; i++) {
		struct listener *lis = &l->listeners[l->listener_count];
		lis->fd = -1;
		if (open_listener(l, lis, o->addresses[i], err, err_size) != 0) {
			if (lis->fd >= 0)
				close(lis->fd);
			if (lis->unix_path) {
				unlink(lis->unix_path);
				free(lis->unix_path);
			}
			listen_free(l);
			return -1;
		}
		l->listener_count++;
	}
	out->ops = &listen_ops;
	out->state = l;
	return 0;
}
