/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_ip.h>

#include "bytes.h"
#include "csum.h"
#include "parse.h"

#define ETH_HLEN        14
#define VLAN_HLEN       4
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_VLAN  0x8100
#define ETHERTYPE_QINQ  0x88a8
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
#define IPV6_MAX_EXT    8       /* extension headers walked at most */

#define TCPOPT_EOL      0
#define TCPOPT_NOP      1
#define TCPOPT_MSS      2
#define TCPOPT_WS       3
#define TCPOPT_SACKOK   4
#define TCPOPT_SACK     5
#define TCPOPT_TS       8

int
sw_parse_l3(const uint8_t *data, uint32_t len, struct sw_pkt *pkt)
{
	const uint8_t *ip;
	uint32_t off = ETH_HLEN;
	uint32_t avail, l4_avail;
	uint16_t type;

	pkt->has_vlan = 0;
	pkt->vlan_tci = 0;
	pkt->v6_ext = 0;
	pkt->tcp_flags = 0;
	pkt->th_len = 0;

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
		if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ)
			return -SW_BAD_VLAN;
	} else if (type == ETHERTYPE_QINQ) {
		return -SW_BAD_VLAN;
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
		pkt->l3_len = (uint16_t)ihl;
		pkt->l4_len = (uint16_t)(tot - ihl);
		pkt->l4_proto = ip[9];
		pkt->ttl = ip[8];
		frag = sw_rd16(ip + 6) & 0x3fff;   /* MF and offset */
		if (pkt->l4_proto == PROTO_TCP && frag != 0)
			return -SW_BAD_FRAGMENT;
		if (pkt->l4_proto == PROTO_ICMP)
			return frag == 0 ? SW_L3_ICMP : SW_L3_OTHER;
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
		pkt->l3_len = IPV6_HLEN;
		pkt->l4_len = (uint16_t)plen;
		pkt->l4_proto = ip[6];
		pkt->ttl = ip[7];
		pkt->v6_ext = 0;
		if (pkt->l4_proto == PROTO_ICMPV6)
			return SW_L3_ICMP;
		/*
		 * Extension headers are walked (a bounded number, each within the payload) to
		 * find what they carry: TCP behind them is still TCP (the caller decides), a
		 * fragment of TCP is dropped like IPv4's; anything else passes.
		 */
		if (pkt->l4_proto == SW_NH_HOPOPTS || pkt->l4_proto == SW_NH_ROUTING ||
		    pkt->l4_proto == SW_NH_DSTOPTS || pkt->l4_proto == SW_NH_FRAGMENT) {
			uint32_t ext = IPV6_HLEN, end = IPV6_HLEN + plen, n;
			uint8_t nh = pkt->l4_proto;

			for (n = 0; n < IPV6_MAX_EXT && nh != PROTO_TCP; n++) {
				if (nh == SW_NH_FRAGMENT) {
					if (ext + 8 > end)
						return -SW_BAD_TRUNCATED;
					return ip[ext] == PROTO_TCP ? -SW_BAD_FRAGMENT : SW_L3_OTHER;
				}
				if (nh != SW_NH_HOPOPTS && nh != SW_NH_ROUTING && nh != SW_NH_DSTOPTS)
					return SW_L3_OTHER;
				if (ext + 2 > end)
					return -SW_BAD_TRUNCATED;
				nh = ip[ext];
				ext += ((uint32_t)ip[ext + 1] + 1) * 8;
				if (ext > end)
					return -SW_BAD_TRUNCATED;
			}
			if (nh != PROTO_TCP)
				return SW_L3_OTHER;
			pkt->v6_ext = 1;
			pkt->l3_len = (uint16_t)ext;
			pkt->l4_len = (uint16_t)(end - ext);
			pkt->l4_proto = PROTO_TCP;
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
