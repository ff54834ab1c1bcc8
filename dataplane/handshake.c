/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "handshake.h"
#include "proxy.h"
#include "segment.h"
#include "splice.h"

/* What the server SYN carries of the client's SYN. */
struct client_syn {
	uint32_t irs;
	uint32_t iss;
	uint16_t mss;
	bool sack, ts, has_ws;
	uint8_t wscale;
	uint8_t ws_ours;        /* the shift our SYN-ACK offered (with has_ws) */
};

/*
 * A client segment of no flow, no pending handshake and no valid cookie, to a port that has
 * just become protected: it may belong to a connection opened before, so it is passed to the
 * server as it would have been (no flow is made: the server's answer proves the connection,
 * sw_splice_adopt). A spoofed one reaches the server, as before the change, until the port's
 * adoption window closes.
 */
static inline bool
adopting(struct sw_lcore *lc, const struct sw_pkt *pkt)
{
	if (!sw_cfg_adopting(lc->cfg, pkt->t.dport, lc->now_ms))
		return false;
	lc->cnt.proxy_adopt_passed++;
	return true;
}

/* Open a flow for the handshake cs (its syncache entry e, if any, goes) and make m the SYN
 * to the server. */
static enum sw_verdict
open_server(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
	    const struct sw_pkt *pkt, uint32_t hash, const struct client_syn *cs,
	    struct sw_sc_entry *e)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	struct sw_flow *f;
	struct sw_seg s;

	if (!lc->src_allowed && sw_flowtab_source_full(&lc->ft, &pkt->t)) {
		/* The client's source prefix holds its share of the table already: refused as
		 * when the table is full, and the entry stays likewise; a retransmission gets in
		 * once one of the source's flows has ended. */
		lc->cnt.proxy_source_quota++;
		sw_log_segment(lc, pkt, "completes a handshake, but its source prefix holds its "
			       "quota of flows (--source-flows): refused until one of them ends");
		return SW_V_DROP;
	}
	f = sw_splice_add(lc, out, &pkt->t, hash);
	if (f == NULL) {
		/* No room: like a full accept queue. The syncache entry (if any) stays, so the
		 * client's retransmission can still get in. */
		lc->cnt.sc_aborted++;
		return SW_V_DROP;
	}
	if (e != NULL)
		sw_syncache_remove(&lc->sc, e);
	lc->cnt.sc_completed++;
	if (lc->st.sets != NULL)
		sw_source_touch(lc, &pkt->t)->flows++;

	sw_flow_state(f) = SW_FLOW_OPENING;
	sw_flow_flags(f) = (uint8_t)((pkt->has_vlan ? SW_FLF_VLAN : 0) |
				     (cs->sack ? SW_FLF_C_SACK : 0) | (cs->ts ? SW_FLF_C_TS : 0) |
				     (cs->has_ws ? SW_FLF_C_WS : 0));
	sw_flow_ws(f) = (uint8_t)(cs->has_ws ? (cs->wscale | cs->ws_ours << 4) : 0);
	f->irs = cs->irs;
	f->iss = cs->iss;
	/*
	 * The client was promised timestamps: leave room in the server's segments for the
	 * option synwall must add should the server not do them. Whether it does is known only
	 * from its SYN-ACK, after this SYN; a learned profile is no promise (the server may have
	 * changed, or another server answers on that address), and one full-size segment 12
	 * bytes too long for the path is dropped there for good. A server that does timestamps
	 * sends 12 bytes less a segment than it could (0.8 % at 1460).
	 */
	f->open.mss = cs->mss;
	if (cs->ts && cs->mss > SW_TCP_MIN_MSS + SW_TS_OPTLEN)
		f->open.mss = (uint16_t)(cs->mss - SW_TS_OPTLEN);
	f->open.win = pkt->win;
	f->ts_ours = pkt->opt.tsecr;
	f->ts_recent = pkt->opt.tsval;
	memcpy(f->eth_client, data + 6, 6);
	memcpy(f->eth_server, data, 6);
	f->vlan_tci = pkt->vlan_tci;

	/* The client's ACK becomes, in place, the server SYN: same direction, same MACs. */
	sw_seg_server_syn(&s, f, &pkt->t);
	sw_mbuf_write_seg(m, &s, out->tx_csum[SW_INSIDE]);
	lc->cnt.proxy_opened++;
	return SW_V_INSIDE;
}

/* One check's worth of the budget, in thousandths of a check. */
#define BUDGET_ONE 1000u

/* Refill the bucket for the time gone since the last refill; the worker's share of the rate
 * (checks a second: thousandths a millisecond), 0 with no limit. The share is worked out
 * again only when the configuration changed. */
static uint64_t
budget_refill(struct sw_lcore *lc)
{
	uint64_t rate, cap, gone;

	if (unlikely(lc->cookie_budget_version != lc->cfg->version + 1)) {
		uint64_t workers = RTE_MAX(lc->nworkers, 1u);

		lc->cookie_budget_version = lc->cfg->version + 1;
		lc->cookie_budget_share = (uint32_t)((lc->cfg->lim.cookie_check_rate + workers - 1) /
						     workers);
	}
	rate = lc->cookie_budget_share;
	if (rate == 0)
		return 0;
	cap = RTE_MAX(rate * SW_COOKIE_BUDGET_MS, (uint64_t)BUDGET_ONE);
	gone = RTE_MIN(lc->now_ms - lc->cookie_budget_ms, (uint64_t)SW_COOKIE_BUDGET_MS);
	lc->cookie_budget_ms = lc->now_ms;
	lc->cookie_budget = RTE_MIN(lc->cookie_budget + gone * rate, cap);
	return rate;
}

bool
sw_cookie_budget_left(struct sw_lcore *lc)
{
	return budget_refill(lc) == 0 || lc->cookie_budget >= BUDGET_ONE;
}

bool
sw_cookie_budget_take(struct sw_lcore *lc)
{
	if (budget_refill(lc) == 0)
		return true;
	if (lc->cookie_budget < BUDGET_ONE)
		return false;
	lc->cookie_budget -= BUDGET_ONE;
	return true;
}

/* The MAC bits compared: all of them. The forgery test builds this file with fewer
 * (tests/unit/test_forgery.c), to count forgeries of a weakened MAC in reasonable time. */
#ifndef SW_COOKIE_MAC_KEEP
#define SW_COOKIE_MAC_KEEP UINT32_MAX
#endif

/* Does the ACK's cookie check out, with the client's ISN irs? Its MAC (the first pass's
 * when there is one) against the cookie's 24 bits and, when the ACK has timestamps, the 8
 * its TSecr echoes. */
static __rte_always_inline bool
cookie_valid(const struct sw_lcore *lc, const struct sw_pkt *pkt, uint32_t irs, bool have,
	     uint32_t mac, struct sw_cookie_opts *co)
{
	uint32_t cookie = pkt->ack - 1;
	/* the bits compared: all 32 with timestamps, else the cookie's 24 */
	uint32_t keep = (pkt->opt.present & SW_OPT_TS) ? SW_COOKIE_MAC_KEEP
						       : SW_COOKIE_MAC_KEEP & ~0xffu;

	if (unlikely(!have))
		mac = sw_cookie_mac(&lc->cfg->keys, &pkt->t, irs, cookie & 0xff);
	if (((mac ^ ((cookie & ~0xffu) | sw_cookie_ts_mac8(pkt->opt.tsecr))) & keep) != 0)
		return false;
	sw_cookie_decode(cookie, co);
	return true;
}

enum sw_verdict
sw_handshake_complete(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
		      const struct sw_pkt *pkt, enum sw_mode mode, uint32_t hash,
		      const struct sw_ack_macs *macs)
{
	static const struct sw_ack_macs none;
	/*
	 * A zero-length ACK may be a zero-window probe (seq = ISN, not ISN + 1): after our
	 * SYN-ACK's zero window the client never resends its ACK, it probes. If its first ACK
	 * was lost, the probe is all that will ever come, so it completes the handshake too.
	 */
	bool probe = pkt->l4_len == pkt->th_len;
	struct client_syn cs;
	struct sw_cookie_opts co;
	struct sw_sc_entry *e;
	uint32_t irs = pkt->seq - 1;
	bool valid, ts, limited;

	if (macs == NULL)
		macs = &none;
	e = sw_syncache_lookup(&lc->sc, &pkt->t, hash);
	if (e != NULL && pkt->ack == e->iss + 1 &&
	    (pkt->seq == e->irs + 1 || (probe && pkt->seq == e->irs))) {
		cs.irs = e->irs;
		cs.iss = e->iss;
		cs.mss = (e->flags & SW_SCF_MSS) ? e->mss : SW_TCP_DEFAULT_MSS;
		cs.sack = (e->flags & SW_SCF_SACK) != 0;
		cs.ts = (e->flags & SW_SCF_TS) != 0;
		cs.has_ws = (e->flags & SW_SCF_WS) != 0;
		cs.wscale = e->wscale;
		cs.ws_ours = e->ws_ours;
		return open_server(lc, out, m, pkt, hash, &cs, e);
	}

	/* No entry, or one for another handshake on this 4-tuple (a second SYN with another
	 * ISN is answered by cookie alone): the cookie decides. */
	if (!lc->cfg->lim.syncookies && mode != SW_MODE_COOKIE) {
		if (e == NULL && adopting(lc, pkt))
			return SW_V_INSIDE;
		if (e != NULL)
			lc->cnt.sc_badack++;
		else
			lc->cnt.proxy_ack_no_handshake++;
		sw_log_segment(lc, pkt, "matches no pending handshake (SYN cookies are off): "
			       "dropped (spoofed ACK, port scan, or a connection whose entry "
			       "expired)");
		return SW_V_DROP;
	}
	/* Each reading of an ACK without timestamps is one check of the budget. */
	ts = (pkt->opt.present & SW_OPT_TS) != 0;
	limited = !ts && !sw_cookie_budget_take(lc);
	valid = !limited && cookie_valid(lc, pkt, irs, macs->have, macs->mac, &co);
	if (!valid && !limited && probe && (ts || sw_cookie_budget_take(lc))) {
		valid = cookie_valid(lc, pkt, pkt->seq, macs->have && macs->have_probe,
				     macs->mac_probe, &co);
		if (valid)
			irs = pkt->seq;
	}
	if (!valid) {
		if (e == NULL && adopting(lc, pkt))
			return SW_V_INSIDE;
		if (limited) {
			lc->cnt.cookie_limited++;
			sw_log_segment(lc, pkt, "carries no timestamps, and this second's cookie "
				       "checks of such ACKs (cookie_check_rate) are spent: dropped "
				       "unchecked (an ACK flood is on)");
		} else if (e != NULL) {
			lc->cnt.sc_badack++;
			sw_log_segment(lc, pkt, "does not acknowledge the SYN-ACK of its pending "
				       "handshake (wrong sequence numbers) and carries no valid "
				       "cookie: dropped (stale or spoofed segment)");
		} else {
			lc->cnt.cookie_failed++;
			if (lc->st.sets != NULL && sw_srct_sampled(&lc->st))
				sw_source_touch(lc, &pkt->t)->bad_cookies += SW_SRCT_SAMPLE;
			sw_log_segment(lc, pkt, "matches no pending handshake and carries no "
				       "valid cookie: dropped (spoofed ACK or port scan)");
		}
		return SW_V_DROP;
	}
	lc->cnt.sc_recvcookie++;
	cs.irs = irs;
	cs.iss = pkt->ack - 1;
	cs.mss = co.mss;
	cs.sack = co.sack;
	/* Timestamps were negotiated if and only if the ACK carries them. */
	cs.ts = ts;
	cs.has_ws = co.wscale != SW_COOKIE_WS_NONE;
	cs.wscale = cs.has_ws ? co.wscale : 0;
	/* Our shift: in the echoed TSval's low bits; without timestamps the SYN-ACK offered
	 * the port's configured shift (never a learned one, which may have changed since). */
	if (cs.ts && (pkt->opt.tsecr & SW_TS_WS_MASK) != SW_TS_WS_NONE)
		cs.ws_ours = (uint8_t)(pkt->opt.tsecr & SW_TS_WS_MASK);
	else
		cs.ws_ours = lc->cfg->port_profile[pkt->t.dport].wscale;
	/* an entry of another handshake on this 4-tuple is moot once this one opens: its
	 * SYN-ACK retransmits would reach a connected client */
	return open_server(lc, out, m, pkt, hash, &cs, e);
}

enum sw_verdict
sw_handshake_rst(struct sw_lcore *lc, const struct sw_pkt *pkt, uint32_t hash)
{
	struct sw_sc_entry *e = sw_syncache_lookup(&lc->sc, &pkt->t, hash);

	if (e != NULL && pkt->seq == e->irs + 1) {
		/* Only the exact sequence number counts (RFC 5961 3.2): a blind attacker cannot
		 * tear down someone else's handshake. */
		sw_syncache_remove(&lc->sc, e);
		lc->cnt.sc_reset++;
	} else if (e == NULL && adopting(lc, pkt)) {
		return SW_V_INSIDE;
	} else {
		lc->cnt.proxy_rst_ignored++;
	}
	return SW_V_DROP;
}
