/* make_capture: writes the benchmark capture, a deterministic pcap of DNS queries and their
 * responses that looks like a busy resolver's traffic (see docs/benchmarks.md, "The capture").
 * Optionally also writes the same packets split in two files by a symmetric flow hash, so that two
 * workers can each read one half with both directions of every flow on the same side. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_COUNT	20000
#define NAME_TEXT_MAX	160
#define CLIENT_COUNT	100000
#define SERVER_COUNT	6     /* 4 IPv4, 2 IPv6 */
#define QUERY_GAP_NS	10000 /* 100 k queries per second on average */
#define FRAME_MAX	2048
#define DNS_MAX		1232
#define SPLIT_COUNT	2
#define START_SECONDS	1700000000 /* 2023-11-14T22:13:20Z */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define LINKTYPE_ETHER	1

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_OPT = 41,
	T_HTTPS = 65
};

/* xoshiro256** seeded through splitmix64: the same seed gives the same capture everywhere. */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t mix(uint64_t x)
{
	return splitmix64(&x);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t result = rotl(r->s[1] * 5, 7) * 9;
	uint64_t t = r->s[1] << 17;
	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static bool rng_percent(struct rng *r, unsigned percent)
{
	return rng_below(r, 100) < percent;
}

/* ---- the vocabulary: names, ranked for a Zipf draw, with the answers each one has ---- */

struct name {
	char text[NAME_TEXT_MAX];
	unsigned labels;      /* labels in text */
	unsigned zone_labels; /* labels of the registered domain (example.com, example.co.uk) */
	bool has_cname;
	bool has_aaaa;
	char cname[NAME_TEXT_MAX];
};

static const char *const syllables[] = {
    "ka",  "to",  "ri",	 "ne",	"mo", "sa", "lu", "pe",	 "di",	"go",  "ba",  "zen", "tor", "lin",
    "mar", "vel", "cor", "dex", "fi", "ra", "no", "qui", "ste", "tra", "plu", "sen", "wo",  "hy",
    "ix",  "on",  "al",	 "ex",	"um", "ar", "el", "in",	 "ver", "sta", "pro", "net",
};
static const char *const sub_labels[] = {
    "www",   "api",  "cdn",  "mail",   "img",	    "static", "m",     "login", "app",	 "assets",
    "video", "edge", "smtp", "update", "telemetry", "push",   "graph", "auth",	"files", "gateway",
};
static const struct {
	const char *tld;
	unsigned weight;
	unsigned labels;
} tlds[] = {
    {"com", 45, 1}, {"net", 12, 1}, {"org", 8, 1}, {"de", 5, 1},  {"io", 4, 1},	    {"co.uk", 4, 2},
    {"ru", 3, 1},   {"jp", 3, 1},   {"fr", 3, 1},  {"nl", 2, 1},  {"com.br", 2, 2}, {"info", 2, 1},
    {"cn", 2, 1},   {"it", 2, 1},   {"app", 1, 1}, {"dev", 1, 1},
};
static const char *const cdn_zones[] = {
    "akamaiedge.net", "cloudfront.net",	    "edgekey.net",	  "fastly.net",
    "azureedge.net",  "trafficmanager.net", "cdn.cloudflare.net", "googlehosted.com",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static size_t append(char *out, size_t used, const char *text)
{
	size_t len = strlen(text);
	if (used + len + 1 > NAME_TEXT_MAX)
		return used;
	memcpy(out + used, text, len + 1);
	return used + len;
}

static size_t append_word(struct rng *r, char *out, size_t used)
{
	unsigned count = 2 + (unsigned)rng_below(r, 3);
	for (unsigned i = 0; i < count; i++)
		used = append(out, used, syllables[rng_below(r, COUNT(syllables))]);
	return used;
}

static size_t append_hex_label(struct rng *r, char *out, size_t used, unsigned len)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char label[40];
	for (unsigned i = 0; i < len; i++)
		label[i] = digits[rng_below(r, 36)];
	label[len] = '\0';
	return append(out, used, label);
}

static const char *pick_tld(struct rng *r, unsigned *labels)
{
	unsigned total = 0;
	for (size_t i = 0; i < COUNT(tlds); i++)
		total += tlds[i].weight;
	unsigned pick = (unsigned)rng_below(r, total);
	for (size_t i = 0; i < COUNT(tlds); i++) {
		if (pick < tlds[i].weight) {
			*labels = tlds[i].labels;
			return tlds[i].tld;
		}
		pick -= tlds[i].weight;
	}
	*labels = 1;
	return "com";
}

/* Mostly host.domain.tld; some deeper names and some machine-made labels (trackers, CDNs). */
static void make_name(struct rng *r, struct name *n)
{
	char *t = n->text;
	size_t used = 0;
	unsigned tld_labels;
	n->labels = 0;
	t[0] = '\0';
	unsigned shape = (unsigned)rng_below(r, 100);
	if (shape < 10) {
		used = append_hex_label(r, t, used, 8 + (unsigned)rng_below(r, 24));
		used = append(t, used, ".");
		n->labels++;
	}
	if (shape < 75) {
		used = append(t, used, sub_labels[rng_below(r, COUNT(sub_labels))]);
		used = append(t, used, ".");
		n->labels++;
	}
	if (shape >= 90) {
		used = append_word(r, t, used);
		used = append(t, used, ".");
		n->labels++;
	}
	used = append_word(r, t, used);
	used = append(t, used, ".");
	used = append(t, used, pick_tld(r, &tld_labels));
	n->zone_labels = 1 + tld_labels;
	n->labels += n->zone_labels;

	n->has_cname = rng_percent(r, 25);
	n->has_aaaa = rng_percent(r, 80);
	n->cname[0] = '\0';
	if (n->has_cname) {
		size_t c = append_hex_label(r, n->cname, 0, 6 + (unsigned)rng_below(r, 10));
		c = append(n->cname, c, ".");
		append(n->cname, c, cdn_zones[rng_below(r, COUNT(cdn_zones))]);
	}
}

/* Cumulative Zipf weights (s = 1) over the ranks, for a binary-search draw. */
static double *zipf_table(unsigned count)
{
	double *cdf = malloc(count * sizeof(*cdf));
	if (!cdf)
		return NULL;
	double sum = 0;
	for (unsigned i = 0; i < count; i++) {
		sum += 1.0 / (double)(i + 1);
		cdf[i] = sum;
	}
	for (unsigned i = 0; i < count; i++)
		cdf[i] /= sum;
	return cdf;
}

static unsigned zipf_draw(struct rng *r, const double *cdf, unsigned count)
{
	double u = (double)(rng_next(r) >> 11) / 9007199254740992.0;
	unsigned lo = 0, hi = count - 1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- endpoints: clients spread over the whole address space, a few resolvers ---- */

struct endpoint {
	bool v6;
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint8_t mac[6];
	uint16_t vlan; /* 0: untagged */
};

static void random_mac(uint64_t bits, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(bits >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

/* IPv4 unicast outside 0/8, 127/8 and 224/3; IPv6 in 2000::/3. */
static void client_endpoint(uint64_t seed, unsigned index, struct endpoint *e)
{
	static const uint16_t vlans[] = {10, 20, 100, 200, 1001};
	struct rng r;
	rng_seed(&r, seed ^ mix(index + 1));
	memset(e, 0, sizeof(*e));
	e->v6 = rng_percent(&r, 30);
	if (e->v6) {
		uint64_t hi = rng_next(&r), lo = rng_next(&r);
		for (int i = 0; i < 8; i++) {
			e->addr[i] = (uint8_t)(hi >> (56 - 8 * i));
			e->addr[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		e->addr[0] = (uint8_t)(0x20 | (e->addr[0] & 0x1f));
	} else {
		uint32_t a;
		do {
			a = (uint32_t)rng_next(&r);
		} while ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 24) >= 224);
		for (int i = 0; i < 4; i++)
			e->addr[i] = (uint8_t)(a >> (24 - 8 * i));
	}
	random_mac(rng_next(&r), e->mac);
	if (rng_percent(&r, 20))
		e->vlan = vlans[rng_below(&r, COUNT(vlans))];
}

static void server_endpoint(unsigned index, struct endpoint *e)
{
	static const uint8_t v4[4][4] = {
	    {198, 51, 100, 53}, {203, 0, 113, 53}, {192, 0, 2, 53}, {100, 64, 0, 53}};
	static const uint8_t v6[2][16] = {
	    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53},
	    {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
	memset(e, 0, sizeof(*e));
	e->v6 = index >= 4;
	if (e->v6)
		memcpy(e->addr, v6[index - 4], 16);
	else
		memcpy(e->addr, v4[index], 4);
	random_mac(mix(0x5e77e7 + index), e->mac);
}

/* ---- one transaction: what its query asked, so the response can answer it ---- */

struct transaction {
	uint64_t query_ns, response_ns;
	unsigned client, name;
	uint16_t qtype, id, client_port, flags;
	uint8_t rcode;
	bool edns, edns_do, cookie, ecs;
	uint16_t udp_size;
	uint64_t cookie_bits;
};

/* ---- DNS wire writing ---- */

struct wire {
	uint8_t *buf;
	size_t len;
};

static void put_u8(struct wire *w, unsigned v)
{
	w->buf[w->len++] = (uint8_t)v;
}

static void put_u16(struct wire *w, unsigned v)
{
	put_u8(w, (v >> 8) & 0xff);
	put_u8(w, v & 0xff);
}

static void put_u32(struct wire *w, uint32_t v)
{
	put_u16(w, v >> 16);
	put_u16(w, v & 0xffff);
}

static void put_bytes(struct wire *w, const void *p, size_t n)
{
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* Writes the labels of dotted text (no terminator); label_offsets gets where each one starts. */
static void put_labels(struct wire *w, const char *text, size_t *label_offsets)
{
	unsigned index = 0;
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t len = dot ? (size_t)(dot - text) : strlen(text);
		if (label_offsets)
			label_offsets[index++] = w->len;
		put_u8(w, (unsigned)len);
		put_bytes(w, text, len);
		text += len + (dot ? 1 : 0);
	}
}

static void put_pointer(struct wire *w, size_t offset)
{
	put_u16(w, 0xc000 | (unsigned)offset);
}

static size_t rr_start(struct wire *w, size_t owner, unsigned type, uint32_t ttl)
{
	put_pointer(w, owner);
	put_u16(w, type);
	put_u16(w, 1);
	put_u32(w, ttl);
	size_t rdlength_at = w->len;
	put_u16(w, 0);
	return rdlength_at;
}

static void rr_end(struct wire *w, size_t rdlength_at)
{
	size_t rdlength = w->len - rdlength_at - 2;
	w->buf[rdlength_at] = (uint8_t)(rdlength >> 8);
	w->buf[rdlength_at + 1] = (uint8_t)rdlength;
}

static void put_header(struct wire *w, const struct transaction *t, bool response, unsigned ancount,
		       unsigned nscount)
{
	unsigned flags = t->flags;
	if (response)
		flags |= 0x8000 | 0x0080 | t->rcode; /* QR, RA */
	put_u16(w, t->id);
	put_u16(w, flags);
	put_u16(w, 1);
	put_u16(w, ancount);
	put_u16(w, nscount);
	put_u16(w, t->edns ? 1 : 0);
}

/* OPT: client subnet (RFC 7871) and cookies (RFC 7873) as resolvers send them. */
static void put_opt(struct wire *w, const struct transaction *t, const struct endpoint *client,
		    bool response)
{
	put_u8(w, 0);
	put_u16(w, T_OPT);
	put_u16(w, response ? 1232 : t->udp_size);
	put_u32(w, t->edns_do ? 0x8000 : 0);
	size_t rdlength_at = w->len;
	put_u16(w, 0);
	if (t->ecs) {
		unsigned prefix = client->v6 ? 56 : 24;
		unsigned addr_bytes = prefix / 8;
		put_u16(w, 8);
		put_u16(w, 4 + addr_bytes);
		put_u16(w, client->v6 ? 2 : 1);
		put_u8(w, prefix);
		put_u8(w, response ? prefix : 0);
		put_bytes(w, client->addr, addr_bytes);
	}
	if (t->cookie) {
		put_u16(w, 10);
		put_u16(w, response ? 24 : 8);
		put_bytes(w, &t->cookie_bits, 8);
		if (response) {
			uint64_t server[2] = {mix(t->cookie_bits), mix(t->cookie_bits + 1)};
			put_bytes(w, server, 16);
		}
	}
	rr_end(w, rdlength_at);
}

static size_t put_question(struct wire *w, const struct name *n, const struct transaction *t,
			   size_t *zone_offset)
{
	size_t offsets[64];
	put_labels(w, n->text, offsets);
	put_u8(w, 0);
	put_u16(w, t->qtype);
	put_u16(w, 1);
	*zone_offset = offsets[n->labels - n->zone_labels];
	return offsets[0];
}

static void put_soa(struct wire *w, size_t zone, uint32_t serial)
{
	size_t at = rr_start(w, zone, T_SOA, 900);
	put_labels(w, "ns1", NULL);
	put_pointer(w, zone);
	put_labels(w, "hostmaster", NULL);
	put_pointer(w, zone);
	put_u32(w, serial);
	put_u32(w, 7200);
	put_u32(w, 3600);
	put_u32(w, 1209600);
	put_u32(w, 300);
	rr_end(w, at);
}

/* Address records of a name: derived from its index, so every answer for it is the same. Returns
 * how many were written. */
static unsigned put_addresses(struct wire *w, size_t owner, unsigned name, bool v6, uint32_t ttl)
{
	uint64_t h = mix(name * 2 + (v6 ? 1 : 0));
	unsigned count = v6 ? 1 + (unsigned)(h % 2) : 1 + (unsigned)(h % 4);
	for (unsigned i = 0; i < count; i++) {
		size_t at = rr_start(w, owner, v6 ? T_AAAA : T_A, ttl);
		uint64_t a = mix(h + i), b = mix(h + i + 100);
		if (v6) {
			put_u32(w, 0x26000000u | (uint32_t)(a >> 40));
			put_u32(w, (uint32_t)a);
			put_u32(w, (uint32_t)(b >> 32));
			put_u32(w, (uint32_t)b);
		} else {
			put_u32(w, (uint32_t)(((a % 223) + 1) << 24) | (uint32_t)(b & 0xffffff));
		}
		rr_end(w, at);
	}
	return count;
}

/* The answer section for a NOERROR response; returns its record count (0: no data, SOA added). */
static unsigned put_answers(struct wire *w, const struct name *n, const struct transaction *t,
			    size_t qname, size_t zone, unsigned *nscount)
{
	uint64_t h = mix(t->name + 7);
	static const uint32_t ttls[] = {60, 300, 600, 3600, 86400};
	uint32_t ttl = ttls[h % COUNT(ttls)];
	ttl -= (uint32_t)(t->query_ns / 1000 % (ttl / 2 + 1));
	unsigned count = 0;
	size_t owner = qname;
	char token[48];
	size_t at;
	switch (t->qtype) {
	case T_A:
	case T_AAAA:
		if (n->has_cname) {
			at = rr_start(w, qname, T_CNAME, 300);
			owner = w->len;
			put_labels(w, n->cname, NULL);
			put_u8(w, 0);
			rr_end(w, at);
			count++;
		}
		if (t->qtype == T_AAAA && !n->has_aaaa)
			break;
		return count + put_addresses(w, owner, t->name, t->qtype == T_AAAA, ttl);
	case T_MX:
		for (unsigned i = 0; i < 1 + h % 3; i++) {
			at = rr_start(w, zone, T_MX, ttl);
			put_u16(w, 10 * (i + 1));
			snprintf(token, sizeof(token), "mx%u", i + 1);
			put_labels(w, token, NULL);
			put_pointer(w, zone);
			rr_end(w, at);
			count++;
		}
		return count;
	case T_TXT:
		at = rr_start(w, zone, T_TXT, ttl);
		snprintf(token, sizeof(token), "v=spf1 include:_spf.%.20s ~all", n->text);
		put_u8(w, (unsigned)strlen(token));
		put_bytes(w, token, strlen(token));
		rr_end(w, at);
		count++;
		if (h % 2) {
			at = rr_start(w, zone, T_TXT, ttl);
			snprintf(token, sizeof(token), "site-verification=%016llx%08x",
				 (unsigned long long)mix(h), (unsigned)(h >> 32));
			put_u8(w, (unsigned)strlen(token));
			put_bytes(w, token, strlen(token));
			rr_end(w, at);
			count++;
		}
		return count;
	case T_NS:
		for (unsigned i = 0; i < 2 + h % 3; i++) {
			at = rr_start(w, zone, T_NS, 86400);
			snprintf(token, sizeof(token), "ns%u", i + 1);
			put_labels(w, token, NULL);
			put_pointer(w, zone);
			rr_end(w, at);
			count++;
		}
		return count;
	case T_SRV:
		at = rr_start(w, qname, T_SRV, ttl);
		put_u16(w, 0);
		put_u16(w, 5);
		put_u16(w, 443);
		put_labels(w, "srv1", NULL);
		put_pointer(w, zone);
		rr_end(w, at);
		return 1;
	case T_HTTPS:
		if (h % 10 < 3) {
			at = rr_start(w, qname, T_HTTPS, ttl);
			put_u16(w, 1);
			put_u8(w, 0);
			put_u16(w, 1); /* alpn="h2,h3" */
			put_u16(w, 6);
			put_bytes(w, "\002h2\002h3", 6);
			rr_end(w, at);
			return 1;
		}
		break;
	}
	put_soa(w, zone, 2024010100 + (uint32_t)(h % 1000));
	*nscount = 1;
	return count;
}

static size_t build_query(uint8_t *buf, const struct name *n, const struct transaction *t,
			  const struct endpoint *client)
{
	struct wire w = {buf, 0};
	size_t zone;
	put_header(&w, t, false, 0, 0);
	put_question(&w, n, t, &zone);
	if (t->edns)
		put_opt(&w, t, client, false);
	return w.len;
}

/* Counts are patched in after the sections are written. */
static size_t build_response(uint8_t *buf, const struct name *n, const struct transaction *t,
			     const struct endpoint *client)
{
	struct wire w = {buf, 0};
	size_t zone;
	put_header(&w, t, true, 0, 0);
	size_t qname = put_question(&w, n, t, &zone);
	unsigned ancount = 0, nscount = 0;
	if (t->rcode == 0) {
		ancount = put_answers(&w, n, t, qname, zone, &nscount);
	} else if (t->rcode == 3) {
		put_soa(&w, zone, 2024010100);
		nscount = 1;
	}
	if (t->edns)
		put_opt(&w, t, client, true);
	buf[6] = (uint8_t)(ancount >> 8);
	buf[7] = (uint8_t)ancount;
	buf[8] = (uint8_t)(nscount >> 8);
	buf[9] = (uint8_t)nscount;
	return w.len;
}

/* ---- Ethernet / 802.1Q / IPv4 / IPv6 / UDP framing ---- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t build_frame(uint8_t *frame, const struct endpoint *src, uint16_t sport,
			  const struct endpoint *dst, uint16_t dport, uint16_t vlan,
			  const uint8_t *dns, size_t dns_len, uint64_t ip_bits)
{
	struct wire w = {frame, 0};
	put_bytes(&w, dst->mac, 6);
	put_bytes(&w, src->mac, 6);
	if (vlan) {
		put_u16(&w, 0x8100);
		put_u16(&w, vlan);
	}
	size_t ip = w.len + 2;
	size_t addr_len = src->v6 ? 16 : 4;
	size_t udp_len = 8 + dns_len;
	uint32_t pseudo = 0;
	if (src->v6) {
		put_u16(&w, 0x86dd);
		put_u32(&w, 0x60000000u | (uint32_t)(ip_bits & 0xfffff));
		put_u16(&w, (unsigned)udp_len);
		put_u8(&w, 17);
		put_u8(&w, 64);
		put_bytes(&w, src->addr, 16);
		put_bytes(&w, dst->addr, 16);
	} else {
		put_u16(&w, 0x0800);
		put_u8(&w, 0x45);
		put_u8(&w, 0);
		put_u16(&w, (unsigned)(20 + udp_len));
		put_u16(&w, (unsigned)(ip_bits & 0xffff));
		put_u16(&w, 0x4000);
		put_u8(&w, 64);
		put_u8(&w, 17);
		put_u16(&w, 0);
		put_bytes(&w, src->addr, 4);
		put_bytes(&w, dst->addr, 4);
		uint16_t check = fold(sum16(frame + ip, 20, 0));
		frame[ip + 10] = (uint8_t)(check >> 8);
		frame[ip + 11] = (uint8_t)check;
	}
	pseudo = sum16(src->addr, addr_len, pseudo);
	pseudo = sum16(dst->addr, addr_len, pseudo);
	pseudo += 17 + (uint32_t)udp_len;
	size_t udp = w.len;
	put_u16(&w, sport);
	put_u16(&w, dport);
	put_u16(&w, (unsigned)udp_len);
	put_u16(&w, 0);
	put_bytes(&w, dns, dns_len);
	uint16_t check = fold(sum16(frame + udp, udp_len, pseudo));
	if (check == 0)
		check = 0xffff;
	frame[udp + 6] = (uint8_t)(check >> 8);
	frame[udp + 7] = (uint8_t)check;
	return w.len;
}

/* ---- pcap output ---- */

struct output {
	FILE *file;
	const char *path;
};

static int output_open(struct output *o, const char *path)
{
	o->path = path;
	o->file = fopen(path, "wb");
	if (!o->file) {
		fprintf(stderr, "make_capture: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	setvbuf(o->file, NULL, _IOFBF, 1 << 20);
	uint32_t header[6] = {PCAP_MAGIC_USEC, 2 | (4u << 16), 0, 0, 65535, LINKTYPE_ETHER};
	fwrite(header, sizeof(header), 1, o->file);
	return 0;
}

static void output_packet(struct output *o, uint64_t ts_ns, const uint8_t *frame, size_t len)
{
	uint32_t header[4] = {(uint32_t)(START_SECONDS + ts_ns / 1000000000u),
			      (uint32_t)(ts_ns % 1000000000u / 1000u), (uint32_t)len,
			      (uint32_t)len};
	fwrite(header, sizeof(header), 1, o->file);
	fwrite(frame, len, 1, o->file);
}

static int output_close(struct output *o)
{
	if (!o->file)
		return 0;
	if (ferror(o->file) | fclose(o->file)) {
		fprintf(stderr, "make_capture: writing %s failed: %s\n", o->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Which half a flow goes to: a hash of its endpoints in a fixed order, the same both ways. */
static unsigned split_of(const struct endpoint *client, uint16_t client_port,
			 const struct endpoint *server)
{
	uint8_t a[18], b[18];
	memcpy(a, client->addr, 16);
	a[16] = (uint8_t)(client_port >> 8);
	a[17] = (uint8_t)client_port;
	memcpy(b, server->addr, 16);
	b[16] = 0;
	b[17] = 53;
	const uint8_t *lo = memcmp(a, b, 18) < 0 ? a : b, *hi = lo == a ? b : a;
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 18; i++)
		h = (h ^ lo[i]) * 0x100000001b3ull;
	for (int i = 0; i < 18; i++)
		h = (h ^ hi[i]) * 0x100000001b3ull;
	return (unsigned)(mix(h) % SPLIT_COUNT);
}

/* ---- the schedule: queries arrive, responses follow after a cache hit's or miss's delay ---- */

struct pending {
	struct transaction *items;
	size_t count, cap;
};

static bool earlier(const struct transaction *a, const struct transaction *b)
{
	return a->response_ns < b->response_ns;
}

static int pending_push(struct pending *p, const struct transaction *t)
{
	if (p->count == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4096;
		struct transaction *items = realloc(p->items, cap * sizeof(*items));
		if (!items)
			return -1;
		p->items = items;
		p->cap = cap;
	}
	size_t i = p->count++;
	while (i > 0 && earlier(t, &p->items[(i - 1) / 2])) {
		p->items[i] = p->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	p->items[i] = *t;
	return 0;
}

static struct transaction pending_pop(struct pending *p)
{
	struct transaction top = p->items[0];
	struct transaction last = p->items[--p->count];
	size_t i = 0;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= p->count)
			break;
		if (child + 1 < p->count && earlier(&p->items[child + 1], &p->items[child]))
			child++;
		if (!earlier(&p->items[child], &last))
			break;
		p->items[i] = p->items[child];
		i = child;
	}
	if (p->count > 0)
		p->items[i] = last;
	return top;
}

static uint16_t pick_qtype(struct rng *r)
{
	unsigned x = (unsigned)rng_below(r, 100);
	return x < 55	? T_A
	       : x < 83 ? T_AAAA
	       : x < 89 ? T_HTTPS
	       : x < 92 ? T_MX
	       : x < 95 ? T_TXT
	       : x < 97 ? T_NS
	       : x < 98 ? T_SRV
			: T_A;
}

static void new_transaction(struct rng *r, uint64_t now_ns, const double *zipf,
			    struct transaction *t)
{
	memset(t, 0, sizeof(*t));
	t->query_ns = now_ns;
	t->client = (unsigned)rng_below(r, CLIENT_COUNT);
	t->name = zipf_draw(r, zipf, NAME_COUNT);
	t->qtype = pick_qtype(r);
	t->id = (uint16_t)rng_next(r);
	t->client_port = (uint16_t)(1024 + rng_below(r, 65536 - 1024));
	t->flags = (rng_percent(r, 95) ? 0x0100 : 0) | (rng_percent(r, 20) ? 0x0020 : 0);
	unsigned outcome = (unsigned)rng_below(r, 100);
	t->rcode = outcome < 4 ? 3 : outcome < 5 ? 2 : 0;
	t->edns = rng_percent(r, 50);
	if (t->edns) {
		t->udp_size = rng_percent(r, 60) ? 1232 : 4096;
		t->edns_do = rng_percent(r, 30);
		t->cookie = rng_percent(r, 40);
		t->ecs = rng_percent(r, 20);
		t->cookie_bits = rng_next(r);
	}
	bool cache_hit = rng_percent(r, 80);
	t->response_ns =
	    now_ns + (cache_hit ? 100000 + rng_below(r, 700000) : 5000000 + rng_below(r, 75000000));
}

struct totals {
	uint64_t packets, v6, vlan, edns, ecs, query_bytes, response_bytes, split[SPLIT_COUNT];
};

struct generator {
	struct output all;
	struct output split[SPLIT_COUNT];
	bool do_split;
	uint64_t seed;
	struct name *names;
	struct totals totals;
	uint8_t dns[FRAME_MAX], frame[FRAME_MAX];
};

static void emit(struct generator *g, const struct transaction *t, bool response)
{
	struct endpoint client, server;
	client_endpoint(g->seed, t->client, &client);
	uint64_t h = mix(t->client);
	server_endpoint(client.v6 ? 4 + (unsigned)(h % 2) : (unsigned)(h % 4), &server);
	const struct name *n = &g->names[t->name];
	size_t dns_len =
	    response ? build_response(g->dns, n, t, &client) : build_query(g->dns, n, t, &client);
	uint64_t ip_bits = mix(t->query_ns + response);
	size_t len = response ? build_frame(g->frame, &server, 53, &client, t->client_port,
					    client.vlan, g->dns, dns_len, ip_bits)
			      : build_frame(g->frame, &client, t->client_port, &server, 53,
					    client.vlan, g->dns, dns_len, ip_bits);
	uint64_t ts = response ? t->response_ns : t->query_ns;
	output_packet(&g->all, ts, g->frame, len);
	if (g->do_split) {
		unsigned half = split_of(&client, t->client_port, &server);
		output_packet(&g->split[half], ts, g->frame, len);
		g->totals.split[half]++;
	}
	struct totals *s = &g->totals;
	s->packets++;
	s->v6 += client.v6;
	s->vlan += client.vlan != 0;
	s->edns += t->edns;
	s->ecs += t->ecs;
	if (response)
		s->response_bytes += len;
	else
		s->query_bytes += len;
}

/* Queries until half the packets are asked, then the responses still pending. */
static int generate(struct generator *g, uint64_t packets)
{
	struct rng r;
	rng_seed(&r, g->seed);
	double *zipf = zipf_table(NAME_COUNT);
	struct pending pending = {0};
	if (!zipf)
		return -1;
	uint64_t now = 0, queries = 0;
	int rc = 0;
	while (rc == 0 && (queries < packets / 2 || pending.count > 0)) {
		bool query_next = queries < packets / 2 &&
				  (pending.count == 0 || now <= pending.items[0].response_ns);
		if (query_next) {
			struct transaction t;
			new_transaction(&r, now, zipf, &t);
			emit(g, &t, false);
			rc = pending_push(&pending, &t);
			queries++;
			now += 1 + rng_below(&r, 2 * QUERY_GAP_NS);
		} else {
			struct transaction t = pending_pop(&pending);
			emit(g, &t, true);
		}
	}
	free(pending.items);
	free(zipf);
	return rc;
}

static void print_totals(const struct totals *s)
{
	uint64_t half = s->packets / 2;
	printf("{\"packets\":%llu,\"queries\":%llu,\"responses\":%llu,\"ipv6\":%llu,\"vlan\":%llu,"
	       "\"edns\":%llu,\"ecs\":%llu,\"query_wire_bytes_mean\":%.1f,"
	       "\"response_wire_bytes_mean\":%.1f,\"split\":[%llu,%llu]}\n",
	       (unsigned long long)s->packets, (unsigned long long)half, (unsigned long long)half,
	       (unsigned long long)s->v6, (unsigned long long)s->vlan, (unsigned long long)s->edns,
	       (unsigned long long)s->ecs, half ? (double)s->query_bytes / (double)half : 0,
	       half ? (double)s->response_bytes / (double)half : 0, (unsigned long long)s->split[0],
	       (unsigned long long)s->split[1]);
}

static const char usage[] =
    "Usage: make_capture --packets N --out FILE [--seed S] [--split PREFIX]\n"
    "Writes N DNS packets (N/2 queries and their responses) to FILE; with --split also\n"
    "PREFIX-0.pcap and PREFIX-1.pcap, the same packets split by a symmetric flow hash.\n"
    "Prints what was written as one JSON line.\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"packets", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
	    {"seed", required_argument, NULL, 's'},    {"split", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	struct generator *g = calloc(1, sizeof(*g));
	const char *out = NULL, *split_prefix = NULL;
	unsigned long long packets = 0;
	if (!g)
		return 1;
	g->seed = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			packets = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			g->seed = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			split_prefix = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!out || packets < 2 || packets % 2) {
		fprintf(stderr, "make_capture: give --out FILE and an even --packets N >= 2\n%s",
			usage);
		return 2;
	}
	g->names = calloc(NAME_COUNT, sizeof(*g->names));
	if (!g->names)
		return 1;
	struct rng names_rng;
	rng_seed(&names_rng, g->seed ^ 0x6e616d6573ull);
	for (unsigned i = 0; i < NAME_COUNT; i++)
		make_name(&names_rng, &g->names[i]);

	int rc = output_open(&g->all, out);
	if (rc == 0 && split_prefix) {
		static char paths[SPLIT_COUNT][4096];
		g->do_split = true;
		for (unsigned i = 0; rc == 0 && i < SPLIT_COUNT; i++) {
			snprintf(paths[i], sizeof(paths[i]), "%s-%u.pcap", split_prefix, i);
			rc = output_open(&g->split[i], paths[i]);
		}
	}
	if (rc == 0)
		rc = generate(g, packets);
	rc |= output_close(&g->all);
	for (unsigned i = 0; i < SPLIT_COUNT; i++)
		rc |= output_close(&g->split[i]);
	if (rc != 0)
		return 1;
	print_totals(&g->totals);
	free(g->names);
	free(g);
	return 0;
}
