/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handshake completion (handshake.c): the client's ACK of our SYN-ACK, matched against its
 * syncache entry or its cookie (with and without the burst's first-pass MACs), opens a flow
 * and becomes in place the SYN to the server, which is parsed back field by field; the
 * ACKs that must not open anything (a wrong cookie, wrong numbers for an entry, cookies
 * off, a full flow table) are dropped with their exact counter, the frame and the tables
 * left as they were. And the client's RST of a pending handshake (exact or not).
 */
#include <stdio.h>

#include "fake_check.h"
#include "handshake.h"
#include "segment.h"
#include "sw_const.h"
#include "syn.h"

#define ISN     0x0badcafeu
#define TSVAL   0x00c0ffeeu
#define LINUX   (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)
#define ACK_WIN 502

/* A handshake: the client's SYN and what our SYN-ACK answered. */
struct hs {
	struct fake_tcp syn;
	uint32_t iss;
	bool ts;                        /* the SYN-ACK offered timestamps */
	uint32_t synack_tsval;
};

/* h's SYN answered in mode (an entry or not, as the syncache's state says). */
static void
answer_syn(struct fake_dp *d, struct hs *h, enum sw_mode mode)
{
	struct sw_syn_plan plan;
	struct sw_pkt pkt, sa;
	struct rte_mbuf *m;
	uint32_t hash;

	m = fake_tcp_mbuf(&h->syn);
	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	fake_syn_plan(d, &pkt, &plan);
	REQUIRE(sw_syn_answer(d->lc, fake_out(d), m, &pkt, mode, hash, &plan) == SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &sa) == 0);
	h->iss = sa.seq;
	h->ts = (sa.opt.present & SW_OPT_TS) != 0;
	h->synack_tsval = sa.opt.tsval;
	fake_dp_put(d, m, SW_V_OUTSIDE);
}

/* The SYN of client (ISN + client) to port, with a VLAN tag or not, answered in mode. */
static void
syn_answered(struct fake_dp *d, struct hs *h, int v6, int vlan, uint32_t client,
	     uint16_t port, enum sw_mode mode, uint8_t opts, uint16_t mss, uint8_t ws)
{
	memset(h, 0, sizeof(*h));
	fake_tuple(&h->syn.t, v6, client, (uint16_t)(40000 + client), port);
	h->syn.vlan = vlan;
	h->syn.vlan_tci = 0x0123;
	h->syn.seq = ISN + client;
	h->syn.flags = SW_TH_SYN;
	h->syn.win = 64240;
	fake_tcp_opts(&h->syn, opts, mss, ws, TSVAL, 0);
	answer_syn(d, h, mode);
}

/* The client's ACK of h's SYN-ACK: TSecr echoes it when timestamps were offered. */
static struct fake_tcp
client_ack(const struct hs *h, uint32_t seq, uint32_t ack, uint16_t paylen)
{
	struct fake_tcp a;

	memset(&a, 0, sizeof(a));
	a.t = h->syn.t;
	a.vlan = h->syn.vlan;
	a.vlan_tci = h->syn.vlan_tci;
	a.seq = seq;
	a.ack = ack;
	a.flags = SW_TH_ACK;
	a.win = ACK_WIN;
	a.paylen = paylen;
	if (h->ts)
		fake_tcp_opts(&a, SW_OPT_TS, 0, 0, TSVAL + 40, h->synack_tsval);
	return a;
}

enum macs_from {
	MACS_NONE,      /* the stage computes them (NULL) */
	MACS_FIRST,     /* the first pass's, as the pipeline makes them */
	MACS_WRONG,     /* a first pass whose MAC does not match */
};

static enum sw_verdict
complete(struct fake_dp *d, struct rte_mbuf *m, enum sw_mode mode, enum macs_from from)
{
	struct sw_ack_macs macs;
	struct sw_pkt pkt;
	uint32_t hash;

	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	if (from == MACS_NONE)
		return sw_handshake_complete(d->lc, fake_out(d), m, &pkt, mode, hash, NULL);
	fake_ack_macs(d, &pkt, &macs);
	if (from == MACS_WRONG) {
		macs.mac ^= 0x1000;
		macs.mac_probe ^= 0x1000;
	}
	return sw_handshake_complete(d->lc, fake_out(d), m, &pkt, mode, hash, &macs);
}

static struct sw_flow *
flow_of(struct fake_dp *d, const struct sw_tuple *t)
{
	return sw_flowtab_lookup(&d->lc->ft, t, sw_ctab_hash(&d->lc->ft.tab, t));
}

static struct sw_sc_entry *
entry_of(struct fake_dp *d, const struct sw_tuple *t)
{
	return sw_syncache_lookup(&d->lc->sc, t, sw_ctab_hash(&d->lc->ft.tab, t));
}

/* The server SYN m must now be: the client's ISN irs, its options, its window. */
static void
check_server_syn(const struct rte_mbuf *m, const struct hs *h, uint32_t irs, uint16_t win,
		 uint8_t opts, uint16_t mss, uint8_t ws)
{
	struct fake_want w;

	memset(&w, 0, sizeof(w));
	w.t = h->syn.t;
	w.eth_src = fake_mac_client;
	w.eth_dst = fake_mac_server;
	w.vlan = h->syn.vlan;
	w.vlan_tci = h->syn.vlan_tci;
	w.seq = irs;
	w.ack = 0;
	w.flags = SW_TH_SYN;
	w.win = win;
	w.opts = opts;
	w.mss = mss;
	w.wscale = ws;
	w.tsval = TSVAL + 40;           /* the client's latest */
	w.tsecr = 0;
	fake_check_seg(m, &w, NULL);
}

/* An ACK that must change nothing: dropped, frame untouched. */
static void
check_dropped(struct fake_dp *d, struct rte_mbuf *m, enum sw_verdict v, const uint8_t *before,
	      uint32_t len)
{
	CHECK_EQ(v, SW_V_DROP);
	CHECK_EQ(rte_pktmbuf_data_len(m), len);
	CHECK_MEM(fake_data(m), before, len);
	fake_dp_put(d, m, v);
}

/* ---- syncache hit ---- */

static void
test_entry_hit(int v6, int vlan)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct fake_tcp a;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct hs h;

	SW_CTX("entry hit v6=%d vlan=%d", v6, vlan);
	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, v6, vlan, 1, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	REQUIRE(entry_of(&d, &h.syn.t) != NULL);
	fake_dp_time(&d, FAKE_T0_MS + 30);
	a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	CHECK_EQ(complete(&d, m, SW_MODE_PROXY, MACS_NONE), SW_V_INSIDE);

	/* 502 << 7 = 64256; MSS 1460 less the timestamps synwall may have to add */
	check_server_syn(m, &h, h.syn.seq, 64256, LINUX, 1448, 7);
	want.sc_added = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &h.syn.t) == NULL);
	CHECK_EQ(d.lc->sc.tab.count, 0);
	f = flow_of(&d, &h.syn.t);
	REQUIRE(f != NULL);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	CHECK_EQ(sw_flow_flags(f), SW_FLF_C_SACK | SW_FLF_C_TS | SW_FLF_C_WS |
				   (vlan ? SW_FLF_VLAN : 0));
	CHECK_EQ(SW_FLOW_WS_CLIENT(f), 7);
	CHECK_EQ(SW_FLOW_WS_OURS(f), 7);
	CHECK_EQ(f->irs, h.syn.seq);
	CHECK_EQ(f->iss, h.iss);
	CHECK_EQ(f->open.mss, 1448);
	CHECK_EQ(f->open.win, ACK_WIN);
	CHECK_EQ(f->ts_ours, h.synack_tsval);
	CHECK_EQ(f->ts_recent, TSVAL + 40);
	CHECK_EQ(f->rexmits, 0);
	CHECK_EQ(f->last_ms, FAKE_T0_MS + 30);
	CHECK_MEM(f->eth_client, fake_mac_client, 6);
	CHECK_MEM(f->eth_server, fake_mac_server, 6);
	if (vlan)
		CHECK_EQ(f->vlan_tci, 0x0123);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 1);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* The MSS told the server, from the entry: room for timestamps whenever the client does
 * them, even when the server is known (learned between the SYN and its ACK) to do them, never
 * below what Linux accepts. */
static void
test_entry_mss(void)
{
	static const struct {
		uint8_t opts;           /* the client's */
		uint16_t mss;
		int learned;            /* 0: nothing, 1: the server does timestamps, 2: not */
		uint16_t told;
		uint16_t win;           /* the server SYN's */
	} cases[] = {
		{ SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS, 1460, 0, 1460, 64256 },
		{ LINUX, 1460, 1, 1448, 64256 },
		{ LINUX, 1460, 2, 1448, 64256 },
		{ LINUX, 101, 0, 89, 64256 },
		{ LINUX, 100, 0, 100, 64256 },
		{ SW_OPT_TS, 0, 0, 536 - 12, ACK_WIN },       /* no MSS: 536; no shift */
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct fake_dp d;
		struct fake_tcp a;
		struct rte_mbuf *m;
		struct hs h;

		SW_CTX("entry MSS case %u", i);
		fake_dp_init(&d, NULL);
		syn_answered(&d, &h, 0, 0, 2, FAKE_PORT_PROXY, SW_MODE_PROXY, cases[i].opts,
			     cases[i].mss, 7);
		if (cases[i].learned) {
			struct sw_tcpopts sa = { .present = SW_OPT_MSS, .mss = 1460 };

			if (cases[i].learned == 1)
				sa.present |= SW_OPT_TS;
			sw_learn_synack(d.lc->learn, &h.syn.t,
					&d.cfg->port_profile[FAKE_PORT_PROXY], SW_OPT_TS, &sa,
					(uint32_t)d.lc->now_ms);
		}
		a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		m = fake_tcp_mbuf(&a);
		CHECK_EQ(complete(&d, m, SW_MODE_PROXY, MACS_NONE), SW_V_INSIDE);
		/* the options our SYN-ACK accepted (the MSS always) */
		check_server_syn(m, &h, h.syn.seq, cases[i].win,
				 (uint8_t)(cases[i].opts | SW_OPT_MSS), cases[i].told, 7);
		fake_dp_put(&d, m, SW_V_INSIDE);
		CHECK_FAKE_FINI(&d);
	}
	SW_CTX_CLEAR();
}

/* ---- cookie hit ---- */

static void
test_cookie_hit(int v6, enum sw_mode mode, enum macs_from from)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct fake_tcp a;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct hs h;
	uint8_t before[256];
	uint32_t len;
	uint16_t port = mode == SW_MODE_COOKIE ? FAKE_PORT_COOKIE : FAKE_PORT_PROXY;

	SW_CTX("cookie hit v6=%d mode=%d macs=%d", v6, mode, from);
	fake_dp_init(&d, NULL);
	if (mode == SW_MODE_PROXY)
		d.cfg->lim.syncookies_only = 1;
	/* MSS 1400 is 1360 in the cookie, shift 9 is 8; IPv6 with a VLAN tag */
	syn_answered(&d, &h, v6, v6, 3, port, mode, LINUX, 1400, 9);
	REQUIRE(d.lc->sc.tab.count == 0);
	a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	fake_copy(m, before, &len);
	want.sc_sendcookie = 1;
	if (from == MACS_WRONG) {
		/* the first pass's MAC decides: a cookie that would check out is not
		 * recomputed */
		check_dropped(&d, m, complete(&d, m, mode, from), before, len);
		want.cookie_failed = 1;
		fake_check_counters(d.lc, &want);
		CHECK(flow_of(&d, &h.syn.t) == NULL);
		CHECK_FAKE_FINI(&d);
		SW_CTX_CLEAR();
		return;
	}
	CHECK_EQ(complete(&d, m, mode, from), SW_V_INSIDE);
	/* 502 << 8 capped; MSS 1360 less 12 */
	check_server_syn(m, &h, h.syn.seq, 65535, LINUX, 1348, 8);
	want.sc_recvcookie = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	fake_check_counters(d.lc, &want);
	f = flow_of(&d, &h.syn.t);
	REQUIRE(f != NULL);
	CHECK_EQ(sw_flow_state(f), SW_FLOW_OPENING);
	CHECK_EQ(sw_flow_flags(f), SW_FLF_C_SACK | SW_FLF_C_TS | SW_FLF_C_WS |
				   (v6 ? SW_FLF_VLAN : 0));
	CHECK_EQ(f->vlan_tci, v6 ? 0x0123 : 0);
	CHECK_EQ(SW_FLOW_WS_CLIENT(f), 8);
	CHECK_EQ(SW_FLOW_WS_OURS(f), 7);
	CHECK_EQ(f->irs, h.syn.seq);
	CHECK_EQ(f->iss, h.iss);
	CHECK_EQ(f->open.mss, 1348);
	CHECK_EQ(f->ts_ours, h.synack_tsval);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* Our shift, which the cookie does not carry: in the TSecr's low bits when the client
 * does timestamps (a learned profile's shift), else the port's configured one. */
static void
test_cookie_our_shift(void)
{
	struct sw_tcpopts sa = { .present = LINUX, .mss = 1460, .wscale = 9 };
	struct sw_profile port = { 1460, 5, SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS };
	int ts;

	for (ts = 0; ts < 2; ts++) {
		uint8_t opts = ts ? LINUX : (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS);
		struct fake_dp d;
		struct fake_tcp a;
		struct sw_flow *f;
		struct rte_mbuf *m;
		struct sw_tuple t;
		struct hs h;

		SW_CTX("cookie, our shift, ts=%d", ts);
		fake_dp_init(&d, NULL);
		d.cfg->port_profile[FAKE_PORT_COOKIE] = port;
		fake_tuple(&t, 0, 4, 1, FAKE_PORT_COOKIE);
		sw_learn_synack(d.lc->learn, &t, &port, LINUX, &sa,
				(uint32_t)d.lc->now_ms);
		syn_answered(&d, &h, 0, 0, 4, FAKE_PORT_COOKIE, SW_MODE_COOKIE, opts, 1460, 7);
		if (ts)
			CHECK_EQ(h.synack_tsval & SW_TS_WS_MASK, 9);
		a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		m = fake_tcp_mbuf(&a);
		CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, MACS_FIRST), SW_V_INSIDE);
		f = flow_of(&d, &h.syn.t);
		REQUIRE(f != NULL);
		CHECK_EQ(SW_FLOW_WS_CLIENT(f), 7);
		CHECK_EQ(SW_FLOW_WS_OURS(f), ts ? 9 : 5);
		CHECK_EQ(sw_flow_flags(f), SW_FLF_C_SACK | SW_FLF_C_WS | (ts ? SW_FLF_C_TS : 0));
		/* room for the timestamps option whenever the client does timestamps: a learned
		 * profile that says the server does them is no promise */
		CHECK_EQ(f->open.mss, ts ? 1448 : 1460);
		fake_dp_put(&d, m, SW_V_INSIDE);
		CHECK_FAKE_FINI(&d);
	}
	SW_CTX_CLEAR();
}

/* A cookie whose SYN-ACK offered no shift (TSecr low bits 15) and no window scale. */
static void
test_cookie_no_shift(void)
{
	struct fake_dp d;
	struct fake_tcp a;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct hs h;

	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 0, 0, 5, FAKE_PORT_COOKIE, SW_MODE_COOKIE, SW_OPT_MSS | SW_OPT_TS,
		     1460, 0);
	CHECK_EQ(h.synack_tsval & SW_TS_WS_MASK, SW_TS_WS_NONE);
	a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, MACS_FIRST), SW_V_INSIDE);
	check_server_syn(m, &h, h.syn.seq, ACK_WIN, SW_OPT_MSS | SW_OPT_TS, 1448, 0);
	f = flow_of(&d, &h.syn.t);
	REQUIRE(f != NULL);
	CHECK_EQ(sw_flow_flags(f), SW_FLF_C_TS);
	CHECK_EQ(sw_flow_ws(f), 0);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_FAKE_FINI(&d);
}

/* ---- ACKs that open nothing ---- */

/* With timestamps the cookie is checked on 32 bits: its 24 and the 8 of the SYN-ACK's TSval
 * that the TSecr echoes. Any of those 8 wrong fails it (the window shift's 4 below them are
 * no MAC); the right ones, read from the SYN-ACK, open the flow. */
static void
test_cookie_ts_bits(enum macs_from from)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct hs h;
	unsigned int bit;

	SW_CTX("cookie TSecr bits macs=%d", from);
	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 0, 0, 6, FAKE_PORT_COOKIE, SW_MODE_COOKIE, LINUX, 1460, 7);
	REQUIRE(h.ts);
	/* the SYN-ACK's TSval: the MAC's other 8 bits above the shift it offered */
	CHECK_EQ(sw_cookie_ts_mac8(h.synack_tsval),
		 (uint8_t)sw_cookie_mac(&d.cfg->keys, &h.syn.t, h.syn.seq, h.iss & 0xff));
	CHECK_EQ(h.synack_tsval & SW_TS_WS_MASK, 7);
	want.sc_sendcookie = 1;
	for (bit = 4; bit < 12; bit++) {
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m;
		uint8_t before[256];
		uint32_t len;

		fake_tcp_opts(&a, SW_OPT_TS, 0, 0, TSVAL + 40, h.synack_tsval ^ (1u << bit));
		m = fake_tcp_mbuf(&a);
		fake_copy(m, before, &len);
		check_dropped(&d, m, complete(&d, m, SW_MODE_COOKIE, from), before, len);
		want.cookie_failed++;
		fake_check_counters(d.lc, &want);
	}
	{
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);

		CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, from), SW_V_INSIDE);
		fake_dp_put(&d, m, SW_V_INSIDE);
		want.sc_recvcookie = 1;
		want.sc_completed = 1;
		want.proxy_opened = 1;
		fake_check_counters(d.lc, &want);
	}
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ACKs without timestamps beyond the budget of checks are dropped unchecked, counted and
 * logged as such, a valid cookie among them; one with timestamps is checked all the same. */
static void
test_budget_spent(enum macs_from from)
{
	struct sw_counters want = { 0 };
	char line[SW_LOG_LEN];
	struct fake_dp d;
	struct hs h, hts;
	unsigned int i;

	SW_CTX("budget spent macs=%d", from);
	fake_dp_init(&d, NULL);
	d.cfg->lim.cookie_check_rate = 3;       /* one worker: 3 checks a second */
	syn_answered(&d, &h, 0, 0, 6, FAKE_PORT_COOKIE, SW_MODE_COOKIE, SW_OPT_MSS, 1460, 7);
	syn_answered(&d, &hts, 0, 0, 7, FAKE_PORT_COOKIE, SW_MODE_COOKIE, LINUX, 1460, 7);
	REQUIRE(!h.ts && hts.ts);
	want.sc_sendcookie = 2;
	/* three wrong ones with data (one reading each) take the budget */
	for (i = 0; i < 3; i++) {
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, (h.iss ^ 0x100) + 1, 10);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);

		fake_dp_put(&d, m, complete(&d, m, SW_MODE_COOKIE, from));
	}
	want.cookie_failed = 3;
	fake_check_counters(d.lc, &want);
	for (i = 0; i < 2; i++) {
		struct fake_tcp a = i ? client_ack(&hts, hts.syn.seq + 1, hts.iss + 1, 0)
				      : client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);
		uint8_t before[256];
		uint32_t len;

		fake_log_reset(&d);
		fake_copy(m, before, &len);
		if (i == 0) {
			/* the valid cookie without timestamps: not checked */
			check_dropped(&d, m, complete(&d, m, SW_MODE_COOKIE, from), before, len);
			want.cookie_limited = 1;
			snprintf(line, sizeof(line), "ACK from 198.18.0.6:40006 to 198.18.1.1:%u "
				 "carries no timestamps, and this second's cookie checks of such "
				 "ACKs (cookie_check_rate) are spent: dropped unchecked (an ACK "
				 "flood is on)", FAKE_PORT_COOKIE);
			CHECK_MSG(strcmp(fake_last_log(&d), line) == 0, "log line \"%s\"",
				  fake_last_log(&d));
		} else {
			/* with timestamps: checked, and it opens */
			CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, from), SW_V_INSIDE);
			fake_dp_put(&d, m, SW_V_INSIDE);
			want.sc_recvcookie = 1;
			want.sc_completed = 1;
			want.proxy_opened = 1;
		}
		fake_check_counters(d.lc, &want);
	}
	/* a second later the budget is back: the same ACK opens */
	fake_dp_time(&d, FAKE_T0_MS + 1000);
	{
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);

		CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, from), SW_V_INSIDE);
		fake_dp_put(&d, m, SW_V_INSIDE);
		want.sc_recvcookie = 2;
		want.sc_completed = 2;
		want.proxy_opened = 2;
		fake_check_counters(d.lc, &want);
	}
	/* what is left of it (2 checks) goes; then a new configuration without a limit (the
	 * worker sees its version) checks everything again */
	for (i = 0; i < 4; i++) {
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, (h.iss ^ 0x100) + 1, 10);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);

		if (i == 3) {
			d.cfg->lim.cookie_check_rate = 0;
			d.cfg->version++;
		}
		fake_dp_put(&d, m, complete(&d, m, SW_MODE_COOKIE, from));
	}
	want.cookie_failed += 3;
	want.cookie_limited += 1;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_wrong_cookie(enum macs_from from)
{
	static const uint32_t flips[] = { 1u << 8, 1u << 31, 0x01 /* the MSS bits */, 0x40 };
	struct sw_counters want = { 0 };
	char line[SW_LOG_LEN];
	struct fake_dp d;
	struct hs h;
	unsigned int i;

	SW_CTX("wrong cookie macs=%d", from);
	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 0, 0, 6, FAKE_PORT_COOKIE, SW_MODE_COOKIE, LINUX, 1460, 7);
	want.sc_sendcookie = 1;
	for (i = 0; i < RTE_DIM(flips); i++) {
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, (h.iss ^ flips[i]) + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);
		uint8_t before[256];
		uint32_t len;

		fake_log_reset(&d);
		fake_copy(m, before, &len);
		check_dropped(&d, m, complete(&d, m, SW_MODE_COOKIE, from), before, len);
		want.cookie_failed = i + 1;
		fake_check_counters(d.lc, &want);
		CHECK_EQ(d.lc->ft.tab.count, 0);
	}
	snprintf(line, sizeof(line), "ACK from 198.18.0.6:40006 to 198.18.1.1:%u matches no "
		 "pending handshake and carries no valid cookie: dropped (spoofed ACK or port "
		 "scan)", FAKE_PORT_COOKIE);
	CHECK_MSG(strcmp(fake_last_log(&d), line) == 0, "log line \"%s\"", fake_last_log(&d));

	/* A valid cookie of port 8080 on another port (proxy, 80) opens nothing. */
	{
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m;
		uint8_t before[256];
		uint32_t len;

		a.t.dport = FAKE_PORT_PROXY;
		m = fake_tcp_mbuf(&a);
		fake_copy(m, before, &len);
		check_dropped(&d, m, complete(&d, m, SW_MODE_PROXY, from), before, len);
		want.cookie_failed++;
		fake_check_counters(d.lc, &want);
	}
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_badack(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_sc_entry *e;
	struct hs h;
	unsigned int i;
	/* seq, ack of the handshake's, offset */
	static const int32_t wrong[][2] = { { 1, 2 }, { 1, 0 }, { 2, 1 }, { 0, 1 } };

	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 0, 0, 7, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	e = entry_of(&d, &h.syn.t);
	REQUIRE(e != NULL);
	want.sc_added = 1;
	for (i = 0; i < RTE_DIM(wrong); i++) {
		/* {0, 1} is a probe's seq but with a byte of data: not a probe */
		struct fake_tcp a = client_ack(&h, h.syn.seq + (uint32_t)wrong[i][0],
					       h.iss + (uint32_t)wrong[i][1],
					       wrong[i][0] == 0 ? 1 : 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);
		uint8_t before[256];
		uint32_t len;

		SW_CTX("badack %u", i);
		fake_log_reset(&d);
		fake_copy(m, before, &len);
		check_dropped(&d, m, complete(&d, m, SW_MODE_PROXY, MACS_NONE), before, len);
		want.sc_badack = i + 1;
		fake_check_counters(d.lc, &want);
		CHECK(entry_of(&d, &h.syn.t) == e);
		CHECK_EQ(e->irs, h.syn.seq);
		CHECK_EQ(e->iss, h.iss);
		CHECK_EQ(d.lc->ft.tab.count, 0);
	}
	SW_CTX_CLEAR();
	CHECK(strstr(fake_last_log(&d), " does not acknowledge the SYN-ACK of its pending "
		     "handshake (wrong sequence numbers) and carries no valid cookie: dropped "
		     "(stale or spoofed segment)") != NULL);
	CHECK_FAKE_FINI(&d);
}

/* Another ISN on a 4-tuple with an entry was answered by cookie: its ACK completes by
 * the cookie, whichever handshake the entry is, and the entry goes (its SYN-ACK
 * retransmits would reach a client that is connected). */
static void
test_cookie_beside_entry(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct fake_tcp a;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct hs first, second;

	fake_dp_init(&d, NULL);
	syn_answered(&d, &first, 0, 0, 8, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	second = first;
	second.syn.seq += 5000;
	answer_syn(&d, &second, SW_MODE_PROXY);
	CHECK_NE(second.iss, first.iss);
	want.sc_added = 1;
	want.sc_sendcookie = 1;
	fake_check_counters(d.lc, &want);
	a = client_ack(&second, second.syn.seq + 1, second.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	CHECK_EQ(complete(&d, m, SW_MODE_PROXY, MACS_NONE), SW_V_INSIDE);
	check_server_syn(m, &second, second.syn.seq, 64256, LINUX, 1448, 7);
	want.sc_recvcookie = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	fake_check_counters(d.lc, &want);
	f = flow_of(&d, &second.syn.t);
	REQUIRE(f != NULL);
	CHECK_EQ(f->irs, second.syn.seq);
	CHECK_EQ(f->iss, second.iss);
	CHECK(entry_of(&d, &first.syn.t) == NULL);
	CHECK_EQ(d.lc->sc.tab.count, 0);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_FAKE_FINI(&d);
}

static void
test_cookies_off(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct fake_tcp a;
	struct rte_mbuf *m;
	struct hs h, pend;
	uint8_t before[256];
	uint32_t len;

	fake_dp_init(&d, NULL);
	/* a cookie made while cookies were on */
	syn_answered(&d, &h, 0, 0, 9, FAKE_PORT_COOKIE, SW_MODE_COOKIE, LINUX, 1460, 7);
	syn_answered(&d, &pend, 0, 0, 10, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	d.cfg->lim.syncookies = 0;
	want.sc_sendcookie = 1;
	want.sc_added = 1;

	/* proxy port, no entry: however good the cookie, nothing to match */
	a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
	a.t.dport = FAKE_PORT_PROXY;
	m = fake_tcp_mbuf(&a);
	fake_copy(m, before, &len);
	fake_log_reset(&d);
	check_dropped(&d, m, complete(&d, m, SW_MODE_PROXY, MACS_NONE), before, len);
	want.proxy_ack_no_handshake = 1;
	fake_check_counters(d.lc, &want);
	CHECK(strstr(fake_last_log(&d), " matches no pending handshake (SYN cookies are off): "
		     "dropped (spoofed ACK, port scan, or a connection whose entry expired)") !=
	      NULL);

	/* proxy port, an entry, wrong numbers */
	a = client_ack(&pend, pend.syn.seq + 1, pend.iss + 2, 0);
	m = fake_tcp_mbuf(&a);
	fake_copy(m, before, &len);
	check_dropped(&d, m, complete(&d, m, SW_MODE_PROXY, MACS_NONE), before, len);
	want.sc_badack = 1;
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &pend.syn.t) != NULL);

	/* a cookie-mode port checks its cookies whatever the switch says */
	a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	CHECK_EQ(complete(&d, m, SW_MODE_COOKIE, MACS_NONE), SW_V_INSIDE);
	want.sc_recvcookie = 1;
	want.sc_completed = 1;
	want.proxy_opened = 1;
	fake_check_counters(d.lc, &want);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_FAKE_FINI(&d);
}

/* ---- a zero-window probe (seq = ISN) completes ---- */

static void
test_probe(int with_entry, enum macs_from from, int probe_mac)
{
	struct sw_counters want = { 0 };
	struct sw_ack_macs macs;
	struct fake_dp d;
	struct fake_tcp a;
	struct sw_flow *f;
	struct rte_mbuf *m;
	struct sw_pkt pkt;
	uint32_t hash;
	struct hs h;
	enum sw_verdict v;

	SW_CTX("probe entry=%d macs=%d probe_mac=%d", with_entry, from, probe_mac);
	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 1, 0, 11, with_entry ? FAKE_PORT_PROXY : FAKE_PORT_COOKIE,
		     with_entry ? SW_MODE_PROXY : SW_MODE_COOKIE, LINUX, 1460, 7);
	a = client_ack(&h, h.syn.seq, h.iss + 1, 0);
	m = fake_tcp_mbuf(&a);
	REQUIRE(fake_rx(&d, m, &pkt, &hash) == 0);
	if (from == MACS_NONE) {
		v = sw_handshake_complete(d.lc, fake_out(&d), m, &pkt,
					  with_entry ? SW_MODE_PROXY : SW_MODE_COOKIE, hash, NULL);
	} else {
		fake_ack_macs(&d, &pkt, &macs);
		REQUIRE(macs.have_probe);
		/* without the probe's MAC the stage computes that one itself */
		macs.have_probe = probe_mac != 0;
		v = sw_handshake_complete(d.lc, fake_out(&d), m, &pkt,
					  with_entry ? SW_MODE_PROXY : SW_MODE_COOKIE, hash, &macs);
	}
	CHECK_EQ(v, SW_V_INSIDE);
	check_server_syn(m, &h, h.syn.seq, 64256, LINUX, 1448, 7);
	f = flow_of(&d, &h.syn.t);
	REQUIRE(f != NULL);
	CHECK_EQ(f->irs, h.syn.seq);
	CHECK_EQ(f->iss, h.iss);
	if (with_entry) {
		want.sc_added = 1;
	} else {
		want.sc_sendcookie = 1;
		want.sc_recvcookie = 1;
	}
	want.sc_completed = 1;
	want.proxy_opened = 1;
	fake_check_counters(d.lc, &want);
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- a full flow table: refused like a full accept queue ---- */

static void
test_flowtab_full(void)
{
	struct fake_dp_params p = { .flows = SW_FLOW_BUCKET_SLOTS };    /* one bucket */
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct hs h;
	uint32_t i;
	uint64_t t;

	fake_dp_init(&d, &p);
	REQUIRE(d.lc->ft.tab.hashsize == 1);
	for (i = 0; i < SW_FLOW_BUCKET_SLOTS; i++) {
		struct sw_tuple k;
		int ev;

		fake_tuple(&k, 0, 100 + i, 1000, FAKE_PORT_PROXY);
		REQUIRE(sw_flowtab_add(&d.lc->ft, &k, sw_ctab_hash(&d.lc->ft.tab, &k),
				       FAKE_T0_MS, SW_FLOW_EVICT_MIN_IDLE_MS, &ev) != NULL);
	}
	syn_answered(&d, &h, 0, 0, 12, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	want.sc_added = 1;
	/* Every flow younger than the eviction age: refused, the entry kept for the
	 * retransmission. At that age the oldest makes room. */
	for (t = FAKE_T0_MS; t <= FAKE_T0_MS + SW_FLOW_EVICT_MIN_IDLE_MS; t += 5000 - 1) {
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);
		uint8_t before[256];
		uint32_t len;

		SW_CTX("flow table full, t=+%" PRIu64, t - FAKE_T0_MS);
		fake_dp_time(&d, t);
		fake_copy(m, before, &len);
		check_dropped(&d, m, complete(&d, m, SW_MODE_PROXY, MACS_NONE), before, len);
		want.sc_aborted++;
		fake_check_counters(d.lc, &want);
		CHECK(entry_of(&d, &h.syn.t) != NULL);
		CHECK(flow_of(&d, &h.syn.t) == NULL);
		CHECK_EQ(d.lc->ft.tab.count, SW_FLOW_BUCKET_SLOTS);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(want.sc_aborted, 3);
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_EVICT_MIN_IDLE_MS);
	{
		struct fake_tcp a = client_ack(&h, h.syn.seq + 1, h.iss + 1, 0);
		struct rte_mbuf *m = fake_tcp_mbuf(&a);

		CHECK_EQ(complete(&d, m, SW_MODE_PROXY, MACS_NONE), SW_V_INSIDE);
		want.proxy_evicted = 1;
		want.sc_completed = 1;
		want.proxy_opened = 1;
		fake_check_counters(d.lc, &want);
		CHECK(entry_of(&d, &h.syn.t) == NULL);
		CHECK(flow_of(&d, &h.syn.t) != NULL);
		CHECK_EQ(d.lc->ft.tab.count, SW_FLOW_BUCKET_SLOTS);
		fake_dp_put(&d, m, SW_V_INSIDE);
	}
	CHECK_FAKE_FINI(&d);
}

/* ---- the client's RST of a pending handshake ---- */

/* The client's RST with sequence number seq: always dropped. */
static void
rst(struct fake_dp *d, const struct hs *h, uint32_t seq)
{
	struct fake_tcp r;
	struct rte_mbuf *m;
	struct sw_pkt pkt;
	uint32_t hash;

	memset(&r, 0, sizeof(r));
	r.t = h->syn.t;
	r.flags = SW_TH_RST;
	r.seq = seq;
	m = fake_tcp_mbuf(&r);
	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	CHECK_EQ(sw_handshake_rst(d->lc, &pkt, hash), SW_V_DROP);
	fake_dp_put(d, m, SW_V_DROP);
}

static void
test_rst(void)
{
	static const int32_t inexact[] = { 2, 0, -1, 1 << 16 };
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_sc_entry *e;
	struct hs h;
	unsigned int i;

	fake_dp_init(&d, NULL);
	syn_answered(&d, &h, 0, 0, 13, FAKE_PORT_PROXY, SW_MODE_PROXY, LINUX, 1460, 7);
	e = entry_of(&d, &h.syn.t);
	want.sc_added = 1;
	/* in the window but not exact (RFC 5961 3.2): ignored */
	for (i = 0; i < RTE_DIM(inexact); i++) {
		SW_CTX("RST at ISN %+d", inexact[i]);
		rst(&d, &h, h.syn.seq + (uint32_t)inexact[i]);
		want.proxy_rst_ignored = i + 1;
		fake_check_counters(d.lc, &want);
		CHECK(entry_of(&d, &h.syn.t) == e);
	}
	SW_CTX_CLEAR();
	/* exact: the entry goes */
	rst(&d, &h, h.syn.seq + 1);
	want.sc_reset = 1;
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &h.syn.t) == NULL);
	CHECK_EQ(d.lc->sc.tab.count, 0);
	/* and once it has gone there is nothing to reset */
	rst(&d, &h, h.syn.seq + 1);
	want.proxy_rst_ignored++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
}

int
main(void)
{
	int v6, vlan;
	enum macs_from from;

	for (v6 = 0; v6 < 2; v6++)
		for (vlan = 0; vlan < 2; vlan++)
			test_entry_hit(v6, vlan);
	test_entry_mss();
	for (v6 = 0; v6 < 2; v6++)
		for (from = MACS_NONE; from <= MACS_WRONG; from++) {
			test_cookie_hit(v6, SW_MODE_COOKIE, from);
			test_cookie_hit(v6, SW_MODE_PROXY, from);
		}
	test_cookie_our_shift();
	test_cookie_no_shift();
	test_wrong_cookie(MACS_NONE);
	test_wrong_cookie(MACS_FIRST);
	test_cookie_ts_bits(MACS_NONE);
	test_cookie_ts_bits(MACS_FIRST);
	test_budget_spent(MACS_NONE);
	test_budget_spent(MACS_FIRST);
	test_badack();
	test_cookie_beside_entry();
	test_cookies_off();
	test_probe(1, MACS_NONE, 0);
	test_probe(0, MACS_NONE, 0);
	test_probe(0, MACS_FIRST, 1);
	test_probe(0, MACS_FIRST, 0);
	test_flowtab_full();
	test_rst();
	return sw_test_done();
}
