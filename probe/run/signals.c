/* SIGINT/SIGTERM/SIGHUP handling (SIGHUP a reload request when there is something to reload),
 * and the temporary files a second signal removes. */
#include "signals.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define MAX_WATCHED_WORKERS 256
#define MAX_TRACKED_FILES   160 /* a file per worker (at most 128) and a few more */

enum { SLOT_FREE, SLOT_FILLING, SLOT_LIVE };

static volatile sig_atomic_t stop_count;
static volatile sig_atomic_t stop_asked;
static volatile sig_atomic_t reload_enabled;
static volatile sig_atomic_t reload_asked;
static struct worker *watched[MAX_WATCHED_WORKERS];
static volatile sig_atomic_t watched_count;

/* Paths in static buffers: the handler reads them without allocating or locking. */
static char tracked_path[MAX_TRACKED_FILES][PATH_MAX];
static atomic_int tracked_state[MAX_TRACKED_FILES];

static void stop_workers(void)
{
	for (int i = 0; i < watched_count; i++)
		worker_request_stop(watched[i]);
}

static void on_signal(int signo)
{
	if (signo == SIGHUP && reload_enabled) {
		reload_asked = 1;
		return;
	}
	if (stop_count++ > 0) {
		for (int i = 0; i < MAX_TRACKED_FILES; i++)
			if (atomic_load(&tracked_state[i]) == SLOT_LIVE)
				unlink(tracked_path[i]);
		static const char msg[] = "dnsprobe: second signal, exiting now without flushing "
					  "(temporary output files removed)\n";
		ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)ignored;
		_exit(128 + signo);
	}
	stop_workers();
}

void signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* stops as SIGTERM does, unless reloads are enabled */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void signals_watch_worker(struct worker *worker)
{
	if (watched_count < MAX_WATCHED_WORKERS) {
		watched[watched_count] = worker;
		watched_count = watched_count + 1;
	}
}

void signals_unwatch_workers(void)
{
	watched_count = 0;
}

void signals_enable_reload(void)
{
	reload_enabled = 1;
}

bool signals_take_reload(void)
{
	if (!reload_asked)
		return false;
	reload_asked = 0;
	return true;
}

bool signals_stop_requested(void)
{
	return stop_count > 0 || stop_asked;
}

void signals_request_stop(void)
{
	stop_asked = 1;
	stop_workers();
}

int signals_track_file(const char *path)
{
	size_t len = strlen(path);
	if (len >= PATH_MAX)
		return -1;
	for (int i = 0; i < MAX_TRACKED_FILES; i++) {
		int expected = SLOT_FREE;
		if (atomic_compare_exchange_strong(&tracked_state[i], &expected, SLOT_FILLING)) {
			memcpy(tracked_path[i], path, len + 1);
			atomic_store(&tracked_state[i], SLOT_LIVE);
			return i;
		}
	}
	return -1;
}

void signals_forget_file(int slot)
{
	if (slot >= 0 && slot < MAX_TRACKED_FILES)
		atomic_store(&tracked_state[slot], SLOT_FREE);
}
