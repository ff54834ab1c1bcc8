/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The timer sweep (ctab.h): the same timers fire at the same times as with a sweep that
 * reads every entry each period (a reference kept here, on sw_sweep_due/sw_sweep_next);
 * a call's work stays within its bounds however far behind the worker is; and the work
 * follows what is due, not the table's size.
 */
#include <stdlib.h>

#include "flowtab.h"
#include "sw_const.h"
#include "sw_test.h"
#include "syncache.h"

/* The established flows' idle timeout of these tests (the table's bound, idle_min_ms): five
 * minutes, so that a test steps through it a millisecond at a time. */
#define TEST_IDLE_MS 300000u
#define PERIOD SW_SWEEP_PERIOD_MS

static void *
mem_new(size_t sz)
{
	void *mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);

	REQUIRE(mem != NULL);
	memset(mem, 0x3c, sz);
	return mem;
}

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(1024 + (i & 0x7fff));
	k->dport = 443;
	k->src[0] = 198;
	k->src[1] = 18;
	k->src[2] = (uint8_t)(i >> 23);
	k->src[3] = (uint8_t)(i >> 15);
	k->dst[0] = 198;
	k->dst[1] = 19;
	k->dst[3] = 1;
}

static struct sw_sc_entry *
sc_add(struct sw_syncache *sc, uint32_t i, uint32_t expire)
{
	struct sw_tuple k;
	struct sw_sc_entry *e;
	unsigned int ev;

	key(&k, i);
	e = sw_syncache_insert(sc, &k, sw_ctab_hash(&sc->tab, &k), UINT32_MAX, &ev);
	e->irs = i;
	e->expire_ms = expire;
	return e;
}

static struct sw_sc_entry *
sc_find(struct sw_syncache *sc, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_syncache_lookup(sc, &k, sw_ctab_hash(&sc->tab, &k));
}

/* ---- the same fire times as the sweep that reads everything --------------------------- */

#define NKEYS 3000
#define NFIRES 6

struct fire_log {
	uint64_t now;
	uint64_t at[NKEYS][NFIRES];
	uint32_t n[NKEYS];
};

/* Retransmit like the SYN-ACK timer: 3 times, the timeout doubling, then drop. */
static enum sw_sc_timer_action
log_fire(struct sw_sc_entry *e, void *arg)
{
	struct fire_log *log = arg;
	uint32_t i = e->irs;

	if (i < NKEYS && log->n[i] < NFIRES)
		log->at[i][log->n[i]] = log->now;
	if (i < NKEYS)
		log->n[i]++;
	if (e->rxmits >= 3)
		return SW_SC_DROP;
	e->rxmits++;
	e->expire_ms = (uint32_t)log->now + sw_syncache_rto_ms(e->rxmits);
	return SW_SC_KEEP;
}

/* The sweep as it was: every entry of the buckets the cursor passes. */
static void
ref_sweep(struct sw_syncache *sc, struct sw_sweep *sw, uint64_t now, struct fire_log *log)
{
	uint32_t nb = sw_sweep_due(&sc->tab, sw, now, PERIOD);

	while (nb-- > 0) {
		uint32_t b = sw_sweep_next(&sc->tab, sw);
		int32_t k;

		for (k = (int32_t)sw_ctab_bucket_count(&sc->tab, b) - 1; k >= 0; k--) {
			struct sw_sc_entry *e = sw_ctab_bucket_entry(&sc->tab, b, (uint32_t)k);

			if ((int32_t)((uint32_t)now - e->expire_ms) >= 0 &&
			    log_fire(e, log) == SW_SC_DROP)
				sw_ctab_remove(&sc->tab, e);
		}
	}
}

/*
 * Two syncaches with the same entries, one swept by sw_syncache_sweep, the other by the
 * reference, every `tick` ms (and as many more rounds as the bounds need) across the 32-bit wrap of the clock; entries come all along and
 * some are brought forward (a duplicate SYN). Every key fires at the same times in both.
 */
static void
same_fire_times(uint32_t hashsize, uint32_t bucketlimit, uint32_t tick)
{
	size_t sz = sw_syncache_memsize(hashsize, bucketlimit);
	void *m1 = mem_new(sz), *m2 = mem_new(sz);
	struct sw_syncache a, b;
	struct fire_log *la = calloc(1, sizeof(*la)), *lb = calloc(1, sizeof(*lb));
	struct sw_sweep ref;
	uint64_t t0 = 0xffff0000ULL, now;
	uint32_t next = 0, i, rnd = 12345, diff = 0;

	REQUIRE(la != NULL && lb != NULL);
	REQUIRE(sw_syncache_init(&a, m1, hashsize, bucketlimit, 99) == 0);
	REQUIRE(sw_syncache_init(&b, m2, hashsize, bucketlimit, 99) == 0);
	a.sweep.last_ms = t0;
	memset(&ref, 0, sizeof(ref));
	ref.last_ms = t0;
	for (now = t0; now < t0 + 40000; now += tick) {
		/* a few new entries per ms for 20 s, due in 1 ms to 3 s */
		while (now < t0 + 20000 && next < NKEYS && next * 20000 / NKEYS <= now - t0) {
			rnd = rnd * 1103515245u + 12345u;
			sc_add(&a, next, (uint32_t)now + 1 + (rnd >> 8) % 3000);
			sc_add(&b, next, (uint32_t)now + 1 + (rnd >> 8) % 3000);
			next++;
		}
		/* now and then one brought forward, to 1 ms from now */
		if ((now - t0) % 97 == 0 && next > 0) {
			struct sw_sc_entry *ea = sc_find(&a, (uint32_t)(now % next));
			struct sw_sc_entry *eb = sc_find(&b, (uint32_t)(now % next));

			CHECK((ea == NULL) == (eb == NULL));
			if (ea != NULL && eb != NULL) {
				ea->expire_ms = eb->expire_ms = (uint32_t)now + 1;
				sw_syncache_sooner(&a, ea, now + 1);
			}
		}
		la->now = lb->now = now;
		/* what the bounds leave owed is done by more rounds in the same ms */
		for (i = 0; i == 0 || (a.sweep.owed != 0 && i < 1000); i++)
			sw_syncache_sweep(&a, now, PERIOD, log_fire, la);
		CHECK_EQ(a.sweep.owed, 0);
		ref_sweep(&b, &ref, now, lb);
	}
	for (i = 0; i < next; i++) {
		uint32_t j;

		if (la->n[i] != lb->n[i]) {
			diff++;
			continue;
		}
		for (j = 0; j < la->n[i] && j < NFIRES; j++)
			diff += la->at[i][j] != lb->at[i][j];
	}
	SW_CTX("hashsize %u, bucketlimit %u, every %u ms", hashsize, bucketlimit, tick);
	CHECK(next > 1000);
	CHECK_EQ(diff, 0);
	CHECK_EQ(a.tab.count, 0);
	CHECK_EQ(b.tab.count, 0);
	SW_CTX_CLEAR();
	free(la);
	free(lb);
	free(m1);
	free(m2);
}

/* ---- the flows' due times ---------------------------------------------------------- */

/* A policy with the worker's timeouts (what sw_flow_timer decides, without the packets). */
static enum sw_flow_timer_action
flow_policy(struct sw_flow *f, uint32_t idle, void *arg)
{
	uint32_t *fired = arg;

	(*fired)++;
	switch (sw_flow_state(f)) {
	case SW_FLOW_OPENING:
		return idle >= (uint32_t)SW_SERVER_SYN_RTO_MS << (f->rexmits < 6 ? f->rexmits : 6)
		       ? SW_FLOW_DROP : SW_FLOW_KEEP;
	case SW_FLOW_CLOSING:
		return idle >= SW_FLOW_LINGER_MS ? SW_FLOW_DROP : SW_FLOW_KEEP;
	default:
		return idle >= TEST_IDLE_MS ? SW_FLOW_DROP : SW_FLOW_KEEP;
	}
}

/* One flow per state, swept every ms: gone no sooner than its timeout, no later than a
 * period after; an established flow that starts closing goes after the linger, not the idle
 * timeout. */
static void
test_flow_edges(void)
{
	struct sw_flowtab ft;
	void *mem = mem_new(sw_flowtab_memsize(4096));
	const uint64_t t0 = 1000000;
	static const uint32_t state[4] = { SW_FLOW_OPENING, SW_FLOW_OPENING,
					   SW_FLOW_ESTABLISHED, SW_FLOW_ESTABLISHED };
	uint64_t want[4], gone[4] = { 0 }, now;
	uint32_t i, fired = 0;
	struct sw_flow *f[4];

	REQUIRE(sw_flowtab_init(&ft, mem, 4096, 3) == 0);
	ft.idle_min_ms = TEST_IDLE_MS;
	ft.sweep.last_ms = t0;
	for (i = 0; i < 4; i++) {
		struct sw_tuple k;
		int ev;

		key(&k, i);
		f[i] = sw_flowtab_add(&ft, &k, sw_ctab_hash(&ft.tab, &k), (uint32_t)t0, 0, &ev);
		REQUIRE(f[i] != NULL);
		sw_flow_state(f[i]) = (uint8_t)state[i];
	}
	f[1]->rexmits = 9;              /* the backoff capped: 64 s */
	want[0] = t0 + SW_SERVER_SYN_RTO_MS;
	want[1] = t0 + (SW_SERVER_SYN_RTO_MS << 6);
	want[2] = t0 + TEST_IDLE_MS;
	want[3] = t0 + 2000 + SW_FLOW_LINGER_MS;
	for (i = 0; i < 4; i++)
		CHECK_EQ(sw_flow_due_ms(&ft, f[i]), (uint32_t)(i == 3 ? t0 + TEST_IDLE_MS
								     : want[i]));
	for (now = t0; now <= t0 + TEST_IDLE_MS + 2 * PERIOD; now++) {
		if (now == t0 + 2000) {
			/* flow 3 sees FINs both ways */
			f[3]->last_ms = (uint32_t)now;
			sw_flowtab_closing(&ft, f[3], now);
		}
		sw_flowtab_sweep(&ft, now, PERIOD, flow_policy, &fired);
		for (i = 0; i < 4; i++) {
			struct sw_tuple k;

			key(&k, i);
			if (gone[i] == 0 &&
			    sw_flowtab_lookup(&ft, &k, sw_ctab_hash(&ft.tab, &k)) == NULL)
				gone[i] = now;
		}
	}
	for (i = 0; i < 4; i++) {
		SW_CTX("flow %u: due at t0+%" PRIu64 ", gone at t0+%" PRIu64, i, want[i] - t0,
		       gone[i] - t0);
		CHECK(gone[i] >= want[i]);
		CHECK(gone[i] <= want[i] + PERIOD + 1);
	}
	SW_CTX_CLEAR();
	/* the timer is called when something is due, not every period for every flow */
	CHECK(fired <= 8);
	free(mem);
}

/* ---- bounded rounds ------------------------------------------------------------------ */

/*
 * A big flow table, every flow idle past its timeout, and the worker stalled far longer
 * than a period: every call stays within its bounds, and the calls catch up (all flows gone)
 * in about flows / SW_TIMER_ROUND_ENTRIES calls.
 */
static void
test_bounded_stall(uint32_t flows)
{
	struct sw_flowtab ft;
	void *mem = mem_new(sw_flowtab_memsize(flows));
	const uint64_t t0 = 5000000;
	uint32_t i, n = 0, calls = 0, worst_steps = 0, worst_entries = 0, fired = 0;
	uint64_t now = t0 + TEST_IDLE_MS + 3600000;   /* an hour late */

	REQUIRE(sw_flowtab_init(&ft, mem, flows, 11) == 0);
	ft.idle_min_ms = TEST_IDLE_MS;
	ft.sweep.last_ms = t0;
	for (i = 0; n < flows / 8 * 7 && i < 2 * flows; i++) {
		struct sw_tuple k;
		struct sw_flow *f;
		int ev;

		key(&k, i);
		f = sw_flowtab_add(&ft, &k, sw_ctab_hash(&ft.tab, &k), (uint32_t)t0, UINT32_MAX,
				   &ev);
		if (f != NULL) {
			sw_flow_state(f) = SW_FLOW_ESTABLISHED;
			n++;
		}
	}
	REQUIRE(n == ft.tab.count);
	while (ft.tab.count > 0 && calls < 10 * n) {
		sw_flowtab_sweep(&ft, now, PERIOD, flow_policy, &fired);
		calls++;
		if (ft.sweep.last_steps > worst_steps)
			worst_steps = ft.sweep.last_steps;
		if (ft.sweep.last_entries > worst_entries)
			worst_entries = ft.sweep.last_entries;
		now += calls % 64 == 0;  /* rounds of about 16 us */
	}
	SW_CTX("%u flows (%u buckets): %u calls, worst %u steps, %u entries", n,
	       ft.tab.hashsize, calls, worst_steps, worst_entries);
	CHECK_EQ(ft.tab.count, 0);
	CHECK_EQ(fired, n);
	CHECK(worst_steps <= SW_TIMER_ROUND_STEPS);
	CHECK(worst_entries <= SW_TIMER_ROUND_ENTRIES);
	CHECK(calls >= n / SW_TIMER_ROUND_ENTRIES);
	CHECK(calls <= 2 * (n / SW_TIMER_ROUND_ENTRIES) + ft.tab.hashsize / 64 + 4);
	SW_CTX_CLEAR();
	free(mem);
}

/* Full 255-entry buckets, all due: one bucket per call at most, never half of one. */
static void
test_bounded_big_buckets(void)
{
	struct sw_syncache sc;
	void *mem = mem_new(sw_syncache_memsize(4, 255));
	struct fire_log *log = calloc(1, sizeof(*log));
	uint32_t i, calls = 0;

	REQUIRE(log != NULL);
	REQUIRE(sw_syncache_init(&sc, mem, 4, 255, 5) == 0);
	for (i = 0; sc.tab.count < 4 * 255 && i < 100000; i++) {
		struct sw_tuple k;
		uint32_t h;

		key(&k, i);
		h = sw_ctab_hash(&sc.tab, &k);
		if (sw_ctab_bucket_count(&sc.tab, h & sc.tab.mask) < 255)
			sc_add(&sc, i, 100);
	}
	REQUIRE(sc.tab.count == 4 * 255);
	log->now = 1000000;
	do {
		sw_syncache_sweep(&sc, 1000000, PERIOD, log_fire, log);
		calls++;
		CHECK(sc.sweep.last_entries == 0 || sc.sweep.last_entries == 255);
	} while (sc.sweep.owed != 0 && calls < 100);
	CHECK_EQ(calls, 4);
	CHECK_EQ(sc.tab.count, 4 * 255);        /* all retransmitted, none dropped */
	free(log);
	free(mem);
}

/* ---- work proportional to what is due ------------------------------------------------ */

/*
 * A full syncache of 2^16 buckets whose entries are due in a minute, but 10: over the next
 * period, swept every ms, the sweep reads only the buckets of those 10 and the headers of
 * their groups, where the reference reads all 524288 entries.
 */
static void
test_proportional(void)
{
	const uint32_t hashsize = 1u << 16, bl = 8;
	struct sw_syncache sc;
	void *mem = mem_new(sw_syncache_memsize(hashsize, bl));
	struct fire_log *log = calloc(1, sizeof(*log));
	const uint64_t t0 = 9000000;
	uint64_t now, steps = 0, entries = 0, calls = 0;
	uint32_t i;

	REQUIRE(log != NULL);
	REQUIRE(sw_syncache_init(&sc, mem, hashsize, bl, 8) == 0);
	sc.sweep.last_ms = t0;
	for (i = 0; i < hashsize * bl; i++) {
		struct sw_tuple k;

		key(&k, i);
		if (sw_ctab_bucket_count(&sc.tab, sw_ctab_hash(&sc.tab, &k) & sc.tab.mask) < bl)
			sc_add(&sc, i, (uint32_t)t0 + 60000);
	}
	/* the first period reads each new entry once, to learn its due time (in many more
	 * calls than one a ms: so many entries at once is more than the bounds allow) */
	for (now = t0; now <= t0 + PERIOD; now++) {
		do {
			sw_syncache_sweep(&sc, now, PERIOD, log_fire, log);
			entries += sc.sweep.last_entries;
		} while (sc.sweep.owed != 0);
	}
	CHECK_EQ(entries, sc.tab.count);
	/* then 10 are brought forward */
	for (i = 0; i < 10; i++) {
		struct sw_sc_entry *e = sc_find(&sc, i * 1000);

		if (e == NULL)
			e = sc_add(&sc, i * 1000, 0);   /* in a full bucket: its oldest goes */
		e->expire_ms = (uint32_t)t0 + 150;
		sw_syncache_sooner(&sc, e, t0 + 150);
	}
	entries = 0;
	for (now = t0 + PERIOD + 1; now <= t0 + 3 * PERIOD; now++) {
		log->now = now;
		sw_syncache_sweep(&sc, now, PERIOD, log_fire, log);
		steps += sc.sweep.last_steps;
		entries += sc.sweep.last_entries;
		calls++;
	}
	for (i = 0; i * 1000 < NKEYS; i++)
		CHECK_EQ(log->n[i * 1000], 1);          /* (keys >= NKEYS are not logged) */
	printf("proportional: %u entries, 10 due: %" PRIu64 " steps and %" PRIu64
	       " entries read in 2 periods (%" PRIu64 " calls)\n", sc.tab.count, steps, entries,
	       calls);
	/* each of the 10: its bucket (8 entries) once, and a span's and group's headers */
	CHECK(entries <= 10 * bl);
	CHECK(entries >= 10);
	CHECK(steps <= calls + 2 * (hashsize >> SW_TIMER_SPAN_SHIFT) +
		       10 * (1u << (SW_TIMER_SPAN_SHIFT - SW_TIMER_GROUP_SHIFT)) +
		       10 * (1u << SW_TIMER_GROUP_SHIFT));
	free(log);
	free(mem);
}

int
main(void)
{
	same_fire_times(1, 64, 1);
	same_fire_times(16, 16, 1);
	same_fire_times(256, 8, 1);
	same_fire_times(4096, 4, 1);
	same_fire_times(4096, 4, 7);
	same_fire_times(65536, 2, 1);
	test_flow_edges();
	test_bounded_stall(4096);
	test_bounded_stall(1u << 19);
	test_bounded_big_buckets();
	test_proportional();
	return sw_test_done();
}
