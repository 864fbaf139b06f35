/* Port set-up for capture: queues, symmetric RSS, rx rings, mempool, statistics. Set-up stays
 * here, out of the receive loop (as in DPDK's l2fwd/l3fwd examples). */
#include "dpdk_port.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_flow.h>
#include <rte_mbuf.h>

#define DEFAULT_RX_DESC	    1024
#define DEFAULT_RSS_KEY_LEN 40
#define MAX_RSS_KEY_LEN	    255
#define MEMPOOL_CACHE	    256
#define WANTED_RSS_TYPES    (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)

/* Drivers whose rx queues are separate sources, not one stream split by hash: net_pcap reads one
 * file per queue, net_af_packet gives one socket per queue in a kernel fanout group hashed by
 * flow. Each queue keeps its flows together as it was fed. */
static bool driver_has_source_queues(const char *driver)
{
	return strcmp(driver, "net_pcap") == 0 || strcmp(driver, "net_af_packet") == 0;
}

static void list_ports(char *out, size_t size)
{
	size_t len = 0;
	uint16_t id;
	out[0] = '\0';
	RTE_ETH_FOREACH_DEV(id)
	{
		char name[RTE_ETH_NAME_MAX_LEN] = "";
		rte_eth_dev_get_name_by_port(id, name);
		int n = snprintf(out + len, size - len, "%s%u (%s)", len ? ", " : "", id, name);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
	if (len == 0)
		snprintf(out, size, "none: bind a NIC with dpdk-devbind.py or give --vdev");
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int dpdk_port_find(const char *spec, uint16_t *id, char *err, size_t err_size)
{
	if (all_digits(spec)) {
		unsigned long n = strtoul(spec, NULL, 10);
		if (n < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)n)) {
			*id = (uint16_t)n;
			return 0;
		}
	} else if (rte_eth_dev_get_port_by_name(spec, id) == 0) {
		return 0;
	} else {
		char full_pci[RTE_ETH_NAME_MAX_LEN];
		snprintf(full_pci, sizeof(full_pci), "0000:%s", spec);
		if (rte_eth_dev_get_port_by_name(full_pci, id) == 0)
			return 0;
	}
	char ports[512];
	list_ports(ports, sizeof(ports));
	snprintf(err, err_size, "--port %s: no such DPDK port; ports EAL found: %s", spec, ports);
	return -1;
}

/* Chooses how many queues and how flows are kept together on them. */
static int plan_queues(struct dpdk_port *port, const struct rte_eth_dev_info *info,
		       const struct port_request *request, char *err, size_t err_size)
{
	port->rss_types = info->flow_type_rss_offloads & WANTED_RSS_TYPES;
	if (driver_has_source_queues(port->driver)) {
		port->placement = PLACEMENT_DRIVER_QUEUES;
		port->queues = info->max_rx_queues;
	} else if (port->rss_types && request->workers > 1) {
		port->placement = PLACEMENT_RSS;
		port->queues = (uint16_t)request->workers;
		if (request->workers > info->max_rx_queues) {
			snprintf(err, err_size,
				 "port %u (%s) has at most %u rx queues; give --workers %u or less",
				 port->id, port->name, info->max_rx_queues, info->max_rx_queues);
			return -1;
		}
	} else {
		port->placement = PLACEMENT_ONE_QUEUE;
		port->queues = 1;
	}
	if (port->queues == 0) {
		snprintf(err, err_size, "port %u (%s) has no rx queue to capture from", port->id,
			 port->name);
		return -1;
	}
	port->workers_ignored = request->workers_given && request->workers != port->queues;
	return 0;
}

static void fill_symmetric_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (i % 2 == 0) ? 0x6d : 0x5a;
}

static int configure(struct dpdk_port *port, const struct rte_eth_dev_info *info, char *err,
		     size_t err_size)
{
	static uint8_t key[MAX_RSS_KEY_LEN];
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (port->placement == PLACEMENT_RSS) {
		port->rss_key_len = info->hash_key_size ? info->hash_key_size : DEFAULT_RSS_KEY_LEN;
		fill_symmetric_key(key, port->rss_key_len);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = port->rss_key_len;
		conf.rx_adv_conf.rss_conf.rss_hf = port->rss_types;
	}
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	int rc = rte_eth_dev_configure(port->id, port->queues, 0, &conf);
	if (rc != 0) {
		snprintf(err, err_size, "cannot configure port %u (%s) with %u rx queues: %s",
			 port->id, port->name, port->queues, rte_strerror(-rc));
		return -1;
	}
	return 0;
}

/* The mempool holds every ring full twice over, plus a burst and a cache per worker. */
static int create_mempool(struct dpdk_port *port, const struct port_request *request, int socket,
			  char *err, size_t err_size)
{
	unsigned needed =
	    2u * port->rx_desc * port->queues + port->queues * (request->burst + MEMPOOL_CACHE);
	if (request->mempool_size && request->mempool_size < needed) {
		snprintf(err, err_size,
			 "--mempool-size %u is too small for port %u: twice its %u x %u rx "
			 "descriptors plus a burst and a cache per queue make %u; give at least %u",
			 request->mempool_size, port->id, port->queues, port->rx_desc, needed,
			 needed);
		return -1;
	}
	port->mbufs = request->mempool_size ? request->mempool_size : needed;
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "dnsprobe_rx_%u", port->id);
	port->pool = rte_pktmbuf_pool_create(name, port->mbufs, MEMPOOL_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!port->pool) {
		unsigned mib = (unsigned)(((uint64_t)port->mbufs *
					   (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(struct rte_mbuf))) >>
					  20);
		snprintf(err, err_size,
			 "not enough DPDK memory for %u mbufs (about %u MiB) for port %u: %s; give "
			 "EAL more memory (-m MB, or more hugepages) or lower --rx-desc",
			 port->mbufs, mib ? mib : 1, port->id, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static uint16_t wanted_rx_desc(const struct port_request *request,
			       const struct rte_eth_dev_info *info)
{
	if (request->rx_desc)
		return (uint16_t)request->rx_desc;
	if (info->default_rxportconf.ring_size)
		return info->default_rxportconf.ring_size;
	return DEFAULT_RX_DESC;
}

static int setup_rings(struct dpdk_port *port, const struct rte_eth_dev_info *info,
		       const struct port_request *request, char *err, size_t err_size)
{
	uint16_t rx_desc = wanted_rx_desc(request, info);
	uint16_t tx_desc = 0;
	int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port->id, &rx_desc, &tx_desc);
	if (rc != 0) {
		snprintf(err, err_size, "port %u (%s) refuses %u rx descriptors: %s", port->id,
			 port->name, rx_desc, rte_strerror(-rc));
		return -1;
	}
	port->rx_desc = rx_desc;
	int socket = rte_eth_dev_socket_id(port->id);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	if (create_mempool(port, request, socket, err, err_size) != 0)
		return -1;
	struct rte_eth_rxconf rxconf = info->default_rxconf;
	rxconf.offloads = info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	for (uint16_t q = 0; q < port->queues; q++) {
		rc = rte_eth_rx_queue_setup(port->id, q, port->rx_desc, (unsigned)socket, &rxconf,
					    port->pool);
		if (rc != 0) {
			snprintf(err, err_size, "cannot set up rx queue %u of port %u (%s): %s", q,
				 port->id, port->name, rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

int dpdk_port_setup(struct dpdk_port *port, uint16_t id, const struct port_request *request,
		    char *err, size_t err_size)
{
	memset(port, 0, sizeof(*port));
	port->id = id;
	rte_eth_dev_get_name_by_port(id, port->name);
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(id, &info);
	if (rc != 0) {
		snprintf(err, err_size, "cannot read port %u (%s): %s", id, port->name,
			 rte_strerror(-rc));
		return -1;
	}
	snprintf(port->driver, sizeof(port->driver), "%s",
		 info.driver_name ? info.driver_name : "unknown");
	port->pcap_timestamps = strcmp(port->driver, "net_pcap") == 0;
	if (plan_queues(port, &info, request, err, err_size) != 0 ||
	    configure(port, &info, err, err_size) != 0 ||
	    setup_rings(port, &info, request, err, err_size) != 0) {
		dpdk_port_close(port);
		return -1;
	}
	return 0;
}

/* Asks the driver for the symmetric Toeplitz hash function through rte_flow; the symmetric key
 * alone already keeps flows together where the driver offers no such rule. */
static bool add_symmetric_flow_rule(struct dpdk_port *port)
{
	uint8_t key[MAX_RSS_KEY_LEN];
	uint16_t queue_ids[RTE_MAX_QUEUES_PER_PORT];
	fill_symmetric_key(key, port->rss_key_len);
	for (uint16_t q = 0; q < port->queues; q++)
		queue_ids[q] = q;
	const struct rte_flow_attr attr = {.ingress = 1};
	const struct rte_flow_item pattern[] = {
	    {.type = RTE_FLOW_ITEM_TYPE_ETH},
	    {.type = RTE_FLOW_ITEM_TYPE_END},
	};
	const struct rte_flow_action_rss rss = {
	    .func = RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ,
	    .types = port->rss_types,
	    .key_len = port->rss_key_len,
	    .key = key,
	    .queue_num = port->queues,
	    .queue = queue_ids,
	};
	const struct rte_flow_action actions[] = {
	    {.type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss},
	    {.type = RTE_FLOW_ACTION_TYPE_END},
	};
	struct rte_flow_error error;
	if (rte_flow_validate(port->id, &attr, pattern, actions, &error) != 0)
		return false;
	return rte_flow_create(port->id, &attr, pattern, actions, &error) != NULL;
}

int dpdk_port_start(struct dpdk_port *port, const struct port_request *request, char *err,
		    size_t err_size)
{
	int rc = rte_eth_dev_start(port->id);
	if (rc != 0) {
		snprintf(err, err_size, "cannot start port %u (%s): %s", port->id, port->name,
			 rte_strerror(-rc));
		return -1;
	}
	port->started = true;
	if (request->promiscuous) {
		rc = rte_eth_promiscuous_enable(port->id);
		if (rc != 0 && rc != -ENOTSUP) {
			snprintf(
			    err, err_size,
			    "cannot put port %u (%s) in promiscuous mode: %s; add --no-promisc",
			    port->id, port->name, rte_strerror(-rc));
			return -1;
		}
	}
	if (port->placement == PLACEMENT_RSS)
		port->rss_by_flow_rule = add_symmetric_flow_rule(port);
	return 0;
}

void dpdk_port_add_stats(const struct dpdk_port *port, struct capture_drops *drops)
{
	struct rte_eth_stats stats;
	drops->source = DROPS_NIC;
	if (rte_eth_stats_get(port->id, &stats) != 0)
		return;
	drops->received += stats.ipackets;
	drops->nic_missed += stats.imissed;
	drops->nic_errors += stats.ierrors;
	drops->nic_no_mbuf += stats.rx_nombuf;
}

static void describe_placement(const struct dpdk_port *port, char *out, size_t size)
{
	switch (port->placement) {
	case PLACEMENT_RSS:
		snprintf(out, size,
			 "RSS over IPv4/IPv6/UDP/TCP with the symmetric Toeplitz key (0x6d5a, %u "
			 "bytes)%s keeps both directions of a flow on one queue",
			 port->rss_key_len,
			 port->rss_by_flow_rule ? " and an rte_flow symmetric hash rule" : "");
		return;
	case PLACEMENT_DRIVER_QUEUES:
		snprintf(out, size,
			 "no RSS: one worker per queue as %s gives them (%s), so flows stay "
			 "together as the queues were fed",
			 port->driver,
			 strcmp(port->driver, "net_pcap") == 0
			     ? "one queue per rx_pcap file"
			     : "one socket per queue in a kernel fanout group hashed by flow");
		return;
	case PLACEMENT_ONE_QUEUE:
		snprintf(out, size, "%s: one worker on one queue keeps flows together",
			 port->rss_types ? "one worker asked for" : "no RSS on this port");
		return;
	}
}

void dpdk_port_describe(const struct dpdk_port *port, const char *lcores, char *out, size_t size)
{
	char placement[256];
	describe_placement(port, placement, sizeof(placement));
	char ignored[64] = "";
	if (port->workers_ignored)
		snprintf(ignored, sizeof(ignored), " (--workers does not apply)");
	snprintf(out, size,
		 "DPDK port %u (%s, %s): %u rx queue%s on lcore%s %s%s; %s; %u rx descriptors "
		 "per queue, %u mbufs; timestamps %s",
		 port->id, port->name, port->driver, port->queues, port->queues == 1 ? "" : "s",
		 port->queues == 1 ? "" : "s", lcores, ignored, placement, port->rx_desc,
		 port->mbufs,
		 port->pcap_timestamps ? "from the capture file" : "taken once per burst");
}

void dpdk_port_close(struct dpdk_port *port)
{
	if (port->started) {
		rte_eth_dev_stop(port->id);
		port->started = false;
	}
	if (port->rss_by_flow_rule) {
		struct rte_flow_error error;
		rte_flow_flush(port->id, &error);
	}
	rte_eth_dev_close(port->id);
	if (port->pool) {
		rte_mempool_free(port->pool);
		port->pool = NULL;
	}
}
