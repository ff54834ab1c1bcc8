/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The splice's state machine (splice.c), driven with the fake sink on flows opened by the
 * real SYN and handshake stages: the client's segments while the flow opens, once it is
 * established and while it closes; the server's SYN-ACK (our ACK to the server in its
 * mbuf, the window update to the client through the sink), its refusal, its resent
 * SYN-ACK; the FIN and RST bookkeeping (RFC 5961: a blind client segment changes nothing);
 * and the flow timers at the edges of each threshold.
 */
#include "fake_check.h"
#include "handshake.h"
#include "proxy.h"
#include "segment.h"
#include "splice.h"
#include "sw_const.h"
#include "syn.h"

#define ISN      0x7ffffff0u    /* the client's: the sequence space wraps soon after */
#define TSVAL    0x01000000u    /* the client's first */
#define SRV_ISN  0xf0000000u
#define SRV_TS   0x00200000u
#define ACK_WIN  502
#define SRV_WIN  29200
#define LINUX    (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)

/* One spliced connection, as both ends see it. */
struct conn {
	struct sw_tuple t;              /* client -> server */
	uint32_t irs;                   /* the client's ISN */
	uint32_t iss;                   /* our cookie */
	uint32_t synack_tsval;          /* what our SYN-ACK sent the client */
	uint8_t opts;                   /* the client's SYN options */
};

static struct sw_flow *
flow_of(struct fake_dp *d, const struct conn *c)
{
	return sw_flowtab_lookup(&d->lc->ft, &c->t, sw_ctab_hash(&d->lc->ft.tab, &c->t));
}

/* A segment of c: from the client, or (from_server) the server's, in the server's space. */
static struct fake_tcp
seg(const struct conn *c, bool from_server, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, uint16_t paylen)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	if (from_server)
		sw_tuple_reverse(&s.t, &c->t);
	else
		s.t = c->t;
	s.from_server = from_server;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = win;
	s.paylen = paylen;
	return s;
}

/* A flow opened by the stages themselves: the client's SYN answered (proxy mode, an
 * entry), its ACK turned into the server SYN. The flow is OPENING. */
static struct sw_flow *
open_flow(struct fake_dp *d, struct conn *c, int v6, uint32_t client, uint8_t opts)
{
	struct fake_tcp s;
	struct sw_syn_plan plan;
	struct sw_pkt pkt, sa;
	struct rte_mbuf *m;
	uint32_t hash;

	memset(c, 0, sizeof(*c));
	fake_tuple(&c->t, v6, client, (uint16_t)(50000 + client), FAKE_PORT_PROXY);
	c->irs = ISN + client;
	c->opts = opts;
	s = seg(c, false, SW_TH_SYN, c->irs, 0, 64240, 0);
	fake_tcp_opts(&s, opts, 1460, 7, TSVAL, 0);
	m = fake_tcp_mbuf(&s);
	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	fake_syn_plan(d, &pkt, &plan);
	REQUIRE(sw_syn_answer(d->lc, fake_out(d), m, &pkt, SW_MODE_PROXY, hash, &plan) ==
		SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &sa) == 0);
	c->iss = sa.seq;
	c->synack_tsval = sa.opt.tsval;
	fake_dp_put(d, m, SW_V_OUTSIDE);

	s = seg(c, false, SW_TH_ACK, c->irs + 1, c->iss + 1, ACK_WIN, 0);
	if (opts & SW_OPT_TS)
		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 1, c->synack_tsval);
	m = fake_tcp_mbuf(&s);
	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	REQUIRE(sw_handshake_complete(d->lc, fake_out(d), m, &pkt, SW_MODE_PROXY, hash,
				      NULL) == SW_V_INSIDE);
	fake_dp_put(d, m, SW_V_INSIDE);
	REQUIRE(flow_of(d, c) != NULL);
	REQUIRE(sw_flow_state(flow_of(d, c)) == SW_FLOW_OPENING);
	return flow_of(d, c);
}

/* A client segment handed to the splice as the pipeline does, for flow f. */
static enum sw_verdict
from_client(struct fake_dp *d, struct rte_mbuf *m, struct sw_flow *f)
{
	struct sw_pkt pkt;
	uint32_t hash;

	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	REQUIRE(sw_flowtab_lookup(&d->lc->ft, &pkt.t, hash) == f);
	return sw_splice_client(d->lc, fake_out(d), m, &pkt, f);
}

/* A server segment, looked up as the inside burst does (the key is client -> server). */
static enum sw_verdict
from_server(struct fake_dp *d, struct rte_mbuf *m, struct sw_flow *f)
{
	struct sw_tuple t;
	struct sw_pkt pkt;
	uint32_t hash;

	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	sw_tuple_reverse(&t, &pkt.t);
	REQUIRE(sw_flowtab_lookup(&d->lc->ft, &t, sw_ctab_hash(&d->lc->ft.tab, &t)) == f);
	return sw_splice_server(d->lc, fake_out(d), m, &pkt, f, &t);
}

/* The server's SYN-ACK to our SYN: MSS 1400, SACK, timestamps, shift 9 (those of srv_opts
 * that are set). */
static struct rte_mbuf *
server_synack(const struct conn *c, uint32_t seq, uint32_t ack, uint8_t srv_opts)
{
	struct fake_tcp s = seg(c, true, SW_TH_SYN | SW_TH_ACK, seq, ack, SRV_WIN, 0);

	fake_tcp_opts(&s, srv_opts, 1400, 9, SRV_TS, TSVAL + 1);
	return fake_tcp_mbuf(&s);
}

/* Opened, then established by the server's SYN-ACK. */
static struct sw_flow *
established(struct fake_dp *d, struct conn *c, int v6, uint32_t client, uint8_t srv_opts)
{
	struct sw_flow *f = open_flow(d, c, v6, client, LINUX);
	struct rte_mbuf *m = server_synack(c, SRV_ISN, c->irs + 1, srv_opts);

	REQUIRE(from_server(d, m, f) == SW_V_INSIDE);
	fake_dp_put(d, m, SW_V_INSIDE);
	REQUIRE(sw_flow_state(f) == SW_FLOW_ESTABLISHED);
	return f;
}

static void
want_of(struct fake_want *w, const struct conn *c, bool to_server)
{
	memset(w, 0, sizeof(*w));
	if (to_server) {
		w->t = c->t;
		w->eth_src = fake_mac_client;
		w->eth_dst = fake_mac_server;
	} else {
		sw_tuple_reverse(&w->t, &c->t);
		w->eth_src = fake_mac_server;
		w->eth_dst = fake_mac_client;
	}
}

/* ---- the client while the flow opens ---- */

static void
test_client_opening(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct conn c;
	uint8_t before[256];
	uint32_t len;

	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, 0, 1, LINUX);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;

	/* its SYN again: not from an established client; a spoofer's would cancel the
	 * opening */
	s = seg(&c, false, SW_TH_SYN, c.irs, 0, 64240, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.proxy_syn_opening = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);

	/* the handshake ACK again, and an RST with the wrong sequence number: dropped, no
	 * second server SYN */
	s = seg(&c, false, SW_TH_ACK, c.irs + 1, c.iss + 1, ACK_WIN, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	s = seg(&c, false, SW_TH_RST, c.irs + 2, 0, 0, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.proxy_ack_opening = 2;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 1);

	/* the exact RST: passed to the server as it is (its space is the client's), the
	 * flow gone */
	s = seg(&c, false, SW_TH_RST, c.irs + 1, 0, 0, 0);
	m = fake_tcp_mbuf(&s);
	fake_copy(m, before, &len);
	CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
	CHECK_EQ(rte_pktmbuf_data_len(m), len);
	CHECK_MEM(fake_data(m), before, len);
	fake_dp_put(&d, m, SW_V_INSIDE);
	want.proxy_reset = 1;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, &c) == NULL);
	CHECK_EQ(d.lc->ft.tab.count, 0);
	CHECK_FAKE_FINI(&d);
}

/* ---- the server's SYN-ACK while the flow opens ---- */

static void
test_server_synack(int v6, uint8_t srv_opts, int nombuf)
{
	struct sw_counters want = { 0 };
	struct sw_profile learned;
	struct fake_want w;
	struct fake_dp d;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct conn c;
	uint8_t s_flags = 0;
	uint64_t now = FAKE_T0_MS + 777;

	SW_CTX("server SYN-ACK v6=%d opts=%#x nombuf=%d", v6, srv_opts, nombuf);
	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, v6, 2, LINUX);
	fake_dp_time(&d, now);
	d.out.fail_allocs = nombuf;
	m = server_synack(&c, SRV_ISN, c.irs + 1, srv_opts);
	CHECK_EQ(from_server(&d, m, f), SW_V_INSIDE);

	/* m: our ACK to the server, the client's side of its handshake */
	want_of(&w, &c, true);
	w.seq = c.irs + 1;
	w.ack = SRV_ISN + 1;
	w.flags = SW_TH_ACK;
	/* the server applies the client's shift only if it scales too */
	w.win = (srv_opts & SW_OPT_WS) ? ACK_WIN : ACK_WIN << 7;
	if (srv_opts & SW_OPT_TS) {
		w.opts = SW_OPT_TS;
		w.tsval = TSVAL + 1;            /* the client's latest */
		w.tsecr = SRV_TS;
	}
	fake_check_seg(m, &w, NULL);
	fake_dp_put(&d, m, SW_V_INSIDE);

	/* the client: the server's window (our shift 7: 29200 / 128 rounded up), in the
	 * client's view (seq = ISS + 1), with timestamps it can check against our
	 * SYN-ACK's */
	if (nombuf) {
		CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1);        /* the SYN-ACK alone */
		want.port_nombuf = 1;
	} else {
		REQUIRE(fake_nsent(&d, SW_OUTSIDE) == 2);
		want_of(&w, &c, false);
		w.seq = c.iss + 1;
		w.ack = c.irs + 1;
		w.flags = SW_TH_ACK;
		w.win = 229;
		w.opts = SW_OPT_TS;
		w.tsval = (srv_opts & SW_OPT_TS) ? c.synack_tsval
						 : (uint32_t)now + FAKE_TS_OFFSET + SW_TS_AFTER_SYNACK;
		w.tsecr = TSVAL + 1;
		fake_check_seg(fake_last_sent(&d, SW_OUTSIDE), &w, NULL);
	}
	CHECK_EQ(d.out.allocs, 1);

	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	want.proxy_established = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_ESTABLISHED);
	if (srv_opts & SW_OPT_SACKOK)
		s_flags |= SW_FLF_S_SACK;
	if (srv_opts & SW_OPT_TS)
		s_flags |= SW_FLF_S_TS;
	if (srv_opts & SW_OPT_WS)
		s_flags |= SW_FLF_S_WS;
	CHECK_EQ(sw_flow_flags(f), SW_FLF_C_SACK | SW_FLF_C_TS | SW_FLF_C_WS | s_flags);
	CHECK_EQ(f->seq_delta, SRV_ISN - c.iss);
	CHECK_EQ(f->ts_delta, (srv_opts & SW_OPT_TS) ? SRV_TS - c.synack_tsval : 0);
	CHECK_EQ(f->ws_srv, (srv_opts & SW_OPT_WS) ? 9 : 0);
	CHECK_EQ(f->srv_ack, c.irs + 1);
	CHECK_EQ(f->last_ms, now);
	/* what the server does is learned, for the next client's SYN-ACK */
	REQUIRE(sw_learn_lookup(d.lc->learn, &c.t, (uint32_t)now,
				&d.cfg->port_profile[c.t.dport], &learned));
	CHECK_EQ(learned.mss, 1400);
	CHECK_EQ(learned.flags, ((srv_opts & SW_OPT_SACKOK) ? SW_PROF_SACK : 0) |
				((srv_opts & SW_OPT_TS) ? SW_PROF_TS : 0) |
				((srv_opts & SW_OPT_WS) ? SW_PROF_WS : 0));
	if (srv_opts & SW_OPT_WS)
		CHECK_EQ(learned.wscale, 9);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_server_opening_others(void)
{
	struct sw_counters want = { 0 };
	struct fake_want w;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct conn c;
	unsigned int i;
	static const struct {
		uint8_t flags;
		int32_t ack_off;        /* from the client's ISN */
	} others[] = {
		{ SW_TH_ACK, 1 },
		{ SW_TH_RST | SW_TH_ACK, 2 },
		{ SW_TH_RST, 1 },
		{ SW_TH_FIN | SW_TH_ACK, 1 },
		{ SW_TH_SYN, 0 },
	};

	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, 0, 3, LINUX);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;

	/* a SYN-ACK of something else than our SYN */
	m = server_synack(&c, SRV_ISN, c.irs + 2, LINUX);
	CHECK_EQ(from_server(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.proxy_synack_mismatch = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	CHECK_EQ(f->irs, c.irs);

	/* anything else but an RST+ACK of our SYN: dropped */
	for (i = 0; i < RTE_DIM(others); i++) {
		SW_CTX("server segment %u while opening", i);
		s = seg(&c, true, others[i].flags, SRV_ISN, c.irs + (uint32_t)others[i].ack_off,
			0, 0);
		m = fake_tcp_mbuf(&s);
		CHECK_EQ(from_server(&d, m, f), SW_V_DROP);
		fake_dp_put(&d, m, SW_V_DROP);
		want.proxy_server_opening = i + 1;
		fake_check_counters(d.lc, &want);
		CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1);
	CHECK_EQ(d.out.allocs, 0);

	/* the port is closed: the client gets the refusal in its own view */
	s = seg(&c, true, SW_TH_RST | SW_TH_ACK, 0, c.irs + 1, 0, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_server(&d, m, f), SW_V_OUTSIDE);
	want_of(&w, &c, false);
	w.seq = c.iss + 1;
	w.ack = c.irs + 1;
	w.flags = SW_TH_RST | SW_TH_ACK;
	w.win = 0;
	fake_check_seg(m, &w, NULL);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	want.proxy_server_rst = 1;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, &c) == NULL);
	CHECK_FAKE_FINI(&d);
}

/* ---- established ---- */

static void
test_established(int v6, uint8_t srv_opts)
{
	struct sw_counters want = { 0 };
	struct fake_want w;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct conn c;
	uint32_t ts_delta, srv_nxt;

	SW_CTX("established v6=%d server opts=%#x", v6, srv_opts);
	fake_dp_init(&d, NULL);
	f = established(&d, &c, v6, 4, srv_opts);
	ts_delta = f->ts_delta;
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	want.proxy_established = 1;

	/* the client's data: ack into the server's space, TSecr into its clock */
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_RELINK_MS + 5);
	s = seg(&c, false, SW_TH_ACK | SW_TH_PSH, c.irs + 1, c.iss + 1, 300, 100);
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 50, c.synack_tsval + 3);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
	CHECK_EQ(fake_parse(m, &p), 0);
	CHECK_EQ(p.seq, c.irs + 1);
	CHECK_EQ(p.ack, SRV_ISN + 1);
	CHECK_EQ(p.win, (srv_opts & SW_OPT_WS) ? 300 : 300 << 7);
	if (srv_opts & SW_OPT_TS) {
		CHECK_EQ(p.opt.present, SW_OPT_TS);
		CHECK_EQ(p.opt.tsval, TSVAL + 50);
		CHECK_EQ(p.opt.tsecr, c.synack_tsval + 3 + ts_delta);
	} else {
		CHECK_EQ(p.opt.present, 0);             /* NOPed out */
	}
	CHECK_EQ(p.l4_len - p.th_len, 100);
	fake_dp_put(&d, m, SW_V_INSIDE);
	want.proxy_to_server = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(f->ts_recent, TSVAL + 50);
	CHECK_EQ(f->last_ms, FAKE_T0_MS + SW_FLOW_RELINK_MS + 5);

	/* the server's data: seq into the client's space, window to our shift */
	s = seg(&c, true, SW_TH_ACK, SRV_ISN + 1, c.irs + 101, 1000, 20);
	if (srv_opts & SW_OPT_TS)
		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, SRV_TS + 60, TSVAL + 50);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_server(&d, m, f), SW_V_OUTSIDE);
	CHECK_EQ(fake_parse(m, &p), 0);
	CHECK_EQ(p.seq, c.iss + 1);
	CHECK_EQ(p.ack, c.irs + 101);
	CHECK_EQ(p.win, (srv_opts & SW_OPT_WS) ? 1000 << 2 : (1000 + 127) >> 7);
	REQUIRE(p.opt.present & SW_OPT_TS);
	if (srv_opts & SW_OPT_TS) {
		CHECK_EQ(p.opt.tsval, SRV_TS + 60 - ts_delta);
	} else {
		/* added: the client was promised timestamps */
		CHECK_EQ(p.opt.tsval, (uint32_t)d.lc->now_ms + FAKE_TS_OFFSET + SW_TS_AFTER_SYNACK);
		CHECK_EQ(m->data_off, RTE_PKTMBUF_HEADROOM - SW_TS_OPTLEN);
	}
	CHECK_EQ(p.opt.tsecr, TSVAL + 50);
	CHECK_EQ(p.l4_len - p.th_len, 20);
	CHECK_MEM(fake_data(m), fake_mac_client, 6);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	want.proxy_to_client = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(f->srv_ack, c.irs + 101);

	if ((sw_flow_flags(f) & (SW_FLF_C_TS | SW_FLF_S_TS | SW_FLF_C_SACK)) ==
	    (SW_FLF_C_TS | SW_FLF_C_SACK)) {
		/* four SACK blocks and no room for the option: the last block goes */
		static const uint8_t sack4[36] = { 1, 1, 5, 34 };

		s = seg(&c, true, SW_TH_ACK, SRV_ISN + 21, c.irs + 101, 1000, 0);
		memcpy(s.opts, sack4, sizeof(sack4));
		for (unsigned int k = 0; k < 8; k++)
			sw_wr32(s.opts + 4 + 4 * k, c.irs + 200 + 100 * k);
		s.optlen = sizeof(sack4);
		m = fake_tcp_mbuf(&s);
		CHECK_EQ(from_server(&d, m, f), SW_V_OUTSIDE);
		CHECK_EQ(fake_parse(m, &p), 0);
		CHECK_EQ(p.opt.present, SW_OPT_TS | SW_OPT_SACK);
		CHECK_EQ(p.opt.sack_len, 2 + 3 * 8);
		CHECK_EQ(sw_rd32(fake_data(m) + p.l2_len + p.l3_len + p.opt.sack_off + 2),
			 c.irs + 200);
		CHECK_EQ(p.th_len, 60);
		CHECK_EQ(m->data_off, RTE_PKTMBUF_HEADROOM - 4);
		fake_dp_put(&d, m, SW_V_OUTSIDE);
		want.proxy_to_client++;
		want.proxy_sack_trimmed = 1;
		fake_check_counters(d.lc, &want);
	}

	/* the SYN-ACK again once the server has sent data: stale (a server that has our ACK
	 * is established and needs no second one), not the flow's any more */
	m = server_synack(&c, SRV_ISN, c.irs + 1, srv_opts);
	CHECK_EQ(from_server(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.proxy_synack_mismatch++;
	fake_check_counters(d.lc, &want);
	/* before any data (our ACK was lost): answered again, nothing told the client */
	srv_nxt = f->srv_nxt;
	f->srv_nxt = c.iss + 1;
	m = server_synack(&c, SRV_ISN, c.irs + 1, srv_opts);
	CHECK_EQ(from_server(&d, m, f), SW_V_INSIDE);
	want_of(&w, &c, true);
	w.seq = c.irs + 1;
	w.ack = SRV_ISN + 1;
	w.flags = SW_TH_ACK;
	/* 64 KB in the client's units, in the server's */
	w.win = (srv_opts & SW_OPT_WS) ? 65535 >> 7 : (65535 >> 7) << 7;
	if (srv_opts & SW_OPT_TS) {
		w.opts = SW_OPT_TS;
		w.tsval = TSVAL + 50;
		w.tsecr = SRV_TS;
	}
	fake_check_seg(m, &w, NULL);
	fake_dp_put(&d, m, SW_V_INSIDE);
	want.proxy_ack_resent = 1;
	fake_check_counters(d.lc, &want);

	/* one with another ISN is not the flow's */
	m = server_synack(&c, SRV_ISN + 1, c.irs + 1, srv_opts);
	CHECK_EQ(from_server(&d, m, f), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.proxy_synack_mismatch++;
	fake_check_counters(d.lc, &want);
	f->srv_nxt = srv_nxt;

	/* an established client's SYN: the server judges it (a challenge ACK) */
	s = seg(&c, false, SW_TH_SYN, c.irs, 0, 64240, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
	fake_dp_put(&d, m, SW_V_INSIDE);
	want.proxy_to_server = 2;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_ESTABLISHED);
	CHECK(flow_of(&d, &c) == f);
	CHECK_EQ(d.out.allocs, 1);              /* the window update only */
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* A timestamps option to add and no headroom to add it in: translated without. */
static void
test_no_headroom(void)
{
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct conn c;
	uint8_t buf[256];

	fake_dp_init(&d, NULL);
	f = established(&d, &c, 0, 5, SW_OPT_MSS | SW_OPT_WS);
	s = seg(&c, true, SW_TH_ACK, SRV_ISN + 1, c.irs + 1, 1000, 10);
	m = fake_mbuf_headroom(buf, fake_tcp_frame(buf, &s), 0);
	CHECK_EQ(from_server(&d, m, f), SW_V_OUTSIDE);
	CHECK_EQ(m->data_off, 0);
	CHECK_EQ(fake_parse(m, &p), 0);
	CHECK_EQ(p.seq, c.iss + 1);
	CHECK_EQ(p.opt.present, 0);
	CHECK_EQ(p.win, 4000);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_EQ(d.lc->cnt.proxy_to_client, 1);
	CHECK_FAKE_FINI(&d);
}

/* ---- FIN and RST bookkeeping ---- */

/* A segment through the splice (from_server or not), handed on unchanged in state. */
static void
pass(struct fake_dp *d, struct sw_flow *f, struct fake_tcp *s)
{
	struct rte_mbuf *m = fake_tcp_mbuf(s);
	enum sw_verdict v = s->from_server ? from_server(d, m, f) : from_client(d, m, f);

	CHECK_EQ(v, s->from_server ? SW_V_OUTSIDE : SW_V_INSIDE);
	fake_dp_put(d, m, v);
}

static void
test_close(void)
{
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct conn c;
	uint32_t expect;

	fake_dp_init(&d, NULL);
	f = established(&d, &c, 0, 6, LINUX);
	/* the server has received 1000 bytes: it expects irs + 1001 */
	s = seg(&c, true, SW_TH_ACK, SRV_ISN + 1, c.irs + 1001, 1000, 0);
	pass(&d, f, &s);
	expect = c.irs + 1001;
	CHECK_EQ(f->srv_ack, expect);

	/* the server's FIN: believed; one side closed */
	s = seg(&c, true, SW_TH_FIN | SW_TH_ACK, SRV_ISN + 1, expect, 1000, 0);
	pass(&d, f, &s);
	CHECK_EQ(f->fin, SW_FIN_SERVER);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_ESTABLISHED);

	/* blind guesses from the client side: passed on, changing nothing */
	s = seg(&c, false, SW_TH_RST, expect + 1, 0, 0, 0);
	pass(&d, f, &s);
	s = seg(&c, false, SW_TH_RST, expect - 1, 0, 0, 0);
	pass(&d, f, &s);
	/* beyond the largest window the server can offer with its shift */
	s = seg(&c, false, SW_TH_FIN | SW_TH_ACK, expect + sw_flow_fin_window(f), c.iss + 2, 100,
		0);
	pass(&d, f, &s);
	s = seg(&c, false, SW_TH_FIN | SW_TH_ACK, expect - 1, c.iss + 2, 100, 0);
	pass(&d, f, &s);
	CHECK_EQ(f->fin, SW_FIN_SERVER);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_ESTABLISHED);
	CHECK_EQ(d.lc->cnt.proxy_to_server, 4);

	/* the client's FIN within the window: closing */
	CHECK_EQ(sw_flow_fin_window(f), (sw_flow_flags(f) & SW_FLF_S_WS) ?
		 (uint32_t)UINT16_MAX << f->ws_srv : UINT16_MAX);
	s = seg(&c, false, SW_TH_FIN | SW_TH_ACK, expect + sw_flow_fin_window(f) - 1, c.iss + 2,
		100, 0);
	pass(&d, f, &s);
	CHECK_EQ(f->fin, SW_FIN_SERVER | SW_FIN_CLIENT);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_CLOSING);

	/* a new SYN on the closing 4-tuple: the flow goes, a new handshake starts */
	s = seg(&c, false, SW_TH_SYN, c.irs + 5000, 0, 64240, 0);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_NO_FLOW);
	CHECK(flow_of(&d, &c) == NULL);
	CHECK_EQ(d.lc->cnt.proxy_closed, 1);
	fake_dp_put(&d, m, SW_V_DROP);
	CHECK_FAKE_FINI(&d);

	/* the client's RST with exactly the expected number: closing at once */
	fake_dp_init(&d, NULL);
	f = established(&d, &c, 1, 7, LINUX);
	s = seg(&c, false, SW_TH_RST, c.irs + 1, 0, 0, 0);
	pass(&d, f, &s);
	CHECK_EQ(f->fin, SW_FIN_RST);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_CLOSING);
	/* an ACK of a closing flow still passes (the FIN's retransmissions, the last ACK) */
	s = seg(&c, false, SW_TH_ACK, c.irs + 1, c.iss + 1, 100, 0);
	pass(&d, f, &s);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_CLOSING);
	CHECK_FAKE_FINI(&d);

	/* the server's RST: believed */
	fake_dp_init(&d, NULL);
	f = established(&d, &c, 0, 8, LINUX);
	s = seg(&c, true, SW_TH_RST, SRV_ISN + 1, 0, 0, 0);
	pass(&d, f, &s);
	CHECK_EQ(f->fin, SW_FIN_RST);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_CLOSING);
	CHECK_FAKE_FINI(&d);
}

/* ---- the flow timers ---- */

static enum sw_flow_timer_action
timer(struct fake_dp *d, struct sw_flow *f, uint32_t idle)
{
	enum sw_flow_timer_action a = sw_flow_timer(f, idle, &d->io);

	fake_dp_round(d);
	return a;
}

/* The server SYN m must be: the client's ISN, options, window, as the first one. */
static void
check_server_syn(const struct rte_mbuf *m, const struct conn *c)
{
	struct fake_want w;

	want_of(&w, c, true);
	w.seq = c->irs;
	w.flags = SW_TH_SYN;
	w.win = 64256;
	w.opts = LINUX;
	w.mss = 1448;
	w.wscale = 7;
	w.tsval = TSVAL + 1;
	fake_check_seg(m, &w, NULL);
}

static void
test_server_syn_timer(int v6)
{
	struct sw_counters want = { 0 };
	struct fake_want w;
	struct fake_dp d;
	struct sw_flow *f;
	struct conn c;
	uint32_t r, rto;

	SW_CTX("server SYN timer v6=%d", v6);
	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, v6, 9, LINUX);
	check_server_syn(fake_last_sent(&d, SW_INSIDE), &c);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	/* server_retries 3: 1, 2, 4 s */
	for (r = 0; r < 3; r++) {
		rto = SW_SERVER_SYN_RTO_MS << r;
		fake_dp_time(&d, FAKE_T0_MS + 100 * r);
		CHECK_EQ(timer(&d, f, rto - 1), SW_FLOW_KEEP);
		CHECK_EQ(fake_nsent(&d, SW_INSIDE), 1 + r);
		CHECK_EQ(f->rexmits, r);
		CHECK_EQ(timer(&d, f, rto), SW_FLOW_KEEP);
		want.proxy_syn_retransmitted = r + 1;
		fake_check_counters(d.lc, &want);
		CHECK_EQ(f->rexmits, r + 1);
		CHECK_EQ(f->last_ms, FAKE_T0_MS + 100 * r);
		REQUIRE(fake_nsent(&d, SW_INSIDE) == 2 + r);
		check_server_syn(fake_last_sent(&d, SW_INSIDE), &c);
		CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	}
	CHECK_EQ(d.out.allocs, 3);
	/* the server never answered: the client is told, the flow goes */
	CHECK_EQ(timer(&d, f, (SW_SERVER_SYN_RTO_MS << 3) - 1), SW_FLOW_KEEP);
	CHECK_EQ(d.out.allocs, 3);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1);
	CHECK_EQ(timer(&d, f, SW_SERVER_SYN_RTO_MS << 3), SW_FLOW_DROP);
	want.proxy_server_timeout = 1;
	fake_check_counters(d.lc, &want);
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == 2);
	want_of(&w, &c, false);
	w.seq = c.iss + 1;
	w.ack = c.irs + 1;
	w.flags = SW_TH_RST | SW_TH_ACK;
	fake_check_seg(fake_last_sent(&d, SW_OUTSIDE), &w, NULL);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 4);
	CHECK_FAKE_FINI(&d);

	/* the same through the sweep, which removes what the timer drops */
	fake_dp_init(&d, NULL);
	d.cfg->lim.server_retries = 0;
	f = open_flow(&d, &c, v6, 9, LINUX);
	fake_dp_time(&d, FAKE_T0_MS + SW_SERVER_SYN_RTO_MS - 1);
	d.lc->ft.sweep.last_ms = 0;
	CHECK_EQ(sw_flowtab_sweep(&d.lc->ft, d.lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer,
				  &d.io), 0);
	CHECK(flow_of(&d, &c) == f);
	fake_dp_time(&d, FAKE_T0_MS + SW_SERVER_SYN_RTO_MS);
	d.lc->ft.sweep.last_ms = 0;
	CHECK_EQ(sw_flowtab_sweep(&d.lc->ft, d.lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer,
				  &d.io), 1);
	fake_dp_round(&d);
	CHECK(flow_of(&d, &c) == NULL);
	CHECK_EQ(d.lc->cnt.proxy_server_timeout, 1);
	CHECK_EQ(d.lc->cnt.proxy_syn_retransmitted, 0);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 2);        /* SYN-ACK, RST */
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_server_syn_backoff(void)
{
	struct fake_dp d;
	struct sw_flow *f;
	struct conn c;
	uint32_t r, cap = SW_SERVER_SYN_RTO_MS << 6;

	fake_dp_init(&d, NULL);
	d.cfg->lim.server_retries = 10;
	f = open_flow(&d, &c, 0, 10, LINUX);
	/* doubling stops at 64 s */
	for (r = 4; r < 10; r++) {
		uint32_t rto = SW_SERVER_SYN_RTO_MS << (r < 6 ? r : 6);

		SW_CTX("backoff rexmits %u", r);
		f->rexmits = (uint8_t)r;
		CHECK_EQ(timer(&d, f, rto - 1), SW_FLOW_KEEP);
		CHECK_EQ(f->rexmits, r);
		CHECK_EQ(timer(&d, f, rto), SW_FLOW_KEEP);
		CHECK_EQ(f->rexmits, r + 1);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(d.lc->cnt.proxy_syn_retransmitted, 6);
	CHECK_EQ(timer(&d, f, cap - 1), SW_FLOW_KEEP);
	CHECK_EQ(timer(&d, f, cap), SW_FLOW_DROP);
	CHECK_EQ(d.lc->cnt.proxy_server_timeout, 1);
	CHECK_FAKE_FINI(&d);
}

/* A flow ended by synwall (evicted, or expired): an opening one tells the client only, the
 * server having never answered; a closing one tells nobody. */
static void
test_end_opening_and_closing(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_flow *f, copy;
	unsigned int n_out, n_in;
	struct sw_pkt p;
	struct conn c;

	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, 0, 13, LINUX);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	copy = *f;
	n_out = fake_nsent(&d, SW_OUTSIDE);
	n_in = fake_nsent(&d, SW_INSIDE);
	sw_splice_end(d.lc, &d.out.sink, &copy, &c.t);
	sw_sink_flush_tx(&d.out.sink);
	want.proxy_reset_sent = 1;
	fake_check_counters(d.lc, &want);
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == n_out + 1);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), n_in);      /* nothing to the server */
	CHECK_EQ(fake_parse(d.out.sent[SW_OUTSIDE].m[n_out], &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_RST | SW_TH_ACK);
	CHECK_EQ(p.seq, c.iss + 1);
	CHECK_EQ(p.ack, c.irs + 1);
	/* no mbuf: counted, nothing sent */
	d.out.fail_allocs = 1;
	sw_splice_end(d.lc, &d.out.sink, &copy, &c.t);
	sw_sink_flush_tx(&d.out.sink);
	want.port_nombuf = 1;
	fake_check_counters(d.lc, &want);
	/* closing: both ends are done with it */
	sw_flow_state(&copy) = SW_FLOW_CLOSING;
	sw_splice_end(d.lc, &d.out.sink, &copy, &c.t);
	sw_sink_flush_tx(&d.out.sink);
	fake_check_counters(d.lc, &want);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), n_out + 1);
	CHECK_FAKE_FINI(&d);
}

static void
test_server_syn_nombuf(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_flow *f;
	struct conn c;

	fake_dp_init(&d, NULL);
	f = open_flow(&d, &c, 0, 11, LINUX);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	f->last_ms = 12345;
	/* a retransmit without an mbuf: tried again at the next sweep, not counted as sent */
	d.out.fail_allocs = 1;
	CHECK_EQ(timer(&d, f, SW_SERVER_SYN_RTO_MS), SW_FLOW_KEEP);
	want.port_nombuf = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(f->rexmits, 0);
	CHECK_EQ(f->last_ms, 12345);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 1);
	/* the end without an mbuf: the flow still goes, the client is not told */
	f->rexmits = 3;
	d.out.fail_allocs = 1;
	CHECK_EQ(timer(&d, f, SW_SERVER_SYN_RTO_MS << 3), SW_FLOW_DROP);
	want.port_nombuf = 2;
	want.proxy_server_timeout = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1);
	CHECK_EQ(d.out.allocs, 2);
	CHECK_FAKE_FINI(&d);
}

static void
test_idle_timers(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_flow *f;
	struct conn c;
	struct sw_pkt p;
	uint32_t srv_nxt, srv_ack;

	fake_dp_init(&d, NULL);
	f = established(&d, &c, 0, 12, LINUX);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	want.proxy_established = 1;
	CHECK_EQ(timer(&d, f, SW_FLOW_IDLE_TIMEOUT_MS - 1), SW_FLOW_KEEP);
	fake_check_counters(d.lc, &want);
	srv_nxt = f->srv_nxt;
	srv_ack = f->srv_ack;
	CHECK_EQ(timer(&d, f, SW_FLOW_IDLE_TIMEOUT_MS), SW_FLOW_DROP);
	want.proxy_expired = 1;
	want.proxy_reset_sent = 1;
	fake_check_counters(d.lc, &want);
	/* both ends told at once, each with exactly the sequence number it expects */
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == 3 && fake_nsent(&d, SW_INSIDE) == 3);
	CHECK_EQ(fake_parse(d.out.sent[SW_OUTSIDE].m[2], &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_RST | SW_TH_ACK);
	CHECK_EQ(p.seq, srv_nxt);
	CHECK_EQ(p.ack, srv_ack);
	CHECK_EQ(fake_parse(d.out.sent[SW_INSIDE].m[2], &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_RST | SW_TH_ACK);
	CHECK_EQ(p.seq, srv_ack);
	CHECK_EQ(p.ack, srv_nxt + f->seq_delta);

	sw_flow_state(f) = SW_FLOW_CLOSING;
	CHECK_EQ(timer(&d, f, SW_FLOW_LINGER_MS - 1), SW_FLOW_KEEP);
	fake_check_counters(d.lc, &want);
	CHECK_EQ(timer(&d, f, SW_FLOW_LINGER_MS), SW_FLOW_DROP);
	want.proxy_closed = 1;
	fake_check_counters(d.lc, &want);
	/* lingering ends quietly: the RSTs of the expiry were all */
	CHECK_EQ(d.out.allocs, 3);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 3);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 3);
	CHECK_FAKE_FINI(&d);
}

/*
 * A client segment larger than the server's MSS (1400 in its SYN-ACK): passed on all the
 * same, and the client gets an ICMP "fragmentation needed" / ICMPv6 "packet too big" from
 * the server's address with the MTU that MSS gives, quoting the segment as it sent it. Not
 * for a segment within the MSS, nor for IPv4 without DF (a router would fragment it).
 */
static void
test_too_big(int v6)
{
	struct sw_counters want;
	uint8_t orig[2048];
	struct rte_mbuf *m, *icmp_m;
	unsigned int l2 = 14, l3 = v6 ? 40 : 20, k;
	const uint8_t *p, *ip, *icmp;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *f;
	struct conn c;
	uint32_t len, n0;
	uint64_t acc;

	SW_CTX("too big v6=%d", v6);
	fake_dp_init(&d, NULL);
	f = established(&d, &c, v6, 40, LINUX);
	CHECK_EQ(f->mss8, 1400 / 8);
	want = d.lc->cnt;
	n0 = fake_nsent(&d, SW_OUTSIDE);
	/* within the MSS with its timestamps option: nothing */
	s = seg(&c, false, SW_TH_ACK, c.irs + 1, c.iss + 1, 300, 1388);
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 5, c.synack_tsval);
	m = fake_tcp_mbuf(&s);
	CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), n0);
	want.proxy_to_server++;
	fake_check_counters(d.lc, &want);
	/* 12 bytes over */
	s = seg(&c, false, SW_TH_ACK, c.irs + 1 + 1388, c.iss + 1, 300, 1400);
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 6, c.synack_tsval);
	m = fake_tcp_mbuf(&s);
	fake_copy(m, orig, &len);
	CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
	fake_dp_put(&d, m, SW_V_INSIDE);
	want.proxy_to_server++;
	want.proxy_too_big++;
	fake_check_counters(d.lc, &want);
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == n0 + 1);
	icmp_m = fake_last_sent(&d, SW_OUTSIDE);
	p = fake_data(icmp_m);
	CHECK_EQ(rte_pktmbuf_data_len(icmp_m), l2 + l3 + 8 + l3 + 8);
	CHECK_MEM(p, orig + 6, 6);                      /* to the client's MAC */
	CHECK_MEM(p + 6, orig, 6);
	ip = p + l2;
	icmp = ip + l3;
	if (!v6) {
		CHECK_EQ(ip[9], 1);
		CHECK_MEM(ip + 12, orig + l2 + 16, 4);  /* from the server */
		CHECK_MEM(ip + 16, orig + l2 + 12, 4);
		CHECK_EQ(sw_test_sum16(ip, 20, 0), 0xffff);
		CHECK_EQ(icmp[0], 3);
		CHECK_EQ(icmp[1], 4);
		CHECK_EQ(sw_rd16(icmp + 6), 1440);      /* 1400 + 20 + 20 */
		CHECK_EQ(sw_test_sum16(icmp, 8 + l3 + 8, 0), 0xffff);
	} else {
		CHECK_EQ(ip[6], 58);
		CHECK_MEM(ip + 8, orig + l2 + 24, 16);
		CHECK_MEM(ip + 24, orig + l2 + 8, 16);
		CHECK_EQ(icmp[0], 2);
		CHECK_EQ(icmp[1], 0);
		CHECK_EQ(sw_rd32(icmp + 4), 1460);      /* 1400 + 40 + 20 */
		/* pseudo-header: addresses, length, next header */
		acc = 0;
		for (k = 0; k < 32; k += 2)
			acc += (uint32_t)(ip[8 + k] << 8 | ip[8 + k + 1]);
		acc += 8 + l3 + 8 + 58;
		for (k = 0; k < 8 + l3 + 8; k += 2)
			acc += (uint32_t)(icmp[k] << 8 | icmp[k + 1]);
		while (acc >> 16)
			acc = (acc & 0xffff) + (acc >> 16);
		CHECK_EQ(acc, 0xffff);
	}
	/* the quote: the segment's IP header and first 8 bytes of TCP, as the client sent them */
	CHECK_MEM(icmp + 8, orig + l2, l3 + 8);
	if (!v6) {
		/* without DF: no ICMP, passed on */
		s = seg(&c, false, SW_TH_ACK, c.irs + 1 + 2788, c.iss + 1, 300, 1400);
		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 7, c.synack_tsval);
		m = fake_tcp_mbuf(&s);
		{
			uint8_t *ip4 = fake_data(m) + l2;

			REQUIRE(ip4[6] & 0x40);
			ip4[6] &= (uint8_t)~0x40;
			sw_wr16(ip4 + 10, 0);
			sw_wr16(ip4 + 10, (uint16_t)~sw_test_sum16(ip4, 20, 0));
		}
		CHECK_EQ(from_client(&d, m, f), SW_V_INSIDE);
		fake_dp_put(&d, m, SW_V_INSIDE);
		CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), n0 + 1);
		want.proxy_to_server++;
		fake_check_counters(d.lc, &want);
	}
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

int
main(void)
{
	int v6;

	test_client_opening();
	for (v6 = 0; v6 < 2; v6++) {
		test_server_synack(v6, LINUX, 0);
		test_server_synack(v6, SW_OPT_MSS, 0);
		test_server_synack(v6, LINUX, 1);
		test_established(v6, LINUX);
		test_established(v6, SW_OPT_MSS | SW_OPT_SACKOK);
		test_server_syn_timer(v6);
		test_too_big(v6);
	}
	test_server_opening_others();
	test_no_headroom();
	test_close();
	test_server_syn_backoff();
	test_server_syn_nombuf();
	test_end_opening_and_closing();
	test_idle_timers();
	return sw_test_done();
}
