/* SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012, with one
 * compression round and three finalisation rounds, as CPython and Rust's HashMap use it): a keyed
 * hash for hash tables whose keys come from the network. Without the key, no one can pick keys
 * that fall into one bucket. */
#ifndef DNSPROBE_SIPHASH_H
#define DNSPROBE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash13(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *data, size_t len);

#endif
