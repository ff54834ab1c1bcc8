/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet path of one worker lcore: receive a burst on each port, decide per packet
 * (bridge, drop, answer, open), send, run the timers, report a quiescent state.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include "app.h"
#include "bytes.h"
#include "cookie.h"
#include "proxy.h"
#include "tcpout.h"
#include "worker.h"

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
	uint8_t need;           /* enum sw_cookie_need */
	uint8_t msglen;
	uint32_t hash;          /* of pkt.t, both tables' seed */
	uint32_t low;           /* the cookie's low byte */
	uint32_t mac24;         /* the MAC, once computed */
	uint32_t mac24_probe;   /* SW_NEED_CHECK of a zero-length ACK: the MAC over seq, in
				 * case it is a zero-window probe (see complete_handshake) */
	uint8_t probe;          /* mac24_probe is wanted */
	uint8_t msg_probe[SW_COOKIE_MSG_MAX];
	struct sw_tcpopts offer;        /* SW_NEED_MAKE: what the SYN-ACK offers */
	struct sw_cookie_opts co;       /* SW_NEED_MAKE: what the cookie carries */
	uint8_t msg[SW_COOKIE_MSG_MAX];
};

/* Per-loop context handed to the helpers below. */
struct sw_ctx {
	struct sw_worker *w;
	const struct sw_config *cfg;
	uint64_t now_ms;
};

/* ---- transmit ---- */

static void
txbuf_flush(struct sw_worker *w, struct sw_txbuf *b, uint16_t port, uint64_t *tx_counter)
{
	uint16_t sent;

	if (b->n == 0)
		return;
	sent = rte_eth_tx_burst(port, w->queue, b->pkts, b->n);
	*tx_counter += sent;
	if (unlikely(sent < b->n)) {
		w->cnt.port_tx_dropped += b->n - sent;
		rte_pktmbuf_free_bulk(&b->pkts[sent], b->n - sent);
	}
	b->n = 0;
}

static inline void
txbuf_add(struct sw_worker *w, struct sw_txbuf *b, uint16_t port, uint64_t *tx_counter,
	  struct rte_mbuf *m)
{
	b->pkts[b->n++] = m;
	if (unlikely(b->n == SW_TX_BUF))
		txbuf_flush(w, b, port, tx_counter);
}

static inline void
send_outside(struct sw_worker *w, struct rte_mbuf *m)
{
	txbuf_add(w, &w->tx_outside, w->app->outside.id, &w->cnt.port_outside_tx, m);
}

static inline void
send_inside(struct sw_worker *w, struct rte_mbuf *m)
{
	txbuf_add(w, &w->tx_inside, w->app->inside.id, &w->cnt.port_inside_tx, m);
}

/* A packet synwall is done with: freed with the round's others (one bulk return to the
 * mempool instead of one call per packet; a flood of invalid ACKs is all drops). */
static inline void
drop_flush(struct sw_worker *w)
{
	if (w->dropped.n != 0) {
		rte_pktmbuf_free_bulk(w->dropped.pkts, w->dropped.n);
		w->dropped.n = 0;
	}
}

static inline void
drop_mbuf(struct sw_worker *w, struct rte_mbuf *m)
{
	w->dropped.pkts[w->dropped.n++] = m;
	if (w->dropped.n == SW_TX_BUF)
		drop_flush(w);
}

/* Replace the contents of m by the segment s, with offload flags for port p. */
static void
mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, const struct sw_port *p)
{
	struct sw_seg_lens lens;

	if (m->nb_segs > 1) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
	}
	sw_write_seg(rte_pktmbuf_mtod(m, uint8_t *), s, p->tx_csum, &lens);
	m->data_len = lens.frame_len;
	m->pkt_len = lens.frame_len;
	m->ol_flags = 0;
	m->vlan_tci = 0;
	if (p->tx_csum) {
		m->l2_len = lens.l2_len;
		m->l3_len = lens.l3_len;
		m->ol_flags = s->t.v6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM)
				      : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
					 RTE_MBUF_F_TX_TCP_CKSUM);
	}
}

/* ---- logging (rate-limited, printed by the control thread) ---- */

static void
fmt_endpoint(char *buf, size_t len, const uint8_t *addr, uint16_t port, int v6)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (v6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static void __rte_format_printf(3, 4)
sw_log(struct sw_worker *w, uint64_t now_ms, const char *fmt, ...)
{
	struct sw_logq *q = &w->log;
	uint32_t head = q->head;
	uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	char *line;
	va_list ap;
	int n;

	if (now_ms < w->log_next_ms || head - tail >= SW_LOGQ_SIZE) {
		w->log_suppressed++;
		return;
	}
	w->log_next_ms = now_ms + SW_LOG_INTERVAL_MS;
	line = q->line[head & (SW_LOGQ_SIZE - 1)];
	va_start(ap, fmt);
	n = vsnprintf(line, SW_LOG_LEN, fmt, ap);
	va_end(ap);
	if (w->log_suppressed > 0 && n > 0 && n < SW_LOG_LEN)
		snprintf(line + n, SW_LOG_LEN - n, " (%u similar events not logged)",
			 w->log_suppressed);
	w->log_suppressed = 0;
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
}

void
sw_worker_drain_log(struct sw_worker *w, FILE *f)
{
	struct sw_logq *q = &w->log;
	uint32_t tail = q->tail;
	uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

	while (tail != head) {
		fprintf(f, "synwall-dp: lcore %u: %s\n", w->lcore_id,
			q->line[tail & (SW_LOGQ_SIZE - 1)]);
		tail++;
	}
	fflush(f);
	__atomic_store_n(&q->tail, tail, __ATOMIC_RELEASE);
}

static void
log_segment(struct sw_worker *w, const struct sw_pkt *pkt, uint64_t now_ms, const char *what)
{
	char from[64], to[64];

	/* Format only when a line will really be queued. */
	if (now_ms < w->log_next_ms) {
		w->log_suppressed++;
		return;
	}
	fmt_endpoint(from, sizeof(from), pkt->t.src, pkt->t.sport, pkt->t.v6);
	fmt_endpoint(to, sizeof(to), pkt->t.dst, pkt->t.dport, pkt->t.v6);
	sw_log(w, now_ms, "ACK from %s to %s %s", from, to, what);
}

/* ---- segments we originate ---- */

/*
 * TSvals we send: the ms clock plus a per-worker offset. The SYN-ACK's also carries the
 * window shift it offered in its low 4 bits (15: none), for the cookie path to find again
 * (as Linux's cookies do with their option bits); every later TSval is 16 above the clock
 * so that it never goes back behind the SYN-ACK's.
 */
#define SW_TS_WS_NONE 0xf

static inline uint32_t
our_tsval(const struct sw_ctx *c)
{
	return (uint32_t)c->now_ms + c->w->ts_offset + 16;
}

static inline uint32_t
synack_tsval(const struct sw_ctx *c, uint8_t ws_code)
{
	return (((uint32_t)c->now_ms + c->w->ts_offset) & ~0xfu) | ws_code;
}

/* The profile of the server a SYN is for: learned, else the port's. */
static inline const struct sw_profile *
server_profile(const struct sw_ctx *c, const struct sw_tuple *t)
{
	const struct sw_profile *p = sw_learn_lookup(&c->w->learn, t);

	return p != NULL ? p : &c->cfg->port_profile[t->dport];
}

/* What the SYN-ACK offers: the client's options that the server does too. Without
 * timestamps to carry it back, the shift offered is the port's configured one (the cookie
 * path can find that again; a learned one may change between the SYN and the ACK). */
static void
negotiate(const struct sw_tcpopts *syn, const struct sw_profile *p,
	  const struct sw_profile *port, struct sw_tcpopts *offer)
{
	uint16_t mss = (syn->present & SW_OPT_MSS) ? syn->mss : 536;

	memset(offer, 0, sizeof(*offer));
	offer->present = (uint8_t)(SW_OPT_MSS |
		((syn->present & SW_OPT_SACKOK) && (p->flags & SW_PROF_SACK) ? SW_OPT_SACKOK : 0) |
		((syn->present & SW_OPT_TS) && (p->flags & SW_PROF_TS) ? SW_OPT_TS : 0) |
		((syn->present & SW_OPT_WS) && (p->flags & SW_PROF_WS) ? SW_OPT_WS : 0));
	offer->mss = mss < p->mss ? mss : p->mss;
	offer->wscale = (offer->present & SW_OPT_TS) ? p->wscale : port->wscale;
}

/* The SYN-ACK answering the client's SYN: from the server's addresses back to the client.
 * offer: the options (and values) we accept; client_tsval is echoed. */
static void
fill_synack(struct sw_seg *s, const struct sw_ctx *c, const uint8_t *eth_client,
	    const uint8_t *eth_server, uint16_t vlan_tci, int has_vlan,
	    const struct sw_tuple *t, uint32_t irs, uint32_t iss,
	    const struct sw_tcpopts *offer, uint32_t client_tsval)
{
	memcpy(s->eth_src, eth_server, 6);
	memcpy(s->eth_dst, eth_client, 6);
	s->vlan_tci = vlan_tci;
	s->has_vlan = (uint8_t)has_vlan;
	sw_tuple_reverse(&s->t, t);
	s->seq = iss;
	s->ack = irs + 1;
	s->flags = SW_TH_SYN | SW_TH_ACK;
	/* Zero window, like netfilter's SYNPROXY: no data before the server side is open. */
	s->win = 0;
	s->opt = *offer;
	s->opt.tsval = synack_tsval(c, (offer->present & SW_OPT_WS) ? offer->wscale
								  : SW_TS_WS_NONE);
	s->opt.tsecr = client_tsval;
}

static void
fill_synack_from_entry(struct sw_seg *s, const struct sw_ctx *c, const struct sw_sc_entry *e,
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
	fill_synack(s, c, e->eth_client, e->eth_server, e->vlan_tci, e->flags & SW_SCF_VLAN, t,
		    e->irs, e->iss, &offer, e->ts_recent);
}

/* ---- syncache timers ---- */

static enum sw_sc_timer_action
synack_timer(struct sw_sc_entry *e, void *arg)
{
	struct sw_ctx *c = arg;
	struct sw_worker *w = c->w;
	struct sw_tuple t;
	struct sw_seg s;
	struct rte_mbuf *m;

	if (e->rxmits >= c->cfg->lim.rexmtlimit) {
		w->cnt.sc_stale++;
		return SW_SC_DROP;
	}
	e->rxmits++;
	e->expire_ms = (uint32_t)c->now_ms + sw_syncache_rto_ms(e->rxmits);
	m = rte_pktmbuf_alloc(w->app->pool);
	if (unlikely(m == NULL)) {
		w->cnt.sc_zonefail++;
		return SW_SC_KEEP;
	}
	sw_ctab_tuple(&w->sc.tab, e, &t);
	fill_synack_from_entry(&s, c, e, &t);
	mbuf_write_seg(m, &s, &w->app->outside);
	w->cnt.sc_retransmitted++;
	send_outside(w, m);
	return SW_SC_KEEP;
}

/* ---- the server side of a flow ---- */

static inline void
flow_tuple_seg(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
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

/* The SYN to the server, with the client's ISN and options. */
static void
fill_server_syn(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t)
{
	uint8_t fl = sw_flow_flags(f);
	uint32_t win;

	flow_tuple_seg(s, f, t, true);
	s->seq = f->irs;
	s->ack = 0;
	s->flags = SW_TH_SYN;
	win = (fl & SW_FLF_C_WS) ? (uint32_t)f->open.win << SW_FLOW_WS_CLIENT(f) : f->open.win;
	s->win = win > 65535 ? 65535 : (uint16_t)win;
	s->opt.present = (uint8_t)(SW_OPT_MSS | ((fl & SW_FLF_C_SACK) ? SW_OPT_SACKOK : 0) |
				   ((fl & SW_FLF_C_TS) ? SW_OPT_TS : 0) |
				   ((fl & SW_FLF_C_WS) ? SW_OPT_WS : 0));
	s->opt.mss = f->open.mss;
	s->opt.wscale = SW_FLOW_WS_CLIENT(f);
	s->opt.tsval = f->ts_recent;
	s->opt.tsecr = 0;
}

/* An RST to the client, in the client's view of the connection. */
static void
fill_client_rst(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		uint32_t irs)
{
	flow_tuple_seg(s, f, t, false);
	s->seq = f->iss + 1;
	s->ack = irs + 1;
	s->flags = SW_TH_RST | SW_TH_ACK;
	s->win = 0;
}

/* The ACK that completes the server's handshake (and answers its SYN-ACK again if our
 * first ACK was lost). */
static void
fill_server_ack(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		uint32_t seq, uint32_t srv_isn, uint32_t srv_tsval, uint16_t client_win)
{
	flow_tuple_seg(s, f, t, true);
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

/* ---- outside: SYN ---- */

static void
handle_syn(struct sw_ctx *c, struct rte_mbuf *m, const uint8_t *data, struct sw_pkt *pkt,
	   enum sw_mode mode, uint32_t hash, const struct sw_rx *rx)
{
	struct sw_worker *w = c->w;
	const struct sw_limits *lim = &c->cfg->lim;
	uint8_t eth_client[6], eth_server[6];
	struct sw_tcpopts offer, agreed;
	struct sw_cookie_opts co;
	struct sw_sc_entry *e;
	struct sw_seg s;
	uint32_t iss;
	bool keep;

	memcpy(eth_client, data + 6, 6);
	memcpy(eth_server, data, 6);
	if (rx != NULL && rx->need == SW_NEED_MAKE) {
		/* The burst's first pass negotiated and made the cookie already. */
		offer = rx->offer;
		co = rx->co;
		iss = rx->mac24 << 8 | rx->low;
	} else {
		negotiate(&pkt->opt, server_profile(c, &pkt->t),
			  &c->cfg->port_profile[pkt->t.dport], &offer);
		/* The cookie remembers what was agreed, not merely what the client offered. */
		agreed = pkt->opt;
		agreed.present &= (uint8_t)(offer.present | ~(SW_OPT_SACKOK | SW_OPT_WS));
		sw_cookie_opts_from_syn(&agreed, &co);
		iss = sw_cookie_make(&c->cfg->keys, &pkt->t, pkt->seq, &co);
	}
	e = sw_syncache_lookup(&w->sc, &pkt->t, hash);
	if (e != NULL && e->irs == pkt->seq) {
		/* Duplicate SYN: resend the SYN-ACK. */
		w->cnt.sc_dupsyn++;
		e->ts_recent = pkt->opt.tsval;
		e->rxmits = 0;
		e->expire_ms = (uint32_t)c->now_ms + sw_syncache_rto_ms(0);
		fill_synack_from_entry(&s, c, e, &pkt->t);
		mbuf_write_seg(m, &s, &w->app->outside);
		send_outside(w, m);
		return;
	}

	/* Another ISN for a 4-tuple with an entry: answered by cookie alone. The entry stays,
	 * so a spoofed SYN cannot take a pending handshake over; whichever ACK comes, the
	 * entry's or the cookie's, completes. */
	keep = e == NULL && mode == SW_MODE_PROXY && !lim->syncookies_only &&
	       !(lim->syncookies && sw_syncache_paused(&w->sc, c->now_ms));
	if (keep) {
		unsigned int ev;

		e = sw_syncache_insert(&w->sc, &pkt->t, hash, lim->cachelimit, &ev);
		if (ev & SW_CTAB_EVICT_BUCKET) {
			w->cnt.sc_bucketoverflow++;
			if (lim->syncookies && sw_syncache_pause(&w->sc, c->now_ms))
				sw_log(w, c->now_ms, "syncache bucket overflow: pausing the "
				       "syncache, answering with SYN cookies only for %" PRIu64
				       " s", (w->sc.pause_until_ms - c->now_ms) / 1000);
		}
		if (ev & SW_CTAB_EVICT_CACHE)
			w->cnt.sc_cacheoverflow++;
		e->irs = pkt->seq;
		e->iss = iss;
		e->ts_recent = pkt->opt.tsval;
		e->expire_ms = (uint32_t)c->now_ms + sw_syncache_rto_ms(0);
		memcpy(e->eth_client, eth_client, 6);
		memcpy(e->eth_server, eth_server, 6);
		e->vlan_tci = pkt->vlan_tci;
		e->mss = pkt->opt.mss;
		e->wscale = pkt->opt.wscale;
		e->flags = (uint8_t)((pkt->has_vlan ? SW_SCF_VLAN : 0) |
				     ((pkt->opt.present & SW_OPT_MSS) ? SW_SCF_MSS : 0) |
				     ((offer.present & SW_OPT_SACKOK) ? SW_SCF_SACK : 0) |
				     ((offer.present & SW_OPT_TS) ? SW_SCF_TS : 0) |
				     ((offer.present & SW_OPT_WS) ? SW_SCF_WS : 0));
		e->ws_ours = offer.wscale;
		e->mss_offer = offer.mss;
		w->cnt.sc_added++;
	} else {
		w->cnt.sc_sendcookie++;
	}
	fill_synack(&s, c, eth_client, eth_server, pkt->vlan_tci, pkt->has_vlan, &pkt->t,
		    pkt->seq, iss, &offer, pkt->opt.tsval);
	mbuf_write_seg(m, &s, &w->app->outside);
	send_outside(w, m);
}

/* ---- outside: the ACK completing a handshake ---- */

/* What the server SYN carries of the client's SYN. */
struct sw_client_syn {
	uint32_t irs;
	uint32_t iss;
	uint16_t mss;
	uint8_t sack, ts, has_ws, wscale;
	uint8_t ws_ours;        /* the shift our SYN-ACK offered (with has_ws) */
};

static void
open_server(struct sw_ctx *c, struct rte_mbuf *m, const uint8_t *data, const struct sw_pkt *pkt,
	    uint32_t hash, const struct sw_client_syn *cs, struct sw_sc_entry *e)
{
	struct sw_worker *w = c->w;
	struct sw_flow *f;
	struct sw_seg s;
	int evicted;

	f = sw_flowtab_add(&w->ft, &pkt->t, hash, (uint32_t)c->now_ms,
			   SW_FLOW_EVICT_MIN_IDLE_MS, &evicted);
	if (f == NULL) {
		/* No room: like a full accept queue. The syncache entry (if any) stays, so the
		 * client's retransmission can still get in. */
		w->cnt.sc_aborted++;
		drop_mbuf(w, m);
		return;
	}
	if (evicted)
		w->cnt.proxy_evicted++;
	if (e != NULL)
		sw_syncache_remove(&w->sc, e);
	w->cnt.sc_completed++;

	sw_flow_state(f) = SW_FLOW_OPENING;
	sw_flow_flags(f) = (uint8_t)((pkt->has_vlan ? SW_FLF_VLAN : 0) |
				     (cs->sack ? SW_FLF_C_SACK : 0) | (cs->ts ? SW_FLF_C_TS : 0) |
				     (cs->has_ws ? SW_FLF_C_WS : 0));
	sw_flow_ws(f) = (uint8_t)(cs->has_ws ? (cs->wscale | cs->ws_ours << 4) : 0);
	f->irs = cs->irs;
	f->iss = cs->iss;
	/* Unless this server is known to do timestamps, leave room in its segments for the
	 * timestamps option synwall would have to add for the client. */
	f->open.mss = cs->mss;
	if (cs->ts) {
		const struct sw_profile *known = sw_learn_lookup(&w->learn, &pkt->t);

		if ((known == NULL || !(known->flags & SW_PROF_TS)) && cs->mss > 88 + SW_TS_OPTLEN)
			f->open.mss = (uint16_t)(cs->mss - SW_TS_OPTLEN);
	}
	f->open.win = pkt->win;
	f->ts_ours = pkt->opt.tsecr;
	f->ts_recent = pkt->opt.tsval;
	memcpy(f->eth_client, data + 6, 6);
	memcpy(f->eth_server, data, 6);
	f->vlan_tci = pkt->vlan_tci;

	/* The client's ACK becomes, in place, the server SYN: same direction, same MACs. */
	fill_server_syn(&s, f, &pkt->t);
	mbuf_write_seg(m, &s, &w->app->inside);
	w->cnt.proxy_opened++;
	send_inside(w, m);
}

static void
complete_handshake(struct sw_ctx *c, struct rte_mbuf *m, const uint8_t *data,
		   struct sw_pkt *pkt, enum sw_mode mode, uint32_t hash, const struct sw_rx *rx)
{
	struct sw_worker *w = c->w;
	/*
	 * A zero-length ACK may be a zero-window probe (seq = ISN, not ISN + 1): after our
	 * SYN-ACK's zero window the client never resends its ACK, it probes. If its first ACK
	 * was lost, the probe is all that will ever come, so it completes the handshake too.
	 */
	bool probe = pkt->l4_len == pkt->th_len;
	struct sw_client_syn cs;
	struct sw_cookie_opts co;
	struct sw_sc_entry *e;
	uint32_t irs = pkt->seq - 1;
	bool valid;

	e = sw_syncache_lookup(&w->sc, &pkt->t, hash);
	if (e != NULL && pkt->ack == e->iss + 1 &&
	    (pkt->seq == e->irs + 1 || (probe && pkt->seq == e->irs))) {
		cs.irs = e->irs;
		cs.iss = e->iss;
		cs.mss = (e->flags & SW_SCF_MSS) ? e->mss : 536;
		cs.sack = (e->flags & SW_SCF_SACK) != 0;
		cs.ts = (e->flags & SW_SCF_TS) != 0;
		cs.has_ws = (e->flags & SW_SCF_WS) != 0;
		cs.wscale = e->wscale;
		cs.ws_ours = e->ws_ours;
		open_server(c, m, data, pkt, hash, &cs, e);
		return;
	}

	/* No entry, or one for another handshake on this 4-tuple (a second SYN with another
	 * ISN is answered by cookie alone): the cookie decides. */
	if (!c->cfg->lim.syncookies && mode != SW_MODE_COOKIE) {
		if (e != NULL)
			w->cnt.sc_badack++;
		else
			w->cnt.proxy_unexpected++;
		log_segment(w, pkt, c->now_ms, "matches no pending handshake (SYN cookies are "
			    "off): dropped (spoofed ACK, port scan, or a connection whose entry "
			    "expired)");
		drop_mbuf(w, m);
		return;
	}
	if (rx != NULL && rx->need == SW_NEED_CHECK) {
		valid = rx->mac24 == (pkt->ack - 1) >> 8;
		if (valid)
			sw_cookie_decode(pkt->ack - 1, &co);
	} else {
		valid = sw_cookie_check(&c->cfg->keys, &pkt->t, irs, pkt->ack - 1, &co);
	}
	if (!valid && probe) {
		if (rx != NULL && rx->need == SW_NEED_CHECK && rx->probe) {
			valid = rx->mac24_probe == (pkt->ack - 1) >> 8;
			if (valid)
				sw_cookie_decode(pkt->ack - 1, &co);
		} else {
			valid = sw_cookie_check(&c->cfg->keys, &pkt->t, pkt->seq, pkt->ack - 1,
						&co);
		}
		if (valid)
			irs = pkt->seq;
	}
	if (!valid) {
		if (e != NULL) {
			w->cnt.sc_badack++;
			log_segment(w, pkt, c->now_ms, "does not acknowledge the SYN-ACK of its "
				    "pending handshake (wrong sequence numbers) and carries no "
				    "valid cookie: dropped (stale or spoofed segment)");
		} else {
			w->cnt.cookie_failed++;
			log_segment(w, pkt, c->now_ms, "matches no pending handshake and "
				    "carries no valid cookie: dropped (spoofed ACK or port scan)");
		}
		drop_mbuf(w, m);
		return;
	}
	w->cnt.sc_recvcookie++;
	cs.irs = irs;
	cs.iss = pkt->ack - 1;
	cs.mss = co.mss;
	cs.sack = co.sack;
	/* Timestamps were negotiated if and only if the ACK carries them. */
	cs.ts = (pkt->opt.present & SW_OPT_TS) != 0;
	cs.has_ws = co.wscale != SW_COOKIE_WS_NONE;
	cs.wscale = cs.has_ws ? co.wscale : 0;
	/* Our shift: in the echoed TSval's low bits; without timestamps the SYN-ACK offered
	 * the port's configured shift (never a learned one, which may have changed since). */
	if (cs.ts && (pkt->opt.tsecr & 0xf) != SW_TS_WS_NONE)
		cs.ws_ours = pkt->opt.tsecr & 0xf;
	else
		cs.ws_ours = c->cfg->port_profile[pkt->t.dport].wscale;
	open_server(c, m, data, pkt, hash, &cs, NULL);
}

static void
handle_rst_no_flow(struct sw_ctx *c, struct rte_mbuf *m, struct sw_pkt *pkt, uint32_t hash)
{
	struct sw_worker *w = c->w;
	struct sw_sc_entry *e;

	e = sw_syncache_lookup(&w->sc, &pkt->t, hash);
	if (e != NULL && pkt->seq == e->irs + 1) {
		/* Only the exact sequence number counts (RFC 5961 3.2): a blind attacker cannot
		 * tear down someone else's handshake. */
		sw_syncache_remove(&w->sc, e);
		w->cnt.sc_reset++;
	} else {
		w->cnt.proxy_rst_ignored++;
	}
	drop_mbuf(w, m);
}

/* A FIN more than this beyond what the server acknowledged is not believed (a blind guess
 * hits it once in 4096). */
#define SW_FIN_WINDOW (1u << 20)

/*
 * FIN and RST bookkeeping. The server's word is trusted (it is what we protect); the
 * client side's only when it fits what the server expects (RFC 5961 3.2): an RST with
 * exactly the next sequence number, a FIN not far beyond it. Anything else is passed on
 * for the server to judge (it answers a challenge ACK) and changes nothing here, so that a
 * blind attacker cannot make synwall drop a live connection.
 */
static inline void
flow_track_close(struct sw_flow *f, const struct sw_pkt *pkt, bool from_client)
{
	uint8_t fl = pkt->tcp_flags;

	if (fl & SW_TH_RST) {
		if (!from_client || pkt->seq == f->srv_ack)
			f->fin |= SW_FIN_RST;
	} else if (fl & SW_TH_FIN) {
		if (!from_client)
			f->fin |= SW_FIN_SERVER;
		else if (pkt->seq - f->srv_ack < SW_FIN_WINDOW)
			f->fin |= SW_FIN_CLIENT;
	}
	if ((f->fin & SW_FIN_RST) || (f->fin & (SW_FIN_CLIENT | SW_FIN_SERVER)) ==
	    (SW_FIN_CLIENT | SW_FIN_SERVER))
		sw_flow_state(f) = SW_FLOW_CLOSING;
}

/* A segment from the client for a flow we know. Returns false when the segment should be
 * handled as if there were no flow (a new SYN on a closed 4-tuple). */
static bool
client_segment(struct sw_ctx *c, struct rte_mbuf *m, uint8_t *data, struct sw_pkt *pkt,
	       struct sw_flow *f)
{
	struct sw_worker *w = c->w;
	uint8_t fl = pkt->tcp_flags;

	if (sw_flow_state(f) == SW_FLOW_OPENING) {
		if (fl & SW_TH_SYN) {
			/* A SYN cannot come from the client, which is established: it would
			 * only let a spoofer cancel the opening. */
			w->cnt.proxy_unexpected++;
			drop_mbuf(w, m);
			return true;
		}
		if ((fl & SW_TH_RST) && pkt->seq == f->irs + 1) {
			/* The client gives up while the server side opens: the server is told
			 * (its sequence space is the client's own, untranslated). */
			sw_flowtab_remove(&w->ft, f);
			w->cnt.proxy_reset++;
			send_inside(w, m);
			return true;
		}
		/* The handshake ACK again, or a window probe: the server is not open yet.
		 * The client's window is zero until it is, so no data is lost. */
		w->cnt.proxy_ack_opening++;
		drop_mbuf(w, m);
		return true;
	}
	if ((fl & SW_TH_SYN) && sw_flow_state(f) == SW_FLOW_CLOSING) {
		/* A new connection on a 4-tuple that is closing: like a Linux server in
		 * TIME_WAIT, let the new handshake start over. */
		sw_flowtab_remove(&w->ft, f);
		w->cnt.proxy_closed++;
		return false;
	}
	/* Everything else, an established flow's SYN included (the server answers it with a
	 * challenge ACK, RFC 5961 4), is translated and passed on. */
	sw_flowtab_touch(&w->ft, f, (uint32_t)c->now_ms);
	sw_proxy_to_server(data, pkt, f);
	flow_track_close(f, pkt, true);
	w->cnt.proxy_to_server++;
	send_inside(w, m);
	return true;
}

/* ---- flow timers ---- */

static enum sw_flow_timer_action
flow_timer(struct sw_flow *f, uint32_t idle, void *arg)
{
	struct sw_ctx *c = arg;
	struct sw_worker *w = c->w;
	struct rte_mbuf *m;
	struct sw_tuple t;
	struct sw_seg s;

	switch (sw_flow_state(f)) {
	case SW_FLOW_OPENING:
		if (idle < (uint32_t)SW_SERVER_SYN_RTO_MS << (f->rexmits > 6 ? 6 : f->rexmits))
			return SW_FLOW_KEEP;
		sw_ctab_tuple(&w->ft.tab, f, &t);
		m = rte_pktmbuf_alloc(w->app->pool);
		if (f->rexmits >= c->cfg->lim.server_retries) {
			/* The server never answered: the client learns it at once rather than
			 * after its own timeouts. */
			w->cnt.proxy_server_timeout++;
			if (m != NULL) {
				fill_client_rst(&s, f, &t, f->irs);
				mbuf_write_seg(m, &s, &w->app->outside);
				send_outside(w, m);
			}
			return SW_FLOW_DROP;
		}
		if (m == NULL) {
			w->cnt.sc_zonefail++;
			return SW_FLOW_KEEP;
		}
		f->rexmits++;
		f->last_ms = (uint32_t)c->now_ms;
		fill_server_syn(&s, f, &t);
		mbuf_write_seg(m, &s, &w->app->inside);
		w->cnt.proxy_syn_retransmitted++;
		send_inside(w, m);
		return SW_FLOW_KEEP;
	case SW_FLOW_CLOSING:
		if (idle < SW_FLOW_LINGER_MS)
			return SW_FLOW_KEEP;
		w->cnt.proxy_closed++;
		return SW_FLOW_DROP;
	default:
		if (idle < SW_FLOW_IDLE_TIMEOUT_MS)
			return SW_FLOW_KEEP;
		w->cnt.proxy_expired++;
		return SW_FLOW_DROP;
	}
}

/* ---- inside: the server's side of a flow ---- */

static void
server_synack(struct sw_ctx *c, struct rte_mbuf *m, struct sw_pkt *pkt, struct sw_flow *f,
	      const struct sw_tuple *t)
{
	struct sw_worker *w = c->w;
	uint16_t client_win = f->open.win;
	uint32_t srv_isn = pkt->seq;
	uint32_t irs = f->irs;
	struct rte_mbuf *upd;
	struct sw_seg s;

	uint8_t offered = (uint8_t)(
		((sw_flow_flags(f) & SW_FLF_C_SACK) ? SW_OPT_SACKOK : 0) |
		((sw_flow_flags(f) & SW_FLF_C_TS) ? SW_OPT_TS : 0) |
		((sw_flow_flags(f) & SW_FLF_C_WS) ? SW_OPT_WS : 0));

	if (!sw_proxy_server_synack(f, pkt)) {
		w->cnt.proxy_unexpected++;
		drop_mbuf(w, m);
		return;
	}
	sw_learn_synack(&w->learn, t, server_profile(c, t), offered, &pkt->opt,
			(uint32_t)c->now_ms);
	sw_flow_state(f) = SW_FLOW_ESTABLISHED;
	sw_flowtab_touch(&w->ft, f, (uint32_t)c->now_ms);

	/* To the client: the server's window, now that there is one (a window update). */
	upd = rte_pktmbuf_alloc(w->app->pool);
	if (upd != NULL) {
		flow_tuple_seg(&s, f, t, false);
		s.seq = f->iss + 1;
		s.ack = irs + 1;
		s.flags = SW_TH_ACK;
		/* A SYN-ACK's window is never scaled. */
		{
			unsigned int ours = (sw_flow_flags(f) & SW_FLF_C_WS) ?
					    SW_FLOW_WS_OURS(f) : 0;
			uint32_t v = ((uint32_t)pkt->win + (1u << ours) - 1) >> ours;

			s.win = v > 0xffff ? 0xffff : (uint16_t)v;
		}
		if (sw_flow_flags(f) & SW_FLF_C_TS) {
			s.opt.present = SW_OPT_TS;
			s.opt.tsval = (sw_flow_flags(f) & SW_FLF_S_TS) ?
				      pkt->opt.tsval - f->ts_delta : our_tsval(c);
			s.opt.tsecr = f->ts_recent;
		}
		mbuf_write_seg(upd, &s, &w->app->outside);
		send_outside(w, upd);
	} else {
		/* The client's own window probe will fetch the window later. */
		w->cnt.sc_zonefail++;
	}

	/* To the server: the ACK that completes its handshake, in the SYN-ACK's mbuf. */
	fill_server_ack(&s, f, t, irs + 1, srv_isn, pkt->opt.tsval, client_win);
	mbuf_write_seg(m, &s, &w->app->inside);
	w->cnt.proxy_established++;
	send_inside(w, m);
}

static void
server_segment(struct sw_ctx *c, struct rte_mbuf *m, uint8_t *data, struct sw_pkt *pkt,
	       struct sw_flow *f, const struct sw_tuple *t)
{
	struct sw_worker *w = c->w;
	uint8_t fl = pkt->tcp_flags;
	struct sw_seg s;

	if (sw_flow_state(f) == SW_FLOW_OPENING) {
		if ((fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == (SW_TH_SYN | SW_TH_ACK)) {
			server_synack(c, m, pkt, f, t);
		} else if ((fl & SW_TH_RST) && (fl & SW_TH_ACK) && pkt->ack == f->irs + 1) {
			/* The port is closed: the client gets the refusal, as if direct. */
			uint32_t irs = f->irs;

			fill_client_rst(&s, f, t, irs);
			sw_flowtab_remove(&w->ft, f);
			mbuf_write_seg(m, &s, &w->app->outside);
			w->cnt.proxy_server_rst++;
			send_outside(w, m);
		} else {
			w->cnt.proxy_unexpected++;
			drop_mbuf(w, m);
		}
		return;
	}
	if ((fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK)) {
		/* The server resends its SYN-ACK: our ACK was lost. Answer it again; the
		 * client has been told already. */
		if (pkt->seq - f->seq_delta != f->iss) {
			w->cnt.proxy_unexpected++;
			drop_mbuf(w, m);
			return;
		}
		/* The client's window is not kept once open: offer 64 KB, the client's next
		 * segment brings the real one. */
		fill_server_ack(&s, f, t, pkt->ack, pkt->seq, pkt->opt.tsval,
				(uint16_t)(0xffff >> ((sw_flow_flags(f) & SW_FLF_C_WS) ?
						      SW_FLOW_WS_CLIENT(f) : 0)));
		mbuf_write_seg(m, &s, &w->app->inside);
		w->cnt.proxy_ack_resent++;
		send_inside(w, m);
		return;
	}
	sw_flowtab_touch(&w->ft, f, (uint32_t)c->now_ms);
	if (unlikely(sw_proxy_needs_ts(pkt, f))) {
		if (rte_pktmbuf_prepend(m, SW_TS_OPTLEN) != NULL) {
			data = rte_pktmbuf_mtod(m, uint8_t *);
			sw_proxy_to_client(data, pkt, f, true, our_tsval(c));
		} else {
			sw_proxy_to_client(data, pkt, f, false, 0);
		}
	} else {
		sw_proxy_to_client(data, pkt, f, false, 0);
	}
	flow_track_close(f, pkt, false);
	w->cnt.proxy_to_client++;
	send_outside(w, m);
}

/*
 * ICMP about a segment synwall sent or translated. Returns true if consumed (the mbuf is
 * then freed or sent on).
 *
 * About one of our SYN-ACKs: counted (`unreach`), the entry dropped on the second error.
 * About a spliced server segment (a router on the client's path saying "unreachable",
 * "fragmentation needed" or "packet too big"): the quoted sequence number is in the
 * client's space; the server needs its own to act on it (Linux ignores ICMP quoting a
 * sequence number outside its window), so it is translated, or path MTU discovery would
 * black-hole the flow. With several workers the ICMP (hashed on the router's address) may
 * reach another worker than the flow's: then it passes unchanged.
 */
static bool
handle_icmp(struct sw_ctx *c, struct rte_mbuf *m, uint8_t *data, uint32_t len,
	    const struct sw_pkt *pkt)
{
	struct sw_worker *w = c->w;
	uint8_t *icmp = data + pkt->l2_len + pkt->l3_len;
	uint8_t *qip = icmp + 8;
	struct sw_tuple q, t;
	struct sw_sc_entry *e;
	struct sw_flow *f;
	uint32_t qseq, hash;
	uint8_t *qseqp, b[4];

	if (sw_parse_icmp_unreach(data, len, pkt, &q, &qseq) != 0)
		return false;
	/* The quoted segment went server -> client: entries are keyed the other way. */
	sw_tuple_reverse(&t, &q);
	if (c->cfg->port_mode[t.dport] == SW_MODE_PASS)
		return false;
	hash = sw_ctab_hash(&w->sc.tab, &t);
	e = sw_syncache_lookup(&w->sc, &t, hash);
	if (e != NULL && qseq == e->iss && !(pkt->t.v6 && icmp[0] == 2)) {
		w->cnt.sc_unreach++;
		/* FreeBSD's rule: one error may be a passing outage; drop the entry on the
		 * second, or once the SYN-ACK has been sent several times already. */
		if ((e->flags & SW_SCF_UNREACH) || e->rxmits >= 3)
			sw_syncache_remove(&w->sc, e);
		else
			e->flags |= SW_SCF_UNREACH;
		drop_mbuf(w, m);
		return true;
	}
	f = sw_flowtab_lookup(&w->ft, &t, hash);
	if (f == NULL || sw_flow_state(f) == SW_FLOW_OPENING)
		return false;
	/* the quoted TCP header's sequence number (bounds checked by the parser) */
	qseqp = qip + (q.v6 ? 40 : (uint32_t)(qip[0] & 0x0f) * 4) + 4;
	sw_wr32(b, qseq + f->seq_delta);
	/* The ICMP checksum (ICMPv6's pseudo-header does not change) follows the patch. */
	sw_csum_patch(icmp, icmp + 2, qseqp, b, 4);
	w->cnt.proxy_icmp++;
	send_inside(w, m);
	return true;
}

/* ---- per packet ---- */

static inline void
count_malformed(struct sw_worker *w, int bad)
{
	switch (bad) {
	case SW_BAD_TRUNCATED:  w->cnt.mal_truncated++; break;
	case SW_BAD_IP_HEADER:  w->cnt.mal_ip_header++; break;
	case SW_BAD_IP_LENGTH:  w->cnt.mal_ip_length++; break;
	case SW_BAD_FRAGMENT:   w->cnt.mal_fragment++; break;
	case SW_BAD_VLAN:       w->cnt.mal_vlan++; break;
	case SW_BAD_TCP_HEADER: w->cnt.mal_tcp_header++; break;
	case SW_BAD_TCP_OPTION: w->cnt.mal_tcp_option++; break;
	case SW_BAD_FLAGS:      w->cnt.mal_flags++; break;
	case SW_BAD_IPV6_EXT:   w->cnt.mal_ipv6_ext++; break;
	default:                w->cnt.mal_checksum++; break;
	}
}

/* Checksums of a segment we are about to act on: the NIC's verdict, or ours. */
static inline bool
checksum_ok(const struct sw_ctx *c, const struct rte_mbuf *m, const uint8_t *data,
	    const struct sw_pkt *pkt)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (c->w->app->outside.rx_csum) {
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
		/* NONE: the data was verified, the checksum field just not filled in (virtio
		 * with offloads): as good as GOOD. */
		if ((l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE) &&
		    (pkt->t.v6 || ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD ||
		     ip == RTE_MBUF_F_RX_IP_CKSUM_NONE))
			return true;
	}
	return sw_tcp_checksum_ok(data, pkt);
}

/* First pass: parse, and prepare the cookie MAC the packet will need, if any. */
static void
outside_prepare(struct sw_ctx *c, struct rte_mbuf *m, struct sw_rx *rx)
{
	struct sw_worker *w = c->w;
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sw_pkt *pkt = &rx->pkt;

	rx->need = SW_NEED_NONE;
	rx->probe = 0;
	rx->rc = 0;
	rx->kind = sw_parse_l3(data, len, pkt);
	if (rx->kind != SW_L3_TCP)
		return;
	rx->mode = c->cfg->port_mode[pkt->t.dport];
	if (rx->mode != SW_MODE_PROXY && rx->mode != SW_MODE_COOKIE)
		return;
	if (pkt->v6_ext) {
		/* TCP behind IPv6 extension headers, to a protected port: not answered, not
		 * spliced (the headers would have to be carried along), not let through. */
		rx->rc = -SW_BAD_IPV6_EXT;
		return;
	}
	rx->rc = sw_parse_tcp(data, len, pkt);
	if (rx->rc < 0)
		return;
	rx->hash = sw_ctab_hash(&w->ft.tab, &pkt->t);
	rx->need = SW_NEED_PENDING;
	/* The headers of the buckets this tuple can be in: on their way while the rest of the
	 * burst is parsed. */
	sw_flowtab_prefetch_buckets(&w->ft, rx->hash);
	sw_syncache_prefetch_bucket(&w->sc, rx->hash);
}

/* Between the passes: the entries the bucket headers point at (by signature), on their way
 * before the lookups of the next pass. */
static inline void
outside_prefetch_entries(struct sw_ctx *c, const struct sw_rx *rx)
{
	if (rx->need != SW_NEED_PENDING)
		return;
	sw_flowtab_prefetch_match(&c->w->ft, rx->hash, rx->pkt.t.v6);
	sw_syncache_prefetch_match(&c->w->sc, rx->hash, rx->pkt.t.v6);
}

/* Second part of the first pass: what cookie MAC the packet needs, if any. */
static void
outside_prepare_cookie(struct sw_ctx *c, struct sw_rx *rx)
{
	struct sw_worker *w = c->w;
	struct sw_pkt *pkt = &rx->pkt;
	uint8_t fl;

	if (rx->need != SW_NEED_PENDING)
		return;
	rx->need = SW_NEED_NONE;
	fl = pkt->tcp_flags & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST | SW_TH_FIN);
	if (fl == SW_TH_SYN) {
		struct sw_tcpopts agreed;

		negotiate(&pkt->opt, server_profile(c, &pkt->t),
			  &c->cfg->port_profile[pkt->t.dport], &rx->offer);
		agreed = pkt->opt;
		agreed.present &= (uint8_t)(rx->offer.present | ~(SW_OPT_SACKOK | SW_OPT_WS));
		sw_cookie_opts_from_syn(&agreed, &rx->co);
		rx->low = sw_cookie_low(&c->cfg->keys, &rx->co);
		rx->msglen = (uint8_t)sw_cookie_msg(rx->msg, &pkt->t, pkt->seq, rx->low);
		rx->need = SW_NEED_MAKE;
	} else if ((fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == SW_TH_ACK &&
		   (c->cfg->lim.syncookies || rx->mode == SW_MODE_COOKIE) &&
		   sw_flowtab_lookup(&w->ft, &pkt->t, rx->hash) == NULL &&
		   sw_syncache_lookup(&w->sc, &pkt->t, rx->hash) == NULL) {
		rx->low = (pkt->ack - 1) & 0xff;
		rx->msglen = (uint8_t)sw_cookie_msg(rx->msg, &pkt->t, pkt->seq - 1, rx->low);
		rx->need = SW_NEED_CHECK;
		rx->probe = pkt->l4_len == pkt->th_len;
		if (rx->probe)
			sw_cookie_msg(rx->msg_probe, &pkt->t, pkt->seq, rx->low);
	}
}

/* The MACs of a burst, IPv4 and IPv6 messages (of different lengths) separately. */
static void
cookie_batch(const struct sw_ctx *c, struct sw_rx *rx, uint16_t n)
{
	const struct sw_sipkey *keys[2 * SW_RX_BURST];
	const uint8_t *msgs[2 * SW_RX_BURST];
	uint64_t macs[2 * SW_RX_BURST];
	uint16_t idx[2 * SW_RX_BURST];      /* packet, | 0x8000 for its probe MAC */
	unsigned int pass, k, i;

	for (pass = 0; pass < 2; pass++) {
		uint8_t len = pass == 0 ? 17 : 41;

		for (k = 0, i = 0; i < n; i++) {
			if (rx[i].need == SW_NEED_NONE || rx[i].msglen != len)
				continue;
			keys[k] = &c->cfg->keys.key[rx[i].low >> 7];
			msgs[k] = rx[i].msg;
			idx[k++] = (uint16_t)i;
			if (rx[i].probe) {
				keys[k] = keys[k - 1];
				msgs[k] = rx[i].msg_probe;
				idx[k++] = (uint16_t)(i | 0x8000);
			}
		}
		if (k == 0)
			continue;
		sw_siphash24_batch(keys, msgs, len, macs, k);
		for (i = 0; i < k; i++) {
			if (idx[i] & 0x8000)
				rx[idx[i] & 0x7fff].mac24_probe = sw_cookie_mac24(macs[i]);
			else
				rx[idx[i]].mac24 = sw_cookie_mac24(macs[i]);
		}
	}
}

/* Second pass: everything the packet asks for, in order. */
static void
outside_act(struct sw_ctx *c, struct rte_mbuf *m, struct sw_rx *rx)
{
	struct sw_worker *w = c->w;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sw_pkt *pkt = &rx->pkt;
	enum sw_mode mode;
	struct sw_flow *f;
	uint8_t fl;

	if (unlikely(rx->kind < 0)) {
		count_malformed(w, -rx->kind);
		drop_mbuf(w, m);
		return;
	}
	if (rx->kind == SW_L3_OTHER ||
	    (rx->kind == SW_L3_ICMP && !handle_icmp(c, m, data, len, pkt))) {
		w->cnt.port_bridged++;
		send_inside(w, m);
		return;
	}
	if (rx->kind == SW_L3_ICMP)
		return;

	mode = (enum sw_mode)rx->mode;
	if (mode == SW_MODE_PASS) {
		w->cnt.port_bridged++;
		send_inside(w, m);
		return;
	}
	if (mode == SW_MODE_DROP) {
		w->cnt.port_policy_drop++;
		drop_mbuf(w, m);
		return;
	}
	if (unlikely(rx->rc < 0)) {
		count_malformed(w, -rx->rc);
		drop_mbuf(w, m);
		return;
	}
	fl = pkt->tcp_flags;
	if (unlikely((fl & SW_TH_SYN) && (fl & (SW_TH_FIN | SW_TH_RST)))) {
		w->cnt.mal_flags++;
		drop_mbuf(w, m);
		return;
	}

	f = sw_flowtab_lookup(&w->ft, &pkt->t, rx->hash);
	if (likely(f != NULL) && client_segment(c, m, data, pkt, f))
		return;

	/*
	 * No flow: the segment is for synwall itself. One that changes state (an ACK opening a
	 * server connection, an RST ending a handshake) must have right checksums. A bare SYN
	 * changes nothing a spoofed SYN could not, so without the NIC's verdict it is answered
	 * unchecked: summing it in software would cost the SYN path a tenth of its time, and a
	 * corrupted SYN's SYN-ACK is sorted out by the client's stack (RST, then its retry).
	 */
	if ((fl & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == SW_TH_SYN &&
	    !c->w->app->outside.rx_csum)
		;
	else if (!checksum_ok(c, m, data, pkt)) {
		w->cnt.mal_checksum++;
		drop_mbuf(w, m);
		return;
	}
	if (fl & SW_TH_SYN) {
		if (fl & SW_TH_ACK) {
			/* A SYN-ACK from outside to a protected port answers nothing of ours. */
			w->cnt.proxy_unexpected++;
			drop_mbuf(w, m);
		} else {
			handle_syn(c, m, data, pkt, mode, rx->hash, rx);
		}
	} else if (fl & SW_TH_RST) {
		handle_rst_no_flow(c, m, pkt, rx->hash);
	} else if (fl & SW_TH_ACK) {
		complete_handshake(c, m, data, pkt, mode, rx->hash, rx);
	} else {
		w->cnt.proxy_unexpected++;
		drop_mbuf(w, m);
	}
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

static void
outside_burst(struct sw_ctx *c, struct rte_mbuf **pkts, uint16_t n)
{
	struct sw_rx rx[SW_RX_BURST];
	uint16_t i;

	for (i = 0; i < n; i++) {
		prefetch_ahead(pkts, n, i);
		outside_prepare(c, pkts[i], &rx[i]);
	}
	for (i = 0; i < n; i++)
		outside_prefetch_entries(c, &rx[i]);
	for (i = 0; i < n; i++)
		outside_prepare_cookie(c, &rx[i]);
	cookie_batch(c, rx, n);
	for (i = 0; i < n; i++)
		outside_act(c, pkts[i], &rx[i]);
}

static void
inside_packet(struct sw_ctx *c, struct rte_mbuf *m)
{
	struct sw_worker *w = c->w;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sw_tuple t;
	struct sw_pkt pkt;
	struct sw_flow *f;

	/* Only TCP from a protected port can belong to a flow: the rest is bridged (TCP behind
	 * IPv6 extension headers too: the splice does not carry them). */
	if (sw_parse_l3(data, len, &pkt) != SW_L3_TCP || pkt.v6_ext ||
	    c->cfg->port_mode[pkt.t.sport] == SW_MODE_PASS ||
	    sw_parse_tcp(data, len, &pkt) < 0)
		goto bridge;
	/* Flows are keyed client -> server. */
	sw_tuple_reverse(&t, &pkt.t);
	f = sw_flowtab_lookup(&w->ft, &t, sw_ctab_hash(&w->ft.tab, &t));
	if (f == NULL)
		goto bridge;
	server_segment(c, m, data, &pkt, f, &t);
	return;
bridge:
	w->cnt.port_bridged++;
	send_outside(w, m);
}

static void
inside_burst(struct sw_ctx *c, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		prefetch_ahead(pkts, n, i);
		inside_packet(c, pkts[i]);
	}
}

/* ---- operations from the control thread ---- */

static void
mbox_dump(struct sw_worker *w, struct sw_mbox *mb)
{
	struct sw_ctab *t = &w->sc.tab;
	uint32_t b = mb->bucket, k = mb->pos;

	mb->n = 0;
	mb->more = 0;
	for (; b < t->hashsize; b++, k = 0) {
		for (; k < sw_ctab_bucket_count(t, b); k++) {
			const struct sw_sc_entry *e = sw_ctab_bucket_entry(t, b, k);
			struct sw_dump_entry *d;

			if (mb->n == mb->max) {
				mb->next_bucket = b;
				mb->next_pos = k;
				mb->more = 1;
				return;
			}
			d = &mb->out[mb->n++];
			sw_ctab_tuple(t, e, &d->t);
			d->irs = e->irs;
			d->iss = e->iss;
			d->mss = (e->flags & SW_SCF_MSS) ? e->mss : 0;
			d->rxmits = e->rxmits;
			d->flags = e->flags;
			d->wscale = e->wscale;
		}
	}
}

static void
mbox_flush(struct sw_worker *w, struct sw_mbox *mb)
{
	struct sw_ctab *t = &w->sc.tab;
	void *e;

	mb->flushed = 0;
	while ((e = sw_ctab_oldest(t)) != NULL) {
		sw_ctab_remove(t, e);
		mb->flushed++;
	}
}

static void
mbox_serve(struct sw_worker *w, uint32_t req)
{
	struct sw_mbox *mb = &w->mbox;

	/* The request fields were written before req (release, acquired by our load): they
	 * stay put until done == req, the control thread posts nothing new before. */
	switch (mb->op) {
	case SW_OP_DUMP:
		mbox_dump(w, mb);
		break;
	case SW_OP_FLUSH:
		mbox_flush(w, mb);
		break;
	default:
		break;
	}
	__atomic_store_n(&mb->done, req, __ATOMIC_RELEASE);
}

int
sw_worker_call(struct sw_worker *w, uint32_t timeout_ms)
{
	uint32_t req = w->mbox.req + 1;
	uint64_t deadline = sw_now_ms() + timeout_ms;

	/* A request that timed out may still be carried out: nothing new (and no rewrite of
	 * the request fields the worker may be reading) until it is. */
	if (__atomic_load_n(&w->mbox.done, __ATOMIC_ACQUIRE) != w->mbox.req)
		return -1;

	__atomic_store_n(&w->mbox.req, req, __ATOMIC_RELEASE);
	while (__atomic_load_n(&w->mbox.done, __ATOMIC_ACQUIRE) != req) {
		if (sw_now_ms() > deadline)
			return -1;
		rte_delay_us_sleep(20);
	}
	return 0;
}

/* ---- life cycle ---- */

static int preload_flows(struct sw_worker *w, uint32_t n);

struct sw_worker *
sw_worker_create(struct sw_app *app, unsigned int lcore, uint16_t q)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct sw_worker *w;
	void *scmem, *ftmem;
	uint32_t seed;

	w = rte_zmalloc_socket("sw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	scmem = rte_zmalloc_socket("sw_syncache",
				   sw_syncache_memsize(app->args.hashsize, app->args.bucketlimit),
				   RTE_CACHE_LINE_SIZE, socket);
	ftmem = rte_zmalloc_socket("sw_flowtab", sw_flowtab_memsize(app->args.flows),
				   RTE_CACHE_LINE_SIZE, socket);
	seed = (uint32_t)rte_rand();
	if (scmem == NULL || ftmem == NULL ||
	    sw_syncache_init(&w->sc, scmem, app->args.hashsize, app->args.bucketlimit,
			     seed) != 0 ||
	    sw_flowtab_init(&w->ft, ftmem, app->args.flows, seed) != 0) {
		rte_free(scmem);
		rte_free(ftmem);
		rte_free(w);
		return NULL;
	}
	w->app = app;
	w->lcore_id = lcore;
	w->queue = q;
	w->ts_offset = (uint32_t)rte_rand();
	w->learn.seed = seed;
	if (app->args.preload_flows != 0) {
		if (preload_flows(w, app->args.preload_flows) == 0) {
			printf("synwall-dp: lcore %u: %u of %u flows preloaded\n", lcore,
			       w->ft.tab.count, app->args.preload_flows);
			return w;
		}
		fprintf(stderr, "synwall-dp: --preload-flows %u: the flow table (--flows %u) "
			"is full\n", app->args.preload_flows, app->args.flows);
		sw_worker_free(w);
		return NULL;
	}
	return w;
}

/*
 * Benchmarks: n established flows with a tuple that a traffic generator can compute (see
 * docs/DATAPLANE.md): client 198.18.128.0 + (i >> 14), port 1024 + (i & 0x3fff), server
 * 198.18.1.1:80, ISN i, ISS 7i, server ISN ISS + 0x10000, no options agreed.
 */
static int
preload_flows(struct sw_worker *w, uint32_t n)
{
	uint32_t now = (uint32_t)sw_now_ms(), i;

	for (i = 0; i < n; i++) {
		uint32_t src = 0xc6128000u + (i >> 14);         /* 198.18.128.0 + ... */
		struct sw_tuple t;
		struct sw_flow *f;
		int evicted;

		memset(&t, 0, sizeof(t));
		t.src[0] = (uint8_t)(src >> 24);
		t.src[1] = (uint8_t)(src >> 16);
		t.src[2] = (uint8_t)(src >> 8);
		t.src[3] = (uint8_t)src;
		t.dst[0] = 198;
		t.dst[1] = 18;
		t.dst[2] = 1;
		t.dst[3] = 1;
		t.sport = (uint16_t)(1024 + (i & 0x3fff));
		t.dport = 80;
		if (sw_flowtab_lookup(&w->ft, &t, sw_ctab_hash(&w->ft.tab, &t)) != NULL)
			continue;
		/* Never evicting: when both buckets are full this one is left out. */
		f = sw_flowtab_add(&w->ft, &t, sw_ctab_hash(&w->ft.tab, &t), now, UINT32_MAX,
				   &evicted);
		if (f == NULL) {
			if (w->ft.tab.count >= w->ft.limit)
				return -1;
			continue;
		}
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
		f->iss = i * 7;
		f->seq_delta = 0x10000;
		f->srv_ack = i + 1;     /* nothing sent yet: the server expects ISN + 1 */
		f->eth_client[0] = 0x02;
		f->eth_server[0] = 0x02;
		f->eth_server[5] = 0x01;
	}
	return 0;
}

void
sw_worker_free(struct sw_worker *w)
{
	if (w == NULL)
		return;
	rte_free(w->sc.tab.slots);
	rte_free(w->ft.tab.slots);
	rte_free(w);
}

int
sw_worker_run(struct sw_worker *w)
{
	struct sw_app *app = w->app;
	struct rte_mbuf *pkts[SW_RX_BURST];
	struct sw_ctx c = { .w = w };
	uint32_t req;
	uint16_t n;

	rte_rcu_qsbr_thread_register(app->cfg.qs, w->queue);
	rte_rcu_qsbr_thread_online(app->cfg.qs, w->queue);
	w->now_ms = sw_now_ms();
	w->sc.sweep.last_ms = w->now_ms;
	w->ft.sweep.last_ms = w->now_ms;
	w->last_rx_ms = w->now_ms;

	while (!app->quit) {
		c.now_ms = w->now_ms = sw_now_ms();
		c.cfg = sw_cfg_get(&app->cfg);

		n = rte_eth_rx_burst(app->outside.id, w->queue, pkts, SW_RX_BURST);
		if (n > 0) {
			w->cnt.port_outside_rx += n;
			__atomic_store_n(&w->last_rx_ms, c.now_ms, __ATOMIC_RELAXED);
			outside_burst(&c, pkts, n);
		}
		n = rte_eth_rx_burst(app->inside.id, w->queue, pkts, SW_RX_BURST);
		if (n > 0) {
			w->cnt.port_inside_rx += n;
			__atomic_store_n(&w->last_rx_ms, c.now_ms, __ATOMIC_RELAXED);
			inside_burst(&c, pkts, n);
		}

		/* the round's drops back to the pool before the timers allocate */
		drop_flush(w);
		sw_syncache_sweep(&w->sc, c.now_ms, SW_SWEEP_PERIOD_MS, synack_timer, &c);
		sw_flowtab_sweep(&w->ft, c.now_ms, SW_SWEEP_PERIOD_MS, flow_timer, &c);
		txbuf_flush(w, &w->tx_outside, app->outside.id, &w->cnt.port_outside_tx);
		txbuf_flush(w, &w->tx_inside, app->inside.id, &w->cnt.port_inside_tx);

		/* gauges */
		w->cnt.sc_count = w->sc.tab.count;
		w->cnt.sc_paused = sw_syncache_paused(&w->sc, c.now_ms);
		w->cnt.proxy_flows = w->ft.tab.count;

		req = __atomic_load_n(&w->mbox.req, __ATOMIC_ACQUIRE);
		if (unlikely(req != w->mbox.done))
			mbox_serve(w, req);

		rte_rcu_qsbr_quiescent(app->cfg.qs, w->queue);
	}

	rte_rcu_qsbr_thread_offline(app->cfg.qs, w->queue);
	rte_rcu_qsbr_thread_unregister(app->cfg.qs, w->queue);
	return 0;
}
