/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4 (Aumasson & Bernstein), 128-bit key, 64-bit output. */
#ifndef SW_SIPHASH_H
#define SW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct sw_sipkey {
	uint64_t k0, k1;        /* the 16 key bytes read as two little-endian words */
};

void sw_sipkey_from_bytes(struct sw_sipkey *key, const uint8_t bytes[16]);
uint64_t sw_siphash24(const struct sw_sipkey *key, const void *data, size_t len);

#endif
