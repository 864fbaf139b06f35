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

void json_literal(struct json_writer *w, const char *text); /* NUL-terminated, no escaping */
void json_string(struct json_writer *w, const char *text, size_t len);
void json_cstring(struct json_writer *w, const char *text);
void json_uint(struct json_writer *w, uint64_t value);
void json_key(struct json_writer *w, const char *key); /* "key": with a comma when needed */
void json_open(struct json_writer *w, char bracket);   /* { or [ */
void json_close(struct json_writer *w, char bracket);  /* } or ] */
void json_comma(struct json_writer *w);		       /* between array items */

#endif
