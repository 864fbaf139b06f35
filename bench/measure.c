/* measure: runs one command and writes its CPU seconds (user+sys), wall seconds, peak RSS and
 * exit code as one JSON line to a file. scripts/bench runs every measured command through it:
 * a child spawned straight from Python inherits Python's own RSS high-water mark in ru_maxrss
 * (the kernel carries it over exec), a child forked from this small program does not. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double timeval_seconds(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[1], "-o") != 0 || strcmp(argv[3], "--") != 0) {
		fputs("Usage: measure -o RESULT.json -- COMMAND [ARG]...\n", stderr);
		return 2;
	}
	FILE *result = fopen(argv[2], "w");
	if (!result) {
		fprintf(stderr, "measure: cannot write %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "measure: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		fclose(result);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "measure: cannot run %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage usage;
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(result, "{\"exit\":%d,\"cpu_s\":%.6f,\"wall_s\":%.6f,\"maxrss_kib\":%ld}\n", code,
		timeval_seconds(&usage.ru_utime) + timeval_seconds(&usage.ru_stime),
		seconds(&end) - seconds(&start), usage.ru_maxrss);
	if (fclose(result) != 0)
		return 2;
	return code;
}
