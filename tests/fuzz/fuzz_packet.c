/* Fuzz target: captured frames through the real worker_packet() (decode, IP and TCP reassembly,
 * DNS parse, JSON record) into a sink that only checks what it is given: every JSON record is one
 * valid object, and after the input the packet accounting balances.
 *
 * Input layout (tests/fuzz/README.md):
 *   byte 0   bits 0-3 link type (index into link_types, modulo its size), bits 4-5 key format,
 *            bit 6 raw values instead of JSON, bit 7 the rest is one frame;
 *   then, unless bit 7: frames, each as a 4-byte header and the frame bytes:
 *            length (2 bytes, big-endian; cut to what is left), flags, time step;
 *            flags bit 0: the frame was cut by the snap length (wire length + 100),
 *            bits 1-4: the time step is in milliseconds shifted left by this,
 *            bit 5: the clock steps backwards.
 * One worker serves every input (a fresh one per input would spend most of the time allocating
 * its buffers); worker_finish() after each input empties its reassembly tables, so no state passes
 * from one input to the next and a crash reproduces from its input alone. Its reassembly limits
 * are small (8 datagrams, 8 streams, 16 chunks of 1 KiB each), so that inputs of a few frames fill
 * the tables and the pools and reach the eviction paths; the buffers are sparse, so fragments and
 * segments still reach the far end of a 64 KiB datagram or message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "json_check.h"
#include "worker.h"

#define START_TIME_NS	1700000000000000000LL
#define NS_PER_MS	1000000LL
#define FRAME_HEADER	4
#define FLAG_CUT	0x01
#define FLAG_BACKWARDS	0x20
#define CUT_WIRE_EXTRA	100
#define SINGLE_FRAME	0x80
#define RAW_VALUES	0x40
#define FUZZ_DATAGRAMS	8
#define FUZZ_STREAMS	8
#define FUZZ_POOL_BYTES (16u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
    LINK_ETHERNET, LINK_LINUX_SLL, LINK_LINUX_SLL2,  LINK_RAW_LINKTYPE,
    LINK_IPV4,	   LINK_IPV6,	   LINK_NULL,	     LINK_LOOP,
    LINK_PPP,	   LINK_RAW,	   LINK_RAW_OPENBSD, 147 /* LINKTYPE_USER0: unsupported */
};

struct checking_sink {
	bool json_values;
	struct sink_counters counters;
};

static enum sink_status checking_emit(void *state, const struct sink_record *record)
{
	struct checking_sink *s = state;
	FUZZ_CHECK(record->key && record->key_len > 0);
	FUZZ_CHECK(record->value && record->value_len > 0);
	if (s->json_values)
		FUZZ_CHECK(json_check_object(record->value, record->value_len));
	s->counters.delivered++;
	return SINK_OK;
}

static void checking_poll(void *state, int timeout_ms)
{
	(void)state;
	(void)timeout_ms;
}

static int checking_flush(void *state, int timeout_ms)
{
	(void)state;
	(void)timeout_ms;
	return 0;
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
    .poll = checking_poll,
    .flush = checking_flush,
    .counters = checking_counters,
    .close = checking_close,
};

/* Hands one frame to the worker from an exact-size copy, freed right after, so that
 * AddressSanitizer sees reads past the captured bytes and any pointer into the frame kept after it
 * returned. */
static void feed(struct worker *w, int link_type, const uint8_t *bytes, size_t len, bool cut,
		 int64_t ts_ns)
{
	uint8_t *copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy);
	memcpy(copy, bytes, len);
	struct frame frame = {
	    .data = copy,
	    .caplen = (uint32_t)len,
	    .wirelen = (uint32_t)len + (cut ? CUT_WIRE_EXTRA : 0),
	    .ts_ns = ts_ns,
	    .link_type = link_type,
	};
	worker_packet(w, &frame);
	free(copy);
}

static void feed_frames(struct worker *w, int link_type, const uint8_t *data, size_t size)
{
	int64_t ts_ns = START_TIME_NS;
	size_t pos = 0;
	while (size - pos >= FRAME_HEADER) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		uint8_t flags = data[pos + 2];
		int64_t step_ns = ((int64_t)data[pos + 3] * NS_PER_MS) << ((flags >> 1) & 0x0f);
		pos += FRAME_HEADER;
		if (len > size - pos)
			len = size - pos;
		ts_ns += (flags & FLAG_BACKWARDS) ? -step_ns : step_ns;
		feed(w, link_type, data + pos, len, flags & FLAG_CUT, ts_ns);
		worker_end_burst(w);
		pos += len;
	}
}

/* One worker per value format (an encoder's state belongs to the worker made with it). */
static struct worker_config json_config, raw_config;
static struct checking_sink json_sink_state = {.json_values = true}, raw_sink_state;
static struct sink json_sink = {.ops = &checking_sink_ops, .state = &json_sink_state};
static struct sink raw_sink = {.ops = &checking_sink_ops, .state = &raw_sink_state};
static struct worker *json_worker, *raw_worker;
static const char *const key_formats[] = {"binary", "text", "community-id"};

static struct worker *worker_for(struct worker_config *config, const char *value_format,
				 struct sink *sink)
{
	port_set_add(&config->dns_ports, 53);
	port_set_add(&config->dns_ports, 5353);
	config->on_full = ON_FULL_BLOCK;
	config->fragments.max_flows = FUZZ_DATAGRAMS;
	config->fragments.max_bytes = FUZZ_POOL_BYTES;
	config->streams.max_flows = FUZZ_STREAMS;
	config->streams.max_bytes = FUZZ_POOL_BYTES;
	config->value_encoder = value_encoder_find(value_format);
	config->key_encoder = key_encoder_find("binary");
	struct worker *w = worker_new(config, sink);
	FUZZ_CHECK(w);
	return w;
}

static void set_up(void)
{
	json_worker = worker_for(&json_config, "json", &json_sink);
	raw_worker = worker_for(&raw_config, "raw", &raw_sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!json_worker)
		set_up();
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	bool raw = mode & RAW_VALUES;
	struct worker *worker = raw ? raw_worker : json_worker;
	struct worker_config *config = raw ? &raw_config : &json_config;
	config->key_encoder = key_encoder_find(key_formats[((mode >> 4) & 3) % 3]);
	struct checking_sink *sink_state = raw ? &raw_sink_state : &json_sink_state;
	int link_type = link_types[(mode & 0x0f) % (sizeof(link_types) / sizeof(link_types[0]))];

	if (mode & SINGLE_FRAME)
		feed(worker, link_type, data + 1, size - 1, false, START_TIME_NS);
	else
		feed_frames(worker, link_type, data + 1, size - 1);
	worker_end_burst(worker);
	worker_finish(worker);
	FUZZ_CHECK(counters_balance(worker_counters(worker), &sink_state->counters));
	return 0;
}
