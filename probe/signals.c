/* SIGINT/SIGTERM handling. */
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define MAX_WATCHED_WORKERS 256

static volatile sig_atomic_t stop_count;
static struct worker *watched[MAX_WATCHED_WORKERS];
static volatile sig_atomic_t watched_count;

static void on_signal(int signo)
{
	if (stop_count++ > 0) {
		static const char msg[] = "dnsprobe: second signal, exiting now without flushing\n";
		ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)ignored;
		_exit(128 + signo);
	}
	for (int i = 0; i < watched_count; i++)
		worker_request_stop(watched[i]);
}

void signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void signals_watch_worker(struct worker *worker)
{
	if (watched_count < MAX_WATCHED_WORKERS) {
		watched[watched_count] = worker;
		watched_count = watched_count + 1;
	}
}

bool signals_stop_requested(void)
{
	return stop_count > 0;
}
