/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Entries per source prefix (srcquota.h) and what the tables make of them:
 *
 *  - the sketch: a prefix is the address cut to its length (bits beyond it do not matter,
 *    any bit within it does), IPv4 and IPv6 apart; the setup is refused while anything is
 *    counted; the quota;
 *  - the counts follow the tables through every path an entry comes and goes by: inserts,
 *    the owner's removals, a full bucket's and a full cache's evictions inside
 *    sw_ctab_insert (several at once after the limit was lowered), the flow table's own
 *    evictions, the timer sweep's removals: at every step each row sums to the live entries,
 *    no prefix counts fewer than it holds, and once the tables are empty every counter is 0;
 *  - the flow table's eviction: the heaviest source's flow first among the candidates (both
 *    full buckets, or the SW_FLOW_EVICT_SCAN oldest of a full table), closing flows still
 *    first, the minimum idle time still applying, light sources still by idle time.
 */
#include <stdlib.h>

#include "flowtab.h"
#include "sw_const.h"
#include "sw_test.h"
#include "syncache.h"

static const struct sw_sipkey key_a = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

static void *
xalloc(size_t sz)
{
	void *mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);

	REQUIRE(mem != NULL);
	memset(mem, 0x5c, (sz + 63) & ~(size_t)63);
	return mem;
}

/* Source address of prefix p (of NPREFIX), host h within it: IPv4 198.18.p.h (a /24 each),
 * or for odd p IPv6 2001:2:0:p::h (a /64 each). */
#define NPREFIX 12

static void
src_of(struct sw_tuple *k, uint32_t p, uint32_t h, uint16_t sport)
{
	memset(k, 0, sizeof(*k));
	k->sport = sport;
	k->dport = 80;
	if (p & 1) {
		static const uint8_t net[6] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 };

		k->v6 = 1;
		memcpy(k->src, net, 6);
		k->src[7] = (uint8_t)p;
		k->src[14] = (uint8_t)(h >> 8);
		k->src[15] = (uint8_t)h;
		memcpy(k->dst, net, 6);
		k->dst[15] = 2;
	} else {
		k->src[0] = 198;
		k->src[1] = 18;
		k->src[2] = (uint8_t)p;
		k->src[3] = (uint8_t)h;
		k->dst[0] = 198;
		k->dst[1] = 19;
		k->dst[3] = 2;
	}
}

/* /24 for IPv4, /64 for IPv6: src_of's prefixes. */
static void
setup(struct sw_srcquota *q, uint32_t limit)
{
	struct sw_srcq_params p = { key_a, 24, 64, limit };

	REQUIRE(sw_srcq_setup(q, &p) == 0);
}

/* ---- the sketch ---- */

static void
test_prefixes(void)
{
	static const struct { int v6; uint8_t len; } cases[] = {
		{ 0, 8 }, { 0, 20 }, { 0, 24 }, { 0, 31 }, { 0, 32 },
		{ 1, 16 }, { 1, 48 }, { 1, 61 }, { 1, 64 }, { 1, 127 }, { 1, 128 },
	};
	void *mem = xalloc(sw_srcq_memsize(4096));
	unsigned int c, bit;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct sw_srcq_params p = { key_a, 32, 128, 0 };
		uint8_t a[16], b[16];
		unsigned int nbits = cases[c].v6 ? 128 : 32;
		struct sw_srcquota q;

		SW_CTX("v6 %d /%u", cases[c].v6, cases[c].len);
		sw_srcq_init(&q, mem, 4096, 1);
		if (cases[c].v6)
			p.v6_len = cases[c].len;
		else
			p.v4_len = cases[c].len;
		REQUIRE(sw_srcq_setup(&q, &p) == 0);
		memset(a, 0xb7, sizeof(a));
		sw_srcq_add(&q, cases[c].v6, a);
		sw_srcq_add(&q, cases[c].v6, a);
		CHECK_EQ(sw_srcq_count(&q, cases[c].v6, a), 2);
		/* the other family's address of the same bytes is another source */
		CHECK_EQ(sw_srcq_count(&q, !cases[c].v6, a), 0);
		for (bit = 0; bit < nbits; bit++) {
			memcpy(b, a, sizeof(b));
			b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			SW_CTX("v6 %d /%u, bit %u flipped", cases[c].v6, cases[c].len, bit);
			CHECK_EQ(sw_srcq_count(&q, cases[c].v6, b), bit < cases[c].len ? 0 : 2);
		}
		CHECK_EQ(sw_srcq_check(&q), 0);
		sw_srcq_sub(&q, cases[c].v6, a);
		CHECK_EQ(sw_srcq_count(&q, cases[c].v6, a), 1);
		sw_srcq_sub(&q, cases[c].v6, a);
		CHECK_EQ(sw_srcq_count(&q, cases[c].v6, a), 0);
		CHECK_EQ(q.live, 0);
		CHECK_EQ(sw_srcq_check(&q), 0);
	}
	SW_CTX_CLEAR();
	free(mem);
}

static void
test_setup_and_limit(void)
{
	void *mem = xalloc(sw_srcq_memsize(100));
	struct sw_srcq_params p = { key_a, 24, 64, 2 };
	struct sw_srcquota q;
	struct sw_tuple k;
	unsigned int i;

	CHECK_EQ(sw_srcq_memsize(1), 2 * 64 * 4);
	CHECK_EQ(sw_srcq_memsize(100), 2 * 128 * 4);
	CHECK_EQ(sw_srcq_memsize(65536), 2 * 65536 * 4);
	sw_srcq_init(&q, mem, 100, 7);
	CHECK_EQ(q.mask, 127);
	CHECK_EQ(q.limit, 0);
	CHECK_EQ(q.v4_len, SW_SRCQ_V4_DEFAULT);
	CHECK_EQ(q.v6_len, SW_SRCQ_V6_DEFAULT);
	for (i = 0; i <= 2 * q.mask + 1; i++)
		CHECK_EQ(q.cnt[i], 0);
	/* lengths out of range */
	p.v4_len = 7;
	CHECK_EQ(sw_srcq_setup(&q, &p), -1);
	p.v4_len = 33;
	CHECK_EQ(sw_srcq_setup(&q, &p), -1);
	p.v4_len = 24;
	p.v6_len = 15;
	CHECK_EQ(sw_srcq_setup(&q, &p), -1);
	p.v6_len = 129;
	CHECK_EQ(sw_srcq_setup(&q, &p), -1);
	CHECK_EQ(q.limit, 0);
	p.v6_len = 64;
	REQUIRE(sw_srcq_setup(&q, &p) == 0);
	/* the quota: full once the prefix holds `limit` */
	src_of(&k, 0, 1, 1);
	CHECK(!sw_srcq_full(&q, 0, k.src));
	sw_srcq_add(&q, 0, k.src);
	CHECK(!sw_srcq_full(&q, 0, k.src));
	src_of(&k, 0, 2, 1);                    /* the same /24 */
	sw_srcq_add(&q, 0, k.src);
	CHECK(sw_srcq_full(&q, 0, k.src));
	src_of(&k, 2, 1, 1);                    /* another one */
	CHECK(!sw_srcq_full(&q, 0, k.src));
	/* no new key nor lengths while something is counted: removals must find their
	 * counters */
	CHECK_EQ(sw_srcq_setup(&q, &p), -1);
	/* limit 0: no quota */
	src_of(&k, 0, 3, 1);
	q.limit = 0;
	CHECK(!sw_srcq_full(&q, 0, k.src));
	free(mem);
}

/* ---- the counts follow the tables ---- */

/* The prefix (src_of's p) of entry e. */
static uint32_t
prefix_of(const struct sw_ctab *t, const void *e)
{
	struct sw_tuple k;

	sw_ctab_tuple(t, e, &k);
	return k.v6 ? k.src[7] : k.src[2];
}

/* Every row sums to the entries counted: the table's, but for those taken out of the count
 * (the flow table's closing flows); and each prefix counts what it holds, tallied from the
 * table itself (never fewer: a sketch; and with these few prefixes in a table this wide,
 * none more). */
static void
check_counts(const struct sw_ctab *t)
{
	uint32_t held[NPREFIX] = { 0 }, b, k, p, counted = 0;

	CHECK_EQ(sw_srcq_check(&t->srcq), 0);
	for (b = 0; b < t->hashsize; b++)
		for (k = 0; k < sw_ctab_bucket_count(t, b); k++) {
			const struct sw_ctab_hdr *h = sw_ctab_bucket_entry(t, b, k);

			if (t->uncounted != 0 && h->user[0] == t->uncounted)
				continue;
			held[prefix_of(t, h)]++;
			counted++;
		}
	CHECK_EQ(t->srcq.live, counted);
	for (p = 0; p < NPREFIX; p++) {
		struct sw_tuple key;

		src_of(&key, p, 1, 1);
		CHECK_EQ(sw_srcq_count(&t->srcq, key.v6, key.src), held[p]);
	}
}

static void
check_all_zero(const struct sw_srcquota *q)
{
	uint32_t i, nonzero = 0;

	for (i = 0; i < SW_SRCQ_ROWS * (q->mask + 1); i++)
		nonzero += q->cnt[i] != 0;
	CHECK_EQ(nonzero, 0);
	CHECK_EQ(q->live, 0);
}

/* The sweep's timer: drop the flows the test marked (fin 0xff), which the counts still
 * have while it decides (unless closing). */
static enum sw_flow_timer_action
drop_marked(struct sw_flow *f, uint32_t idle, void *arg)
{
	struct sw_flowtab *ft = arg;

	(void)idle;
	if (f->fin != 0xf)
		return SW_FLOW_KEEP;
	if (sw_flow_state(f) != SW_FLOW_CLOSING)
		CHECK(sw_ctab_src_count(&ft->tab, f) >= 1);
	return SW_FLOW_DROP;
}

static void
test_flowtab_counts(void)
{
	/* 512 flows in 64 buckets: small enough that buckets and the table fill */
	struct sw_flowtab ft;
	void *mem = xalloc(sw_flowtab_memsize(512));
	uint64_t rng = 0x5eed;
	uint32_t now = 100000, step;
	unsigned int evictions = 0, heavy = 0, removals = 0, expired = 0, rounds;
	unsigned int closing_gone = 0;

	REQUIRE(sw_flowtab_init(&ft, mem, 512, 77) == 0);
	setup(&ft.tab.srcq, 0);
	for (step = 0; step < 20000; step++) {
		uint32_t r = (uint32_t)sw_rand(&rng);
		struct sw_flow *f;
		struct sw_tuple k;
		int ev;

		SW_CTX("step %u", step);
		now += 7;
		if (r % 16 < 11) {
			src_of(&k, r % NPREFIX, (r >> 8) % 200 + 1, (uint16_t)(r >> 16));
			if (sw_flowtab_lookup(&ft, &k, sw_ctab_hash(&ft.tab, &k)) != NULL)
				continue;
			f = sw_flowtab_add(&ft, &k, sw_ctab_hash(&ft.tab, &k), now,
					   (r >> 4) % 2 ? 0 : 5000, &ev);
			if (f == NULL)
				continue;
			evictions += ev != 0;
			heavy += (ev & SW_FLOW_EVICTED_HEAVY) != 0;
			sw_flow_state(f) = SW_FLOW_ESTABLISHED;
			if (r % 5 == 0)
				sw_flowtab_closing(&ft, f, now);
		} else if (r % 16 < 14) {
			/* the owner removes one: the oldest of a random bucket */
			uint32_t b = (r >> 8) & ft.tab.mask;

			if (sw_ctab_bucket_count(&ft.tab, b) == 0)
				continue;
			f = sw_ctab_bucket_entry(&ft.tab, b, 0);
			closing_gone += sw_flow_state(f) == SW_FLOW_CLOSING;
			sw_flowtab_remove(&ft, f);
			removals++;
		} else {
			/* a bucket's flows marked for the sweep, which removes them */
			uint32_t b = (r >> 8) & ft.tab.mask, i;

			for (i = 0; i < sw_ctab_bucket_count(&ft.tab, b); i++) {
				f = sw_ctab_bucket_entry(&ft.tab, b, i);
				/* due now: an opening flow's retransmit, a closing one's end */
				if (sw_flow_state(f) != SW_FLOW_CLOSING)
					sw_flow_state(f) = SW_FLOW_OPENING;
				f->fin = 0xf;
				f->last_ms = now - 200000;
				sw_flowtab_sooner(&ft, f, now);
			}
			ft.sweep.last_ms = 0;   /* the whole table this once */
			rounds = 0;
			do {
				expired += sw_flowtab_sweep(&ft, now, SW_SWEEP_PERIOD_MS,
							    drop_marked, &ft);
			} while (ft.sweep.owed != 0 && ++rounds < 1000);
		}
		check_counts(&ft.tab);
	}
	SW_CTX_CLEAR();
	/* every way out was taken */
	CHECK(evictions > 100);
	CHECK(heavy > 0);
	CHECK(removals > 100);
	CHECK(expired > 100);
	CHECK(closing_gone > 100);
	/* empty: every counter back to 0 */
	while (ft.tab.count != 0)
		sw_flowtab_remove(&ft, sw_ctab_oldest(&ft.tab));
	check_counts(&ft.tab);
	check_all_zero(&ft.tab.srcq);
	/* removing what is no longer there changes nothing */
	sw_ctab_remove(&ft.tab, ft.tab.slots);
	check_all_zero(&ft.tab.srcq);
	free(mem);
}

static enum sw_sc_timer_action
sc_drop_odd(struct sw_sc_entry *e, void *arg)
{
	(void)arg;
	return (e->irs & 1) ? SW_SC_DROP : SW_SC_KEEP;
}

static void
test_syncache_counts(void)
{
	/* 32 buckets of 4: bucket overflows, and a cache limit lowered and raised at times */
	struct sw_syncache sc;
	void *mem = xalloc(sw_syncache_memsize(32, 4));
	uint64_t rng = 0xfeed;
	uint32_t step, limit = 100;
	unsigned int bucket_ev = 0, cache_ev = 0, multi = 0, rounds;

	REQUIRE(sw_syncache_init(&sc, mem, 32, 4, 5) == 0);
	setup(&sc.tab.srcq, 0);
	for (step = 0; step < 20000; step++) {
		uint32_t r = (uint32_t)sw_rand(&rng);
		struct sw_sc_entry *e;
		struct sw_tuple k;

		SW_CTX("step %u", step);
		if (r % 32 == 0)
			limit = 20 + (r >> 8) % 100;
		if (r % 16 < 12) {
			uint32_t before = sc.tab.count, h;
			unsigned int ev;

			src_of(&k, r % NPREFIX, (r >> 8) % 200 + 1, (uint16_t)(r >> 16));
			h = sw_ctab_hash(&sc.tab, &k);
			if (sw_syncache_lookup(&sc, &k, h) != NULL)
				continue;
			e = sw_syncache_insert(&sc, &k, h, limit, &ev);
			REQUIRE(e != NULL);
			multi += sc.tab.count < before;
			bucket_ev += (ev & SW_CTAB_EVICT_BUCKET) != 0;
			cache_ev += (ev & SW_CTAB_EVICT_CACHE) != 0;
			e->irs = r >> 3;
			e->expire_ms = 0;
		} else if (r % 16 < 14) {
			uint32_t b = (r >> 8) & sc.tab.mask;

			if (sw_ctab_bucket_count(&sc.tab, b) == 0)
				continue;
			sw_syncache_remove(&sc, sw_ctab_bucket_entry(&sc.tab, b, 0));
		} else {
			sc.sweep.last_ms = 0;
			rounds = 0;
			do {
				sw_syncache_sweep(&sc, 1000000 + step, SW_SWEEP_PERIOD_MS,
						  sc_drop_odd, &sc);
			} while (sc.sweep.owed != 0 && ++rounds < 1000);
		}
		check_counts(&sc.tab);
	}
	SW_CTX_CLEAR();
	CHECK(bucket_ev > 100);
	CHECK(cache_ev > 100);
	CHECK(multi > 0);       /* a lowered limit took several at once */
	/* a flush, as the mailbox's: sw_ctab_remove of each */
	while (sc.tab.count != 0)
		sw_ctab_remove(&sc.tab, sw_ctab_oldest(&sc.tab));
	check_counts(&sc.tab);
	check_all_zero(&sc.tab.srcq);
	free(mem);
}

/* ---- heaviest first ---- */

/* n keys of prefix p (host h, ports from *sport on) whose two candidate buckets are both b */
static unsigned int
keys_in(const struct sw_flowtab *ft, uint32_t b, uint32_t p, uint32_t h, unsigned int n,
	struct sw_tuple *out, uint32_t *sport)
{
	unsigned int found = 0;

	for (; found < n && *sport < 65536; (*sport)++) {
		struct sw_tuple k;
		uint32_t hash;

		src_of(&k, p, h, (uint16_t)*sport);
		hash = sw_ctab_hash(&ft->tab, &k);
		if ((hash & ft->tab.mask) == b && (sw_flowtab_hash2(hash) & ft->tab.mask) == b)
			out[found++] = k;
	}
	return found;
}

static struct sw_flow *
add_at(struct sw_flowtab *ft, const struct sw_tuple *k, uint32_t now, uint32_t min_idle,
       int *ev)
{
	return sw_flowtab_add(ft, k, sw_ctab_hash(&ft->tab, k), now, min_idle, ev);
}

static struct sw_flow *
look(const struct sw_flowtab *ft, const struct sw_tuple *k)
{
	return sw_flowtab_lookup(ft, k, sw_ctab_hash(&ft->tab, k));
}

/* Heavy prefix 2 (IPv4) or 3 (IPv6) holds `extra` flows outside the bucket under test,
 * plus those in it. */
static void
add_elsewhere(struct sw_flowtab *ft, uint32_t p, uint32_t b, unsigned int extra,
	      uint32_t now)
{
	uint32_t sport = 1;
	unsigned int added = 0;

	while (added < extra) {
		struct sw_tuple k;
		uint32_t hash;
		int ev;

		src_of(&k, p, 99, (uint16_t)sport++);
		hash = sw_ctab_hash(&ft->tab, &k);
		if ((hash & ft->tab.mask) == b || (sw_flowtab_hash2(hash) & ft->tab.mask) == b)
			continue;
		REQUIRE(add_at(ft, &k, now, 0, &ev) != NULL && ev == 0);
		added++;
	}
}

static void
test_heaviest_in_buckets(int v6)
{
	const uint32_t heavy_p = v6 ? 3 : 2, b = 5, t0 = 1000000;
	struct sw_tuple light[8], hv[3], more[3];
	uint32_t sport = 1;
	struct sw_flowtab ft;
	void *mem = xalloc(sw_flowtab_memsize(256));
	struct sw_flow *f;
	unsigned int i;
	int ev;

	SW_CTX("v6 %d", v6);
	REQUIRE(sw_flowtab_init(&ft, mem, 256, 9) == 0);
	setup(&ft.tab.srcq, 0);
	/* bucket b: 5 light flows (one source each: prefixes 0, 4, 6, 8, 10) idle the
	 * longest, then 3 of the heavy source, which has SW_FLOW_HEAVY_MIN more elsewhere */
	for (i = 0; i < 5; i++) {
		uint32_t s = 1;

		REQUIRE(keys_in(&ft, b, 2 * i + (i ? 2 : 0), 1, 1, &light[i], &s) == 1);
		REQUIRE(add_at(&ft, &light[i], t0 + i, 0, &ev) != NULL);
	}
	REQUIRE(keys_in(&ft, b, heavy_p, 1, 3, hv, &sport) == 3);
	for (i = 0; i < 3; i++)
		REQUIRE(add_at(&ft, &hv[i], t0 + 100 + i, 0, &ev) != NULL);
	add_elsewhere(&ft, heavy_p, b, SW_FLOW_HEAVY_MIN, t0);
	CHECK_EQ(sw_ctab_bucket_count(&ft.tab, b), 8);
	CHECK_EQ(sw_ctab_src_count(&ft.tab, look(&ft, &hv[0])), 3 + SW_FLOW_HEAVY_MIN);
	REQUIRE(keys_in(&ft, b, 2 * 5 + 2 + 2, 1, 3, more, &sport) == 3);

	/* all idle long enough: the heavy source's idlest goes, not light[0] */
	f = add_at(&ft, &more[0], t0 + 20000, 10000, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED | SW_FLOW_EVICTED_HEAVY);
	CHECK(look(&ft, &hv[0]) == NULL);
	CHECK(look(&ft, &hv[1]) != NULL && look(&ft, &light[0]) != NULL);
	CHECK_EQ(sw_ctab_src_count(&ft.tab, look(&ft, &hv[1])), 2 + SW_FLOW_HEAVY_MIN);

	/* a closing light flow goes first, whatever its idle time and weight */
	f = look(&ft, &light[3]);
	f->last_ms = t0 + 19999;
	sw_flowtab_closing(&ft, f, t0 + 19999);
	f = add_at(&ft, &more[1], t0 + 20000, 10000, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED);
	CHECK(look(&ft, &light[3]) == NULL && look(&ft, &hv[1]) != NULL);

	/* the heavy flows used recently: not idle enough; the idlest light one goes, as the
	 * idle rule alone would have it */
	sw_flowtab_touch(&ft, look(&ft, &hv[1]), t0 + 15000);
	sw_flowtab_touch(&ft, look(&ft, &hv[2]), t0 + 15000);
	f = add_at(&ft, &more[2], t0 + 20000, 10000, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED);
	CHECK(look(&ft, &light[0]) == NULL);
	CHECK(look(&ft, &hv[1]) != NULL && look(&ft, &hv[2]) != NULL);
	SW_CTX_CLEAR();
	free(mem);
}

/* A source below SW_FLOW_HEAVY_MIN is light: two flows of one source do not outweigh the
 * idlest flow of another (what a collision could add decides nothing). */
static void
test_light_sources_by_idle(void)
{
	const uint32_t b = 9, t0 = 500000;
	struct sw_tuple k[9];
	uint32_t sport = 1;
	struct sw_flowtab ft;
	void *mem = xalloc(sw_flowtab_memsize(256));
	unsigned int i;
	int ev;

	REQUIRE(sw_flowtab_init(&ft, mem, 256, 10) == 0);
	setup(&ft.tab.srcq, 0);
	for (i = 0; i < 6; i++) {
		uint32_t s = 1;

		REQUIRE(keys_in(&ft, b, 2 * i, 1, 1, &k[i], &s) == 1);
	}
	/* prefix 8 (k[4]'s) gets SW_FLOW_HEAVY_MIN - 1 flows in all */
	REQUIRE(keys_in(&ft, b, 8, 2, SW_FLOW_HEAVY_MIN - 2, &k[6], &sport) ==
		SW_FLOW_HEAVY_MIN - 2);
	for (i = 0; i < 6 + SW_FLOW_HEAVY_MIN - 2; i++)
		REQUIRE(add_at(&ft, &k[i], t0 + i, 0, &ev) != NULL);
	REQUIRE(sw_ctab_bucket_count(&ft.tab, b) == 8);
	REQUIRE(keys_in(&ft, b, 10, 7, 1, &k[8], &sport) == 1);
	REQUIRE(add_at(&ft, &k[8], t0 + 50000, 0, &ev) != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED);
	CHECK(look(&ft, &k[0]) == NULL);
	CHECK(look(&ft, &k[4]) != NULL);
	free(mem);
}

static void
test_heaviest_of_the_oldest(void)
{
	/* 64 slots, a limit of 40: the table is full long before a bucket is */
	const uint32_t t0 = 2000000;
	struct sw_flowtab ft;
	void *mem = xalloc(sw_flowtab_memsize(40));
	struct sw_tuple heavy[6], first;
	struct sw_flow *f;
	uint32_t i, n = 0, nh = 0, attempt;
	int ev;

	REQUIRE(sw_flowtab_init(&ft, mem, 40, 11) == 0);
	setup(&ft.tab.srcq, 0);
	/* 40 flows, oldest first, each of a source of its own, except heavy prefix 2's six at
	 * positions SW_FLOW_EVICT_SCAN - 2 and 10..14 */
	for (attempt = 1; n < 40; attempt++) {
		struct sw_tuple k;
		bool hv = n == SW_FLOW_EVICT_SCAN - 2 || (n >= 10 && n < 15);

		REQUIRE(attempt < 10000);
		src_of(&k, hv ? 2 : 20 + n, 1, (uint16_t)attempt);
		f = add_at(&ft, &k, t0 + n * 10, UINT32_MAX, &ev);
		if (f == NULL)
			continue;       /* both buckets full: another key */
		REQUIRE(ev == 0);
		if (n == 0)
			first = k;
		if (hv)
			heavy[nh++] = k;
		n++;
	}
	REQUIRE(nh == 6);
	CHECK_EQ(sw_ctab_src_count(&ft.tab, look(&ft, &heavy[0])), 6);
	/* the heavy source's flow among the oldest goes, not the least recently used */
	for (i = 0; ; i++) {
		struct sw_tuple k;
		uint32_t h;

		src_of(&k, 0, 200, (uint16_t)(1000 + i));
		h = sw_ctab_hash(&ft.tab, &k);
		if (sw_ctab_bucket_count(&ft.tab, h & ft.tab.mask) >= 8 &&
		    sw_ctab_bucket_count(&ft.tab, sw_flowtab_hash2(h) & ft.tab.mask) >= 8)
			continue;
		f = add_at(&ft, &k, t0 + 100000, 10000, &ev);
		break;
	}
	CHECK(f != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED | SW_FLOW_EVICTED_HEAVY);
	CHECK(look(&ft, &heavy[0]) == NULL);
	CHECK(look(&ft, &first) != NULL);
	CHECK_EQ(ft.tab.count, 40);
	/* the other heavy flows are beyond the SW_FLOW_EVICT_SCAN oldest: the oldest goes */
	for (i = 0; ; i++) {
		struct sw_tuple k;
		uint32_t h;

		src_of(&k, 0, 201, (uint16_t)(1000 + i));
		h = sw_ctab_hash(&ft.tab, &k);
		if (sw_ctab_bucket_count(&ft.tab, h & ft.tab.mask) >= 8 &&
		    sw_ctab_bucket_count(&ft.tab, sw_flowtab_hash2(h) & ft.tab.mask) >= 8)
			continue;
		f = add_at(&ft, &k, t0 + 100000, 10000, &ev);
		break;
	}
	CHECK(f != NULL);
	CHECK_EQ(ev, SW_FLOW_EVICTED);
	CHECK(look(&ft, &first) == NULL);
	CHECK(look(&ft, &heavy[1]) != NULL);
	free(mem);
}

/* The flow table's quota (the stages check it before they add: sw_flowtab_source_full). */
static void
test_flowtab_quota(void)
{
	struct sw_flowtab ft;
	void *mem = xalloc(sw_flowtab_memsize(256));
	struct sw_tuple k;
	struct sw_flow *f[3];
	unsigned int i;
	int ev;

	REQUIRE(sw_flowtab_init(&ft, mem, 256, 12) == 0);
	setup(&ft.tab.srcq, 3);
	for (i = 0; i < 3; i++) {
		src_of(&k, 1, i + 1, (uint16_t)(100 + i));      /* one /64 */
		CHECK(!sw_flowtab_source_full(&ft, &k));
		f[i] = add_at(&ft, &k, 1000, 0, &ev);
		REQUIRE(f[i] != NULL);
	}
	src_of(&k, 1, 77, 7);
	CHECK(sw_flowtab_source_full(&ft, &k));
	src_of(&k, 3, 1, 7);                    /* another /64 */
	CHECK(!sw_flowtab_source_full(&ft, &k));
	src_of(&k, 0, 1, 7);                    /* an IPv4 source */
	CHECK(!sw_flowtab_source_full(&ft, &k));
	sw_flowtab_remove(&ft, f[1]);
	src_of(&k, 1, 77, 7);
	CHECK(!sw_flowtab_source_full(&ft, &k));
	free(mem);
}

int
main(void)
{
	test_prefixes();
	test_setup_and_limit();
	test_flowtab_counts();
	test_syncache_counts();
	test_heaviest_in_buckets(0);
	test_heaviest_in_buckets(1);
	test_light_sources_by_idle();
	test_heaviest_of_the_oldest();
	test_flowtab_quota();
	return sw_test_done();
}
