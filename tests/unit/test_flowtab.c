/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table (flowtab.h): add/lookup, LRU eviction from a full bucket or a full table
 * only of a flow idle for at least min_idle, and expiry of OPENING flows after the opening
 * timeout and of the others after the idle timeout.
 */
#include <stdlib.h>

#include "flowtab.h"
#include "sw_const.h"
#include "sw_test.h"

static void *
ft_new(struct sw_flowtab *ft, uint32_t flows, uint32_t seed)
{
	size_t sz = (sw_flowtab_memsize(flows) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);

	REQUIRE(mem != NULL);
	memset(mem, 0x3c, sz);
	memset(ft, 0xc3, sizeof(*ft));
	REQUIRE(sw_flowtab_init(ft, mem, flows, seed) == 0);
	return mem;
}

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(10000 + i % 50000);
	k->dport = 22;
	if (i % 4 == 3) {
		unsigned int j;

		k->v6 = 1;
		for (j = 0; j < 16; j++) {
			k->src[j] = (uint8_t)(0xfd + j);
			k->dst[j] = (uint8_t)(0x11 * j);
		}
		k->src[10] = (uint8_t)(i >> 16);
		k->src[11] = (uint8_t)(i >> 8);
		k->src[12] = (uint8_t)i;
	} else {
		k->src[0] = 172;
		k->src[1] = (uint8_t)(16 + (i >> 16));
		k->src[2] = (uint8_t)(i >> 8);
		k->src[3] = (uint8_t)i;
		k->dst[0] = 10;
		k->dst[3] = 1;
	}
}

static uint32_t
hash_of(const struct sw_flowtab *ft, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_ctab_hash(&ft->tab, &k);
}

static struct sw_flow *
f_look(const struct sw_flowtab *ft, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_flowtab_lookup(ft, &k, sw_ctab_hash(&ft->tab, &k));
}

static struct sw_flow *
f_add(struct sw_flowtab *ft, uint32_t i, uint32_t now, uint32_t min_idle, int *ev)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_flowtab_add(ft, &k, sw_ctab_hash(&ft->tab, &k), now, min_idle, ev);
}

/* Touch flow i, which must be there. */
static void
touch(struct sw_flowtab *ft, uint32_t i, uint32_t now)
{
	struct sw_flow *f = f_look(ft, i);

	CHECK_MSG(f != NULL, "flow %u to touch is missing", i);
	if (f != NULL)
		sw_flowtab_touch(ft, f, now);
}

/* Keys whose two candidate buckets are both b: they compete for b's slots alone. */
static unsigned int
keys_in_bucket(const struct sw_flowtab *ft, uint32_t b, unsigned int n, uint32_t *out,
	       uint32_t start)
{
	unsigned int found = 0;
	uint32_t i;

	for (i = start; found < n && i < start + 10000000; i++) {
		uint32_t h = hash_of(ft, i);

		if ((h & ft->tab.mask) == b && (sw_flowtab_hash2(h) & ft->tab.mask) == b)
			out[found++] = i;
	}
	return found;
}

/* Both candidate buckets of key i are full. */
static int
both_full(const struct sw_flowtab *ft, uint32_t i)
{
	uint32_t h = hash_of(ft, i);

	return sw_ctab_bucket_count(&ft->tab, h & ft->tab.mask) >= ft->tab.bucketlimit &&
	       sw_ctab_bucket_count(&ft->tab, sw_flowtab_hash2(h) & ft->tab.mask) >=
	       ft->tab.bucketlimit;
}

static void
test_sizes_and_add(void)
{
	struct sw_flowtab ft;
	void *mem;
	struct sw_flow *f4, *f6;
	struct sw_tuple k, out;
	int ev;

	CHECK_EQ(sizeof(struct sw_flow), 64);
	CHECK_EQ(sw_flowtab_hashsize(64), 8);
	CHECK_EQ(sw_flowtab_hashsize(65), 16);
	CHECK_EQ(sw_flowtab_hashsize(65536), 8192);
	CHECK(sw_flowtab_hashsize(1000) * SW_FLOW_BUCKET_SLOTS >= 1000);

	mem = ft_new(&ft, 64, 9);
	CHECK_EQ(ft.limit, 64);
	CHECK_EQ(ft.tab.bucketlimit, SW_FLOW_BUCKET_SLOTS);
	CHECK_EQ(ft.tab.count, 0);
	f4 = f_add(&ft, 0, 5000, 0, &ev);
	REQUIRE(f4 != NULL);
	CHECK_EQ(ev, 0);
	CHECK_EQ(f4->last_ms, 5000);
	CHECK_EQ(sw_flow_state(f4), 0);
	CHECK_EQ(f4->irs, 0);
	sw_flow_state(f4) = SW_FLOW_OPENING;
	f4->irs = 77;
	f6 = f_add(&ft, 3, 5001, 0, &ev);
	REQUIRE(f6 != NULL);
	CHECK_EQ(ev, 0);
	CHECK(f_look(&ft, 0) == f4);
	CHECK(f_look(&ft, 3) == f6);
	CHECK(f_look(&ft, 1) == NULL);
	CHECK_EQ(f_look(&ft, 0)->irs, 77);
	key(&k, 3);
	REQUIRE(k.v6);
	sw_ctab_tuple(&ft.tab, f6, &out);
	CHECK(sw_tuple_eq(&out, &k));
	sw_flowtab_touch(&ft, f4, 6000);
	CHECK_EQ(f4->last_ms, 6000);
	sw_flowtab_remove(&ft, f4);
	CHECK(f_look(&ft, 0) == NULL);
	CHECK_EQ(ft.tab.count, 1);
	free(mem);
}

static void
test_bucket_full(void)
{
	struct sw_flowtab ft;
	void *mem = ft_new(&ft, 1024, 31);
	uint32_t kb[12];
	unsigned int i;
	struct sw_flow *f;
	int ev;

	REQUIRE(keys_in_bucket(&ft, 3, 12, kb, 0) == 12);
	/* 8 flows in bucket 3, added at 1000..1007 */
	for (i = 0; i < 8; i++) {
		f = f_add(&ft, kb[i], 1000 + i, 0, &ev);
		REQUIRE(f != NULL);
		CHECK_EQ(ev, 0);
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
	}
	CHECK_EQ(sw_ctab_bucket_count(&ft.tab, 3), 8);
	/* kb[0] is used again at 1200: the longest idle is now kb[1] (last seen 1001) */
	touch(&ft, kb[0], 1200);

	/* At 1500 with min_idle 500: kb[1] has been idle 499 ms only: refused, nothing
	 * changes. */
	f = f_add(&ft, kb[8], 1500, 500, &ev);
	CHECK(f == NULL);
	CHECK_EQ(ev, 0);
	CHECK_EQ(ft.tab.count, 8);
	for (i = 0; i < 8; i++)
		CHECK(f_look(&ft, kb[i]) != NULL);
	CHECK(f_look(&ft, kb[8]) == NULL);

	/* At 1501 kb[1] has been idle 500 ms: it goes (not kb[0], the oldest inserted). */
	f = f_add(&ft, kb[8], 1501, 500, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, 1);
	CHECK(f_look(&ft, kb[1]) == NULL);
	CHECK(f_look(&ft, kb[0]) != NULL);
	CHECK(f_look(&ft, kb[8]) == f);
	CHECK_EQ(ft.tab.count, 8);
	if (f != NULL)
		CHECK_EQ(f->last_ms, 1501);

	/* Touch everything but kb[5] at 3000; at 3100, min_idle 1000: kb[5] (idle 2095)
	 * goes. */
	for (i = 0; i < 9; i++)
		if (i != 1 && i != 5)
			touch(&ft, kb[i], 3000);
	f = f_add(&ft, kb[9], 3100, 1000, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, 1);
	CHECK(f_look(&ft, kb[5]) == NULL);
	for (i = 0; i < 9; i++)
		if (i != 1 && i != 5)
			CHECK(f_look(&ft, kb[i]) != NULL);

	/* All idle 100 ms at 3100+...: with min_idle 0 the longest idle still goes. */
	f = f_add(&ft, kb[10], 3100, 0, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, 1);
	CHECK_EQ(ft.tab.count, 8);
	/* every flow recent: refused with a large min_idle */
	f = f_add(&ft, kb[11], 3100, SW_FLOW_IDLE_TIMEOUT_MS, &ev);
	CHECK(f == NULL);
	CHECK_EQ(ev, 0);
	CHECK_EQ(ft.tab.count, 8);
	/* idle measured across the wrap of the 32-bit ms clock */
	{
		struct sw_flowtab w;
		void *mw = ft_new(&w, 64, 5);
		uint32_t kw[9];

		REQUIRE(keys_in_bucket(&w, 1, 9, kw, 0) == 9);
		for (i = 0; i < 8; i++)
			REQUIRE(f_add(&w, kw[i], 0xffffff00u + i, 0, &ev) != NULL);
		/* 0x100 + 16 ms later, after the wrap: kw[0] idle 272 ms */
		f = f_add(&w, kw[8], 0x10, 300, &ev);
		CHECK(f == NULL);
		f = f_add(&w, kw[8], 0x10, 272, &ev);
		CHECK(f != NULL);
		CHECK_EQ(ev, 1);
		CHECK(f_look(&w, kw[0]) == NULL);
		free(mw);
	}
	free(mem);
}

static void
test_table_full(void)
{
	struct sw_flowtab ft;
	/* 60 flows: 8 buckets of 8 slots, limit 60, so the table is full before the
	 * buckets are */
	void *mem = ft_new(&ft, 60, 3);
	uint32_t i, added = 0, first = UINT32_MAX, next;
	struct sw_flow *f;
	int ev;

	CHECK_EQ(ft.limit, 60);
	CHECK_EQ(ft.tab.hashsize * ft.tab.bucketlimit, 64);
	/* fill to the limit, one flow per ms, skipping keys whose buckets are both full */
	for (i = 0; added < 60; i++) {
		if (both_full(&ft, i))
			continue;
		f = f_add(&ft, i, 10000 + added, 0, &ev);
		REQUIRE(f != NULL);
		CHECK_EQ(ev, 0);
		if (first == UINT32_MAX)
			first = i;
		added++;
	}
	CHECK_EQ(ft.tab.count, 60);
	/* a key for a bucket with room */
	for (next = i; ; next++)
		if (f_look(&ft, next) == NULL && !both_full(&ft, next))
			break;
	/* the least recently used flow is `first`, idle 60 ms at 10060 */
	f = f_add(&ft, next, 10060, 61, &ev);
	CHECK(f == NULL);
	CHECK_EQ(ft.tab.count, 60);
	CHECK(f_look(&ft, first) != NULL);
	f = f_add(&ft, next, 10060, 60, &ev);
	CHECK(f != NULL);
	CHECK_EQ(ev, 1);
	CHECK(f_look(&ft, first) == NULL);
	CHECK_EQ(ft.tab.count, 60);
	free(mem);
}

/*
 * The sweep hands every flow to a timer function with its idle time; the worker's decides
 * per state. This one is the simplest such policy: an OPENING flow goes after
 * OPENING_TIMEOUT_MS, any other after the idle timeout.
 */
#define OPENING_TIMEOUT_MS 10000

struct expire_policy {
	uint32_t open_to, idle_to;
};

static enum sw_flow_timer_action
expire_cb(struct sw_flow *f, uint32_t idle, void *arg)
{
	const struct expire_policy *p = arg;
	uint32_t limit = sw_flow_state(f) == SW_FLOW_OPENING ? p->open_to : p->idle_to;

	return idle >= limit ? SW_FLOW_DROP : SW_FLOW_KEEP;
}

static uint32_t
flowtab_expire(struct sw_flowtab *ft, uint64_t now, uint32_t period, uint32_t open_to,
	       uint32_t idle_to)
{
	struct expire_policy p = { open_to, idle_to };

	return sw_flowtab_sweep(ft, now, period, expire_cb, &p);
}

static void
test_expire(void)
{
	struct sw_flowtab ft;
	void *mem = ft_new(&ft, 256, 17);
	const uint32_t period = SW_SWEEP_PERIOD_MS;
	const uint32_t open_to = OPENING_TIMEOUT_MS, idle_to = SW_FLOW_IDLE_TIMEOUT_MS;
	const uint64_t t0 = 1000000;
	uint32_t i, removed;
	struct sw_flow *f;
	int ev;

	CHECK(open_to < idle_to);
	ft.sweep.last_ms = t0;
	/* 30 flows: state OPENING, ESTABLISHED, CLOSING by i % 3, last seen at t0 */
	for (i = 0; i < 30; i++) {
		f = f_add(&ft, i, (uint32_t)t0, 0, &ev);
		REQUIRE(f != NULL && ev == 0);
		sw_flow_state(f) = (uint8_t)(i % 3 == 0 ? SW_FLOW_OPENING :
				     i % 3 == 1 ? SW_FLOW_ESTABLISHED : SW_FLOW_CLOSING);
	}
	/* Every call a whole period after the last sweeps the whole table. */
	removed = flowtab_expire(&ft, t0 + open_to - 1, period, open_to, idle_to);
	CHECK_EQ(removed, 0);
	CHECK_EQ(ft.tab.count, 30);
	/* One flow of each kind is seen again just before the opening timeout. */
	touch(&ft, 0, (uint32_t)(t0 + open_to - 1));
	touch(&ft, 1, (uint32_t)(t0 + open_to - 1));
	removed = flowtab_expire(&ft, t0 + open_to - 1 + period, period, open_to, idle_to);
	/* the OPENING flows but flow 0 are gone (9), nothing else */
	CHECK_EQ(removed, 9);
	for (i = 0; i < 30; i++) {
		SW_CTX("after the opening timeout: flow %u (state %u)", i, i % 3);
		CHECK((f_look(&ft, i) != NULL) == (i % 3 != 0 || i == 0));
	}
	SW_CTX_CLEAR();
	removed = flowtab_expire(&ft, t0 + open_to - 1 + 2 * period, period, open_to,
				    idle_to);
	CHECK_EQ(removed, 0);
	/* flow 0 reaches its opening timeout */
	removed = flowtab_expire(&ft, t0 + 2 * open_to - 1, period, open_to, idle_to);
	CHECK_EQ(removed, 1);
	CHECK(f_look(&ft, 0) == NULL);

	/* a period before the idle timeout: nothing; at it: all but flow 1 */
	removed = flowtab_expire(&ft, t0 + idle_to - period, period, open_to, idle_to);
	CHECK_EQ(removed, 0);
	CHECK_EQ(ft.tab.count, 20);
	removed = flowtab_expire(&ft, t0 + idle_to, period, open_to, idle_to);
	CHECK_EQ(removed, 19);
	CHECK(f_look(&ft, 1) != NULL);
	CHECK_EQ(ft.tab.count, 1);
	removed = flowtab_expire(&ft, t0 + open_to - 1 + idle_to, period, open_to, idle_to);
	CHECK_EQ(removed, 1);
	CHECK_EQ(ft.tab.count, 0);
	/* an empty table */
	removed = flowtab_expire(&ft, t0 + 10 * (uint64_t)idle_to, period, open_to, idle_to);
	CHECK_EQ(removed, 0);
	free(mem);
}

/* The same with the expiry called every millisecond, as the worker does: an OPENING flow
 * is removed no later than one period after its timeout. */
static void
expire_fine(uint32_t flows)
{
	struct sw_flowtab ft;
	void *mem = ft_new(&ft, flows, 23);
	const uint32_t period = SW_SWEEP_PERIOD_MS, open_to = 1000, idle_to = 60000;
	const uint64_t t0 = 5000000;
	uint64_t now, gone_at[40];
	uint32_t i;
	struct sw_flow *f;
	int ev;

	ft.sweep.last_ms = t0;
	for (i = 0; i < 40; i++) {
		f = f_add(&ft, i, (uint32_t)t0, 0, &ev);
		REQUIRE(f != NULL && ev == 0);
		sw_flow_state(f) = SW_FLOW_OPENING;
		gone_at[i] = 0;
	}
	for (now = t0 + 1; now <= t0 + open_to + period + 1; now++) {
		flowtab_expire(&ft, now, period, open_to, idle_to);
		for (i = 0; i < 40; i++)
			if (gone_at[i] == 0 && f_look(&ft, i) == NULL)
				gone_at[i] = now;
	}
	for (i = 0; i < 40; i++) {
		SW_CTX("%u flows (%u buckets), expiry every ms, flow %u", flows,
		       ft.tab.hashsize, i);
		CHECK(gone_at[i] != 0);
		if (gone_at[i] != 0)
			CHECK(gone_at[i] >= t0 + open_to);
	}
	SW_CTX_CLEAR();
	free(mem);
}

/*
 * Two choices at a high load: 6000 flows into a table of 8192 (1024 buckets of 8, 73%):
 * with one choice about one bucket in eight would overflow (Poisson, mean 5.9); with two,
 * every flow finds room, and lookups find each one.
 */
static void
test_two_choices_load(void)
{
	struct sw_flowtab ft;
	void *mem = ft_new(&ft, 8192, 77);
	uint32_t i, refused = 0;
	struct sw_flow *f;
	int ev;

	for (i = 0; i < 6000; i++) {
		f = f_add(&ft, i, 1000, SW_FLOW_IDLE_TIMEOUT_MS, &ev);
		if (f == NULL)
			refused++;
		CHECK_EQ(ev, 0);
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(ft.tab.count, 6000);
	for (i = 0; i < 6000; i++)
		CHECK(f_look(&ft, i) != NULL);
	CHECK(f_look(&ft, 6001) == NULL);
	free(mem);
}

int
main(void)
{
	test_sizes_and_add();
	test_bucket_full();
	test_table_full();
	test_expire();
	expire_fine(64);
	expire_fine(1024);
	expire_fine(8192);
	test_two_choices_load();
	return sw_test_done();
}
