/* The key encoders: the 38-byte binary flow key, its text form, and Community ID v1. */
#ifndef DNSPROBE_KEY_ENCODERS_H
#define DNSPROBE_KEY_ENCODERS_H

#include "encoder.h"

extern const struct key_encoder key_binary;
extern const struct key_encoder key_text;
extern const struct key_encoder key_community_id;

#endif
