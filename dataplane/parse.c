/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>
#include <rte_ip.h>

#include "bytes.h"
#include "csum.h"
#include "parse.h"

#define ETH_HLEN        14
#define VLAN_HLEN       4
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_VLAN  0x8100
#define ETHERTYPE_QINQ  0x88a8  /* 802.1ad service tag */
#define ETHERTYPE_QINQ1 0x9100  /* pre-standard service tags */
#define ETHERTYPE_QINQ2 0x9200
#define IPV6_HLEN       40
#define TCP_HLEN        20
#define ICMP_HLEN       8
#define PROTO_TCP       6
#define PROTO_ICMP      1
#define PROTO_ICMPV6    58
#define SW_NH_HOPOPTS    0
#define SW_NH_ROUTING    43
#define SW_NH_FRAGMENT   44
#define SW_NH_DSTOPTS    60
#define SW_NH_AH         51     /* IPsec authentication header (IPv4 protocol too) */
#define IPV6_MAX_EXT    8       /* extension headers walked at most */
#define IPV4_MAX_AH     2       /* authentication headers walked at most */

#define TCPOPT_EOL      0
#define TCPOPT_NOP      1
#define TCPOPT_MSS      2
#define TCPOPT_WS       3
#define TCPOPT_SACKOK   4
#define TCPOPT_SACK     5
#define TCPOPT_TS       8

static inline bool
is_tag(uint16_t type)
{
	return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ1 ||
	       type == ETHERTYPE_QINQ2;
}

static inline bool
is_v6_ext(uint8_t nh)
{
	return nh == SW_NH_HOPOPTS || nh == SW_NH_ROUTING || nh == SW_NH_DSTOPTS ||
	       nh == SW_NH_FRAGMENT || nh == SW_NH_AH;
}

/* IPv4 whose protocol is AH (not a fragment): TCP behind it is TCP with SW_EXT_AH. Out of
 * line, as ipv6_chain: the common headers' parse stays small enough to be inlined. */
static __rte_noinline __rte_cold int
ipv4_ah(const uint8_t *ip, uint32_t tot, struct sw_pkt *pkt)
{
	uint32_t off = pkt->l3_len, n;
	uint8_t nh = SW_NH_AH;

	for (n = 0; n < IPV4_MAX_AH && nh == SW_NH_AH; n++) {
		if (off + 2 > tot)
			return -SW_BAD_TRUNCATED;
		nh = ip[off];
		off += ((uint32_t)ip[off + 1] + 2) * 4;
		if (off > tot)
			return -SW_BAD_TRUNCATED;
	}
	if (nh == SW_NH_AH)
		return -SW_BAD_UNPARSED;
	if (nh != PROTO_TCP)
		return SW_L3_OTHER;
	pkt->ext = SW_EXT_AH;
	pkt->l3_len = (uint16_t)off;
	pkt->l4_len = (uint16_t)(tot - off);
	pkt->l4_proto = PROTO_TCP;
	return SW_L3_TCP;
}

/*
 * An IPv6 header chain (the first next header an extension header), walked to what it
 * carries, each header within the payload, at most IPV6_MAX_EXT of them. TCP behind them is
 * TCP with SW_EXT_V6 (and SW_EXT_AH if one was AH), for the caller to judge. A fragment of
 * TCP is malformed, as IPv4's: in a first fragment the chain is followed to its upper layer
 * (RFC 8200 4.5: the first fragment holds the whole chain), a later one says it in its
 * Fragment header's next header. An atomic fragment (offset 0, no more fragments) is a whole
 * packet to its receiver (RFC 6946): walked on. Whatever could carry TCP without the parser
 * seeing it (a longer chain, a first fragment whose chain ends past it, a later fragment of a
 * chain) is SW_BAD_UNPARSED: the caller's rule decides.
 */
static __rte_noinline __rte_cold int
ipv6_chain(const uint8_t *ip, uint32_t plen, struct sw_pkt *pkt)
{
	uint32_t ext = IPV6_HLEN, end = IPV6_HLEN + plen, n, hl;
	uint8_t nh = pkt->l4_proto, ext_flags = SW_EXT_V6;
	bool fragment = false;

	for (n = 0; is_v6_ext(nh); n++) {
		if (n == IPV6_MAX_EXT)
			return -SW_BAD_UNPARSED;
		if (nh == SW_NH_FRAGMENT) {
			uint16_t off_m;

			if (ext + 8 > end)
				return -SW_BAD_TRUNCATED;
			off_m = sw_rd16(ip + ext + 2);
			nh = ip[ext];
			ext += 8;
			if ((off_m & 0xfff8) != 0) {
				/* a later fragment: its payload continues what nh says */
				if (nh == PROTO_TCP)
					return -SW_BAD_FRAGMENT;
				return is_v6_ext(nh) ? -SW_BAD_UNPARSED : SW_L3_OTHER;
			}
			if (off_m & 1)
				fragment = true;
			continue;
		}
		if (ext + 2 > end)
			return fragment ? -SW_BAD_UNPARSED : -SW_BAD_TRUNCATED;
		/* AH counts its length in 4-byte words less 2, the others in 8-byte words
		 * less 1 */
		if (nh == SW_NH_AH) {
			ext_flags |= SW_EXT_AH;
			hl = ((uint32_t)ip[ext + 1] + 2) * 4;
		} else {
			hl = ((uint32_t)ip[ext + 1] + 1) * 8;
		}
		nh = ip[ext];
		ext += hl;
		if (ext > end)
			return fragment ? -SW_BAD_UNPARSED : -SW_BAD_TRUNCATED;
	}
	if (nh != PROTO_TCP)
		return SW_L3_OTHER;
	if (fragment)
		return -SW_BAD_FRAGMENT;
	pkt->ext = ext_flags;
	pkt->l3_len = (uint16_t)ext;
	pkt->l4_len = (uint16_t)(end - ext);
	pkt->l4_proto = PROTO_TCP;
	return SW_L3_TCP;
}

int
sw_parse_l3(const uint8_t *data, uint32_t len, struct sw_pkt *pkt)
{
	const uint8_t *ip;
	uint32_t off = ETH_HLEN;
	uint32_t avail, l4_avail;
	uint16_t type;

	pkt->has_vlan = 0;
	pkt->vlan_tci = 0;
	pkt->ext = 0;
	pkt->tcp_flags = 0;
	pkt->th_len = 0;
	pkt->ip = 0;

	if (len < ETH_HLEN)
		return -SW_BAD_TRUNCATED;
	type = sw_rd16(data + 12);
	if (type == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return -SW_BAD_TRUNCATED;
		pkt->has_vlan = 1;
		pkt->vlan_tci = sw_rd16(data + 14);
		type = sw_rd16(data + 16);
		off += VLAN_HLEN;
		/* One tag is all we parse; a second one hides what follows. */
		if (is_tag(type))
			return -SW_BAD_VLAN;
	} else if (is_tag(type)) {
		return -SW_BAD_VLAN;    /* a service tag outside: its payload unread */
	}
	pkt->l2_len = (uint16_t)off;
	ip = data + off;
	avail = len - off;

	if (type == ETHERTYPE_IPV4) {
		uint32_t ihl, tot, frag;

		if (avail < 20)
			return -SW_BAD_TRUNCATED;
		if ((ip[0] >> 4) != 4)
			return -SW_BAD_IP_HEADER;
		ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20)
			return -SW_BAD_IP_HEADER;
		if (ihl > avail)
			return -SW_BAD_TRUNCATED;
		tot = sw_rd16(ip + 2);
		/* The frame may carry padding after the datagram, never less than it. */
		if (tot < ihl || tot > avail)
			return -SW_BAD_IP_LENGTH;
		pkt->t.v6 = 0;
		memcpy(pkt->t.src, ip + 12, 4);
		memcpy(pkt->t.dst, ip + 16, 4);
		pkt->ip = 1;
		pkt->l3_len = (uint16_t)ihl;
		pkt->l4_len = (uint16_t)(tot - ihl);
		pkt->l4_proto = ip[9];
		pkt->ttl = ip[8];
		frag = sw_rd16(ip + 6) & 0x3fff;   /* MF and offset */
		if (pkt->l4_proto == PROTO_TCP && frag != 0)
			return -SW_BAD_FRAGMENT;
		if (pkt->l4_proto == PROTO_ICMP)
			return frag == 0 ? SW_L3_ICMP : SW_L3_OTHER;
		if (pkt->l4_proto == SW_NH_AH) {
			int rc;

			/* a fragment's AH may hide TCP: its payload is not read */
			if (frag != 0)
				return -SW_BAD_UNPARSED;
			rc = ipv4_ah(ip, tot, pkt);
			if (rc != SW_L3_TCP)
				return rc;
		}
		if (pkt->l4_proto != PROTO_TCP)
			return SW_L3_OTHER;
	} else if (type == ETHERTYPE_IPV6) {
		uint32_t plen;

		if (avail < IPV6_HLEN)
			return -SW_BAD_TRUNCATED;
		if ((ip[0] >> 4) != 6)
			return -SW_BAD_IP_HEADER;
		plen = sw_rd16(ip + 4);
		if (plen > avail - IPV6_HLEN)
			return -SW_BAD_IP_LENGTH;
		pkt->t.v6 = 1;
		memcpy(pkt->t.src, ip + 8, 16);
		memcpy(pkt->t.dst, ip + 24, 16);
		pkt->ip = 1;
		pkt->l3_len = IPV6_HLEN;
		pkt->l4_len = (uint16_t)plen;
		pkt->l4_proto = ip[6];
		pkt->ttl = ip[7];
		if (pkt->l4_proto == PROTO_ICMPV6)
			return SW_L3_ICMP;
		if (is_v6_ext(pkt->l4_proto)) {
			int rc = ipv6_chain(ip, plen, pkt);

			if (rc != SW_L3_TCP)
				return rc;
		}
		if (pkt->l4_proto != PROTO_TCP)
			return SW_L3_OTHER;
	} else {
		return SW_L3_OTHER;
	}

	l4_avail = pkt->l4_len;
	if (l4_avail < 4)
		return -SW_BAD_TRUNCATED;
	pkt->t.sport = sw_rd16(ip + pkt->l3_len);
	pkt->t.dport = sw_rd16(ip + pkt->l3_len + 2);
	return SW_L3_TCP;
}

/*
 * The two layouts nearly every segment carries, recognised by whole-word compares (as
 * Linux's tcp_parse_aligned_timestamp): Linux's SYN (MSS, SACK-permitted, timestamps, NOP,
 * window scale: 20 bytes) and the aligned timestamps of RFC 7323 appendix A (NOP, NOP,
 * timestamps: 12 bytes). Anything else goes through the loop. Both give exactly what the
 * loop gives (tests/unit/test_parse.c compares them).
 */
static inline bool
options_fast(const uint8_t *o, uint32_t optlen, struct sw_tcpopts *out)
{
	if (optlen == 12 && sw_rd32(o) == 0x0101080a) {
		memset(out, 0, sizeof(*out));
		out->present = SW_OPT_TS;
		out->ts_off = TCP_HLEN + 2;
		out->tsval = sw_rd32(o + 4);
		out->tsecr = sw_rd32(o + 8);
		return true;
	}
	if (optlen == 20 && sw_rd16(o) == 0x0204 && sw_rd32(o + 4) == 0x0402080a &&
	    (sw_rd32(o + 16) >> 8) == 0x010303) {
		memset(out, 0, sizeof(*out));
		out->present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS;
		out->mss = sw_rd16(o + 2);
		out->ts_off = TCP_HLEN + 6;
		out->tsval = sw_rd32(o + 8);
		out->tsecr = sw_rd32(o + 12);
		out->wscale = o[19] > 14 ? 14 : o[19];
		return true;
	}
	return false;
}

int
sw_parse_tcp_options(const uint8_t *o, uint32_t optlen, struct sw_tcpopts *out)
{
	if (options_fast(o, optlen, out))
		return 0;
	return sw_parse_tcp_options_loop(o, optlen, out);
}

int
sw_parse_tcp_options_loop(const uint8_t *o, uint32_t optlen, struct sw_tcpopts *out)
{
	uint32_t i = 0;

	memset(out, 0, sizeof(*out));
	/* Each round consumes at least one byte: the loop is bounded by optlen (<= 40). */
	while (i < optlen) {
		uint8_t kind = o[i];
		uint8_t olen;

		if (kind == TCPOPT_EOL) {
			out->eol_off = (uint8_t)(TCP_HLEN + i);
			break;
		}
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen)
			return -SW_BAD_TCP_OPTION;      /* kind without its length byte */
		olen = o[i + 1];
		if (olen < 2 || olen > optlen - i)
			return -SW_BAD_TCP_OPTION;      /* zero-length or overlong */
		switch (kind) {
		case TCPOPT_MSS:
			if (olen != 4)
				return -SW_BAD_TCP_OPTION;
			out->present |= SW_OPT_MSS;
			out->mss = sw_rd16(o + i + 2);
			break;
		case TCPOPT_WS:
			if (olen != 3)
				return -SW_BAD_TCP_OPTION;
			out->present |= SW_OPT_WS;
			/* RFC 7323 2.3: a shift above 14 is used as 14. */
			out->wscale = o[i + 2] > 14 ? 14 : o[i + 2];
			break;
		case TCPOPT_SACKOK:
			if (olen != 2)
				return -SW_BAD_TCP_OPTION;
			out->present |= SW_OPT_SACKOK;
			break;
		case TCPOPT_SACK:
			/* A second one would pass the splice untranslated (only one is
			 * rewritten) to a side that may never have agreed to SACK. */
			if (olen < 10 || (olen - 2) % 8 != 0 || (out->present & SW_OPT_SACK))
				return -SW_BAD_TCP_OPTION;
			out->present |= SW_OPT_SACK;
			out->sack_off = (uint8_t)(TCP_HLEN + i);
			out->sack_len = olen;
			break;
		case TCPOPT_TS:
			/* likewise a second timestamps option */
			if (olen != 10 || (out->present & SW_OPT_TS))
				return -SW_BAD_TCP_OPTION;
			out->present |= SW_OPT_TS;
			out->ts_off = (uint8_t)(TCP_HLEN + i);
			out->tsval = sw_rd32(o + i + 2);
			out->tsecr = sw_rd32(o + i + 6);
			break;
		default:
			break;                          /* unknown: skipped by its length */
		}
		i += olen;
	}
	return 0;
}

int
sw_parse_tcp(const uint8_t *data, uint32_t len, struct sw_pkt *pkt)
{
	const uint8_t *th = data + pkt->l2_len + pkt->l3_len;
	uint32_t doff;
	int rc;

	(void)len;      /* stage 1 proved l2 + l3 + l4_len <= len */
	if (pkt->l4_len < TCP_HLEN)
		return -SW_BAD_TRUNCATED;
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > pkt->l4_len)
		return -SW_BAD_TCP_HEADER;
	pkt->th_len = (uint16_t)doff;
	pkt->seq = sw_rd32(th + 4);
	pkt->ack = sw_rd32(th + 8);
	pkt->tcp_flags = th[13] & 0x3f;
	pkt->win = sw_rd16(th + 14);
	rc = sw_parse_tcp_options(th + TCP_HLEN, doff - TCP_HLEN, &pkt->opt);
	if (rc < 0)
		return rc;
	return 0;
}

bool
sw_tcp_checksum_ok(const uint8_t *data, const struct sw_pkt *pkt)
{
	const uint8_t *ip = data + pkt->l2_len;
	const uint8_t *l4 = ip + pkt->l3_len;
	/* pseudo-header: addresses (straight from the IP header), protocol, TCP length; the
	 * 16-bit words as loaded from network order */
	uint64_t acc = (uint64_t)rte_cpu_to_be_16(PROTO_TCP) + rte_cpu_to_be_16(pkt->l4_len);

	if (!pkt->t.v6) {
		if (sw_raw_cksum(ip, pkt->l3_len) != 0xffff)
			return false;
		acc = sw_cksum_add(acc, ip + 12, 8);
	} else {
		acc = sw_cksum_add(acc, ip + 8, 32);
	}
	return sw_cksum_fold(sw_cksum_add(acc, l4, pkt->l4_len)) == 0xffff;
}

int
sw_parse_icmp_unreach(const uint8_t *data, uint32_t len, const struct sw_pkt *pkt,
		      struct sw_tuple *q, uint32_t *qseq)
{
	const uint8_t *icmp = data + pkt->l2_len + pkt->l3_len;
	uint32_t avail = pkt->l4_len;
	const uint8_t *qip, *qth;
	uint32_t qhl;

	(void)len;
	if (avail < ICMP_HLEN)
		return -1;
	if (!pkt->t.v6) {
		if (icmp[0] != 3)               /* destination unreachable */
			return -1;
		qip = icmp + ICMP_HLEN;
		avail -= ICMP_HLEN;
		if (avail < 20 || (qip[0] >> 4) != 4 || qip[9] != PROTO_TCP)
			return -1;
		qhl = (uint32_t)(qip[0] & 0x0f) * 4;
		if (qhl < 20 || avail < qhl + 8)
			return -1;
		q->v6 = 0;
		memcpy(q->src, qip + 12, 4);
		memcpy(q->dst, qip + 16, 4);
	} else {
		if (icmp[0] != 1 && icmp[0] != 2)       /* unreachable, packet too big */
			return -1;
		qip = icmp + ICMP_HLEN;
		avail -= ICMP_HLEN;
		if (avail < IPV6_HLEN + 8 || (qip[0] >> 4) != 6 || qip[6] != PROTO_TCP)
			return -1;
		qhl = IPV6_HLEN;
		q->v6 = 1;
		memcpy(q->src, qip + 8, 16);
		memcpy(q->dst, qip + 24, 16);
	}
	qth = qip + qhl;
	q->sport = sw_rd16(qth);
	q->dport = sw_rd16(qth + 2);
	*qseq = sw_rd32(qth + 4);
	return 0;
}
