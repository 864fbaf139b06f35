/* The json value encoder: one JSON object per DNS message (record_json.c), no newline (the file
 * sink frames text values). */
#include "value_json.h"

#include "json_writer.h"
#include "record_json.h"

static void *json_state_new(const struct encoder_settings *settings)
{
	return record_json_state_new(settings);
}

static void json_state_free(void *state)
{
	record_json_state_free(state);
}

static size_t json_encode(void *state, const struct dns_event *event, uint8_t *out, size_t room)
{
	struct json_writer json;
	json_init(&json, (char *)out, room);
	record_json_encode(&json, state, event);
	return json.overflow ? 0 : json.len;
}

const struct value_encoder value_json = {
    .name = "json",
    .binary = false,
    .shows_answers = true,
    .state_new = json_state_new,
    .state_free = json_state_free,
    .encode = json_encode,
};
