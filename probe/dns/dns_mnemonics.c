/* Names of DNS codes. RR type names come from ldns so they match the RDATA ldns prints; response
 * codes and opcodes follow the IANA DNS parameters registry. */
#include "dns_mnemonics.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *const rcode_names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", NULL,      NULL,	 NULL,	     NULL,
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",   "BADNAME", "BADALG",	 "BADTRUNC", "BADCOOKIE",
};

static const char *const opcode_names[] = {
    "QUERY", "IQUERY", "STATUS", NULL, "NOTIFY", "UPDATE", "DSO",
};

static const char *numbered(const char *prefix, unsigned value, char buf[DNS_MNEMONIC_MAX])
{
	snprintf(buf, DNS_MNEMONIC_MAX, "%s%u", prefix, value);
	return buf;
}

/* Query-only types (RFC 1035 3.2.3, RFC 1995) that ldns has no RDATA descriptor for. */
static const char *meta_type_name(uint16_t type)
{
	switch (type) {
	case 251:
		return "IXFR";
	case 252:
		return "AXFR";
	case 253:
		return "MAILB";
	case 254:
		return "MAILA";
	case 255:
		return "ANY";
	default:
		return NULL;
	}
}

const char *dns_type_name(uint16_t type, char buf[DNS_MNEMONIC_MAX])
{
	const char *meta = meta_type_name(type);
	if (meta)
		return meta;
	const ldns_rr_descriptor *descriptor = ldns_rr_descript(type);
	if (type != 0 && descriptor && descriptor->_type == type && descriptor->_name)
		return descriptor->_name;
	return numbered("TYPE", type, buf);
}

const char *dns_class_name(uint16_t class, char buf[DNS_MNEMONIC_MAX])
{
	const ldns_lookup_table *entry = ldns_lookup_by_id(ldns_rr_classes, class);
	if (entry && entry->name)
		return entry->name;
	return numbered("CLASS", class, buf);
}

const char *dns_rcode_name(uint16_t rcode, char buf[DNS_MNEMONIC_MAX])
{
	if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0]) && rcode_names[rcode])
		return rcode_names[rcode];
	return numbered("RCODE", rcode, buf);
}

const char *dns_opcode_name(uint8_t opcode, char buf[DNS_MNEMONIC_MAX])
{
	if (opcode < sizeof(opcode_names) / sizeof(opcode_names[0]) && opcode_names[opcode])
		return opcode_names[opcode];
	return numbered("OPCODE", opcode, buf);
}

static void fill(struct dns_mnemonic *m, const char *name)
{
	size_t len = strnlen(name, DNS_MNEMONIC_MAX - 1);
	memset(m->text, 0, sizeof(m->text));
	memcpy(m->text, name, len);
	m->len = (uint8_t)len;
}

#define TABLED_CODES 256
static struct dns_mnemonic type_table[TABLED_CODES], class_table[TABLED_CODES];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill_tables(void)
{
	char buf[DNS_MNEMONIC_MAX];
	for (uint16_t code = 0; code < TABLED_CODES; code++) {
		fill(&type_table[code], dns_type_name(code, buf));
		fill(&class_table[code], dns_class_name(code, buf));
	}
}

/* The table's entry for a code below TABLED_CODES; any other named into buf. */
static const struct dns_mnemonic *lookup(const struct dns_mnemonic *table, uint16_t code,
					 const char *(*name)(uint16_t, char *),
					 struct dns_mnemonic *buf)
{
	if (code < TABLED_CODES) {
		pthread_once(&tables_once, fill_tables);
		return &table[code];
	}
	char text[DNS_MNEMONIC_MAX];
	fill(buf, name(code, text));
	return buf;
}

const struct dns_mnemonic *dns_type_mnemonic(uint16_t type, struct dns_mnemonic *buf)
{
	return lookup(type_table, type, dns_type_name, buf);
}

const struct dns_mnemonic *dns_class_mnemonic(uint16_t class, struct dns_mnemonic *buf)
{
	return lookup(class_table, class, dns_class_name, buf);
}
