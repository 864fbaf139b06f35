/* The runner's lane threads. */
#include "lane_threads.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lane_thread {
	pthread_t thread;
	bool started;
	int (*lane_main)(void *lane);
	void *lane;
};

struct lane_threads {
	unsigned count;
	struct lane_thread threads[];
};

static void *run_lane(void *arg)
{
	struct lane_thread *t = arg;
	t->lane_main(t->lane);
	return NULL;
}

int lane_threads_start(struct lane_threads **out, int (*lane_main)(void *lane), void *const *lanes,
		       unsigned count, char *err, size_t err_size)
{
	struct lane_threads *t = calloc(1, sizeof(*t) + count * sizeof(t->threads[0]));
	*out = t;
	if (!t) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	t->count = count;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = 0;
	for (unsigned i = 0; i < count && rc == 0; i++) {
		struct lane_thread *thread = &t->threads[i];
		thread->lane_main = lane_main;
		thread->lane = lanes[i];
		rc = pthread_create(&thread->thread, NULL, run_lane, thread);
		thread->started = rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, err_size, "cannot start a capture thread: %s", strerror(rc));
		return -1;
	}
	return 0;
}

void lane_threads_join(struct lane_threads *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->count; i++)
		if (t->threads[i].started)
			pthread_join(t->threads[i].thread, NULL);
	free(t);
}
