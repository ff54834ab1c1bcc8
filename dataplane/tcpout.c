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

/*
 * The IP and TCP headers of a segment src -> dst at ip, with the options o; returns the TCP
 * length. lens gets l3_len and l4_len.
 */
static inline uint16_t
write_l3l4(uint8_t *ip, bool v6, const uint8_t *src, const uint8_t *dst, uint16_t sport,
	   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
	   const struct sw_tcpopts *o, bool csum_offload, struct sw_seg_lens *lens)
{
	unsigned int alen = v6 ? 16 : 4;
	uint16_t l3 = v6 ? 40 : 20, olen, l4;
	uint8_t *th = ip + l3;
	uint32_t osum, psum, tsum, asum;
	uint16_t hl_flags;

	/* the headers in as few stores as their fields allow: a store per field would make the
	 * core's store port the limit of the SYN path */
	olen = write_options(th + 20, o, &osum);
	l4 = (uint16_t)(20 + olen);
	hl_flags = (uint16_t)((l4 / 4) << 12 | flags);
	sw_wr64(th, (uint64_t)sport << 48 | (uint64_t)dport << 32 | seq);
	sw_wr64(th + 8, (uint64_t)ack << 32 | (uint32_t)hl_flags << 16 | win);

	/* pseudo-header: addresses, protocol, TCP length */
	asum = sum_addr(src, alen) + sum_addr(dst, alen);
	psum = asum + 6 + l4;
	tsum = psum + sport + dport + sum32(seq) + sum32(ack) + hl_flags + win + osum;
	/* the checksum, and a zero urgent pointer */
	sw_wr32(th + 16, (uint32_t)(csum_offload ? sw_cksum_fold(psum)
				     : (uint16_t)~sw_cksum_fold(tsum)) << 16);

	if (!v6) {
		uint16_t tot = (uint16_t)(l3 + l4);
		uint16_t sum = csum_offload ? 0 :
			(uint16_t)~sw_cksum_fold(W(0x45, 0) + tot + 0x4000 + W(64, 6) + asum);

		/* version and header length, TOS 0, length, ID 0, DF; TTL 64, TCP, checksum */
		sw_wr64(ip, 0x4500ull << 48 | (uint64_t)tot << 32 | 0x4000);
		sw_wr32(ip + 8, 64u << 24 | 6u << 16 | sum);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	} else {
		sw_wr64(ip, 0x60000000ull << 32 | (uint32_t)l4 << 16 | 6u << 8 | 64);
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	lens->l3_len = l3;
	lens->l4_len = l4;
	return l4;
}

void
sw_write_seg(uint8_t *buf, const struct sw_seg *s, bool csum_offload, struct sw_seg_lens *lens)
{
	uint16_t l2 = 14, l4;

	memcpy(buf, s->eth_dst, 6);
	memcpy(buf + 6, s->eth_src, 6);
	if (s->has_vlan) {
		sw_wr16(buf + 12, 0x8100);
		sw_wr16(buf + 14, s->vlan_tci);
		l2 = 18;
	}
	sw_wr16(buf + l2 - 2, s->t.v6 ? 0x86dd : 0x0800);
	l4 = write_l3l4(buf + l2, s->t.v6, s->t.src, s->t.dst, s->t.sport, s->t.dport, s->seq,
			s->ack, s->flags, s->win, &s->opt, csum_offload, lens);
	lens->l2_len = l2;
	lens->frame_len = (uint16_t)(l2 + lens->l3_len + l4);
}

/* Exchange the destination and source MACs of an Ethernet header: the 12 bytes read in two
 * loads and written in two stores. */
static inline void
swap_macs(uint8_t *frame)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	const uint64_t six = (1ull << 48) - 1;
	uint64_t lo, dst, src;
	uint32_t hi;

	memcpy(&lo, frame, 8);          /* bytes 0-7: the destination, the source's first 2 */
	memcpy(&hi, frame + 8, 4);      /* bytes 8-11: the rest of the source */
	dst = lo & six;
	src = lo >> 48 | (uint64_t)hi << 16;
	lo = src | dst << 48;
	hi = (uint32_t)(dst >> 16);
	memcpy(frame, &lo, 8);
	memcpy(frame + 8, &hi, 4);
#else
	uint8_t dst[6], src[6];

	memcpy(dst, frame, 6);
	memcpy(src, frame + 6, 6);
	memcpy(frame, src, 6);
	memcpy(frame + 6, dst, 6);
#endif
}

void
sw_write_answer(uint8_t *frame, const struct sw_pkt *pkt, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t win, const struct sw_tcpopts *o, bool csum_offload,
		struct sw_seg_lens *lens)
{
	uint16_t l4;

	/* the MACs swapped; the 802.1Q tag and the EtherType stay as they are */
	swap_macs(frame);
	l4 = write_l3l4(frame + pkt->l2_len, pkt->t.v6, pkt->t.dst, pkt->t.src, pkt->t.dport,
			pkt->t.sport, seq, ack, flags, win, o, csum_offload, lens);
	lens->l2_len = pkt->l2_len;
	lens->frame_len = (uint16_t)(pkt->l2_len + lens->l3_len + l4);
}
