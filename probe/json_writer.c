/* Appending JSON text to a fixed-size buffer without printf. */
#include "json_writer.h"

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
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
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

void json_uint(struct json_writer *w, uint64_t value)
{
	char digits[20];
	size_t n = sizeof(digits);
	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
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
