/* The json value encoder (docs/records.md). */
#ifndef DNSPROBE_VALUE_JSON_H
#define DNSPROBE_VALUE_JSON_H

#include "encoder.h"

extern const struct value_encoder value_json;

#endif
