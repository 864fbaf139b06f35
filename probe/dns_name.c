/* Domain names from DNS wire format to presentation format. */
#include "dns_name.h"

#include <stdbool.h>

#define MAX_NAME_WIRE 255

const char *dns_name_status_text(enum dns_name_status status)
{
	switch (status) {
	case DNS_NAME_OK:
		return "ok";
	case DNS_NAME_TRUNCATED:
		return "name runs past the end of the message";
	case DNS_NAME_BAD_POINTER:
		return "compression pointer does not point backwards";
	case DNS_NAME_BAD_LABEL:
		return "unsupported label type";
	case DNS_NAME_TOO_LONG:
		return "name longer than 255 octets";
	}
	return "bad name";
}

/* How each byte of a label is written, with the same escapes as ldns uses for names inside
 * RDATA so that one record reads alike: as is, after a backslash, or as \DDD. */
enum byte_form { DECIMAL, AS_IS, BACKSLASH };

static const uint8_t byte_forms[256] =
    {
	[0x21 ... 0x27] = AS_IS, ['('] = BACKSLASH,	  [')'] = BACKSLASH,
	[0x2a ... 0x2d] = AS_IS, ['.'] = BACKSLASH,	  [0x2f ... 0x3a] = AS_IS,
	[';'] = BACKSLASH,	 [0x3c ... 0x5b] = AS_IS, ['\\'] = BACKSLASH,
	[0x5d ... 0x7e] = AS_IS,
};

/* Appends one label. text has room: the wire length is checked against 255 first. */
static size_t append_label(const uint8_t *label, size_t len, char *text, size_t pos)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = label[i];
		switch (byte_forms[c]) {
		case AS_IS:
			text[pos++] = (char)c;
			break;
		case BACKSLASH:
			text[pos++] = '\\';
			text[pos++] = (char)c;
			break;
		case DECIMAL:
			text[pos++] = '\\';
			text[pos++] = (char)('0' + c / 100);
			text[pos++] = (char)('0' + c / 10 % 10);
			text[pos++] = (char)('0' + c % 10);
			break;
		}
	}
	text[pos++] = '.';
	return pos;
}

static void finish(char *text, size_t pos, size_t *text_len)
{
	if (pos == 0) {
		text[0] = '.';
		pos = 1;
	} else {
		pos--; /* drop the trailing dot */
	}
	text[pos] = '\0';
	*text_len = pos;
}

/* Walks the name at *offset; renders it into text unless text is NULL. */
static enum dns_name_status walk_name(const uint8_t *msg, size_t msg_len, size_t *offset,
				      char *text, size_t *text_len)
{
	size_t pos = *offset, text_pos = 0, wire_len = 0, end = 0;
	size_t lowest = pos; /* a pointer must go below every place read so far */
	bool jumped = false;
	for (;;) {
		if (pos >= msg_len)
			return DNS_NAME_TRUNCATED;
		uint8_t len = msg[pos];
		if ((len & 0xc0) == 0xc0) {
			if (pos + 1 >= msg_len)
				return DNS_NAME_TRUNCATED;
			size_t target = (size_t)(len & 0x3f) << 8 | msg[pos + 1];
			/* Offset 0 is the message ID, never a name (ldns refuses it too). */
			if (target == 0 || target >= lowest)
				return DNS_NAME_BAD_POINTER;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = lowest = target;
			continue;
		}
		if (len & 0xc0)
			return DNS_NAME_BAD_LABEL;
		wire_len += (size_t)len + 1;
		if (wire_len > MAX_NAME_WIRE)
			return DNS_NAME_TOO_LONG;
		if (len == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (len > msg_len - pos - 1)
			return DNS_NAME_TRUNCATED;
		if (text)
			text_pos = append_label(msg + pos + 1, len, text, text_pos);
		pos += (size_t)len + 1;
	}
	if (text)
		finish(text, text_pos, text_len);
	*offset = end;
	return DNS_NAME_OK;
}

enum dns_name_status dns_name_read(const uint8_t *msg, size_t msg_len, size_t *offset,
				   char text[DNS_NAME_TEXT_MAX], size_t *text_len)
{
	text[0] = '\0';
	*text_len = 0;
	return walk_name(msg, msg_len, offset, text, text_len);
}

enum dns_name_status dns_name_skip(const uint8_t *msg, size_t msg_len, size_t *offset)
{
	return walk_name(msg, msg_len, offset, NULL, NULL);
}

enum dns_name_status dns_name_from_labels(const uint8_t *wire, size_t wire_len,
					  char text[DNS_NAME_TEXT_MAX], size_t *text_len)
{
	size_t pos = 0, text_pos = 0;
	text[0] = '\0';
	*text_len = 0;
	if (wire_len > MAX_NAME_WIRE)
		return DNS_NAME_TOO_LONG;
	while (pos < wire_len) {
		uint8_t len = wire[pos];
		if (len == 0)
			break;
		if (len & 0xc0)
			return DNS_NAME_BAD_LABEL;
		if (len > wire_len - pos - 1)
			return DNS_NAME_TRUNCATED;
		text_pos = append_label(wire + pos + 1, len, text, text_pos);
		pos += (size_t)len + 1;
	}
	finish(text, text_pos, text_len);
	return DNS_NAME_OK;
}
