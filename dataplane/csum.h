/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum's ones'-complement sum (RFC 1071) of a byte range, as DPDK's
 * rte_raw_cksum() computes it (16-bit words in host order, an odd last byte as the word's
 * first byte), but four bytes per add into a 64-bit accumulator instead of two: every ACK
 * synwall cannot hand to a flow is summed in software when the NIC did not check it.
 * tests/unit/test_parse.c compares the two on random data.
 */
#ifndef SW_CSUM_H
#define SW_CSUM_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

/* Add the bytes at buf to a running sum (not folded). */
static inline uint64_t
sw_cksum_add(uint64_t acc, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint32_t w;
	uint16_t h;

	/* 2^32 words would be needed to overflow: len is a frame's */
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len != 0) {
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
		acc += *p;
#else
		acc += (uint32_t)*p << 8;
#endif
	}
	return acc;
}

/* The running sum folded to 16 bits: 2^16 = 1 (mod 2^16 - 1). */
static inline uint16_t
sw_cksum_fold(uint64_t acc)
{
	acc = (acc >> 32) + (acc & 0xffffffff);
	acc = (acc >> 32) + (acc & 0xffffffff);
	acc = (acc >> 16) + (acc & 0xffff);
	acc = (acc >> 16) + (acc & 0xffff);
	return (uint16_t)acc;
}

static inline uint16_t
sw_raw_cksum(const void *buf, uint32_t len)
{
	return sw_cksum_fold(sw_cksum_add(0, buf, len));
}

/* The sum of the big-endian 16-bit words of [p, p + len), len even (not folded). */
static inline uint32_t
sw_cksum_be16(const uint8_t *p, unsigned int len)
{
	uint32_t s = 0;
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

/* Replace len bytes at p, inside a region whose checksum field is *csum and which starts at
 * base (an even offset of the checksummed data), keeping the checksum right (RFC 1624): a
 * corrupt segment stays corrupt. */
void sw_csum_patch(uint8_t *base, uint8_t *csum, uint8_t *p, const uint8_t *bytes,
		   unsigned int len);

#endif
