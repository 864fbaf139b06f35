/* Starting and stopping EAL. While rte_eal_init runs, standard output and error go to a memory
 * file: EAL's usage text must never mix with records on stdout, and when EAL fails the user gets
 * the one line that says why instead of a screenful. */
#include "dpdk_eal.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#define MAX_EAL_ARGS   256
#define EAL_TEXT_SIZE  65536
#define LCORE_ARG_SIZE 4096

static cpu_set_t original_affinity;
static bool affinity_saved;
/* What EAL printed while starting; drivers that failed to probe say why in it. */
static char startup_text[EAL_TEXT_SIZE];

static bool chooses_lcores(const struct eal_request *request)
{
	for (int i = 0; i < request->arg_count; i++) {
		const char *a = request->args[i];
		if (strncmp(a, "-l", 2) == 0 || strncmp(a, "-c", 2) == 0 ||
		    strncmp(a, "--lcores", 8) == 0)
			return true;
	}
	return false;
}

/* "--lcores=0@3,1@5,2@6" (lcore i pinned to the i-th CPU this process may run on) when there are
 * CPUs for every lcore, else "--lcores=(0-N)@(3,5,6)" so that the N+1 lcores share those CPUs. */
static int auto_lcores_arg(unsigned workers, char *out, size_t size)
{
	int cpus[CPU_SETSIZE];
	int cpu_count = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &original_affinity))
			cpus[cpu_count++] = cpu;
	if (cpu_count == 0)
		return -1;
	unsigned lcores = workers + 1;
	size_t len = 0;
	bool pinned = (unsigned)cpu_count >= lcores;
	int n = pinned ? snprintf(out, size, "--lcores=")
		       : snprintf(out, size, "--lcores=(0-%u)@(", workers);
	len = (size_t)n;
	unsigned listed = pinned ? lcores : (unsigned)cpu_count;
	for (unsigned i = 0; i < listed && len < size; i++) {
		n = pinned ? snprintf(out + len, size - len, "%s%u@%d", i ? "," : "", i, cpus[i])
			   : snprintf(out + len, size - len, "%s%d", i ? "," : "", cpus[i]);
		len += (size_t)n;
	}
	if (!pinned && len < size)
		len += (size_t)snprintf(out + len, size - len, ")");
	return len < size ? 0 : -1;
}

static bool is_noise(const char *line)
{
	static const char *const noise[] = {"EAL: Detected",
					    "EAL: Selected IOVA",
					    "EAL: Error - exiting",
					    "EAL: Unregistering",
					    "Usage:",
					    "EAL common options",
					    "EAL Linux options",
					    "EAL: Physical addresses",
					    "EAL: Multi-process",
					    "TELEMETRY:"};
	if (line[0] == ' ' || line[0] == '\t' || line[0] == '\0')
		return true;
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (strncmp(line, noise[i], strlen(noise[i])) == 0)
			return true;
	return false;
}

static bool says_what_failed(const char *line)
{
	static const char *const words[] = {"unrecognized option",
					    "invalid option",
					    "requires an argument",
					    "No free",
					    "No such",
					    "Cannot",
					    "cannot",
					    "Couldn't",
					    "nvalid",
					    "ailed",
					    "rror",
					    "not ",
					    "FATAL"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(line, words[i]))
			return true;
	return false;
}

/* The most telling line of what EAL printed: a specific complaint before EAL's closing FATAL. */
static void pick_reason(char *text, char *out, size_t size)
{
	const char *specific = NULL, *fatal = NULL;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (is_noise(line) || !says_what_failed(line))
			continue;
		if (strstr(line, "FATAL")) {
			if (!fatal)
				fatal = line;
		} else if (!specific) {
			specific = line;
		}
	}
	const char *chosen = specific ? specific : fatal;
	out[0] = '\0';
	if (!chosen)
		return;
	static const char *const prefixes[] = {"dnsprobe: ", "EAL: ", "FATAL: "};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(chosen, prefixes[i], strlen(prefixes[i])) == 0)
			chosen += strlen(prefixes[i]);
	const char *function_end = strstr(chosen, "(): "); /* drivers write "function(): text" */
	if (function_end && function_end - chosen < 48)
		chosen = function_end + 4;
	snprintf(out, size, "%s", chosen);
	size_t len = strlen(out);
	while (len > 0 && (out[len - 1] == '.' || out[len - 1] == ' ' || out[len - 1] == '\r'))
		out[--len] = '\0';
}

static const char *hint_for(const char *reason, int error)
{
	if (strstr(reason, "hugepage"))
		return "reserve hugepages (see docs/dpdk.md) or, for a test, add --no-huge -m 512 "
		       "to "
		       "the EAL arguments";
	if (strstr(reason, "option") || strstr(reason, "argument") || error == EINVAL)
		return "check the EAL arguments given with --eal or after --";
	if (error == EALREADY)
		return "EAL can start only once per process";
	return "see docs/dpdk.md";
}

/* Runs rte_eal_init with stdout and stderr sent to a memory file; text gets what they held. */
static int init_quietly(int argc, char **argv, char *text, size_t size, int *error)
{
	fflush(stdout);
	fflush(stderr);
	int memory = memfd_create("dnsprobe-eal-output", 0);
	int saved_out = dup(STDOUT_FILENO);
	int saved_err = dup(STDERR_FILENO);
	bool redirected = memory >= 0 && saved_out >= 0 && saved_err >= 0;
	if (redirected) {
		dup2(memory, STDOUT_FILENO);
		dup2(memory, STDERR_FILENO);
	}
	opterr = 1; /* getopt's own line names the argument EAL does not know */
	int rc = rte_eal_init(argc, argv);
	*error = rte_errno;
	text[0] = '\0';
	if (redirected) {
		fflush(stdout);
		fflush(stderr);
		dup2(saved_out, STDOUT_FILENO);
		dup2(saved_err, STDERR_FILENO);
		ssize_t n = pread(memory, text, size - 1, 0);
		text[n > 0 ? n : 0] = '\0';
	}
	if (memory >= 0)
		close(memory);
	if (saved_out >= 0)
		close(saved_out);
	if (saved_err >= 0)
		close(saved_err);
	return rc;
}

static bool asks_for_logs(const struct eal_request *request)
{
	for (int i = 0; i < request->arg_count; i++)
		if (strncmp(request->args[i], "--log-level", 11) == 0)
			return true;
	return false;
}

int eal_start(const struct eal_request *request, char *err, size_t err_size)
{
	affinity_saved = sched_getaffinity(0, sizeof(original_affinity), &original_affinity) == 0;
	if (request->arg_count + 3 > MAX_EAL_ARGS) {
		snprintf(err, err_size, "too many EAL arguments (at most %d)", MAX_EAL_ARGS - 3);
		return -1;
	}
	char *argv[MAX_EAL_ARGS + 1];
	char program[] = "dnsprobe";
	char log_level[] = "--log-level=notice"; /* a later --log-level from the user wins */
	char lcores[LCORE_ARG_SIZE];
	int argc = 0;
	argv[argc++] = program;
	argv[argc++] = log_level;
	if (!chooses_lcores(request) && affinity_saved &&
	    auto_lcores_arg(request->auto_worker_lcores, lcores, sizeof(lcores)) == 0)
		argv[argc++] = lcores;
	for (int i = 0; i < request->arg_count; i++)
		argv[argc++] = request->args[i];
	argv[argc] = NULL;

	int error = 0;
	int rc = init_quietly(argc, argv, startup_text, sizeof(startup_text), &error);
	if (rc >= 0) {
		if (asks_for_logs(request))
			fputs(startup_text, stderr);
		return 0;
	}
	char reason[512];
	eal_startup_complaint(reason, sizeof(reason));
	if (affinity_saved)
		sched_setaffinity(0, sizeof(original_affinity), &original_affinity);
	snprintf(err, err_size, "DPDK EAL did not start: %s%s%s; %s", reason, reason[0] ? ": " : "",
		 rte_strerror(error), hint_for(reason, error));
	return -1;
}

void eal_startup_complaint(char *out, size_t size)
{
	char *text = strdup(startup_text);
	out[0] = '\0';
	if (text)
		pick_reason(text, out, size);
	free(text);
}

void eal_stop(void)
{
	rte_eal_cleanup();
	if (affinity_saved)
		sched_setaffinity(0, sizeof(original_affinity), &original_affinity);
}
