/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The syncache (syncache.h): insert/lookup/remove, overflow reporting, the pause with its
 * FreeBSD backoff (16 s, doubled up to 6 times for an overflow within one more pause of
 * the last, reset after), the timer sweep, and an entry's age as a dump shows it.
 */
#include <stdlib.h>

#include "sw_const.h"
#include "sw_test.h"
#include "syncache.h"

static void *
sc_new(struct sw_syncache *sc, uint32_t hashsize, uint32_t bucketlimit, uint32_t seed)
{
	size_t sz = (sw_syncache_memsize(hashsize, bucketlimit) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);

	REQUIRE(mem != NULL);
	memset(mem, 0xa5, sz);
	memset(sc, 0x5a, sizeof(*sc));  /* init must set every field it needs */
	REQUIRE(sw_syncache_init(sc, mem, hashsize, bucketlimit, seed) == 0);
	return mem;
}

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(2000 + i);
	k->dport = 443;
	if (i & 1) {
		unsigned int j;

		k->v6 = 1;
		for (j = 0; j < 16; j++) {
			k->src[j] = (uint8_t)(0x20 + j);
			k->dst[j] = (uint8_t)(0x40 + j);
		}
		k->src[12] = (uint8_t)(i >> 24);
		k->src[13] = (uint8_t)(i >> 16);
		k->src[14] = (uint8_t)(i >> 8);
		k->src[15] = (uint8_t)i;
	} else {
		k->src[0] = 100;
		k->src[1] = (uint8_t)(i >> 16);
		k->src[2] = (uint8_t)(i >> 8);
		k->src[3] = (uint8_t)i;
		k->dst[0] = 192;
		k->dst[1] = 0;
		k->dst[2] = 2;
		k->dst[3] = 10;
	}
}

static struct sw_sc_entry *
sc_look(const struct sw_syncache *sc, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_syncache_lookup(sc, &k, sw_ctab_hash(&sc->tab, &k));
}

static struct sw_sc_entry *
sc_ins(struct sw_syncache *sc, uint32_t i, uint32_t cachelimit, unsigned int *ev)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_syncache_insert(sc, &k, sw_ctab_hash(&sc->tab, &k), cachelimit, ev);
}

static void
test_insert_lookup(void)
{
	struct sw_syncache sc;
	void *mem = sc_new(&sc, 64, 4, 1);
	struct sw_sc_entry *e4, *e6;
	struct sw_tuple k, out;
	unsigned int ev, i;

	CHECK_EQ(sizeof(struct sw_sc_entry), 64);
	CHECK_EQ(sc.paused, 0);
	CHECK_EQ(sc.pause_backoff, 0);
	CHECK_EQ(sc.pause_until_ms, 0);
	CHECK_EQ(sc.tab.count, 0);

	e4 = sc_ins(&sc, 10, 256, &ev);
	CHECK_EQ(ev, 0);
	e6 = sc_ins(&sc, 11, 256, &ev);
	CHECK_EQ(ev, 0);
	REQUIRE(e4 != NULL && e6 != NULL);
	/* a fresh entry is all zeroes past the header */
	CHECK_EQ(e4->irs, 0);
	CHECK_EQ(e4->iss, 0);
	CHECK_EQ(e4->flags, 0);
	CHECK_EQ(e4->rxmits, 0);
	CHECK_EQ(e4->expire_ms, 0);
	e4->irs = 0x11111111;
	e4->iss = 0x22222222;
	e6->irs = 0x33333333;
	CHECK(sc_look(&sc, 10) == e4);
	CHECK(sc_look(&sc, 11) == e6);
	CHECK(sc_look(&sc, 12) == NULL);
	CHECK_EQ(sc_look(&sc, 10)->irs, 0x11111111);
	CHECK_EQ(sc_look(&sc, 11)->irs, 0x33333333);
	key(&k, 11);
	sw_ctab_tuple(&sc.tab, e6, &out);
	CHECK(sw_tuple_eq(&out, &k));
	sw_syncache_remove(&sc, e4);
	CHECK(sc_look(&sc, 10) == NULL);
	CHECK(sc_look(&sc, 11) == e6);
	sw_syncache_remove(&sc, e6);
	CHECK(sc_look(&sc, 11) == NULL);
	CHECK_EQ(sc.tab.count, 0);

	/* cache limit reported as a cache overflow; a full bucket as a bucket overflow */
	for (i = 0; i < 5; i++) {
		sc_ins(&sc, 100 + i, 5, &ev);
		CHECK_EQ(ev, 0);
	}
	sc_ins(&sc, 200, 5, &ev);
	CHECK_EQ(ev, SW_CTAB_EVICT_CACHE);
	CHECK(sc_look(&sc, 100) == NULL);
	CHECK_EQ(sc.tab.count, 5);
	free(mem);

	{
		struct sw_syncache s1;
		void *m1 = sc_new(&s1, 1, 3, 1);       /* one bucket of 3 */

		for (i = 0; i < 3; i++) {
			sc_ins(&s1, i, 100, &ev);
			CHECK_EQ(ev, 0);
		}
		sc_ins(&s1, 3, 100, &ev);
		CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
		CHECK(sc_look(&s1, 0) == NULL);
		CHECK(sc_look(&s1, 1) != NULL);
		CHECK(sc_look(&s1, 3) != NULL);
		free(m1);
	}
}

static void
test_rto(void)
{
	unsigned int n;

	CHECK_EQ(sw_syncache_rto_ms(0), SW_SYNACK_RTO_MS);
	CHECK_EQ(sw_syncache_rto_ms(1), 2 * SW_SYNACK_RTO_MS);
	CHECK_EQ(sw_syncache_rto_ms(2), 4 * SW_SYNACK_RTO_MS);
	CHECK_EQ(sw_syncache_rto_ms(3), 8 * SW_SYNACK_RTO_MS);
	for (n = 1; n < 300; n++) {
		SW_CTX("rxmits %u", n);
		CHECK(sw_syncache_rto_ms(n) >= sw_syncache_rto_ms(n - 1));
		CHECK(sw_syncache_rto_ms(n) > 0);
		CHECK(sw_syncache_rto_ms(n) <= 3600u * 1000);     /* capped */
	}
	SW_CTX_CLEAR();
}

static void
test_pause(void)
{
	struct sw_syncache sc;
	void *mem = sc_new(&sc, 4, 2, 1);
	const uint64_t P = SW_SC_PAUSE_MS;
	uint64_t now, until, len;
	unsigned int k;

	CHECK_EQ(P, 16000);
	CHECK_EQ(SW_SC_PAUSE_MAX_BACKOFF, 6);
	CHECK(!sw_syncache_paused(&sc, 0));
	CHECK(!sw_syncache_paused(&sc, 123456));

	/* the first overflow: 16 s */
	now = 50000;
	CHECK(sw_syncache_pause(&sc, now));
	CHECK_EQ(sc.pause_until_ms, now + P);
	CHECK(sw_syncache_paused(&sc, now));
	/* an overflow while paused changes nothing */
	CHECK(!sw_syncache_pause(&sc, now + 1000));
	CHECK_EQ(sc.pause_until_ms, now + P);
	CHECK(sw_syncache_paused(&sc, now + P - 1));
	/* lifted at the deadline exactly */
	CHECK(!sw_syncache_paused(&sc, now + P));
	CHECK(!sw_syncache_paused(&sc, now + P + 1));

	/* Overflows right after each pause: 32, 64, 128, 256, 512, 1024 s, then 1024 s
	 * again (6 doublings at most). */
	until = now + P;
	len = P;
	for (k = 1; k <= 9; k++) {
		uint64_t at = until + 500;
		uint64_t want = P << (k <= 6 ? k : 6);

		SW_CTX("overflow %u, 500 ms after the previous pause ended", k + 1);
		CHECK(!sw_syncache_paused(&sc, at));
		CHECK(sw_syncache_pause(&sc, at));
		CHECK_EQ(sc.pause_until_ms - at, want);
		CHECK(sw_syncache_paused(&sc, at + want - 1));
		CHECK(!sw_syncache_paused(&sc, at + want));
		until = at + want;
		len = want;
	}
	SW_CTX_CLEAR();
	CHECK_EQ(len, P << 6);

	/* An overflow long after the window: back to 16 s. */
	now = until + 10 * len;
	CHECK(!sw_syncache_paused(&sc, now));
	CHECK(sw_syncache_pause(&sc, now));
	CHECK_EQ(sc.pause_until_ms - now, P);
	until = now + P;

	/* The window is one more pause after the end of the last: an overflow at
	 * until + 16 s - 1 is the same flood (doubles), one at until + 16 s a new one. */
	CHECK(!sw_syncache_paused(&sc, until + P - 1));
	CHECK(sw_syncache_pause(&sc, until + P - 1));
	CHECK_EQ(sc.pause_until_ms - (until + P - 1), 2 * P);
	until = sc.pause_until_ms;
	/* now paused for 32 s; its window ends 32 s after it */
	CHECK(!sw_syncache_paused(&sc, until + 2 * P));
	CHECK(sw_syncache_pause(&sc, until + 2 * P));
	CHECK_EQ(sc.pause_until_ms - (until + 2 * P), P);

	/* A pause at time 0 works too (no special meaning of a zero deadline). */
	{
		struct sw_syncache s0;
		void *m0 = sc_new(&s0, 4, 2, 1);

		CHECK(sw_syncache_pause(&s0, 0));
		CHECK(sw_syncache_paused(&s0, 0));
		CHECK(sw_syncache_paused(&s0, P - 1));
		CHECK(!sw_syncache_paused(&s0, P));
		CHECK(sw_syncache_pause(&s0, P + 10));
		CHECK_EQ(s0.pause_until_ms - (P + 10), 2 * P);
		free(m0);
	}
	free(mem);
}

/* ---- timers ------------------------------------------------------------------------- */

struct timer_log {
	uint32_t calls[64];             /* per key */
	uint64_t called_at[64];
	uint64_t now;
	uint32_t total;
};

static enum sw_sc_timer_action
timer_fn(struct sw_sc_entry *e, void *arg)
{
	struct timer_log *log = arg;
	uint32_t i = e->irs;            /* the key number */

	log->total++;
	if (i < 64) {
		log->calls[i]++;
		log->called_at[i] = log->now;
	}
	/* keys with bit 1 set are retransmitted and rescheduled, the others dropped */
	if (i & 2) {
		e->rxmits++;
		e->expire_ms = (uint32_t)log->now + sw_syncache_rto_ms(e->rxmits);
		return SW_SC_KEEP;
	}
	return SW_SC_DROP;
}

/*
 * 40 entries: keys 0..19 expire at t0 + 50, keys 20..39 at t0 + 5000. With the sweep
 * called every `tick` ms, by t0 + 50 + period + tick every entry of the first group has
 * had its timer called exactly once, none of the second; dropped entries are gone, kept
 * ones rescheduled.
 */
static void
sweep_scenario(uint32_t hashsize, uint32_t tick)
{
	struct sw_syncache sc;
	void *mem = sc_new(&sc, hashsize, hashsize < 16 ? 64 : 8, 4242);
	struct timer_log log;
	const uint32_t period = SW_SWEEP_PERIOD_MS;
	uint64_t t0 = 7000000, now;
	unsigned int ev, i;

	memset(&log, 0, sizeof(log));
	sc.sweep.last_ms = t0;          /* as the worker does at start */
	for (i = 0; i < 40; i++) {
		struct sw_sc_entry *e = sc_ins(&sc, i, UINT32_MAX, &ev);

		REQUIRE(e != NULL && ev == 0);
		e->irs = i;
		e->expire_ms = (uint32_t)(t0 + (i < 20 ? 50 : 5000));
	}
	for (now = t0; now <= t0 + 50 + period + tick; now += tick) {
		log.now = now;
		sw_syncache_sweep(&sc, now, period, timer_fn, &log);
		for (i = 0; i < 20; i++)
			if (log.calls[i] != 0)
				CHECK(log.called_at[i] >= t0 + 50);
	}
	for (i = 0; i < 40; i++) {
		SW_CTX("hashsize %u, sweep every %u ms, key %u (expires at t0+%u)", hashsize, tick,
		       i, i < 20 ? 50 : 5000);
		CHECK_EQ(log.calls[i], i < 20 ? 1 : 0);
		if (i < 20 && (i & 2) == 0)
			CHECK(sc_look(&sc, i) == NULL);
		else
			CHECK(sc_look(&sc, i) != NULL);
		if (i < 20 && (i & 2) != 0 && sc_look(&sc, i) != NULL) {
			CHECK_EQ(sc_look(&sc, i)->rxmits, 1);
		}
	}
	SW_CTX("hashsize %u, sweep every %u ms: entries left", hashsize, tick);
	CHECK_EQ(sc.tab.count, 40 - 10);
	SW_CTX_CLEAR();
	free(mem);
}

static void
test_sweep(void)
{
	struct sw_syncache sc;
	void *mem = sc_new(&sc, 16, 4, 77);
	struct timer_log log;
	unsigned int ev, i;
	uint32_t visited, bucket_of[30];

	/* Coarse steps. Expiry: keys 0..9 long ago, 10..19 at 10100, 20..29 at 10201. */
	memset(&log, 0, sizeof(log));
	sc.sweep.last_ms = 10000;
	for (i = 0; i < 30; i++) {
		struct sw_sc_entry *e = sc_ins(&sc, i, UINT32_MAX, &ev);

		REQUIRE(e != NULL && ev == 0);
		e->irs = i;
		e->expire_ms = i < 10 ? 9000 : i < 20 ? 10100 : 10201;
	}
	for (i = 0; i < 30; i++) {
		struct sw_tuple k;

		key(&k, i);
		bucket_of[i] = sw_ctab_hash(&sc.tab, &k) & sc.tab.mask;
	}
	/* half a period after the last sweep: the first half of the buckets */
	{
		uint32_t want = 0, b;

		for (b = 0; b < 8; b++)
			want += sw_ctab_bucket_count(&sc.tab, b);
		log.now = 10050;
		visited = sw_syncache_sweep(&sc, 10050, 100, timer_fn, &log);
		CHECK_EQ(visited, want);
	}
	for (i = 0; i < 30; i++) {
		SW_CTX("sweep at 10050 (buckets 0..7), key %u in bucket %u", i, bucket_of[i]);
		CHECK_EQ(log.calls[i], i < 10 && bucket_of[i] < 8 ? 1 : 0);
	}
	/* the other half */
	log.now = 10100;
	sw_syncache_sweep(&sc, 10100, 100, timer_fn, &log);
	for (i = 0; i < 30; i++) {
		SW_CTX("sweep at 10100 (buckets 8..15), key %u in bucket %u", i, bucket_of[i]);
		CHECK_EQ(log.calls[i], i < 10 || (i < 20 && bucket_of[i] >= 8) ? 1 : 0);
	}
	/* a sweep with nothing due visits nothing */
	CHECK_EQ(sw_syncache_sweep(&sc, 10100, 100, timer_fn, &log), 0);
	/* one period later every entry expired by then has been called exactly once, and
	 * the dropped ones are gone */
	log.now = 10200;
	sw_syncache_sweep(&sc, 10200, 100, timer_fn, &log);
	for (i = 0; i < 30; i++) {
		SW_CTX("sweep at 10200 (all buckets), key %u", i);
		CHECK_EQ(log.calls[i], i < 20 ? 1 : 0);
		if (i < 20 && (i & 2) == 0)
			CHECK(sc_look(&sc, i) == NULL);
		else
			CHECK(sc_look(&sc, i) != NULL);
	}
	/* the rescheduled ones (now + 2000) are not due at 10300, 20..29 are */
	log.now = 10300;
	sw_syncache_sweep(&sc, 10300, 100, timer_fn, &log);
	for (i = 0; i < 30; i++) {
		SW_CTX("sweep at 10300, key %u", i);
		CHECK_EQ(log.calls[i], 1);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(sc.tab.count, 30 - 16);        /* dropped: the keys with bit 1 clear */
	free(mem);

	/* Dropping every entry of a bucket, across the wrap of the 32-bit ms clock. */

	{
		struct sw_syncache s2;
		void *m2 = sc_new(&s2, 1, 16, 5);      /* one bucket of 16 */
		uint64_t base = 0xfffffff0ULL;  /* the 32-bit ms clock wraps during this */

		memset(&log, 0, sizeof(log));
		s2.sweep.last_ms = base;
		for (i = 0; i < 16; i++) {
			struct sw_sc_entry *e = sc_ins(&s2, i * 4, UINT32_MAX, &ev);

			REQUIRE(e != NULL && ev == 0);
			e->irs = i * 4;                 /* bit 1 clear: dropped */
			e->expire_ms = (uint32_t)(base + 20);   /* wraps to a small value */
		}
		log.now = base + 10;
		sw_syncache_sweep(&s2, base + 10, 10, timer_fn, &log);
		CHECK_EQ(log.total, 0);                 /* not due: 10 ms before */
		log.now = base + 20;
		sw_syncache_sweep(&s2, base + 20, 10, timer_fn, &log);
		CHECK_EQ(log.total, 16);
		CHECK_EQ(s2.tab.count, 0);
		free(m2);
	}

	/* Fine-grained, the way the worker calls it: every millisecond. */
	sweep_scenario(16, 1);
	sweep_scenario(64, 1);
	sweep_scenario(128, 1);
	sweep_scenario(1024, 1);
	sweep_scenario(16, 10);
	sweep_scenario(1, 1);
}

/*
 * The age a dump shows (sw_syncache_age_ms): an entry whose SYN came at t0, retransmitted
 * by the sweep as the worker runs it (a call a millisecond), is as old as the time since t0
 * all along, short by no more than a sweep period for each retransmit so far; a duplicate
 * SYN starts it again; across the wrap of the 32-bit clock too.
 */
static void
age_scenario(uint64_t t0)
{
	struct sw_syncache sc;
	void *mem = sc_new(&sc, 16, 4, 99);
	struct timer_log log;
	struct sw_sc_entry *e;
	uint64_t now;
	unsigned int ev;

	memset(&log, 0, sizeof(log));
	sc.sweep.last_ms = t0;
	e = sc_ins(&sc, 3, UINT32_MAX, &ev);    /* key 3: retransmitted by timer_fn */
	REQUIRE(e != NULL && ev == 0);
	e->irs = 3;
	e->rxmits = 0;
	e->expire_ms = (uint32_t)t0 + sw_syncache_rto_ms(0);    /* as keep_entry() */
	for (now = t0; now <= t0 + 20000; now++) {
		uint32_t age;

		log.now = now;
		sw_syncache_sweep(&sc, now, SW_SWEEP_PERIOD_MS, timer_fn, &log);
		e = sc_look(&sc, 3);
		REQUIRE(e != NULL);
		age = sw_syncache_age_ms(e, (uint32_t)now);
		SW_CTX("t0 %llu, at t0+%llu after %u retransmits: age %u", (unsigned long long)t0,
		       (unsigned long long)(now - t0), e->rxmits, age);
		CHECK(age <= now - t0);
		CHECK(age + (uint64_t)e->rxmits * SW_SWEEP_PERIOD_MS >= now - t0);
		if (age > now - t0 || age + (uint64_t)e->rxmits * SW_SWEEP_PERIOD_MS < now - t0)
			break;
	}
	SW_CTX_CLEAR();
	CHECK(e->rxmits >= 3);      /* 1 s, 2 s, 4 s after one another: 7 s and on */
	/* a duplicate SYN: the schedule starts again (sw_syn_answer) */
	e->rxmits = 0;
	e->expire_ms = (uint32_t)now + sw_syncache_rto_ms(0);
	CHECK_EQ(sw_syncache_age_ms(e, (uint32_t)now + 250), 250);
	free(mem);
}

static void
test_age(void)
{
	age_scenario(7000000);
	age_scenario(UINT32_MAX - 5000);        /* the sw_ms clock wraps 5 s after the SYN */
}

int
main(void)
{
	test_insert_lookup();
	test_rto();
	test_pause();
	test_sweep();
	test_age();
	return sw_test_done();
}
