/* The one runner: lanes, the lane loop, the control loop on the main thread, the summary. */
#include "runner.h"

#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_line.h"
#include "clock.h"
#include "lane_threads.h"
#include "pacer.h"
#include "progress_bar.h"
#include "signals.h"
#include "sink_shared_file.h"

#define CONTROL_TICK_MS	   20
#define PUBLISH_EVERY_NS   (20 * 1000000LL)
#define DROPS_EVERY_NS	   1000000000LL
#define BUDGET_USED_NAP_NS 1000000L
#define NS_PER_MS	   1000000LL
#define WORKER_PLACEHOLDER "{worker}"
#define LANE_MESSAGE_SIZE  512

struct lane {
	_Alignas(CACHE_LINE_SIZE) struct runner *runner; /* each lane on lines of its own */
	struct worker *worker;
	struct capture capture;
	struct sink sink;
	struct pacer *pacer; /* --speed: in front of sink; NULL otherwise */
	bool sink_open;
	struct frame_tap tap; /* -w; tap.ops NULL: none */
	atomic_bool stop;
	atomic_bool ended;
	struct capture_drops drops; /* written by the lane's own loop */
	int64_t next_publish_ns;
	int64_t first_burst_ns, last_burst_ns; /* ends of the first and last bursts with packets */

	/* Copies for the control loop, guarded by lock. Only this lane's loop and the control loop
	 * take it, so no two workers ever share it. */
	pthread_mutex_t lock;
	struct counters published;
	struct sink_counters published_sink;
	struct capture_drops published_drops;
	struct sink_client_stats published_client;
	char warning[LANE_MESSAGE_SIZE]; /* for the control loop to print; "" when none */
};

struct runner {
	struct runner_options options;
	struct shared_file *shared_file; /* several lanes, one output file */
	atomic_uint_fast64_t budget;	 /* packets still to take under --count */
	atomic_bool failed;		 /* a lane's capture broke */
	char failure[LANE_MESSAGE_SIZE]; /* why, from the first lane that broke */
	struct progress_bar progress;
	int64_t start_ns;
	unsigned lane_count;
	struct lane lanes[];
};

void capture_drops_add(struct capture_drops *total, const struct capture_drops *part)
{
	if (part->source != DROPS_NONE)
		total->source = part->source;
	total->received += part->received;
	total->kernel_dropped += part->kernel_dropped;
	total->interface_dropped += part->interface_dropped;
	total->nic_missed += part->nic_missed;
	total->nic_errors += part->nic_errors;
	total->nic_no_mbuf += part->nic_no_mbuf;
	total->unread += part->unread;
	total->has_connections |= part->has_connections;
	total->connections_opened += part->connections_opened;
	total->connections_closed += part->connections_closed;
	total->connections_refused += part->connections_refused;
	total->frames += part->frames;
	total->bad_control += part->bad_control;
	total->oversized += part->oversized;
	total->bad_content_type += part->bad_content_type;
	total->bad_protobuf += part->bad_protobuf;
}

/* "{worker}" in the output path gives every worker a file of its own. */
static bool per_worker_files(const struct sink_opener *o)
{
	return o->path && strstr(o->path, WORKER_PLACEHOLDER) != NULL;
}

static int open_lane_sink(struct runner *r, unsigned index, char *err, size_t err_size)
{
	struct lane *lane = &r->lanes[index];
	if (r->shared_file)
		return shared_file_sink(r->shared_file, &lane->sink, err, err_size);
	const struct sink_opener *o = &r->options.sinks;
	if (!per_worker_files(o))
		return o->open(o->ctx, o->path, &lane->sink, err, err_size);
	const char *path = o->path;
	const char *at = strstr(path, WORKER_PLACEHOLDER);
	char lane_path[4096];
	int n = snprintf(lane_path, sizeof(lane_path), "%.*s%u%s", (int)(at - path), path, index,
			 at + strlen(WORKER_PLACEHOLDER));
	if (n < 0 || (size_t)n >= sizeof(lane_path)) {
		snprintf(err, err_size, "the output path is too long");
		return -1;
	}
	return o->open(o->ctx, lane_path, &lane->sink, err, err_size);
}

static void lane_waiting(void *lane);

int runner_open(struct runner **out, const struct runner_options *o, char *err, size_t err_size)
{
	if (o->lanes == 0 || o->lanes > RUNNER_MAX_LANES) {
		snprintf(err, err_size, "%u workers asked for; give 1 to %d", o->lanes,
			 RUNNER_MAX_LANES);
		return -1;
	}
	struct runner *r = cache_line_calloc(sizeof(*r) + o->lanes * sizeof(struct lane));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	r->options = *o;
	r->lane_count = o->lanes;
	atomic_init(&r->budget, o->count);
	atomic_init(&r->failed, false);
	for (unsigned i = 0; i < r->lane_count; i++) {
		pthread_mutex_init(&r->lanes[i].lock, NULL);
		atomic_init(&r->lanes[i].stop, false);
		atomic_init(&r->lanes[i].ended, false);
		r->lanes[i].runner = r;
	}
	/* Several workers writing one file or stdout share it through per-worker buffers. */
	if (o->lanes > 1 && o->sinks.path && !per_worker_files(&o->sinks)) {
		struct sink file;
		if (o->sinks.open(o->sinks.ctx, o->sinks.path, &file, err, err_size) != 0 ||
		    shared_file_open(&r->shared_file, file, err, err_size) != 0) {
			runner_abandon(r);
			return -1;
		}
	}
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		if (open_lane_sink(r, i, err, err_size) != 0) {
			runner_abandon(r);
			return -1;
		}
		lane->sink_open = true;
		if (o->speed > 0) {
			struct pacer_hooks hooks = {
			    .stop = &lane->stop, .waiting = lane_waiting, .ctx = lane};
			lane->pacer = pacer_new(lane->sink, o->speed, &hooks);
			if (!lane->pacer) {
				snprintf(err, err_size, "out of memory");
				runner_abandon(r);
				return -1;
			}
			lane->sink = pacer_sink(lane->pacer);
		}
		lane->worker = worker_new(o->worker_config, &lane->sink);
		if (!lane->worker) {
			snprintf(err, err_size, "out of memory");
			runner_abandon(r);
			return -1;
		}
		worker_set_wait_hook(lane->worker, lane_waiting, lane);
		if (o->taps.open) {
			if (o->taps.open(o->taps.ctx, i, r->lane_count, &lane->tap, err,
					 err_size) != 0) {
				lane->tap.ops = NULL;
				runner_abandon(r);
				return -1;
			}
			worker_set_tap(lane->worker, &lane->tap);
		}
		signals_watch_worker(lane->worker);
	}
	*out = r;
	return 0;
}

void *runner_lane(struct runner *r, unsigned index)
{
	return index < r->lane_count ? &r->lanes[index] : NULL;
}

void runner_set_capture(struct runner *r, unsigned index, struct capture capture)
{
	r->lanes[index].capture = capture;
}

/* Ends the lanes' taps (keep false: removes their files). Returns 1 when one failed. */
static int close_taps(struct runner *r, bool keep)
{
	int status = 0;
	char err[512];
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct frame_tap *tap = &r->lanes[i].tap;
		if (!tap->ops)
			continue;
		if (tap->ops->close(tap->state, keep, err, sizeof(err)) != 0) {
			fprintf(stderr, "dnsprobe: %s\n", err);
			status = 1;
		}
		tap->ops = NULL;
	}
	return status;
}

static void runner_free(struct runner *r)
{
	signals_unwatch_workers();
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		if (lane->capture.ops)
			lane->capture.ops->close(lane->capture.state);
		worker_free(lane->worker);
		pthread_mutex_destroy(&lane->lock);
	}
	free(r);
}

void runner_abandon(struct runner *r)
{
	char ignored[256];
	for (unsigned i = 0; i < r->lane_count; i++)
		if (r->lanes[i].sink_open)
			r->lanes[i].sink.ops->close(r->lanes[i].sink.state, false, ignored,
						    sizeof(ignored));
	if (r->shared_file)
		shared_file_close(r->shared_file, false, ignored, sizeof(ignored));
	close_taps(r, false);
	runner_free(r);
}

static bool lane_running(const struct lane *lane)
{
	return !atomic_load_explicit(&lane->stop, memory_order_relaxed);
}

/* How many packets the lane may take in its next burst (at most max): less near --count, 0 when
 * the count is used up. */
static unsigned lane_claim(struct lane *lane, unsigned max)
{
	struct runner *r = lane->runner;
	if (r->options.count == 0)
		return max;
	uint_fast64_t left = atomic_load(&r->budget);
	for (;;) {
		if (left == 0)
			return 0;
		/* A fair share, so that a lane waiting on an idle input never holds what a busy
		 * one needs. */
		uint_fast64_t share = left / r->lane_count ? left / r->lane_count : 1;
		unsigned take = share < max ? (unsigned)share : max;
		if (atomic_compare_exchange_weak(&r->budget, &left, left - take))
			return take;
	}
}

static void lane_publish(struct lane *lane)
{
	struct sink_counters sink;
	lane->sink.ops->counters(lane->sink.state, &sink);
	pthread_mutex_lock(&lane->lock);
	lane->published = *worker_counters(lane->worker);
	lane->published_sink = sink;
	lane->published_drops = lane->drops;
	if (lane->sink.ops->client_stats)
		lane->sink.ops->client_stats(lane->sink.state, &lane->published_client);
	pthread_mutex_unlock(&lane->lock);
}

/* The worker's wait hook: while it waits for a full sink, its counters still reach the control
 * loop (the stats file shows the records in flight, not the values from before the wait). */
static void lane_waiting(void *ctx)
{
	struct lane *lane = ctx;
	int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (now >= lane->next_publish_ns) {
		lane_publish(lane);
		lane->next_publish_ns = now + PUBLISH_EVERY_NS;
	}
}

/* After each burst: gives back what --count allowed and did not come, serves the sink, and now
 * and then publishes the lane's counters. */
static void lane_end_burst(struct lane *lane, unsigned claimed, unsigned received)
{
	if (claimed > received && lane->runner->options.count != 0)
		atomic_fetch_add(&lane->runner->budget, claimed - received);
	worker_end_burst(lane->worker);
	if (received > 0) {
		lane->last_burst_ns = clock_ns(CLOCK_MONOTONIC);
		if (lane->first_burst_ns == 0)
			lane->first_burst_ns = lane->last_burst_ns;
	}
	int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (now >= lane->next_publish_ns) {
		lane_publish(lane);
		lane->next_publish_ns = now + PUBLISH_EVERY_NS;
	}
}

/* A lane whose input broke: the capture stops, and the exit status is not zero. */
static void lane_fail(struct lane *lane, const char *message)
{
	struct runner *r = lane->runner;
	pthread_mutex_lock(&lane->lock);
	if (!atomic_load(&r->failed))
		snprintf(r->failure, sizeof(r->failure), "%s", message);
	pthread_mutex_unlock(&lane->lock);
	atomic_store(&r->failed, true);
}

/* A part of the input broke and the rest follows: the control loop prints why. */
static void lane_warn(struct lane *lane, const char *message)
{
	pthread_mutex_lock(&lane->lock);
	snprintf(lane->warning, sizeof(lane->warning), "%s", message);
	pthread_mutex_unlock(&lane->lock);
}

/* The input's drop counts; at the end (final), what passed the kernel's filter and was neither
 * dropped nor read is counted unread: the kernel's received count includes its drops. */
static void lane_read_drops(struct lane *lane, bool final)
{
	if (!lane->capture.ops->drops)
		return;
	struct capture_drops d = {0};
	lane->capture.ops->drops(lane->capture.state, &d);
	uint64_t read = worker_counters(lane->worker)->packets;
	if (final && d.source == DROPS_KERNEL && d.received > d.kernel_dropped + read)
		d.unread = d.received - d.kernel_dropped - read;
	lane->drops = d;
}

static void lane_deliver(struct lane *lane, const struct frame *frames, int count)
{
	worker_begin_burst(lane->worker);
	for (int i = 0; i < count; i++)
		if (!worker_packet(lane->worker, &frames[i]) && lane->capture.ops->reject)
			lane->capture.ops->reject(lane->capture.state, &frames[i]);
}

/* After CAPTURE_ERROR: what the input still holds is read out, then the lane fails. */
static void lane_broke(struct lane *lane, struct frame *frames)
{
	char message[LANE_MESSAGE_SIZE];
	snprintf(message, sizeof(message), "%s", lane->capture.ops->error(lane->capture.state));
	int n;
	while (lane->capture.ops->drain &&
	       (n = lane->capture.ops->drain(lane->capture.state, frames, CAPTURE_BURST)) > 0) {
		lane_deliver(lane, frames, n);
		lane_end_burst(lane, 0, (unsigned)n);
	}
	lane_fail(lane, message);
}

int runner_lane_main(void *arg)
{
	struct lane *lane = arg;
	struct frame frames[CAPTURE_BURST];
	int64_t next_drops = 0;
	while (lane_running(lane)) {
		int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (now >= next_drops) {
			lane_read_drops(lane, false);
			next_drops = now + DROPS_EVERY_NS;
		}
		unsigned want = lane_claim(lane, CAPTURE_BURST);
		if (want == 0) {
			/* --count is used up; wait for the control loop to stop us. */
			lane_end_burst(lane, 0, 0);
			nanosleep(&(struct timespec){.tv_nsec = BUDGET_USED_NAP_NS}, NULL);
			continue;
		}
		int n = lane->capture.ops->next_burst(lane->capture.state, frames, want);
		if (n > 0)
			lane_deliver(lane, frames, n);
		lane_end_burst(lane, want, n > 0 ? (unsigned)n : 0);
		if (n == 0 && lane->capture.ops->idle)
			lane->capture.ops->idle(lane->capture.state);
		if (n >= 0)
			continue;
		if (n == CAPTURE_END)
			break;
		if (n == CAPTURE_ERROR) {
			lane_broke(lane, frames);
			break;
		}
		if (n == CAPTURE_WARNING)
			lane_warn(lane, lane->capture.ops->error(lane->capture.state));
		if (n == CAPTURE_NEW_PASS)
			worker_restart_clock(lane->worker);
		if ((n == CAPTURE_NEW_FILE || n == CAPTURE_NEW_PASS) && lane->pacer)
			pacer_restart(lane->pacer);
	}
	lane_read_drops(lane, true);
	lane_publish(lane);
	atomic_store(&lane->ended, true);
	return 0;
}

/* A shared file counts the records the lanes handed over; the lanes count only their own. */
static void add_shared_file(struct runner *r, struct sink_counters *sum)
{
	struct sink_counters s;
	if (!r->shared_file)
		return;
	shared_file_counters(r->shared_file, &s);
	sum->delivered += s.delivered;
	sum->failed += s.failed;
	sum->in_flight += s.in_flight;
}

/* Zeroes t for lane_count lanes (the rest of its lane array is never read). */
static void totals_clear(struct runner_totals *t, unsigned lane_count)
{
	memset(t, 0, offsetof(struct runner_totals, lanes));
	memset(t->lanes, 0, lane_count * sizeof(t->lanes[0]));
	t->lane_count = lane_count;
}

static void lane_totals_set(struct runner_lane_totals *out, const struct counters *c,
			    const struct sink_counters *s, const struct sink_client_stats *client)
{
	out->packets = c->packets;
	out->records = c->records;
	out->malformed = c->malformed;
	out->records_to_sink = c->records_to_sink;
	out->records_dropped = c->records_dropped;
	out->sink = *s;
	out->client = *client;
}

/* The totals from what the lanes published; the lanes may still be running. */
static void gather_published(struct runner *r, struct runner_totals *t)
{
	totals_clear(t, r->lane_count);
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		pthread_mutex_lock(&lane->lock);
		counters_add(&t->counters, &lane->published);
		t->sink.delivered += lane->published_sink.delivered;
		t->sink.failed += lane->published_sink.failed;
		t->sink.in_flight += lane->published_sink.in_flight;
		capture_drops_add(&t->drops, &lane->published_drops);
		lane_totals_set(&t->lanes[i], &lane->published, &lane->published_sink,
				&lane->published_client);
		pthread_mutex_unlock(&lane->lock);
	}
	add_shared_file(r, &t->sink);
}

static void read_drops(const struct lane_executor *executor, struct runner_totals *t)
{
	if (executor && executor->read_drops) {
		memset(&t->drops, 0, sizeof(t->drops));
		executor->read_drops(executor->ctx, &t->drops);
	}
}

static bool all_lanes_ended(const struct runner *r)
{
	for (unsigned i = 0; i < r->lane_count; i++)
		if (!atomic_load(&r->lanes[i].ended))
			return false;
	return true;
}

/* The lanes' warnings, printed on the main thread so that they never cut the progress bar. */
static void print_warnings(struct runner *r)
{
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		char warning[LANE_MESSAGE_SIZE];
		pthread_mutex_lock(&lane->lock);
		snprintf(warning, sizeof(warning), "%s", lane->warning);
		lane->warning[0] = '\0';
		pthread_mutex_unlock(&lane->lock);
		if (warning[0]) {
			progress_bar_clear(&r->progress);
			fprintf(stderr, "dnsprobe: warning: %s\n", warning);
		}
	}
}

static void draw_progress(struct runner *r, const struct runner_totals *t, int64_t now)
{
	const struct capture *c = &r->lanes[0].capture;
	if (!r->options.progress_bar || !c->ops->progress)
		return;
	struct capture_progress p;
	c->ops->progress(c->state, &p);
	progress_bar_draw(&r->progress, &p, t->counters.records, now);
}

/* SIGHUP with rule files: they are read again on this thread while the lanes go on with the old
 * rules; each lane takes the new ones after its burst. What no lane uses any more is freed. */
static void serve_reload(struct runner *r)
{
	struct policy *policy = r->options.worker_config->policy;
	if (!policy)
		return;
	if (signals_take_reload()) {
		char line[1024];
		int rc = policy_reload(policy, line, sizeof(line));
		progress_bar_clear(&r->progress);
		if (rc == 0)
			fprintf(stderr, "dnsprobe: SIGHUP: rules reloaded: %s\n", line);
		else
			fprintf(stderr, "dnsprobe: SIGHUP: reload failed, the old rules stay: %s\n",
				line);
	}
	policy_collect(policy);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * NS_PER_MS};
	nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

/* Waits on the main thread until a signal, --count, --duration, --idle-exit or the end of every
 * input says stop. */
static void control_loop(struct runner *r, const struct lane_executor *executor)
{
	const struct runner_options *o = &r->options;
	int64_t start = r->start_ns;
	int64_t last_packet_seen = start;
	uint64_t last_packets = 0;
	int64_t next_interval = start + (int64_t)o->interval_ms * NS_PER_MS;
	while (!signals_stop_requested() && !atomic_load(&r->failed) && !all_lanes_ended(r)) {
		sleep_ms(CONTROL_TICK_MS);
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		serve_reload(r);
		struct runner_totals t;
		gather_published(r, &t);
		print_warnings(r);
		draw_progress(r, &t, now);
		t.elapsed_s = (double)(now - start) / CLOCK_NS_PER_SECOND;
		if (o->count && t.counters.packets >= o->count)
			return;
		if (o->duration_s && now - start >= (int64_t)o->duration_s * CLOCK_NS_PER_SECOND)
			return;
		if (t.counters.packets != last_packets) {
			last_packets = t.counters.packets;
			last_packet_seen = now;
		} else if (o->idle_exit_s && now - last_packet_seen >=
						 (int64_t)o->idle_exit_s * CLOCK_NS_PER_SECOND) {
			return;
		}
		if (o->on_interval && o->interval_ms && now >= next_interval) {
			read_drops(executor, &t);
			progress_bar_clear(&r->progress);
			o->on_interval(o->interval_ctx, &t);
			next_interval += (int64_t)o->interval_ms * NS_PER_MS;
		}
	}
}

static void print_drops(FILE *out, const struct capture_drops *d)
{
	if (d->has_connections)
		fprintf(out,
			"dnsprobe: dnstap: %" PRIu64 " connections (%" PRIu64 " closed, %" PRIu64
			" refused), %" PRIu64 " frames; malformed: %" PRIu64 " control, %" PRIu64
			" oversized, %" PRIu64 " content type, %" PRIu64 " protobuf\n",
			d->connections_opened, d->connections_closed, d->connections_refused,
			d->frames, d->bad_control, d->oversized, d->bad_content_type,
			d->bad_protobuf);
	switch (d->source) {
	case DROPS_KERNEL:
		fprintf(out,
			"dnsprobe: kernel: %" PRIu64 " packets passed the filter, %" PRIu64
			" dropped because the capture buffer was full (raise -B), %" PRIu64
			" dropped by the interface\n",
			d->received, d->kernel_dropped, d->interface_dropped);
		if (d->unread)
			fprintf(
			    out,
			    "dnsprobe: warning: %" PRIu64
			    " packets passed the filter but were never read (the interface went "
			    "away, or capture stopped with them in the ring)\n",
			    d->unread);
		return;
	case DROPS_NIC:
		fprintf(out,
			"dnsprobe: NIC: %" PRIu64 " packets received (ipackets), %" PRIu64
			" missed for want of rx descriptors (imissed), %" PRIu64
			" bad frames (ierrors), %" PRIu64 " without an mbuf (rx_nombuf)\n",
			d->received, d->nic_missed, d->nic_errors, d->nic_no_mbuf);
		return;
	case DROPS_NONE:
		return;
	}
}

/* The accounting object of counters_write_json with a "capture" object added for the drops. */
static int write_summary_json(const char *path, const struct runner_totals *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return -1;
	int rc = counters_write_json(mem, &t->counters, &t->sink);
	if (fclose(mem) != 0 || rc != 0 || len < 2 || text[len - 2] != '}') {
		free(text);
		fprintf(stderr, "dnsprobe: cannot build the summary for %s\n", path);
		return -1;
	}
	FILE *out = fopen(path, "w");
	if (!out) {
		free(text);
		fprintf(stderr, "dnsprobe: cannot write the summary to %s; check the path\n", path);
		return -1;
	}
	const struct capture_drops *d = &t->drops;
	static const char *const source_names[] = {
	    [DROPS_NONE] = "none", [DROPS_KERNEL] = "kernel", [DROPS_NIC] = "nic"};
	fwrite(text, 1, len - 2, out);
	fprintf(out,
		",\"capture\":{\"drop_source\":\"%s\",\"received\":%" PRIu64
		",\"kernel_dropped\":%" PRIu64 ",\"interface_dropped\":%" PRIu64
		",\"nic_missed\":%" PRIu64 ",\"nic_errors\":%" PRIu64 ",\"nic_no_mbuf\":%" PRIu64
		",\"unread\":%" PRIu64 ",\"elapsed_s\":%.6f,\"receiving_s\":%.6f}",
		source_names[d->source], d->received, d->kernel_dropped, d->interface_dropped,
		d->nic_missed, d->nic_errors, d->nic_no_mbuf, d->unread, t->elapsed_s,
		t->receiving_s);
	if (d->has_connections)
		fprintf(out,
			",\"dnstap\":{\"connections_opened\":%" PRIu64
			",\"connections_closed\":%" PRIu64 ",\"connections_refused\":%" PRIu64
			",\"frames\":%" PRIu64 ",\"bad_control\":%" PRIu64 ",\"oversized\":%" PRIu64
			",\"bad_content_type\":%" PRIu64 ",\"bad_protobuf\":%" PRIu64 "}",
			d->connections_opened, d->connections_closed, d->connections_refused,
			d->frames, d->bad_control, d->oversized, d->bad_content_type,
			d->bad_protobuf);
	fputs("}\n", out);
	free(text);
	rc = ferror(out) ? -1 : 0;
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "dnsprobe: cannot write the summary to %s\n", path);
	return rc;
}

/* After the loops ended and the sinks finished: every lane's final counters, read directly. */
static void gather_final(struct runner *r, struct runner_totals *t)
{
	totals_clear(t, r->lane_count);
	int64_t first = 0, last = 0;
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		struct sink_counters s;
		lane->sink.ops->counters(lane->sink.state, &s);
		counters_add(&t->counters, worker_counters(lane->worker));
		t->sink.delivered += s.delivered;
		t->sink.failed += s.failed;
		t->sink.in_flight += s.in_flight;
		capture_drops_add(&t->drops, &lane->drops);
		if (lane->sink.ops->client_stats)
			lane->sink.ops->client_stats(lane->sink.state, &lane->published_client);
		lane_totals_set(&t->lanes[i], worker_counters(lane->worker), &s,
				&lane->published_client);
		if (lane->first_burst_ns && (!first || lane->first_burst_ns < first))
			first = lane->first_burst_ns;
		if (lane->last_burst_ns > last)
			last = lane->last_burst_ns;
	}
	add_shared_file(r, &t->sink);
	t->receiving_s = (double)(last - first) / CLOCK_NS_PER_SECOND;
}

/* Ends every output before the summary, so that it counts what is really written. */
static int finish_sinks(struct runner *r)
{
	int status = 0;
	char err[512];
	for (unsigned i = 0; i < r->lane_count; i++) {
		if (sink_finish(&r->lanes[i].sink, err, sizeof(err)) != 0) {
			fprintf(stderr, "dnsprobe: %s\n", err);
			status = 1;
		}
	}
	if (r->shared_file && shared_file_finish(r->shared_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		status = 1;
	}
	return status;
}

static int close_sinks(struct runner *r)
{
	int status = 0;
	char err[512];
	for (unsigned i = 0; i < r->lane_count; i++) {
		struct lane *lane = &r->lanes[i];
		if (lane->sink.ops->close(lane->sink.state, true, err, sizeof(err)) != 0) {
			fprintf(stderr, "dnsprobe: %s\n", err);
			status = 1;
		}
		lane->sink_open = false;
	}
	if (r->shared_file && shared_file_close(r->shared_file, true, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		status = 1;
	}
	r->shared_file = NULL;
	return status;
}

static void stop_lanes(struct runner *r)
{
	for (unsigned i = 0; i < r->lane_count; i++) {
		atomic_store(&r->lanes[i].stop, true);
		worker_request_stop(r->lanes[i].worker);
	}
	for (unsigned i = 0; i < r->lane_count; i++)
		if (r->lanes[i].capture.ops->wake)
			r->lanes[i].capture.ops->wake(r->lanes[i].capture.state);
}

static int launch(struct runner *r, const struct lane_executor *executor,
		  struct lane_threads **threads)
{
	void *lanes[RUNNER_MAX_LANES];
	for (unsigned i = 0; i < r->lane_count; i++)
		lanes[i] = &r->lanes[i];
	char err[512];
	int rc = executor ? executor->launch(executor->ctx, runner_lane_main, lanes, r->lane_count,
					     err, sizeof(err))
			  : lane_threads_start(threads, runner_lane_main, lanes, r->lane_count, err,
					       sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		atomic_store(&r->failed, true);
	}
	return rc;
}

int runner_run(struct runner *r, const struct lane_executor *executor)
{
	struct lane_threads *threads = NULL;
	r->start_ns = clock_ns(CLOCK_MONOTONIC);
	const struct policy *policy = r->options.worker_config->policy;
	if (policy && policy_reloadable(policy))
		signals_enable_reload();
	if (launch(r, executor, &threads) == 0)
		control_loop(r, executor);
	stop_lanes(r);
	if (executor)
		executor->wait(executor->ctx);
	else
		lane_threads_join(threads);
	print_warnings(r);
	progress_bar_clear(&r->progress);
	if (r->failure[0])
		fprintf(stderr, "dnsprobe: capture stopped: %s\n", r->failure);

	for (unsigned i = 0; i < r->lane_count; i++) {
		worker_finish(r->lanes[i].worker);
		sink_flush(&r->lanes[i].sink, worker_flush_budget_ms(r->lanes[i].worker));
	}
	int status = finish_sinks(r);
	struct runner_totals t;
	gather_final(r, &t);
	read_drops(executor, &t);
	t.elapsed_s = (double)(clock_ns(CLOCK_MONOTONIC) - r->start_ns) / CLOCK_NS_PER_SECOND;
	if (r->options.on_final)
		r->options.on_final(r->options.interval_ctx, &t);
	counters_print_summary(stderr, &t.counters, &t.sink);
	print_drops(stderr, &t.drops);
	if (atomic_load(&r->failed))
		status = 1;
	if (r->options.summary_json && write_summary_json(r->options.summary_json, &t) != 0)
		status = 1;
	if (close_sinks(r) != 0)
		status = 1;
	if (close_taps(r, true) != 0)
		status = 1;
	runner_free(r);
	return status;
}
