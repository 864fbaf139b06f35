/* The DPDK capture backend: EAL, ports, and one input per rx queue, whose lane loop runs on an
 * lcore of its own. Each burst's mbufs are held until the next burst is asked for, then freed;
 * nothing is passed between threads. */
#include "dpdk_capture.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "clock.h"
#include "dpdk_eal.h"
#include "dpdk_port.h"

#define RX_BURST	      64
#define LINEAR_BUFFER_SIZE    65536 /* per frame of a burst */
#define LINK_TYPE_ETHERNET    1	    /* pcap LINKTYPE_ETHERNET */
#define IDLE_POLLS_BEFORE_NAP 256
#define IDLE_NAP_US	      100
/* Worker lcores EAL gets when the user names none and --workers does not say: enough for the
 * most queues a virtual device here offers (net_pcap, net_af_packet: 16). */
#define AUTO_LCORES_PER_PORT 16

struct dpdk_lane {
	uint16_t port_id;
	uint16_t queue_id;
	unsigned lcore_id;
	bool file_timestamps; /* net_pcap puts the file's microseconds in a dynamic field */
	int timestamp_offset;
	uint64_t timestamp_flag;
	uint8_t *linear; /* frames spread over several mbufs, copied into one piece each */
	struct rte_mbuf *held[RX_BURST]; /* the last burst, freed when the next is asked for */
	uint16_t held_count;
	unsigned idle_polls;
};

struct dpdk_capture {
	struct dpdk_port ports[DPDK_MAX_PORTS];
	int port_count;
	struct port_request request;
	struct dpdk_lane *lanes;
	unsigned lane_count;
	bool launched;
};

/* net_pcap's timestamp: microseconds from libpcap's seconds, which it reads from the file's 32
 * unsigned bits as signed, so times from 2038 on come out negative. Read them as the file meant
 * them, as replay does. */
static int64_t file_time_ns(uint64_t microseconds)
{
	int64_t us = (int64_t)microseconds;
	int64_t seconds = us / 1000000;
	int64_t fraction = us % 1000000;
	if (fraction < 0) {
		fraction += 1000000;
		seconds -= 1;
	}
	if (seconds < 0)
		seconds = (int64_t)(uint32_t)seconds;
	return seconds * 1000000000LL + fraction * 1000;
}

static void to_frames(struct dpdk_lane *dl, struct rte_mbuf **bufs, uint16_t n,
		      struct frame *frames)
{
	int64_t burst_ns = 0; /* the wall clock, read at most once per burst */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = bufs[i];
		struct frame *frame = &frames[i];
		*frame = (struct frame){
		    .data = rte_pktmbuf_mtod(m, const uint8_t *),
		    .caplen = m->data_len,
		    .wirelen = m->pkt_len,
		    .link_type = LINK_TYPE_ETHERNET,
		};
		if (m->nb_segs > 1) {
			uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)LINEAR_BUFFER_SIZE);
			frame->data = rte_pktmbuf_read(m, 0, len,
						       dl->linear + (size_t)i * LINEAR_BUFFER_SIZE);
			frame->caplen = frame->data ? len : 0;
		}
		if (dl->file_timestamps && (m->ol_flags & dl->timestamp_flag)) {
			frame->ts_ns = file_time_ns(
			    *RTE_MBUF_DYNFIELD(m, dl->timestamp_offset, rte_mbuf_timestamp_t *));
		} else {
			if (burst_ns == 0)
				burst_ns = clock_ns(CLOCK_REALTIME);
			frame->ts_ns = burst_ns;
		}
	}
}

static void free_held(struct dpdk_lane *dl)
{
	if (dl->held_count)
		rte_pktmbuf_free_bulk(dl->held, dl->held_count);
	dl->held_count = 0;
}

static int lane_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct dpdk_lane *dl = state;
	free_held(dl);
	uint16_t want = (uint16_t)RTE_MIN(max, (unsigned)RX_BURST);
	uint16_t n = rte_eth_rx_burst(dl->port_id, dl->queue_id, dl->held, want);
	dl->held_count = n;
	if (n > 0) {
		to_frames(dl, dl->held, n, frames);
		dl->idle_polls = 0;
	}
	return n;
}

/* An idle queue costs a nap instead of a spinning core; a busy one never naps. */
static void lane_idle(void *state)
{
	struct dpdk_lane *dl = state;
	if (++dl->idle_polls >= IDLE_POLLS_BEFORE_NAP)
		rte_delay_us_sleep(IDLE_NAP_US);
}

static const char *lane_error(void *state)
{
	(void)state;
	return "the rx queue failed";
}

static void lane_close(void *state)
{
	free_held(state);
}

static const struct capture_ops dpdk_lane_ops = {
    .next_burst = lane_next_burst,
    .error = lane_error,
    .close = lane_close,
    .idle = lane_idle,
};

static void release(struct dpdk_capture *dc)
{
	for (int i = 0; i < dc->port_count; i++)
		dpdk_port_close(&dc->ports[i]);
	for (unsigned i = 0; dc->lanes && i < dc->lane_count; i++) {
		free_held(&dc->lanes[i]);
		free(dc->lanes[i].linear);
	}
	free(dc->lanes);
	free(dc);
	eal_stop();
}

static int find_ports(const struct dpdk_capture_options *o, uint16_t *ids, char *err,
		      size_t err_size)
{
	int count = 0;
	if (o->port_count == 0) {
		uint16_t id;
		RTE_ETH_FOREACH_DEV(id)
		{
			if (count < DPDK_MAX_PORTS)
				ids[count++] = id;
		}
		if (count == 0) {
			char complaint[512];
			eal_startup_complaint(complaint, sizeof(complaint));
			snprintf(err, err_size,
				 "EAL started but found no DPDK port%s%s%s; bind a NIC to vfio-pci "
				 "(dpdk-devbind.py) or give a --vdev",
				 complaint[0] ? " (" : "", complaint, complaint[0] ? ")" : "");
			return -1;
		}
	} else {
		for (int i = 0; i < o->port_count; i++) {
			if (dpdk_port_find(o->ports[i], &ids[count++], err, err_size) != 0) {
				char complaint[512];
				eal_startup_complaint(complaint, sizeof(complaint));
				size_t len = strlen(err);
				if (complaint[0] && len < err_size)
					snprintf(err + len, err_size - len, " (EAL said: %s)",
						 complaint);
				return -1;
			}
		}
	}
	return count;
}

static int setup_ports(struct dpdk_capture *dc, const uint16_t *ids, int count, char *err,
		       size_t err_size)
{
	for (int i = 0; i < count; i++) {
		for (int j = 0; j < i; j++) {
			if (ids[j] == ids[i]) {
				snprintf(err, err_size,
					 "port %u is given twice; give each port once", ids[i]);
				return DPDK_FAILED_USAGE;
			}
		}
		if (dpdk_port_setup(&dc->ports[i], ids[i], &dc->request, err, err_size) != 0)
			return DPDK_FAILED_MACHINE;
		dc->port_count = i + 1;
		dc->lane_count += dc->ports[i].queues;
	}
	return 0;
}

/* Pairs every rx queue with a worker lcore of its own. */
static int assign_lanes(struct dpdk_capture *dc, char *err, size_t err_size)
{
	if (dc->lane_count > rte_lcore_count() - 1 || dc->lane_count > DPDK_MAX_LANES) {
		snprintf(
		    err, err_size,
		    "%u rx queue%s need%s a worker lcore each but EAL has %u besides the main "
		    "one; give EAL one core more than the queues, e.g. -l 0-%u (--lcores can map "
		    "several lcores to one CPU)",
		    dc->lane_count, dc->lane_count == 1 ? "" : "s", dc->lane_count == 1 ? "s" : "",
		    rte_lcore_count() - 1, dc->lane_count);
		return -1;
	}
	dc->lanes = calloc(dc->lane_count, sizeof(*dc->lanes));
	if (!dc->lanes) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	int offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	unsigned lane = 0;
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);
	for (int p = 0; p < dc->port_count; p++) {
		struct dpdk_port *port = &dc->ports[p];
		if (offset < 0 || flag_bit < 0)
			port->pcap_timestamps = false;
		for (uint16_t q = 0; q < port->queues; q++, lane++) {
			struct dpdk_lane *dl = &dc->lanes[lane];
			dl->port_id = port->id;
			dl->queue_id = q;
			dl->lcore_id = lcore;
			dl->file_timestamps = port->pcap_timestamps;
			dl->timestamp_offset = offset;
			dl->timestamp_flag = flag_bit >= 0 ? (UINT64_C(1) << flag_bit) : 0;
			dl->linear = malloc((size_t)RX_BURST * LINEAR_BUFFER_SIZE);
			if (!dl->linear) {
				snprintf(err, err_size, "out of memory");
				return -1;
			}
			lcore = rte_get_next_lcore(lcore, 1, 0);
		}
	}
	return 0;
}

/* Without --port every device EAL finds is used: count the devices the EAL arguments name. */
static unsigned devices_named(const struct dpdk_capture_options *o)
{
	unsigned count = 0;
	for (int i = 0; i < o->eal_arg_count; i++) {
		const char *a = o->eal_args[i];
		if (strncmp(a, "--vdev", 6) == 0 || strcmp(a, "-a") == 0 ||
		    strncmp(a, "--allow", 7) == 0)
			count++;
	}
	return count ? count : 1;
}

int dpdk_capture_start(struct dpdk_capture **out, const struct dpdk_capture_options *o, char *err,
		       size_t err_size)
{
	if (o->port_count > DPDK_MAX_PORTS) {
		snprintf(err, err_size, "at most %d ports; give fewer --port", DPDK_MAX_PORTS);
		return DPDK_FAILED_USAGE;
	}
	unsigned port_guess = o->port_count > 0 ? (unsigned)o->port_count : devices_named(o);
	struct eal_request eal = {
	    .args = o->eal_args,
	    .arg_count = o->eal_arg_count,
	    .auto_worker_lcores =
		port_guess * (o->workers_given ? o->workers : AUTO_LCORES_PER_PORT),
	};
	if (eal.auto_worker_lcores > DPDK_MAX_LANES)
		eal.auto_worker_lcores = DPDK_MAX_LANES;
	if (eal_start(&eal, err, err_size) != 0)
		return DPDK_FAILED_USAGE;

	struct dpdk_capture *dc = calloc(1, sizeof(*dc));
	if (!dc) {
		eal_stop();
		snprintf(err, err_size, "out of memory");
		return DPDK_FAILED_MACHINE;
	}
	dc->request = (struct port_request){
	    .workers = o->workers,
	    .workers_given = o->workers_given,
	    .rx_desc = o->rx_desc,
	    .mempool_size = o->mempool_size,
	    .promiscuous = o->promiscuous,
	    .burst = RX_BURST,
	};
	uint16_t ids[DPDK_MAX_PORTS];
	int count = find_ports(o, ids, err, err_size);
	int rc = count < 0 ? DPDK_FAILED_USAGE : setup_ports(dc, ids, count, err, err_size);
	if (rc == 0 && assign_lanes(dc, err, err_size) != 0)
		rc = DPDK_FAILED_USAGE;
	if (rc != 0) {
		release(dc);
		return rc;
	}
	*out = dc;
	return 0;
}

unsigned dpdk_capture_lane_count(const struct dpdk_capture *dc)
{
	return dc->lane_count;
}

struct capture dpdk_capture_lane(struct dpdk_capture *dc, unsigned index)
{
	return (struct capture){.ops = &dpdk_lane_ops, .state = &dc->lanes[index]};
}

int dpdk_capture_launch(struct dpdk_capture *dc, int (*lane_main)(void *lane), void *const *lanes,
			char *err, size_t err_size)
{
	for (int p = 0; p < dc->port_count; p++)
		if (dpdk_port_start(&dc->ports[p], &dc->request, err, err_size) != 0)
			return -1;
	for (unsigned i = 0; i < dc->lane_count; i++) {
		int rc = rte_eal_remote_launch(lane_main, lanes[i], dc->lanes[i].lcore_id);
		if (rc != 0) {
			snprintf(err, err_size, "cannot launch a worker on lcore %u: %s",
				 dc->lanes[i].lcore_id, rte_strerror(-rc));
			return -1;
		}
		dc->launched = true;
	}
	return 0;
}

void dpdk_capture_print_startup(const struct dpdk_capture *dc, FILE *out)
{
	unsigned lane = 0;
	for (int p = 0; p < dc->port_count; p++) {
		const struct dpdk_port *port = &dc->ports[p];
		char lcores[512] = "";
		size_t len = 0;
		for (uint16_t q = 0; q < port->queues && len < sizeof(lcores); q++, lane++)
			len += (size_t)snprintf(lcores + len, sizeof(lcores) - len, "%s%u",
						q ? "," : "", dc->lanes[lane].lcore_id);
		char line[1024];
		dpdk_port_describe(port, lcores, line, sizeof(line));
		fprintf(out, "dnsprobe: %s\n", line);
	}
}

void dpdk_capture_read_drops(const struct dpdk_capture *dc, struct capture_drops *out)
{
	for (int p = 0; p < dc->port_count; p++)
		dpdk_port_add_stats(&dc->ports[p], out);
}

void dpdk_capture_wait(struct dpdk_capture *dc)
{
	if (dc->launched)
		rte_eal_mp_wait_lcore();
	dc->launched = false;
}

void dpdk_capture_close(struct dpdk_capture *dc)
{
	dpdk_capture_wait(dc);
	release(dc);
}
