/* One receive thread per libpcap live handle. Each thread takes bursts from its handle into its
 * lane's worker and, once a second, reads the kernel's counts for the handle. */
#include "capture_threads.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "pcap_live.h"

#define KERNEL_COUNTS_EVERY_NS 1000000000LL
#define BUDGET_USED_NAP_NS     1000000L

struct receive_thread {
	pthread_t thread;
	bool started;
	struct capture *capture;
	struct lane *lane;
	const char *interface;
};

struct capture_threads {
	unsigned count;
	struct receive_thread threads[];
};

/* At the end (final), what passed the filter and was neither dropped nor read is counted: the
 * kernel's received count includes its drops. */
static void publish_kernel_counts(struct receive_thread *t, bool final)
{
	struct pcap_live_stats s;
	pcap_live_stats(t->capture, &s);
	struct capture_drops drops = {
	    .source = DROPS_KERNEL,
	    .received = s.received,
	    .kernel_dropped = s.dropped,
	    .interface_dropped = s.interface_dropped,
	};
	uint64_t read = worker_counters(lane_worker(t->lane))->packets;
	if (final && s.received > s.dropped + read)
		drops.unread = s.received - s.dropped - read;
	lane_set_drops(t->lane, &drops);
}

static void *receive_loop(void *arg)
{
	struct receive_thread *t = arg;
	struct worker *w = lane_worker(t->lane);
	int64_t next_counts = 0;
	while (lane_running(t->lane)) {
		int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (now >= next_counts) {
			publish_kernel_counts(t, false);
			next_counts = now + KERNEL_COUNTS_EVERY_NS;
		}
		unsigned want = lane_claim(t->lane, CAPTURE_BURST);
		if (want == 0) {
			/* --count is used up; wait for the control loop to stop us. */
			lane_end_burst(t->lane, 0, 0);
			nanosleep(&(struct timespec){.tv_nsec = BUDGET_USED_NAP_NS}, NULL);
			continue;
		}
		int n = t->capture->ops->receive(t->capture->state, w, want);
		if (n < 0) {
			char message[512];
			snprintf(message, sizeof(message), "%s: %s", t->interface,
				 t->capture->ops->error(t->capture->state));
			unsigned drained = pcap_live_drain(t->capture, w);
			lane_end_burst(t->lane, want, drained < want ? drained : want);
			lane_fail(t->lane, message);
			break;
		}
		lane_end_burst(t->lane, want, (unsigned)n);
	}
	publish_kernel_counts(t, true);
	return NULL;
}

static void join_all(void *ctx)
{
	struct capture_threads *t = ctx;
	for (unsigned i = 0; i < t->count; i++) {
		if (t->threads[i].started)
			pthread_join(t->threads[i].thread, NULL);
		t->threads[i].started = false;
	}
}

static void wake_all(void *ctx)
{
	struct capture_threads *t = ctx;
	for (unsigned i = 0; i < t->count; i++)
		pcap_live_wake(t->threads[i].capture);
}

int capture_threads_start(struct capture_threads **out, struct capture *captures, unsigned count,
			  const char *interface, struct runner *runner, char *err, size_t err_size)
{
	struct capture_threads *t = calloc(1, sizeof(*t) + count * sizeof(t->threads[0]));
	if (!t) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	t->count = count;
	/* Signals go to the main thread, whose control loop handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = 0;
	for (unsigned i = 0; i < count && rc == 0; i++) {
		struct receive_thread *thread = &t->threads[i];
		thread->capture = &captures[i];
		thread->lane = runner_lane(runner, i);
		thread->interface = interface;
		rc = pthread_create(&thread->thread, NULL, receive_loop, thread);
		thread->started = rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, err_size, "cannot start a capture thread: %s", strerror(rc));
		runner_stop_lanes(runner);
		wake_all(t);
		join_all(t);
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void capture_threads_backend(struct capture_threads *t, struct runner_backend *out)
{
	*out = (struct runner_backend){
	    .name = "libpcap",
	    .wake = wake_all,
	    .wait = join_all,
	    .ctx = t,
	};
}

void capture_threads_free(struct capture_threads *t)
{
	free(t);
}
