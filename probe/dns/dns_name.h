/* Domain names from DNS wire format to presentation format (RFC 1035 5.1 escapes), with
 * compression pointers followed only backwards so that no message can make the reader loop. */
#ifndef DNSPROBE_DNS_NAME_H
#define DNSPROBE_DNS_NAME_H

#include <stddef.h>
#include <stdint.h>

/* 255 wire bytes, each at most 4 characters ("\DDD"), plus a NUL. */
#define DNS_NAME_TEXT_MAX 1024

enum dns_name_status {
	DNS_NAME_OK,
	DNS_NAME_TRUNCATED,   /* runs past the end of the message */
	DNS_NAME_BAD_POINTER, /* a pointer that does not point backwards, or at offset 0 */
	DNS_NAME_BAD_LABEL,   /* label type 0x40 or 0x80 */
	DNS_NAME_TOO_LONG     /* more than 255 octets */
};

const char *dns_name_status_text(enum dns_name_status status);

/* Reads the name at *offset in msg; on success *offset is just past it in the message.
 * The text has no trailing dot; the root is ".". */
enum dns_name_status dns_name_read(const uint8_t *msg, size_t msg_len, size_t *offset,
				   char text[DNS_NAME_TEXT_MAX], size_t *text_len);

/* Checks the name at *offset as dns_name_read does, without rendering it. */
enum dns_name_status dns_name_skip(const uint8_t *msg, size_t msg_len, size_t *offset);

/* Renders an uncompressed wire name (a label sequence ending in the root label). */
enum dns_name_status dns_name_from_labels(const uint8_t *wire, size_t wire_len,
					  char text[DNS_NAME_TEXT_MAX], size_t *text_len);

#endif
