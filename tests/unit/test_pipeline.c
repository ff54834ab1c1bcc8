/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline end to end (pipeline.c) with the fake sink: outside bursts that mix every
 * kind of packet, each packet's fate and the exact counters checked, and the segments
 * the burst wrote compared byte for byte with what the stages write when called one by
 * one the scalar way (cookies from sw_cookie_make, ACKs without first-pass MACs), under
 * every SipHash implementation the CPU runs; full bursts (32 SYNs, 32 ACKs with their
 * probe MACs) and the sink's buffers filling up within a round; the NIC's checksum
 * verdicts; inside bursts bridging and splicing; ICMP errors about our segments. First,
 * the fake itself: it must catch the mistakes it is there to catch.
 */
#include <stdio.h>

#include "fake_check.h"
#include "handshake.h"
#include "pipeline.h"
#include "siphash.h"
#include "sw_const.h"
#include "syn.h"

#define ISN      0x3c3c0000u
#define TSVAL    0x00777700u
#define SRV_ISN  0x5000a000u
#define SRV_TS   0x00900000u
#define LINUX    (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)
#define MAXPKT   256

/* ---- the fake catches leaks, double frees and writes outside a frame ---- */

static void
test_fake_catches(void)
{
	static const uint8_t frame[60] = { 1, 2, 3 };
	struct fake_dp d;
	struct rte_mbuf *m;

	fake_dp_quiet = true;
	fake_dp_init(&d, NULL);
	m = fake_mbuf(frame, sizeof(frame));
	fake_dp_put(&d, m, SW_V_OUTSIDE);
	CHECK_EQ(fake_fate(&d, m), SW_V_OUTSIDE);
	m = sw_sink_alloc(fake_out(&d));
	REQUIRE(m != NULL);
	CHECK_EQ(m->data_len, 0);
	CHECK_EQ(m->data_off, RTE_PKTMBUF_HEADROOM);
	fake_dp_put(&d, m, SW_V_DROP);
	CHECK_EQ(fake_fate(&d, m), SW_V_DROP);
	CHECK_EQ(fake_dp_fini(&d), 0);

	fake_dp_init(&d, NULL);
	(void)fake_mbuf(frame, sizeof(frame));                  /* leaked */
	(void)sw_sink_alloc(fake_out(&d));                      /* leaked */
	CHECK_EQ(fake_dp_fini(&d), 2);

	fake_dp_init(&d, NULL);
	m = fake_mbuf(frame, sizeof(frame));
	fake_dp_put(&d, m, SW_V_DROP);
	fake_dp_put(&d, m, SW_V_DROP);                          /* freed twice */
	CHECK_EQ(fake_dp_fini(&d), 1);

	fake_dp_init(&d, NULL);
	m = fake_mbuf(frame, sizeof(frame));
	fake_dp_put(&d, m, SW_V_DROP);
	fake_dp_put(&d, m, SW_V_INSIDE);                        /* sent once freed */
	CHECK_EQ(fake_dp_fini(&d), 1);

	fake_dp_init(&d, NULL);
	m = fake_mbuf(frame, sizeof(frame));
	fake_data(m)[-1] = 0;                                   /* before the frame */
	fake_dp_put(&d, m, SW_V_INSIDE);
	m = fake_mbuf(frame, sizeof(frame));
	fake_data(m)[sizeof(frame)] = 0;                        /* after it */
	fake_dp_put(&d, m, SW_V_INSIDE);
	m = fake_mbuf(frame, sizeof(frame));
	m->data_len = 50;                                       /* data_len != pkt_len */
	fake_dp_put(&d, m, SW_V_INSIDE);
	CHECK_EQ(fake_dp_fini(&d), 3);

	/* a frame that grows into the bytes it had not used is fine (a longer segment) */
	fake_dp_init(&d, NULL);
	m = fake_mbuf(frame, sizeof(frame));
	memset(fake_data(m), 0, 98);
	m->data_len = 98;
	m->pkt_len = 98;
	fake_dp_put(&d, m, SW_V_INSIDE);
	/* the sink's alloc can fail */
	d.out.fail_allocs = 2;
	CHECK(sw_sink_alloc(fake_out(&d)) == NULL);
	CHECK(sw_sink_alloc(fake_out(&d)) == NULL);
	m = sw_sink_alloc(fake_out(&d));
	CHECK(m != NULL);
	fake_dp_put(&d, m, SW_V_DROP);
	CHECK_EQ(d.out.allocs, 3);
	CHECK_EQ(fake_dp_fini(&d), 0);
	fake_dp_quiet = false;
}

/* ---- frames ---- */

struct frame {
	uint8_t b[MAXPKT];
	uint32_t len;
};

static struct fake_tcp
tcp(int v6, uint32_t client, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	fake_tuple(&s.t, v6, client, (uint16_t)(30000 + client), dport);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 1000;
	return s;
}

static void
put_tcp(struct frame *f, const struct fake_tcp *s)
{
	f->len = fake_tcp_frame(f->b, s);
}

/* The cookie our SYN-ACK gives the SYN with these options (what the profile agrees to:
 * the defaults agree to everything). */
static uint32_t
cookie_for(const struct sw_tuple *t, uint32_t isn, uint8_t present, uint16_t mss, uint8_t ws)
{
	struct sw_tcpopts o = { .present = present, .mss = mss, .wscale = ws };
	struct sw_keyset ks = { .key = { fake_key0, fake_key1 }, .epoch = 0 };
	struct sw_cookie_opts co;

	sw_cookie_opts_from_syn(&o, &co);
	return sw_cookie_make(&ks, t, isn, &co);
}

/* A client's ACK carrying the cookie of its SYN (options of the SYN as given). */
static struct fake_tcp
cookie_ack(int v6, uint32_t client, uint16_t dport, uint8_t syn_opts, bool probe,
	   uint16_t paylen)
{
	uint32_t isn = ISN + client;
	struct fake_tcp s = tcp(v6, client, dport, SW_TH_ACK, probe ? isn : isn + 1, 0);

	s.ack = cookie_for(&s.t, isn, syn_opts, 1460, 7) + 1;
	s.paylen = paylen;
	if (syn_opts & SW_OPT_TS)
		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 1,
			      fake_cookie_tsecr(&s.t, isn, s.ack - 1, 7));     /* shift 7 */
	return s;
}

static void
udp_frame(struct frame *f)
{
	uint8_t *ip = f->b + 14;

	memset(f->b, 0, sizeof(f->b));
	memcpy(f->b, fake_mac_server, 6);
	memcpy(f->b + 6, fake_mac_client, 6);
	sw_wr16(f->b + 12, 0x0800);
	ip[0] = 0x45;
	sw_wr16(ip + 2, 20 + 8 + 4);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 198; ip[13] = 18; ip[15] = 50;
	ip[16] = 198; ip[17] = 18; ip[18] = 1; ip[19] = 1;
	sw_wr16(ip + 20, 5353);
	sw_wr16(ip + 22, FAKE_PORT_PROXY);         /* a protected port, but UDP */
	sw_wr16(ip + 24, 12);
	memcpy(ip + 28, "abcd", 4);
	f->len = 14 + 20 + 12;
}

static void
arp_frame(struct frame *f)
{
	memset(f->b, 0, sizeof(f->b));
	memset(f->b, 0xff, 6);
	memcpy(f->b + 6, fake_mac_client, 6);
	sw_wr16(f->b + 12, 0x0806);
	sw_wr16(f->b + 14, 1);
	sw_wr16(f->b + 16, 0x0800);
	f->b[18] = 6;
	f->b[19] = 4;
	sw_wr16(f->b + 20, 1);
	f->len = 14 + 28;
}

/* ICMP echo request (IPv4): not about anything of ours. */
static void
echo_frame(struct frame *f)
{
	udp_frame(f);
	f->b[14 + 9] = 1;
	memset(f->b + 34, 0, 12);
	f->b[34] = 8;
	sw_wr16(f->b + 36, (uint16_t)~0x0800);
}

/* TCP behind an IPv6 hop-by-hop header. */
static void
v6_ext_frame(struct frame *f, uint16_t dport, bool from_server)
{
	struct fake_tcp s = tcp(1, 20, dport, SW_TH_SYN, ISN, 0);
	uint8_t *ip = f->b + 14;

	if (from_server) {
		struct sw_tuple r;

		sw_tuple_reverse(&r, &s.t);
		s.t = r;
		s.from_server = true;
		s.flags = SW_TH_ACK;
	}
	put_tcp(f, &s);
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

/* IPv4 TCP behind an authentication header (12 bytes of ICV). */
static void
ah_frame(struct frame *f, uint16_t dport)
{
	struct fake_tcp s = tcp(0, 21, dport, SW_TH_SYN, ISN, 0);
	uint8_t *ip = f->b + 14;

	put_tcp(f, &s);
	memmove(ip + 44, ip + 20, f->len - 34);
	memset(ip + 20, 0, 24);
	ip[20] = 6;             /* next: TCP */
	ip[21] = 4;             /* (12 + 12) / 4 - 2 */
	ip[9] = 51;
	sw_wr16(ip + 2, (uint16_t)(sw_rd16(ip + 2) + 24));
	sw_wr16(ip + 10, 0);
	sw_wr16(ip + 10, (uint16_t)~sw_test_sum16(ip, 20, 0));
	f->len += 24;
}

/* A SYN under an 802.1ad service tag and a customer tag. */
static void
qinq_frame(struct frame *f, uint16_t dport)
{
	struct fake_tcp s = tcp(0, 22, dport, SW_TH_SYN, ISN, 0);

	put_tcp(f, &s);
	memmove(f->b + 20, f->b + 12, f->len - 12);
	sw_wr16(f->b + 12, 0x88a8);
	sw_wr16(f->b + 14, 5);
	sw_wr16(f->b + 16, 0x8100);
	sw_wr16(f->b + 18, 6);
	f->len += 8;
}

/* ---- driving bursts ---- */

static void
outside(struct fake_dp *d, struct rte_mbuf **m, const struct frame *f, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		m[i] = fake_mbuf(f[i].b, f[i].len);
	sw_outside_burst(d->lc, fake_out(d), m, n);
	fake_dp_round(d);
}

static void
inside(struct fake_dp *d, struct rte_mbuf **m, const struct frame *f, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		m[i] = fake_mbuf(f[i].b, f[i].len);
	sw_inside_burst(d->lc, fake_out(d), m, n);
	fake_dp_round(d);
}

/* How the scalar twin handles a packet: the stage the pipeline must have chosen. */
enum twin {
	TWIN_NONE = 0,          /* no stage writes it: it leaves (or is dropped) unchanged */
	TWIN_SYN,               /* sw_syn_answer, the cookie from sw_cookie_make */
	TWIN_ACK,               /* sw_handshake_complete, no first-pass MACs */
};

struct expect {
	const char *name;
	int fate;               /* SW_V_* */
	enum twin twin;
	enum sw_mode mode;
};

/* The stage twin's answer to frame f, as the pipeline's must be. */
static struct rte_mbuf *
twin_handle(struct fake_dp *twin, const struct frame *f, const struct expect *e)
{
	struct rte_mbuf *m = fake_mbuf(f->b, f->len);
	struct sw_syn_plan plan;
	struct sw_pkt pkt;
	enum sw_verdict v;
	uint32_t hash;

	REQUIRE(fake_rx(twin, m, &pkt, &hash) == 0);
	if (e->twin == TWIN_SYN) {
		sw_syn_plan(twin->lc, &pkt, &plan);
		plan.iss = sw_cookie_make(&twin->cfg->keys, &pkt.t, pkt.seq, &plan.co);
		plan.mac8 = (uint8_t)sw_cookie_mac(&twin->cfg->keys, &pkt.t, pkt.seq, plan.low);
		v = sw_syn_answer(twin->lc, fake_out(twin), m, &pkt, e->mode, hash, &plan);
	} else {
		v = sw_handshake_complete(twin->lc, fake_out(twin), m, &pkt, e->mode, hash,
					  NULL);
	}
	CHECK_EQ(v, e->fate);
	fake_dp_put(twin, m, v);
	return m;
}

/* Each packet where it must be, unchanged unless a stage wrote it, and then exactly as
 * the scalar twin wrote it. */
static void
check_fates(struct fake_dp *d, struct fake_dp *twin, struct rte_mbuf **m,
	    const struct frame *in, const struct expect *e, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		SW_CTX("packet %u: %s", i, e[i].name);
		CHECK_EQ(fake_fate(d, m[i]), e[i].fate);
		if (e[i].twin == TWIN_NONE) {
			CHECK_EQ(rte_pktmbuf_data_len(m[i]), in[i].len);
			CHECK_MEM(fake_data(m[i]), in[i].b, in[i].len);
		} else {
			struct rte_mbuf *t = twin_handle(twin, &in[i], &e[i]);

			CHECK_EQ(rte_pktmbuf_data_len(m[i]), rte_pktmbuf_data_len(t));
			CHECK_MEM(fake_data(m[i]), fake_data(t), rte_pktmbuf_data_len(t));
			CHECK_EQ(fake_parse(m[i], &(struct sw_pkt){ 0 }), 0);
		}
	}
	SW_CTX_CLEAR();
}

/* The packets of list side (or the drops), in order, are the ones expected there. */
static void
check_order(const struct fake_list *l, struct rte_mbuf **m, const struct expect *e,
	    uint16_t n, int fate, unsigned int first)
{
	unsigned int k = first;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (e[i].fate != fate)
			continue;
		SW_CTX("packet %u in order", i);
		CHECK(k < l->n && l->m[k] == m[i]);
		k++;
	}
	SW_CTX_CLEAR();
	CHECK_EQ(l->n, k);
}

/* ---- a burst of everything ---- */

static uint16_t
mixed_burst(struct frame *f, struct expect *e)
{
	struct fake_tcp s;
	uint16_t n = 0;

#define ADD(name_, fate_, twin_, mode_) \
	(e[n] = (struct expect){ name_, fate_, twin_, mode_ }, n++)

	s = tcp(0, 1, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 1, 0);
	fake_tcp_opts(&s, LINUX, 1460, 7, TSVAL, 0);
	put_tcp(&f[n], &s);
	ADD("SYN, proxy", SW_V_OUTSIDE, TWIN_SYN, SW_MODE_PROXY);

	s = cookie_ack(0, 2, FAKE_PORT_COOKIE, LINUX, false, 0);
	put_tcp(&f[n], &s);
	ADD("cookie ACK, cookie port", SW_V_INSIDE, TWIN_ACK, SW_MODE_COOKIE);

	s = cookie_ack(0, 3, FAKE_PORT_PROXY, LINUX, false, 0);
	s.ack ^= 0x100;
	put_tcp(&f[n], &s);
	ADD("ACK, wrong cookie", SW_V_DROP, TWIN_ACK, SW_MODE_PROXY);

	udp_frame(&f[n]);
	ADD("UDP", SW_V_INSIDE, TWIN_NONE, 0);

	s = tcp(0, 5, FAKE_PORT_PASS, SW_TH_SYN, ISN, 0);
	put_tcp(&f[n], &s);
	ADD("SYN to a pass port", SW_V_INSIDE, TWIN_NONE, 0);

	s = tcp(0, 6, FAKE_PORT_DROP, SW_TH_SYN, ISN, 0);
	put_tcp(&f[n], &s);
	ADD("SYN to a drop port", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(0, 7, FAKE_PORT_PROXY, SW_TH_SYN, ISN, 0);
	put_tcp(&f[n], &s);
	sw_wr16(f[n].b + 16, (uint16_t)(sw_rd16(f[n].b + 16) + 10));
	ADD("IPv4 total length past the frame", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(1, 8, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 8, 0);
	fake_tcp_opts(&s, SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS, 1440, 8, 0, 0);
	put_tcp(&f[n], &s);
	ADD("IPv6 SYN, proxy", SW_V_OUTSIDE, TWIN_SYN, SW_MODE_PROXY);

	s = cookie_ack(1, 9, FAKE_PORT_PROXY, SW_OPT_MSS, true, 0);
	put_tcp(&f[n], &s);
	ADD("IPv6 zero-window probe with a cookie", SW_V_INSIDE, TWIN_ACK, SW_MODE_PROXY);

	s = cookie_ack(0, 10, FAKE_PORT_PROXY, LINUX, false, 0);
	s.bad_csum = true;
	put_tcp(&f[n], &s);
	ADD("cookie ACK, bad checksum", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(0, 11, FAKE_PORT_PROXY, SW_TH_SYN | SW_TH_FIN, ISN, 0);
	put_tcp(&f[n], &s);
	ADD("SYN+FIN", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(0, 12, FAKE_PORT_PROXY, SW_TH_SYN | SW_TH_ACK, ISN, 77);
	put_tcp(&f[n], &s);
	ADD("SYN-ACK from outside", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(0, 13, FAKE_PORT_PROXY, SW_TH_FIN, ISN, 0);
	put_tcp(&f[n], &s);
	ADD("a FIN alone", SW_V_DROP, TWIN_NONE, 0);

	s = tcp(0, 14, FAKE_PORT_PROXY, SW_TH_RST, ISN, 0);
	put_tcp(&f[n], &s);
	ADD("RST of nothing", SW_V_DROP, TWIN_NONE, 0);

	arp_frame(&f[n]);
	ADD("ARP", SW_V_INSIDE, TWIN_NONE, 0);

	v6_ext_frame(&f[n], FAKE_PORT_PROXY, false);
	ADD("IPv6 extension header, proxy port", SW_V_DROP, TWIN_NONE, 0);

	echo_frame(&f[n]);
	ADD("ICMP echo", SW_V_INSIDE, TWIN_NONE, 0);

	s = tcp(0, 15, FAKE_PORT_PROXY, SW_TH_ACK, ISN, 1);
	put_tcp(&f[n], &s);
	f[n].b[14 + 20 + 12] = 0x60;    /* 24 bytes of header in 20 */
	ADD("TCP header past the segment", SW_V_DROP, TWIN_NONE, 0);

	s = cookie_ack(1, 16, FAKE_PORT_COOKIE, LINUX, false, 10);
	s.vlan = true;
	s.vlan_tci = 0x0f00;
	put_tcp(&f[n], &s);
	ADD("IPv6 VLAN ACK with data and a cookie", SW_V_INSIDE, TWIN_ACK, SW_MODE_COOKIE);

	s = tcp(0, 17, FAKE_PORT_COOKIE, SW_TH_SYN, ISN + 17, 0);
	fake_tcp_opts(&s, LINUX, 1300, 2, TSVAL, 0);
	put_tcp(&f[n], &s);
	ADD("SYN, cookie port", SW_V_OUTSIDE, TWIN_SYN, SW_MODE_COOKIE);

	v6_ext_frame(&f[n], FAKE_PORT_PASS, false);
	ADD("IPv6 extension header, pass port", SW_V_INSIDE, TWIN_NONE, 0);

	ah_frame(&f[n], FAKE_PORT_PROXY);
	ADD("IPv4 AH, proxy port", SW_V_DROP, TWIN_NONE, 0);

	ah_frame(&f[n], FAKE_PORT_PASS);
	ADD("IPv4 AH, pass port", SW_V_INSIDE, TWIN_NONE, 0);

	qinq_frame(&f[n], FAKE_PORT_PROXY);
	ADD("stacked VLAN tags (--unparsed drop)", SW_V_DROP, TWIN_NONE, 0);
#undef ADD
	return n;
}

static void
run_mixed(enum sw_siphash_impl impl)
{
	struct frame f[SW_RX_BURST];
	struct expect e[SW_RX_BURST];
	struct rte_mbuf *m[SW_RX_BURST];
	struct sw_counters want = { 0 };
	struct fake_dp d, twin;
	uint16_t n;

	if (sw_siphash_select(impl) != 0)
		return;                         /* not on this CPU */
	SW_CTX("mixed burst, %s", sw_siphash_impl_name());
	fake_dp_init(&d, NULL);
	fake_dp_init(&twin, NULL);
	n = mixed_burst(f, e);
	REQUIRE(n <= SW_RX_BURST);
	outside(&d, m, f, n);

	want.sc_added = 2;
	want.sc_sendcookie = 1;
	want.sc_recvcookie = 3;
	want.sc_completed = 3;
	want.proxy_opened = 3;
	want.cookie_failed = 1;
	want.port_bridged = 6;
	want.port_policy_drop = 1;
	want.mal_ah = 1;
	want.mal_vlan = 1;
	want.mal_ip_length = 1;
	want.mal_checksum = 1;
	want.mal_flags = 1;
	want.proxy_outside_synack = 1;
	want.proxy_unexpected = 1;
	want.proxy_rst_ignored = 1;
	want.mal_ipv6_ext = 1;
	want.mal_tcp_header = 1;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 2);
	CHECK_EQ(d.lc->ft.tab.count, 3);
	check_order(&d.out.sent[SW_OUTSIDE], m, e, n, SW_V_OUTSIDE, 0);
	check_order(&d.out.sent[SW_INSIDE], m, e, n, SW_V_INSIDE, 0);
	check_order(&d.out.dropped, m, e, n, SW_V_DROP, 0);
	check_fates(&d, &twin, m, f, e, n);
	/* the twin came to the same tables */
	CHECK_EQ(twin.lc->sc.tab.count, 2);
	CHECK_EQ(twin.lc->ft.tab.count, 3);
	CHECK_EQ(twin.lc->cnt.sc_recvcookie, 3);
	CHECK_EQ(twin.lc->cnt.cookie_failed, 1);
	CHECK_FAKE_FINI(&twin);
	CHECK_FAKE_FINI(&d);
	SW_CTX_CLEAR();
}

/* ---- full bursts ---- */

static void
run_full(enum sw_siphash_impl impl)
{
	struct frame f[SW_RX_BURST];
	struct expect e[SW_RX_BURST];
	struct rte_mbuf *m[SW_RX_BURST];
	struct fake_dp d, twin;
	uint64_t badack = 0, failed = 0, opened = 0;
	uint16_t i;

	if (sw_siphash_select(impl) != 0)
		return;
	SW_CTX("full bursts, %s", sw_siphash_impl_name());
	fake_dp_init(&d, NULL);
	fake_dp_init(&twin, NULL);

	/* 32 SYNs: IPv4 and IPv6, proxy and cookie ports, four option sets */
	for (i = 0; i < SW_RX_BURST; i++) {
		static const uint8_t opts[4] = { LINUX, SW_OPT_MSS, 0, SW_OPT_MSS | SW_OPT_WS };
		uint16_t port = (i & 2) ? FAKE_PORT_COOKIE : FAKE_PORT_PROXY;
		struct fake_tcp s = tcp(i & 1, 100 + i, port, SW_TH_SYN, ISN + 100 + i, 0);

		fake_tcp_opts(&s, opts[(i >> 2) & 3], 1460, 7, TSVAL, 0);
		put_tcp(&f[i], &s);
		e[i] = (struct expect){ "SYN", SW_V_OUTSIDE, TWIN_SYN,
					port == FAKE_PORT_COOKIE ? SW_MODE_COOKIE : SW_MODE_PROXY };
	}
	outside(&d, m, f, SW_RX_BURST);
	check_fates(&d, &twin, m, f, e, SW_RX_BURST);
	CHECK_EQ(d.lc->cnt.sc_added, SW_RX_BURST / 2);
	CHECK_EQ(d.lc->cnt.sc_sendcookie, SW_RX_BURST / 2);

	/* 32 ACKs of them: zero-window probes, plain ACKs, ACKs with data; every fifth
	 * with a wrong cookie. Half have entries (no first-pass MAC), half need theirs, the
	 * zero-length ones two. */
	for (i = 0; i < SW_RX_BURST; i++) {
		static const uint8_t opts[4] = { LINUX, SW_OPT_MSS, 0, SW_OPT_MSS | SW_OPT_WS };
		uint16_t port = (i & 2) ? FAKE_PORT_COOKIE : FAKE_PORT_PROXY;
		struct fake_tcp s = cookie_ack(i & 1, 100 + i, port, opts[(i >> 2) & 3],
					       i % 3 == 0, i % 3 == 2 ? 5 : 0);
		bool bad = i % 5 == 4;

		if (bad)
			s.ack ^= 0x800;
		put_tcp(&f[i], &s);
		e[i] = (struct expect){ "ACK", bad ? SW_V_DROP : SW_V_INSIDE, TWIN_ACK,
					port == FAKE_PORT_COOKIE ? SW_MODE_COOKIE : SW_MODE_PROXY };
		if (!bad)
			opened++;
		else if (port == FAKE_PORT_PROXY)
			badack++;
		else
			failed++;
	}
	outside(&d, m, f, SW_RX_BURST);
	check_fates(&d, &twin, m, f, e, SW_RX_BURST);
	CHECK_EQ(d.lc->cnt.sc_completed, opened);
	CHECK_EQ(d.lc->cnt.proxy_opened, opened);
	CHECK_EQ(d.lc->cnt.sc_badack, badack);
	CHECK_EQ(d.lc->cnt.cookie_failed, failed);
	CHECK_EQ(d.lc->cnt.sc_recvcookie, twin.lc->cnt.sc_recvcookie);
	CHECK_EQ(d.lc->ft.tab.count, opened);
	for (i = 0; i < SW_RX_BURST; i++) {
		struct sw_pkt p;

		if (e[i].fate != SW_V_INSIDE)
			continue;
		/* the server SYN carries the client's ISN, probe or not */
		SW_CTX("server SYN %u", i);
		CHECK_EQ(fake_parse(m[i], &p), 0);
		CHECK_EQ(p.tcp_flags, SW_TH_SYN);
		CHECK_EQ(p.seq, ISN + 100 + i);
	}
	SW_CTX_CLEAR();
	CHECK_FAKE_FINI(&twin);
	CHECK_FAKE_FINI(&d);
}

/* Within one round the sink's buffers fill: sent (or freed) at SW_TX_BUF, not later. */
static void
test_buffers_fill(void)
{
	struct frame f[SW_RX_BURST];
	struct rte_mbuf *m[SW_RX_BURST];
	struct fake_dp d;
	unsigned int b, i;

	fake_dp_init(&d, NULL);
	for (b = 0; b < 2; b++) {
		for (i = 0; i < SW_RX_BURST; i++) {
			struct fake_tcp s = tcp(0, 32 * b + i, FAKE_PORT_COOKIE, SW_TH_SYN, ISN, 0);

			put_tcp(&f[i], &s);
		}
		for (i = 0; i < SW_RX_BURST; i++)
			m[i] = fake_mbuf(f[i].b, f[i].len);
		sw_outside_burst(d.lc, fake_out(&d), m, SW_RX_BURST);
	}
	CHECK_EQ(SW_TX_BUF, 2 * SW_RX_BURST);
	CHECK_EQ(d.out.flushes[SW_OUTSIDE], 1);
	CHECK_EQ(d.out.sink.tx[SW_OUTSIDE].n, 0);
	CHECK_EQ(fake_nsent(&d, SW_OUTSIDE), 2 * SW_RX_BURST);
	/* 64 drops: freed as the buffer fills */
	for (b = 0; b < 2; b++) {
		for (i = 0; i < SW_RX_BURST; i++) {
			struct fake_tcp s = tcp(0, 32 * b + i, FAKE_PORT_DROP, SW_TH_SYN, ISN, 0);

			put_tcp(&f[i], &s);
			m[i] = fake_mbuf(f[i].b, f[i].len);
		}
		sw_outside_burst(d.lc, fake_out(&d), m, SW_RX_BURST);
	}
	CHECK_EQ(fake_ndropped(&d), 2 * SW_RX_BURST);
	CHECK_EQ(d.out.sink.dropped.n, 0);
	CHECK_EQ(d.lc->cnt.port_policy_drop, 2 * SW_RX_BURST);
	fake_dp_round(&d);
	CHECK_EQ(d.out.flushes[SW_OUTSIDE], 1);         /* nothing left for the round's end */
	CHECK_FAKE_FINI(&d);
}

/* ---- the NIC's checksum verdicts ---- */

static void
test_rx_checksum(void)
{
	static const struct {
		const char *name;
		bool rx_csum;
		bool syn;               /* a bare SYN (else a cookie ACK) */
		bool bad;               /* its checksum wrong */
		uint64_t ol_flags;
		int fate;
	} cases[] = {
		{ "NIC: SYN L4 bad", true, true, false, RTE_MBUF_F_RX_L4_CKSUM_BAD, SW_V_DROP },
		{ "NIC: SYN IP bad", true, true, false,
		  RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, SW_V_DROP },
		{ "NIC: ACK good, sum wrong (trusted)", true, false, true,
		  RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, SW_V_INSIDE },
		{ "NIC: ACK verified, sum not filled in (virtio)", true, false, true,
		  RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE, SW_V_INSIDE },
		{ "NIC: unknown, software finds it wrong", true, false, true, 0, SW_V_DROP },
		{ "NIC: unknown, software finds it right", true, false, false, 0, SW_V_INSIDE },
		{ "NIC: unknown, bad SYN checked", true, true, true, 0, SW_V_DROP },
		{ "no NIC verdict: bad bare SYN answered", false, true, true, 0, SW_V_OUTSIDE },
		{ "no NIC verdict: flags ignored, bad ACK dropped", false, false, true,
		  RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, SW_V_DROP },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct fake_tcp s;
		struct fake_dp d;
		struct rte_mbuf *m;

		SW_CTX("%s", cases[i].name);
		fake_dp_init(&d, NULL);
		d.lc->rx_csum = cases[i].rx_csum;
		if (cases[i].syn)
			s = tcp(0, 40, FAKE_PORT_PROXY, SW_TH_SYN, ISN, 0);
		else
			s = cookie_ack(0, 40, FAKE_PORT_PROXY, LINUX, false, 0);
		s.bad_csum = cases[i].bad;
		m = fake_tcp_mbuf(&s);
		m->ol_flags = cases[i].ol_flags;
		sw_outside_burst(d.lc, fake_out(&d), &m, 1);
		fake_dp_round(&d);
		CHECK_EQ(fake_fate(&d, m), cases[i].fate);
		CHECK_EQ(d.lc->cnt.mal_checksum, cases[i].fate == SW_V_DROP ? 1 : 0);
		CHECK_FAKE_FINI(&d);
	}
	SW_CTX_CLEAR();
}

/* ---- inside bursts; a flow's life through both ---- */

/* A flow opened through the outside port: SYN, then its ACK (client c, proxy port). */
static void
open_through(struct fake_dp *d, uint32_t c, uint32_t *iss, uint32_t *synack_tsval)
{
	struct frame f;
	struct rte_mbuf *m;
	struct fake_tcp s = tcp(0, c, FAKE_PORT_PROXY, SW_TH_SYN, ISN + c, 0);
	struct sw_pkt p;

	fake_tcp_opts(&s, LINUX, 1460, 7, TSVAL, 0);
	put_tcp(&f, &s);
	outside(d, &m, &f, 1);
	REQUIRE(fake_fate(d, m) == SW_V_OUTSIDE);
	REQUIRE(fake_parse(m, &p) == 0);
	*iss = p.seq;
	*synack_tsval = p.opt.tsval;
	s = tcp(0, c, FAKE_PORT_PROXY, SW_TH_ACK, ISN + c + 1, *iss + 1);
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 1, *synack_tsval);
	put_tcp(&f, &s);
	outside(d, &m, &f, 1);
	REQUIRE(fake_fate(d, m) == SW_V_INSIDE);
}

/* A segment of client c's connection from the server. */
static struct fake_tcp
from_server(uint32_t c, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct fake_tcp s = tcp(0, c, FAKE_PORT_PROXY, flags, seq, ack);
	struct sw_tuple r;

	sw_tuple_reverse(&r, &s.t);
	s.t = r;
	s.from_server = true;
	return s;
}

static void
test_inside_burst(void)
{
	struct frame f[8];
	struct rte_mbuf *m[8];
	struct sw_counters want;
	struct fake_dp d;
	struct fake_tcp s;
	struct sw_pkt p;
	uint32_t iss, synack_tsval;
	uint16_t n = 0, i;
	struct rte_mbuf *upd;

	fake_dp_init(&d, NULL);
	open_through(&d, 1, &iss, &synack_tsval);
	want = d.lc->cnt;

	s = from_server(1, SW_TH_SYN | SW_TH_ACK, SRV_ISN, ISN + 1 + 1);
	s.win = 29200;
	fake_tcp_opts(&s, LINUX, 1400, 9, SRV_TS, TSVAL + 1);
	put_tcp(&f[n++], &s);
	udp_frame(&f[n++]);
	s = from_server(2, SW_TH_ACK, 1, 1);
	s.t.sport = FAKE_PORT_PASS;
	put_tcp(&f[n++], &s);
	memcpy(f[n].b, f[0].b, 10);                     /* a runt */
	f[n++].len = 10;
	v6_ext_frame(&f[n++], FAKE_PORT_PASS, true);
	s = from_server(1, SW_TH_ACK | SW_TH_PSH, SRV_ISN + 1, ISN + 1 + 1);
	s.paylen = 30;
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, SRV_TS + 5, TSVAL + 1);
	put_tcp(&f[n++], &s);
	inside(&d, m, f, n);

	/* the SYN-ACK: our ACK to the server, and the window update first out */
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_EQ(fake_parse(m[0], &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_ACK);
	CHECK_EQ(p.seq, ISN + 1 + 1);
	CHECK_EQ(p.ack, SRV_ISN + 1);
	/* the SYN-ACK of the handshake, the update, the other n - 1 */
	REQUIRE(fake_nsent(&d, SW_OUTSIDE) == (unsigned int)n + 1);
	upd = d.out.sent[SW_OUTSIDE].m[1];
	CHECK_EQ(fake_parse(upd, &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_ACK);
	CHECK_EQ(p.seq, iss + 1);
	CHECK_EQ(p.win, 229);                          /* 29200 / 128, rounded up */
	for (i = 1; i < n; i++) {
		SW_CTX("inside packet %u", i);
		CHECK(d.out.sent[SW_OUTSIDE].m[1 + i] == m[i]);
		if (i < n - 1) {
			CHECK_EQ(rte_pktmbuf_data_len(m[i]), f[i].len);
			CHECK_MEM(fake_data(m[i]), f[i].b, f[i].len);
		}
	}
	SW_CTX_CLEAR();
	/* the last: the server's data, spliced */
	CHECK_EQ(fake_parse(m[n - 1], &p), 0);
	CHECK_EQ(p.seq, iss + 1);
	CHECK_EQ(p.ack, ISN + 1 + 1);
	CHECK_EQ(p.opt.tsval, SRV_TS + 5 - (SRV_TS - synack_tsval));
	want.port_bridged += 4;
	want.proxy_established++;
	want.proxy_to_client++;
	fake_check_counters(d.lc, &want);

	/* From a protected port, what cannot be translated does not leave: TCP behind an IPv6
	 * extension header, a TCP fragment; stacked VLAN tags (--unparsed drop). */
	v6_ext_frame(&f[0], FAKE_PORT_PROXY, true);
	s = from_server(1, SW_TH_ACK, SRV_ISN + 31, ISN + 1 + 1);
	put_tcp(&f[1], &s);
	sw_wr16(f[1].b + 14 + 6, 0x2000);               /* MF */
	sw_wr16(f[1].b + 14 + 10, 0);
	sw_wr16(f[1].b + 14 + 10, (uint16_t)~sw_test_sum16(f[1].b + 14, 20, 0));
	put_tcp(&f[2], &s);
	memmove(f[2].b + 20, f[2].b + 12, f[2].len - 12);
	sw_wr16(f[2].b + 12, 0x88a8);
	sw_wr16(f[2].b + 14, 5);
	sw_wr16(f[2].b + 16, 0x8100);
	sw_wr16(f[2].b + 18, 6);
	f[2].len += 8;
	inside(&d, m, f, 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(fake_fate(&d, m[i]), SW_V_DROP);
	want.mal_ipv6_ext++;
	want.mal_fragment++;
	want.mal_vlan++;
	fake_check_counters(d.lc, &want);
	/* --unparsed pass: the stacked tags are bridged as they are, and counted */
	d.cfg->unparsed_pass = true;
	inside(&d, m, &f[2], 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_OUTSIDE);
	CHECK_MEM(fake_data(m[0]), f[2].b, f[2].len);
	want.port_unparsed++;
	fake_check_counters(d.lc, &want);
	/* and from outside (a SYN to a protected port under two tags) */
	qinq_frame(&f[0], FAKE_PORT_PROXY);
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_MEM(fake_data(m[0]), f[0].b, f[0].len);
	want.port_unparsed++;
	fake_check_counters(d.lc, &want);
	d.cfg->unparsed_pass = false;

	/* a protected port's segment of no flow (none was adopted): it would leave with the
	 * server's own numbers, so it does not leave */
	s = from_server(3, SW_TH_ACK, 1, 1);
	put_tcp(&f[0], &s);
	inside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_DROP);
	want.proxy_server_no_flow++;
	fake_check_counters(d.lc, &want);

	/* the client's data and FIN; the server's FIN: closing */
	s = tcp(0, 1, FAKE_PORT_PROXY, SW_TH_ACK | SW_TH_FIN, ISN + 2, iss + 31);
	fake_tcp_opts(&s, SW_OPT_TS, 0, 0, TSVAL + 9, synack_tsval + 20);
	s.paylen = 7;
	put_tcp(&f[0], &s);
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_EQ(fake_parse(m[0], &p), 0);
	CHECK_EQ(p.ack, SRV_ISN + 31);
	CHECK_EQ(p.opt.tsecr, SRV_TS + 20);
	s = from_server(1, SW_TH_ACK | SW_TH_FIN, SRV_ISN + 31, ISN + 2 + 8);
	put_tcp(&f[0], &s);
	inside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_OUTSIDE);
	{
		struct sw_tuple t;
		struct sw_flow *fl;

		fake_tuple(&t, 0, 1, 30001, FAKE_PORT_PROXY);
		fl = sw_flowtab_lookup(&d.lc->ft, &t, sw_ctab_hash(&d.lc->ft.tab, &t));
		REQUIRE(fl != NULL);
		CHECK_EQ(sw_flow_state(fl), SW_FLOW_CLOSING);
	}
	/* a new SYN on the closing 4-tuple: a new handshake, answered at once */
	s = tcp(0, 1, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 99999, 0);
	put_tcp(&f[0], &s);
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_OUTSIDE);
	CHECK_EQ(fake_parse(m[0], &p), 0);
	CHECK_EQ(p.tcp_flags, SW_TH_SYN | SW_TH_ACK);
	CHECK_EQ(p.ack, ISN + 99999 + 1);
	want.proxy_to_server++;
	want.proxy_to_client++;
	want.proxy_closed++;
	want.sc_added++;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->ft.tab.count, 0);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	CHECK_FAKE_FINI(&d);
}

/* ---- ICMP errors about our segments ---- */

/* An ICMP(v6) error from a router about the segment quoted (its tuple q, sequence qseq). */
static void
icmp_frame(struct frame *f, uint8_t type, uint8_t code, const struct sw_tuple *q, uint32_t qseq)
{
	uint8_t *ip = f->b + 14, *icmp, *qip;
	unsigned int l3 = q->v6 ? 40 : 20, qlen = l3 + 8, ilen = 8 + qlen;
	uint64_t sum = 0;
	unsigned int i;

	memset(f->b, 0, sizeof(f->b));
	memcpy(f->b, fake_mac_server, 6);
	memcpy(f->b + 6, fake_mac_client, 6);
	sw_wr16(f->b + 12, q->v6 ? 0x86dd : 0x0800);
	icmp = ip + l3;
	qip = icmp + 8;
	if (!q->v6) {
		ip[0] = 0x45;
		sw_wr16(ip + 2, (uint16_t)(20 + ilen));
		ip[8] = 64;
		ip[9] = 1;
		ip[12] = 198; ip[13] = 18; ip[14] = 3; ip[15] = 1;     /* a router */
		memcpy(ip + 16, q->src, 4);
		qip[0] = 0x45;
		sw_wr16(qip + 2, 40);
		qip[8] = 60;
		qip[9] = 6;
		memcpy(qip + 12, q->src, 4);
		memcpy(qip + 16, q->dst, 4);
	} else {
		ip[0] = 0x60;
		sw_wr16(ip + 4, (uint16_t)ilen);
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, q->src, 16);
		ip[8 + 7] = 0x03;                       /* a router */
		memcpy(ip + 24, q->src, 16);
		qip[0] = 0x60;
		sw_wr16(qip + 4, 20);
		qip[6] = 6;
		qip[7] = 60;
		memcpy(qip + 8, q->src, 16);
		memcpy(qip + 24, q->dst, 16);
	}
	icmp[0] = type;
	icmp[1] = code;
	sw_wr16(icmp + 6, 1280);                        /* next-hop MTU */
	sw_wr16(qip + l3, q->sport);
	sw_wr16(qip + l3 + 2, q->dport);
	sw_wr32(qip + l3 + 4, qseq);
	if (q->v6) {
		for (i = 0; i < 32; i += 2)
			sum += sw_rd16(ip + 8 + i);
		sum += ilen + 58;
	}
	for (i = 0; i < ilen; i += 2)
		sum += sw_rd16(icmp + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sw_wr16(icmp + 2, (uint16_t)~sum);
	if (!q->v6) {
		sum = 0;
		for (i = 0; i < 20; i += 2)
			sum += sw_rd16(ip + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		sw_wr16(ip + 10, (uint16_t)~sum);
	}
	f->len = 14 + l3 + ilen;
}

/* The ICMP message's checksum (with ICMPv6's pseudo-header) is right. */
static bool
icmp_sum_ok(const struct rte_mbuf *m)
{
	const uint8_t *d = fake_data(m), *ip = d + 14;
	int v6 = (ip[0] >> 4) == 6;
	unsigned int l3 = v6 ? 40 : 20;
	unsigned int ilen = v6 ? sw_rd16(ip + 4) : sw_rd16(ip + 2) - 20u, i;
	uint64_t sum = 0;

	if (v6) {
		for (i = 0; i < 32; i += 2)
			sum += sw_rd16(ip + 8 + i);
		sum += ilen + 58;
	}
	for (i = 0; i < ilen; i += 2)
		sum += sw_rd16(ip + l3 + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void
test_icmp(void)
{
	struct sw_counters want;
	struct frame f[4];
	struct rte_mbuf *m[4];
	struct fake_dp d;
	struct sw_tuple t, q;
	struct sw_sc_entry *e;
	struct fake_tcp s;
	struct sw_pkt p;
	uint32_t iss, synack_tsval;

	fake_dp_init(&d, NULL);
	/* a SYN answered with an entry */
	s = tcp(0, 1, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 1, 0);
	put_tcp(&f[0], &s);
	outside(&d, m, f, 1);
	REQUIRE(fake_parse(m[0], &p) == 0);
	iss = p.seq;
	t = s.t;
	sw_tuple_reverse(&q, &t);
	e = sw_syncache_lookup(&d.lc->sc, &t, sw_ctab_hash(&d.lc->sc.tab, &t));
	REQUIRE(e != NULL);
	want = d.lc->cnt;

	/* about our SYN-ACK: counted, the entry kept on the first, gone on the second; one
	 * quoting another sequence number is not about it (bridged) */
	icmp_frame(&f[0], 3, 1, &q, iss);
	icmp_frame(&f[1], 3, 1, &q, iss + 1);
	icmp_frame(&f[2], 3, 1, &q, iss);
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_DROP);
	want.sc_unreach = 1;
	fake_check_counters(d.lc, &want);
	CHECK(e->flags & SW_SCF_UNREACH);
	CHECK_EQ(d.lc->sc.tab.count, 1);
	outside(&d, m, f + 1, 2);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_EQ(fake_fate(&d, m[1]), SW_V_DROP);
	want.port_bridged = 1;
	want.sc_unreach = 2;
	fake_check_counters(d.lc, &want);
	CHECK_EQ(d.lc->sc.tab.count, 0);
	CHECK_FAKE_FINI(&d);

	/* ICMPv6 packet too big is no reason to give up a handshake */
	fake_dp_init(&d, NULL);
	s = tcp(1, 2, FAKE_PORT_PROXY, SW_TH_SYN, ISN + 2, 0);
	put_tcp(&f[0], &s);
	outside(&d, m, f, 1);
	REQUIRE(fake_parse(m[0], &p) == 0);
	sw_tuple_reverse(&q, &s.t);
	icmp_frame(&f[0], 2, 0, &q, p.seq);
	icmp_frame(&f[1], 1, 4, &q, p.seq);             /* ICMPv6 port unreachable */
	outside(&d, m, f, 2);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_EQ(fake_fate(&d, m[1]), SW_V_DROP);
	CHECK_EQ(d.lc->cnt.sc_unreach, 1);
	CHECK_EQ(d.lc->cnt.port_bridged, 1);
	CHECK_FAKE_FINI(&d);

	/* about a spliced server segment: the quoted number into the server's space */
	fake_dp_init(&d, NULL);
	open_through(&d, 3, &iss, &synack_tsval);
	fake_tuple(&t, 0, 3, 30003, FAKE_PORT_PROXY);
	sw_tuple_reverse(&q, &t);
	icmp_frame(&f[0], 3, 4, &q, iss + 1 + 100);     /* while opening: not translated */
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	CHECK_MEM(fake_data(m[0]), f[0].b, f[0].len);
	s = from_server(3, SW_TH_SYN | SW_TH_ACK, SRV_ISN, ISN + 3 + 1);
	put_tcp(&f[0], &s);
	inside(&d, m, f, 1);
	want = d.lc->cnt;
	icmp_frame(&f[0], 3, 4, &q, iss + 1 + 100);
	outside(&d, m, f, 1);
	CHECK_EQ(fake_fate(&d, m[0]), SW_V_INSIDE);
	/* the quoted TCP header at 14 + 20 + 8 + 20, its sequence number 4 bytes in */
	CHECK_EQ(sw_rd32(fake_data(m[0]) + 66), SRV_ISN + 1 + 100);
	CHECK(icmp_sum_ok(m[0]));
	/* nothing else of it changed: up to the ICMP checksum, and from it to the number */
	CHECK_EQ(rte_pktmbuf_data_len(m[0]), f[0].len);
	CHECK_MEM(fake_data(m[0]), f[0].b, 36);
	CHECK_MEM(fake_data(m[0]) + 38, f[0].b + 38, 66 - 38);
	want.proxy_icmp++;
	fake_check_counters(d.lc, &want);
	CHECK_FAKE_FINI(&d);
}

int
main(void)
{
	static const enum sw_siphash_impl impls[] = {
		SW_SIPHASH_SCALAR, SW_SIPHASH_AVX2, SW_SIPHASH_AVX512,
	};
	enum sw_siphash_impl best = sw_siphash_best_impl();
	unsigned int i;

	test_fake_catches();
	for (i = 0; i < RTE_DIM(impls); i++) {
		run_mixed(impls[i]);
		run_full(impls[i]);
	}
	REQUIRE(sw_siphash_select(best) == 0);
	test_buffers_fill();
	test_rx_checksum();
	test_inside_burst();
	test_icmp();
	return sw_test_done();
}
