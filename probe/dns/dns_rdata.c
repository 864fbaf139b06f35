/* RDATA of the common RR types in presentation format, as ldns prints it: names absolute with a
 * trailing dot, numbers in decimal, character-strings quoted with \" \\ and \DDD escapes. */
#include "dns_rdata.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "address_text.h"
#include "bytes.h"
#include "dns_name.h"

enum {
	TYPE_A = 1,
	TYPE_NS = 2,
	TYPE_CNAME = 5,
	TYPE_SOA = 6,
	TYPE_PTR = 12,
	TYPE_MX = 15,
	TYPE_TXT = 16,
	TYPE_AAAA = 28,
	TYPE_SRV = 33,
	TYPE_DNAME = 39,
};

struct text {
	char *out;
	size_t size, len;
	bool full;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->full || n >= t->size - t->len) {
		t->full = true;
		return;
	}
	memcpy(t->out + t->len, s, n);
	t->len += n;
}

static void put_uint(struct text *t, uint32_t v)
{
	char digits[10];
	size_t n = 0;
	do {
		digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(t, digits + sizeof(digits) - n, n);
}

/* A name inside RDATA: absolute, so with the trailing dot (the root is "."). */
static bool put_name(struct text *t, const uint8_t *msg, size_t end, size_t *offset)
{
	char name[DNS_NAME_TEXT_MAX];
	size_t n;
	if (dns_name_read(msg, end, offset, name, &n) != DNS_NAME_OK)
		return false;
	put(t, name, n);
	if (!(n == 1 && name[0] == '.'))
		put(t, ".", 1);
	return true;
}

static void put_character_string(struct text *t, const uint8_t *s, size_t n)
{
	put(t, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		char esc[4];
		if (isprint(c) || c == '\t') {
			if (c == '"' || c == '\\') {
				esc[0] = '\\';
				esc[1] = (char)c;
				put(t, esc, 2);
			} else {
				put(t, (const char *)&c, 1);
			}
		} else {
			esc[0] = '\\';
			esc[1] = (char)('0' + c / 100);
			esc[2] = (char)('0' + c / 10 % 10);
			esc[3] = (char)('0' + c % 10);
			put(t, esc, 4);
		}
	}
	put(t, "\"", 1);
}

static void put_ipv4(struct text *t, const uint8_t *a)
{
	char text[ADDRESS_TEXT_MAX];
	put(t, text, ipv4_text(a, text));
}

static enum dns_rdata_status render(const uint8_t *msg, size_t offset, size_t end, uint16_t type,
				    struct text *t)
{
	size_t rdlength = end - offset;
	char ipv6[ADDRESS_TEXT_MAX];
	switch (type) {
	case TYPE_A:
		if (rdlength != 4)
			return DNS_RDATA_BAD;
		put_ipv4(t, msg + offset);
		offset = end;
		break;
	case TYPE_AAAA:
		if (rdlength != 16)
			return DNS_RDATA_BAD;
		put(t, ipv6, ipv6_text(msg + offset, ipv6));
		offset = end;
		break;
	case TYPE_NS:
	case TYPE_CNAME:
	case TYPE_PTR:
	case TYPE_DNAME:
		if (!put_name(t, msg, end, &offset))
			return DNS_RDATA_BAD;
		break;
	case TYPE_MX:
		if (rdlength < 3)
			return DNS_RDATA_BAD;
		put_uint(t, bytes_be16(msg + offset));
		put(t, " ", 1);
		offset += 2;
		if (!put_name(t, msg, end, &offset))
			return DNS_RDATA_BAD;
		break;
	case TYPE_SRV:
		if (rdlength < 7)
			return DNS_RDATA_BAD;
		for (int i = 0; i < 3; i++, offset += 2) {
			put_uint(t, bytes_be16(msg + offset));
			put(t, " ", 1);
		}
		if (!put_name(t, msg, end, &offset))
			return DNS_RDATA_BAD;
		break;
	case TYPE_SOA:
		if (!put_name(t, msg, end, &offset))
			return DNS_RDATA_BAD;
		put(t, " ", 1);
		if (!put_name(t, msg, end, &offset) || end - offset != 20)
			return DNS_RDATA_BAD;
		for (int i = 0; i < 5; i++, offset += 4) {
			put(t, " ", 1);
			put_uint(t, bytes_be32(msg + offset));
		}
		break;
	case TYPE_TXT:
		if (rdlength == 0)
			return DNS_RDATA_BAD;
		while (offset < end) {
			size_t n = msg[offset];
			if (n > end - offset - 1)
				return DNS_RDATA_BAD;
			if (t->len)
				put(t, " ", 1);
			put_character_string(t, msg + offset + 1, n);
			offset += n + 1;
		}
		break;
	default:
		return DNS_RDATA_UNSUPPORTED;
	}
	/* Names must end exactly where the RDATA does. */
	if (type != TYPE_TXT && offset != end)
		return DNS_RDATA_BAD;
	return DNS_RDATA_OK;
}

enum dns_rdata_status dns_rdata_render(const uint8_t *msg, size_t msg_len, size_t offset,
				       size_t rdlength, uint16_t type, char *out, size_t out_size,
				       size_t *out_len)
{
	if (out_size == 0 || offset > msg_len || rdlength > msg_len - offset)
		return DNS_RDATA_BAD;
	struct text t = {out, out_size, 0, false};
	/* Names in RDATA may point anywhere before them, but must end inside the RDATA: reading
	 * them against the RDATA end keeps every read inside the record. */
	enum dns_rdata_status status = render(msg, offset, offset + rdlength, type, &t);
	if (status != DNS_RDATA_OK)
		return status;
	if (t.full)
		return DNS_RDATA_NO_SPACE;
	out[t.len] = '\0';
	*out_len = t.len;
	return DNS_RDATA_OK;
}
