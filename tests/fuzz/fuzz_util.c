/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"

void (*fz_on_fail)(void);

void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==fuzz== INVARIANT BROKEN at %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (fz_on_fail != NULL)
		fz_on_fail();
	abort();
}

void
fz_hexdump(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : " ", p[i]);
	fprintf(stderr, "\n");
}

void
fz_frame_walk(const uint8_t *f, uint32_t len, struct fz_frame *out)
{
	uint32_t off = 14, type, avail;
	const uint8_t *ip;

	out->ip = false;
	out->vlan = false;
	out->th_len = 0;
	if (len < 14)
		return;
	type = fz_rd16(f + 12);
	if (type == 0x8100) {
		if (len < 18)
			return;
		out->vlan = true;
		type = fz_rd16(f + 16);
		off = 18;
	}
	ip = f + off;
	avail = len - off;
	out->l3_off = off;
	if (type == 0x0800) {
		uint32_t ihl, tot;

		if (avail < 20 || ip[0] >> 4 != 4)
			return;
		ihl = (uint32_t)(ip[0] & 15) * 4;
		tot = fz_rd16(ip + 2);
		if (ihl < 20 || ihl > avail || tot < ihl || tot > avail)
			return;
		out->v6 = false;
		out->l3_len = ihl;
		out->l4_len = tot - ihl;
		out->proto = ip[9];
	} else if (type == 0x86dd) {
		uint32_t plen;

		if (avail < 40 || ip[0] >> 4 != 6)
			return;
		plen = fz_rd16(ip + 4);
		if (plen > avail - 40)
			return;
		out->v6 = true;
		out->l3_len = 40;
		out->l4_len = plen;
		out->proto = ip[6];
	} else {
		return;
	}
	out->l4_off = off + out->l3_len;
	out->ip = true;
	if (out->proto == FZ_PROTO_TCP && out->l4_len >= 20) {
		uint32_t doff = (uint32_t)(f[out->l4_off + 12] >> 4) * 4;

		if (doff >= 20 && doff <= out->l4_len)
			out->th_len = doff;
	}
}

uint32_t
fz_sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	uint64_t s = acc;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* Where the upper layer's checksum field is, and the sum of its pseudo-header. */
static bool
l4_csum_at(const uint8_t *f, const struct fz_frame *fr, uint32_t *field, uint32_t *pseudo)
{
	const uint8_t *ip = f + fr->l3_off;

	switch (fr->proto) {
	case FZ_PROTO_TCP:
		if (fr->l4_len < 18)
			return false;
		*field = 16;
		break;
	case FZ_PROTO_ICMP:
		if (fr->v6 || fr->l4_len < 4)
			return false;
		*field = 2;
		*pseudo = 0;
		return true;
	case FZ_PROTO_ICMPV6:
		if (!fr->v6 || fr->l4_len < 4)
			return false;
		*field = 2;
		break;
	default:
		return false;
	}
	if (fr->v6)
		*pseudo = fz_sum16(ip + 8, 32, fr->proto + fr->l4_len);
	else
		*pseudo = fz_sum16(ip + 12, 8, fr->proto + fr->l4_len);
	return true;
}

bool
fz_ip_csum_ok(const uint8_t *f, const struct fz_frame *fr)
{
	return fr->v6 || fz_sum16(f + fr->l3_off, fr->l3_len, 0) == 0xffff;
}

bool
fz_l4_csum_ok(const uint8_t *f, const struct fz_frame *fr)
{
	uint32_t field, pseudo;

	if (!l4_csum_at(f, fr, &field, &pseudo))
		return false;
	return fz_sum16(f + fr->l4_off, fr->l4_len, pseudo) == 0xffff;
}

void
fz_csum_fix(uint8_t *f, const struct fz_frame *fr)
{
	uint8_t *ip = f + fr->l3_off;
	uint32_t field, pseudo;

	if (!fr->v6) {
		fz_wr16(ip + 10, 0);
		fz_wr16(ip + 10, (uint16_t)~fz_sum16(ip, fr->l3_len, 0));
	}
	if (!l4_csum_at(f, fr, &field, &pseudo))
		return;
	fz_wr16(f + fr->l4_off + field, 0);
	fz_wr16(f + fr->l4_off + field,
		(uint16_t)~fz_sum16(f + fr->l4_off, fr->l4_len, pseudo));
}
