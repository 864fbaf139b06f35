/* The raw value encoder: a packet that holds the message (docs/records.md, "raw"). */
#ifndef DNSPROBE_VALUE_RAW_H
#define DNSPROBE_VALUE_RAW_H

#include "encoder.h"

extern const struct value_encoder value_raw;

#endif
