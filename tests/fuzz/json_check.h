/* A strict JSON checker for the fuzz targets: RFC 8259 syntax, and nothing but printable ASCII,
 * which is all the probe's JSON writer may produce (every other byte is escaped as \u00XX). */
#ifndef DNSPROBE_FUZZ_JSON_CHECK_H
#define DNSPROBE_FUZZ_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when text is exactly one JSON value (with no surrounding whitespace) and every byte is
 * printable ASCII. */
bool json_check_value(const char *text, size_t len);

/* True when text is one JSON object. */
bool json_check_object(const char *text, size_t len);

/* True when text is one JSON string; the bytes it stands for are written to decoded (room for
 * len bytes) and their count to decoded_len. Only \u0000-\u00ff escapes are decoded as one byte;
 * anything above makes the check fail, since the writer never produces it. */
bool json_check_string(const char *text, size_t len, unsigned char *decoded, size_t *decoded_len);

#endif
