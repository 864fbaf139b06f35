/* Interface checks for a trustworthy capture, read straight from the kernel: SIOCETHTOOL for
 * driver, link, offloads, rings and channels; SIOCGIFFLAGS; sysfs for state, NUMA node and PCI
 * driver; /proc for memory and mounts. An ioctl a driver does not implement gives a "not
 * reported" line, never a failure. */
#include "iface_check.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_MODE_MAX_NWORDS 127 /* SCHAR_MAX: the most the kernel may ask for */
#define SUGGESTED_HUGEPAGES  512 /* 1 GiB of 2 MiB pages */
#define CHECK_TEXT_SIZE	     256

/* The interface being checked and the socket its ioctls go through. */
struct iface {
	const char *name;
	int fd;
	unsigned feature_count; /* 0 when ETHTOOL_GFEATURES did not answer */
	char (*feature_names)[ETH_GSTRING_LEN];
	struct ethtool_get_features_block *feature_blocks;
};

static const char *const status_names[] = {"OK", "WARN", "FAIL"};

const char *check_status_name(enum check_status status)
{
	return status_names[status];
}

enum check_status check_report_worst(const struct check_report *report)
{
	enum check_status worst = CHECK_OK;
	for (int i = 0; i < report->count; i++)
		if (report->results[i].status > worst)
			worst = report->results[i].status;
	return worst;
}

static struct check_result *add_result(struct check_report *report, enum check_status status,
				       const char *name, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static struct check_result *add_result(struct check_report *report, enum check_status status,
				       const char *name, const char *format, ...)
{
	static struct check_result overflow;
	struct check_result *r =
	    report->count < CHECK_MAX_RESULTS ? &report->results[report->count++] : &overflow;
	memset(r, 0, sizeof(*r));
	r->status = status;
	snprintf(r->name, sizeof(r->name), "%s", name);
	va_list args;
	va_start(args, format);
	vsnprintf(r->detail, sizeof(r->detail), format, args);
	va_end(args);
	return r;
}

/* --- reading files of sysfs and /proc --- */

/* Reads the first line of a file, without its newline; false when it cannot be read. */
static bool read_line(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		out[strcspn(out, "\n")] = '\0';
	return ok;
}

static bool read_long(const char *path, long *out)
{
	char line[64];
	char *end;
	if (!read_line(path, line, sizeof(line)))
		return false;
	errno = 0;
	long value = strtol(line, &end, 0);
	if (errno || end == line)
		return false;
	*out = value;
	return true;
}

/* The last component of the target of a symbolic link (a driver's name, a PCI address). */
static bool link_basename(const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return false;
	target[len] = '\0';
	const char *base = strrchr(target, '/');
	const char *name = base ? base + 1 : target;
	size_t name_len = strlen(name);
	if (name_len >= size)
		return false; /* not a name this check knows: too long for it */
	memcpy(out, name, name_len + 1);
	return true;
}

/* A value of /proc/meminfo in kB; -1 when it is not there. */
static long long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	char line[256];
	long long value = -1;
	size_t key_len = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
			value = strtoll(line + key_len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

static bool is_pci_address(const char *text)
{
	/* dddd:bb:dd.f, hexadecimal */
	static const char pattern[] = "xxxx:xx:xx.x";
	if (strlen(text) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == 'x' ? !isxdigit((unsigned char)text[i]) : text[i] != pattern[i])
			return false;
	}
	return true;
}

/* The PCI address an interface's device sits on (a virtio device's parent, for example). */
static bool iface_pci_address(const char *name, char *out, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	if (!realpath(path, real))
		return false;
	bool found = false;
	for (char *part = strtok(real, "/"); part; part = strtok(NULL, "/")) {
		if (is_pci_address(part)) {
			snprintf(out, size, "%s", part);
			found = true;
		}
	}
	return found;
}

/* --- ethtool ioctls --- */

/* Returns 0, or the errno of the ioctl (EOPNOTSUPP when the driver does not implement it). */
static int ethtool(const struct iface *iface, void *data)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface->name);
	ifr.ifr_data = data;
	return ioctl(iface->fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

/* Loads the names and states of every offload feature (ETH_SS_FEATURES and GFEATURES; the
 * kernel's ethtool core answers these for every device, so the older per-feature ioctls such as
 * ETHTOOL_GGRO are not needed). */
static void load_features(struct iface *iface)
{
	struct {
		struct ethtool_sset_info info;
		uint32_t count;
	} sset = {.info = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}};
	if (ethtool(iface, &sset) != 0 || !sset.info.sset_mask || sset.count == 0)
		return;
	unsigned count = sset.count;
	unsigned blocks = (count + 31) / 32;
	struct ethtool_gstrings *strings =
	    calloc(1, sizeof(*strings) + (size_t)count * ETH_GSTRING_LEN);
	struct ethtool_gfeatures *features =
	    calloc(1, sizeof(*features) + blocks * sizeof(struct ethtool_get_features_block));
	iface->feature_names = malloc((size_t)count * ETH_GSTRING_LEN);
	iface->feature_blocks = malloc(blocks * sizeof(struct ethtool_get_features_block));
	if (strings && features && iface->feature_names && iface->feature_blocks) {
		strings->cmd = ETHTOOL_GSTRINGS;
		strings->string_set = ETH_SS_FEATURES;
		strings->len = count;
		features->cmd = ETHTOOL_GFEATURES;
		features->size = blocks;
		if (ethtool(iface, strings) == 0 && ethtool(iface, features) == 0) {
			memcpy(iface->feature_names, strings->data,
			       (size_t)count * ETH_GSTRING_LEN);
			for (unsigned i = 0; i < count; i++)
				iface->feature_names[i][ETH_GSTRING_LEN - 1] = '\0';
			memcpy(iface->feature_blocks, features->features,
			       blocks * sizeof(struct ethtool_get_features_block));
			iface->feature_count = count;
		}
	}
	free(strings);
	free(features);
}

static int feature_index(const struct iface *iface, const char *name)
{
	for (unsigned i = 0; i < iface->feature_count; i++)
		if (strcmp(iface->feature_names[i], name) == 0)
			return (int)i;
	return -1;
}

enum offload_state { OFFLOAD_UNKNOWN, OFFLOAD_OFF, OFFLOAD_ON };

/* The state of an offload by its ethtool name; *fixed when the driver does not let it change. */
static enum offload_state offload_get(const struct iface *iface, const char *name, bool *fixed)
{
	*fixed = false;
	int i = feature_index(iface, name);
	if (i < 0)
		return OFFLOAD_UNKNOWN;
	const struct ethtool_get_features_block *b = &iface->feature_blocks[i / 32];
	uint32_t bit = 1U << (i % 32);
	*fixed = !(b->available & bit) || (b->never_changed & bit);
	return (b->active & bit) ? OFFLOAD_ON : OFFLOAD_OFF;
}

/* Turns one offload off with ETHTOOL_SFEATURES, then reads the features again. Returns 0, or
 * an errno. */
static int offload_turn_off(struct iface *iface, const char *name)
{
	int i = feature_index(iface, name);
	if (i < 0)
		return EOPNOTSUPP;
	unsigned blocks = (iface->feature_count + 31) / 32;
	struct ethtool_sfeatures *set =
	    calloc(1, sizeof(*set) + blocks * sizeof(struct ethtool_set_features_block));
	if (!set)
		return ENOMEM;
	set->cmd = ETHTOOL_SFEATURES;
	set->size = blocks;
	set->features[i / 32].valid = 1U << (i % 32);
	set->features[i / 32].requested = 0;
	int rc = ethtool(iface, set);
	free(set);
	free(iface->feature_names);
	free(iface->feature_blocks);
	iface->feature_names = NULL;
	iface->feature_blocks = NULL;
	iface->feature_count = 0;
	load_features(iface);
	return rc;
}

/* --- the checks --- */

/* Exists, up, carrier. Returns false when the interface does not exist. */
static bool check_interface(struct iface *iface, struct check_report *report)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface->name);
	if (strlen(iface->name) >= IFNAMSIZ || ioctl(iface->fd, SIOCGIFFLAGS, &ifr) != 0) {
		add_result(report, CHECK_FAIL, "interface",
			   "no interface named '%s' (%s); 'ip link show' lists the interfaces",
			   iface->name,
			   strlen(iface->name) >= IFNAMSIZ ? "name too long" : strerror(errno));
		return false;
	}
	char path[PATH_MAX], operstate[32] = "unknown";
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", iface->name);
	read_line(path, operstate, sizeof(operstate));
	struct check_result *r;
	if (!(ifr.ifr_flags & IFF_UP)) {
		r = add_result(report, CHECK_FAIL, "interface",
			       "%s is down: a capture sees nothing", iface->name);
		snprintf(r->fix, sizeof(r->fix), "ip link set dev %s up", iface->name);
	} else if (!(ifr.ifr_flags & IFF_RUNNING)) {
		add_result(
		    report, CHECK_WARN, "interface",
		    "%s is up but has no carrier (operstate %s): check the cable, the tap or "
		    "the SPAN session on the switch",
		    iface->name, operstate);
	} else {
		add_result(report, CHECK_OK, "interface", "%s is up, carrier on (operstate %s)",
			   iface->name, operstate);
	}
	return true;
}

static void check_driver(struct iface *iface, struct check_report *report)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	char path[PATH_MAX], driver[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", iface->name);
	if (ethtool(iface, &info) == 0 && info.driver[0]) {
		info.driver[sizeof(info.driver) - 1] = '\0';
		info.version[sizeof(info.version) - 1] = '\0';
		info.bus_info[sizeof(info.bus_info) - 1] = '\0';
		info.fw_version[sizeof(info.fw_version) - 1] = '\0';
		add_result(report, CHECK_OK, "driver", "%s%s%s, bus %s%s%s", info.driver,
			   info.version[0] ? " " : "", info.version,
			   info.bus_info[0] ? info.bus_info : "none (virtual)",
			   info.fw_version[0] ? ", firmware " : "", info.fw_version);
	} else if (link_basename(path, driver, sizeof(driver))) {
		add_result(report, CHECK_OK, "driver",
			   "%s (from sysfs; the driver does not answer "
			   "ETHTOOL_GDRVINFO)",
			   driver);
	} else {
		add_result(report, CHECK_OK, "driver",
			   "unknown/not reported (a virtual interface without a device)");
	}
}

static const char *duplex_name(uint8_t duplex)
{
	return duplex == DUPLEX_FULL ? "full duplex" : duplex == DUPLEX_HALF ? "half duplex" : "";
}

static void check_speed(struct iface *iface, struct check_report *report)
{
	struct {
		struct ethtool_link_settings settings;
		uint32_t masks[3 * LINK_MODE_MAX_NWORDS];
	} link;
	memset(&link, 0, sizeof(link));
	link.settings.cmd = ETHTOOL_GLINKSETTINGS;
	uint32_t speed = (uint32_t)SPEED_UNKNOWN;
	uint8_t duplex = DUPLEX_UNKNOWN;
	bool reported = false;
	/* The first call tells how many words the link mode masks take (as a negative number).
	 * ETHTOOL_GLINKSETTINGS exists since Linux 4.6, so ETHTOOL_GSET is not needed. */
	if (ethtool(iface, &link) == 0 && link.settings.link_mode_masks_nwords < 0) {
		int8_t nwords = (int8_t)-link.settings.link_mode_masks_nwords;
		memset(&link, 0, sizeof(link));
		link.settings.cmd = ETHTOOL_GLINKSETTINGS;
		link.settings.link_mode_masks_nwords = nwords;
		if (ethtool(iface, &link) == 0) {
			speed = link.settings.speed;
			duplex = link.settings.duplex;
			reported = true;
		}
	}
	if (!reported || speed == (uint32_t)SPEED_UNKNOWN || speed == 0)
		add_result(report, CHECK_OK, "speed", "unknown/not reported by the driver");
	else
		add_result(report, CHECK_OK, "speed", "%" PRIu32 " Mb/s %s", speed,
			   duplex_name(duplex));
}

/* One line about a group of offloads that make the capture differ from the wire. The first
 * names are the ones --fix turns off when fixable is set. */
struct offload_check {
	const char *check;
	const char *features[4];
	const char *ethtool_words[4]; /* what "ethtool -K IFACE ... off" calls each feature */
	const char *why;
	bool fixable;
};

static const struct offload_check offload_checks[] = {
    {"gro",
     {"rx-gro", "rx-gro-hw"},
     {"gro", "rx-gro-hw"},
     "the kernel merges received TCP segments (and some UDP) into larger packets than were on "
     "the wire",
     true},
    {"lro",
     {"rx-lro"},
     {"lro"},
     "the NIC merges received TCP segments into larger packets than were on the wire",
     true},
    {"gso-tso",
     {"tx-generic-segmentation", "tx-tcp-segmentation", "tx-tcp6-segmentation",
      "tx-udp-segmentation"},
     {"gso", "tso", "tso", "tx-udp-segmentation"},
     "packets this host sends are captured before they are cut to wire size (matters when the "
     "probe runs on the DNS server itself)",
     false},
    {"rx-vlan",
     {"rx-vlan-hw-parse", "rx-vlan-stag-hw-parse"},
     {"rxvlan", "rx-vlan-stag-hw-parse"},
     "the NIC strips VLAN tags off received frames; libpcap puts the outer tag back from "
     "metadata, but stacked (QinQ) tags and BPF vlan filters can come out wrong",
     false},
};

#define OFFLOAD_MAX_FEATURES 4

/* Appends ", " and text to a fixed-size string; false when it had to be cut short. */
static bool append(char *out, size_t size, const char *text)
{
	size_t len = strlen(out);
	return snprintf(out + len, size - len, "%s%s", len ? ", " : "", text) < (int)(size - len);
}

static void check_offload(struct iface *iface, const struct offload_check *c, bool fix,
			  struct check_report *report)
{
	char on[CHECK_TEXT_SIZE] = "", off[CHECK_TEXT_SIZE] = "", changed[CHECK_TEXT_SIZE] = "";
	char failed[CHECK_TEXT_SIZE] = "", fixed_on[CHECK_TEXT_SIZE] = "";
	char fix_words[CHECK_TEXT_SIZE / 2] = "";
	bool any_known = false;
	for (int i = 0; i < OFFLOAD_MAX_FEATURES && c->features[i]; i++) {
		bool fixed;
		enum offload_state state = offload_get(iface, c->features[i], &fixed);
		if (state == OFFLOAD_UNKNOWN)
			continue;
		any_known = true;
		if (state == OFFLOAD_ON && fix && c->fixable && !fixed) {
			int rc = offload_turn_off(iface, c->features[i]);
			if (offload_get(iface, c->features[i], &fixed) == OFFLOAD_OFF) {
				append(changed, sizeof(changed), c->features[i]);
				state = OFFLOAD_OFF;
			} else {
				char text[CHECK_TEXT_SIZE / 2];
				snprintf(text, sizeof(text), "%s (%s)", c->features[i],
					 strerror(rc ? rc : EOPNOTSUPP));
				append(failed, sizeof(failed), text);
			}
		}
		if (state == OFFLOAD_OFF) {
			append(off, sizeof(off), c->features[i]);
		} else if (fixed) {
			append(on, sizeof(on), c->features[i]);
			append(fixed_on, sizeof(fixed_on), c->features[i]);
		} else {
			append(on, sizeof(on), c->features[i]);
			char words[64];
			snprintf(words, sizeof(words), " %s off", c->ethtool_words[i]);
			if (!strstr(fix_words, words))
				strncat(fix_words, words,
					sizeof(fix_words) - strlen(fix_words) - 1);
		}
	}
	if (!any_known) {
		add_result(report, CHECK_OK, c->check,
			   "unknown/not reported (the driver answers no offload ioctl)");
		return;
	}
	struct check_result *r;
	if (!on[0]) {
		r = add_result(report, CHECK_OK, c->check, "off (%s)%s%s%s", off,
			       changed[0] ? "; turned off by --fix: " : "", changed,
			       changed[0] ? " (was on)" : "");
		r->changed = changed[0] != '\0';
		return;
	}
	r = add_result(report, CHECK_WARN, c->check, "on: %s: %s%s%s%s%s%s%s", on, c->why,
		       fixed_on[0] ? "; the driver does not let these change: " : "", fixed_on,
		       changed[0] ? "; turned off by --fix: " : "", changed,
		       failed[0] ? "; --fix could not turn off: " : "", failed);
	r->changed = changed[0] != '\0';
	if (fix_words[0])
		snprintf(r->fix, sizeof(r->fix), "ethtool -K %s%s", iface->name, fix_words);
}

static void check_promiscuous(struct iface *iface, struct check_report *report)
{
	char path[PATH_MAX];
	long flags = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", iface->name);
	if (read_long(path, &flags) && (flags & IFF_PROMISC))
		add_result(report, CHECK_OK, "promiscuous",
			   "on: frames for every address are seen");
	else
		add_result(report, CHECK_OK, "promiscuous",
			   "off now; dnsprobe capture turns it on while it runs (to keep it on: ip "
			   "link set dev %s promisc on)",
			   iface->name);
}

static void check_rx_ring(struct iface *iface, struct check_report *report)
{
	struct ethtool_ringparam ring = {.cmd = ETHTOOL_GRINGPARAM};
	if (ethtool(iface, &ring) != 0 || ring.rx_max_pending == 0) {
		add_result(report, CHECK_OK, "rx-ring", "unknown/not reported by the driver");
		return;
	}
	if (ring.rx_pending < ring.rx_max_pending) {
		struct check_result *r = add_result(
		    report, CHECK_WARN, "rx-ring",
		    "%" PRIu32 " descriptors of at most %" PRIu32
		    ": a small NIC ring drops frames in bursts before the kernel sees them",
		    ring.rx_pending, ring.rx_max_pending);
		snprintf(r->fix, sizeof(r->fix), "ethtool -G %s rx %" PRIu32, iface->name,
			 ring.rx_max_pending);
	} else {
		add_result(report, CHECK_OK, "rx-ring", "%" PRIu32 " descriptors (the maximum)",
			   ring.rx_pending);
	}
}

static void check_channels(struct iface *iface, struct check_report *report)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	if (ethtool(iface, &ch) != 0) {
		add_result(report, CHECK_OK, "channels", "unknown/not reported by the driver");
		return;
	}
	bool combined = ch.max_combined > 0;
	uint32_t count = combined ? ch.combined_count : ch.rx_count;
	uint32_t max = combined ? ch.max_combined : ch.max_rx;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t useful = cpus > 0 && (uint32_t)cpus < max ? (uint32_t)cpus : max;
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", iface->name);
	bool physical = stat(path, &st) == 0;
	const char *kind = combined ? "combined" : "rx";
	if (physical && count < useful) {
		struct check_result *r = add_result(report, CHECK_WARN, "channels",
						    "%" PRIu32 " %s queue(s) of at most %" PRIu32
						    " (%ld CPUs): fewer queues "
						    "spread the receive work over fewer CPUs",
						    count, kind, max, cpus);
		snprintf(r->fix, sizeof(r->fix), "ethtool -L %s %s %" PRIu32, iface->name, kind,
			 useful);
	} else {
		add_result(report, CHECK_OK, "channels",
			   "%" PRIu32 " %s queue(s) (at most %" PRIu32 ", %ld CPUs)", count, kind,
			   max, cpus);
	}
}

/* libpcap on Linux captures into a memory-mapped TPACKET ring of -B bytes per handle; the ring is
 * kernel memory, not a socket buffer, so net.core.rmem_max does not limit it. */
static void check_capture_buffer(const struct iface_check_options *o, struct check_report *report)
{
	long long available_kb = meminfo_kb("MemAvailable");
	long rmem_max = 0;
	bool have_rmem = read_long("/proc/sys/net/core/rmem_max", &rmem_max);
	unsigned long long need_kib = (unsigned long long)o->buffer_kib * o->workers;
	unsigned long long need_mib = need_kib / 1024;
	char size[32];
	if (o->buffer_kib % 1024)
		snprintf(size, sizeof(size), "%llu KiB", (unsigned long long)o->buffer_kib);
	else
		snprintf(size, sizeof(size), "%llu MiB", (unsigned long long)o->buffer_kib / 1024);
	char rmem[96] = "";
	if (have_rmem)
		snprintf(rmem, sizeof(rmem), "; net.core.rmem_max (%ld KiB) does not limit it",
			 rmem_max / 1024);
	if (available_kb < 0) {
		add_result(report, CHECK_OK, "capture-buffer",
			   "-B %s x %u worker(s) = %llu MiB ring; available memory unknown%s", size,
			   o->workers, need_mib, rmem);
		return;
	}
	unsigned long long available_mib = (unsigned long long)available_kb / 1024;
	unsigned long long available = (unsigned long long)available_kb;
	enum check_status status = need_kib > available	      ? CHECK_FAIL
				   : need_kib > available / 2 ? CHECK_WARN
							      : CHECK_OK;
	struct check_result *r = add_result(
	    report, status, "capture-buffer",
	    "-B %s x %u worker(s) = %llu MiB of kernel memory for libpcap's mmap ring, %llu "
	    "MiB available%s",
	    size, o->workers, need_mib, available_mib, rmem);
	if (status != CHECK_OK)
		snprintf(r->fix, sizeof(r->fix), "dnsprobe capture -i %s --workers %u -B %llu",
			 o->target, o->workers, available_mib / 4 / o->workers);
}

/* Mirrored traffic arrives in tunnels, whose outer headers make each packet longer than the one
 * it carries: VXLAN over IPv4 adds 50 bytes (outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14),
 * over IPv6 70, Geneve as much plus its options, ERSPAN III up to 62. A frame longer than the
 * interface's MTU is dropped or cut by the NIC, so 1600 leaves room for a 1500-byte packet in
 * any of them. */
#define TUNNEL_MTU	    1600
#define VXLAN_IPV4_OVERHEAD 50

static void check_tunnels(struct iface *iface, struct check_report *report)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface->name);
	static const char filter[] = "the default filter takes in DNS in VXLAN (UDP 4789 and "
				     "--vxlan-port), Geneve (UDP 6081 "
				     "and --geneve-port), GRE and ERSPAN, IP-in-IP and MPLS";
	if (ioctl(iface->fd, SIOCGIFMTU, &ifr) != 0) {
		add_result(report, CHECK_OK, "tunnels", "%s; MTU unknown", filter);
		return;
	}
	int mtu = ifr.ifr_mtu;
	struct check_result *r = add_result(
	    report, mtu < TUNNEL_MTU ? CHECK_WARN : CHECK_OK, "tunnels",
	    "%s; MTU %d carries mirrored packets of up to %d bytes in VXLAN over IPv4%s", filter,
	    mtu, mtu - VXLAN_IPV4_OVERHEAD,
	    mtu < TUNNEL_MTU ? " (a 1500-byte packet needs 1600 with any tunnel): mirror sources "
			       "cut or drop larger ones"
			     : "");
	if (mtu < TUNNEL_MTU)
		snprintf(r->fix, sizeof(r->fix), "ip link set dev %s mtu %d", iface->name,
			 TUNNEL_MTU);
}

/* --- DPDK readiness --- */

struct hugepages {
	unsigned long long reserved_mib;
	unsigned long long free_mib;
	char mount[PATH_MAX]; /* "" when hugetlbfs is not mounted */
};

/* Sums the pools of every page size under dir (.../hugepages), in MiB. */
static void sum_hugepage_pools(const char *dir, unsigned long long *reserved_mib,
			       unsigned long long *free_mib)
{
	char pattern[PATH_MAX];
	snprintf(pattern, sizeof(pattern), "%s/hugepages-*kB", dir);
	glob_t pools;
	*reserved_mib = 0;
	if (free_mib)
		*free_mib = 0;
	if (glob(pattern, 0, NULL, &pools) != 0)
		return;
	for (size_t i = 0; i < pools.gl_pathc; i++) {
		const char *size_text = strrchr(pools.gl_pathv[i], '-');
		unsigned long long page_kb = size_text ? strtoull(size_text + 1, NULL, 10) : 0;
		char path[PATH_MAX];
		long count;
		snprintf(path, sizeof(path), "%s/nr_hugepages", pools.gl_pathv[i]);
		if (read_long(path, &count))
			*reserved_mib += (unsigned long long)count * page_kb / 1024;
		snprintf(path, sizeof(path), "%s/free_hugepages", pools.gl_pathv[i]);
		if (free_mib && read_long(path, &count))
			*free_mib += (unsigned long long)count * page_kb / 1024;
	}
	globfree(&pools);
}

static void read_hugepages(struct hugepages *h)
{
	memset(h, 0, sizeof(*h));
	sum_hugepage_pools("/sys/kernel/mm/hugepages", &h->reserved_mib, &h->free_mib);
	FILE *mounts = fopen("/proc/mounts", "r");
	if (!mounts)
		return;
	char line[1024], device[256], dir[PATH_MAX], type[64];
	while (fgets(line, sizeof(line), mounts)) {
		if (sscanf(line, "%255s %4095s %63s", device, dir, type) == 3 &&
		    strcmp(type, "hugetlbfs") == 0) {
			snprintf(h->mount, sizeof(h->mount), "%s", dir);
			break;
		}
	}
	fclose(mounts);
}

static bool is_dpdk_driver(const char *driver)
{
	return strcmp(driver, "vfio-pci") == 0 || strcmp(driver, "uio_pci_generic") == 0 ||
	       strcmp(driver, "igb_uio") == 0;
}

/* Mellanox NICs stay on their kernel driver: DPDK's mlx4/mlx5 drivers work beside it. */
static bool is_bifurcated_driver(const char *driver)
{
	return strcmp(driver, "mlx4_core") == 0 || strcmp(driver, "mlx5_core") == 0;
}

/* A one-line summary of DPDK readiness when the user asked about libpcap capture. */
static void summarise_dpdk(const char *pci, const struct hugepages *h, struct check_report *report)
{
	char device[PATH_MAX], driver[64] = "none", node[96] = "";
	long numa = -1;
	if (pci[0]) {
		snprintf(device, sizeof(device), "/sys/bus/pci/devices/%s/driver", pci);
		link_basename(device, driver, sizeof(driver));
		snprintf(device, sizeof(device), "/sys/bus/pci/devices/%s/numa_node", pci);
		if (read_long(device, &numa) && numa >= 0)
			snprintf(node, sizeof(node), " on NUMA node %ld", numa);
	}
	char where[PATH_MAX + 32];
	snprintf(where, sizeof(where), h->mount[0] ? "mounted at %s" : "hugetlbfs not mounted",
		 h->mount);
	if (pci[0])
		add_result(report, CHECK_OK, "dpdk",
			   "not needed for libpcap capture; for DPDK: %llu MiB of hugepages "
			   "reserved, %s; PCI %s%s, driver %s (details: check --dpdk)",
			   h->reserved_mib, where, pci, node, driver);
	else
		add_result(report, CHECK_OK, "dpdk",
			   "not needed for libpcap capture; not a PCI device, so not a DPDK port; "
			   "%llu MiB of hugepages reserved, %s",
			   h->reserved_mib, where);
}

static void check_dpdk_driver(const char *target, const char *pci, struct check_report *report)
{
	struct check_result *r;
	if (!pci[0]) {
		add_result(report, CHECK_WARN, "dpdk-driver",
			   "%s is not a PCI device: DPDK can read it only through a virtual device "
			   "(e.g. net_af_packet,iface=%s)",
			   target, target);
		return;
	}
	char path[PATH_MAX], driver[64];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	if (!link_basename(path, driver, sizeof(driver))) {
		r = add_result(report, CHECK_WARN, "dpdk-driver",
			       "PCI %s is bound to no driver: DPDK needs vfio-pci (or "
			       "uio_pci_generic)",
			       pci);
		snprintf(r->fix, sizeof(r->fix), "dpdk-devbind.py --bind=vfio-pci %s", pci);
	} else if (is_dpdk_driver(driver)) {
		add_result(report, CHECK_OK, "dpdk-driver", "PCI %s is bound to %s", pci, driver);
	} else if (is_bifurcated_driver(driver)) {
		add_result(report, CHECK_OK, "dpdk-driver",
			   "PCI %s uses %s, which DPDK's mlx driver works beside (no rebinding)",
			   pci, driver);
	} else {
		r = add_result(
		    report, CHECK_WARN, "dpdk-driver",
		    "PCI %s is bound to the kernel driver %s: DPDK needs vfio-pci (binding "
		    "it takes the interface away from the kernel and libpcap)",
		    pci, driver);
		snprintf(r->fix, sizeof(r->fix), "dpdk-devbind.py --bind=vfio-pci %s", pci);
	}
}

static void check_hugepages(const struct hugepages *h, struct check_report *report)
{
	struct check_result *r;
	if (h->reserved_mib == 0) {
		r = add_result(report, CHECK_WARN, "hugepages",
			       "none reserved: DPDK's EAL does not start without them (unless run "
			       "with --no-huge)");
		snprintf(r->fix, sizeof(r->fix), "sysctl -w vm.nr_hugepages=%d",
			 SUGGESTED_HUGEPAGES);
	} else {
		add_result(report, CHECK_OK, "hugepages", "%llu MiB reserved, %llu MiB free",
			   h->reserved_mib, h->free_mib);
	}
	if (!h->mount[0]) {
		r = add_result(report, CHECK_WARN, "hugetlbfs",
			       "not mounted: DPDK maps its hugepages through a hugetlbfs mount");
		snprintf(r->fix, sizeof(r->fix),
			 "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages");
	} else {
		add_result(report, CHECK_OK, "hugetlbfs", "mounted at %s", h->mount);
	}
}

static void check_numa(const char *pci, const struct hugepages *h, struct check_report *report)
{
	char path[PATH_MAX], cpus[128] = "?";
	long node = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", pci);
	if (!pci[0] || !read_long(path, &node) || node < 0) {
		add_result(report, CHECK_OK, "numa",
			   "the device reports no NUMA node (a single-node machine or a virtual "
			   "device): any CPU and memory will do");
		return;
	}
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%ld/cpulist", node);
	read_line(path, cpus, sizeof(cpus));
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%ld/hugepages", node);
	unsigned long long node_mib;
	sum_hugepage_pools(path, &node_mib, NULL);
	if (h->reserved_mib > 0 && node_mib == 0) {
		struct check_result *r = add_result(
		    report, CHECK_WARN, "numa",
		    "the NIC is on node %ld (CPUs %s) but none of the hugepages are: packets "
		    "would cross the interconnect",
		    node, cpus);
		snprintf(r->fix, sizeof(r->fix),
			 "echo %d > /sys/devices/system/node/node%ld/hugepages/"
			 "hugepages-2048kB/nr_hugepages",
			 SUGGESTED_HUGEPAGES, node);
	} else {
		add_result(
		    report, CHECK_OK, "numa",
		    "NIC on node %ld: run the workers on its CPUs (%s); %llu MiB of hugepages "
		    "on that node",
		    node, cpus, node_mib);
	}
}

static void check_dpdk(const char *target, const char *pci, bool full, struct check_report *report)
{
	struct hugepages h;
	read_hugepages(&h);
	if (!full) {
		summarise_dpdk(pci, &h, report);
		return;
	}
	check_dpdk_driver(target, pci, report);
	check_hugepages(&h, report);
	check_numa(pci, &h, report);
}

/* A PCI address as target: the device must exist; then only the DPDK checks apply. */
static void check_pci_target(const struct iface_check_options *o, struct check_report *report)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", o->target);
	if (stat(path, &st) != 0) {
		add_result(report, CHECK_FAIL, "pci-device",
			   "no PCI device %s; 'ls /sys/bus/pci/devices' lists them", o->target);
		return;
	}
	check_dpdk(o->target, o->target, true, report);
}

void iface_check_run(const struct iface_check_options *o, struct check_report *report)
{
	memset(report, 0, sizeof(*report));
	if (is_pci_address(o->target)) {
		check_pci_target(o, report);
		return;
	}
	struct iface iface = {.name = o->target,
			      .fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
	if (iface.fd < 0) {
		add_result(report, CHECK_FAIL, "interface", "cannot open a socket for ioctls: %s",
			   strerror(errno));
		return;
	}
	if (check_interface(&iface, report)) {
		load_features(&iface);
		check_driver(&iface, report);
		check_speed(&iface, report);
		for (size_t i = 0; i < sizeof(offload_checks) / sizeof(offload_checks[0]); i++)
			check_offload(&iface, &offload_checks[i], o->fix, report);
		check_promiscuous(&iface, report);
		check_rx_ring(&iface, report);
		check_channels(&iface, report);
		check_capture_buffer(o, report);
		check_tunnels(&iface, report);
		char pci[32] = "";
		iface_pci_address(o->target, pci, sizeof(pci));
		check_dpdk(o->target, pci, o->dpdk, report);
	}
	free(iface.feature_names);
	free(iface.feature_blocks);
	close(iface.fd);
}
