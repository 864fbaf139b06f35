/* The checks behind "dnsprobe check": can a capture on this interface be trusted? Each check reads
 * the kernel directly (SIOCETHTOOL and SIOCGIFFLAGS ioctls, sysfs, /proc) and ends OK, WARN or
 * FAIL, with the exact command that fixes what is wrong. With fix set, GRO and LRO are turned
 * off and the results say what changed. */
#ifndef DNSPROBE_IFACE_CHECK_H
#define DNSPROBE_IFACE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

#define CHECK_MAX_RESULTS 24

struct check_result {
	char name[24];
	enum check_status status;
	char detail[400];
	char fix[200]; /* the command that fixes it; "" when there is none */
	bool changed;  /* the fix option changed this setting */
};

struct check_report {
	struct check_result results[CHECK_MAX_RESULTS];
	int count;
};

struct iface_check_options {
	const char *target;  /* interface name, or a PCI address (0000:03:00.0) for DPDK */
	uint64_t buffer_kib; /* the capture's -B: kernel ring size per worker, in KiB */
	unsigned workers;
	bool fix;  /* turn GRO and LRO off */
	bool dpdk; /* check DPDK readiness in full (implied by a PCI address) */
};

/* Runs every check that applies; a missing target gives one FAIL result and nothing else. */
void iface_check_run(const struct iface_check_options *o, struct check_report *report);

const char *check_status_name(enum check_status status);

/* The worst status in the report (CHECK_OK for an empty one). */
enum check_status check_report_worst(const struct check_report *report);

#endif
