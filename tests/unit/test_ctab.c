/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection table under the syncache and the flow table (ctab.h): lookups for IPv4
 * and IPv6 keys, eviction of the oldest entry of a full bucket, eviction of the globally
 * oldest entry at the cache limit, a long random insert/remove run against a reference
 * model, the per-slot signatures (colliding ones included), and the cadence of the
 * incremental sweep.
 */
#include <stdlib.h>

#include "ctab.h"
#include "sw_test.h"

static void *
ctab_new(struct sw_ctab *t, uint32_t hashsize, uint32_t bucketlimit, uint32_t seed)
{
	size_t sz = sw_ctab_memsize(hashsize, bucketlimit);
	void *mem;

	sz = (sz + 63) & ~(size_t)63;
	mem = aligned_alloc(64, sz);
	REQUIRE(mem != NULL);
	memset(mem, 0x5a, sz);          /* init must not rely on zeroed memory */
	REQUIRE(sw_ctab_init(t, mem, hashsize, bucketlimit, seed) == 0);
	return mem;
}

/* Key number i: distinct for distinct i; every third one is IPv6. */
static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(1024 + (i * 40503u) % 60000);
	k->dport = (uint16_t)(i % 7 == 0 ? 443 : 80);
	if (i % 3 == 2) {
		unsigned int j;

		k->v6 = 1;
		for (j = 0; j < 16; j++) {
			k->src[j] = (uint8_t)(0x20 + j);
			k->dst[j] = (uint8_t)(0xa0 + j);
		}
		/* the distinguishing bytes deep inside the address, past the first 4 */
		k->src[13] = (uint8_t)(i >> 16);
		k->src[14] = (uint8_t)(i >> 8);
		k->src[15] = (uint8_t)i;
	} else {
		k->src[0] = 10;
		k->src[1] = (uint8_t)(i >> 16);
		k->src[2] = (uint8_t)(i >> 8);
		k->src[3] = (uint8_t)i;
		k->dst[0] = 192;
		k->dst[1] = 0;
		k->dst[2] = 2;
		k->dst[3] = 1;
	}
}

static int
tuple_same(const struct sw_tuple *a, const struct sw_tuple *b)
{
	return sw_tuple_eq(a, b);
}

static void
check_tuple_of(const struct sw_ctab *t, const void *e, const struct sw_tuple *k)
{
	struct sw_tuple out;

	sw_ctab_tuple(t, e, &out);
	CHECK(tuple_same(&out, k));
	CHECK_EQ(out.v6, k->v6);
	CHECK_EQ(out.sport, k->sport);
	CHECK_EQ(out.dport, k->dport);
	CHECK_MEM(out.src, k->src, k->v6 ? 16 : 4);
	CHECK_MEM(out.dst, k->dst, k->v6 ? 16 : 4);
}

static void
test_basic(void)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, 64, 4, 12345);
	struct sw_tuple k4, k6, k;
	unsigned int ev;
	uint8_t *e4, *e6, *e;
	uint32_t h4, h6;
	unsigned int i;

	CHECK_EQ(t.count, 0);
	CHECK(sw_ctab_oldest(&t) == NULL);
	key(&k4, 1);
	key(&k6, 2);
	REQUIRE(k6.v6 == 1 && k4.v6 == 0);
	h4 = sw_ctab_hash(&t, &k4);
	h6 = sw_ctab_hash(&t, &k6);
	CHECK(sw_ctab_lookup(&t, &k4, h4) == NULL);

	e4 = sw_ctab_insert(&t, &k4, h4, UINT32_MAX, &ev, NULL);
	REQUIRE(e4 != NULL);
	CHECK_EQ(ev, 0);
	e6 = sw_ctab_insert(&t, &k6, h6, UINT32_MAX, &ev, NULL);
	REQUIRE(e6 != NULL);
	CHECK_EQ(ev, 0);
	CHECK_EQ(t.count, 2);
	CHECK(sw_ctab_lookup(&t, &k4, h4) == e4);
	CHECK(sw_ctab_lookup(&t, &k6, h6) == e6);
	check_tuple_of(&t, e4, &k4);
	check_tuple_of(&t, e6, &k6);
	/* the payload past the header is zeroed */
	for (i = sizeof(struct sw_ctab_hdr); i < SW_CTAB_ENTRY_SIZE; i++) {
		CHECK_EQ(e4[i], 0);
		CHECK_EQ(e6[i], 0);
	}
	/* entries are 64-byte slots */
	CHECK_EQ(((uintptr_t)e4 - (uintptr_t)t.slots) % SW_CTAB_ENTRY_SIZE, 0);
	CHECK(sw_ctab_oldest(&t) == e4);

	/* The hash ignores IPv4 address bytes past the fourth; so does the lookup. */
	k = k4;
	memset(k.src + 4, 0xee, 12);
	memset(k.dst + 4, 0x11, 12);
	CHECK_EQ(sw_ctab_hash(&t, &k), h4);
	CHECK(sw_ctab_lookup(&t, &k, h4) == e4);

	/* Near misses are not found (looked up with the true key's hash, so that the same
	 * bucket is searched). */
	for (i = 0; i < 16; i++) {
		k = k6;
		k.src[i] ^= 0x40;
		SW_CTX("IPv6 src byte %u changed", i);
		CHECK(sw_ctab_lookup(&t, &k, h6) == NULL);
		k = k6;
		k.dst[i] ^= 0x01;
		SW_CTX("IPv6 dst byte %u changed", i);
		CHECK(sw_ctab_lookup(&t, &k, h6) == NULL);
	}
	for (i = 0; i < 4; i++) {
		k = k4;
		k.src[i] ^= 0x80;
		SW_CTX("IPv4 src byte %u changed", i);
		CHECK(sw_ctab_lookup(&t, &k, h4) == NULL);
		k = k4;
		k.dst[i] ^= 0x02;
		SW_CTX("IPv4 dst byte %u changed", i);
		CHECK(sw_ctab_lookup(&t, &k, h4) == NULL);
	}
	SW_CTX_CLEAR();
	k = k4;
	k.sport ^= 1;
	CHECK(sw_ctab_lookup(&t, &k, h4) == NULL);
	k = k4;
	k.dport ^= 0x100;
	CHECK(sw_ctab_lookup(&t, &k, h4) == NULL);
	/* IPv6 key whose first 4 bytes and ports equal an IPv4 entry's */
	k = k4;
	k.v6 = 1;
	CHECK(sw_ctab_lookup(&t, &k, h4) == NULL);
	/* IPv4 key equal to the first 4 bytes of an IPv6 entry */
	k = k6;
	k.v6 = 0;
	CHECK(sw_ctab_lookup(&t, &k, h6) == NULL);

	/* Two IPv6 keys that differ only past the first 4 address bytes and land in the same
	 * bucket are two entries (the addresses live in the side array). */
	{
		struct sw_tuple a = k6, b;
		uint32_t ha = h6, hb = 0;
		uint8_t *eb;
		unsigned int n;

		for (n = 0; n < 100000; n++) {
			b = a;
			b.src[15] = (uint8_t)n;
			b.src[14] = (uint8_t)(n >> 8);
			b.src[13] = (uint8_t)(0x80 | n >> 16);
			hb = sw_ctab_hash(&t, &b);
			if ((hb & t.mask) == (ha & t.mask))
				break;
		}
		REQUIRE(n < 100000);
		eb = sw_ctab_insert(&t, &b, hb, UINT32_MAX, &ev, NULL);
		CHECK_EQ(ev, 0);
		CHECK(eb != e6);
		CHECK(sw_ctab_lookup(&t, &a, ha) == e6);
		CHECK(sw_ctab_lookup(&t, &b, hb) == eb);
		check_tuple_of(&t, e6, &a);
		check_tuple_of(&t, eb, &b);
		sw_ctab_remove(&t, eb);
		CHECK(sw_ctab_lookup(&t, &b, hb) == NULL);
		CHECK(sw_ctab_lookup(&t, &a, ha) == e6);
	}

	/* remove */
	sw_ctab_remove(&t, e4);
	CHECK_EQ(t.count, 1);
	CHECK(sw_ctab_lookup(&t, &k4, h4) == NULL);
	CHECK(sw_ctab_lookup(&t, &k6, h6) == e6);
	CHECK(sw_ctab_oldest(&t) == e6);
	/* the reused slot's payload is zeroed again */
	memset(e6 + sizeof(struct sw_ctab_hdr), 0xff,
	       SW_CTAB_ENTRY_SIZE - sizeof(struct sw_ctab_hdr));
	sw_ctab_remove(&t, e6);
	CHECK_EQ(t.count, 0);
	CHECK(sw_ctab_oldest(&t) == NULL);
	e = sw_ctab_insert(&t, &k6, h6, UINT32_MAX, &ev, NULL);
	for (i = sizeof(struct sw_ctab_hdr); i < SW_CTAB_ENTRY_SIZE; i++)
		CHECK_EQ(e[i], 0);
	check_tuple_of(&t, e, &k6);

	/* bad sizes */
	{
		struct sw_ctab bad;

		CHECK(sw_ctab_init(&bad, mem, 0, 4, 1) != 0);
		CHECK(sw_ctab_init(&bad, mem, 48, 4, 1) != 0);
		CHECK(sw_ctab_init(&bad, mem, 64, 0, 1) != 0);
		CHECK(sw_ctab_init(&bad, mem, 64, 256, 1) != 0);
	}
	free(mem);
}

/* Keys 0.. whose bucket is b, in order. */
static unsigned int
keys_in_bucket(const struct sw_ctab *t, uint32_t b, unsigned int n, uint32_t *out,
	       uint32_t start)
{
	unsigned int found = 0;
	uint32_t i;

	for (i = start; found < n && i < start + 10000000; i++) {
		struct sw_tuple k;

		key(&k, i);
		if ((sw_ctab_hash(t, &k) & t->mask) == b)
			out[found++] = i;
	}
	return found;
}

static void *
ins(struct sw_ctab *t, uint32_t i, uint32_t limit, unsigned int *ev, void *evict_out)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_ctab_insert(t, &k, sw_ctab_hash(t, &k), limit, ev, evict_out);
}

static void *
look(const struct sw_ctab *t, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_ctab_lookup(t, &k, sw_ctab_hash(t, &k));
}

static void
test_bucket_overflow(void)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, 16, 4, 777);
	uint32_t kb[8], ko[4];
	unsigned int ev, i;
	struct sw_ctab_hdr out;
	struct sw_tuple k;
	uint8_t evbuf[SW_CTAB_ENTRY_SIZE];
	void *e;

	REQUIRE(keys_in_bucket(&t, 5, 8, kb, 0) == 8);
	/* keys of other buckets, inserted first: older than everything in bucket 5 */
	for (i = 0; i < 4; i++) {
		REQUIRE(keys_in_bucket(&t, 6 + i, 1, &ko[i], 0) == 1);
		ins(&t, ko[i], UINT32_MAX, &ev, NULL);
		CHECK_EQ(ev, 0);
	}
	for (i = 0; i < 4; i++) {
		ins(&t, kb[i], UINT32_MAX, &ev, NULL);
		CHECK_EQ(ev, 0);
	}
	CHECK_EQ(sw_ctab_bucket_count(&t, 5), 4);
	CHECK_EQ(t.count, 8);

	/* full bucket: kb[0], its oldest, goes, and nothing else */
	memset(evbuf, 0xcc, sizeof(evbuf));
	e = ins(&t, kb[4], UINT32_MAX, &ev, evbuf);
	CHECK(e != NULL);
	CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
	CHECK_EQ(t.count, 8);
	CHECK_EQ(sw_ctab_bucket_count(&t, 5), 4);
	CHECK(look(&t, kb[0]) == NULL);
	for (i = 1; i <= 4; i++)
		CHECK(look(&t, kb[i]) != NULL);
	for (i = 0; i < 4; i++)
		CHECK(look(&t, ko[i]) != NULL);
	/* the evicted entry's header was copied out first */
	memcpy(&out, evbuf, sizeof(out));
	key(&k, kb[0]);
	CHECK_EQ(out.sport, k.sport);
	CHECK_EQ(out.dport, k.dport);
	CHECK_EQ(out.v6, k.v6);
	if (!k.v6) {
		CHECK_MEM(&out.saddr, k.src, 4);
		CHECK_MEM(&out.daddr, k.dst, 4);
	}

	/* a hole in the bucket is filled without eviction */
	sw_ctab_remove(&t, look(&t, kb[2]));
	CHECK_EQ(sw_ctab_bucket_count(&t, 5), 3);
	ins(&t, kb[5], UINT32_MAX, &ev, NULL);
	CHECK_EQ(ev, 0);
	/* then the oldest left is kb[1], then kb[3] */
	ins(&t, kb[6], UINT32_MAX, &ev, NULL);
	CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
	CHECK(look(&t, kb[1]) == NULL);
	CHECK(look(&t, kb[3]) != NULL);
	ins(&t, kb[7], UINT32_MAX, &ev, NULL);
	CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
	CHECK(look(&t, kb[3]) == NULL);
	/* live entries of the bucket, oldest first: kb[4], kb[5], kb[6], kb[7] */
	CHECK_EQ(sw_ctab_bucket_count(&t, 5), 4);
	for (i = 0; i < 4; i++) {
		SW_CTX("bucket entry %u", i);
		CHECK(sw_ctab_bucket_entry(&t, 5, i) == look(&t, kb[4 + i]));
	}
	SW_CTX_CLEAR();
	CHECK_EQ(t.count, 8);
	/* other buckets untouched */
	for (i = 0; i < 4; i++)
		CHECK(look(&t, ko[i]) != NULL);

	/* A full bucket at the cache limit: one eviction, the bucket's, not two. */
	REQUIRE(keys_in_bucket(&t, 5, 1, &kb[0], kb[7] + 1) == 1);
	ins(&t, kb[0], t.count, &ev, NULL);
	CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
	CHECK_EQ(t.count, 8);
	CHECK(look(&t, kb[4]) == NULL);
	for (i = 0; i < 4; i++)
		CHECK(look(&t, ko[i]) != NULL);

	/* bucketlimit 1 */
	{
		struct sw_ctab t1;
		void *m1 = ctab_new(&t1, 4, 1, 3);
		uint32_t kk[2];

		REQUIRE(keys_in_bucket(&t1, 2, 2, kk, 0) == 2);
		ins(&t1, kk[0], UINT32_MAX, &ev, NULL);
		CHECK_EQ(ev, 0);
		ins(&t1, kk[1], UINT32_MAX, &ev, NULL);
		CHECK_EQ(ev, SW_CTAB_EVICT_BUCKET);
		CHECK(look(&t1, kk[0]) == NULL);
		CHECK(look(&t1, kk[1]) != NULL);
		CHECK_EQ(t1.count, 1);
		free(m1);
	}
	free(mem);
}

static void
test_cache_limit(void)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, 16, 4, 99);
	uint32_t k[16];
	unsigned int ev, i;
	uint8_t evbuf[SW_CTAB_ENTRY_SIZE];
	struct sw_ctab_hdr out;
	struct sw_tuple kt;

	/* 12 keys, 3 in each of 4 buckets, so no bucket overflows */
	for (i = 0; i < 4; i++)
		REQUIRE(keys_in_bucket(&t, i, 4, &k[4 * i], 0) == 4);
	/* insertion order: round robin over the buckets */
	{
		static const unsigned int order[12] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14 };

		for (i = 0; i < 10; i++) {
			ins(&t, k[order[i]], 10, &ev, NULL);
			CHECK_EQ(ev, 0);
		}
		CHECK_EQ(t.count, 10);
		CHECK(sw_ctab_oldest(&t) == look(&t, k[0]));
		/* at the limit: the globally oldest (k[0], bucket 0) goes for a key of
		 * bucket 3 */
		memset(evbuf, 0, sizeof(evbuf));
		ins(&t, k[order[10]], 10, &ev, evbuf);
		CHECK_EQ(ev, SW_CTAB_EVICT_CACHE);
		CHECK_EQ(t.count, 10);
		CHECK(look(&t, k[0]) == NULL);
		CHECK(look(&t, k[order[10]]) != NULL);
		memcpy(&out, evbuf, sizeof(out));
		key(&kt, k[0]);
		CHECK_EQ(out.sport, kt.sport);
		CHECK_EQ(out.dport, kt.dport);
		/* touch the now oldest, k[4]: k[8] goes next */
		CHECK(sw_ctab_oldest(&t) == look(&t, k[4]));
		sw_ctab_touch(&t, look(&t, k[4]));
		CHECK(sw_ctab_oldest(&t) == look(&t, k[8]));
		ins(&t, k[order[11]], 10, &ev, NULL);
		CHECK_EQ(ev, SW_CTAB_EVICT_CACHE);
		CHECK(look(&t, k[8]) == NULL);
		CHECK(look(&t, k[4]) != NULL);
		CHECK_EQ(t.count, 10);
		/* touching the newest changes nothing */
		sw_ctab_touch(&t, look(&t, k[order[11]]));
		CHECK(sw_ctab_oldest(&t) == look(&t, k[12]));
	}
	/* limit 1: every insert replaces the one entry */
	{
		struct sw_ctab t1;
		void *m1 = ctab_new(&t1, 8, 2, 5);

		for (i = 0; i < 20; i++) {
			ins(&t1, 1000 + i, 1, &ev, NULL);
			CHECK_EQ(ev, i == 0 ? 0u : (unsigned int)SW_CTAB_EVICT_CACHE);
			CHECK_EQ(t1.count, 1);
			CHECK(look(&t1, 1000 + i) != NULL);
			if (i > 0)
				CHECK(look(&t1, 1000 + i - 1) == NULL);
		}
		free(m1);
	}
	free(mem);
}

/* ---- long random run against a reference model ----------------------------------- */

#define POOL 600

struct model {
	uint8_t live[POOL];
	uint64_t seq[POOL];
	uint32_t bucket[POOL];
	uint32_t count;
	uint64_t next_seq;
};

static void
random_run(uint32_t hashsize, uint32_t bucketlimit, uint32_t limit, uint64_t rs, uint32_t ops,
	   int expect_bucket_evictions, int expect_cache_evictions)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, hashsize, bucketlimit, (uint32_t)rs);
	struct model m;
	uint32_t op, i;
	unsigned long evb = 0, evc = 0;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < POOL; i++) {
		struct sw_tuple k;

		key(&k, i);
		m.bucket[i] = sw_ctab_hash(&t, &k) & t.mask;
	}
	for (op = 0; op < ops; op++) {
		uint32_t x = (uint32_t)(sw_rand(&rs) % POOL);

		SW_CTX("hashsize %u bucketlimit %u limit %u op %u key %u", hashsize, bucketlimit,
		       limit, op, x);
		if (m.live[x]) {
			void *e = look(&t, x);

			CHECK(e != NULL);
			if (e != NULL)
				sw_ctab_remove(&t, e);
			m.live[x] = 0;
			m.count--;
		} else {
			uint32_t j, victim = POOL, nb = 0;
			unsigned int ev, want_ev = 0;
			uint8_t evbuf[SW_CTAB_ENTRY_SIZE];
			void *e;

			for (j = 0; j < POOL; j++)
				if (m.live[j] && m.bucket[j] == m.bucket[x]) {
					nb++;
					if (victim == POOL || m.seq[j] < m.seq[victim])
						victim = j;
				}
			if (nb >= bucketlimit) {
				want_ev = SW_CTAB_EVICT_BUCKET;
			} else if (m.count >= limit) {
				want_ev = SW_CTAB_EVICT_CACHE;
				victim = POOL;
				for (j = 0; j < POOL; j++)
					if (m.live[j] && (victim == POOL || m.seq[j] < m.seq[victim]))
						victim = j;
			}
			e = ins(&t, x, limit, &ev, evbuf);
			CHECK(e != NULL);
			CHECK_EQ(ev, want_ev);
			if (want_ev && victim < POOL) {
				struct sw_ctab_hdr out;
				struct sw_tuple vk;

				memcpy(&out, evbuf, sizeof(out));
				key(&vk, victim);
				CHECK_EQ(out.sport, vk.sport);
				CHECK_EQ(out.dport, vk.dport);
				CHECK_EQ(out.v6, vk.v6);
				CHECK(look(&t, victim) == NULL);
				m.live[victim] = 0;
				m.count--;
				if (want_ev == SW_CTAB_EVICT_BUCKET)
					evb++;
				else
					evc++;
			}
			m.live[x] = 1;
			m.seq[x] = m.next_seq++;
			m.count++;
			CHECK(look(&t, x) == e);
		}
		CHECK_EQ(t.count, m.count);
		CHECK(t.count <= limit);

		if (op % 499 == 0 || op == ops - 1) {
			uint32_t oldest = POOL, b;

			for (i = 0; i < POOL; i++) {
				void *e = look(&t, i);

				CHECK_EQ(e != NULL, m.live[i]);
				if (e != NULL) {
					struct sw_tuple k;

					key(&k, i);
					check_tuple_of(&t, e, &k);
				}
				if (m.live[i] && (oldest == POOL || m.seq[i] < m.seq[oldest]))
					oldest = i;
			}
			CHECK(sw_ctab_oldest(&t) == (oldest == POOL ? NULL : look(&t, oldest)));
			/* each bucket: its live entries, oldest first */
			for (b = 0; b < hashsize; b++) {
				uint32_t n = 0, k;
				uint64_t prev = 0;

				for (i = 0; i < POOL; i++)
					if (m.live[i] && m.bucket[i] == b)
						n++;
				CHECK_EQ(sw_ctab_bucket_count(&t, b), n);
				for (k = 0; k < sw_ctab_bucket_count(&t, b) && k < n; k++) {
					struct sw_tuple kt;
					uint32_t idx = POOL;

					sw_ctab_tuple(&t, sw_ctab_bucket_entry(&t, b, k), &kt);
					for (i = 0; i < POOL; i++) {
						struct sw_tuple ki;

						if (!m.live[i] || m.bucket[i] != b)
							continue;
						key(&ki, i);
						if (sw_tuple_eq(&ki, &kt))
							idx = i;
					}
					CHECK(idx < POOL);
					if (idx < POOL) {
						CHECK(k == 0 || m.seq[idx] > prev);
						prev = m.seq[idx];
					}
				}
			}
		}
	}
	SW_CTX_CLEAR();
	/* the run did exercise both evictions where they can happen */
	if (expect_cache_evictions)
		CHECK(evc > 0);
	if (expect_bucket_evictions)
		CHECK(evb > 0);
	free(mem);
}

/* ---- sweep cadence ----------------------------------------------------------------- */

/*
 * Called once per millisecond, as a worker loop does, sw_sweep_due/sw_sweep_next must
 * visit every bucket at least once per period ("the whole table is visited once per
 * period"): the gap between two visits of a bucket may not exceed the period (plus the
 * rounding of one bucket's share and one tick).
 */
static void
sweep_cadence(uint32_t hashsize, uint32_t period, uint32_t tick)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, hashsize, 1, 1);
	struct sw_sweep sw;
	uint64_t *last = calloc(hashsize, sizeof(*last));
	uint64_t now, t0 = 1000000, worst = 0, total = 0;
	uint32_t worst_b = 0, b;
	uint64_t slack = period / hashsize + 1 + tick;

	REQUIRE(last != NULL);
	memset(&sw, 0, sizeof(sw));
	sw.last_ms = t0;
	for (b = 0; b < hashsize; b++)
		last[b] = t0;
	for (now = t0; now <= t0 + 10 * (uint64_t)period; now += tick) {
		uint32_t nb = sw_sweep_due(&t, &sw, now, period);

		/* a second call in the same millisecond visits nothing */
		CHECK_EQ(sw_sweep_due(&t, &sw, now, period), 0);
		total += nb;
		while (nb-- > 0) {
			b = sw_sweep_next(&t, &sw);
			REQUIRE(b < hashsize);
			if (now - last[b] > worst) {
				worst = now - last[b];
				worst_b = b;
			}
			last[b] = now;
		}
	}
	for (b = 0; b < hashsize; b++)
		if (t0 + 10 * (uint64_t)period - last[b] > worst) {
			worst = t0 + 10 * (uint64_t)period - last[b];
			worst_b = b;
		}
	CHECK_MSG(worst <= period + slack,
		  "hashsize %u, period %u ms, sweep called every %u ms: bucket %u went %" PRIu64
		  " ms without a visit (%" PRIu64 " buckets visited in %u ms, expected %u)",
		  hashsize, period, tick, worst_b, worst, total, 10 * period, 10 * hashsize);
	CHECK(total <= 10 * (uint64_t)hashsize + hashsize);
	free(last);
	free(mem);
}

static void
test_sweep(void)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, 64, 2, 1);
	struct sw_sweep sw;
	uint32_t i;

	memset(&sw, 0, sizeof(sw));
	/* after a long time, the whole table once, not more */
	CHECK_EQ(sw_sweep_due(&t, &sw, 1000000, 100), 64);
	CHECK_EQ(sw.last_ms, 1000000);
	CHECK_EQ(sw_sweep_due(&t, &sw, 1000000, 100), 0);
	CHECK_EQ(sw_sweep_due(&t, &sw, 1000100, 100), 64);
	/* sw_sweep_next walks the buckets in order and wraps */
	for (i = 0; i < 130; i++)
		CHECK_EQ(sw_sweep_next(&t, &sw), i % 64);
	free(mem);

	sweep_cadence(1, 100, 1);
	sweep_cadence(4, 100, 1);
	sweep_cadence(8, 100, 1);
	sweep_cadence(16, 100, 1);
	sweep_cadence(64, 100, 1);
	sweep_cadence(128, 100, 1);
	sweep_cadence(1024, 100, 1);
	sweep_cadence(4096, 100, 1);
	sweep_cadence(4096, 100, 3);
	sweep_cadence(65536, 100, 1);
}

/* The limit lowered at run time: each insert evicts up to SW_CTAB_SHRINK_STEP of the
 * oldest, so the table comes down to the new limit within a few inserts, oldest first. */
static void
test_limit_lowered(void)
{
	struct sw_ctab t;
	void *mem = ctab_new(&t, 1024, 8, 5);
	unsigned int ev;
	uint32_t i, prev;

	for (i = 0; i < 200; i++)
		ins(&t, i, UINT32_MAX, &ev, NULL);
	REQUIRE(t.count == 200);
	prev = t.count;
	for (i = 200; t.count > 50; i++) {
		ins(&t, i, 50, &ev, NULL);
		CHECK_EQ(ev, SW_CTAB_EVICT_CACHE);
		CHECK_EQ(t.count, prev + 1 - SW_CTAB_SHRINK_STEP);
		prev = t.count;
		REQUIRE(i < 400);
	}
	/* oldest first: what is left is exactly the newest t.count keys */
	for (prev = 0; prev < i; prev++)
		CHECK((look(&t, prev) != NULL) == (prev >= i - t.count));
	/* at the limit: one out, one in */
	ins(&t, 100000, 50, &ev, NULL);
	CHECK_EQ(t.count, 50);
	free(mem);
}

/*
 * Signatures only narrow the search: keys stored under the very same hash (same bucket, same
 * signature), a hash whose signature bits are 0, and buckets wider than one group of 8
 * signatures must all still be told apart by the key itself.
 */
static void
test_signatures(void)
{
	static const uint32_t limits[] = { 3, 8, 12, 40 };
	unsigned int li;

	CHECK_EQ(sw_ctab_sig(0x0000abcd), 1);           /* 0 is a free slot's */
	CHECK_EQ(sw_ctab_sig(0x00010000), 1);
	CHECK_EQ(sw_ctab_sig(0xbeef0000), 0xbeef);
	for (li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		uint32_t bl = limits[li];
		struct sw_ctab t;
		void *mem = ctab_new(&t, 4, bl, 7);
		struct sw_tuple k[40];
		void *e[40];
		unsigned int ev, i, j;
		/* every key under one hash, alternating one with signature bits 0 */
		uint32_t hash_of[2] = { 0x00000002, 0x12340002 };

		SW_CTX("bucketlimit %u", bl);
		for (i = 0; i < bl; i++) {
			key(&k[i], 1000 + i);
			CHECK(sw_ctab_lookup(&t, &k[i], hash_of[i % 2]) == NULL);
			e[i] = sw_ctab_insert(&t, &k[i], hash_of[i % 2], UINT32_MAX, &ev, NULL);
			REQUIRE(e[i] != NULL);
			CHECK_EQ(ev, 0);
			sw_ctab_prefetch_bucket(&t, hash_of[i % 2]);
			sw_ctab_prefetch_match(&t, hash_of[i % 2], k[i].v6);
		}
		CHECK_EQ(sw_ctab_bucket_count(&t, 2), bl);
		for (i = 0; i < bl; i++) {
			CHECK(sw_ctab_lookup(&t, &k[i], hash_of[i % 2]) == e[i]);
			/* the same key under the other signature: not there */
			CHECK(sw_ctab_lookup(&t, &k[i], hash_of[(i + 1) % 2]) == NULL);
		}
		/* remove every other one: the rest are still found, the removed ones not, and
		 * their slots take new keys */
		for (i = 0; i < bl; i += 2)
			sw_ctab_remove(&t, e[i]);
		for (i = 0; i < bl; i++)
			CHECK(sw_ctab_lookup(&t, &k[i], hash_of[i % 2]) == (i % 2 ? e[i] : NULL));
		/* (now every key is under hash_of[1]) */
		for (i = 0; i < bl; i += 2) {
			key(&k[i], 5000 + i);
			e[i] = sw_ctab_insert(&t, &k[i], hash_of[1], UINT32_MAX, &ev, NULL);
			REQUIRE(e[i] != NULL);
			CHECK_EQ(ev, 0);
		}
		for (i = 0; i < bl; i++)
			for (j = 0; j < 2; j++)
				CHECK(sw_ctab_lookup(&t, &k[i], hash_of[j]) == (j == 1 ? e[i] : NULL));
		free(mem);
	}
}

/*
 * The bucket header's layout for every bucketlimit: signatures padded to a multiple of 8
 * (the 8-wide compares read only signatures, and the padding ones stay 0), the order after
 * them, the count after the order, all inside a stride that is a power of 2 up to 64 bytes
 * and a multiple of 64 beyond; and memsize covers the table.
 */
static void
test_layout(void)
{
	uint32_t bl;

	for (bl = 1; bl <= 255; bl++) {
		struct sw_ctab t;
		void *mem = ctab_new(&t, 4, bl, 1);
		const uint8_t *end = (const uint8_t *)mem + sw_ctab_memsize(4, bl);
		uint32_t b, i;

		SW_CTX("bucketlimit %u", bl);
		CHECK_EQ(t.sig_slots % 8, 0);
		CHECK(t.sig_slots >= bl && t.sig_slots < bl + 8);
		CHECK(sw_ctab_order(&t, 0) == sw_ctab_meta(&t, 0) + 2 * t.sig_slots);
		CHECK_EQ(t.count_off, 2 * t.sig_slots + bl);
		CHECK(t.count_off < t.meta_stride);
		if (t.meta_stride <= 64)
			CHECK_EQ(t.meta_stride & (t.meta_stride - 1), 0);
		else
			CHECK_EQ(t.meta_stride % 64, 0);
		CHECK((const uint8_t *)sw_ctab_meta(&t, 3) + t.meta_stride <= end);
		CHECK((const uint8_t *)(t.v6 + 4 * bl) <= end);
		CHECK((const uint8_t *)sw_ctab_slot(&t, 3, bl - 1) + SW_CTAB_ENTRY_SIZE <=
		      (const uint8_t *)sw_ctab_meta(&t, 0));
		/* a full bucket: every live slot signed, the padding ones 0 */
		for (i = 0; i < bl; i++) {
			struct sw_tuple k;
			unsigned int ev;

			key(&k, 100 + i);
			REQUIRE(sw_ctab_insert(&t, &k, 0x77770001, UINT32_MAX, &ev, NULL) != NULL);
		}
		for (b = 0; b < 4; b++)
			for (i = 0; i < t.sig_slots; i++)
				CHECK_EQ(sw_ctab_sigs(&t, b)[i],
					 b == 1 && i < bl ? 0x7777 : 0);
		free(mem);
	}
	SW_CTX_CLEAR();
}

int
main(void)
{
	test_basic();
	test_bucket_overflow();
	test_cache_limit();
	random_run(32, 4, 100, 0x1234567ULL, 40000, 1, 1);
	random_run(32, 4, 128, 0x89abcdefULL, 40000, 1, 0);
	random_run(16, 8, 50, 0x42ULL, 40000, 1, 1);
	random_run(64, 1, 40, 0x4242ULL, 40000, 1, 1);
	random_run(8, 30, 1, 0x77ULL, 5000, 0, 1);
	random_run(16, 12, 150, 0x3131ULL, 40000, 1, 1);
	test_signatures();
	test_layout();
	test_sweep();
	test_limit_lowered();
	return sw_test_done();
}
