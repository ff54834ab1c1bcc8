/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "icmp.h"
#include "proxy.h"
#include "segment.h"
#include "splice.h"

/*
 * FIN and RST bookkeeping. The server's word is trusted (it is what we protect); the
 * client side's only when it fits what the server expects (RFC 5961 3.2): an RST with
 * exactly the next sequence number, a FIN not far beyond it. Anything else is passed on
 * for the server to judge (it answers a challenge ACK) and changes nothing here, so that a
 * blind attacker cannot make synwall drop a live connection.
 */
static inline void
track_close(struct sw_lcore *lc, struct sw_flow *f, const struct sw_pkt *pkt, bool from_client)
{
	uint8_t fl = pkt->tcp_flags;

	if (fl & SW_TH_RST) {
		if (!from_client || pkt->seq == f->srv_ack)
			f->fin |= SW_FIN_RST;
	} else if (fl & SW_TH_FIN) {
		if (!from_client)
			f->fin |= SW_FIN_SERVER;
		else if (pkt->seq - f->srv_ack < sw_flow_fin_window(f))
			f->fin |= SW_FIN_CLIENT;
	}
	if (sw_flow_state(f) != SW_FLOW_CLOSING &&
	    ((f->fin & SW_FIN_RST) || (f->fin & (SW_FIN_CLIENT | SW_FIN_SERVER)) ==
	     (SW_FIN_CLIENT | SW_FIN_SERVER))) {
		sw_flowtab_closing(&lc->ft, f, lc->now_ms);
	}
}

/* What the server has sent, in the client's space (before the segment is translated). */
static inline void
track_srv_nxt(struct sw_flow *f, const struct sw_pkt *pkt)
{
	uint32_t end = pkt->seq - f->seq_delta + (uint32_t)(pkt->l4_len - pkt->th_len) +
		       ((pkt->tcp_flags & SW_TH_FIN) ? 1 : 0);

	if ((int32_t)(end - f->srv_nxt) > 0)
		f->srv_nxt = end;
}

void
sw_splice_end(struct sw_lcore *lc, struct sw_sink *out, const struct sw_flow *f,
	      const struct sw_tuple *t)
{
	struct rte_mbuf *m;
	struct sw_seg s;
	int side;

	if (sw_flow_state(f) == SW_FLOW_OPENING) {
		/* the server never answered: the client learns it now, as at the server
		 * SYN's last timeout */
		m = sw_sink_alloc(out);
		if (m == NULL) {
			lc->cnt.port_nombuf++;
			return;
		}
		sw_seg_client_rst(&s, f, t);
		sw_mbuf_write_seg(m, &s, out->tx_csum[SW_OUTSIDE]);
		sw_sink_send(out, SW_OUTSIDE, m);
		lc->cnt.proxy_reset_sent++;
		return;
	}
	if (sw_flow_state(f) != SW_FLOW_ESTABLISHED)
		return;         /* closing: both ends are done with it already */
	for (side = SW_OUTSIDE; side <= SW_INSIDE; side++) {
		m = sw_sink_alloc(out);
		if (m == NULL) {
			lc->cnt.port_nombuf++;
			continue;
		}
		sw_seg_reset(&s, f, t, side == SW_INSIDE);
		sw_mbuf_write_seg(m, &s, out->tx_csum[side]);
		sw_sink_send(out, (enum sw_side)side, m);
	}
	lc->cnt.proxy_reset_sent++;
}

struct sw_flow *
sw_splice_add(struct sw_lcore *lc, struct sw_sink *out, const struct sw_tuple *t, uint32_t hash)
{
	struct sw_tuple gone_t;
	struct sw_flow *f, gone;
	int evicted;

	f = sw_flowtab_add_evict(&lc->ft, t, hash, (uint32_t)lc->now_ms,
				 SW_FLOW_EVICT_MIN_IDLE_MS, &evicted, &gone, &gone_t);
	if (f != NULL && evicted) {
		lc->cnt.proxy_evicted++;
		lc->cnt.proxy_evicted_heavy += (evicted & SW_FLOW_EVICTED_HEAVY) != 0;
		sw_splice_end(lc, out, &gone, &gone_t);
	}
	return f;
}

/* The server's MSS, rounded down to 8 (UINT32_MAX: none known). A client segment is held to
 * be over it only from 8 bytes more (the rounding never flags a segment within it), and the
 * MTU it is told is the rounded one (what it then sends surely fits). */
static inline uint32_t
server_mss8(const struct sw_flow *f)
{
	return (f->mss8 != 0 && f->mss8 != 255) ? (uint32_t)f->mss8 * 8 : UINT32_MAX - 8;
}

enum sw_verdict
sw_splice_client(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
		 struct sw_pkt *pkt, struct sw_flow *f)
{
	uint8_t fl = pkt->tcp_flags;

	if (sw_flow_state(f) == SW_FLOW_OPENING) {
		if (fl & SW_TH_SYN) {
			/* A SYN cannot come from the client, which is established: it would
			 * only let a spoofer cancel the opening. */
			lc->cnt.proxy_syn_opening++;
			return SW_V_DROP;
		}
		if ((fl & SW_TH_RST) && pkt->seq == f->irs + 1) {
			/* The client gives up while the server side opens: the server is told
			 * (its sequence space is the client's own, untranslated). */
			sw_flowtab_remove(&lc->ft, f);
			lc->cnt.proxy_reset++;
			return SW_V_INSIDE;
		}
		/* The handshake ACK again, or a window probe: the server is not open yet.
		 * The client's window is zero until it is, so no data is lost. */
		lc->cnt.proxy_ack_opening++;
		return SW_V_DROP;
	}
	if ((fl & SW_TH_SYN) && sw_flow_state(f) == SW_FLOW_CLOSING) {
		/* A new connection on a 4-tuple that is closing: like a Linux server in
		 * TIME_WAIT, let the new handshake start over. */
		sw_flowtab_remove(&lc->ft, f);
		lc->cnt.proxy_closed++;
		return SW_V_NO_FLOW;
	}
	/* Everything else, an established flow's SYN included (the server answers it with a
	 * challenge ACK, RFC 5961 4), is translated and passed on. */
	sw_flowtab_touch(&lc->ft, f, (uint32_t)lc->now_ms);
	/* more than the server said it takes (options count against the MSS, RFC 6691),
	 * before the segment is translated: the quote is the client's own */
	if (unlikely((uint32_t)(pkt->l4_len - 20) >= server_mss8(f) + 8))
		sw_icmp_too_big(lc, out, m, pkt, server_mss8(f) + (pkt->t.v6 ? 60 : 40));
	if (likely(!(sw_flow_flags(f) & SW_FLF_ADOPTED)))
		sw_proxy_to_server(rte_pktmbuf_mtod(m, uint8_t *), pkt, f);
	track_close(lc, f, pkt, true);
	lc->cnt.proxy_to_server++;
	return SW_V_INSIDE;
}

/* The server's SYN-ACK of an opening flow: the flow is established, the client gets the
 * server's window, and m becomes our ACK to the server. */
static enum sw_verdict
server_synack(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
	      const struct sw_pkt *pkt, struct sw_flow *f, const struct sw_tuple *t)
{
	/* read before sw_proxy_server_synack(), which reuses their fields */
	uint16_t client_win = f->open.win;
	uint32_t irs = f->irs;
	uint8_t offered = (uint8_t)(
		((sw_flow_flags(f) & SW_FLF_C_SACK) ? SW_OPT_SACKOK : 0) |
		((sw_flow_flags(f) & SW_FLF_C_TS) ? SW_OPT_TS : 0) |
		((sw_flow_flags(f) & SW_FLF_C_WS) ? SW_OPT_WS : 0));
	struct sw_profile known;
	struct rte_mbuf *upd;
	struct sw_seg s;

	if (!sw_proxy_server_synack(f, pkt)) {
		lc->cnt.proxy_synack_mismatch++;
		return SW_V_DROP;
	}
	known = sw_server_profile(lc, t);
	sw_learn_synack(lc->learn, t, &known, offered, &pkt->opt, (uint32_t)lc->now_ms);
	sw_flow_state(f) = SW_FLOW_ESTABLISHED;
	sw_flowtab_touch(&lc->ft, f, (uint32_t)lc->now_ms);

	upd = sw_sink_alloc(out);
	if (upd != NULL) {
		sw_seg_client_window(&s, lc, f, t, irs, pkt->win, pkt->opt.tsval);
		sw_mbuf_write_seg(upd, &s, out->tx_csum[SW_OUTSIDE]);
		sw_sink_send(out, SW_OUTSIDE, upd);
	} else {
		/* The client's own window probe will fetch the window later. */
		lc->cnt.port_nombuf++;
	}

	sw_seg_server_ack(&s, f, t, irs + 1, pkt->seq, pkt->opt.tsval, client_win);
	sw_mbuf_write_seg(m, &s, out->tx_csum[SW_INSIDE]);
	lc->cnt.proxy_established++;
	return SW_V_INSIDE;
}

/* A segment from the server while the flow is opening. */
static enum sw_verdict
server_opening(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
	       const struct sw_pkt *pkt, struct sw_flow *f, const struct sw_tuple *t)
{
	uint8_t fl = pkt->tcp_flags;
	struct sw_seg s;

	if ((fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == (SW_TH_SYN | SW_TH_ACK))
		return server_synack(lc, out, m, pkt, f, t);
	if ((fl & SW_TH_RST) && (fl & SW_TH_ACK) && pkt->ack == f->irs + 1) {
		/* The port is closed: the client gets the refusal, as if direct. */
		sw_seg_client_rst(&s, f, t);
		sw_flowtab_remove(&lc->ft, f);
		sw_mbuf_write_seg(m, &s, out->tx_csum[SW_OUTSIDE]);
		lc->cnt.proxy_server_rst++;
		return SW_V_OUTSIDE;
	}
	lc->cnt.proxy_server_opening++;
	return SW_V_DROP;
}

/*
 * A server segment to a client that was promised timestamps the server does not do: the
 * option is added, SACK blocks trimmed if that is what makes room. The MSS the server was
 * told leaves room for the option (handshake.c), so the segment still fits the client's path.
 */
static void
to_client_ts(struct sw_lcore *lc, struct rte_mbuf *m, struct sw_pkt *pkt, struct sw_flow *f)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	struct sw_ts_add a = { .len = 0 };

	if (sw_proxy_ts_plan(data, pkt, f, sw_tsval_ours(lc), &a) != SW_TS_ADD) {
		/* options of the server's own fill the header: sent as the server made it */
		lc->cnt.proxy_ts_no_room++;
		sw_proxy_to_client(data, pkt, f, NULL);
		return;
	}
	if (a.grow > 0 ? rte_pktmbuf_prepend(m, (uint16_t)a.grow) == NULL :
	    a.grow < 0 && rte_pktmbuf_adj(m, (uint16_t)-a.grow) == NULL) {
		lc->cnt.proxy_ts_no_room++;
		sw_proxy_to_client(data, pkt, f, NULL);
		return;
	}
	if (a.sack_cut != 0)
		lc->cnt.proxy_sack_trimmed++;
	sw_proxy_to_client(rte_pktmbuf_mtod(m, uint8_t *), pkt, f, &a);
}

enum sw_verdict
sw_splice_server(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
		 struct sw_pkt *pkt, struct sw_flow *f, const struct sw_tuple *t)
{
	uint8_t fl = pkt->tcp_flags;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	struct sw_seg s;

	if (sw_flow_state(f) == SW_FLOW_OPENING)
		return server_opening(lc, out, m, pkt, f, t);
	if (unlikely(sw_flow_flags(f) & SW_FLF_ADOPTED)) {
		/* the endpoints' own numbers both ways: only the close is followed */
		sw_flowtab_touch(&lc->ft, f, (uint32_t)lc->now_ms);
		track_srv_nxt(f, pkt);
		if ((fl & SW_TH_ACK) && (int32_t)(pkt->ack - f->srv_ack) > 0)
			f->srv_ack = pkt->ack;
		track_close(lc, f, pkt, false);
		lc->cnt.proxy_to_client++;
		return SW_V_OUTSIDE;
	}
	if ((fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK)) {
		/* The server resends its SYN-ACK: our ACK was lost. Answer it again; the
		 * client has been told already. */
		if (pkt->seq - f->seq_delta + 1 != f->srv_nxt) {
			lc->cnt.proxy_synack_mismatch++;
			return SW_V_DROP;
		}
		/* The client's window is not kept once open: offer 64 KB, the client's next
		 * segment brings the real one. */
		sw_seg_server_ack(&s, f, t, pkt->ack, pkt->seq, pkt->opt.tsval,
				  (uint16_t)(UINT16_MAX >> ((sw_flow_flags(f) & SW_FLF_C_WS) ?
							    SW_FLOW_WS_CLIENT(f) : 0)));
		sw_mbuf_write_seg(m, &s, out->tx_csum[SW_INSIDE]);
		lc->cnt.proxy_ack_resent++;
		return SW_V_INSIDE;
	}
	sw_flowtab_touch(&lc->ft, f, (uint32_t)lc->now_ms);
	track_srv_nxt(f, pkt);
	if (unlikely(sw_proxy_wants_ts(pkt, f)))
		to_client_ts(lc, m, pkt, f);
	else
		sw_proxy_to_client(data, pkt, f, NULL);
	track_close(lc, f, pkt, false);
	lc->cnt.proxy_to_client++;
	return SW_V_OUTSIDE;
}

enum sw_verdict
sw_splice_adopt(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
		const struct sw_pkt *pkt, const struct sw_tuple *t, uint32_t hash)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t fl = pkt->tcp_flags;
	struct sw_flow *f;

	/* Outside the adoption window, a server segment of no flow belongs to a flow synwall
	 * has ended (or never had): passed on, it would show the client numbers it never
	 * agreed to (the server's real ISN among them). */
	if (!sw_cfg_adopting(lc->cfg, t->dport, lc->now_ms)) {
		lc->cnt.proxy_server_no_flow++;
		return SW_V_DROP;
	}
	/* Only an established connection's segment proves one: a SYN-ACK or an RST opens
	 * nothing (they pass as they would have before). */
	if ((fl & (SW_TH_SYN | SW_TH_RST | SW_TH_ACK)) != SW_TH_ACK) {
		lc->cnt.port_bridged++;
		return SW_V_OUTSIDE;
	}
	/* A source at its quota adopts no more than it could open: the segment passes, as
	 * when the table is full. */
	if (sw_flowtab_source_full(&lc->ft, t)) {
		lc->cnt.proxy_adopt_source_quota++;
		return SW_V_OUTSIDE;
	}
	f = sw_splice_add(lc, out, t, hash);
	if (f == NULL) {
		lc->cnt.proxy_adopt_full++;
		return SW_V_OUTSIDE;
	}
	sw_flow_state(f) = SW_FLOW_ESTABLISHED;
	sw_flow_flags(f) = (uint8_t)(SW_FLF_ADOPTED | (pkt->has_vlan ? SW_FLF_VLAN : 0));
	sw_flow_ws(f) = 0;
	f->srv_nxt = pkt->seq;
	f->srv_ack = pkt->ack;
	f->seq_delta = 0;
	f->ts_delta = 0;
	f->ts_recent = 0;
	f->ws_srv = 0;
	f->fin = 0;
	f->mss8 = 0;
	/* the server's frame goes server -> client: its source is the server side */
	memcpy(f->eth_server, data + 6, 6);
	memcpy(f->eth_client, data, 6);
	f->vlan_tci = pkt->vlan_tci;
	/* A FIN as the first segment seen may answer the client's, which passed before there
	 * was a flow to note it: taken as both, the flow lingers rather than living until its
	 * idle timeout (a half-closed client still gets through: a closing flow passes its
	 * segments, and each one keeps it). */
	if (fl & SW_TH_FIN)
		f->fin |= SW_FIN_CLIENT;
	track_srv_nxt(f, pkt);
	track_close(lc, f, pkt, false);
	lc->cnt.proxy_adopted++;
	lc->cnt.proxy_to_client++;
	return SW_V_OUTSIDE;
}

enum sw_flow_timer_action
sw_flow_timer(struct sw_flow *f, uint32_t idle, void *arg)
{
	struct sw_stage_io *io = arg;
	struct sw_lcore *lc = io->lc;
	struct rte_mbuf *m;
	struct sw_tuple t;
	struct sw_seg s;

	switch (sw_flow_state(f)) {
	case SW_FLOW_OPENING:
		if (idle < (uint32_t)SW_SERVER_SYN_RTO_MS <<
			   (f->rexmits > SW_SERVER_SYN_MAX_BACKOFF ? SW_SERVER_SYN_MAX_BACKOFF
								   : f->rexmits))
			return SW_FLOW_KEEP;
		sw_ctab_tuple(&lc->ft.tab, f, &t);
		m = sw_sink_alloc(io->out);
		if (f->rexmits >= lc->cfg->lim.server_retries) {
			/* The server never answered: the client learns it at once rather than
			 * after its own timeouts. */
			lc->cnt.proxy_server_timeout++;
			if (m != NULL) {
				sw_seg_client_rst(&s, f, &t);
				sw_mbuf_write_seg(m, &s, io->out->tx_csum[SW_OUTSIDE]);
				sw_sink_send(io->out, SW_OUTSIDE, m);
			} else {
				lc->cnt.port_nombuf++;
			}
			return SW_FLOW_DROP;
		}
		if (m == NULL) {
			lc->cnt.port_nombuf++;
			return SW_FLOW_KEEP;
		}
		f->rexmits++;
		f->last_ms = (uint32_t)lc->now_ms;
		sw_seg_server_syn(&s, f, &t);
		sw_mbuf_write_seg(m, &s, io->out->tx_csum[SW_INSIDE]);
		lc->cnt.proxy_syn_retransmitted++;
		sw_sink_send(io->out, SW_INSIDE, m);
		return SW_FLOW_KEEP;
	case SW_FLOW_CLOSING:
		if (idle < sw_flow_linger_ms(f))
			return SW_FLOW_KEEP;
		lc->cnt.proxy_closed++;
		return SW_FLOW_DROP;
	default:
		if (idle / 1000 < lc->cfg->port_idle_s[f->hdr.dport])
			return SW_FLOW_KEEP;
		/* Both ends learn at once that the connection is gone, rather than at their
		 * next segment, which would find no flow. */
		sw_ctab_tuple(&lc->ft.tab, f, &t);
		sw_splice_end(lc, io->out, f, &t);
		lc->cnt.proxy_expired++;
		return SW_FLOW_DROP;
	}
}
