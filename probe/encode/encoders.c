/* The one table of value encoders and the one of key encoders: a new format is one line here. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "encoder.h"
#include "key_encoders.h"
#include "value_dnstap.h"
#include "value_json.h"
#include "value_raw.h"

static const struct value_encoder *const value_encoders[] = {
    &value_json,
    &value_raw,
    &value_dnstap,
};

static const struct key_encoder *const key_encoders[] = {
    &key_binary,
    &key_text,
    &key_community_id,
};

#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

const struct value_encoder *value_encoder_find(const char *name)
{
	for (size_t i = 0; i < COUNT(value_encoders); i++)
		if (strcmp(value_encoders[i]->name, name) == 0)
			return value_encoders[i];
	return NULL;
}

const struct key_encoder *key_encoder_find(const char *name)
{
	for (size_t i = 0; i < COUNT(key_encoders); i++)
		if (strcmp(key_encoders[i]->name, name) == 0)
			return key_encoders[i];
	return NULL;
}

/* "a, b or c": for help and error messages, built on first use (option parsing, one thread). */
#define NAMES_MAX 256

static void join_name(char *out, size_t *used, const char *name, size_t i, size_t count)
{
	const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
	int n = snprintf(out + *used, NAMES_MAX - *used, "%s%s", sep, name);
	if (n > 0 && (size_t)n < NAMES_MAX - *used)
		*used += (size_t)n;
}

const char *value_encoder_names(void)
{
	static char names[NAMES_MAX];
	size_t used = 0;
	if (names[0] == '\0')
		for (size_t i = 0; i < COUNT(value_encoders); i++)
			join_name(names, &used, value_encoders[i]->name, i, COUNT(value_encoders));
	return names;
}

const char *key_encoder_names(void)
{
	static char names[NAMES_MAX];
	size_t used = 0;
	if (names[0] == '\0')
		for (size_t i = 0; i < COUNT(key_encoders); i++)
			join_name(names, &used, key_encoders[i]->name, i, COUNT(key_encoders));
	return names;
}
