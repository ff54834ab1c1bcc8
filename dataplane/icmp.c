/* SPDX-License-Identifier: BSD-3-Clause */
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
