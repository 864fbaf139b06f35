/* Appending JSON text to a fixed-size buffer without printf. */
#include "json_writer.h"

#include <stdbool.h>
#include <string.h>

void json_init(struct json_writer *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->overflow = false;
}

void json_literal(struct json_writer *w, const char *text)
{
	json_raw(w, text, strlen(text));
}

static void put_char(struct json_writer *w, char c)
{
	if (w->len == w->size) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = c;
}

/* Bytes a JSON string may hold as they are: printable ASCII but the quote and the backslash. */
static const bool plain_byte[256] = {
    [0x20] = true,
    [0x21] = true,
    [0x23 ... 0x5b] = true,
    [0x5d ... 0x7e] = true,
};

void json_string(struct json_writer *w, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Worst case every byte becomes \u00XX: check once, then write without checks. */
	if (len * 6 + 2 > w->size - w->len) {
		w->overflow = true;
		return;
	}
	char *out = w->buf + w->len;
	*out++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (plain_byte[c]) {
			*out++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*out++ = '\\';
			*out++ = (char)c;
		} else {
			memcpy(out, "\\u00", 4);
			out[4] = hex[c >> 4];
			out[5] = hex[c & 0x0f];
			out += 6;
		}
	}
	*out++ = '"';
	w->len = (size_t)(out - w->buf);
}

void json_cstring(struct json_writer *w, const char *text)
{
	json_string(w, text, strlen(text));
}

static const char two_digits[201] = "00010203040506070809101112131415161718192021222324252627282930"
				    "31323334353637383940414243444546474849505152535455565758596061"
				    "62636465666768697071727374757677787980818283848586878889909192"
				    "93949596979899";

void json_uint(struct json_writer *w, uint64_t value)
{
	char digits[20];
	size_t n = sizeof(digits);
	while (value >= 100) {
		n -= 2;
		memcpy(digits + n, two_digits + (value % 100) * 2, 2);
		value /= 100;
	}
	if (value >= 10) {
		n -= 2;
		memcpy(digits + n, two_digits + value * 2, 2);
	} else {
		digits[--n] = (char)('0' + value);
	}
	json_raw(w, digits + n, sizeof(digits) - n);
}

void json_comma(struct json_writer *w)
{
	if (w->len > 0) {
		char last = w->buf[w->len - 1];
		if (last != '{' && last != '[')
			put_char(w, ',');
	}
}

void json_key(struct json_writer *w, const char *key)
{
	json_comma(w);
	put_char(w, '"');
	json_literal(w, key);
	json_raw(w, "\":", 2);
}

void json_open(struct json_writer *w, char bracket)
{
	put_char(w, bracket);
}

void json_close(struct json_writer *w, char bracket)
{
	put_char(w, bracket);
}
