/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segments are written field by field (options in whole 4-byte words), and their checksums
 * are summed from the field values as they are written, not read back from the buffer:
 * reading 16-bit words over bytes just stored defeats store forwarding and stalls the core
 * (it was the hottest spot of the SYN path).
 */
#include <string.h>

#include <rte_mbuf_core.h>

#include "bytes.h"
#include "csum.h"
#include "tcpout.h"

/* A byte pair written at an even offset of the checksummed area: its 16-bit word. */
#define W(hi, lo) ((uint32_t)(hi) << 8 | (uint32_t)(lo))

static inline uint32_t
sum32(uint32_t v)
{
	return (v >> 16) + (v & 0xffff);
}

/* Sum of an address's 16-bit words (4 or 16 bytes), a 32-bit load at a time. */
static inline uint32_t
sum_addr(const uint8_t *a, unsigned int len)
{
	uint32_t s = sum32(sw_rd32(a));

	if (len == 16)
		s += sum32(sw_rd32(a + 4)) + (sum32(sw_rd32(a + 8)) + sum32(sw_rd32(a + 12)));
	return s;
}

/* One 4-byte word of options at p + n; *s gets its two 16-bit words. */
static inline uint16_t
put_word(uint8_t *p, uint16_t n, uint32_t v, uint32_t *s)
{
	sw_wr32(p + n, v);
	*s += sum32(v);
	return (uint16_t)(n + 4);
}

/* Write the options (Linux's layout, every option in whole 4-byte words); *sum gets the sum
 * of their 16-bit words. */
static uint16_t
write_options(uint8_t *p, const struct sw_tcpopts *o, uint32_t *sum)
{
	uint16_t n = 0;
	bool sack = o->present & SW_OPT_SACKOK;
	bool ts = o->present & SW_OPT_TS;
	uint32_t s = 0;

	if (o->present & SW_OPT_MSS)
		n = put_word(p, n, 0x02040000u | o->mss, &s);
	if (ts) {
		/* SACK-permitted where the timestamps' NOP NOP would be */
		n = put_word(p, n, sack ? 0x0402080au : 0x0101080au, &s);
		n = put_word(p, n, o->tsval, &s);
		n = put_word(p, n, o->tsecr, &s);
	} else if (sack) {
		n = put_word(p, n, 0x01010402u, &s);
	}
	if (o->present & SW_OPT_WS)
		n = put_word(p, n, 0x01030300u | o->wscale, &s);
	*sum = s;
	return n;
}

uint16_t
sw_write_tcp_options(uint8_t *p, const struct sw_tcpopts *o)
{
	uint32_t unused;

	return write_options(p, o, &unused);
}

void
sw_write_seg(uint8_t *buf, const struct sw_seg *s, bool csum_offload, struct sw_seg_lens *lens)
{
	unsigned int alen = s->t.v6 ? 16 : 4;
	uint8_t *ip, *th;
	uint16_t l2 = 14, l3, olen, l4;
	uint32_t osum, psum, tsum;

	memcpy(buf, s->eth_dst, 6);
	memcpy(buf + 6, s->eth_src, 6);
	if (s->has_vlan) {
		sw_wr16(buf + 12, 0x8100);
		sw_wr16(buf + 14, s->vlan_tci);
		l2 = 18;
	}
	sw_wr16(buf + l2 - 2, s->t.v6 ? 0x86dd : 0x0800);
	ip = buf + l2;
	l3 = s->t.v6 ? 40 : 20;
	th = ip + l3;

	olen = write_options(th + 20, &s->opt, &osum);
	l4 = (uint16_t)(20 + olen);
	sw_wr16(th, s->t.sport);
	sw_wr16(th + 2, s->t.dport);
	sw_wr32(th + 4, s->seq);
	sw_wr32(th + 8, s->ack);
	th[12] = (uint8_t)((l4 / 4) << 4);
	th[13] = s->flags;
	sw_wr16(th + 14, s->win);
	sw_wr16(th + 18, 0);

	/* pseudo-header: addresses, protocol, TCP length */
	psum = sum_addr(s->t.src, alen) + sum_addr(s->t.dst, alen) + 6 + l4;
	tsum = psum + s->t.sport + s->t.dport + sum32(s->seq) + sum32(s->ack) +
	       W(th[12], s->flags) + s->win + osum;
	sw_wr16(th + 16, csum_offload ? sw_cksum_fold(psum)
				      : (uint16_t)~sw_cksum_fold(tsum));

	if (!s->t.v6) {
		uint16_t tot = (uint16_t)(l3 + l4);

		ip[0] = 0x45;
		ip[1] = 0;
		sw_wr16(ip + 2, tot);
		sw_wr16(ip + 4, 0);
		sw_wr16(ip + 6, 0x4000);        /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, s->t.src, 4);
		memcpy(ip + 16, s->t.dst, 4);
		sw_wr16(ip + 10, csum_offload ? 0 :
			(uint16_t)~sw_cksum_fold(W(0x45, 0) + tot + 0x4000 + W(64, 6) +
					sum_addr(s->t.src, 4) + sum_addr(s->t.dst, 4)));
	} else {
		sw_wr32(ip, 0x60000000);
		sw_wr16(ip + 4, l4);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, s->t.src, 16);
		memcpy(ip + 24, s->t.dst, 16);
	}
	lens->l2_len = l2;
	lens->l3_len = l3;
	lens->l4_len = l4;
	lens->frame_len = (uint16_t)(l2 + l3 + l4);
}
