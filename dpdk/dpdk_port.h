/* One DPDK port set up for capture: how many rx queues and how flows are kept together on them
 * (symmetric RSS, the driver's own queues, or one queue), its mempool, and its statistics. */
#ifndef DNSPROBE_DPDK_PORT_H
#define DNSPROBE_DPDK_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "capture.h"

enum flow_placement {
	PLACEMENT_RSS,		 /* the NIC hashes with the symmetric key */
	PLACEMENT_DRIVER_QUEUES, /* the driver's queues are separate sources (files, fanout) */
	PLACEMENT_ONE_QUEUE	 /* no RSS: one queue, one worker */
};

struct port_request {
	unsigned workers; /* rx queues wanted on an RSS port */
	bool workers_given;
	unsigned rx_desc;      /* 0: the driver's preferred ring size */
	unsigned mempool_size; /* 0: sized from the rings */
	bool promiscuous;
	unsigned burst;
};

struct dpdk_port {
	uint16_t id;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[64];
	enum flow_placement placement;
	bool workers_ignored; /* --workers asked for another number of queues */
	uint16_t queues;
	uint16_t rx_desc;
	unsigned mbufs;
	uint8_t rss_key_len;
	uint64_t rss_types;
	bool rss_by_flow_rule; /* an rte_flow rule asks for the symmetric Toeplitz function */
	bool pcap_timestamps;  /* net_pcap: the file's timestamps are in each mbuf */
	bool started;
	struct rte_mempool *pool;
};

/* Finds a port by number, by PCI address or by device name (e.g. net_pcap0). */
int dpdk_port_find(const char *spec, uint16_t *id, char *err, size_t err_size);

/* Plans queues and rings, creates the mempool and configures the port (not started yet). */
int dpdk_port_setup(struct dpdk_port *port, uint16_t id, const struct port_request *request,
		    char *err, size_t err_size);

/* Starts the port and puts it in promiscuous mode when asked. */
int dpdk_port_start(struct dpdk_port *port, const struct port_request *request, char *err,
		    size_t err_size);

/* Adds the port's counters (ipackets, imissed, ierrors, rx_nombuf). */
void dpdk_port_add_stats(const struct dpdk_port *port, struct capture_drops *drops);

/* The start-up line: queues, how flows stay together, rings, mempool. */
void dpdk_port_describe(const struct dpdk_port *port, const char *lcores, char *out, size_t size);

/* Stops and closes the port and frees its mempool. */
void dpdk_port_close(struct dpdk_port *port);

#endif
