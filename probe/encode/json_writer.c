/* Appending JSON text to a fixed-size buffer without printf. */
#include "json_writer.h"

#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Eight bytes at once: true when none needs escaping (none below 0x20, above 0x7e, '"' or '\\').
 * Each test is exact for "some byte is": (x - 0x01..) & ~x & 0x80.. is non-zero exactly when a
 * byte of x is zero, and likewise for "below n" (n <= 128) and "above n" (n < 128). */
static bool word_is_plain(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t below_space = (v - ones * 0x20) & ~v;
	uint64_t above_tilde = (v + ones * (0x7f - 0x7e)) | v;
	uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
	uint64_t has_quote = (quote - ones) & ~quote,
		 has_backslash = (backslash - ones) & ~backslash;
	return ((below_space | above_tilde | has_quote | has_backslash) & highs) == 0;
}

#ifdef __SSE2__
/* The same for 16 bytes: printable means above 0x1f as a signed byte (so not 0x80 and up), and
 * not 0x7f, '"' or '\\'. */
static bool chunk_is_plain(__m128i v)
{
	__m128i printable = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f));
	__m128i escaped = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
				       _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	return _mm_movemask_epi8(_mm_andnot_si128(escaped, printable)) == 0xffff;
}
#endif

char *json_put_string(char *out, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	*out++ = '"';
	size_t i = 0;
	/* Most text (names in records) is plain: copy it 16 bytes at a time where SSE2 is there,
	 * then a word at a time. A chunk that needs escapes leaves the rest to the byte loop. */
#ifdef __SSE2__
	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
		if (!chunk_is_plain(v))
			break;
		_mm_storeu_si128((__m128i *)(void *)out, v);
		out += 16;
	}
#endif
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, text + i, 8);
		if (!word_is_plain(v))
			break;
		memcpy(out, &v, 8);
		out += 8;
	}
	if (len >= 8 && i < len && i + 8 > len) {
		/* The tail as the last eight bytes, overlapping what was copied (plain). */
		uint64_t v;
		memcpy(&v, text + len - 8, 8);
		if (word_is_plain(v)) {
			memcpy(out - i + len - 8, &v, 8);
			out += len - i;
			i = len;
		}
	}
	for (; i < len; i++) {
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
	return out;
}

void json_string(struct json_writer *w, const char *text, size_t len)
{
	char *out = json_reserve(w, JSON_STRING_MAX(len));
	if (out)
		json_commit(w, json_put_string(out, text, len));
}

void json_cstring(struct json_writer *w, const char *text)
{
	json_string(w, text, strlen(text));
}

const char json_two_digits[201] = "00010203040506070809101112131415161718192021222324252627282930"
				  "31323334353637383940414243444546474849505152535455565758596061"
				  "62636465666768697071727374757677787980818283848586878889909192"
				  "93949596979899";

/* Decimal digits of a value of 100 or more. */
static size_t digit_count(uint64_t value)
{
	if (value < 1000)
		return 3;
	if (value < 100000)
		return value < 10000 ? 4 : 5;
	if (value < 10000000)
		return value < 1000000 ? 6 : 7;
	size_t n = 8;
	for (value /= 100000000; value > 0; value /= 10)
		n++;
	return n;
}

char *json_put_uint_wide(char *out, uint64_t value)
{
	if (value < 100)
		return json_put_uint(out, value);
	/* Counted first, then written from the end, two digits at a time, in place. */
	char *end = out + digit_count(value), *p = end;
	while (value >= 100) {
		p -= 2;
		memcpy(p, json_two_digits + (value % 100) * 2, 2);
		value /= 100;
	}
	if (value >= 10)
		memcpy(p - 2, json_two_digits + value * 2, 2);
	else
		p[-1] = (char)('0' + value);
	return end;
}

void json_uint(struct json_writer *w, uint64_t value)
{
	char *out = json_reserve(w, JSON_UINT_MAX);
	if (out)
		json_commit(w, json_put_uint(out, value));
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
