/* A strict JSON checker (RFC 8259 grammar) for the fuzz targets. Recursive descent with a depth
 * limit; whitespace between tokens is accepted, but no byte outside printable ASCII is. */
#include "json_check.h"

#include <string.h>

#define MAX_DEPTH 64

struct cursor {
	const char *p;
	const char *end;
	int depth;
};

static bool value(struct cursor *c);

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool take(struct cursor *c, char want)
{
	if (c->p < c->end && *c->p == want) {
		c->p++;
		return true;
	}
	return false;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Reads "\uXXXX" after the backslash and 'u'; returns the code unit or -1. */
static long unicode_escape(struct cursor *c)
{
	if (c->end - c->p < 4)
		return -1;
	long unit = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(c->p[i]);
		if (d < 0)
			return -1;
		unit = unit << 4 | d;
	}
	c->p += 4;
	return unit;
}

/* A string; when out is set, the bytes it stands for (escapes up to \u00ff only). */
static bool string(struct cursor *c, unsigned char *out, size_t *out_len)
{
	size_t n = 0;
	if (!take(c, '"'))
		return false;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p++;
		if (ch == '"') {
			if (out_len)
				*out_len = n;
			return true;
		}
		if (ch < 0x20 || ch > 0x7e)
			return false;
		if (ch != '\\') {
			if (out)
				out[n] = ch;
			n++;
			continue;
		}
		if (c->p == c->end)
			return false;
		char esc = *c->p++;
		static const char simple_escapes[] = "\"\\/bfnrt";
		static const char simple_bytes[] = "\"\\/\b\f\n\r\t";
		const char *simple = esc ? strchr(simple_escapes, esc) : NULL;
		long unit;
		if (simple) {
			ch = (unsigned char)simple_bytes[simple - simple_escapes];
		} else if (esc == 'u' && (unit = unicode_escape(c)) >= 0) {
			if (out && unit > 0xff)
				return false;
			ch = (unsigned char)unit;
		} else {
			return false;
		}
		if (out)
			out[n] = ch;
		n++;
	}
	return false;
}

static bool digits(struct cursor *c)
{
	const char *start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > start;
}

static bool number(struct cursor *c)
{
	take(c, '-');
	if (take(c, '0')) {
		if (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			return false; /* no leading zeros */
	} else if (!digits(c)) {
		return false;
	}
	if (take(c, '.') && !digits(c))
		return false;
	if (take(c, 'e') || take(c, 'E')) {
		if (!take(c, '+'))
			take(c, '-');
		if (!digits(c))
			return false;
	}
	return true;
}

static bool word(struct cursor *c, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool object(struct cursor *c)
{
	take(c, '{');
	skip_space(c);
	if (take(c, '}'))
		return true;
	for (;;) {
		skip_space(c);
		if (!string(c, NULL, NULL))
			return false;
		skip_space(c);
		if (!take(c, ':'))
			return false;
		skip_space(c);
		if (!value(c))
			return false;
		skip_space(c);
		if (take(c, '}'))
			return true;
		if (!take(c, ','))
			return false;
	}
}

static bool array(struct cursor *c)
{
	take(c, '[');
	skip_space(c);
	if (take(c, ']'))
		return true;
	for (;;) {
		skip_space(c);
		if (!value(c))
			return false;
		skip_space(c);
		if (take(c, ']'))
			return true;
		if (!take(c, ','))
			return false;
	}
}

static bool value(struct cursor *c)
{
	if (c->p == c->end || ++c->depth > MAX_DEPTH)
		return false;
	bool ok;
	switch (*c->p) {
	case '{':
		ok = object(c);
		break;
	case '[':
		ok = array(c);
		break;
	case '"':
		ok = string(c, NULL, NULL);
		break;
	case 't':
		ok = word(c, "true");
		break;
	case 'f':
		ok = word(c, "false");
		break;
	case 'n':
		ok = word(c, "null");
		break;
	default:
		ok = number(c);
		break;
	}
	c->depth--;
	return ok;
}

static bool printable_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x20 || ch > 0x7e)
			return false;
	}
	return true;
}

bool json_check_value(const char *text, size_t len)
{
	struct cursor c = {text, text + len, 0};
	return printable_ascii(text, len) && value(&c) && c.p == c.end;
}

bool json_check_object(const char *text, size_t len)
{
	return len > 0 && text[0] == '{' && json_check_value(text, len);
}

bool json_check_string(const char *text, size_t len, unsigned char *decoded, size_t *decoded_len)
{
	struct cursor c = {text, text + len, 0};
	return string(&c, decoded, decoded_len) && c.p == c.end;
}
