/* Fuzz target: the dnstap input path, Frame Streams and protobuf. The input is the byte stream
 * one sender writes to the real listener (dnstap/dnstap_listen.c, on a unix socket of its own);
 * every frame it hands out goes through worker_packet() twice: into JSON records (each checked
 * to be one valid JSON object) and into dnstap values (each checked to be the frame unchanged).
 * After the input the connection must have been closed (the sender's end of stream, or a fault
 * counted), and the packet accounting of both workers must balance.
 *
 * Input: the bytes a sender writes, as they are (tests/fuzz/README.md); a dnstap file written by
 * `dnsprobe replay --format dnstap` is a valid input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture.h"
#include "dnstap_listen.h"
#include "fuzz_check.h"
#include "json_check.h"
#include "worker.h"

#define FUZZ_FRAME_SIZE 8192
#define MAX_BURSTS	100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct checking_sink {
	bool json_values;
	const struct frame *frame; /* the frame being encoded, for dnstap values */
	struct sink_counters counters;
};

static enum sink_status checking_emit(void *state, const struct sink_record *record)
{
	struct checking_sink *s = state;
	FUZZ_CHECK(record->key && record->key_len > 0);
	FUZZ_CHECK(record->value && record->value_len > 0);
	if (s->json_values)
		FUZZ_CHECK(json_check_object(record->value, record->value_len));
	else
		FUZZ_CHECK(record->value_len == s->frame->caplen &&
			   memcmp(record->value, s->frame->data, record->value_len) == 0);
	s->counters.delivered++;
	return SINK_OK;
}

static void checking_counters(void *state, struct sink_counters *out)
{
	*out = ((struct checking_sink *)state)->counters;
}

static int checking_close(void *state, bool complete, char *err, size_t err_size)
{
	(void)state;
	(void)complete;
	(void)err;
	(void)err_size;
	return 0;
}

static const struct sink_ops checking_sink_ops = {
    .emit = checking_emit,
    .counters = checking_counters,
    .close = checking_close,
};

static struct worker_config json_config, tap_config;
static struct checking_sink json_state = {.json_values = true}, tap_state;
static struct sink json_sink = {.ops = &checking_sink_ops, .state = &json_state};
static struct sink tap_sink = {.ops = &checking_sink_ops, .state = &tap_state};
static struct worker *json_worker, *tap_worker;
static struct capture listener;
static char socket_path[108];

static struct worker *worker_for(struct worker_config *config, const char *format,
				 struct sink *sink)
{
	config->on_full = ON_FULL_BLOCK;
	config->value_encoder = value_encoder_find(format);
	config->key_encoder = key_encoder_find("binary");
	struct worker *w = worker_new(config, sink);
	FUZZ_CHECK(w);
	return w;
}

static void remove_socket(void)
{
	unlink(socket_path);
}

static void set_up(void)
{
	json_worker = worker_for(&json_config, "json", &json_sink);
	tap_worker = worker_for(&tap_config, "dnstap", &tap_sink);
	snprintf(socket_path, sizeof(socket_path), "/tmp/dnsprobe-fuzz-dnstap-%d.sock",
		 (int)getpid());
	static char address[128];
	snprintf(address, sizeof(address), "unix:%s", socket_path);
	struct dnstap_listen_options o = {
	    .addresses = {address},
	    .address_count = 1,
	    .max_connections = 2,
	    .max_frame_size = FUZZ_FRAME_SIZE,
	    .socket_mode = -1,
	    .socket_gid = (gid_t)-1,
	};
	char err[256];
	if (dnstap_listen_open(&listener, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_dnstap: %s\n", err);
		abort();
	}
	atexit(remove_socket);
}

static uint64_t closed_connections(void)
{
	struct capture_drops d = {0};
	listener.ops->drops(listener.state, &d);
	return d.connections_closed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!json_worker)
		set_up();
	uint64_t closed_before = closed_connections();
	int client = socket(AF_UNIX, SOCK_STREAM, 0);
	FUZZ_CHECK(client >= 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	FUZZ_CHECK(connect(client, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	/* scripts/fuzz keeps inputs far below the socket's buffer: this write does not wait. */
	FUZZ_CHECK(write(client, data, size) == (ssize_t)size);
	shutdown(client, SHUT_WR);

	struct frame frames[CAPTURE_BURST];
	for (int burst = 0; closed_connections() == closed_before; burst++) {
		FUZZ_CHECK(burst < MAX_BURSTS);
		int n = listener.ops->next_burst(listener.state, frames, CAPTURE_BURST);
		FUZZ_CHECK(n >= 0);
		for (int i = 0; i < n; i++) {
			FUZZ_CHECK(frames[i].link_type == FRAME_LINK_DNSTAP);
			FUZZ_CHECK(frames[i].caplen > 0 && frames[i].caplen <= FUZZ_FRAME_SIZE);
			bool usable = worker_packet(json_worker, &frames[i]);
			tap_state.frame = &frames[i];
			FUZZ_CHECK(worker_packet(tap_worker, &frames[i]) == usable);
			if (!usable)
				listener.ops->reject(listener.state, &frames[i]);
		}
	}
	close(client);
	worker_end_burst(json_worker);
	worker_end_burst(tap_worker);
	worker_finish(json_worker);
	worker_finish(tap_worker);
	FUZZ_CHECK(counters_balance(worker_counters(json_worker), &json_state.counters));
	FUZZ_CHECK(counters_balance(worker_counters(tap_worker), &tap_state.counters));
	return 0;
}
