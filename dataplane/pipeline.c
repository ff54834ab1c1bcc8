/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_prefetch.h>

#include "handshake.h"
#include "icmp.h"
#include "pipeline.h"
#include "siphash.h"
#include "splice.h"
#include "srclist.h"
#include "syn.h"

/*
 * What the first pass over an outside burst learned of a packet. The cookie MACs a burst
 * needs (SYN-ACKs to make, ACKs to check) are computed there all at once, several per
 * vector instruction (sw_siphash24_batch); the second pass acts on each packet in order and
 * uses them.
 */
enum sw_cookie_need {
	SW_NEED_NONE = 0,
	SW_NEED_PENDING,        /* parsed TCP to a protected port: to be decided */
	SW_NEED_MAKE,           /* a SYN: its cookie */
	SW_NEED_CHECK,          /* an ACK of nothing we hold: its cookie to check */
};

struct sw_rx {
	struct sw_pkt pkt;
	int kind;               /* sw_parse_l3() */
	int rc;                 /* sw_parse_tcp(), when reached */
	uint8_t mode;
	uint8_t src;            /* enum sw_src_action: the source lists' verdict */
	uint32_t src_limit;     /* SW_SRC_LIMIT: 1 + the limit rule's index */
	uint8_t need;           /* enum sw_cookie_need */
	uint8_t msglen;
	bool lookup;            /* TCP parsed, to a port whose flows are looked up */
	uint32_t hash;          /* of pkt.t, both tables' seed */
	uint32_t low;           /* the cookie's low byte (SW_NEED_MAKE, SW_NEED_CHECK) */
	struct sw_syn_plan syn;         /* SW_NEED_MAKE */
	struct sw_ack_macs macs;        /* SW_NEED_CHECK (a probe MAC for a zero-length ACK,
					 * in case it is a zero-window probe) */
	uint8_t msg[SW_COOKIE_MSG_MAX];
	uint8_t msg_probe[SW_COOKIE_MSG_MAX];
};

/*
 * A frame the parser cannot see into although it could carry TCP (stacked VLAN tags, an IPv6
 * header chain it cannot follow): the port it is for is unknown, so --unparsed decides for
 * every port alike. Dropped by default, as a protected port's TCP must never pass unseen.
 */
static inline bool
unparsed_passes(struct sw_lcore *lc, int kind)
{
	if ((kind != -SW_BAD_UNPARSED && kind != -SW_BAD_VLAN) || !lc->cfg->unparsed_pass)
		return false;
	lc->cnt.port_unparsed++;
	return true;
}

static inline void
count_malformed(struct sw_lcore *lc, int bad)
{
	switch (bad) {
	case SW_BAD_TRUNCATED:  lc->cnt.mal_truncated++; break;
	case SW_BAD_IP_HEADER:  lc->cnt.mal_ip_header++; break;
	case SW_BAD_IP_LENGTH:  lc->cnt.mal_ip_length++; break;
	case SW_BAD_FRAGMENT:   lc->cnt.mal_fragment++; break;
	case SW_BAD_VLAN:       lc->cnt.mal_vlan++; break;
	case SW_BAD_TCP_HEADER: lc->cnt.mal_tcp_header++; break;
	case SW_BAD_TCP_OPTION: lc->cnt.mal_tcp_option++; break;
	case SW_BAD_FLAGS:      lc->cnt.mal_flags++; break;
	case SW_BAD_IPV6_EXT:   lc->cnt.mal_ipv6_ext++; break;
	case SW_BAD_AH:         lc->cnt.mal_ah++; break;
	case SW_BAD_UNPARSED:   lc->cnt.mal_unparsed++; break;
	default:                lc->cnt.mal_checksum++; break;
	}
}

/* Checksums of a segment we are about to act on: the NIC's verdict, or ours. */
static inline bool
checksum_ok(const struct sw_lcore *lc, const struct rte_mbuf *m, const struct sw_pkt *pkt)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (lc->rx_csum) {
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
		/* NONE: the data was verified, the checksum field just not filled in (virtio
		 * with offloads): as good as GOOD. */
		if ((l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE) &&
		    (pkt->t.v6 || ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD ||
		     ip == RTE_MBUF_F_RX_IP_CKSUM_NONE))
			return true;
	}
	return sw_tcp_checksum_ok(rte_pktmbuf_mtod(m, const uint8_t *), pkt);
}

/* First pass: parse, and the buckets this packet's tuple can be in on their way. */
static void
outside_parse(struct sw_lcore *lc, struct rte_mbuf *m, struct sw_rx *rx)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sw_pkt *pkt = &rx->pkt;

	rx->need = SW_NEED_NONE;
	rx->lookup = false;
	rx->macs.have = false;
	rx->macs.have_probe = false;
	rx->rc = 0;
	rx->src = SW_SRC_NONE;
	rx->kind = sw_parse_l3(data, len, pkt);
	if (rx->kind != SW_L3_TCP)
		return;
	rx->mode = lc->cfg->port_mode[pkt->t.dport];
	if (!sw_cfg_has_flows(lc->cfg, pkt->t.dport))
		return;
	if (pkt->ext) {
		/* TCP behind IPv6 extension headers or AH, to a protected port: not answered,
		 * not spliced (the headers would have to be carried along), not let through. (A
		 * port gone to pass bridges it: its verdict never reads rc without a lookup.) */
		rx->rc = (pkt->ext & SW_EXT_AH) ? -SW_BAD_AH : -SW_BAD_IPV6_EXT;
		return;
	}
	rx->rc = sw_parse_tcp(data, len, pkt);
	if (rx->rc < 0)
		return;
	rx->lookup = true;
	rx->hash = sw_ctab_hash(&lc->ft.tab, &pkt->t);
	rx->need = SW_NEED_PENDING;
	/* The headers of the buckets this tuple can be in: on their way while the rest of the
	 * burst is parsed. */
	sw_flowtab_prefetch_buckets(&lc->ft, rx->hash);
	sw_syncache_prefetch_bucket(&lc->sc, rx->hash);
}

/*
 * After the parse, with source lists: every IP frame of the burst by its source, one bulk
 * lookup per address family; a TCP segment's destination port chooses the port's own list,
 * if it has one. A denied frame needs nothing more (its verdict drops it first).
 */
static void
outside_sources(const struct sw_lcore *lc, struct sw_rx *rx, uint16_t n)
{
	const struct sw_srcset *s = lc->cfg->src;
	uint32_t ip4[SW_RX_BURST];
	uint8_t ip6[SW_RX_BURST][16];
	uint64_t nh4[SW_RX_BURST], nh6[SW_RX_BURST];
	uint16_t at4[SW_RX_BURST], at6[SW_RX_BURST];
	unsigned int n4 = 0, n6 = 0, i;

	for (i = 0; i < n; i++) {
		const struct sw_pkt *p = &rx[i].pkt;
		uint32_t a;

		if (!p->ip)
			continue;
		if (!p->t.v6) {
			memcpy(&a, p->t.src, 4);
			ip4[n4] = rte_be_to_cpu_32(a);
			at4[n4++] = (uint16_t)i;
		} else {
			memcpy(ip6[n6], p->t.src, 16);
			at6[n6++] = (uint16_t)i;
		}
	}
	if (n4 != 0)
		sw_srcset_lookup4(s, ip4, nh4, n4);
	if (n6 != 0)
		sw_srcset_lookup6(s, ip6, nh6, n6);
	for (i = 0; i < n4 + n6; i++) {
		struct sw_rx *r = &rx[i < n4 ? at4[i] : at6[i - n4]];

		r->src = (uint8_t)sw_srcset_decide_limit(s, i < n4 ? nh4[i] : nh6[i - n4],
							 r->kind == SW_L3_TCP, r->pkt.t.dport,
							 &r->src_limit);
		if (r->src == SW_SRC_DENY)
			r->need = SW_NEED_NONE;
	}
}

/* Between the passes: the entries the bucket headers point at (by signature), on their way
 * before the lookups of the next pass. */
static inline void
outside_prefetch_entries(struct sw_lcore *lc, const struct sw_rx *rx)
{
	if (rx->need != SW_NEED_PENDING)
		return;
	sw_flowtab_prefetch_match(&lc->ft, rx->hash, rx->pkt.t.v6);
	sw_syncache_prefetch_match(&lc->sc, rx->hash, rx->pkt.t.v6);
}

/* Second part of the first pass: what cookie MAC the packet needs, if any. */
static void
outside_classify(struct sw_lcore *lc, struct sw_rx *rx)
{
	struct sw_pkt *pkt = &rx->pkt;
	uint8_t fl;

	if (rx->need != SW_NEED_PENDING)
		return;
	rx->need = SW_NEED_NONE;
	if (rx->mode == SW_MODE_PASS)
		return;         /* flows only: no cookies on a port that is not protected */
	fl = pkt->tcp_flags & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST | SW_TH_FIN);
	if (fl == SW_TH_SYN) {
		sw_syn_plan(lc, pkt, &rx->syn);
		rx->low = rx->syn.low;
		rx->msglen = (uint8_t)sw_cookie_msg(rx->msg, &pkt->t, pkt->seq, rx->low);
		rx->need = SW_NEED_MAKE;
	} else if ((fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == SW_TH_ACK &&
		   (lc->cfg->lim.syncookies || rx->mode == SW_MODE_COOKIE) &&
		   sw_flowtab_lookup(&lc->ft, &pkt->t, rx->hash) == NULL &&
		   sw_syncache_lookup(&lc->sc, &pkt->t, rx->hash) == NULL) {
		/* An ACK without timestamps is checked only within the budget: none left, no
		 * MAC computed (the stage counts it as limited). */
		if (!(pkt->opt.present & SW_OPT_TS) && !sw_cookie_budget_left(lc))
			return;
		rx->low = (pkt->ack - 1) & 0xff;
		rx->msglen = (uint8_t)sw_cookie_msg(rx->msg, &pkt->t, pkt->seq - 1, rx->low);
		rx->need = SW_NEED_CHECK;
		rx->macs.have = true;
		rx->macs.have_probe = pkt->l4_len == pkt->th_len;
		if (rx->macs.have_probe)
			sw_cookie_msg(rx->msg_probe, &pkt->t, pkt->seq, rx->low);
	}
}

/* The MACs of a burst, IPv4 and IPv6 messages (of different lengths) separately. */
static void
cookie_batch(const struct sw_lcore *lc, struct sw_rx *rx, uint16_t n)
{
	static const uint8_t msg_len[] = { SW_COOKIE_MSG_V4, SW_COOKIE_MSG_V6 };
	const struct sw_sipkey *keys[2 * SW_RX_BURST];
	const uint8_t *msgs[2 * SW_RX_BURST];
	uint64_t macs[2 * SW_RX_BURST];
	uint16_t idx[2 * SW_RX_BURST];      /* packet, | IS_PROBE for its probe MAC */
	const uint16_t IS_PROBE = 0x8000;
	unsigned int pass, k, i;

	for (pass = 0; pass < RTE_DIM(msg_len); pass++) {
		uint8_t len = msg_len[pass];

		for (k = 0, i = 0; i < n; i++) {
			if (rx[i].need == SW_NEED_NONE || rx[i].msglen != len)
				continue;
			keys[k] = &lc->cfg->keys.key[sw_cookie_key_slot(rx[i].low)];
			msgs[k] = rx[i].msg;
			idx[k++] = (uint16_t)i;
			if (rx[i].need == SW_NEED_CHECK && rx[i].macs.have_probe) {
				keys[k] = keys[k - 1];
				msgs[k] = rx[i].msg_probe;
				idx[k++] = (uint16_t)(i | IS_PROBE);
			}
		}
		if (k == 0)
			continue;
		sw_siphash24_batch(keys, msgs, len, macs, k);
		for (i = 0; i < k; i++) {
			struct sw_rx *r = &rx[idx[i] & ~IS_PROBE];
			uint32_t mac = sw_cookie_mac32(macs[i]);

			if (idx[i] & IS_PROBE) {
				r->macs.mac_probe = mac;
			} else if (r->need == SW_NEED_MAKE) {
				r->syn.iss = (mac >> 8) << 8 | r->syn.low;
				r->syn.mac8 = (uint8_t)mac;
			} else {
				r->macs.mac = mac;
			}
		}
	}
}

/* A TCP segment to a protected port (mode), with no flow: for synwall itself. */
static enum sw_verdict
outside_no_flow(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m, struct sw_rx *rx,
		enum sw_mode mode)
{
	struct sw_pkt *pkt = &rx->pkt;
	uint8_t fl = pkt->tcp_flags;

	/*
	 * One that changes state (an ACK opening a server connection, an RST ending a
	 * handshake) must have right checksums. A bare SYN changes nothing a spoofed SYN could
	 * not, so without the NIC's verdict it is answered unchecked: summing it in software
	 * would cost the SYN path a tenth of its time, and a corrupted SYN's SYN-ACK is sorted
	 * out by the client's stack (RST, then its retry).
	 */
	bool bare_syn = (fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == SW_TH_SYN;

	if ((!bare_syn || lc->rx_csum) && !checksum_ok(lc, m, pkt)) {
		lc->cnt.mal_checksum++;
		return SW_V_DROP;
	}
	if (fl & SW_TH_SYN) {
		if (fl & SW_TH_ACK) {
			/* A SYN-ACK from outside to a protected port answers nothing of ours. */
			lc->cnt.proxy_outside_synack++;
			return SW_V_DROP;
		}
		return sw_syn_answer(lc, out, m, pkt, mode, rx->hash, &rx->syn);
	}
	if (fl & SW_TH_RST)
		return sw_handshake_rst(lc, pkt, rx->hash);
	if (fl & SW_TH_ACK)
		return sw_handshake_complete(lc, out, m, pkt, mode, rx->hash, &rx->macs);
	lc->cnt.proxy_unexpected++;
	return SW_V_DROP;
}

/* Second pass: the packet's verdict, its stage chosen by what the first pass found. */
static enum sw_verdict
outside_verdict(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m, struct sw_rx *rx)
{
	struct sw_pkt *pkt = &rx->pkt;
	enum sw_verdict v;
	enum sw_mode mode;
	struct sw_flow *f;
	uint8_t fl;

	if (unlikely(rx->src != SW_SRC_NONE)) {
		if (rx->src == SW_SRC_DENY) {
			lc->cnt.src_denied++;
			return SW_V_DROP;
		}
		if (rx->src == SW_SRC_ALLOW)
			lc->cnt.src_allowed++;
	}
	lc->src_allowed = rx->src == SW_SRC_ALLOW;
	lc->src_limit = rx->src == SW_SRC_LIMIT ? rx->src_limit : 0;
	if (unlikely(rx->kind < 0)) {
		if (unparsed_passes(lc, rx->kind))
			return SW_V_INSIDE;
		count_malformed(lc, -rx->kind);
		return SW_V_DROP;
	}
	if (rx->kind == SW_L3_ICMP) {
		v = sw_icmp_from_outside(lc, m, pkt);
		if (v != SW_V_NO_FLOW)
			return v;
	}
	if (rx->kind != SW_L3_TCP) {
		lc->cnt.port_bridged++;
		return SW_V_INSIDE;
	}
	mode = (enum sw_mode)rx->mode;
	if (mode == SW_MODE_PASS) {
		/* A port that left protection: its flows are translated until they end. */
		if (likely(!rx->lookup)) {
			lc->cnt.port_bridged++;
			return SW_V_INSIDE;
		}
	} else if (mode == SW_MODE_DROP) {
		lc->cnt.port_policy_drop++;
		return SW_V_DROP;
	} else {
		if (unlikely(rx->rc < 0)) {
			count_malformed(lc, -rx->rc);
			return SW_V_DROP;
		}
		fl = pkt->tcp_flags;
		if (unlikely((fl & SW_TH_SYN) && (fl & (SW_TH_FIN | SW_TH_RST)))) {
			lc->cnt.mal_flags++;
			return SW_V_DROP;
		}
	}
	/* one call of the splice for both (it is inlined where it is called once) */
	f = sw_flowtab_lookup(&lc->ft, &pkt->t, rx->hash);
	if (likely(f != NULL)) {
		v = sw_splice_client(lc, out, m, pkt, f);
		if (v != SW_V_NO_FLOW)
			return v;
	}
	if (unlikely(mode == SW_MODE_PASS)) {
		lc->cnt.port_bridged++;
		return SW_V_INSIDE;
	}
	return outside_no_flow(lc, out, m, rx, mode);
}

/* Before packet i of a burst is looked at: its data, SW_PREFETCH_AHEAD packets ahead
 * (at i = 0, the first ones too), is on its way into the cache. */
static inline void
prefetch_ahead(struct rte_mbuf **pkts, uint16_t n, uint16_t i)
{
	uint16_t k;

	if (i == 0)
		for (k = 0; k < n && k < SW_PREFETCH_AHEAD; k++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[k], void *));
	if (i + SW_PREFETCH_AHEAD < n)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + SW_PREFETCH_AHEAD], void *));
}

void
sw_outside_burst(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts, uint16_t n)
{
	struct sw_rx rx[SW_RX_BURST];
	uint16_t i;

	for (i = 0; i < n; i++) {
		prefetch_ahead(pkts, n, i);
		outside_parse(lc, pkts[i], &rx[i]);
	}
	if (unlikely(lc->cfg->src != NULL))
		outside_sources(lc, rx, n);
	for (i = 0; i < n; i++)
		outside_prefetch_entries(lc, &rx[i]);
	for (i = 0; i < n; i++)
		outside_classify(lc, &rx[i]);
	if (lc->st.sets != NULL)
		for (i = 0; i < n; i++)
			if (rx[i].need == SW_NEED_MAKE)
				sw_srct_prefetch_entry(&lc->st, rx[i].syn.src_hash);
	cookie_batch(lc, rx, n);
	for (i = 0; i < n; i++)
		sw_sink_put(out, pkts[i], outside_verdict(lc, out, pkts[i], &rx[i]));
}

static enum sw_verdict
inside_verdict(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sw_tuple t;
	struct sw_pkt pkt;
	struct sw_flow *f;
	uint32_t hash;
	int kind, rc;

	kind = sw_parse_l3(data, len, &pkt);
	if (unlikely(kind < 0)) {
		/* A fragment of TCP cannot be translated (nor is one from outside let in); what
		 * could carry TCP unseen follows --unparsed. The rest the parser refuses is no
		 * segment of a flow: bridged. */
		if (unparsed_passes(lc, kind))
			return SW_V_OUTSIDE;
		if (kind == -SW_BAD_FRAGMENT || kind == -SW_BAD_UNPARSED || kind == -SW_BAD_VLAN) {
			count_malformed(lc, -kind);
			return SW_V_DROP;
		}
		goto bridge;
	}
	/* Only TCP from a port whose flows are looked up (protected, or it was) can belong to a
	 * flow: the rest is bridged. */
	if (kind != SW_L3_TCP || !sw_cfg_has_flows(lc->cfg, pkt.t.sport))
		goto bridge;
	if (unlikely(pkt.ext)) {
		/* Headers the splice does not carry: from a protected port, not to leave
		 * untranslated; a port gone to `pass` bridges it, as it bridges the client's. */
		if (lc->cfg->port_mode[pkt.t.sport] == SW_MODE_PASS)
			goto bridge;
		count_malformed(lc, (pkt.ext & SW_EXT_AH) ? SW_BAD_AH : SW_BAD_IPV6_EXT);
		return SW_V_DROP;
	}
	rc = sw_parse_tcp(data, len, &pkt);
	if (unlikely(rc < 0)) {
		/* From a protected port: not to be translated, so not to leave either. A port
		 * gone to `pass` bridges it, as it bridges the client's. */
		if (lc->cfg->port_mode[pkt.t.sport] == SW_MODE_PASS)
			goto bridge;
		count_malformed(lc, -rc);
		return SW_V_DROP;
	}
	/* Flows are keyed client -> server. */
	sw_tuple_reverse(&t, &pkt.t);
	hash = sw_ctab_hash(&lc->ft.tab, &t);
	f = sw_flowtab_lookup(&lc->ft, &t, hash);
	if (f != NULL)
		return sw_splice_server(lc, out, m, &pkt, f, &t);
	if (lc->cfg->port_mode[pkt.t.sport] != SW_MODE_PASS)
		return sw_splice_adopt(lc, out, m, &pkt, &t, hash);
bridge:
	lc->cnt.port_bridged++;
	return SW_V_OUTSIDE;
}

void
sw_inside_burst(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		prefetch_ahead(pkts, n, i);
		sw_sink_put(out, pkts[i], inside_verdict(lc, out, pkts[i]));
	}
}
