/* kafka_ceiling: the fastest dnsprobe's Kafka path could be on this machine. A bare librdkafka
 * producer sends the records dnsprobe wrote (JSON lines, each keyed by its flow key) the way the
 * Kafka sink does: same settings (given with -X), one produce call per record with a copy, a poll
 * after every burst, and a short poll while the queue is full. With -B, one rd_kafka_produce_batch
 * per burst instead (which cannot set the records' timestamps: measured, not used by the sink);
 * with -N, without the copy.
 * Reading the file is not timed. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define KEY_LEN		 38 /* the binary flow key (DESIGN.md, "The flow key") */
#define BURST		 256
#define FULL_POLL_MS	 10
#define FLUSH_TIMEOUT_MS 60000
#define MAX_SETTINGS	 64

/* RD_KAFKA_MSG_F_COPY, or 0 with -N: librdkafka points at the records in memory (they stay for
 * the whole run) instead of copying each value. */
static int msg_flags = RD_KAFKA_MSG_F_COPY;

struct record {
	const char *value;
	size_t value_len;
	uint8_t key[KEY_LEN];
};

struct delivery {
	uint64_t delivered;
	uint64_t failed;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
	(void)rk;
	struct delivery *d = opaque;
	if (message->err)
		d->failed++;
	else
		d->delivered++;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The record's key is its "flow_key" field, 76 hex digits. */
static bool key_of(const char *line, size_t len, uint8_t key[KEY_LEN])
{
	static const char field[] = "\"flow_key\":\"";
	const char *at = memmem(line, len, field, sizeof(field) - 1);
	if (!at)
		return false;
	at += sizeof(field) - 1;
	if ((size_t)(line + len - at) < 2 * KEY_LEN)
		return false;
	for (int i = 0; i < KEY_LEN; i++) {
		int hi = hex_value(at[2 * i]), lo = hex_value(at[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "kafka_ceiling: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long end = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *bytes = end >= 0 ? malloc((size_t)end + 1) : NULL;
	if (!bytes || fread(bytes, 1, (size_t)end, f) != (size_t)end) {
		fprintf(stderr, "kafka_ceiling: cannot read %s\n", path);
		free(bytes);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*size = (size_t)end;
	return bytes;
}

/* One record per line; lines without a flow key are skipped. */
static struct record *index_records(char *bytes, size_t size, size_t *count)
{
	size_t lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += bytes[i] == '\n';
	struct record *records = malloc((lines + 1) * sizeof(*records));
	if (!records)
		return NULL;
	size_t n = 0;
	char *line = bytes, *end = bytes + size;
	while (line < end) {
		char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t len = newline ? (size_t)(newline - line) : (size_t)(end - line);
		if (key_of(line, len, records[n].key)) {
			records[n].value = line;
			records[n].value_len = len;
			n++;
		}
		line += len + 1;
	}
	*count = n;
	return records;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static rd_kafka_t *producer_new(const char *brokers, char **settings, int setting_count,
				struct delivery *d)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) != 0)
		goto fail;
	for (int i = 0; i < setting_count; i++) {
		char *eq = strchr(settings[i], '=');
		if (!eq) {
			snprintf(err, sizeof(err), "-X %s: expected property=value", settings[i]);
			goto fail;
		}
		*eq = '\0';
		rd_kafka_conf_res_t res =
		    rd_kafka_conf_set(conf, settings[i], eq + 1, err, sizeof(err));
		*eq = '=';
		if (res != RD_KAFKA_CONF_OK)
			goto fail;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, d);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk)
		return rk;
	fprintf(stderr, "kafka_ceiling: %s\n", err);
	return NULL;
fail:
	fprintf(stderr, "kafka_ceiling: %s\n", err);
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Sends every record once; returns the records librdkafka accepted. */
static uint64_t produce_all(rd_kafka_t *rk, rd_kafka_topic_t *topic, const struct record *records,
			    size_t count)
{
	uint64_t accepted = 0;
	for (size_t i = 0; i < count; i++) {
		for (;;) {
			rd_kafka_resp_err_t err = rd_kafka_producev(
			    rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(msg_flags),
			    RD_KAFKA_V_KEY(records[i].key, KEY_LEN),
			    RD_KAFKA_V_VALUE((void *)records[i].value, records[i].value_len),
			    RD_KAFKA_V_END);
			if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				accepted++;
				break;
			}
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "kafka_ceiling: produce failed: %s\n",
					rd_kafka_err2str(err));
				return accepted;
			}
			rd_kafka_poll(rk, FULL_POLL_MS);
		}
		if ((i + 1) % BURST == 0)
			rd_kafka_poll(rk, 0);
	}
	return accepted;
}

/* The same, one rd_kafka_produce_batch call per burst of BURST records; the ones refused for a
 * full queue are sent again after a short poll. */
static uint64_t produce_all_batched(rd_kafka_t *rk, rd_kafka_topic_t *topic,
				    const struct record *records, size_t count)
{
	static rd_kafka_message_t burst[BURST];
	uint64_t accepted = 0;
	for (size_t first = 0; first < count; first += BURST) {
		int n = count - first < BURST ? (int)(count - first) : BURST;
		for (int i = 0; i < n; i++)
			burst[i] = (rd_kafka_message_t){
			    .payload = (void *)records[first + i].value,
			    .len = records[first + i].value_len,
			    .key = (void *)records[first + i].key,
			    .key_len = KEY_LEN,
			};
		for (;;) {
			accepted += (uint64_t)rd_kafka_produce_batch(topic, RD_KAFKA_PARTITION_UA,
								     msg_flags, burst, n);
			int left = 0;
			for (int i = 0; i < n; i++) {
				if (burst[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
					continue;
				if (burst[i].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
					fprintf(stderr, "kafka_ceiling: produce failed: %s\n",
						rd_kafka_err2str(burst[i].err));
					return accepted;
				}
				burst[left++] = burst[i];
			}
			if (left == 0)
				break;
			n = left;
			rd_kafka_poll(rk, FULL_POLL_MS);
		}
		rd_kafka_poll(rk, 0);
	}
	return accepted;
}

static const char usage[] =
    "Usage: kafka_ceiling -b BROKERS -t TOPIC -r RECORDS.jsonl [-B] [-N] [-X property=value]...\n"
    "Sends every JSON line of RECORDS.jsonl (keyed by its flow_key) once, waits for the\n"
    "delivery reports and prints one JSON line: records, delivered, failed, value bytes,\n"
    "wall and CPU seconds of the sending (reading the file excluded). -B: one\n"
    "rd_kafka_produce_batch per burst of 256 records instead of one rd_kafka_producev each.\n"
    "-N: no copy of the values (librdkafka points at them in memory).\n";

int main(int argc, char **argv)
{
	const char *brokers = NULL, *topic_name = NULL, *path = NULL;
	char *settings[MAX_SETTINGS];
	int setting_count = 0, c;
	bool batched = false;
	while ((c = getopt(argc, argv, "b:t:r:X:BNh")) != -1) {
		switch (c) {
		case 'B':
			batched = true;
			break;
		case 'N':
			msg_flags = 0;
			break;
		case 'b':
			brokers = optarg;
			break;
		case 't':
			topic_name = optarg;
			break;
		case 'r':
			path = optarg;
			break;
		case 'X':
			if (setting_count == MAX_SETTINGS) {
				fprintf(stderr, "kafka_ceiling: too many -X settings\n");
				return 2;
			}
			settings[setting_count++] = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!brokers || !topic_name || !path) {
		fputs(usage, stderr);
		return 2;
	}
	size_t size, count;
	char *bytes = read_file(path, &size);
	struct record *records = bytes ? index_records(bytes, size, &count) : NULL;
	if (!records)
		return 1;
	uint64_t value_bytes = 0;
	for (size_t i = 0; i < count; i++)
		value_bytes += records[i].value_len;

	struct delivery d = {0};
	rd_kafka_t *rk = producer_new(brokers, settings, setting_count, &d);
	if (!rk)
		return 2;
	rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, topic_name, NULL);
	double wall0 = seconds_now(), cpu0 = cpu_seconds();
	uint64_t accepted = batched ? produce_all_batched(rk, topic, records, count)
				    : produce_all(rk, topic, records, count);
	rd_kafka_flush(rk, FLUSH_TIMEOUT_MS);
	double wall = seconds_now() - wall0, cpu = cpu_seconds() - cpu0;
	printf("{\"records\":%zu,\"accepted\":%llu,\"delivered\":%llu,\"failed\":%llu,"
	       "\"value_bytes\":%llu,\"wall_s\":%.6f,\"cpu_s\":%.6f}\n",
	       count, (unsigned long long)accepted, (unsigned long long)d.delivered,
	       (unsigned long long)d.failed, (unsigned long long)value_bytes, wall, cpu);
	rd_kafka_topic_destroy(topic);
	rd_kafka_destroy(rk);
	free(records);
	free(bytes);
	return d.delivered == count ? 0 : 1;
}
