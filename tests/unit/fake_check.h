/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks (sw_test.h) of what the stages write into an mbuf, for the tests that use the
 * fake of fake_dp.h.
 */
#ifndef FAKE_CHECK_H
#define FAKE_CHECK_H

#include "fake_dp.h"
#include "sw_test.h"

/* What a segment synwall writes (tcpout.h) must be. */
struct fake_want {
	struct sw_tuple t;              /* source -> destination */
	const uint8_t *eth_src;
	const uint8_t *eth_dst;
	bool vlan;
	uint16_t vlan_tci;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;                  /* exactly */
	uint16_t win;
	uint8_t opts;                   /* SW_OPT_* present, exactly */
	uint16_t mss;
	uint8_t wscale;
	uint32_t tsval;
	uint32_t tsecr;
};

/* A segment synwall originated: every field of w, its checksums, the fixed IP fields
 * (IPv4: IHL 5, ID 0, DF, TTL 64; IPv6: hop limit 64), no payload, no offload flags. */
static inline void
fake_check_seg(const struct rte_mbuf *m, const struct fake_want *w, struct sw_pkt *out)
{
	struct sw_pkt p;
	const uint8_t *d;

	if (out == NULL)
		out = &p;
	CHECK(m != NULL);
	if (m == NULL)
		return;
	d = fake_data(m);
	CHECK_EQ(fake_parse(m, out), 0);
	CHECK(sw_tuple_eq(&out->t, &w->t));
	CHECK_MEM(d, w->eth_dst, 6);
	CHECK_MEM(d + 6, w->eth_src, 6);
	CHECK_EQ(out->has_vlan, w->vlan);
	if (w->vlan)
		CHECK_EQ(out->vlan_tci, w->vlan_tci);
	CHECK_EQ(out->seq, w->seq);
	CHECK_EQ(out->ack, w->ack);
	CHECK_EQ(out->tcp_flags, w->flags);
	CHECK_EQ(out->win, w->win);
	CHECK_EQ(out->opt.present, w->opts);
	if (w->opts & SW_OPT_MSS)
		CHECK_EQ(out->opt.mss, w->mss);
	if (w->opts & SW_OPT_WS)
		CHECK_EQ(out->opt.wscale, w->wscale);
	if (w->opts & SW_OPT_TS) {
		CHECK_EQ(out->opt.tsval, w->tsval);
		CHECK_EQ(out->opt.tsecr, w->tsecr);
	}
	CHECK_EQ(out->l4_len, out->th_len);             /* no payload */
	CHECK_EQ(sw_rd16(d + out->l2_len + out->l3_len + 18), 0);      /* urgent pointer */
	if (!out->t.v6) {
		const uint8_t *ip = d + out->l2_len;

		CHECK_EQ(ip[0], 0x45);
		CHECK_EQ(sw_rd16(ip + 4), 0);
		CHECK_EQ(sw_rd16(ip + 6), 0x4000);
		CHECK_EQ(ip[8], 64);
	} else {
		CHECK_EQ(out->ttl, 64);
	}
	CHECK_EQ(m->ol_flags, 0);
}

/* Every counter of lc is what want says (the ones not set there: 0). */
#define FAKE_COUNTER_NAME(field, name) name,
static const char *const fake_counter_names[] __attribute__((unused)) = {
	SW_COUNTERS(FAKE_COUNTER_NAME)
};
#undef FAKE_COUNTER_NAME

static inline void
fake_check_counters(const struct sw_lcore *lc, const struct sw_counters *want)
{
	unsigned int i;

	for (i = 0; i < SW_NCOUNTERS; i++)
		CHECK_MSG(sw_counter_at(&lc->cnt, i) == sw_counter_at(want, i),
			  "counter %s is %" PRIu64 ", expected %" PRIu64, fake_counter_names[i],
			  sw_counter_at(&lc->cnt, i), sw_counter_at(want, i));
}

/* The fake found nothing wrong with the mbufs (printed otherwise); d is gone after. */
#define CHECK_FAKE_FINI(d) CHECK_EQ(fake_dp_fini(d), 0)

#endif
