/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include "segment.h"
#include "srclist.h"
#include "syn.h"

/* What the SYN-ACK offers: the client's options that the server does too. Without
 * timestamps to carry it back, the shift offered is the port's configured one (the cookie
 * path can find that again; a learned one may change between the SYN and the ACK). */
static void
negotiate(const struct sw_tcpopts *syn, const struct sw_profile *p,
	  const struct sw_profile *port, struct sw_tcpopts *offer)
{
	uint16_t mss = (syn->present & SW_OPT_MSS) ? syn->mss : SW_TCP_DEFAULT_MSS;

	memset(offer, 0, sizeof(*offer));
	offer->present = (uint8_t)(SW_OPT_MSS |
		((syn->present & SW_OPT_SACKOK) && (p->flags & SW_PROF_SACK) ? SW_OPT_SACKOK : 0) |
		((syn->present & SW_OPT_TS) && (p->flags & SW_PROF_TS) ? SW_OPT_TS : 0) |
		((syn->present & SW_OPT_WS) && (p->flags & SW_PROF_WS) ? SW_OPT_WS : 0));
	/* the port's MSS is the largest offered: a learned one is no larger (the operator may
	 * know of a smaller link than the server does) */
	offer->mss = RTE_MIN(mss, RTE_MIN(p->mss, port->mss));
	offer->wscale = (offer->present & SW_OPT_TS) ? p->wscale : port->wscale;
}

void
sw_syn_plan(struct sw_lcore *lc, const struct sw_pkt *pkt, struct sw_syn_plan *p)
{
	struct sw_profile server = sw_server_profile(lc, &pkt->t);
	struct sw_tcpopts agreed;

	negotiate(&pkt->opt, &server, &lc->cfg->port_profile[pkt->t.dport], &p->offer);
	/* The cookie remembers what was agreed, not merely what the client offered. */
	agreed = pkt->opt;
	agreed.present &= (uint8_t)(p->offer.present | ~(SW_OPT_SACKOK | SW_OPT_WS));
	sw_cookie_opts_from_syn(&agreed, &p->co);
	p->low = sw_cookie_low(&lc->cfg->keys, &p->co);
	p->src_keyed = false;
	if (lc->st.sets == NULL)
		return;
	if (lc->cfg->lim.syn_rate != 0 || lc->cfg->lim.reflect_rate != 0)
		p->src_weight = 1;
	else if (sw_srct_sampled(&lc->st))
		p->src_weight = SW_SRCT_SAMPLE;
	else
		return;
	p->src_keyed = true;
	{
		p->src_hash = sw_srct_key(&lc->st, pkt->t.v6, pkt->t.src, p->src_key);
		sw_srct_prefetch_set(&lc->st, p->src_hash);
	}
}

/* A new syncache entry for the SYN pkt, answered with the cookie iss. */
static void
keep_entry(struct sw_lcore *lc, const uint8_t *data, const struct sw_pkt *pkt, uint32_t hash,
	   const struct sw_syn_plan *plan)
{
	const struct sw_limits *lim = &lc->cfg->lim;
	struct sw_sc_entry *e;
	unsigned int ev;

	e = sw_syncache_insert(&lc->sc, &pkt->t, hash, lim->cachelimit, &ev);
	if (ev & SW_CTAB_EVICT_BUCKET) {
		lc->cnt.sc_bucketoverflow++;
		if (lim->syncookies && sw_syncache_pause(&lc->sc, lc->now_ms))
			sw_log(lc, "syncache bucket overflow: pausing the syncache, answering "
			       "with SYN cookies only for %" PRIu64 " s",
			       (lc->sc.pause_until_ms - lc->now_ms) / 1000);
	}
	if (ev & SW_CTAB_EVICT_CACHE)
		lc->cnt.sc_cacheoverflow++;
	e->irs = pkt->seq;
	e->iss = plan->iss;
	e->mac8 = plan->mac8;
	e->ts_recent = pkt->opt.tsval;
	e->expire_ms = (uint32_t)lc->now_ms + sw_syncache_rto_ms(0);
	memcpy(e->eth_client, data + 6, 6);
	memcpy(e->eth_server, data, 6);
	e->vlan_tci = pkt->vlan_tci;
	e->mss = pkt->opt.mss;
	e->wscale = pkt->opt.wscale;
	e->flags = (uint8_t)((pkt->has_vlan ? SW_SCF_VLAN : 0) |
			     ((pkt->opt.present & SW_OPT_MSS) ? SW_SCF_MSS : 0) |
			     ((plan->offer.present & SW_OPT_SACKOK) ? SW_SCF_SACK : 0) |
			     ((plan->offer.present & SW_OPT_TS) ? SW_SCF_TS : 0) |
			     ((plan->offer.present & SW_OPT_WS) ? SW_SCF_WS : 0));
	e->ws_ours = plan->offer.wscale;
	e->mss_offer = plan->offer.mss;
	lc->cnt.sc_added++;
}

/* Does the client's source prefix stop this SYN: over its SYN rate, or its answer over the
 * cap of SYN-ACKs towards it? Counted either way; an allowed source is counted, never
 * stopped. */
static bool
source_stops(struct sw_lcore *lc, const struct sw_pkt *pkt, const struct sw_syn_plan *plan)
{
	struct sw_srct_entry *se = NULL;
	int evicted;

	if (plan->src_keyed) {
		sw_source_configure(lc);
		se = sw_srct_get_keyed(&lc->st, pkt->t.v6, plan->src_key, plan->src_hash,
				       lc->now_ms, &evicted);
		lc->cnt.src_evicted += (uint64_t)evicted;
	}
	if (lc->src_allowed) {
		if (se != NULL)
			se->syns += plan->src_weight;
		return false;
	}
	/* a limit rule's bucket first: the prefix's own are not drawn on for a SYN it stops */
	if (lc->src_limit != 0 && !sw_srcset_limit_take(lc->cfg->src, lc->src_limit, lc->worker,
							lc->nworkers, lc->now_ms)) {
		if (se != NULL) {
			se->syns += plan->src_weight;
			se->syns_limited += plan->src_weight;
		}
		lc->cnt.src_prefix_limited++;
		return true;
	}
	if (se == NULL)
		return false;
	switch (sw_srct_syn_synack(&lc->st, se, lc->now_ms, plan->src_weight)) {
	case 1:
		lc->cnt.src_syn_limited++;
		return true;
	case 2:
		lc->cnt.src_reflect_capped++;
		return true;
	default:
		return false;
	}
}

enum sw_verdict
sw_syn_answer(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
	      const struct sw_pkt *pkt, enum sw_mode mode, uint32_t hash,
	      const struct sw_syn_plan *plan)
{
	const struct sw_limits *lim = &lc->cfg->lim;
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	struct sw_sc_entry *e;
	struct sw_seg s;

	if ((plan->src_keyed || lc->src_limit != 0) && source_stops(lc, pkt, plan))
		return SW_V_DROP;
	e = sw_syncache_lookup(&lc->sc, &pkt->t, hash);
	if (e != NULL && e->irs == pkt->seq) {
		/* Duplicate SYN: resend the SYN-ACK. */
		lc->cnt.sc_dupsyn++;
		e->ts_recent = pkt->opt.tsval;
		e->rxmits = 0;
		e->expire_ms = (uint32_t)lc->now_ms + sw_syncache_rto_ms(0);
		sw_syncache_sooner(&lc->sc, e, lc->now_ms + sw_syncache_rto_ms(0));
		sw_seg_synack_again(&s, lc, e, &pkt->t);
		sw_mbuf_write_seg(m, &s, out->tx_csum[SW_OUTSIDE]);
		return SW_V_OUTSIDE;
	}

	/* Another ISN for a 4-tuple with an entry: answered by cookie alone. The entry stays,
	 * so a spoofed SYN cannot take a pending handshake over; whichever ACK comes, the
	 * entry's or the cookie's, completes. */
	if (e == NULL && mode == SW_MODE_PROXY && !lim->syncookies_only &&
	    !(lim->syncookies && sw_syncache_paused(&lc->sc, lc->now_ms))) {
		if (lc->src_allowed || !sw_syncache_source_full(&lc->sc, &pkt->t)) {
			keep_entry(lc, data, pkt, hash, plan);
		} else if (lim->syncookies) {
			/* Its source prefix holds its quota of entries: it gets a cookie, which
			 * costs nothing to keep, and the others keep their room. */
			lc->cnt.sc_source_quota++;
			lc->cnt.sc_sendcookie++;
		} else {
			/* Without cookies the SYN could only take another source's entry. */
			lc->cnt.sc_source_quota_dropped++;
			return SW_V_DROP;
		}
	} else {
		lc->cnt.sc_sendcookie++;
	}
	sw_mbuf_synack(m, lc, pkt, plan->iss, plan->mac8, &plan->offer, out->tx_csum[SW_OUTSIDE]);
	return SW_V_OUTSIDE;
}

enum sw_sc_timer_action
sw_synack_timer(struct sw_sc_entry *e, void *arg)
{
	struct sw_stage_io *io = arg;
	struct sw_lcore *lc = io->lc;
	struct sw_tuple t;
	struct sw_seg s;
	struct rte_mbuf *m;

	if (e->rxmits >= lc->cfg->lim.rexmtlimit) {
		lc->cnt.sc_stale++;
		return SW_SC_DROP;
	}
	e->rxmits++;
	e->expire_ms = (uint32_t)lc->now_ms + sw_syncache_rto_ms(e->rxmits);
	sw_ctab_tuple(&lc->sc.tab, e, &t);
	if (lc->st.sets != NULL && lc->cfg->lim.reflect_rate != 0 &&
	    (lc->cfg->src == NULL || sw_srcset_lookup_tuple(lc->cfg->src, &t, 1) != SW_SRC_ALLOW) &&
	    !sw_srct_synack(&lc->st, sw_source_entry(lc, &t), lc->now_ms)) {
		/* Over the cap towards the client's prefix: this retransmit is not sent (one
		 * fewer is left); the entry still completes with the client's ACK. */
		lc->cnt.src_reflect_capped++;
		return SW_SC_KEEP;
	}
	m = sw_sink_alloc(io->out);
	if (unlikely(m == NULL)) {
		lc->cnt.port_nombuf++;
		return SW_SC_KEEP;
	}
	sw_seg_synack_again(&s, lc, e, &t);
	sw_mbuf_write_seg(m, &s, io->out->tx_csum[SW_OUTSIDE]);
	lc->cnt.sc_retransmitted++;
	sw_sink_send(io->out, SW_OUTSIDE, m);
	return SW_SC_KEEP;
}
