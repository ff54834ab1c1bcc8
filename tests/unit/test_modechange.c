/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connections surviving a change of their port's mode, driven through the pipeline's
 * bursts (sw_outside_burst, sw_inside_burst) with the fake sink:
 *
 *  - sw_cfg_mode_change: which changes keep a port's flows looked up (SW_PORTF_FLOWS) and
 *    which open an adoption window, every port of the configuration compared;
 *    sw_cfg_adopting at the window's last millisecond and its end;
 *  - a port that became protected adopts, from the inside, the connections the server shows
 *    (an ACK, never a SYN-ACK or an RST) and passes their segments both ways untouched;
 *    once its window has closed, a server segment of no flow is dropped (it would leave
 *    with the server's own numbers); a full table adopts nothing, an eviction resets;
 *  - from the outside, it passes the client segments that match no flow, no entry and no
 *    cookie while its window lasts, and only then: a valid cookie still opens a handshake,
 *    a pending handshake's wrong ACK is still refused;
 *  - a port gone from proxy to pass keeps translating the flows it spliced (byte for byte
 *    what proxy mode makes of the same segments) and bridges everything else, malformed
 *    TCP included; without SW_PORTF_FLOWS a pass port's flows are ignored;
 *  - an adopted flow closes (FINs, RST, RFC 5961's blind RST) and times out like any other,
 *    the idle one reset on both sides with the numbers each expects.
 *
 * "Untouched" is the frame byte for byte as it came in; the segments are made with TCP
 * timestamps so that a translation applied by mistake shows (an adopted flow negotiated
 * nothing: the option would be NOPed out).
 */
#include <stdio.h>

#include "fake_check.h"
#include "pipeline.h"
#include "splice.h"
#include "sw_const.h"

#define ISN      0x61a80000u    /* the clients' (plus the client's number) */
#define TSVAL    0x00a0b000u
#define SRV_ISN  0x9e370000u
#define SRV_TS   0x00b0c000u
#define LINUX    (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)
#define MAXPKT   256

/* The fixture's clock, in whole seconds: where a window opened at FAKE_T0_MS ends. */
#define T0_S     (FAKE_T0_MS / 1000)
#define UNTIL_MS ((uint64_t)(T0_S + SW_ADOPT_WINDOW_DEFAULT_S) * 1000)

struct frame {
	uint8_t b[MAXPKT];
	uint32_t len;
};

/* ---- segments ---- */

static void
tuple_of(struct sw_tuple *t, int v6, uint32_t client, uint16_t port)
{
	fake_tuple(t, v6, client, (uint16_t)(30000 + client), port);
}

/* From client `client` to port. */
static struct fake_tcp
cseg(int v6, uint32_t client, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack,
     uint16_t paylen)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	tuple_of(&s.t, v6, client, port);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 1000;
	s.paylen = paylen;
	return s;
}

/* From the server's port to client `client`. */
static struct fake_tcp
sseg(int v6, uint32_t client, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack,
     uint16_t paylen)
{
	struct fake_tcp s = cseg(v6, client, port, flags, seq, ack, paylen);
	struct sw_tuple r;

	sw_tuple_reverse(&r, &s.t);
	s.t = r;
	s.from_server = true;
	s.win = 2000;
	return s;
}

static void
with_ts(struct fake_tcp *s, uint32_t tsval, uint32_t tsecr)
{
	fake_tcp_opts(s, SW_OPT_TS, 0, 0, tsval, tsecr);
}

/* The cookie our SYN-ACK gives a SYN with these options (fake_dp's key, epoch 0). */
static uint32_t
cookie_for(const struct sw_tuple *t, uint32_t isn, uint8_t present, uint16_t mss, uint8_t ws)
{
	struct sw_tcpopts o = { .present = present, .mss = mss, .wscale = ws };
	struct sw_keyset ks = { .key = { fake_key0, fake_key1 }, .epoch = 0 };
	struct sw_cookie_opts co;

	sw_cookie_opts_from_syn(&o, &co);
	return sw_cookie_make(&ks, t, isn, &co);
}

/* ---- bursts ---- */

/* f through a burst of its own from side `from` (SW_OUTSIDE: the clients'), and the round's
 * end: the mbuf, now the sink's. */
static struct rte_mbuf *
burst_frame(struct fake_dp *d, enum sw_side from, const struct frame *f)
{
	struct rte_mbuf *m = fake_mbuf(f->b, f->len);

	if (from == SW_OUTSIDE)
		sw_outside_burst(d->lc, fake_out(d), &m, 1);
	else
		sw_inside_burst(d->lc, fake_out(d), &m, 1);
	fake_dp_round(d);
	return m;
}

/* The same for segment s, its frame kept in f. */
static struct rte_mbuf *
burst(struct fake_dp *d, enum sw_side from, const struct fake_tcp *s, struct frame *f)
{
	f->len = fake_tcp_frame(f->b, s);
	return burst_frame(d, from, f);
}

/* m went where fate says (SW_V_*), exactly as it came in (f). */
#define CHECK_UNTOUCHED(d, m, f, fate) do {                                     \
	CHECK_EQ(fake_fate((d), (m)), (fate));                                  \
	CHECK_EQ(rte_pktmbuf_data_len(m), (f)->len);                            \
	CHECK_MEM(fake_data(m), (f)->b, (f)->len);                              \
} while (0)

static struct sw_flow *
flow_of(const struct fake_dp *d, int v6, uint32_t client, uint16_t port)
{
	struct sw_tuple t;

	tuple_of(&t, v6, client, port);
	return sw_flowtab_lookup(&d->lc->ft, &t, sw_ctab_hash(&d->lc->ft.tab, &t));
}

/* The whole flow table through the timers, as the worker's sweep does it. */
static uint32_t
sweep_all(struct fake_dp *d)
{
	uint32_t n;

	d->lc->ft.sweep.last_ms = 0;
	n = sw_flowtab_sweep(&d->lc->ft, d->lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer,
			     &d->io);
	fake_dp_round(d);
	return n;
}

/* m is the RST synwall ends client c's flow on port with, to the server (to_server) or to
 * the client, with exactly these numbers. */
static void
check_reset(const struct rte_mbuf *m, uint32_t c, uint16_t port, bool to_server, uint32_t seq,
	    uint32_t ack)
{
	struct fake_want w;
	struct sw_tuple t;

	memset(&w, 0, sizeof(w));
	tuple_of(&t, 0, c, port);
	if (to_server) {
		w.t = t;
		w.eth_src = fake_mac_client;
		w.eth_dst = fake_mac_server;
	} else {
		sw_tuple_reverse(&w.t, &t);
		w.eth_src = fake_mac_server;
		w.eth_dst = fake_mac_client;
	}
	w.seq = seq;
	w.ack = ack;
	w.flags = SW_TH_RST | SW_TH_ACK;
	w.win = 0;
	fake_check_seg(m, &w, NULL);
}

/* ---- mode changes, as the control thread publishes them ---- */

/* Port went from mode `was` to the one the fixture has now, at the fixture's clock. */
static void
went_protected(struct fake_dp *d, uint16_t port, enum sw_mode was)
{
	struct sw_config *old = sw_cfg_clone(d->cfg);

	REQUIRE(old != NULL);
	old->port_mode[port] = (uint8_t)was;
	sw_cfg_mode_change(old, d->cfg, d->lc->now_ms);
	free(old);
}

/* Port goes to `pass` now. */
static void
went_pass(struct fake_dp *d, uint16_t port)
{
	struct sw_config *old = sw_cfg_clone(d->cfg);

	REQUIRE(old != NULL);
	d->cfg->port_mode[port] = SW_MODE_PASS;
	sw_cfg_mode_change(old, d->cfg, d->lc->now_ms);
	free(old);
}

/* ---- 1. sw_cfg_mode_change ---- */

struct change {
	uint16_t port;
	uint8_t from, to;
};

/* old's modes as `from`, a clone's as `to`, the change applied at now_ms: the clone must
 * be what it was but for exactly the flags and windows expected. */
static struct sw_config *
apply_changes(const struct sw_config *old, const struct change *c, unsigned int n,
	      uint32_t window_s, uint64_t now_ms, const uint16_t *flows, unsigned int nflows,
	      const uint16_t *adopt, unsigned int nadopt)
{
	struct sw_config *o = sw_cfg_clone(old), *nc, *want;
	unsigned int i;
	uint32_t p;

	REQUIRE(o != NULL);
	for (i = 0; i < n; i++)
		o->port_mode[c[i].port] = c[i].from;
	nc = sw_cfg_clone(o);
	REQUIRE(nc != NULL);
	nc->adopt_window_s = window_s;
	for (i = 0; i < n; i++)
		nc->port_mode[c[i].port] = c[i].to;
	want = sw_cfg_clone(nc);
	REQUIRE(want != NULL);
	for (i = 0; i < nflows; i++)
		want->port_flags[flows[i]] |= SW_PORTF_FLOWS;
	for (i = 0; i < nadopt; i++)
		want->port_adopt_until_s[adopt[i]] = (uint32_t)((now_ms + 999) / 1000) + window_s;

	sw_cfg_mode_change(o, nc, now_ms);
	for (p = 0; p < 65536; p++) {
		SW_CTX("port %u", p);
		CHECK_EQ(nc->port_mode[p], want->port_mode[p]);
		CHECK_EQ(nc->port_flags[p], want->port_flags[p]);
		CHECK_EQ(nc->port_adopt_until_s[p], want->port_adopt_until_s[p]);
	}
	SW_CTX_CLEAR();
	/* and nothing else */
	CHECK(memcmp(nc, want, sizeof(*nc)) == 0);
	free(want);
	free(o);
	return nc;
}

static void
test_mode_change(void)
{
	/* every kind of change, each on a port of its own; 1 and 65535 are the edges */
	static const struct change first[] = {
		{ 80, SW_MODE_PROXY, SW_MODE_PASS },
		{ 8080, SW_MODE_COOKIE, SW_MODE_PASS },
		{ 81, SW_MODE_PASS, SW_MODE_PROXY },
		{ 8081, SW_MODE_PASS, SW_MODE_COOKIE },
		{ 23, SW_MODE_DROP, SW_MODE_PROXY },
		{ 24, SW_MODE_DROP, SW_MODE_COOKIE },
		{ 82, SW_MODE_PROXY, SW_MODE_COOKIE },
		{ 8082, SW_MODE_COOKIE, SW_MODE_PROXY },
		{ 83, SW_MODE_PROXY, SW_MODE_PROXY },
		{ 84, SW_MODE_PROXY, SW_MODE_DROP },
		{ 85, SW_MODE_COOKIE, SW_MODE_DROP },
		{ 25, SW_MODE_DROP, SW_MODE_PASS },
		{ 26, SW_MODE_PASS, SW_MODE_DROP },
		{ 1, SW_MODE_PROXY, SW_MODE_PASS },
		{ 65535, SW_MODE_PASS, SW_MODE_COOKIE },
	};
	/* leaving protection for drop flags the port too: it may go on to pass */
	static const uint16_t first_flows[] = { 80, 8080, 1, 84, 85 };
	static const uint16_t first_adopt[] = { 81, 8081, 23, 24, 65535 };
	/* later: 80 back to proxy (a window; its flag stays), 8080 still pass (its flag stays),
	 * 81 proxy to pass (now flagged), 84 drop to pass (flagged when it left proxy: its
	 * flows are translated again) */
	static const struct change second[] = {
		{ 80, SW_MODE_PASS, SW_MODE_PROXY },
		{ 81, SW_MODE_PROXY, SW_MODE_PASS },
		{ 84, SW_MODE_DROP, SW_MODE_PASS },
	};
	static const uint16_t second_flows[] = { 81 };
	static const uint16_t second_adopt[] = { 80 };
	static const struct change third[] = {
		{ 80, SW_MODE_PROXY, SW_MODE_PASS },
		{ 8081, SW_MODE_COOKIE, SW_MODE_PROXY },
	};
	const uint64_t now = 4321987, later = 4399001;
	struct sw_config *base = sw_cfg_new_default(), *n1, *n2, *n3, *n0;
	const uint32_t until = 4322 + 30;       /* now rounded up to the second */
	unsigned int i;

	REQUIRE(base != NULL);
	n1 = apply_changes(base, first, RTE_DIM(first), 30, now, first_flows,
			   RTE_DIM(first_flows), first_adopt, RTE_DIM(first_adopt));
	CHECK_EQ(n1->port_flags[80], SW_PORTF_FLOWS);
	CHECK_EQ(n1->port_adopt_until_s[81], until);
	CHECK_EQ(n1->port_adopt_until_s[82], 0);
	CHECK_EQ(n1->port_adopt_until_s[8082], 0);
	CHECK_EQ(n1->port_flags[82], 0);

	/* The next change starts from the published configuration (a clone, as ctlproto's):
	 * what the first set stays unless the second sets it again. */
	n2 = apply_changes(n1, second, RTE_DIM(second), 30, later, second_flows,
			   RTE_DIM(second_flows), second_adopt, RTE_DIM(second_adopt));
	CHECK_EQ(n2->port_flags[80], SW_PORTF_FLOWS);
	CHECK_EQ(n2->port_adopt_until_s[80], 4400 + 30);
	CHECK_EQ(n2->port_flags[8080], SW_PORTF_FLOWS);
	CHECK_EQ(n2->port_flags[81], SW_PORTF_FLOWS);
	CHECK_EQ(n2->port_adopt_until_s[81], until);     /* an old window, over by now */
	CHECK_EQ(n2->port_flags[84], SW_PORTF_FLOWS);
	n3 = apply_changes(n2, third, RTE_DIM(third), 30, later + 5000, NULL, 0, NULL, 0);
	CHECK_EQ(n3->port_flags[80], SW_PORTF_FLOWS);
	CHECK_EQ(n3->port_adopt_until_s[80], 4400 + 30);
	CHECK_EQ(n3->port_adopt_until_s[8081], until);

	/* no window configured: no port adopts; flows are still kept */
	n0 = apply_changes(base, first, RTE_DIM(first), 0, now, first_flows,
			   RTE_DIM(first_flows), NULL, 0);
	for (i = 0; i < RTE_DIM(first_adopt); i++)
		CHECK_EQ(n0->port_adopt_until_s[first_adopt[i]], 0);
	CHECK(!sw_cfg_adopting(n0, 81, now));

	/* the window's edges: its last millisecond adopts, its end does not */
	CHECK(sw_cfg_adopting(n1, 81, now));
	CHECK(sw_cfg_adopting(n1, 81, (uint64_t)until * 1000 - 1));
	CHECK(!sw_cfg_adopting(n1, 81, (uint64_t)until * 1000));
	CHECK(!sw_cfg_adopting(n1, 81, (uint64_t)until * 1000 + 1));
	CHECK(!sw_cfg_adopting(n1, 80, now));
	CHECK(!sw_cfg_adopting(n1, 80, 0));
	CHECK(!sw_cfg_adopting(n1, 82, now));

	/* which ports are looked up */
	CHECK(sw_cfg_has_flows(n1, 81));                /* proxy */
	CHECK(sw_cfg_has_flows(n1, 82));                /* cookie */
	CHECK(sw_cfg_has_flows(n1, 80));                /* pass, flagged */
	CHECK(!sw_cfg_has_flows(n1, 26));               /* drop */
	CHECK(!sw_cfg_has_flows(n1, 25));               /* pass */
	CHECK(!sw_cfg_has_flows(n1, 22));
	n1->port_flags[26] = SW_PORTF_FLOWS;
	CHECK(!sw_cfg_has_flows(n1, 26));               /* a drop port never is */
	CHECK(!sw_mode_protected(SW_MODE_PASS));
	CHECK(sw_mode_protected(SW_MODE_PROXY));
	CHECK(sw_mode_protected(SW_MODE_COOKIE));
	CHECK(!sw_mode_protected(SW_MODE_DROP));
	free(n0);
	free(n3);
	free(n2);
	free(n1);
	free(base);
}

/* ---- 2. adoption from the inside ---- */

static void
test_adopt_inside(int v6, int vlan, uint16_t port)
{
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct frame f;
	uint64_t now = FAKE_T0_MS + 1234;

	SW_CTX("adopt from inside v6=%d vlan=%d port=%u", v6, vlan, port);
	fake_dp_init(&d, NULL);
	went_protected(&d, port, SW_MODE_PASS);
	REQUIRE(d.cfg->port_adopt_until_s[port] == T0_S + SW_ADOPT_WINDOW_DEFAULT_S);
	want = d.lc->cnt;
	fake_dp_time(&d, now);

	/* the server's data on a connection opened while the port passed: it proves one */
	s = sseg(v6, 1, port, SW_TH_ACK | SW_TH_PSH, SRV_ISN + 100, ISN + 200, 40);
	s.vlan = vlan;
	s.vlan_tci = 0x0456;
	with_ts(&s, SRV_TS, TSVAL);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	want.proxy_adopted++;
	want.proxy_to_client++;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 1);
	fl = flow_of(&d, v6, 1, port);
	REQUIRE(fl != NULL);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_ESTABLISHED);
	CHECK_EQ(sw_flow_flags(fl), SW_FLF_ADOPTED | (vlan ? SW_FLF_VLAN : 0));
	CHECK_EQ(fl->srv_ack, ISN + 200);
	CHECK_EQ(fl->srv_nxt, SRV_ISN + 140);   /* what the server has sent */
	CHECK_EQ(fl->seq_delta, 0);
	CHECK_EQ(fl->ts_delta, 0);
	CHECK_EQ(fl->fin, 0);
	CHECK_EQ(fl->last_ms, now);
	CHECK_MEM(fl->eth_client, fake_mac_client, 6);
	CHECK_MEM(fl->eth_server, fake_mac_server, 6);
	if (vlan)
		CHECK_EQ(fl->vlan_tci, 0x0456);

	/* the client's next segment is the flow's: passed as it is, no cookie looked at */
	fake_dp_time(&d, now + 10);
	s = cseg(v6, 1, port, SW_TH_ACK | SW_TH_PSH, ISN + 200, SRV_ISN + 140, 30);
	s.vlan = vlan;
	s.vlan_tci = 0x0456;
	with_ts(&s, TSVAL + 1, SRV_TS);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.proxy_to_server++;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, v6, 1, port) == fl);
	CHECK_EQ(fl->last_ms, now + 10);
	CHECK_EQ(fl->srv_ack, ISN + 200);

	/* after the window: still the flow's, both ways */
	fake_dp_time(&d, UNTIL_MS + 5);
	s = cseg(v6, 1, port, SW_TH_ACK, ISN + 230, SRV_ISN + 140, 0);
	s.vlan = vlan;
	s.vlan_tci = 0x0456;
	with_ts(&s, TSVAL + 2, SRV_TS);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.proxy_to_server++;
	fake_check_counters(d.lc, &want);
	/* the server's ack moves the RST yardstick forward, never back */
	s = sseg(v6, 1, port, SW_TH_ACK, SRV_ISN + 140, ISN + 230, 0);
	s.vlan = vlan;
	s.vlan_tci = 0x0456;
	with_ts(&s, SRV_TS + 1, TSVAL + 2);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	CHECK_EQ(fl->srv_ack, ISN + 230);
	s.ack = ISN + 210;
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	CHECK_EQ(fl->srv_ack, ISN + 230);
	CHECK_EQ(fl->srv_nxt, SRV_ISN + 140);
	want.proxy_to_client += 2;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(fl->last_ms, UNTIL_MS + 5);
	CHECK_EQ(d.lc->ft.tab.count, 1);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 3);
	CHECK_EQ(fake_nsent(&d, SW_INSIDE), 2);
	CHECK_EQ(d.out.allocs, 0);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* What adopts nothing: server segments that prove no established connection, the ports
 * that are not adopting, the end of the window. */
static void
test_adopt_inside_not(void)
{
	static const struct {
		const char *name;
		uint8_t flags;
	} proof_of_nothing[] = {
		{ "SYN-ACK", SW_TH_SYN | SW_TH_ACK },
		{ "RST", SW_TH_RST },
		{ "RST+ACK", SW_TH_RST | SW_TH_ACK },
		{ "FIN without ACK", SW_TH_FIN },
		{ "data without ACK", SW_TH_PSH },
		{ "no flags", 0 },
		{ "SYN", SW_TH_SYN },
	};
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;
	unsigned int i;

	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	fake_dp_time(&d, FAKE_T0_MS + 100);
	want = d.lc->cnt;
	for (i = 0; i < RTE_DIM(proof_of_nothing); i++) {
		SW_CTX("server %s of no flow", proof_of_nothing[i].name);
		s = sseg(0, 10 + i, FAKE_PORT_PROXY, proof_of_nothing[i].flags, SRV_ISN,
			 ISN + 1, 0);
		m = burst(&d, SW_INSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
		want.port_bridged++;
		fake_check_counters(d.lc, &want);
		CHECK(flow_of(&d, 0, 10 + i, FAKE_PORT_PROXY) == NULL);
	}

	/* ports that adopt nothing: pass and drop (never looked up: bridged), protected from
	 * the start (no window: a segment of no flow would leave with the server's own
	 * numbers, dropped) */
	{
		static const struct {
			uint16_t port;
			int fate;
		} ports[] = {
			{ FAKE_PORT_PASS, SW_V_OUTSIDE },
			{ FAKE_PORT_DROP, SW_V_OUTSIDE },
			{ FAKE_PORT_COOKIE, SW_V_DROP },
		};

		for (i = 0; i < RTE_DIM(ports); i++) {
			SW_CTX("server ACK from port %u", ports[i].port);
			s = sseg(0, 20 + i, ports[i].port, SW_TH_ACK, SRV_ISN, ISN + 1, 10);
			m = burst(&d, SW_INSIDE, &s, &f);
			CHECK_UNTOUCHED(&d, m, &f, ports[i].fate);
			if (ports[i].fate == SW_V_DROP)
				want.proxy_server_no_flow++;
			else
				want.port_bridged++;
			fake_check_counters(d.lc, &want);
			CHECK(flow_of(&d, 0, 20 + i, ports[i].port) == NULL);
		}
	}

	/* a server segment the parser refuses (header longer than the segment): it cannot be
	 * translated, so it does not leave */
	SW_CTX("malformed server segment");
	s = sseg(0, 30, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN, ISN + 1, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 12] = 0x60;
	m = burst_frame(&d, SW_INSIDE, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.mal_tcp_header++;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 0);

	/* the window's last millisecond adopts; from its end on a server segment of no flow is
	 * dropped, whatever it is */
	SW_CTX("window edges");
	fake_dp_time(&d, UNTIL_MS - 1);
	s = sseg(0, 40, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN, ISN + 1, 0);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	want.proxy_adopted++;
	want.proxy_to_client++;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 40, FAKE_PORT_PROXY) != NULL);
	fake_dp_time(&d, UNTIL_MS);
	for (i = 0; i < RTE_DIM(proof_of_nothing) + 1; i++) {
		uint8_t fl = i == 0 ? SW_TH_ACK : proof_of_nothing[i - 1].flags;

		SW_CTX("server flags %#x of no flow, after the window", fl);
		s = sseg(0, 50 + i, FAKE_PORT_PROXY, fl, SRV_ISN, ISN + 1, 0);
		m = burst(&d, SW_INSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
		want.proxy_server_no_flow++;
		fake_check_counters(d.lc, &want);
		CHECK(flow_of(&d, 0, 50 + i, FAKE_PORT_PROXY) == NULL);
	}
	/* the malformed one, likewise after the window */
	s = sseg(0, 30, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN, ISN + 1, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 12] = 0x60;
	m = burst_frame(&d, SW_INSIDE, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.mal_tcp_header++;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 1);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* A full flow table: the segment passes, nothing is adopted until a flow idle long enough
 * makes room; that flow (adopted too) is reset on both sides, with the numbers each expects
 * (the server's data counted in). */
static void
test_adopt_full(void)
{
	struct fake_dp_params p = { .flows = 4 };
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;
	uint32_t c;

	fake_dp_init(&d, &p);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	want = d.lc->cnt;
	/* client 1's the oldest */
	for (c = 1; c <= 4; c++) {
		fake_dp_time(&d, FAKE_T0_MS + (c == 1 ? 0 : 1));
		s = sseg(0, c, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN + c, 25);
		m = burst(&d, SW_INSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	}
	want.proxy_adopted = 4;
	want.proxy_to_client = 4;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 4);
	CHECK_EQ(flow_of(&d, 0, 1, FAKE_PORT_PROXY)->srv_nxt, SRV_ISN + 25);

	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_EVICT_MIN_IDLE_MS - 1);
	s = sseg(0, 5, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN + 5, 20);
	with_ts(&s, SRV_TS, TSVAL);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	want.proxy_adopt_full = 1;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 5, FAKE_PORT_PROXY) == NULL);
	CHECK_EQ(d.lc->ft.tab.count, 4);

	/* idle long enough, the oldest makes room */
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_EVICT_MIN_IDLE_MS);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	want.proxy_adopted++;
	want.proxy_to_client++;
	want.proxy_evicted = 1;
	want.proxy_reset_sent = 1;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 5, FAKE_PORT_PROXY) != NULL);
	CHECK(flow_of(&d, 0, 1, FAKE_PORT_PROXY) == NULL);
	CHECK_EQ(d.lc->ft.tab.count, 4);
	/* out: the RST before the segment that made room */
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == 7);
	CHECK(fake_last_sent(&d, SW_OUTSIDE) == m);
	check_reset(d.out.sent[SW_OUTSIDE].m[5], 1, FAKE_PORT_PROXY, false, SRV_ISN + 25,
		    ISN + 1);
	REQUIRE(fake_nsent(&d, SW_INSIDE) == 1);
	check_reset(fake_last_sent(&d, SW_INSIDE), 1, FAKE_PORT_PROXY, true, ISN + 1,
		    SRV_ISN + 25);
	CHECK_EQ(d.out.allocs, 2);
	CHECK_FAKE_FINI(&d);
}

/* A source prefix at its quota of flows (here one IPv6 /64 of 2) adopts no more: the
 * segment passes as with a full table, and once one of its flows is gone the next is
 * adopted. */
static void
test_adopt_source_quota(void)
{
	struct sw_srcq_params q = { { 1, 2 }, 32, 64, 2 };
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;
	uint32_t c;

	fake_dp_init(&d, NULL);
	REQUIRE(sw_srcq_setup(&d.lc->ft.tab.srcq, &q) == 0);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	want = d.lc->cnt;
	for (c = 1; c <= 3; c++) {
		s = sseg(1, c, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN + c, 25);
		m = burst(&d, SW_INSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	}
	want.proxy_adopted = 2;
	want.proxy_to_client = 2;
	want.proxy_adopt_source_quota = 1;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 1, 3, FAKE_PORT_PROXY) == NULL);
	/* an IPv4 client is another source */
	s = sseg(0, 3, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN + 3, 25);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	CHECK(flow_of(&d, 0, 3, FAKE_PORT_PROXY) != NULL);
	/* client 1's flow closes (the server's RST) and goes (as at the end of its linger):
	 * client 3 is adopted at its next segment */
	s = sseg(1, 1, FAKE_PORT_PROXY, SW_TH_RST, SRV_ISN + 25, 0, 0);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	sw_flowtab_remove(&d.lc->ft, flow_of(&d, 1, 1, FAKE_PORT_PROXY));
	s = sseg(1, 3, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN + 3, 25);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	CHECK(flow_of(&d, 1, 3, FAKE_PORT_PROXY) != NULL);
	CHECK_EQ(d.lc->cnt.proxy_adopt_source_quota, 1);
	CHECK_EQ(d.lc->cnt.proxy_adopted, 4);
	CHECK_FAKE_FINI(&d);
}

/* ---- 3. adoption from the outside ---- */

static void
test_adopt_outside(uint16_t port, int syncookies)
{
	static const struct {
		const char *name;
		uint8_t flags;
		uint16_t paylen;
	} segs[] = {
		{ "ACK", SW_TH_ACK, 0 },
		{ "ACK with data", SW_TH_ACK | SW_TH_PSH, 100 },
		{ "FIN+ACK", SW_TH_FIN | SW_TH_ACK, 0 },
		{ "RST", SW_TH_RST, 0 },
		{ "RST+ACK", SW_TH_RST | SW_TH_ACK, 0 },
	};
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;
	unsigned int i, round;

	fake_dp_init(&d, NULL);
	d.cfg->lim.syncookies = (uint32_t)syncookies;
	went_protected(&d, port, SW_MODE_PASS);
	want = d.lc->cnt;
	/* within the window (its last millisecond the second time): passed as they are */
	for (round = 0; round < 2; round++) {
		fake_dp_time(&d, round == 0 ? FAKE_T0_MS + 500 : UNTIL_MS - 1);
		for (i = 0; i < RTE_DIM(segs); i++) {
			SW_CTX("port %u cookies %d round %u: %s in the window", port, syncookies,
			       round, segs[i].name);
			s = cseg(0, 1 + i, port, segs[i].flags, ISN + 1000 * i,
				 SRV_ISN + 77 * i, segs[i].paylen);
			with_ts(&s, TSVAL, SRV_TS);
			m = burst(&d, SW_OUTSIDE, &s, &f);
			CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
			want.proxy_adopt_passed++;
			fake_check_counters(d.lc, &want);
			CHECK_EQ(d.lc->ft.tab.count, 0);
			CHECK_EQ(d.lc->sc.tab.count, 0);
		}
	}
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 0);

	/* once it has closed: what they were before adoption */
	fake_dp_time(&d, UNTIL_MS);
	for (i = 0; i < RTE_DIM(segs); i++) {
		bool rst = segs[i].flags & SW_TH_RST;

		SW_CTX("port %u cookies %d: %s after the window", port, syncookies, segs[i].name);
		s = cseg(0, 1 + i, port, segs[i].flags, ISN + 1000 * i, SRV_ISN + 77 * i,
			 segs[i].paylen);
		with_ts(&s, TSVAL, SRV_TS);
		m = burst(&d, SW_OUTSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
		if (rst)
			want.proxy_rst_ignored++;
		else if (syncookies || port == FAKE_PORT_COOKIE)
			want.cookie_failed++;
		else
			want.proxy_ack_no_handshake++;
		fake_check_counters(d.lc, &want);
	}
	CHECK_EQ(d.lc->ft.tab.count, 0);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* A connection of before, end to end: its client's segment passes, the server's answer
 * adopts it, the client's next is the flow's. */
static void
test_adopt_both_ways(void)
{
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct frame f;

	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_COOKIE, SW_MODE_PASS);
	want = d.lc->cnt;
	fake_dp_time(&d, FAKE_T0_MS + 20000);
	s = cseg(1, 7, FAKE_PORT_COOKIE, SW_TH_ACK | SW_TH_PSH, ISN + 5000, SRV_ISN + 900, 60);
	with_ts(&s, TSVAL, SRV_TS);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.proxy_adopt_passed++;
	s = sseg(1, 7, FAKE_PORT_COOKIE, SW_TH_ACK, SRV_ISN + 900, ISN + 5060, 0);
	with_ts(&s, SRV_TS + 1, TSVAL);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	want.proxy_adopted++;
	want.proxy_to_client++;
	fl = flow_of(&d, 1, 7, FAKE_PORT_COOKIE);
	REQUIRE(fl != NULL);
	CHECK_EQ(fl->srv_ack, ISN + 5060);
	s = cseg(1, 7, FAKE_PORT_COOKIE, SW_TH_ACK | SW_TH_PSH, ISN + 5060, SRV_ISN + 900, 60);
	with_ts(&s, TSVAL + 1, SRV_TS + 1);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.proxy_to_server++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
}

/* Within the window the handshake still works as it does outside it, and what it refuses
 * it still refuses. */
static void
test_adopt_outside_handshakes(void)
{
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct frame f;
	uint32_t iss;
	int port_i, cookies;

	for (port_i = 0; port_i < 2; port_i++) {
		uint16_t port = port_i ? FAKE_PORT_COOKIE : FAKE_PORT_PROXY;

		SW_CTX("valid cookie in the window, port %u", port);
		fake_dp_init(&d, NULL);
		went_protected(&d, port, SW_MODE_PASS);
		want = d.lc->cnt;
		s = cseg(0, 1, port, SW_TH_ACK, ISN + 1, 0, 0);
		s.ack = cookie_for(&s.t, ISN, LINUX, 1460, 7) + 1;
		/* our shift 7 in the low bits */
		with_ts(&s, TSVAL + 1, fake_cookie_tsecr(&s.t, ISN, s.ack - 1, 7));
		m = burst(&d, SW_OUTSIDE, &s, &f);
		CHECK_EQ(fake_fate(&d, m), SW_V_INSIDE);
		REQUIRE(fake_parse(m, &p) == 0);
		CHECK_EQ(p.tcp_flags, SW_TH_SYN);
		CHECK_EQ(p.seq, ISN);
		CHECK_EQ(p.ack, 0);
		want.sc_recvcookie++;
		want.sc_completed++;
		want.proxy_opened++;
		fake_check_counters(d.lc, &want);
		fl = flow_of(&d, 0, 1, port);
		REQUIRE(fl != NULL);
		CHECK_EQ(sw_flow_state(fl), SW_FLOW_OPENING);
		CHECK(!(sw_flow_flags(fl) & SW_FLF_ADOPTED));
		CHECK_FAKE_FINI(&d);
	}

	/* a pending handshake's ACK with the wrong numbers is no connection of before, cookies
	 * or not */
	for (cookies = 0; cookies < 2; cookies++) {
		SW_CTX("pending handshake, wrong ACK, in the window, cookies %d", cookies);
		fake_dp_init(&d, NULL);
		d.cfg->lim.syncookies = (uint32_t)cookies;
		went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
		s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 2, 0, 0);
		m = burst(&d, SW_OUTSIDE, &s, &f);
		REQUIRE(fake_fate(&d, m) == SW_V_OUTSIDE);
		REQUIRE(fake_parse(m, &p) == 0);
		iss = p.seq;
		REQUIRE(d.lc->sc.tab.count == 1);
		want = d.lc->cnt;
		s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_ACK, ISN + 3, iss + 2, 0);
		m = burst(&d, SW_OUTSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
		want.sc_badack++;
		fake_check_counters(d.lc, &want);
		/* nor is an RST with the wrong sequence number (the entry stays) */
		s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_RST, ISN + 9, 0, 0);
		m = burst(&d, SW_OUTSIDE, &s, &f);
		CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
		want.proxy_rst_ignored++;
		fake_check_counters(d.lc, &want);
		CHECK_EQ(d.lc->sc.tab.count, 1);
		/* and the right ACK completes it */
		s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_ACK, ISN + 3, iss + 1, 0);
		m = burst(&d, SW_OUTSIDE, &s, &f);
		CHECK_EQ(fake_fate(&d, m), SW_V_INSIDE);
		REQUIRE(fake_parse(m, &p) == 0);
		CHECK_EQ(p.tcp_flags, SW_TH_SYN);
		want.sc_completed++;
		want.proxy_opened++;
		fake_check_counters(d.lc, &want);
		CHECK_EQ(d.lc->sc.tab.count, 0);
		CHECK_FAKE_FINI(&d);
	}

	/* a wrong checksum is not passed on the chance it is a connection of before */
	SW_CTX("bad checksum in the window");
	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	want = d.lc->cnt;
	s = cseg(0, 3, FAKE_PORT_PROXY, SW_TH_ACK, ISN + 3, SRV_ISN, 10);
	s.bad_csum = true;
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.mal_checksum++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- 4. a port gone from proxy to pass ---- */

/* A flow spliced by the stages through bursts: the client's SYN answered, its ACK made the
 * server SYN, the server's SYN-ACK (MSS 1400, shift 9, timestamps) establishes it. */
struct spliced {
	uint32_t iss;
	uint32_t synack_tsval;
};

static void
open_spliced(struct fake_dp *d, uint32_t client, struct spliced *c)
{
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct frame f;

	s = cseg(0, client, FAKE_PORT_PROXY, SW_TH_SYN, ISN + client, 0, 0);
	s.win = 64240;
	fake_tcp_opts(&s, LINUX, 1460, 7, TSVAL, 0);
	m = burst(d, SW_OUTSIDE, &s, &f);
	REQUIRE(fake_fate(d, m) == SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &p) == 0);
	c->iss = p.seq;
	c->synack_tsval = p.opt.tsval;
	s = cseg(0, client, FAKE_PORT_PROXY, SW_TH_ACK, ISN + client + 1, c->iss + 1, 0);
	with_ts(&s, TSVAL + 1, c->synack_tsval);
	m = burst(d, SW_OUTSIDE, &s, &f);
	REQUIRE(fake_fate(d, m) == SW_V_INSIDE);
	s = sseg(0, client, FAKE_PORT_PROXY, SW_TH_SYN | SW_TH_ACK, SRV_ISN, ISN + client + 1, 0);
	s.win = 29200;
	fake_tcp_opts(&s, LINUX, 1400, 9, SRV_TS, TSVAL + 1);
	m = burst(d, SW_INSIDE, &s, &f);
	REQUIRE(fake_fate(d, m) == SW_V_INSIDE);
	REQUIRE(flow_of(d, 0, client, FAKE_PORT_PROXY) != NULL);
	REQUIRE(sw_flow_state(flow_of(d, 0, client, FAKE_PORT_PROXY)) == SW_FLOW_ESTABLISHED);
}

/* The same segment through a fixture that stayed in proxy mode (a) and one gone to pass
 * (b): b must make of it what a does, and a must have translated it. */
static void
same_as_proxy(struct fake_dp *a, struct fake_dp *b, enum sw_side from, const struct fake_tcp *s)
{
	struct rte_mbuf *ma, *mb;
	struct frame f;
	int fate = from == SW_OUTSIDE ? SW_V_INSIDE : SW_V_OUTSIDE;

	ma = burst(a, from, s, &f);
	mb = burst(b, from, s, &f);
	CHECK_EQ(fake_fate(a, ma), fate);
	CHECK_EQ(fake_fate(b, mb), fate);
	CHECK_EQ(fake_parse(mb, &(struct sw_pkt){ 0 }), 0);
	REQUIRE(rte_pktmbuf_data_len(ma) == f.len);
	CHECK(memcmp(fake_data(ma), f.b, f.len) != 0);
	CHECK_EQ(rte_pktmbuf_data_len(mb), rte_pktmbuf_data_len(ma));
	CHECK_MEM(fake_data(mb), fake_data(ma), rte_pktmbuf_data_len(ma));
}

/* TCP behind an IPv6 hop-by-hop header (8 bytes), client -> port. */
static void
v6_ext_frame(struct frame *f, uint32_t client, uint16_t port)
{
	struct fake_tcp s = cseg(1, client, port, SW_TH_ACK, ISN, SRV_ISN, 0);
	uint8_t *ip = f->b + 14;

	f->len = fake_tcp_frame(f->b, &s);
	memmove(ip + 48, ip + 40, f->len - 54);
	ip[40] = 6;             /* next: TCP */
	ip[41] = 0;             /* 8 bytes */
	ip[42] = 1;             /* PadN of 4 */
	ip[43] = 4;
	memset(ip + 44, 0, 4);
	ip[6] = 0;              /* hop-by-hop */
	sw_wr16(ip + 4, (uint16_t)(sw_rd16(ip + 4) + 8));
	f->len += 8;
}

static void
test_proxy_to_pass(void)
{
	struct sw_counters want, want_a;
	struct fake_dp a, b;
	struct spliced ca, cb;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct frame f;

	fake_dp_init(&a, NULL);
	fake_dp_init(&b, NULL);
	open_spliced(&a, 1, &ca);
	open_spliced(&b, 1, &cb);
	REQUIRE(ca.iss == cb.iss && ca.synack_tsval == cb.synack_tsval);
	went_pass(&b, FAKE_PORT_PROXY);
	REQUIRE(b.cfg->port_mode[FAKE_PORT_PROXY] == SW_MODE_PASS);
	REQUIRE(b.cfg->port_flags[FAKE_PORT_PROXY] == SW_PORTF_FLOWS);
	want = b.lc->cnt;
	want_a = a.lc->cnt;

	/* the spliced flow: the client's data, the server's, translated as before */
	SW_CTX("spliced flow on a port gone to pass");
	fake_dp_time(&a, FAKE_T0_MS + 3000);
	fake_dp_time(&b, FAKE_T0_MS + 3000);
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, ISN + 2, ca.iss + 1, 50);
	with_ts(&s, TSVAL + 9, ca.synack_tsval + 3);
	same_as_proxy(&a, &b, SW_OUTSIDE, &s);
	s = sseg(0, 1, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN + 1, ISN + 52, 20);
	with_ts(&s, SRV_TS + 40, TSVAL + 9);
	same_as_proxy(&a, &b, SW_INSIDE, &s);
	want.proxy_to_server++;
	want.proxy_to_client++;
	fake_check_counters(b.lc, &want);
	want_a.proxy_to_server++;
	want_a.proxy_to_client++;
	fake_check_counters(a.lc, &want_a);
	fl = flow_of(&b, 0, 1, FAKE_PORT_PROXY);
	REQUIRE(fl != NULL);
	CHECK_EQ(fl->srv_ack, ISN + 52);
	CHECK_EQ(fl->last_ms, FAKE_T0_MS + 3000);
	CHECK_FAKE_FINI(&a);

	/* a new SYN: bridged, no SYN-ACK, no entry */
	SW_CTX("new SYN on a port gone to pass");
	s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 2, 0, 0);
	fake_tcp_opts(&s, LINUX, 1460, 7, TSVAL, 0);
	m = burst(&b, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	want.port_bridged++;
	fake_check_counters(b.lc, &want);
	CHECK_EQ(b.lc->sc.tab.count, 0);

	/* segments of no flow, both ways: bridged, no cookie checked, nothing adopted */
	SW_CTX("segments of no flow on a port gone to pass");
	s = cseg(0, 3, FAKE_PORT_PROXY, SW_TH_ACK, ISN + 3, SRV_ISN + 5, 10);
	with_ts(&s, TSVAL, SRV_TS);
	m = burst(&b, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	s = sseg(0, 3, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN + 5, ISN + 13, 10);
	with_ts(&s, SRV_TS, TSVAL);
	m = burst(&b, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_OUTSIDE);
	want.port_bridged += 2;
	fake_check_counters(b.lc, &want);
	CHECK_EQ(b.lc->ft.tab.count, 1);

	/* malformed TCP and TCP behind IPv6 extension headers: as on any pass port */
	SW_CTX("malformed TCP on a port gone to pass");
	s = cseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK, ISN, 1, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 12] = 0x60;       /* 24 bytes of header in 20 */
	m = burst_frame(&b, SW_OUTSIDE, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	s = cseg(0, 5, FAKE_PORT_PROXY, SW_TH_SYN, ISN, 0, 0);
	fake_tcp_opts(&s, SW_OPT_MSS, 1460, 0, 0, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 20 + 1] = 9;      /* an MSS option 9 bytes long, in 4 */
	m = burst_frame(&b, SW_OUTSIDE, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	v6_ext_frame(&f, 6, FAKE_PORT_PROXY);
	m = burst_frame(&b, SW_OUTSIDE, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	/* and from the server's side (a protected port drops it: test_adopt_inside_not) */
	s = sseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN, ISN + 1, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 12] = 0x60;
	m = burst_frame(&b, SW_INSIDE, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_OUTSIDE);
	want.port_bridged += 4;
	fake_check_counters(b.lc, &want);

	/* the flow closes (the client's exact RST, translated), a new SYN on its 4-tuple:
	 * bridged, the flow gone */
	SW_CTX("closing flow, new SYN, on a port gone to pass");
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_RST, ISN + 52, 0, 0);
	m = burst(&b, SW_OUTSIDE, &s, &f);
	CHECK_EQ(fake_fate(&b, m), SW_V_INSIDE);
	REQUIRE(fake_parse(m, &p) == 0);
	CHECK_EQ(p.seq, ISN + 52);
	want.proxy_to_server++;
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 777777, 0, 0);
	fake_tcp_opts(&s, LINUX, 1460, 7, TSVAL + 100, 0);
	m = burst(&b, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&b, m, &f, SW_V_INSIDE);
	want.proxy_closed++;
	want.port_bridged++;
	fake_check_counters(b.lc, &want);
	CHECK(flow_of(&b, 0, 1, FAKE_PORT_PROXY) == NULL);
	CHECK_EQ(b.lc->ft.tab.count, 0);
	CHECK_EQ(b.lc->sc.tab.count, 0);
	/* out of the outside port: the handshake's SYN-ACK and window update, then the two
	 * server segments and the malformed one; no SYN-ACK for the new SYNs */
	CHECK_EQ(fake_nsent(&b, SW_OUTSIDE), 2 + 2 + 1);
	CHECK_FAKE_FINI(&b);
	SW_CTX_CLEAR();
}

/* In proxy mode the same malformed segments are dropped (what makes the test above mean
 * something). */
static void
test_proxy_drops_malformed(void)
{
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;

	fake_dp_init(&d, NULL);
	want = d.lc->cnt;
	s = cseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK, ISN, 1, 0);
	f.len = fake_tcp_frame(f.b, &s);
	f.b[14 + 20 + 12] = 0x60;
	m = burst_frame(&d, SW_OUTSIDE, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.mal_tcp_header++;
	v6_ext_frame(&f, 6, FAKE_PORT_PROXY);
	m = burst_frame(&d, SW_OUTSIDE, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.mal_ipv6_ext++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
}

/* A port back to pass while the window it opened as a protected port is still open adopts
 * nothing: adoption is a protected port's, the window only its length. */
static void
test_back_to_pass_in_window(void)
{
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct rte_mbuf *m;
	struct frame f;

	fake_dp_init(&d, NULL);
	d.cfg->port_mode[FAKE_PORT_PASS] = SW_MODE_PROXY;
	went_protected(&d, FAKE_PORT_PASS, SW_MODE_PASS);
	fake_dp_time(&d, FAKE_T0_MS + 1000);
	went_pass(&d, FAKE_PORT_PASS);
	REQUIRE(sw_cfg_adopting(d.cfg, FAKE_PORT_PASS, d.lc->now_ms));
	REQUIRE(d.cfg->port_flags[FAKE_PORT_PASS] == SW_PORTF_FLOWS);
	want = d.lc->cnt;
	s = sseg(0, 1, FAKE_PORT_PASS, SW_TH_ACK | SW_TH_PSH, SRV_ISN, ISN, 30);
	with_ts(&s, SRV_TS, TSVAL);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	s = cseg(0, 1, FAKE_PORT_PASS, SW_TH_ACK | SW_TH_PSH, ISN, SRV_ISN + 30, 30);
	with_ts(&s, TSVAL, SRV_TS);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	s = cseg(0, 2, FAKE_PORT_PASS, SW_TH_RST, ISN, 0, 0);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.port_bridged += 3;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 0);
	CHECK_FAKE_FINI(&d);
}

/* A pass port without SW_PORTF_FLOWS is never looked up: a flow there is ignored. */
static void
test_pass_without_flows(void)
{
	struct sw_counters want;
	struct spliced c;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl, before;
	struct rte_mbuf *m;
	struct frame f;

	fake_dp_init(&d, NULL);
	open_spliced(&d, 1, &c);
	fl = flow_of(&d, 0, 1, FAKE_PORT_PROXY);
	REQUIRE(fl != NULL);
	d.cfg->port_mode[FAKE_PORT_PROXY] = SW_MODE_PASS;       /* no mode change applied */
	REQUIRE(d.cfg->port_flags[FAKE_PORT_PROXY] == 0);
	memcpy(&before, fl, sizeof(before));
	want = d.lc->cnt;
	fake_dp_time(&d, FAKE_T0_MS + 5000);

	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, ISN + 2, c.iss + 1, 50);
	with_ts(&s, TSVAL + 9, c.synack_tsval + 3);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	s = sseg(0, 1, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_FIN, SRV_ISN + 1, ISN + 52, 20);
	with_ts(&s, SRV_TS + 40, TSVAL + 9);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	/* exact, had the server's FIN been followed */
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_RST, ISN + 52, 0, 0);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_INSIDE);
	want.port_bridged += 3;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 1, FAKE_PORT_PROXY) == fl);
	CHECK(memcmp(fl, &before, sizeof(before)) == 0);
	CHECK_FAKE_FINI(&d);
}

/* ---- 5. an adopted flow's close and its timers ---- */

/* An adopted flow of client c on the proxy port: the server acked up to ack. */
static struct sw_flow *
adopt(struct fake_dp *d, uint32_t c, uint32_t ack)
{
	struct fake_tcp s = sseg(0, c, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN, ack, 0);
	struct rte_mbuf *m;
	struct frame f;

	m = burst(d, SW_INSIDE, &s, &f);
	REQUIRE(fake_fate(d, m) == SW_V_OUTSIDE);
	REQUIRE(flow_of(d, 0, c, FAKE_PORT_PROXY) != NULL);
	return flow_of(d, 0, c, FAKE_PORT_PROXY);
}

/* A client segment of an adopted flow: passed untouched, whatever it does to the flow. */
static void
client_passes(struct fake_dp *d, const struct fake_tcp *s)
{
	struct rte_mbuf *m;
	struct frame f;

	m = burst(d, SW_OUTSIDE, s, &f);
	CHECK_UNTOUCHED(d, m, &f, SW_V_INSIDE);
}

static void
server_passes(struct fake_dp *d, const struct fake_tcp *s)
{
	struct rte_mbuf *m;
	struct frame f;

	m = burst(d, SW_INSIDE, s, &f);
	CHECK_UNTOUCHED(d, m, &f, SW_V_OUTSIDE);
}

/* The server's FIN as the first segment seen: adopted, and its half of the close kept. */
static void
test_adopt_fin(void)
{
	const uint32_t A = ISN + 0x2000;
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct frame f;

	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	want = d.lc->cnt;
	/* its sequence number behind its ack (the two spaces have nothing to do with each
	 * other): what it has sent is its own number, not the ack */
	s = sseg(0, 1, FAKE_PORT_PROXY, SW_TH_FIN | SW_TH_ACK, A - 5000, A, 0);
	m = burst(&d, SW_INSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_OUTSIDE);
	fl = flow_of(&d, 0, 1, FAKE_PORT_PROXY);
	REQUIRE(fl != NULL);
	/* a FIN first: it may answer a client FIN that passed before there was a flow, so the
	 * flow is closing at once (and lingers, not lives a day) */
	CHECK_EQ(fl->fin, SW_FIN_SERVER | SW_FIN_CLIENT);
	CHECK_EQ(fl->srv_nxt, A - 5000 + 1);    /* its FIN counted */
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_FIN | SW_TH_ACK, A, A - 5000 + 1, 0);
	client_passes(&d, &s);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	want.proxy_adopted++;
	want.proxy_to_client++;
	want.proxy_to_server++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
}

static void
test_adopted_close(void)
{
	const uint32_t A = ISN + 0x1000;    /* what the server expects next from the client */
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_flow *fl;
	struct rte_mbuf *m;
	struct sw_pkt p;
	struct frame f;
	uint32_t idle_ms;

	/* FINs both ways; the client's RSTs: blind ones change nothing */
	SW_CTX("adopted: FINs");
	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	fl = adopt(&d, 1, A);
	want = d.lc->cnt;
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_RST, A + 1, 0, 0);
	client_passes(&d, &s);
	s.seq = A - 1;
	client_passes(&d, &s);
	CHECK_EQ(fl->fin, 0);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_ESTABLISHED);
	/* a client FIN too far beyond what the server expects is not believed: beyond the
	 * largest window any server can offer (an adopted flow's shift is not known) */
	CHECK_EQ(sw_flow_fin_window(fl), (uint32_t)UINT16_MAX << 14);
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_FIN | SW_TH_ACK, A + sw_flow_fin_window(fl),
		 SRV_ISN, 0);
	client_passes(&d, &s);
	s.seq = A - 1;
	client_passes(&d, &s);
	CHECK_EQ(fl->fin, 0);
	s = sseg(0, 1, FAKE_PORT_PROXY, SW_TH_FIN | SW_TH_ACK, SRV_ISN, A, 0);
	with_ts(&s, SRV_TS, TSVAL);
	server_passes(&d, &s);
	CHECK_EQ(fl->fin, SW_FIN_SERVER);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_ESTABLISHED);
	s = cseg(0, 1, FAKE_PORT_PROXY, SW_TH_FIN | SW_TH_ACK, A + sw_flow_fin_window(fl) - 1,
		 SRV_ISN + 1, 0);
	with_ts(&s, TSVAL, SRV_TS);
	client_passes(&d, &s);
	CHECK_EQ(fl->fin, SW_FIN_SERVER | SW_FIN_CLIENT);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	want.proxy_to_server += 5;
	want.proxy_to_client++;
	fake_check_counters(d.lc, &want);

	/* lingers, then goes; a new SYN on its 4-tuple meanwhile starts a handshake of ours */
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_LINGER_MS - 1);
	CHECK_EQ(sweep_all(&d), 0);
	CHECK(flow_of(&d, 0, 1, FAKE_PORT_PROXY) == fl);
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_LINGER_MS);
	CHECK_EQ(sweep_all(&d), 1);
	want.proxy_closed++;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 1, FAKE_PORT_PROXY) == NULL);
	CHECK_EQ(d.out.allocs, 0);              /* closed already: no RST */

	/* the linger outlasted the adoption window: the port becomes protected again */
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	fl = adopt(&d, 2, A);
	s = sseg(0, 2, FAKE_PORT_PROXY, SW_TH_RST, SRV_ISN, 0, 0);
	server_passes(&d, &s);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	s = cseg(0, 2, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 99, 0, 0);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_EQ(fake_fate(&d, m), SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &p) == 0);
	CHECK_EQ(p.tcp_flags, SW_TH_SYN | SW_TH_ACK);
	CHECK_EQ(p.ack, ISN + 100);
	want.proxy_adopted++;
	want.proxy_to_client += 2;
	want.proxy_closed++;
	want.sc_added++;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, 0, 2, FAKE_PORT_PROXY) == NULL);
	CHECK_FAKE_FINI(&d);

	/* the client's exact RST ends it */
	SW_CTX("adopted: the client's RST");
	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	fl = adopt(&d, 3, A);
	s = cseg(0, 3, FAKE_PORT_PROXY, SW_TH_RST, A, 0, 0);
	client_passes(&d, &s);
	CHECK_EQ(fl->fin, SW_FIN_RST);
	CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	CHECK_FAKE_FINI(&d);

	/* idle: expires like any other, both ends told with the numbers they expect: the
	 * server's data and FIN-less segments counted in, its retransmission not */
	SW_CTX("adopted: idle");
	fake_dp_init(&d, NULL);
	went_protected(&d, FAKE_PORT_PROXY, SW_MODE_PASS);
	fl = adopt(&d, 4, A);
	CHECK_EQ(fl->srv_nxt, SRV_ISN);
	s = sseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, SRV_ISN, A, 100);
	with_ts(&s, SRV_TS, TSVAL);
	server_passes(&d, &s);
	s.seq = SRV_ISN + 40;                   /* a retransmission within it */
	s.paylen = 10;
	server_passes(&d, &s);
	CHECK_EQ(fl->srv_nxt, SRV_ISN + 100);
	s = cseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_PSH, A, SRV_ISN + 100, 7);
	with_ts(&s, TSVAL, SRV_TS);
	client_passes(&d, &s);
	s = sseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK, SRV_ISN + 100, A + 7, 0);
	server_passes(&d, &s);
	want = d.lc->cnt;
	idle_ms = d.cfg->port_idle_s[FAKE_PORT_PROXY] * 1000;
	CHECK_EQ(idle_ms, SW_FLOW_IDLE_TIMEOUT_MS);
	fake_dp_time(&d, FAKE_T0_MS + idle_ms - 1);
	CHECK_EQ(sweep_all(&d), 0);
	CHECK(flow_of(&d, 0, 4, FAKE_PORT_PROXY) == fl);
	CHECK_EQ(d.out.allocs, 0);
	fake_dp_time(&d, FAKE_T0_MS + idle_ms);
	CHECK_EQ(sweep_all(&d), 1);
	want.proxy_expired++;
	want.proxy_reset_sent++;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 0);
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == 5);
	check_reset(fake_last_sent(&d, SW_OUTSIDE), 4, FAKE_PORT_PROXY, false, SRV_ISN + 100,
		    A + 7);
	REQUIRE(fake_nsent(&d, SW_INSIDE) == 2);
	check_reset(fake_last_sent(&d, SW_INSIDE), 4, FAKE_PORT_PROXY, true, A + 7,
		    SRV_ISN + 100);
	CHECK_EQ(d.out.allocs, 2);
	/* the window long over, its client's segment is refused now */
	s = cseg(0, 4, FAKE_PORT_PROXY, SW_TH_ACK, A, SRV_ISN, 0);
	m = burst(&d, SW_OUTSIDE, &s, &f);
	CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
	want.cookie_failed++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

int
main(void)
{
	int v6;

	test_mode_change();
	for (v6 = 0; v6 < 2; v6++) {
		test_adopt_inside(v6, 0, FAKE_PORT_PROXY);
		test_adopt_inside(v6, 1, FAKE_PORT_COOKIE);
	}
	test_adopt_inside_not();
	test_adopt_full();
	test_adopt_source_quota();
	test_adopt_outside(FAKE_PORT_PROXY, 1);
	test_adopt_outside(FAKE_PORT_COOKIE, 1);
	test_adopt_outside(FAKE_PORT_PROXY, 0);
	test_adopt_outside(FAKE_PORT_COOKIE, 0);
	test_adopt_both_ways();
	test_adopt_outside_handshakes();
	test_proxy_to_pass();
	test_proxy_drops_malformed();
	test_back_to_pass_in_window();
	test_pass_without_flows();
	test_adopt_fin();
	test_adopted_close();
	return sw_test_done();
}
