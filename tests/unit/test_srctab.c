/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source table (srctab.h): the token buckets' arithmetic and each worker's share of a
 * rate; prefixes cut to their lengths; a table that stays bounded under a flood of one-off
 * sources without losing a prefix it holds to its rate (or, with no limit, a busy one); the
 * top talkers merged over tables and ordered.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "srctab.h"
#include "sw_test.h"

static const struct sw_sipkey key = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

static struct sw_srctab *
table(uint32_t entries, uint8_t v4, uint8_t v6)
{
	struct sw_srctab *st = calloc(1, sizeof(*st));
	void *mem = aligned_alloc(64, sw_srct_memsize(entries));

	if (st == NULL || mem == NULL)
		abort();
	memset(mem, 0, sw_srct_memsize(entries));
	if (sw_srct_init(st, mem, entries, &key, v4, v6) != 0)
		abort();
	return st;
}

static void
table_free(struct sw_srctab *st)
{
	free(st->sets);
	free(st);
}

static void
addr4(uint8_t a[16], uint32_t host_order)
{
	uint32_t be = rte_cpu_to_be_32(host_order);

	memset(a, 0, 16);
	memcpy(a, &be, 4);
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void
test_init_refuses(void)
{
	struct sw_srctab st;
	static uint8_t mem[64 * 64 + 8 * 64] __rte_cache_aligned;

	CHECK(sw_srct_init(&st, mem, 32, &key, 32, 64) != 0);
	CHECK(sw_srct_init(&st, mem, 96, &key, 32, 64) != 0);
	CHECK(sw_srct_init(&st, mem, 64, &key, 33, 64) != 0);
	CHECK(sw_srct_init(&st, mem, 64, &key, 32, 129) != 0);
	CHECK(sw_srct_init(&st, mem, 64, &key, 32, 64) == 0);
	CHECK_EQ(sw_srct_memsize(64), sizeof(mem));
}

/* GCRA: burst at once, then one per interval; the worker's share of both. */
static void
test_buckets(void)
{
	struct sw_srct_bucket b;
	uint64_t tat = 0, t0 = 1000000;
	unsigned int i, ok;

	sw_srct_bucket_of(&b, 10, 5, 1);
	CHECK_EQ(b.t, 100000000ull);
	CHECK_EQ(b.tau, 400000000ull);
	tat = t0 * SW_SRCT_NS_PER_MS;
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srct_take(&b, &tat, t0);
	CHECK_EQ(ok, 5u);
	/* 99 ms on: still nothing; 100 ms on: one */
	CHECK(!sw_srct_take(&b, &tat, t0 + 99));
	CHECK(sw_srct_take(&b, &tat, t0 + 100));
	CHECK(!sw_srct_take(&b, &tat, t0 + 100));
	/* quiet for long: back to a whole burst, no more */
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srct_take(&b, &tat, t0 + 60000);
	CHECK_EQ(ok, 5u);
	/* at the rate exactly: every one passes for a minute */
	for (i = 0, ok = 0; i < 600; i++)
		ok += sw_srct_take(&b, &tat, t0 + 70000 + 100 * i);
	CHECK_EQ(ok, 600u);

	/* two workers: each 5 a second, and half the burst at once */
	sw_srct_bucket_of(&b, 10, 10, 2);
	CHECK_EQ(b.t, 200000000ull);
	tat = 0;
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srct_take(&b, &tat, t0);
	CHECK_EQ(ok, 5u);
	/* a burst below the workers: one at once each */
	sw_srct_bucket_of(&b, 10, 1, 4);
	CHECK_EQ(b.tau, 0ull);
	tat = 0;
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srct_take(&b, &tat, t0);
	CHECK_EQ(ok, 1u);
	/* burst 0: the rate */
	sw_srct_bucket_of(&b, 1000, 0, 1);
	tat = 0;
	for (i = 0, ok = 0; i < 5000; i++)
		ok += sw_srct_take(&b, &tat, t0);
	CHECK_EQ(ok, 1000u);
	/* the largest rate: an interval of 10 ns, never 0 */
	sw_srct_bucket_of(&b, SW_SRCT_RATE_MAX, SW_SRCT_RATE_MAX, 1);
	CHECK_EQ(b.t, 10ull);
	sw_srct_bucket_of(&b, 0, 5, 1);
	CHECK_EQ(b.t, 0ull);
	/* no limit: always passes, the time at most the horizon ahead */
	tat = 0;
	for (i = 0; i < 5000; i++)
		CHECK(sw_srct_take(&b, &tat, t0));
	CHECK_EQ(tat, (t0 + SW_SRCT_HORIZON_MS) * SW_SRCT_NS_PER_MS);
}

/* Addresses of one prefix share an entry; the key is the prefix, its length the table's. */
static void
test_prefixes(void)
{
	struct sw_srctab *st = table(64, 24, 48);
	struct sw_srct_entry *a, *b, *c;
	uint8_t x[16], y[16], want[16];
	int ev;

	addr4(x, IP4(198, 18, 200, 1));
	addr4(y, IP4(198, 18, 200, 254));
	a = sw_srct_get(st, 0, x, 1000, &ev);
	CHECK_EQ(ev, 0);
	b = sw_srct_get(st, 0, y, 1000, &ev);
	CHECK(a == b);
	addr4(want, IP4(198, 18, 200, 0));
	CHECK_MEM(a->key, want, 16);
	CHECK_EQ(a->len, 24);
	CHECK_EQ(a->v6, 0);
	addr4(y, IP4(198, 18, 201, 1));
	CHECK(sw_srct_get(st, 0, y, 1000, &ev) != a);

	/* IPv6: cut to /48; an IPv4 key of the same bytes is another prefix */
	memset(x, 0, 16);
	x[0] = 0x20, x[1] = 0x01, x[3] = 0x02, x[5] = 0x07, x[7] = 0x99, x[15] = 1;
	memcpy(y, x, 16);
	y[6] = 0xff, y[15] = 2;
	c = sw_srct_get(st, 1, x, 1000, &ev);
	CHECK(sw_srct_get(st, 1, y, 1000, &ev) == c);
	memset(want, 0, 16);
	memcpy(want, x, 6);
	CHECK_MEM(c->key, want, 16);
	CHECK_EQ(c->len, 48);
	CHECK_EQ(c->v6, 1);
	memcpy(y, x, 16);
	y[5] = 0x08;
	CHECK(sw_srct_get(st, 1, y, 1000, &ev) != c);
	memset(y, 0, 16);
	memcpy(y, want, 4);
	CHECK(sw_srct_get(st, 0, y, 1000, &ev) != c);
	table_free(st);
}

/*
 * A table of 64 entries and a flood of one-off sources, 1000 every 10 ms for 3 s (the table
 * turned over 15 times between two rounds): a source of 5000 SYNs a second held to a rate of
 * 10 keeps its entry all along (its counts are all its SYNs) and gets burst + rate x time
 * through; with no limit set, it likewise keeps its entry (its bucket runs at the nominal
 * rate, ahead of every one-off source's).
 */
static void
test_flood(int limited)
{
	struct sw_srctab *st = table(64, 32, 64);
	uint8_t heavy[16], a[16];
	uint64_t now = 5000;
	unsigned int r, i, sent = 0, passed = 0, evicted = 0;
	struct sw_srct_entry *e;
	uint32_t rnd = 12345;
	int ev;

	SW_CTX("limited %d", limited);
	sw_srct_configure(st, 1, limited ? 10 : 0, 20, 0, 0, 1);
	addr4(heavy, IP4(198, 18, 200, 9));
	for (r = 0; r < 300; r++, now += 10) {
		for (i = 0; i < 50; i++) {
			e = sw_srct_get(st, 0, heavy, now, &ev);
			sent++;
			passed += sw_srct_syn(st, e, now);
		}
		for (i = 0; i < 1000; i++) {
			rnd = rnd * 1103515245u + 12345u;
			addr4(a, IP4(198, 19, 0, 0) | (rnd >> 16));
			e = sw_srct_get(st, 0, a, now, &ev);
			evicted += (unsigned int)ev;
			sw_srct_syn(st, e, now);
		}
	}
	e = sw_srct_get(st, 0, heavy, now, &ev);
	CHECK_EQ(ev, 0);
	CHECK_EQ(e->syns, sent);
	CHECK(evicted > 250000);
	if (limited) {
		/* 20 at once, then 10 a second over the 2.99 s */
		CHECK_MSG(passed >= 49 && passed <= 51, "passed %u", passed);
		CHECK_EQ(e->syns_limited, sent - passed);
	} else {
		CHECK_EQ(passed, sent);
		CHECK_EQ(e->syns_limited, 0u);
	}
	SW_CTX_CLEAR();
	table_free(st);
}

/* The reflection bucket is a bucket of its own. */
static void
test_synacks(void)
{
	struct sw_srctab *st = table(64, 32, 64);
	uint8_t v[16];
	struct sw_srct_entry *e;
	unsigned int i, sent = 0;
	int ev;

	sw_srct_configure(st, 1, 0, 0, 4, 4, 1);
	addr4(v, IP4(198, 18, 0, 10));
	for (i = 0; i < 100; i++) {
		e = sw_srct_get(st, 0, v, 1000, &ev);
		CHECK(sw_srct_syn(st, e, 1000));
		sent += sw_srct_synack(st, e, 1000);
	}
	CHECK_EQ(sent, 4u);
	CHECK_EQ(e->synacks_capped, 96u);
	CHECK(sw_srct_synack(st, e, 1250));
	CHECK(!sw_srct_synack(st, e, 1250));
	table_free(st);
}

/* Two workers' tables: a prefix on both is one line, summed; the order; max; nothing of
 * `by` left out. */
static void
test_top(void)
{
	struct sw_srctab *t1 = table(64, 24, 64), *t2 = table(128, 24, 64);
	const struct sw_srctab *tabs[3];
	struct sw_srct_talker out[8];
	struct sw_srct_entry *e;
	uint8_t a[16], want[16];
	int n, ev, i;

	addr4(a, IP4(198, 18, 200, 1));
	e = sw_srct_get(t1, 0, a, 1000, &ev);
	e->syns = 5;
	e->bad_cookies = 1;
	e = sw_srct_get(t2, 0, a, 1900, &ev);
	e->syns = 7;
	addr4(a, IP4(198, 18, 201, 1));
	sw_srct_get(t1, 0, a, 1000, &ev)->syns = 10;
	addr4(a, IP4(198, 18, 202, 1));
	sw_srct_get(t2, 0, a, 1000, &ev)->flows = 3;

	tabs[0] = t1;
	tabs[1] = t2;
	n = sw_srct_top(tabs, 2, SW_SRCT_BY_SYNS, 2000, out, 8);
	CHECK_EQ(n, 2);
	addr4(want, IP4(198, 18, 200, 0));
	CHECK_MEM(out[0].key, want, 16);
	CHECK_EQ(out[0].syns, 12u);
	CHECK_EQ(out[0].bad_cookies, 1u);
	CHECK_EQ(out[0].idle_ms, 100u);
	CHECK_EQ(out[0].len, 24);
	CHECK_EQ(out[1].syns, 10u);
	n = sw_srct_top(tabs, 2, SW_SRCT_BY_SYNS, 2000, out, 1);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].syns, 12u);
	n = sw_srct_top(tabs, 2, SW_SRCT_BY_FLOWS, 2000, out, 8);
	CHECK_EQ(n, 1);
	addr4(want, IP4(198, 18, 202, 0));
	CHECK_MEM(out[0].key, want, 16);
	CHECK_EQ(sw_srct_top(tabs, 2, SW_SRCT_BY_SYNACKS_CAPPED, 2000, out, 8), 0);

	/* a table that is not there counts nothing */
	struct sw_srctab none;

	memset(&none, 0, sizeof(none));
	tabs[2] = &none;
	CHECK_EQ(sw_srct_top(&tabs[2], 1, SW_SRCT_BY_SYNS, 2000, out, 8), 0);
	CHECK_EQ(sw_srct_top(tabs, 3, SW_SRCT_BY_SYNS, 2000, out, 8), 2);
	/* equals by prefix */
	for (i = 0; i < 3; i++) {
		addr4(a, IP4(198, 18, 210 - i, 1));
		sw_srct_get(t1, 0, a, 1000, &ev)->synacks_capped = 2;
	}
	n = sw_srct_top(tabs, 2, SW_SRCT_BY_SYNACKS_CAPPED, 2000, out, 8);
	CHECK_EQ(n, 3);
	for (i = 0; i < n; i++) {
		addr4(want, IP4(198, 18, 208 + i, 0));
		CHECK_MEM(out[i].key, want, 16);
	}
	table_free(t1);
	table_free(t2);

	/* many prefixes: the heaviest few of each table, by a heap of 4 x max */
	t1 = table(4096, 32, 64);
	for (i = 0; i < 3000; i++) {
		addr4(a, IP4(198, 18, 0, 0) + (uint32_t)i);
		sw_srct_get(t1, 0, a, 1000, &ev)->bad_cookies = (uint32_t)((i * 7919) % 3000) + 1;
	}
	tabs[0] = t1;
	n = sw_srct_top(tabs, 1, SW_SRCT_BY_BAD_COOKIES, 1000, out, 5);
	REQUIRE(n == 5);
	for (i = 0; i < n; i++)
		CHECK_EQ(out[i].bad_cookies, 3000u - (uint64_t)i);
	table_free(t1);
}

int
main(void)
{
	test_init_refuses();
	test_buckets();
	test_prefixes();
	test_flood(1);
	test_flood(0);
	test_synacks();
	test_top();
	return sw_test_done();
}
