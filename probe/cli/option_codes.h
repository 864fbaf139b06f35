/* The registry of long-option codes: every getopt_long code of every command that is not a short
 * option letter, in one enum, so no two options can share a code (two groups once both started at
 * 1100, and --fragment-memory 8 wrote a stats file named "8"). An option that several commands
 * have (--user, --summary-json) has one code for all of them. Add new codes here, nowhere else. */
#ifndef DNSPROBE_OPTION_CODES_H
#define DNSPROBE_OPTION_CODES_H

enum option_code {
	/* Above 255, so no code is ever taken for a short option letter. */
	OPTION_CODE_FIRST = 256,

	/* The sink (sink_options.h): replay and capture */
	SINK_OPT_OUTPUT = OPTION_CODE_FIRST,
	SINK_OPT_BROKERS,
	SINK_OPT_TOPIC,
	SINK_OPT_KAFKA_SETTING,
	SINK_OPT_KAFKA_CONFIG,
	SINK_OPT_KAFKA_TIMESTAMP,
	SINK_OPT_KEY_FORMAT,
	SINK_OPT_FORMAT,
	SINK_OPT_ON_FULL,
	SINK_OPT_FLUSH_TIMEOUT,
	SINK_OPT_DISCARD,

	/* Monitoring (stats_report.h): replay and capture */
	STATS_OPT_INTERVAL,
	STATS_OPT_FILE,
	STATS_OPT_METRICS_LISTEN,

	/* Reassembly bounds (reassembly_options.h): replay and capture */
	REASSEMBLY_OPT_FRAGMENT_DATAGRAMS,
	REASSEMBLY_OPT_FRAGMENT_MEMORY,
	REASSEMBLY_OPT_FRAGMENT_TIMEOUT,
	REASSEMBLY_OPT_TCP_STREAMS,
	REASSEMBLY_OPT_TCP_MEMORY,
	REASSEMBLY_OPT_TCP_TIMEOUT,

	/* Records: matching and the observer (record_options.h): replay and capture */
	RECORD_OPT_RESPONSE_TIMEOUT,
	RECORD_OPT_MATCH_QUERIES,
	RECORD_OPT_OBSERVER_NAME,

	/* Policy: classification, drop, rate limit (policy_options.h): replay and capture */
	POLICY_OPT_CLASSIFY,
	POLICY_OPT_DROP_CATEGORY,
	POLICY_OPT_RATE_LIMIT,
	POLICY_OPT_RATE_LIMIT_PER_CLIENT,

	/* Shared by replay and capture (and listen: --summary-json) */
	OPT_USER,
	OPT_SUMMARY_JSON,
	OPT_DNS_PORT,
	OPT_CONFIG,

	/* replay */
	OPT_SPEED,
	OPT_LOOP,

	/* capture */
	OPT_PORT,
	OPT_EAL,
	OPT_BACKEND,
	OPT_WORKERS,
	OPT_SNAPLEN,
	OPT_DURATION,
	OPT_IDLE_EXIT,
	OPT_RX_DESC,
	OPT_MEMPOOL_SIZE,

	/* listen */
	OPT_DNSTAP,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_FRAME_SIZE,
	OPT_SOCKET_MODE,
	OPT_SOCKET_GROUP,

	/* check */
	OPT_FIX,
	OPT_JSON,
	OPT_DPDK,
};

#endif
