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

/*
 * n messages of the same length, each with its own key: out[i] = SipHash-2-4(keys[i], msgs[i]).
 * Vectorised (siphash_x.c) with the best implementation the CPU has, unless told otherwise.
 */
enum sw_siphash_impl {
	SW_SIPHASH_SCALAR = 0,
	SW_SIPHASH_AVX2,
	SW_SIPHASH_AVX512,
};

typedef void (*sw_siphash_batch_fn)(const struct sw_sipkey *const *keys,
				    const uint8_t *const *msgs, size_t len, uint64_t *out,
				    unsigned int n);

void sw_siphash24_batch(const struct sw_sipkey *const *keys, const uint8_t *const *msgs,
			size_t len, uint64_t *out, unsigned int n);
enum sw_siphash_impl sw_siphash_best_impl(void);
/* Use impl from now on; -1 if this CPU cannot run it. */
int sw_siphash_select(enum sw_siphash_impl impl);
const char *sw_siphash_impl_name(void);

#endif
