/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "icmp.h"

#define SW_ICMP_HDR_LEN      8  /* type, code, checksum, 4 bytes: then the quoted packet */
#define SW_ICMP6_TOO_BIG     2  /* ICMPv6 packet too big: not an error about a SYN-ACK */
/* FreeBSD's rule: one error may be a passing outage; the entry goes on the second, or at
 * once when its SYN-ACK has been sent this many times already. */
#define SW_UNREACH_RXMITS    3

enum sw_verdict
sw_icmp_from_outside(struct sw_lcore *lc, struct rte_mbuf *m, const struct sw_pkt *pkt)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *icmp = data + pkt->l2_len + pkt->l3_len;
	uint8_t *qip = icmp + SW_ICMP_HDR_LEN;
	struct sw_tuple q, t;
	struct sw_sc_entry *e;
	struct sw_flow *f;
	uint32_t qseq, hash;
	uint8_t *qseqp, b[4];

	if (sw_parse_icmp_unreach(data, rte_pktmbuf_data_len(m), pkt, &q, &qseq) != 0)
		return SW_V_NO_FLOW;
	/* The quoted segment went server -> client: entries are keyed the other way. */
	sw_tuple_reverse(&t, &q);
	if (!sw_cfg_has_flows(lc->cfg, t.dport))
		return SW_V_NO_FLOW;
	hash = sw_ctab_hash(&lc->sc.tab, &t);
	e = sw_syncache_lookup(&lc->sc, &t, hash);
	if (e != NULL && qseq == e->iss && !(pkt->t.v6 && icmp[0] == SW_ICMP6_TOO_BIG)) {
		lc->cnt.sc_unreach++;
		if ((e->flags & SW_SCF_UNREACH) || e->rxmits >= SW_UNREACH_RXMITS)
			sw_syncache_remove(&lc->sc, e);
		else
			e->flags |= SW_SCF_UNREACH;
		return SW_V_DROP;
	}
	f = sw_flowtab_lookup(&lc->ft, &t, hash);
	if (f == NULL || sw_flow_state(f) == SW_FLOW_OPENING)
		return SW_V_NO_FLOW;
	/* the quoted TCP header's sequence number (bounds checked by the parser) */
	qseqp = qip + (q.v6 ? 40 : (uint32_t)(qip[0] & 0x0f) * 4) + 4;
	sw_wr32(b, qseq + f->seq_delta);
	/* The ICMP checksum (ICMPv6's pseudo-header does not change) follows the patch. */
	sw_csum_patch(icmp, icmp + 2, qseqp, b, 4);
	lc->cnt.proxy_icmp++;
	return SW_V_INSIDE;
}

/* What an ICMP error quotes of the segment: its IP header (with IPv4 options, IPv6 with its
 * extension headers is never spliced) and the first 8 bytes of TCP: ports and sequence
 * number, what the client's stack needs to find the connection (RFC 792, RFC 4443 allows
 * more; Linux reads no more). */
#define SW_ICMP_QUOTE_L4   8
#define SW_ICMP4_UNREACH   3
#define SW_ICMP4_FRAG_NEEDED 4

/* A checksum field from a running sum of the bytes as they lie (csum.h sums words in host
 * order: stored back the same way). */
static inline void
store_csum(uint8_t *at, uint64_t acc)
{
	uint16_t c = (uint16_t)~sw_cksum_fold(acc);

	memcpy(at, &c, 2);
}

void
sw_icmp_too_big(struct sw_lcore *lc, struct sw_sink *out, const struct rte_mbuf *m,
		const struct sw_pkt *pkt, uint32_t mtu)
{
	const uint8_t *in = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip_in = in + pkt->l2_len;
	unsigned int quote = pkt->l3_len + SW_ICMP_QUOTE_L4;
	unsigned int l3 = pkt->t.v6 ? 40 : 20, len;
	struct rte_mbuf *r;
	uint8_t *p, *ip, *icmp;
	uint64_t acc;

	if (!pkt->t.v6 && !(ip_in[6] & 0x40))
		return;         /* no DF: a router would fragment it, not refuse it */
	r = sw_sink_alloc(out);
	if (r == NULL) {
		lc->cnt.port_nombuf++;
		return;
	}
	len = pkt->l2_len + l3 + SW_ICMP_HDR_LEN + quote;
	p = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)len);
	if (p == NULL) {
		sw_sink_drop(out, r);
		return;
	}
	/* Ethernet (and the VLAN tag) of the client's segment, the other way round */
	memcpy(p, in + 6, 6);
	memcpy(p + 6, in, 6);
	memcpy(p + 12, in + 12, pkt->l2_len - 12u);
	ip = p + pkt->l2_len;
	icmp = ip + l3;
	memcpy(icmp + SW_ICMP_HDR_LEN, ip_in, quote);
	if (!pkt->t.v6) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		sw_wr16(ip + 2, (uint16_t)(20 + SW_ICMP_HDR_LEN + quote));
		ip[6] = 0x40;                           /* DF */
		ip[8] = 64;
		ip[9] = 1;                              /* ICMP */
		memcpy(ip + 12, ip_in + 16, 4);         /* from the server */
		memcpy(ip + 16, ip_in + 12, 4);
		store_csum(ip + 10, sw_cksum_add(0, ip, 20));
		icmp[0] = SW_ICMP4_UNREACH;
		icmp[1] = SW_ICMP4_FRAG_NEEDED;
		sw_wr16(icmp + 2, 0);
		sw_wr16(icmp + 4, 0);
		sw_wr16(icmp + 6, (uint16_t)mtu);      /* next-hop MTU (RFC 1191) */
		acc = 0;
	} else {
		uint8_t pseudo[8];

		memset(ip, 0, 40);
		ip[0] = 0x60;
		sw_wr16(ip + 4, (uint16_t)(SW_ICMP_HDR_LEN + quote));
		ip[6] = 58;                             /* ICMPv6 */
		ip[7] = 64;
		memcpy(ip + 8, ip_in + 24, 16);
		memcpy(ip + 24, ip_in + 8, 16);
		icmp[0] = SW_ICMP6_TOO_BIG;
		icmp[1] = 0;
		sw_wr16(icmp + 2, 0);
		sw_wr32(icmp + 4, mtu);
		/* the pseudo-header: addresses, length, next header */
		sw_wr32(pseudo, SW_ICMP_HDR_LEN + quote);
		sw_wr32(pseudo + 4, 58);
		acc = sw_cksum_add(sw_cksum_add(0, ip + 8, 32), pseudo, 8);
	}
	store_csum(icmp + 2, sw_cksum_add(acc, icmp, SW_ICMP_HDR_LEN + quote));
	sw_sink_send(out, SW_OUTSIDE, r);
	lc->cnt.proxy_too_big++;
}
