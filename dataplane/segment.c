/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "proxy.h"
#include "segment.h"

/* m's metadata for the single segment of lens just written into it. */
static inline void
mbuf_seg_meta(struct rte_mbuf *m, const struct sw_seg_lens *lens, bool v6, bool tx_csum)
{
	m->data_len = lens->frame_len;
	m->pkt_len = lens->frame_len;
	m->ol_flags = 0;
	m->vlan_tci = 0;
	if (tx_csum) {
		m->l2_len = lens->l2_len;
		m->l3_len = lens->l3_len;
		m->ol_flags = v6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM)
				 : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				    RTE_MBUF_F_TX_TCP_CKSUM);
	}
}

/* The frame's data beyond its first segment: not part of what is written over it. */
static inline void
mbuf_first_seg_only(struct rte_mbuf *m)
{
	if (unlikely(m->nb_segs > 1)) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
	}
}

void
sw_mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, bool tx_csum)
{
	struct sw_seg_lens lens;

	mbuf_first_seg_only(m);
	sw_write_seg(rte_pktmbuf_mtod(m, uint8_t *), s, tx_csum, &lens);
	mbuf_seg_meta(m, &lens, s->t.v6, tx_csum);
}

void
sw_mbuf_synack(struct rte_mbuf *m, const struct sw_lcore *lc, const struct sw_pkt *pkt,
	       uint32_t iss, uint8_t mac8, const struct sw_tcpopts *offer, bool tx_csum)
{
	struct sw_seg_lens lens;
	struct sw_tcpopts o = *offer;

	o.tsval = sw_tsval_synack(lc, mac8, (offer->present & SW_OPT_WS) ? offer->wscale
									 : SW_TS_WS_NONE);
	o.tsecr = pkt->opt.tsval;
	mbuf_first_seg_only(m);
	/* Zero window, like netfilter's SYNPROXY: no data before the server side is open. */
	sw_write_answer(rte_pktmbuf_mtod(m, uint8_t *), pkt, iss, pkt->seq + 1,
			SW_TH_SYN | SW_TH_ACK, 0, &o, tx_csum, &lens);
	mbuf_seg_meta(m, &lens, pkt->t.v6, tx_csum);
}

void
sw_seg_synack(struct sw_seg *s, const struct sw_lcore *lc, const uint8_t *eth_client,
	      const uint8_t *eth_server, uint16_t vlan_tci, bool has_vlan,
	      const struct sw_tuple *t, uint32_t irs, uint32_t iss, uint8_t mac8,
	      const struct sw_tcpopts *offer, uint32_t client_tsval)
{
	memcpy(s->eth_src, eth_server, 6);
	memcpy(s->eth_dst, eth_client, 6);
	s->vlan_tci = vlan_tci;
	s->has_vlan = has_vlan;
	sw_tuple_reverse(&s->t, t);
	s->seq = iss;
	s->ack = irs + 1;
	s->flags = SW_TH_SYN | SW_TH_ACK;
	/* Zero window, like netfilter's SYNPROXY: no data before the server side is open. */
	s->win = 0;
	s->opt = *offer;
	s->opt.tsval = sw_tsval_synack(lc, mac8, (offer->present & SW_OPT_WS) ? offer->wscale
									      : SW_TS_WS_NONE);
	s->opt.tsecr = client_tsval;
}

void
sw_seg_synack_again(struct sw_seg *s, const struct sw_lcore *lc, const struct sw_sc_entry *e,
		    const struct sw_tuple *t)
{
	struct sw_tcpopts offer;

	memset(&offer, 0, sizeof(offer));
	offer.present = (uint8_t)(SW_OPT_MSS |
				  ((e->flags & SW_SCF_SACK) ? SW_OPT_SACKOK : 0) |
				  ((e->flags & SW_SCF_TS) ? SW_OPT_TS : 0) |
				  ((e->flags & SW_SCF_WS) ? SW_OPT_WS : 0));
	offer.mss = e->mss_offer;
	offer.wscale = e->ws_ours;
	sw_seg_synack(s, lc, e->eth_client, e->eth_server, e->vlan_tci,
		      (e->flags & SW_SCF_VLAN) != 0, t, e->irs, e->iss, e->mac8, &offer,
		      e->ts_recent);
}

void
sw_seg_of_flow(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
	       bool to_server)
{
	if (to_server) {
		memcpy(s->eth_src, f->eth_client, 6);
		memcpy(s->eth_dst, f->eth_server, 6);
		s->t = *t;
	} else {
		memcpy(s->eth_src, f->eth_server, 6);
		memcpy(s->eth_dst, f->eth_client, 6);
		sw_tuple_reverse(&s->t, t);
	}
	s->vlan_tci = f->vlan_tci;
	s->has_vlan = (sw_flow_flags(f) & SW_FLF_VLAN) != 0;
	memset(&s->opt, 0, sizeof(s->opt));
}

void
sw_seg_server_syn(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t)
{
	uint8_t fl = sw_flow_flags(f);
	uint32_t win;

	sw_seg_of_flow(s, f, t, true);
	s->seq = f->irs;
	s->ack = 0;
	s->flags = SW_TH_SYN;
	win = (fl & SW_FLF_C_WS) ? (uint32_t)f->open.win << SW_FLOW_WS_CLIENT(f) : f->open.win;
	s->win = win > UINT16_MAX ? UINT16_MAX : (uint16_t)win;
	s->opt.present = (uint8_t)(SW_OPT_MSS | ((fl & SW_FLF_C_SACK) ? SW_OPT_SACKOK : 0) |
				   ((fl & SW_FLF_C_TS) ? SW_OPT_TS : 0) |
				   ((fl & SW_FLF_C_WS) ? SW_OPT_WS : 0));
	s->opt.mss = f->open.mss;
	s->opt.wscale = SW_FLOW_WS_CLIENT(f);
	s->opt.tsval = f->ts_recent;
	s->opt.tsecr = 0;
}

void
sw_seg_client_rst(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t)
{
	sw_seg_of_flow(s, f, t, false);
	s->seq = f->iss + 1;
	s->ack = f->irs + 1;
	s->flags = SW_TH_RST | SW_TH_ACK;
	s->win = 0;
}

void
sw_seg_server_ack(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		  uint32_t seq, uint32_t srv_isn, uint32_t srv_tsval, uint16_t client_win)
{
	sw_seg_of_flow(s, f, t, true);
	s->seq = seq;
	s->ack = srv_isn + 1;
	s->flags = SW_TH_ACK;
	s->win = sw_proxy_win_to_server(f, client_win);
	if (sw_flow_flags(f) & SW_FLF_S_TS) {
		s->opt.present = SW_OPT_TS;
		s->opt.tsval = f->ts_recent;
		s->opt.tsecr = srv_tsval;
	}
}

void
sw_seg_reset(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
	     bool to_server)
{
	sw_seg_of_flow(s, f, t, to_server);
	s->flags = SW_TH_RST | SW_TH_ACK;
	s->win = 0;
	if (to_server) {
		s->seq = f->srv_ack;
		s->ack = f->srv_nxt + f->seq_delta;
	} else {
		s->seq = f->srv_nxt;
		s->ack = f->srv_ack;
	}
}

void
sw_seg_client_window(struct sw_seg *s, const struct sw_lcore *lc, const struct sw_flow *f,
		     const struct sw_tuple *t, uint32_t irs, uint16_t srv_win, uint32_t srv_tsval)
{
	unsigned int ours = (sw_flow_flags(f) & SW_FLF_C_WS) ? SW_FLOW_WS_OURS(f) : 0;
	uint32_t win = ((uint32_t)srv_win + (1u << ours) - 1) >> ours;

	sw_seg_of_flow(s, f, t, false);
	s->seq = f->srv_nxt;
	s->ack = irs + 1;
	s->flags = SW_TH_ACK;
	s->win = win > UINT16_MAX ? UINT16_MAX : (uint16_t)win;
	if (sw_flow_flags(f) & SW_FLF_C_TS) {
		s->opt.present = SW_OPT_TS;
		s->opt.tsval = (sw_flow_flags(f) & SW_FLF_S_TS) ? srv_tsval - f->ts_delta
								: sw_tsval_ours(lc);
		s->opt.tsecr = f->ts_recent;
	}
}
