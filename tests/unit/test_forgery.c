/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forged handshakes, counted. A blind attacker's ACK opens a server connection when it
 * happens to carry a valid cookie for its own addresses, ports and sequence number: at full
 * width that is one ACK in 2^24 per reading without timestamps and one in 2^32 with them,
 * too rare to count. This file is built with handshake.c compiled to compare only
 * SW_COOKIE_MAC_KEEP of the MAC (8 of the cookie's 24 bits, 4 of the TSecr's 8: meson.build),
 * sends many random ACKs through the stage and checks that forgeries come at the rate the
 * widths say, each reading counted: a zero-length ACK is read twice (ack - 1 over seq - 1,
 * and as a zero-window probe over seq), one with data once, one with timestamps must match
 * the TSecr's bits as well. Then the budget of checks of ACKs without timestamps
 * (cookie_check_rate): however many such ACKs come, no more are checked than the budget
 * holds, and so no more forged than it allows. docs/DATAPLANE.md, "The cookie", says what
 * this gives at full width.
 */
#include <math.h>
#include <stdio.h>

#include "fake_check.h"
#include "handshake.h"

#ifndef SW_COOKIE_MAC_KEEP
#error "built with handshake.c and -DSW_COOKIE_MAC_KEEP (tests/unit/meson.build)"
#endif

#define BATCH   4096u   /* ACKs per fixture: its mbufs are freed only by fake_dp_fini */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static unsigned int
popcount(uint32_t x)
{
	return (unsigned int)__builtin_popcount(x);
}

enum kind {
	DATA,           /* no timestamps, 100 bytes of data: one reading */
	BARE,           /* no timestamps, zero length: two readings */
	BARE_TS,        /* timestamps, zero length: two readings, TSecr bits too */
};

/* A random ACK to the cookie port from a random client: random numbers everywhere. */
static struct fake_tcp
random_ack(enum kind k)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	fake_tuple(&s.t, (int)(rnd() & 1), rnd() & 0xffffff, (uint16_t)(1024 + rnd() % 60000),
		   FAKE_PORT_COOKIE);
	s.seq = rnd() ^ rnd() << 16;
	s.ack = rnd() ^ rnd() << 16;
	s.flags = SW_TH_ACK;
	s.win = 502;
	s.paylen = k == DATA ? 100 : 0;
	if (k == BARE_TS)
		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, rnd(), rnd() ^ rnd() << 16);
	return s;
}

/* n random ACKs of kind k through the stage (first-pass MACs or not), in fixtures of
 * BATCH; the cookies found valid. */
static uint64_t
forgeries(enum kind k, unsigned int n, bool first_pass)
{
	struct fake_dp_params par = { .flows = 2 * BATCH };
	uint64_t valid = 0, failed = 0;
	unsigned int i, done = 0;

	while (done < n) {
		struct fake_dp d;

		fake_dp_init(&d, &par);
		d.cfg->lim.cookie_check_rate = 0;
		for (i = 0; i < BATCH && done < n; i++, done++) {
			struct fake_tcp s = random_ack(k);
			struct rte_mbuf *m = fake_tcp_mbuf(&s);
			struct sw_ack_macs macs;
			struct sw_pkt pkt;
			enum sw_verdict v;
			uint32_t hash;

			REQUIRE(fake_rx(&d, m, &pkt, &hash) == 0);
			fake_ack_macs(&d, &pkt, &macs);
			v = sw_handshake_complete(d.lc, fake_out(&d), m, &pkt, SW_MODE_COOKIE, hash,
						  first_pass ? &macs : NULL);
			fake_dp_put(&d, m, v);
		}
		valid += d.lc->cnt.sc_recvcookie;
		failed += d.lc->cnt.cookie_failed;
		CHECK_EQ(d.lc->cnt.cookie_limited, 0);
		CHECK_EQ(fake_dp_fini(&d), 0);
	}
	/* every ACK either forged its way in or failed, once */
	CHECK_EQ(valid + failed, n);
	return valid;
}

/* count within 6 standard deviations of n trials of probability p (deterministic here: the
 * generator's seed is fixed; the bound says the rate is the one the widths give). */
static void
check_rate(const char *what, uint64_t count, unsigned int n, double p)
{
	double mean = n * p, sd = sqrt(n * p * (1 - p));

	printf("%s: %llu forged of %u (expected %.1f, sd %.1f)\n", what,
	       (unsigned long long)count, n, mean, sd);
	SW_CTX("%s", what);
	CHECK(fabs((double)count - mean) <= 6 * sd);
}

static void
test_weakened_widths(void)
{
	unsigned int iss_bits = popcount(SW_COOKIE_MAC_KEEP & ~0xffu);
	unsigned int ts_bits = popcount(SW_COOKIE_MAC_KEEP & 0xffu);
	double one = ldexp(1, -(int)iss_bits), one_ts = ldexp(1, -(int)(iss_bits + ts_bits));
	unsigned int n = 1u << 17;
	int fp;

	REQUIRE(iss_bits == 8 && ts_bits == 4);
	for (fp = 0; fp < 2; fp++) {
		const char *how = fp ? "first-pass MACs" : "the stage's own MACs";
		char what[96];

		snprintf(what, sizeof(what), "ACKs with data, %s", how);
		check_rate(what, forgeries(DATA, n, fp), n, one);
		snprintf(what, sizeof(what), "zero-length ACKs, %s", how);
		check_rate(what, forgeries(BARE, n, fp), n, 1 - (1 - one) * (1 - one));
		snprintf(what, sizeof(what), "zero-length ACKs with timestamps, %s", how);
		check_rate(what, forgeries(BARE_TS, n, fp), n, 1 - (1 - one_ts) * (1 - one_ts));
	}
}

/* The budget: rate checks a second for two workers, so this one has rate / 2 a second and
 * a bucket of as much. A flood of zero-length ACKs without timestamps gets that many
 * checks (two per ACK: both readings), the rest are dropped unchecked; a second later
 * there is as much again. ACKs with timestamps are not held to it. */
static void
test_budget(void)
{
	const uint32_t rate = 2000, share = rate / 2;
	struct fake_dp_params par = { .flows = 2 * BATCH };
	uint64_t checked, forged;
	struct fake_dp d;
	unsigned int i, sec;

	SW_CTX("budget");
	fake_dp_init(&d, &par);
	d.cfg->lim.cookie_check_rate = rate;
	d.lc->nworkers = 2;
	for (sec = 0; sec < 3; sec++) {
		struct sw_counters before = d.lc->cnt;
		unsigned int n = 3 * share;

		fake_dp_time(&d, FAKE_T0_MS + 1000u * sec);
		for (i = 0; i < n; i++) {
			struct fake_tcp s = random_ack(BARE);
			struct rte_mbuf *m = fake_tcp_mbuf(&s);
			struct sw_pkt pkt;
			uint32_t hash;

			REQUIRE(fake_rx(&d, m, &pkt, &hash) == 0);
			fake_dp_put(&d, m, sw_handshake_complete(d.lc, fake_out(&d), m, &pkt,
								  SW_MODE_COOKIE, hash, NULL));
		}
		checked = (d.lc->cnt.cookie_failed - before.cookie_failed) +
			  (d.lc->cnt.sc_recvcookie - before.sc_recvcookie);
		forged = d.lc->cnt.sc_recvcookie - before.sc_recvcookie;
		/* share checks, two an ACK but for a forged one (found at its first reading,
		 * maybe) and the last one (the budget's last check, for its first reading) */
		CHECK(checked >= share / 2 && checked <= share / 2 + forged + 1);
		CHECK_EQ(d.lc->cnt.cookie_limited - before.cookie_limited, n - checked);
		CHECK(forged <= share);
		/* with timestamps: checked whatever is left of the budget */
		{
			struct sw_counters b2 = d.lc->cnt;

			for (i = 0; i < 64; i++) {
				struct fake_tcp s = random_ack(BARE_TS);
				struct rte_mbuf *m = fake_tcp_mbuf(&s);
				struct sw_pkt pkt;
				uint32_t hash;

				REQUIRE(fake_rx(&d, m, &pkt, &hash) == 0);
				fake_dp_put(&d, m, sw_handshake_complete(d.lc, fake_out(&d), m, &pkt,
									  SW_MODE_COOKIE, hash,
									  NULL));
			}
			CHECK_EQ(d.lc->cnt.cookie_limited, b2.cookie_limited);
			CHECK_EQ((d.lc->cnt.cookie_failed - b2.cookie_failed) +
				 (d.lc->cnt.sc_recvcookie - b2.sc_recvcookie), 64);
		}
	}
	CHECK_EQ(fake_dp_fini(&d), 0);
}

int
main(void)
{
	test_weakened_widths();
	test_budget();
	return sw_test_done();
}
