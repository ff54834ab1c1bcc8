/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source quotas at work in the stages, driven through the pipeline's outside and inside
 * bursts with the fake sink:
 *
 *  - a handshake that completes from a source prefix holding its quota of flows is refused
 *    as a full table refuses it (proxy.source_quota, not syncache.aborted): the frame
 *    dropped untouched, the syncache entry kept, so that the client's retransmission gets in
 *    once one of the source's flows has ended; other sources are not affected; IPv4 by
 *    address (or /24 when told), IPv6 by /64;
 *  - a SYN from a prefix holding its quota of syncache entries gets a cookie instead
 *    (syncache.source_quota, syncache.sendcookie), whose ACK completes; with syncookies off
 *    it is dropped (syncache.source_quota_dropped); an entry that completes or goes stale
 *    gives its room back;
 *  - a closing flow holds nothing of its source's quota (it is the first to go anyway);
 *  - a full table makes room from the heaviest source: the flow that goes is reset on both
 *    sides as any evicted flow, counted proxy.evicted and proxy.evicted_heavy;
 *  - and the counts go back to 0 once the tables are empty.
 */
#include <stdio.h>

#include "fake_check.h"
#include "pipeline.h"
#include "splice.h"
#include "sw_const.h"

#define ISN      0x31410000u
#define SRV_ISN  0x27180000u
#define MAXPKT   256

static const struct sw_sipkey qkey = { 0x1111222233334444ull, 0x5555666677778888ull };

struct frame {
	uint8_t b[MAXPKT];
	uint32_t len;
};

/* Both tables' quotas (prefix lengths v4, v6) before anything is counted. */
static void
quotas(struct fake_dp *d, uint8_t v4, uint8_t v6, uint32_t flows, uint32_t halfopen)
{
	struct sw_srcq_params p = { qkey, v4, v6, flows };

	REQUIRE(sw_srcq_setup(&d->lc->ft.tab.srcq, &p) == 0);
	p.limit = halfopen;
	REQUIRE(sw_srcq_setup(&d->lc->sc.tab.srcq, &p) == 0);
}

/* Client c's tuple from port sport to the proxy port; c >= 100 for IPv6 is another /64
 * (2001:2:0:1::c) than fake_tuple's clients (2001:2::c:x, all one /64). */
static void
tup(struct sw_tuple *t, int v6, uint32_t c, uint16_t sport)
{
	fake_tuple(t, v6, c, sport, FAKE_PORT_PROXY);
	if (v6 && c >= 100)
		t->src[7] = 1;
}

static struct fake_tcp
seg(const struct sw_tuple *t, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	s.t = *t;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 1000;
	return s;
}

/* s through a burst of its own from the client side, the round ended: the mbuf (the
 * sink's now), its frame in f. */
static struct rte_mbuf *
from_client(struct fake_dp *d, const struct fake_tcp *s, struct frame *f)
{
	struct rte_mbuf *m;

	f->len = fake_tcp_frame(f->b, s);
	m = fake_mbuf(f->b, f->len);
	sw_outside_burst(d->lc, fake_out(d), &m, 1);
	fake_dp_round(d);
	return m;
}

#define CHECK_UNTOUCHED(d, m, f, fate) do {                                     \
	CHECK_EQ(fake_fate((d), (m)), (fate));                                  \
	CHECK_EQ(rte_pktmbuf_data_len(m), (f)->len);                            \
	CHECK_MEM(fake_data(m), (f)->b, (f)->len);                              \
} while (0)

/* t's SYN (ISN isn): the ISS of the SYN-ACK it got. */
static uint32_t
syn(struct fake_dp *d, const struct sw_tuple *t, uint32_t isn)
{
	struct fake_tcp s = seg(t, SW_TH_SYN, isn, 0);
	struct frame f;
	struct rte_mbuf *m = from_client(d, &s, &f);
	struct sw_pkt sa;

	REQUIRE(fake_fate(d, m) == SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &sa) == 0);
	CHECK_EQ(sa.tcp_flags, SW_TH_SYN | SW_TH_ACK);
	CHECK_EQ(sa.ack, isn + 1);
	return sa.seq;
}

/* t's ACK of the SYN-ACK iss: where it went. */
static int
ack(struct fake_dp *d, const struct sw_tuple *t, uint32_t isn, uint32_t iss)
{
	struct fake_tcp s = seg(t, SW_TH_ACK, isn + 1, iss + 1);
	struct frame f;
	struct rte_mbuf *m = from_client(d, &s, &f);
	int fate = fake_fate(d, m);

	if (fate == SW_V_DROP)
		CHECK_UNTOUCHED(d, m, &f, SW_V_DROP);
	return fate;
}

static struct sw_flow *
flow_of(const struct fake_dp *d, const struct sw_tuple *t)
{
	return sw_flowtab_lookup(&d->lc->ft, t, sw_ctab_hash(&d->lc->ft.tab, t));
}

static struct sw_sc_entry *
entry_of(const struct fake_dp *d, const struct sw_tuple *t)
{
	return sw_syncache_lookup(&d->lc->sc, t, sw_ctab_hash(&d->lc->ft.tab, t));
}

static uint32_t
held(const struct sw_ctab *tab, const struct sw_tuple *t)
{
	return sw_srcq_count(&tab->srcq, t->v6, t->src);
}

/* Every flow and entry through its timers until none is left (opening flows and entries
 * time out after their retransmits, established flows after the idle timeout), then the
 * counts must be 0. */
static void
drain(struct fake_dp *d)
{
	unsigned int i;

	for (i = 0; i < 64 && (d->lc->ft.tab.count != 0 || d->lc->sc.tab.count != 0); i++) {
		fake_dp_time(d, d->lc->now_ms + (i < 16 ? 70000 : SW_FLOW_IDLE_TIMEOUT_MS + 1000));
		d->lc->ft.sweep.last_ms = 0;
		d->lc->sc.sweep.last_ms = 0;
		sw_flowtab_sweep(&d->lc->ft, d->lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer,
				 &d->io);
		sw_syncache_sweep(&d->lc->sc, d->lc->now_ms, SW_SWEEP_PERIOD_MS,
				  sw_synack_timer, &d->io);
		fake_dp_round(d);
	}
	CHECK_EQ(d->lc->ft.tab.count, 0);
	CHECK_EQ(d->lc->sc.tab.count, 0);
	CHECK_EQ(d->lc->ft.tab.srcq.live, 0);
	CHECK_EQ(d->lc->sc.tab.srcq.live, 0);
	CHECK_EQ(sw_srcq_check(&d->lc->ft.tab.srcq), 0);
	CHECK_EQ(sw_srcq_check(&d->lc->sc.tab.srcq), 0);
}

/* ---- the flow quota ---- */

/*
 * A source of 3 flows at most: its 4th handshake is refused and keeps its entry; another
 * source is not affected; once the source's opening flow is given up by its client (an
 * RST), the 4th's retransmitted ACK gets in. The source: one IPv4 address over several
 * ports, or (v4_len 24) several addresses of a /24, or several IPv6 addresses of a /64.
 */
static void
test_flow_quota(int v6, uint8_t v4_len)
{
	struct sw_counters want;
	struct sw_tuple t[5], other;
	uint32_t iss[5], i;
	struct fake_dp d;

	SW_CTX("v6 %d, /%u", v6, v4_len);
	fake_dp_init(&d, NULL);
	quotas(&d, v4_len, 64, 3, 0);
	for (i = 0; i < 5; i++)
		tup(&t[i], v6, v6 || v4_len < 32 ? 1 + i : 1, (uint16_t)(40000 + i));
	tup(&other, v6, 100, 40000);
	if (!v6)
		other.src[2] = 7;       /* 198.18.7.100: another /24 */
	want = d.lc->cnt;
	for (i = 0; i < 4; i++) {
		iss[i] = syn(&d, &t[i], ISN + i);
		want.sc_added++;
	}
	for (i = 0; i < 3; i++) {
		CHECK_EQ(ack(&d, &t[i], ISN + i, iss[i]), SW_V_INSIDE);
		want.sc_completed++;
		want.proxy_opened++;
	}
	CHECK_EQ(held(&d.lc->ft.tab, &t[0]), 3);
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 1);
	fake_log_reset(&d);
	CHECK_EQ(ack(&d, &t[3], ISN + 3, iss[3]), SW_V_DROP);
	want.proxy_source_quota++;
	fake_check_counters(d.lc, &want);
	CHECK(strstr(fake_last_log(&d), "quota of flows (--source-flows)") != NULL);
	CHECK(flow_of(&d, &t[3]) == NULL);
	CHECK(entry_of(&d, &t[3]) != NULL);
	/* a cookie's handshake is refused alike (no entry to keep) */
	iss[4] = syn(&d, &t[4], ISN + 4);
	want.sc_added++;
	sw_syncache_remove(&d.lc->sc, entry_of(&d, &t[4]));
	CHECK_EQ(ack(&d, &t[4], ISN + 4, iss[4]), SW_V_DROP);
	want.sc_recvcookie++;
	want.proxy_source_quota++;
	fake_check_counters(d.lc, &want);

	/* another source has a quota of its own */
	for (i = 0; i < 3; i++) {
		struct sw_tuple o = other;
		uint32_t s;

		o.sport = (uint16_t)(50000 + i);
		s = syn(&d, &o, ISN + 10 + i);
		CHECK_EQ(ack(&d, &o, ISN + 10 + i, s), SW_V_INSIDE);
		want.sc_added++;
		want.sc_completed++;
		want.proxy_opened++;
	}
	fake_check_counters(d.lc, &want);
	CHECK_EQ(held(&d.lc->ft.tab, &other), 3);

	/* the client gives up its second handshake while the server side opens */
	{
		struct fake_tcp s = seg(&t[1], SW_TH_RST, ISN + 1 + 1, 0);
		struct frame f;
		struct rte_mbuf *m = from_client(&d, &s, &f);

		CHECK_EQ(fake_fate(&d, m), SW_V_INSIDE);
		want.proxy_reset++;
	}
	CHECK(flow_of(&d, &t[1]) == NULL);
	CHECK_EQ(held(&d.lc->ft.tab, &t[0]), 2);
	/* the refused one's retransmission now gets in, by its entry */
	CHECK_EQ(ack(&d, &t[3], ISN + 3, iss[3]), SW_V_INSIDE);
	want.sc_completed++;
	want.proxy_opened++;
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &t[3]) == NULL);
	CHECK_EQ(held(&d.lc->ft.tab, &t[0]), 3);
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 0);
	drain(&d);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* s (server -> client) through an inside burst: where it went. */
static int
from_server(struct fake_dp *d, const struct fake_tcp *s)
{
	struct frame f;
	struct rte_mbuf *m;

	f.len = fake_tcp_frame(f.b, s);
	m = fake_mbuf(f.b, f.len);
	sw_inside_burst(d->lc, fake_out(d), &m, 1);
	fake_dp_round(d);
	return fake_fate(d, m);
}

/* A closing flow lingers for stragglers only, the first to go when room is needed: it
 * holds nothing of its source's quota. */
static void
test_closing_frees_quota(void)
{
	struct sw_tuple t0, t1, r;
	struct fake_tcp s;
	struct fake_dp d;
	uint32_t iss0, iss1;

	fake_dp_init(&d, NULL);
	quotas(&d, 32, 64, 1, 0);
	tup(&t0, 0, 1, 43000);
	tup(&t1, 0, 1, 43001);
	iss0 = syn(&d, &t0, ISN);
	CHECK_EQ(ack(&d, &t0, ISN, iss0), SW_V_INSIDE);
	/* the server's SYN-ACK: established */
	sw_tuple_reverse(&r, &t0);
	s = seg(&r, SW_TH_SYN | SW_TH_ACK, SRV_ISN, ISN + 1);
	s.from_server = true;
	CHECK_EQ(from_server(&d, &s), SW_V_INSIDE);
	CHECK_EQ(sw_flow_state(flow_of(&d, &t0)), SW_FLOW_ESTABLISHED);
	iss1 = syn(&d, &t1, ISN + 1);
	CHECK_EQ(ack(&d, &t1, ISN + 1, iss1), SW_V_DROP);
	CHECK_EQ(d.lc->cnt.proxy_source_quota, 1);
	/* the server resets the first: it lingers, and the second gets in */
	s = seg(&r, SW_TH_RST | SW_TH_ACK, SRV_ISN + 1, ISN + 1);
	s.from_server = true;
	CHECK_EQ(from_server(&d, &s), SW_V_OUTSIDE);
	CHECK_EQ(sw_flow_state(flow_of(&d, &t0)), SW_FLOW_CLOSING);
	CHECK_EQ(held(&d.lc->ft.tab, &t0), 0);
	CHECK_EQ(ack(&d, &t1, ISN + 1, iss1), SW_V_INSIDE);
	CHECK_EQ(held(&d.lc->ft.tab, &t0), 1);
	CHECK_EQ(d.lc->ft.tab.count, 2);
	CHECK_EQ(d.lc->cnt.proxy_source_quota, 1);
	drain(&d);
	CHECK_FAKE_FINI(&d);
}

/* ---- the syncache quota ---- */

static void
test_halfopen_quota(int v6, int syncookies)
{
	struct sw_counters want;
	struct sw_tuple t[4], other;
	uint32_t iss[4], i;
	struct fake_dp d;

	SW_CTX("v6 %d, syncookies %d", v6, syncookies);
	fake_dp_init(&d, NULL);
	d.cfg->lim.syncookies = (uint32_t)syncookies;
	quotas(&d, 32, 64, 0, 2);
	for (i = 0; i < 4; i++)
		tup(&t[i], v6, v6 ? 1 + i : 1, (uint16_t)(41000 + i));
	tup(&other, v6, v6 ? 100 : 2, 41000);
	want = d.lc->cnt;
	for (i = 0; i < 2; i++) {
		iss[i] = syn(&d, &t[i], ISN + i);
		want.sc_added++;
		CHECK(entry_of(&d, &t[i]) != NULL);
	}
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 2);
	/* the third: a cookie instead of an entry, or nothing */
	if (syncookies) {
		iss[2] = syn(&d, &t[2], ISN + 2);
		want.sc_source_quota++;
		want.sc_sendcookie++;
	} else {
		struct fake_tcp s = seg(&t[2], SW_TH_SYN, ISN + 2, 0);
		struct frame f;
		struct rte_mbuf *m = from_client(&d, &s, &f);

		CHECK_UNTOUCHED(&d, m, &f, SW_V_DROP);
		want.sc_source_quota_dropped++;
	}
	fake_check_counters(d.lc, &want);
	CHECK(entry_of(&d, &t[2]) == NULL);
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 2);
	if (syncookies) {
		/* the cookie opens its flow */
		CHECK_EQ(ack(&d, &t[2], ISN + 2, iss[2]), SW_V_INSIDE);
		want.sc_recvcookie++;
		want.sc_completed++;
		want.proxy_opened++;
	}
	/* another source keeps entries */
	syn(&d, &other, ISN + 9);
	want.sc_added++;
	CHECK(entry_of(&d, &other) != NULL);
	/* an entry that completes gives its room back */
	CHECK_EQ(ack(&d, &t[0], ISN, iss[0]), SW_V_INSIDE);
	want.sc_completed++;
	want.proxy_opened++;
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 1);
	iss[3] = syn(&d, &t[3], ISN + 3);
	want.sc_added++;
	CHECK(entry_of(&d, &t[3]) != NULL);
	fake_check_counters(d.lc, &want);
	CHECK_EQ(held(&d.lc->sc.tab, &t[0]), 2);
	(void)iss[3];
	/* the rest goes stale (and the flows time out): nothing left counted */
	drain(&d);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- heaviest first, through the stages ---- */

/*
 * One bucket (8 flows), full of established flows idle past the eviction age: three IPv4
 * clients, idle the longest, and five of one IPv6 /64. A new handshake makes room from
 * the /64: its idlest flow is reset on both sides.
 */
static void
test_evict_heavy(void)
{
	struct fake_dp_params p = { .flows = SW_FLOW_BUCKET_SLOTS };
	struct sw_counters want;
	struct sw_tuple t[9];
	struct fake_dp d;
	uint32_t i, s;

	fake_dp_init(&d, &p);
	REQUIRE(d.lc->ft.tab.hashsize == 1);
	quotas(&d, 32, 64, 0, 0);
	for (i = 0; i < 8; i++) {
		struct sw_flow *f;
		int ev;

		tup(&t[i], i >= 3, 1 + i, (uint16_t)(42000 + i));
		f = sw_flowtab_add(&d.lc->ft, &t[i], sw_ctab_hash(&d.lc->ft.tab, &t[i]),
				   FAKE_T0_MS + i, 0, &ev);
		REQUIRE(f != NULL);
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
		f->srv_nxt = SRV_ISN + i;
		f->srv_ack = ISN + i;
	}
	CHECK_EQ(held(&d.lc->ft.tab, &t[3]), 5);
	fake_dp_time(&d, FAKE_T0_MS + SW_FLOW_EVICT_MIN_IDLE_MS + 100);
	want = d.lc->cnt;
	tup(&t[8], 0, 50, 42100);
	s = syn(&d, &t[8], ISN + 8);
	CHECK_EQ(ack(&d, &t[8], ISN + 8, s), SW_V_INSIDE);
	want.sc_added++;
	want.sc_completed++;
	want.proxy_opened++;
	want.proxy_evicted++;
	want.proxy_evicted_heavy++;
	want.proxy_reset_sent++;
	fake_check_counters(d.lc, &want);
	CHECK(flow_of(&d, &t[3]) == NULL);
	for (i = 0; i < 3; i++)
		CHECK(flow_of(&d, &t[i]) != NULL);
	CHECK_EQ(held(&d.lc->ft.tab, &t[3]), 4);
	/* the RSTs of the evicted flow: one to each side, from its own numbers */
	{
		struct sw_pkt r;

		REQUIRE(fake_nsent(&d, SW_INSIDE) == 2);        /* the RST, the server SYN */
		REQUIRE(fake_parse(d.out.sent[SW_INSIDE].m[0], &r) == 0);
		CHECK(sw_tuple_eq(&r.t, &t[3]));
		CHECK(r.tcp_flags & SW_TH_RST);
		CHECK_EQ(r.seq, ISN + 3);
	}
	drain(&d);
	CHECK_FAKE_FINI(&d);
}

int
main(void)
{
	test_flow_quota(0, 32);
	test_flow_quota(0, 24);
	test_flow_quota(1, 32);
	test_closing_frees_quota();
	test_halfopen_quota(0, 1);
	test_halfopen_quota(1, 1);
	test_halfopen_quota(0, 0);
	test_evict_heavy();
	return sw_test_done();
}
