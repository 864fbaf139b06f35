/* Live capture through libpcap: one activated handle per worker, nanosecond timestamps, a BPF
 * filter, and PACKET_FANOUT so the kernel's symmetric flow hash sends both directions of a flow to
 * the same handle. */
#include "pcap_live.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "capture_time.h"
#include "frame_arena.h"

/* How long a worker waits for packets (live_idle) before it looks around; also the kernel's
 * block timeout. */
#define READ_TIMEOUT_MS 100
#define MAX_FILTER_LEN	8192
/* After an error, the ring is read until it stays empty this many naps: the kernel retires a
 * partly filled block READ_TIMEOUT_MS after its first packet. */
#define DRAIN_QUIET_TRIES 8
#define DRAIN_NAP_NS	  25000000L
/* A burst of DNS-sized frames fits with room to spare; larger frames end a burst early. */
#define TYPICAL_BURST_BYTES (CAPTURE_BURST * 2048)

struct pcap_live {
	pcap_t *handle;
	int link_type;
	bool nanoseconds;
	int fanout_group;
	int selectable_fd;     /* the packet socket, to wait on; -1 if libpcap has none */
	struct pcap_stat last; /* libpcap's 32-bit counters at the last look */
	struct {
		uint64_t received, dropped, interface_dropped;
	} total; /* libpcap's counters widened to 64 bits (they wrap) */
	/* libpcap hands a frame out of its ring only for the callback: the burst is copied */
	struct frame_arena arena;
	struct frame *burst;
	unsigned burst_count;
	char interface[64];
	char error[PCAP_ERRBUF_SIZE + 128];
};

static void collect(u_char *user, const struct pcap_pkthdr *header, const u_char *data)
{
	struct pcap_live *live = (struct pcap_live *)user;
	int64_t fraction = header->ts.tv_usec;
	if (!live->nanoseconds)
		fraction *= 1000;
	uint32_t caplen =
	    header->caplen < FRAME_ARENA_MAX_FRAME ? header->caplen : FRAME_ARENA_MAX_FRAME;
	live->burst[live->burst_count++] = (struct frame){
	    .data = frame_arena_copy(&live->arena, data, caplen),
	    .caplen = caplen,
	    .wirelen = header->len,
	    .ts_ns = capture_time_ns(header->ts.tv_sec, fraction),
	    .link_type = live->link_type,
	};
	/* Large frames: end the burst while the largest still fits. Rare with DNS. */
	if (!frame_arena_has_room(&live->arena))
		pcap_breakloop(live->handle);
}

/* One pcap_dispatch into frames; returns the frames collected, or -1 on an error. */
static int dispatch_into(struct pcap_live *live, struct frame *frames, int max)
{
	frame_arena_reset(&live->arena);
	live->burst = frames;
	live->burst_count = 0;
	int n = pcap_dispatch(live->handle, max, collect, (u_char *)live);
	if (n < 0 && n != PCAP_ERROR_BREAK)
		return -1;
	return (int)live->burst_count;
}

static int live_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct pcap_live *live = state;
	int n = dispatch_into(live, frames, (int)max);
	if (n >= 0)
		return n;
	snprintf(live->error, sizeof(live->error), "%s: %s", live->interface,
		 pcap_geterr(live->handle));
	return CAPTURE_ERROR;
}

static void update_stats(struct pcap_live *live)
{
	struct pcap_stat now;
	if (pcap_stats(live->handle, &now) != 0)
		return;
	/* Unsigned differences stay right across one wrap of libpcap's 32-bit counters. */
	live->total.received += (u_int)(now.ps_recv - live->last.ps_recv);
	live->total.dropped += (u_int)(now.ps_drop - live->last.ps_drop);
	live->total.interface_dropped += (u_int)(now.ps_ifdrop - live->last.ps_ifdrop);
	live->last = now;
}

static void live_drops(void *state, struct capture_drops *out)
{
	struct pcap_live *live = state;
	update_stats(live);
	*out = (struct capture_drops){
	    .source = DROPS_KERNEL,
	    .received = live->total.received,
	    .kernel_dropped = live->total.dropped,
	    .interface_dropped = live->total.interface_dropped,
	};
}

static const char *live_error(void *state)
{
	return ((struct pcap_live *)state)->error;
}

static void live_close(void *state)
{
	struct pcap_live *live = state;
	pcap_close(live->handle);
	frame_arena_free(&live->arena);
	free(live);
}

/* After an error (the interface went away): what is still in the kernel's ring, read until it
 * stays empty for a while. */
static int live_drain(void *state, struct frame *frames, unsigned max)
{
	struct pcap_live *live = state;
	char ignored[PCAP_ERRBUF_SIZE];
	pcap_setnonblock(live->handle, 1, ignored);
	for (int quiet = 0; quiet < DRAIN_QUIET_TRIES; quiet++) {
		int n = dispatch_into(live, frames, (int)max);
		if (n > 0)
			return n;
		nanosleep(&(struct timespec){.tv_nsec = DRAIN_NAP_NS}, NULL);
	}
	return 0;
}

/* After a burst that found nothing, with nothing of --count claimed: waits here (one read
 * timeout at most) until the ring has packets, rather than in pcap_dispatch holding a share of
 * --count that a busy worker needs (with two workers and every packet on one of them, --count
 * was never reached). An error on the socket (the interface went away) ends the wait too, and
 * the next receive reports it. */
static void live_idle(void *state)
{
	struct pcap_live *live = state;
	if (live->selectable_fd < 0)
		return;
	struct pollfd ring = {.fd = live->selectable_fd, .events = POLLIN};
	poll(&ring, 1, READ_TIMEOUT_MS);
}

static void live_wake(void *state)
{
	pcap_breakloop(((struct pcap_live *)state)->handle);
}

static const struct capture_ops pcap_live_ops = {
    .next_burst = live_next_burst,
    .error = live_error,
    .close = live_close,
    .drops = live_drops,
    .drain = live_drain,
    .wake = live_wake,
    .idle = live_idle,
};

static int append(char *out, size_t size, size_t *len, const char *text)
{
	int n = snprintf(out + *len, size - *len, "%s", text);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* "udp port 53 or tcp port 53 or ... or (ip[6:2] & 0x3fff != 0) or ip6[6] = 44" */
static int dns_expression(const struct port_set *dns_ports, char *out, size_t size, size_t *len)
{
	for (unsigned port = 1; port < 65536; port++) {
		if (!port_set_has(dns_ports, (uint16_t)port))
			continue;
		char term[48];
		snprintf(term, sizeof(term), "udp port %u or tcp port %u or ", port, port);
		if (append(out, size, len, term) != 0)
			return -1;
	}
	return append(out, size, len, "(ip[6:2] & 0x3fff != 0) or ip6[6] = 44");
}

static int udp_ports_expression(const struct port_set *ports, char *out, size_t size, size_t *len)
{
	for (unsigned port = 1; ports && port < 65536; port++) {
		if (!port_set_has(ports, (uint16_t)port))
			continue;
		char term[32];
		snprintf(term, sizeof(term), " or udp dst port %u", port);
		if (append(out, size, len, term) != 0)
			return -1;
	}
	return 0;
}

struct pcap_live_filter_ports {
	const struct port_set *dns;
	const struct port_set *vxlan;
	const struct port_set *geneve;
};

/* GRE (ERSPAN rides in it), IPv4 and IPv6 in IPv4 or IPv6, MPLS unicast and multicast. "mpls"
 * is not used: it moves the offsets of what follows it in the expression. */
static const char tunnel_terms[] = " or ip proto 47 or ip proto 4 or ip proto 41 or ip6 proto 47 "
				   "or ip6 proto 4 or ip6 proto 41";
static const char mpls_terms[] = " or ether proto 0x8847 or ether proto 0x8848";

static int plain_expression(const struct pcap_live_filter_ports *ports, bool with_mpls, char *out,
			    size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	if (dns_expression(ports->dns, out, size, &len) != 0 ||
	    udp_ports_expression(ports->vxlan, out, size, &len) != 0 ||
	    udp_ports_expression(ports->geneve, out, size, &len) != 0 ||
	    append(out, size, &len, tunnel_terms) != 0)
		return -1;
	return with_mpls ? append(out, size, &len, mpls_terms) : 0;
}

int pcap_live_default_filter(const struct port_set *dns_ports, const struct port_set *vxlan_ports,
			     const struct port_set *geneve_ports, bool with_vlan, char *out,
			     size_t size)
{
	const struct pcap_live_filter_ports ports = {dns_ports, vxlan_ports, geneve_ports};
	char plain[MAX_FILTER_LEN];
	if (plain_expression(&ports, with_vlan, plain, sizeof(plain)) != 0)
		return -1;
	int n = with_vlan ? snprintf(out, size, "%s or (vlan and (%s))", plain, plain)
			  : snprintf(out, size, "%s", plain);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void explain_activate_failure(pcap_t *handle, int rc, const struct pcap_live_options *o,
				     char *err, size_t err_size)
{
	const char *iface = o->interface;
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(err, err_size,
			 "interface %s does not exist; list the interfaces with 'ip link show'",
			 iface);
		return;
	case PCAP_ERROR_PERM_DENIED:
		snprintf(err, err_size,
			 "no permission to capture on %s (%s); run as root or give dnsprobe "
			 "CAP_NET_RAW and CAP_NET_ADMIN",
			 iface, pcap_geterr(handle));
		return;
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		snprintf(err, err_size,
			 "no permission to put %s in promiscuous mode; run as root or add "
			 "--no-promisc",
			 iface);
		return;
	case PCAP_ERROR_IFACE_NOT_UP:
		snprintf(err, err_size,
			 "interface %s is down; bring it up with 'ip link set %s up'", iface,
			 iface);
		return;
	default:
		snprintf(err, err_size, "cannot capture on %s: %s", iface, pcap_geterr(handle));
		return;
	}
}

static int set_filter(struct pcap_live *live, const struct pcap_live_options *o, char *err,
		      size_t err_size)
{
	struct bpf_program program;
	char expression[2 * MAX_FILTER_LEN + 32];
	if (o->filter) {
		if (pcap_compile(live->handle, &program, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, err_size,
				 "--filter '%s': %s; give a tcpdump filter expression, e.g. 'udp "
				 "port 53'",
				 o->filter, pcap_geterr(live->handle));
			return -1;
		}
	} else {
		/* The VLAN form does not compile on link types without VLAN tags. */
		if (pcap_live_default_filter(o->dns_ports, o->vxlan_ports, o->geneve_ports, true,
					     expression, sizeof(expression)) != 0 ||
		    pcap_compile(live->handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) !=
			0) {
			if (pcap_live_default_filter(o->dns_ports, o->vxlan_ports, o->geneve_ports,
						     false, expression, sizeof(expression)) != 0 ||
			    pcap_compile(live->handle, &program, expression, 1,
					 PCAP_NETMASK_UNKNOWN) != 0) {
				snprintf(err, err_size,
					 "cannot build the default filter on %s: %s; give one "
					 "with --filter",
					 o->interface, pcap_geterr(live->handle));
				return -1;
			}
		}
	}
	int rc = pcap_setfilter(live->handle, &program);
	pcap_freecode(&program);
	if (rc != 0) {
		snprintf(err, err_size, "cannot set the filter on %s: %s", o->interface,
			 pcap_geterr(live->handle));
		return -1;
	}
	return 0;
}

/* Joins the handle's socket to the probe's fanout group: the kernel hashes each packet's flow
 * (the same for both directions, after reassembling IPv4 fragments) to pick one handle. A new
 * group gets a kernel-chosen free id, so two probes on one interface never share a group. */
static int join_fanout(struct pcap_live *live, const struct pcap_live_options *o, char *err,
		       size_t err_size)
{
	int fd = pcap_fileno(live->handle);
	uint32_t flags = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
	uint32_t id = (uint32_t)o->fanout_group;
	if (o->fanout_group == PCAP_LIVE_NEW_FANOUT_GROUP) {
		flags |= PACKET_FANOUT_FLAG_UNIQUEID;
		id = 0;
	}
	uint32_t fanout = (id & 0xffff) | (flags << 16);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) != 0) {
		snprintf(err, err_size,
			 "cannot join a PACKET_FANOUT group on %s: %s; run one worker "
			 "(--workers 1)",
			 o->interface, strerror(errno));
		return -1;
	}
	socklen_t len = sizeof(fanout);
	if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, &len) != 0) {
		snprintf(err, err_size, "cannot read the PACKET_FANOUT group on %s: %s",
			 o->interface, strerror(errno));
		return -1;
	}
	live->fanout_group = (int)(fanout & 0xffff);
	return 0;
}

int pcap_live_fanout_group(const struct capture *capture)
{
	return ((const struct pcap_live *)capture->state)->fanout_group;
}

static int configure(struct pcap_live *live, const struct pcap_live_options *o, char *err,
		     size_t err_size)
{
	pcap_t *h = live->handle;
	pcap_set_snaplen(h, o->snaplen);
	pcap_set_promisc(h, o->promiscuous ? 1 : 0);
	pcap_set_timeout(h, READ_TIMEOUT_MS);
	pcap_set_buffer_size(h, (int)(o->buffer_kib * 1024));
	live->nanoseconds = pcap_set_tstamp_precision(h, PCAP_TSTAMP_PRECISION_NANO) == 0;
	int rc = pcap_activate(h);
	if (rc < 0) {
		explain_activate_failure(h, rc, o, err, err_size);
		return -1;
	}
	live->link_type = pcap_datalink(h);
	live->selectable_fd = pcap_get_selectable_fd(h);
	/* A receive never waits (the worker waits in live_idle, holding no share of --count):
	 * with TPACKET_V3 a blocking receive on a quiet ring waits until a packet comes, however
	 * long, since the kernel retires no empty block. */
	char nonblock_error[PCAP_ERRBUF_SIZE];
	if (live->selectable_fd >= 0 && pcap_setnonblock(h, 1, nonblock_error) != 0) {
		snprintf(err, err_size, "cannot capture on %s: %s", o->interface, nonblock_error);
		return -1;
	}
	if (set_filter(live, o, err, err_size) != 0)
		return -1;
	if (o->fanout && join_fanout(live, o, err, err_size) != 0)
		return -1;
	return 0;
}

int pcap_live_open(struct capture *capture, const struct pcap_live_options *o, char *err,
		   size_t err_size)
{
	char pcap_error[PCAP_ERRBUF_SIZE] = "";
	struct pcap_live *live = calloc(1, sizeof(*live));
	if (live && !frame_arena_init(&live->arena, TYPICAL_BURST_BYTES)) {
		free(live);
		live = NULL;
	}
	if (!live) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	snprintf(live->interface, sizeof(live->interface), "%s", o->interface);
	live->handle = pcap_create(o->interface, pcap_error);
	if (!live->handle) {
		snprintf(err, err_size, "cannot capture on %s: %s", o->interface, pcap_error);
		frame_arena_free(&live->arena);
		free(live);
		return -1;
	}
	if (configure(live, o, err, err_size) != 0) {
		pcap_close(live->handle);
		frame_arena_free(&live->arena);
		free(live);
		return -1;
	}
	capture->ops = &pcap_live_ops;
	capture->state = live;
	return 0;
}
