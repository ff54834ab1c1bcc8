/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the libFuzzer harnesses share (docs/FUZZING.md): a reader over the fuzz input, a
 * frame walker and Internet checksums written here independently of the dataplane (to
 * check what it leaves in a frame), and the one way a harness reports a broken invariant:
 * a message on stderr and abort(), which libFuzzer records as a crash with its input.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the input ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v;

	if (in->n == 0)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static inline uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t hi = fz_u16(in);

	return hi << 16 | fz_u16(in);
}

/* Up to n bytes of the input (fewer when it ends): a pointer into it, *got its length. */
static inline const uint8_t *
fz_bytes(struct fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->n)
		n = in->n;
	in->p += n;
	in->n -= n;
	*got = n;
	return p;
}

/* ---- failures ---- */

/* A broken invariant: printed with the harness's context, then abort(). */
void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

#define FZ_CHECK(cond, ...) do {                                                \
	if (!(cond))                                                            \
		fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                \
} while (0)

/* Called before the abort, if set: the harness prints what it was doing. */
extern void (*fz_on_fail)(void);

/* Bytes as hex on stderr, for failure messages. */
void fz_hexdump(const char *what, const uint8_t *p, size_t n);

/* ---- frames, read here without the dataplane's parser ---- */

#define FZ_PROTO_ICMP   1
#define FZ_PROTO_TCP    6
#define FZ_PROTO_ICMPV6 58

/*
 * Where a frame's headers are, if it is Ethernet (at most one 802.1Q tag) carrying IPv4
 * (any IHL from 5 that fits, total length within the frame) or IPv6 whose first next
 * header is the upper layer (no extension headers). l4_len is what the IP header says, so
 * the frame may go on past it (padding).
 */
struct fz_frame {
	bool ip;                /* the fields below are filled in */
	bool v6;
	bool vlan;
	uint8_t proto;
	uint32_t l3_off;
	uint32_t l3_len;
	uint32_t l4_off;
	uint32_t l4_len;
	/* TCP only (proto 6 and at least 20 bytes): the header length, when it is within
	 * l4_len (else 0) */
	uint32_t th_len;
};

void fz_frame_walk(const uint8_t *f, uint32_t len, struct fz_frame *out);

/* The ones'-complement sum of big-endian 16-bit words, an odd last byte padded with 0. */
uint32_t fz_sum16(const uint8_t *p, size_t n, uint32_t acc);
static inline uint16_t
fz_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The IPv4 header's checksum is right (true for IPv6, which has none). */
bool fz_ip_csum_ok(const uint8_t *f, const struct fz_frame *fr);
/* The TCP, ICMP or ICMPv6 checksum is right (with the pseudo-header where it has one). */
bool fz_l4_csum_ok(const uint8_t *f, const struct fz_frame *fr);
/* Make both right (TCP, ICMP, ICMPv6; anything else: the IPv4 header's only). */
void fz_csum_fix(uint8_t *f, const struct fz_frame *fr);

static inline uint16_t
fz_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
fz_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
fz_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
fz_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
