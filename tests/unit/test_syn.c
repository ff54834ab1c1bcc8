/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN answering (syn.c) in each state of the syncache, driven as the pipeline drives it
 * (the plan and its cookie MAC first, then sw_syn_answer) with the fake sink: the SYN-ACK
 * written into the SYN's mbuf is parsed back field by field, its ISS checked against a
 * cookie computed here from the MAC's definition (DATAPLANE.md, "The cookie"), the
 * syncache entry and every counter checked after. Then the SYN-ACK timer
 * (sw_synack_timer): retransmits, their backoff, the end of an entry, a failed alloc.
 */
#include "fake_check.h"
#include "segment.h"
#include "sw_const.h"
#include "syn.h"

#define ISN     0x11223344u
#define TSVAL   0xabcd0001u
#define LINUX   (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)

/* A client's SYN to dport; options as fake_tcp_opts. */
static struct fake_tcp
client_syn(int v6, uint32_t client, uint16_t dport, uint32_t isn, uint8_t present,
	   uint16_t mss, uint8_t ws)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	fake_tuple(&s.t, v6, client, (uint16_t)(40000 + client), dport);
	s.seq = isn;
	s.flags = SW_TH_SYN;
	s.win = 64240;
	fake_tcp_opts(&s, present, mss, ws, TSVAL, 0);
	return s;
}

/* The cookie, from its definition: the top 24 bits of SipHash-2-4(key, src, dst, sport,
 * dport, ISN, low byte) above the low byte. */
static uint32_t
expect_cookie(const struct sw_sipkey *key, const struct sw_tuple *t, uint32_t isn, uint8_t low)
{
	unsigned int alen = t->v6 ? 16 : 4, n = 0;
	uint8_t msg[48];

	memcpy(msg, t->src, alen);
	n += alen;
	memcpy(msg + n, t->dst, alen);
	n += alen;
	sw_wr16(msg + n, t->sport);
	sw_wr16(msg + n + 2, t->dport);
	sw_wr32(msg + n + 4, isn);
	msg[n + 8] = low;
	n += 9;
	return (uint32_t)(sw_siphash24(key, msg, n) >> 40) << 8 | low;
}

static uint8_t
low_byte(unsigned int key, unsigned int sack, unsigned int ws_idx, unsigned int mss_idx)
{
	return (uint8_t)(key << 7 | sack << 6 | ws_idx << 3 | mss_idx);
}

/* The TSval of a SYN-ACK to syn with the cookie iss, sent at now offering shift ws_code
 * (SW_TS_WS_NONE: none): the clock 4096 ms before in the high bits, in the low 12 the 8
 * other bits of the cookie's MAC and ws_code. */
static uint32_t
synack_tsval(const struct fake_tcp *syn, uint32_t iss, uint64_t now, uint8_t ws_code)
{
	return (((uint32_t)now + FAKE_TS_OFFSET - 4096) & ~0xfffu) |
	       (fake_cookie_tsecr(&syn->t, syn->seq, iss, ws_code) & 0xfffu);
}

/* The SYN-ACK answering syn, sent at now. */
static void
want_synack(struct fake_want *w, const struct fake_tcp *syn, uint32_t iss, uint8_t opts,
	    uint16_t mss, uint8_t ws, uint32_t tsecr, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	sw_tuple_reverse(&w->t, &syn->t);
	w->eth_src = fake_mac_server;
	w->eth_dst = fake_mac_client;
	w->vlan = syn->vlan;
	w->vlan_tci = syn->vlan_tci;
	w->seq = iss;
	w->ack = syn->seq + 1;
	w->flags = SW_TH_SYN | SW_TH_ACK;
	w->win = 0;
	w->opts = opts;
	w->mss = mss;
	w->wscale = ws;
	w->tsval = synack_tsval(syn, iss, now, (opts & SW_OPT_WS) ? ws : SW_TS_WS_NONE);
	w->tsecr = tsecr;
}

/* Parse the SYN in m, plan it as the first pass does and answer it in mode. */
static enum sw_verdict
answer(struct fake_dp *d, struct rte_mbuf *m, enum sw_mode mode, struct sw_syn_plan *plan)
{
	struct sw_pkt pkt;
	uint32_t hash;

	REQUIRE(fake_rx(d, m, &pkt, &hash) == 0);
	fake_syn_plan(d, &pkt, plan);
	/* The first pass's MAC is the cookie's own. */
	CHECK_EQ(plan->iss, sw_cookie_make(&d->cfg->keys, &pkt.t, pkt.seq, &plan->co));
	return sw_syn_answer(d->lc, fake_out(d), m, &pkt, mode, hash, plan);
}

static struct sw_sc_entry *
entry_of(struct fake_dp *d, const struct sw_tuple *t)
{
	return sw_syncache_lookup(&d->lc->sc, t, sw_ctab_hash(&d->lc->ft.tab, t));
}

/* ---- a new SYN, proxy mode ---- */

static void
test_proxy_new_syn(int v6, int vlan)
{
	struct fake_dp d;
	struct fake_tcp syn = client_syn(v6, 1, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_counters want = { 0 };
	struct sw_syn_plan plan;
	struct fake_want w;
	struct sw_sc_entry *e;
	struct rte_mbuf *m;
	uint8_t low = low_byte(0, 1, 5, 6);   /* SACK, shift 7 (index 5), MSS 1460 (index 6) */

	SW_CTX("proxy new SYN v6=%d vlan=%d", v6, vlan);
	fake_dp_init(&d, NULL);
	syn.vlan = vlan;
	syn.vlan_tci = 0x2007;
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);

	CHECK_EQ(plan.iss, expect_cookie(&fake_key0, &syn.t, ISN, low));
	want_synack(&w, &syn, plan.iss, LINUX, 1460, 7, TSVAL, FAKE_T0_MS);
	fake_check_seg(m, &w, NULL);
	CHECK_EQ(rte_pktmbuf_data_len(m), (vlan ? 18 : 14) + (v6 ? 40 : 20) + 20 + 20);

	want.sc_added = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	e = entry_of(&d, &syn.t);
	REQUIRE(e != NULL);
	CHECK_EQ(e->irs, ISN);
	CHECK_EQ(e->iss, plan.iss);
	CHECK_EQ(e->ts_recent, TSVAL);
	CHECK_EQ(e->expire_ms, FAKE_T0_MS + SW_SYNACK_RTO_MS);
	CHECK_EQ(e->rxmits, 0);
	CHECK_EQ(e->flags, SW_SCF_MSS | SW_SCF_SACK | SW_SCF_TS | SW_SCF_WS |
			   (vlan ? SW_SCF_VLAN : 0));
	CHECK_EQ(e->mss, 1460);
	CHECK_EQ(e->wscale, 7);
	CHECK_EQ(e->ws_ours, 7);
	CHECK_EQ(e->mss_offer, 1460);
	CHECK_MEM(e->eth_client, fake_mac_client, 6);
	CHECK_MEM(e->eth_server, fake_mac_server, 6);
	if (vlan)
		CHECK_EQ(e->vlan_tci, 0x2007);

	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1);
	CHECK(fake_last_sent(&d, SW_OUTSIDE) == m);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 0);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- what the SYN-ACK offers, and what the cookie carries, by profile ---- */

struct offer_case {
	const char *name;
	uint8_t syn_opts;               /* the client's */
	uint16_t syn_mss;
	uint8_t syn_ws;
	struct sw_profile port;         /* the port's profile */
	int learned;                    /* a learned profile for the server: mss 1400, ws 9 */
	uint8_t opts;                   /* what the SYN-ACK must offer */
	uint16_t mss;
	uint8_t ws;
	uint8_t low;                    /* the cookie's low byte */
};

#define ALL_PROF (SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS)

static const struct offer_case offer_cases[] = {
	{ "smaller client MSS, shift 9 rounded down to 8 in the cookie",
	  LINUX, 1400, 9, { 1460, 7, ALL_PROF }, 0, LINUX, 1400, 7, 0x40 | 6 << 3 | 3 },
	{ "jumbo client MSS capped by the profile, cookie keeps 8960",
	  SW_OPT_MSS, 9000, 0, { 1460, 7, ALL_PROF }, 0, SW_OPT_MSS, 1460, 0, 7 },
	{ "no options: MSS 536",
	  0, 0, 0, { 1460, 7, ALL_PROF }, 0, SW_OPT_MSS, 536, 0, 0 },
	{ "shift 14 is 10 in the cookie",
	  SW_OPT_MSS | SW_OPT_WS, 1460, 14, { 1460, 7, ALL_PROF }, 0,
	  SW_OPT_MSS | SW_OPT_WS, 1460, 7, 7 << 3 | 6 },
	{ "server without timestamps: none offered, the port's shift",
	  LINUX, 1460, 7, { 1200, 5, SW_PROF_SACK | SW_PROF_WS }, 0,
	  SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS, 1200, 5, 0x40 | 5 << 3 | 6 },
	{ "server with timestamps only: the cookie has no SACK, no shift",
	  LINUX, 1460, 7, { 1460, 7, SW_PROF_TS }, 0, SW_OPT_MSS | SW_OPT_TS, 1460, 0, 6 },
	{ "learned server: its MSS and, with timestamps to carry it, its shift",
	  LINUX, 1460, 7, { 1460, 7, ALL_PROF }, 1, LINUX, 1400, 9, 0x40 | 5 << 3 | 6 },
	{ "learned server, no timestamps: the port's shift",
	  SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS, 1460, 7, { 1460, 6, ALL_PROF }, 1,
	  SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS, 1400, 6, 0x40 | 5 << 3 | 6 },
	{ "learned server, the port's MSS smaller: the port's is the largest offered",
	  LINUX, 1460, 7, { 1300, 7, ALL_PROF }, 1, LINUX, 1300, 9, 0x40 | 5 << 3 | 6 },
};

static void
test_offers(void)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(offer_cases); i++) {
		const struct offer_case *c = &offer_cases[i];
		struct fake_tcp syn = client_syn(0, 2, FAKE_PORT_PROXY, ISN + i, c->syn_opts,
						 c->syn_mss, c->syn_ws);
		struct sw_syn_plan plan;
		struct fake_want w;
		struct fake_dp d;
		struct rte_mbuf *m;
		struct sw_sc_entry *e;

		SW_CTX("offer: %s", c->name);
		fake_dp_init(&d, NULL);
		d.cfg->port_profile[FAKE_PORT_PROXY] = c->port;
		if (c->learned) {
			struct sw_tcpopts sa = { .present = LINUX, .mss = 1400, .wscale = 9 };
			struct sw_profile got;

			sw_learn_synack(d.lc->learn, &syn.t, &c->port, LINUX, &sa,
					(uint32_t)d.lc->now_ms);
			REQUIRE(sw_learn_lookup(d.lc->learn, &syn.t, (uint32_t)d.lc->now_ms, &c->port,
						&got));
		}
		m = fake_tcp_mbuf(&syn);
		CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
		CHECK_EQ(plan.iss & 0xff, c->low);
		CHECK_EQ(plan.iss, expect_cookie(&fake_key0, &syn.t, ISN + i, c->low));
		want_synack(&w, &syn, plan.iss, c->opts, c->mss, c->ws,
			    (c->syn_opts & SW_OPT_TS) ? TSVAL : 0, FAKE_T0_MS);
		fake_check_seg(m, &w, NULL);
		e = entry_of(&d, &syn.t);
		REQUIRE(e != NULL);
		CHECK_EQ(e->mss_offer, c->mss);
		if (c->opts & SW_OPT_WS)
			CHECK_EQ(e->ws_ours, c->ws);
		CHECK_EQ(e->flags & (SW_SCF_SACK | SW_SCF_TS | SW_SCF_WS),
			 ((c->opts & SW_OPT_SACKOK) ? SW_SCF_SACK : 0) |
			 ((c->opts & SW_OPT_TS) ? SW_SCF_TS : 0) |
			 ((c->opts & SW_OPT_WS) ? SW_SCF_WS : 0));
		CHECK_EQ(e->flags & SW_SCF_MSS, (c->syn_opts & SW_OPT_MSS) ? SW_SCF_MSS : 0);
		fake_dp_put(&d, m, SW_V_OUTSIDE);
		CHECK_FAKE_FINI(&d);
	}
	SW_CTX_CLEAR();
}

/* ---- no entry kept: cookie mode, syncookies_only, a paused syncache ---- */

/* A SYN answered by cookie alone: the SYN-ACK as ever, no entry, sendcookie. */
static void
check_cookie_only(struct fake_dp *d, uint32_t client, uint16_t port, enum sw_mode mode,
		  const struct sw_counters *want)
{
	struct fake_tcp syn = client_syn(1, client, port, ISN, LINUX, 1460, 7);
	struct rte_mbuf *m = fake_tcp_mbuf(&syn);
	struct sw_syn_plan plan;
	struct fake_want w;
	uint32_t count = d->lc->sc.tab.count;

	CHECK_EQ(answer(d, m, mode, &plan), SW_V_OUTSIDE);
	CHECK_EQ(plan.iss, expect_cookie(&fake_key0, &syn.t, ISN, low_byte(0, 1, 5, 6)));
	want_synack(&w, &syn, plan.iss, LINUX, 1460, 7, TSVAL, d->lc->now_ms);
	fake_check_seg(m, &w, NULL);
	CHECK(entry_of(d, &syn.t) == NULL);
	CHECK_EQ(d->lc->sc.tab.count, count);
	fake_check_counters(d->lc, want);
	fake_dp_put(d, m, SW_V_OUTSIDE);
}

static void
test_no_entry(void)
{
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_syn_plan plan;
	struct fake_tcp syn;
	struct rte_mbuf *m;

	SW_CTX("cookie mode");
	fake_dp_init(&d, NULL);
	want.sc_sendcookie = 1;
	check_cookie_only(&d, 1, FAKE_PORT_COOKIE, SW_MODE_COOKIE, &want);
	CHECK_FAKE_FINI(&d);

	SW_CTX("syncookies_only");
	fake_dp_init(&d, NULL);
	d.cfg->lim.syncookies_only = 1;
	check_cookie_only(&d, 1, FAKE_PORT_PROXY, SW_MODE_PROXY, &want);
	CHECK_FAKE_FINI(&d);

	SW_CTX("paused");
	fake_dp_init(&d, NULL);
	REQUIRE(sw_syncache_pause(&d.lc->sc, FAKE_T0_MS));
	fake_dp_time(&d, FAKE_T0_MS + SW_SC_PAUSE_MS - 1);
	check_cookie_only(&d, 1, FAKE_PORT_PROXY, SW_MODE_PROXY, &want);
	/* the pause is over: entries again */
	fake_dp_time(&d, FAKE_T0_MS + SW_SC_PAUSE_MS);
	syn = client_syn(0, 2, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	CHECK(entry_of(&d, &syn.t) != NULL);
	CHECK_EQ(d.lc->sc.paused, 0);
	want.sc_added = 1;
	fake_check_counters(d.lc, &want);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_FAKE_FINI(&d);

	/* Cookies switched off during a pause: the entry is the only way left to answer. */
	SW_CTX("paused, syncookies off");
	fake_dp_init(&d, NULL);
	REQUIRE(sw_syncache_pause(&d.lc->sc, FAKE_T0_MS));
	d.cfg->lim.syncookies = 0;
	syn = client_syn(0, 3, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	CHECK(entry_of(&d, &syn.t) != NULL);
	memset(&want, 0, sizeof(want));
	want.sc_added = 1;
	fake_check_counters(d.lc, &want);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- the same SYN again; another ISN on the same 4-tuple ---- */

static void
test_dupsyn(void)
{
	struct fake_tcp syn = client_syn(0, 4, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_counters want = { 0 };
	struct sw_syn_plan plan, plan2;
	struct fake_want w;
	struct fake_dp d;
	struct sw_sc_entry *e;
	struct rte_mbuf *m;
	uint32_t iss;

	fake_dp_init(&d, NULL);
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	e = entry_of(&d, &syn.t);
	REQUIRE(e != NULL);
	iss = e->iss;
	e->rxmits = 2;
	e->expire_ms = 5;

	/* Later, under the next epoch's key (the cookie the plan makes is another one now),
	 * the client's retransmitted SYN, with a newer TSval: the same ISS, the entry's. */
	fake_dp_time(&d, FAKE_T0_MS + 2500);
	d.cfg->keys.epoch = 1;
	fake_tcp_opts(&syn, LINUX, 1460, 7, TSVAL + 2500, 0);
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan2), SW_V_OUTSIDE);
	REQUIRE(plan2.iss != iss);
	want_synack(&w, &syn, iss, LINUX, 1460, 7, TSVAL + 2500, FAKE_T0_MS + 2500);
	fake_check_seg(m, &w, NULL);
	want.sc_added = 1;
	want.sc_dupsyn = 1;
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &syn.t) == e);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	CHECK_EQ(e->iss, iss);
	CHECK_EQ(e->rxmits, 0);
	CHECK_EQ(e->expire_ms, FAKE_T0_MS + 2500 + SW_SYNACK_RTO_MS);
	CHECK_EQ(e->ts_recent, TSVAL + 2500);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_FAKE_FINI(&d);
}

static void
test_other_isn(void)
{
	struct fake_tcp syn = client_syn(0, 5, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_counters want = { 0 };
	struct sw_syn_plan plan, plan2;
	struct fake_want w;
	struct fake_dp d;
	struct sw_sc_entry *e;
	struct rte_mbuf *m;

	fake_dp_init(&d, NULL);
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	fake_dp_put(&d, m, SW_V_OUTSIDE);

	/* A SYN with another ISN: answered by its own cookie; the pending entry stays as it
	 * was (a spoofed SYN cannot take the handshake over). */
	syn.seq = ISN + 1000;
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan2), SW_V_OUTSIDE);
	CHECK_EQ(plan2.iss, expect_cookie(&fake_key0, &syn.t, ISN + 1000, low_byte(0, 1, 5, 6)));
	want_synack(&w, &syn, plan2.iss, LINUX, 1460, 7, TSVAL, FAKE_T0_MS);
	fake_check_seg(m, &w, NULL);
	want.sc_added = 1;
	want.sc_sendcookie = 1;
	fake_check_counters(d.lc, &want);
	e = entry_of(&d, &syn.t);
	REQUIRE(e != NULL);
	CHECK_EQ(e->irs, ISN);
	CHECK_EQ(e->iss, plan.iss);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_FAKE_FINI(&d);
}

/* ---- overflows ---- */

static void
syn_from(struct fake_dp *d, uint32_t client)
{
	struct fake_tcp syn = client_syn(0, client, FAKE_PORT_PROXY, ISN + client, LINUX,
					 1460, 7);
	struct rte_mbuf *m = fake_tcp_mbuf(&syn);
	struct sw_syn_plan plan;

	CHECK_EQ(answer(d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	CHECK_EQ(fake_parse(m, &(struct sw_pkt){ 0 }), 0);
	fake_dp_put(d, m, SW_V_OUTSIDE);
}

static bool
has_entry(struct fake_dp *d, uint32_t client)
{
	struct sw_tuple t;

	fake_tuple(&t, 0, client, (uint16_t)(40000 + client), FAKE_PORT_PROXY);
	return entry_of(d, &t) != NULL;
}

static void
test_bucket_overflow(int syncookies)
{
	struct fake_dp_params p = { .hashsize = 1, .bucketlimit = 3 };
	struct sw_counters want = { 0 };
	struct fake_dp d;
	uint32_t i;

	SW_CTX("bucket overflow, syncookies=%d", syncookies);
	fake_dp_init(&d, &p);
	d.cfg->lim.syncookies = (uint32_t)syncookies;
	for (i = 1; i <= 3; i++)
		syn_from(&d, i);
	want.sc_added = 3;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(fake_last_log(&d)[0], '\0');

	/* The fourth: the bucket's oldest goes, the new one is kept, and (with cookies to
	 * fall back on) the syncache pauses. */
	syn_from(&d, 4);
	want.sc_added = 4;
	want.sc_bucketoverflow = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 3);
	CHECK(!has_entry(&d, 1));
	CHECK(has_entry(&d, 2) && has_entry(&d, 3) && has_entry(&d, 4));
	CHECK_EQ(d.lc->sc.paused, syncookies);
	if (syncookies) {
		CHECK_EQ(d.lc->sc.pause_until_ms, FAKE_T0_MS + SW_SC_PAUSE_MS);
		CHECK(strcmp(fake_last_log(&d), "syncache bucket overflow: pausing the "
			     "syncache, answering with SYN cookies only for 16 s") == 0);
	} else {
		CHECK_EQ(fake_last_log(&d)[0], '\0');
	}

	/* The fifth: paused, a cookie alone; without cookies another eviction. */
	syn_from(&d, 5);
	if (syncookies) {
		want.sc_sendcookie = 1;
		CHECK(!has_entry(&d, 5));
		CHECK(has_entry(&d, 2));
	} else {
		want.sc_added = 5;
		want.sc_bucketoverflow = 2;
		CHECK(has_entry(&d, 5));
		CHECK(!has_entry(&d, 2));
	}
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 3);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_cache_overflow(void)
{
	struct fake_dp_params p = { .hashsize = 64, .bucketlimit = 8, .cachelimit = 3 };
	struct sw_counters want = { 0 };
	struct fake_dp d;
	uint32_t i;

	fake_dp_init(&d, &p);
	for (i = 1; i <= 4; i++)
		syn_from(&d, i);
	want.sc_added = 4;
	want.sc_cacheoverflow = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 3);
	CHECK(!has_entry(&d, 1));
	CHECK(has_entry(&d, 4));
	CHECK_EQ(d.lc->sc.paused, 0);           /* only a bucket overflow pauses */
	CHECK_FAKE_FINI(&d);
}

/* ---- checksum offload: the NIC finishes the sums ---- */

static void
test_tx_offload(int v6)
{
	struct fake_tcp syn = client_syn(v6, 6, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_syn_plan plan;
	struct fake_dp d;
	struct sw_pkt pkt;
	struct rte_mbuf *m;
	const uint8_t *data, *ip;
	uint32_t len, sum = 0;
	unsigned int i, alen = v6 ? 16 : 4;

	SW_CTX("tx offload v6=%d", v6);
	fake_dp_init(&d, NULL);
	d.out.sink.tx_csum[SW_OUTSIDE] = true;
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	data = fake_data(m);
	len = rte_pktmbuf_data_len(m);
	REQUIRE(sw_parse_l3(data, len, &pkt) == SW_L3_TCP);
	REQUIRE(sw_parse_tcp(data, len, &pkt) == 0);
	CHECK_EQ(pkt.seq, plan.iss);
	CHECK_EQ(m->l2_len, 14);
	CHECK_EQ(m->l3_len, v6 ? 40 : 20);
	CHECK_EQ(m->ol_flags, v6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM)
				 : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				    RTE_MBUF_F_TX_TCP_CKSUM));
	ip = data + 14;
	if (!v6)
		CHECK_EQ(sw_rd16(ip + 10), 0);
	/* the TCP checksum field: the pseudo-header's sum, not complemented */
	for (i = 0; i < alen; i += 2)
		sum += sw_rd16(pkt.t.src + i) + sw_rd16(pkt.t.dst + i);
	sum += 6 + pkt.l4_len;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ(sw_rd16(ip + pkt.l3_len + 16), sum);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- the SYN-ACK timer ---- */

/* A SYN answered with an entry; returns the entry. */
static struct sw_sc_entry *
pending(struct fake_dp *d, struct fake_tcp *syn)
{
	struct rte_mbuf *m = fake_tcp_mbuf(syn);
	struct sw_syn_plan plan;
	struct sw_sc_entry *e;

	CHECK_EQ(answer(d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	fake_dp_put(d, m, SW_V_OUTSIDE);
	e = entry_of(d, &syn->t);
	REQUIRE(e != NULL);
	return e;
}

/* The whole table swept at now (a sweep far behind visits every bucket). */
static void
sweep_at(struct fake_dp *d, uint64_t now)
{
	fake_dp_time(d, now);
	d->lc->sc.sweep.last_ms = 0;
	sw_syncache_sweep(&d->lc->sc, now, SW_SWEEP_PERIOD_MS, sw_synack_timer, &d->io);
	fake_dp_round(d);
}

static void
test_synack_timer(int v6, int vlan)
{
	struct fake_tcp syn = client_syn(v6, 7, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_counters want = { 0 };
	struct fake_want w;
	struct fake_dp d;
	struct sw_sc_entry *e;
	uint64_t due;
	unsigned int n;

	SW_CTX("SYN-ACK timer v6=%d vlan=%d", v6, vlan);
	fake_dp_init(&d, NULL);
	syn.vlan = vlan;
	syn.vlan_tci = 0x0abc;
	e = pending(&d, &syn);
	want.sc_added = 1;
	due = FAKE_T0_MS + SW_SYNACK_RTO_MS;
	CHECK_EQ(e->expire_ms, due);

	for (n = 1; n <= 3; n++) {
		/* not yet: nothing */
		sweep_at(&d, due - 1);
		CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), n);
		CHECK_EQ(e->rxmits, n - 1);
		/* due: the SYN-ACK again, the next one twice as late */
		sweep_at(&d, due);
		want.sc_retransmitted = n;
		fake_check_counters(d.lc, &want);
		REQUIRE(fake_nsent(&d, SW_OUTSIDE) == n + 1);
		CHECK_EQ(e->rxmits, n);
		CHECK_EQ(e->expire_ms, due + (SW_SYNACK_RTO_MS << n));
		want_synack(&w, &syn, e->iss, LINUX, 1460, 7, TSVAL, due);
		fake_check_seg(fake_last_sent(&d, SW_OUTSIDE), &w, NULL);
		due += SW_SYNACK_RTO_MS << n;
	}
	/* rexmtlimit (3) reached: the entry goes, nothing is sent, no mbuf taken */
	n = d.out.allocs;
	sweep_at(&d, due);
	want.sc_stale = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 0);
	CHECK(entry_of(&d, &syn.t) == NULL);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 4);
	CHECK_EQ(d.out.allocs, n);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

static void
test_synack_timer_edges(void)
{
	struct fake_tcp syn = client_syn(0, 8, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	struct sw_counters want = { 0 };
	struct fake_dp d;
	struct sw_sc_entry *e;
	unsigned int n;

	/* rexmtlimit 0: the first timeout ends the entry */
	fake_dp_init(&d, NULL);
	d.cfg->lim.rexmtlimit = 0;
	e = pending(&d, &syn);
	CHECK_EQ(sw_synack_timer(e, &d.io), SW_SC_DROP);
	want.sc_added = 1;
	want.sc_stale = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.out.allocs, 0);
	CHECK_FAKE_FINI(&d);

	/* the backoff stops doubling after 6 */
	fake_dp_init(&d, NULL);
	d.cfg->lim.rexmtlimit = 10;
	e = pending(&d, &syn);
	for (n = 0; n < 9; n++) {
		SW_CTX("rxmits %u", n);
		e->rxmits = (uint8_t)n;
		CHECK_EQ(sw_synack_timer(e, &d.io), SW_SC_KEEP);
		CHECK_EQ(e->rxmits, n + 1);
		CHECK_EQ(e->expire_ms, FAKE_T0_MS + (SW_SYNACK_RTO_MS << (n + 1 < 6 ? n + 1 : 6)));
	}
	SW_CTX_CLEAR();
	fake_dp_round(&d);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1 + 9);

	/* no mbuf: counted, kept, the retransmit counts as tried (the next one later) */
	memset(&want, 0, sizeof(want));
	want.sc_added = 1;
	want.sc_retransmitted = 9;
	want.port_nombuf = 1;
	e->rxmits = 1;
	d.out.fail_allocs = 1;
	CHECK_EQ(sw_synack_timer(e, &d.io), SW_SC_KEEP);
	fake_check_counters(d.lc, &want);
	CHECK_EQ(e->rxmits, 2);
	CHECK_EQ(e->expire_ms, FAKE_T0_MS + (SW_SYNACK_RTO_MS << 2));
	fake_dp_round(&d);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 1 + 9);
	CHECK_EQ(d.out.fail_allocs, 0);
	CHECK_FAKE_FINI(&d);
}

/*
 * The source table on (srctab.h): a source over its SYN rate gets nothing (no entry), one
 * over the cap of SYN-ACKs towards it neither; a retransmit due when the cap is spent is not
 * sent, but counts as tried and the entry stays to complete.
 */
static void
test_source_limits(void)
{
	static uint8_t stmem[8 * 64 + 64 * 64] __rte_cache_aligned;
	const struct sw_sipkey stkey = { 1, 2 };
	struct sw_counters want = { 0 };
	struct fake_tcp syn;
	struct rte_mbuf *m;
	struct sw_syn_plan plan;
	struct fake_dp d;
	struct sw_sc_entry *e;
	unsigned int i;

	fake_dp_init(&d, NULL);
	memset(stmem, 0, sizeof(stmem));
	REQUIRE(sw_srct_memsize(64) == sizeof(stmem));
	REQUIRE(sw_srct_init(&d.lc->st, stmem, 64, &stkey, 32, 64) == 0);
	/* 3 SYNs a second at most, 3 at once: the fourth of a burst is dropped */
	d.cfg->lim.syn_rate = 3;
	d.cfg->version++;
	for (i = 0; i < 4; i++) {
		syn = client_syn(0, 9, FAKE_PORT_PROXY, ISN + i, LINUX, 1460, 7);
		syn.t.sport = (uint16_t)(40000 + i);
		m = fake_tcp_mbuf(&syn);
		CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), i < 3 ? SW_V_OUTSIDE : SW_V_DROP);
		fake_dp_put(&d, m, i < 3 ? SW_V_OUTSIDE : SW_V_DROP);
	}
	want.sc_added = 3;
	want.src_syn_limited = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 3);
	CHECK_FAKE_FINI(&d);

	/* a SYN-ACK a second towards the source, one at once */
	fake_dp_init(&d, NULL);
	memset(stmem, 0, sizeof(stmem));
	REQUIRE(sw_srct_init(&d.lc->st, stmem, 64, &stkey, 32, 64) == 0);
	d.cfg->lim.reflect_rate = 1;
	d.cfg->version++;
	memset(&want, 0, sizeof(want));
	syn = client_syn(0, 10, FAKE_PORT_PROXY, ISN, LINUX, 1460, 7);
	e = pending(&d, &syn);
	want.sc_added = 1;
	/* a second SYN of the source at once: capped, dropped, no entry */
	syn.t.sport++;
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);
	want.src_reflect_capped = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	/* a second on, another SYN takes this second's SYN-ACK: the retransmit due now is not
	 * sent, it counts as tried, the entry stays */
	fake_dp_time(&d, FAKE_T0_MS + SW_SYNACK_RTO_MS);
	syn.t.sport++;
	m = fake_tcp_mbuf(&syn);
	CHECK_EQ(answer(&d, m, SW_MODE_PROXY, &plan), SW_V_OUTSIDE);
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	want.sc_added = 2;
	i = d.out.allocs;
	CHECK_EQ(sw_synack_timer(e, &d.io), SW_SC_KEEP);
	want.src_reflect_capped = 2;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(e->rxmits, 1);
	CHECK_EQ(d.out.allocs, i);
	/* the next one, two seconds later, goes */
	fake_dp_time(&d, FAKE_T0_MS + 3 * SW_SYNACK_RTO_MS);
	CHECK_EQ(sw_synack_timer(e, &d.io), SW_SC_KEEP);
	want.sc_retransmitted = 1;
	fake_check_counters(d.lc, &want);
	fake_dp_round(&d);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 3);
	CHECK_FAKE_FINI(&d);
}

int
main(void)
{
	int v6, vlan;

	for (v6 = 0; v6 < 2; v6++)
		for (vlan = 0; vlan < 2; vlan++) {
			test_proxy_new_syn(v6, vlan);
			test_synack_timer(v6, vlan);
		}
	test_offers();
	test_no_entry();
	test_dupsyn();
	test_other_isn();
	test_bucket_overflow(1);
	test_bucket_overflow(0);
	test_cache_overflow();
	test_tx_offload(0);
	test_tx_offload(1);
	test_synack_timer_edges();
	test_source_limits();
	return sw_test_done();
}
