/* Appending JSON text to a fixed-size buffer without printf: strings are escaped so that any
 * byte sequence yields valid JSON (bytes outside printable ASCII become \u00XX). */
#ifndef DNSPROBE_JSON_WRITER_H
#define DNSPROBE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct json_writer {
	char *buf;
	size_t size;
	size_t len;
	bool overflow; /* something did not fit; the text is incomplete */
};

void json_init(struct json_writer *w, char *buf, size_t size);

/* Inline: most calls copy a few constant bytes, which the compiler then does without memcpy. */
static inline void json_raw(struct json_writer *w, const char *text, size_t len)
{
	if (len > w->size - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, text, len);
	w->len += len;
}

/* Writing in place, for encoders that know an upper bound of what they write next: room for n
 * more bytes, as a pointer to write them at, or NULL (and overflow set) when they do not fit; then
 * json_commit with the end of what was written. */
static inline char *json_reserve(struct json_writer *w, size_t n)
{
	if (n > w->size - w->len) {
		w->overflow = true;
		return NULL;
	}
	return w->buf + w->len;
}

static inline void json_commit(struct json_writer *w, char *end)
{
	w->len = (size_t)(end - w->buf);
}

/* The most json_put_string writes for len bytes of text: every byte as \u00XX, and the quotes. */
#define JSON_STRING_MAX(len) ((len)*6 + 2)
/* The most json_put_uint writes. */
#define JSON_UINT_MAX 20

/* Copies a string literal to p and returns the end. */
#define JSON_PUT(p, text) (memcpy((p), (text), sizeof(text) - 1), (p) + sizeof(text) - 1)

/* "00" to "99", two characters each. */
extern const char json_two_digits[201];

/* Write at out, which has room for what the macros above say; return the end. */
char *json_put_string(char *out, const char *text, size_t len);
char *json_put_uint_wide(char *out, uint64_t value); /* any value; the one below is quicker */

static inline char *json_put_uint(char *out, uint64_t value)
{
	if (value < 10) {
		*out = (char)('0' + value);
		return out + 1;
	}
	if (value < 100) {
		memcpy(out, json_two_digits + value * 2, 2);
		return out + 2;
	}
	return json_put_uint_wide(out, value);
}

void json_literal(struct json_writer *w, const char *text); /* NUL-terminated, no escaping */
void json_string(struct json_writer *w, const char *text, size_t len);
void json_cstring(struct json_writer *w, const char *text);
void json_uint(struct json_writer *w, uint64_t value);
void json_key(struct json_writer *w, const char *key); /* "key": with a comma when needed */
void json_open(struct json_writer *w, char bracket);   /* { or [ */
void json_close(struct json_writer *w, char bracket);  /* } or ] */
void json_comma(struct json_writer *w);		       /* between array items */

#endif
