/* Domain names from DNS wire format to presentation format. */
#include "dns_name.h"

#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_NAME_WIRE 255

const char *dns_name_status_text(enum dns_name_status status)
{
	switch (status) {
	case DNS_NAME_OK:
		return "ok";
	case DNS_NAME_TRUNCATED:
		return "name runs past the end of the message";
	case DNS_NAME_BAD_POINTER:
		return "compression pointer does not point backwards, or points at the message ID";
	case DNS_NAME_BAD_LABEL:
		return "unsupported label type";
	case DNS_NAME_TOO_LONG:
		return "name longer than 255 octets";
	}
	return "bad name";
}

/* How each byte of a label is written, with the same escapes as ldns uses for names inside
 * RDATA so that one record reads alike: as is, after a backslash, or as \DDD. */
enum byte_form { AS_IS, BACKSLASH, DECIMAL };

static const uint8_t byte_forms[256] = {
    [0x00 ... 0x20] = DECIMAL, ['('] = BACKSLASH,  [')'] = BACKSLASH,	      ['.'] = BACKSLASH,
    [';'] = BACKSLASH,	       ['\\'] = BACKSLASH, [0x7f ... 0xff] = DECIMAL,
};

/* Eight label bytes at once: true when all are written as they are (none below 0x21, above 0x7e,
 * or one of ( ) . ; \). Each test is exact for "some byte is": (x - 0x01..) & ~x & 0x80.. is
 * non-zero exactly when a byte of x is zero, and likewise for "below n" (n <= 128) and "above n"
 * (n < 128). */
static bool word_is_as_is(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t found = ((v - ones * 0x21) & ~v) | ((v + ones) | v);
	static const uint8_t escaped[] = {'(', ')', '.', ';', '\\'};
	for (size_t i = 0; i < sizeof(escaped); i++) {
		uint64_t x = v ^ (ones * escaped[i]);
		found |= (x - ones) & ~x;
	}
	return (found & highs) == 0;
}

/* Writes the label with its escapes from text[pos]; returns the end. */
static size_t append_escaped(const uint8_t *label, size_t len, char *text, size_t pos)
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
	return pos;
}

#ifdef __SSE2__
/* Bit i set when byte i of v is written as it is (0x21 to 0x7e, but not ( ) . ; \). */
static unsigned as_is_mask(__m128i v)
{
	__m128i printable = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x20));
	__m128i escaped = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
	static const char escaped_bytes[] = {'(', ')', '.', ';', '\\'};
	for (size_t i = 0; i < sizeof(escaped_bytes); i++)
		escaped = _mm_or_si128(escaped, _mm_cmpeq_epi8(v, _mm_set1_epi8(escaped_bytes[i])));
	return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(escaped, printable));
}
#endif

/* Appends one label and a dot; readable bytes of the message may be read from label on. text
 * has room: the wire length is checked against 255 first. */
static size_t append_label(const uint8_t *label, size_t len, size_t readable, char *text,
			   size_t pos)
{
#ifdef __SSE2__
	/* Most labels are short and need no escape: check and copy them in one piece. */
	if (len <= 16 && readable >= 16 && pos + 16 <= DNS_NAME_TEXT_MAX) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)label);
		unsigned label_bits = (1u << len) - 1;
		if ((as_is_mask(v) & label_bits) == label_bits) {
			_mm_storeu_si128((__m128i *)(void *)(text + pos), v);
			pos += len;
			text[pos++] = '.';
			return pos;
		}
	}
#else
	(void)readable;
#endif
	/* Otherwise check and copy as they are, a word at a time when long. */
	bool as_is = true;
	if (len >= 8) {
		uint64_t v;
		for (size_t i = 0; as_is && i + 8 <= len; i += 8) {
			memcpy(&v, label + i, 8);
			as_is = word_is_as_is(v);
			memcpy(text + pos + i, &v, 8);
		}
		memcpy(&v, label + len - 8, 8);
		as_is = as_is && word_is_as_is(v);
		memcpy(text + pos + len - 8, &v, 8);
	} else {
		uint8_t forms = AS_IS;
		for (size_t i = 0; i < len; i++) {
			text[pos + i] = (char)label[i];
			forms |= byte_forms[label[i]];
		}
		as_is = forms == AS_IS;
	}
	pos = as_is ? pos + len : append_escaped(label, len, text, pos);
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
			text_pos =
			    append_label(msg + pos + 1, len, msg_len - pos - 1, text, text_pos);
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
		text_pos = append_label(wire + pos + 1, len, wire_len - pos - 1, text, text_pos);
		pos += (size_t)len + 1;
	}
	finish(text, text_pos, text_len);
	return DNS_NAME_OK;
}
