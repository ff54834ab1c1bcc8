/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SipHash-2-4 of several messages at once, one per 64-bit vector lane: AVX-512 (8 lanes),
 * AVX2 (4 lanes), or the scalar code; chosen at run time from what the CPU has. Every
 * implementation gives the same result as sw_siphash24() (tests/unit/test_siphash.c).
 */
#include <string.h>

#include <immintrin.h>

#include "siphash.h"

static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);       /* x86 is little-endian */
	return v;
}

/* The message words of one lane: full words, then the last one with the length. */
static inline uint64_t
word_at(const uint8_t *msg, size_t len, size_t i)
{
	size_t full = len / 8;
	uint64_t b;

	if (i < full)
		return load_le64(msg + 8 * i);
	b = (uint64_t)len << 56;
	switch (len & 7) {
	case 7: b |= (uint64_t)msg[8 * full + 6] << 48; /* fall through */
	case 6: b |= (uint64_t)msg[8 * full + 5] << 40; /* fall through */
	case 5: b |= (uint64_t)msg[8 * full + 4] << 32; /* fall through */
	case 4: b |= (uint64_t)msg[8 * full + 3] << 24; /* fall through */
	case 3: b |= (uint64_t)msg[8 * full + 2] << 16; /* fall through */
	case 2: b |= (uint64_t)msg[8 * full + 1] << 8;  /* fall through */
	case 1: b |= (uint64_t)msg[8 * full];           break;
	case 0: break;
	}
	return b;
}

static void
batch_scalar(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
	     uint64_t *out, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		out[i] = sw_siphash24(keys[i], msgs[i], len);
}

/* ---- AVX2: 4 lanes ---- */

#define AVX2_ROTL(x, b) _mm256_or_si256(_mm256_slli_epi64(x, b), _mm256_srli_epi64(x, 64 - (b)))

#define AVX2_ROUND(v0, v1, v2, v3) do {                                                 \
	v0 = _mm256_add_epi64(v0, v1); v1 = AVX2_ROTL(v1, 13); v1 = _mm256_xor_si256(v1, v0); \
	v0 = _mm256_shuffle_epi32(v0, _MM_SHUFFLE(2, 3, 0, 1));                          \
	v2 = _mm256_add_epi64(v2, v3); v3 = AVX2_ROTL(v3, 16); v3 = _mm256_xor_si256(v3, v2); \
	v0 = _mm256_add_epi64(v0, v3); v3 = AVX2_ROTL(v3, 21); v3 = _mm256_xor_si256(v3, v0); \
	v2 = _mm256_add_epi64(v2, v1); v1 = AVX2_ROTL(v1, 17); v1 = _mm256_xor_si256(v1, v2); \
	v2 = _mm256_shuffle_epi32(v2, _MM_SHUFFLE(2, 3, 0, 1));                          \
} while (0)

__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
avx2_lanes(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
	   uint64_t *out, unsigned int n)
{
	unsigned int i = 0;

	for (; i + 4 <= n; i += 4) {
		const struct sw_sipkey *const *k = keys + i;
		const uint8_t *const *m = msgs + i;
		__m256i k0 = _mm256_set_epi64x((long long)k[3]->k0, (long long)k[2]->k0,
					       (long long)k[1]->k0, (long long)k[0]->k0);
		__m256i k1 = _mm256_set_epi64x((long long)k[3]->k1, (long long)k[2]->k1,
					       (long long)k[1]->k1, (long long)k[0]->k1);
		__m256i v0 = _mm256_xor_si256(k0, _mm256_set1_epi64x(0x736f6d6570736575LL));
		__m256i v1 = _mm256_xor_si256(k1, _mm256_set1_epi64x(0x646f72616e646f6dLL));
		__m256i v2 = _mm256_xor_si256(k0, _mm256_set1_epi64x(0x6c7967656e657261LL));
		__m256i v3 = _mm256_xor_si256(k1, _mm256_set1_epi64x(0x7465646279746573LL));
		size_t w, words = len / 8 + 1;
		__m256i r;

		for (w = 0; w < words; w++) {
			__m256i mw = _mm256_set_epi64x((long long)word_at(m[3], len, w),
						       (long long)word_at(m[2], len, w),
						       (long long)word_at(m[1], len, w),
						       (long long)word_at(m[0], len, w));

			v3 = _mm256_xor_si256(v3, mw);
			AVX2_ROUND(v0, v1, v2, v3);
			AVX2_ROUND(v0, v1, v2, v3);
			v0 = _mm256_xor_si256(v0, mw);
		}
		v2 = _mm256_xor_si256(v2, _mm256_set1_epi64x(0xff));
		AVX2_ROUND(v0, v1, v2, v3);
		AVX2_ROUND(v0, v1, v2, v3);
		AVX2_ROUND(v0, v1, v2, v3);
		AVX2_ROUND(v0, v1, v2, v3);
		r = _mm256_xor_si256(_mm256_xor_si256(v0, v1), _mm256_xor_si256(v2, v3));
		_mm256_storeu_si256((__m256i *)(void *)(out + i), r);
	}
	batch_scalar(keys + i, msgs + i, len, out + i, n - i);
}

/* The cookie messages' two lengths (IPv4, IPv6) get a copy each with the length a
 * constant, so that the last word's assembly is straight-line code. */
__attribute__((target("avx2"))) static void
batch_avx2(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
	   uint64_t *out, unsigned int n)
{
	if (len == 17)
		avx2_lanes(keys, msgs, 17, out, n);
	else if (len == 41)
		avx2_lanes(keys, msgs, 41, out, n);
	else
		avx2_lanes(keys, msgs, len, out, n);
}

/* ---- AVX-512: 8 lanes, native 64-bit rotates ---- */

#define AVX512_ROUND(v0, v1, v2, v3) do {                                               \
	v0 = _mm512_add_epi64(v0, v1); v1 = _mm512_rol_epi64(v1, 13);                    \
	v1 = _mm512_xor_si512(v1, v0); v0 = _mm512_rol_epi64(v0, 32);                     \
	v2 = _mm512_add_epi64(v2, v3); v3 = _mm512_rol_epi64(v3, 16);                    \
	v3 = _mm512_xor_si512(v3, v2);                                                   \
	v0 = _mm512_add_epi64(v0, v3); v3 = _mm512_rol_epi64(v3, 21);                    \
	v3 = _mm512_xor_si512(v3, v0);                                                   \
	v2 = _mm512_add_epi64(v2, v1); v1 = _mm512_rol_epi64(v1, 17);                    \
	v1 = _mm512_xor_si512(v1, v2); v2 = _mm512_rol_epi64(v2, 32);                    \
} while (0)

__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
avx512_lanes(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
	     uint64_t *out, unsigned int n)
{
	unsigned int i = 0;

	for (; i + 8 <= n; i += 8) {
		const struct sw_sipkey *const *k = keys + i;
		const uint8_t *const *m = msgs + i;
		__m512i k0 = _mm512_set_epi64((long long)k[7]->k0, (long long)k[6]->k0,
					      (long long)k[5]->k0, (long long)k[4]->k0,
					      (long long)k[3]->k0, (long long)k[2]->k0,
					      (long long)k[1]->k0, (long long)k[0]->k0);
		__m512i k1 = _mm512_set_epi64((long long)k[7]->k1, (long long)k[6]->k1,
					      (long long)k[5]->k1, (long long)k[4]->k1,
					      (long long)k[3]->k1, (long long)k[2]->k1,
					      (long long)k[1]->k1, (long long)k[0]->k1);
		__m512i v0 = _mm512_xor_si512(k0, _mm512_set1_epi64(0x736f6d6570736575LL));
		__m512i v1 = _mm512_xor_si512(k1, _mm512_set1_epi64(0x646f72616e646f6dLL));
		__m512i v2 = _mm512_xor_si512(k0, _mm512_set1_epi64(0x6c7967656e657261LL));
		__m512i v3 = _mm512_xor_si512(k1, _mm512_set1_epi64(0x7465646279746573LL));
		size_t w, words = len / 8 + 1;

		for (w = 0; w < words; w++) {
			__m512i mw = _mm512_set_epi64(
				(long long)word_at(m[7], len, w), (long long)word_at(m[6], len, w),
				(long long)word_at(m[5], len, w), (long long)word_at(m[4], len, w),
				(long long)word_at(m[3], len, w), (long long)word_at(m[2], len, w),
				(long long)word_at(m[1], len, w), (long long)word_at(m[0], len, w));

			v3 = _mm512_xor_si512(v3, mw);
			AVX512_ROUND(v0, v1, v2, v3);
			AVX512_ROUND(v0, v1, v2, v3);
			v0 = _mm512_xor_si512(v0, mw);
		}
		v2 = _mm512_xor_si512(v2, _mm512_set1_epi64(0xff));
		AVX512_ROUND(v0, v1, v2, v3);
		AVX512_ROUND(v0, v1, v2, v3);
		AVX512_ROUND(v0, v1, v2, v3);
		AVX512_ROUND(v0, v1, v2, v3);
		_mm512_storeu_si512((void *)(out + i),
				    _mm512_xor_si512(_mm512_xor_si512(v0, v1),
						     _mm512_xor_si512(v2, v3)));
	}
	batch_avx2(keys + i, msgs + i, len, out + i, n - i);
}

__attribute__((target("avx512f"))) static void
batch_avx512(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
	     uint64_t *out, unsigned int n)
{
	if (len == 17)
		avx512_lanes(keys, msgs, 17, out, n);
	else if (len == 41)
		avx512_lanes(keys, msgs, 41, out, n);
	else
		avx512_lanes(keys, msgs, len, out, n);
}

/* ---- selection ---- */

static const struct {
	const char *name;
	sw_siphash_batch_fn fn;
} impls[] = {
	[SW_SIPHASH_SCALAR] = { "scalar", batch_scalar },
	[SW_SIPHASH_AVX2] = { "avx2", batch_avx2 },
	[SW_SIPHASH_AVX512] = { "avx512", batch_avx512 },
};

static sw_siphash_batch_fn batch_fn = batch_scalar;
static enum sw_siphash_impl batch_impl = SW_SIPHASH_SCALAR;

enum sw_siphash_impl
sw_siphash_best_impl(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2"))
		return SW_SIPHASH_AVX512;
	if (__builtin_cpu_supports("avx2"))
		return SW_SIPHASH_AVX2;
	return SW_SIPHASH_SCALAR;
}

int
sw_siphash_select(enum sw_siphash_impl impl)
{
	if (impl > sw_siphash_best_impl())
		return -1;
	batch_fn = impls[impl].fn;
	batch_impl = impl;
	return 0;
}

const char *
sw_siphash_impl_name(void)
{
	return impls[batch_impl].name;
}

void
sw_siphash24_batch(const struct sw_sipkey *const *keys, const uint8_t *const *msgs, size_t len,
		   uint64_t *out, unsigned int n)
{
	batch_fn(keys, msgs, len, out, n);
}
