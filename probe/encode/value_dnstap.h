/* The dnstap value encoder: a Dnstap protobuf per record (docs/dnstap.md). */
#ifndef DNSPROBE_VALUE_DNSTAP_H
#define DNSPROBE_VALUE_DNSTAP_H

#include "encoder.h"

extern const struct value_encoder value_dnstap;

#endif
