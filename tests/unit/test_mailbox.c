/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control -> worker mailbox (mailbox.c) with a real worker thread serving it on a real
 * lcore state: a syncache dumped page by page (every entry exactly once, in bucket order,
 * the pages chained by next_bucket/next_pos, each with its age), flushed; a call that times out because the
 * worker does not serve (the command is the mailbox's from then on and is freed when it
 * comes back: a leak or a double free shows under ASan); the bound on commands in flight;
 * the drain at stop.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "fake_check.h"
#include "mailbox.h"

#define NENTRIES 50

/* A tuple at a 4-byte aligned address: sw_ctab_hash() hands an IPv6 tuple's addresses to
 * rte_jhash(), which loads them as uint32_t, and struct sw_tuple alone is only 2-byte
 * aligned (in an array every other one is not 4-aligned: UBSan reports the load). */
struct key {
	_Alignas(4) struct sw_tuple t;
};

struct worker {
	pthread_t th;
	struct sw_mailbox *mb;
	struct sw_lcore *lc;
	int serve;              /* the test's switch: does the worker serve (atomic) */
	int stop;               /* atomic */
};

/* The worker's loop, reduced to the mailbox. */
static void *
worker_main(void *arg)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = 20000 };
	struct worker *w = arg;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&w->serve, __ATOMIC_ACQUIRE) && sw_mailbox_pending(w->mb))
			sw_mailbox_serve(w->mb, w->lc);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void
worker_serve(struct worker *w, int on)
{
	__atomic_store_n(&w->serve, on, __ATOMIC_RELEASE);
}

static void
worker_start(struct worker *w, struct sw_mailbox *mb, struct sw_lcore *lc)
{
	memset(w, 0, sizeof(*w));
	w->mb = mb;
	w->lc = lc;
	w->serve = 1;
	REQUIRE(pthread_create(&w->th, NULL, worker_main, w) == 0);
}

static void
worker_stop(struct worker *w)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	REQUIRE(pthread_join(w->th, NULL) == 0);
}

/* Wait (up to a second) until the worker has returned n commands. */
static bool
wait_done(struct sw_mailbox *mb, unsigned int n)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = 100000 };
	int i;

	for (i = 0; i < 10000; i++) {
		if (rte_ring_count(mb->done) >= n)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void *
mailbox_new(struct sw_mailbox *mb)
{
	size_t sz = (sw_mailbox_memsize() + RTE_CACHE_LINE_SIZE - 1) &
		    ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	void *mem = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);

	REQUIRE(mem != NULL);
	memset(mem, 0, sz);
	REQUIRE(sw_mailbox_init(mb, mem) == 0);
	return mem;
}

/* Entry i: IPv4 and IPv6 clients, each field its own value. */
static void
fill(struct sw_lcore *lc, struct key *keys)
{
	uint32_t i;

	for (i = 0; i < NENTRIES; i++) {
		struct sw_tuple *k = &keys[i].t;
		struct sw_sc_entry *e;
		unsigned int ev;

		fake_tuple(k, i % 3 == 0, i, (uint16_t)(1000 + i), FAKE_PORT_PROXY);
		e = sw_syncache_insert(&lc->sc, k, sw_ctab_hash(&lc->sc.tab, k),
				       lc->cfg->lim.cachelimit, &ev);
		REQUIRE(e != NULL && ev == 0);
		e->irs = 0x1000 + i;
		e->iss = 0x2000 + 3 * i;
		e->mss = (uint16_t)(500 + i);
		e->flags = (uint8_t)((i & 1) ? (SW_SCF_MSS | SW_SCF_TS) : SW_SCF_SACK);
		e->wscale = (uint8_t)(i % 15);
		e->rxmits = (uint8_t)(i % 4);
		/* its last SYN-ACK went 10 x i ms ago, after rxmits retransmits on schedule */
		e->expire_ms = (uint32_t)lc->now_ms - 10 * i + sw_syncache_rto_ms(e->rxmits);
	}
}

/* The age fill() gave entry i: since its first SYN-ACK. */
static uint32_t
age_of(uint32_t i)
{
	uint32_t age = 10 * i, k;

	for (k = 0; k < i % 4; k++)
		age += sw_syncache_rto_ms(k);
	return age;
}

/* ---- dumps, page by page; a flush ---- */

static void
dump_all(struct sw_mailbox *mb, const struct sw_lcore *lc, const struct key *keys,
	 uint32_t max)
{
	unsigned int seen[NENTRIES] = { 0 };
	uint32_t bucket = 0, pos = 0, total = 0, pages = 0, last_bucket = 0;
	bool more = true;

	while (more) {
		struct sw_cmd *c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, max);
		uint32_t k;

		REQUIRE(c != NULL);
		SW_CTX("dump page %u of %u entries, from %u/%u", pages, max, bucket, pos);
		c->dump.bucket = bucket;
		c->dump.pos = pos;
		REQUIRE(sw_mailbox_call(mb, c, 2000) == 0);
		more = c->dump.more;
		CHECK(c->dump.n <= max);
		if (more)
			CHECK_EQ(c->dump.n, max);       /* a page is full unless it is the last */
		for (k = 0; k < c->dump.n; k++) {
			const struct sw_dump_entry *de = &c->entries[k];
			uint32_t i = de->irs - 0x1000;
			uint32_t b = sw_ctab_hash(&lc->sc.tab, &de->t) & lc->sc.tab.mask;

			REQUIRE(i < NENTRIES);
			seen[i]++;
			CHECK(sw_tuple_eq(&de->t, &keys[i].t));
			CHECK_EQ(de->iss, 0x2000 + 3 * i);
			/* the MSS only when the client sent one */
			CHECK_EQ(de->mss, (i & 1) ? 500 + i : 0);
			CHECK_EQ(de->flags, (i & 1) ? (SW_SCF_MSS | SW_SCF_TS) : SW_SCF_SACK);
			CHECK_EQ(de->wscale, i % 15);
			CHECK_EQ(de->rxmits, i % 4);
			CHECK_EQ(de->age_ms, age_of(i));
			CHECK(b >= last_bucket);        /* in bucket order */
			last_bucket = b;
		}
		if (more) {
			CHECK(c->dump.next_bucket > bucket ||
			      (c->dump.next_bucket == bucket && c->dump.next_pos > pos));
			bucket = c->dump.next_bucket;
			pos = c->dump.next_pos;
		}
		total += c->dump.n;
		pages++;
		sw_cmd_free(c);
		REQUIRE(pages <= NENTRIES + 1);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(total, NENTRIES);
	CHECK_EQ(pages, (NENTRIES + max - 1) / max);
	for (total = 0; total < NENTRIES; total++)
		CHECK_MSG(seen[total] == 1, "entry %u seen %u times", total, seen[total]);
	CHECK_EQ(mb->in_flight, 0);
}

static void
test_dump_and_flush(void)
{
	struct fake_dp_params p = { .hashsize = 16, .bucketlimit = 8 };
	struct key keys[NENTRIES];
	struct sw_mailbox mb;
	struct worker w;
	struct fake_dp d;
	struct sw_cmd *c;
	void *mem;

	fake_dp_init(&d, &p);
	mem = mailbox_new(&mb);
	fill(d.lc, keys);
	worker_start(&w, &mb, d.lc);

	dump_all(&mb, d.lc, keys, 7);          /* 8 pages, the last of 1 */
	dump_all(&mb, d.lc, keys, 10);         /* 5 full pages, and no empty sixth */
	dump_all(&mb, d.lc, keys, NENTRIES);
	dump_all(&mb, d.lc, keys, 1000);
	CHECK_EQ(d.lc->sc.tab.count, NENTRIES);        /* a dump changes nothing */

	c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
	REQUIRE(c != NULL);
	REQUIRE(sw_mailbox_call(&mb, c, 2000) == 0);
	CHECK_EQ(c->flush.flushed, NENTRIES);
	sw_cmd_free(c);
	CHECK_EQ(d.lc->sc.tab.count, 0);

	/* empty: one page, nothing in it */
	c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, 4);
	REQUIRE(c != NULL);
	REQUIRE(sw_mailbox_call(&mb, c, 2000) == 0);
	CHECK_EQ(c->dump.n, 0);
	CHECK(!c->dump.more);
	sw_cmd_free(c);
	c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
	REQUIRE(sw_mailbox_call(&mb, c, 2000) == 0);
	CHECK_EQ(c->flush.flushed, 0);
	sw_cmd_free(c);

	worker_stop(&w);
	sw_mailbox_drain(&mb);
	CHECK_EQ(mb.in_flight, 0);
	free(mem);
	CHECK_FAKE_FINI(&d);
}

/* ---- a worker that does not serve ---- */

static void
test_timeout(void)
{
	struct key keys[NENTRIES];
	struct timespec t0, t1;
	struct sw_mailbox mb;
	struct worker w;
	struct fake_dp d;
	struct sw_cmd *c;
	long ms;
	void *mem;

	fake_dp_init(&d, NULL);
	mem = mailbox_new(&mb);
	fill(d.lc, keys);
	worker_start(&w, &mb, d.lc);
	worker_serve(&w, 0);

	/* not served in time: -1, and the command is the mailbox's now */
	c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
	REQUIRE(c != NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(sw_mailbox_call(&mb, c, 30), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK_MSG(ms >= 30 && ms < 1000, "the call returned after %ld ms", ms);
	CHECK_EQ(mb.in_flight, 1);
	CHECK_EQ(rte_ring_count(mb.todo), 1);
	CHECK_EQ(d.lc->sc.tab.count, NENTRIES);

	/* the worker gets to it later: carried out, returned, and freed by the next call */
	worker_serve(&w, 1);
	REQUIRE(wait_done(&mb, 1));
	CHECK_EQ(d.lc->sc.tab.count, 0);
	CHECK_EQ(mb.in_flight, 1);
	c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, 8);
	REQUIRE(sw_mailbox_call(&mb, c, 2000) == 0);
	CHECK_EQ(c->dump.n, 0);
	sw_cmd_free(c);
	CHECK_EQ(mb.in_flight, 0);
	CHECK_EQ(rte_ring_count(mb.done), 0);

	/* one timed out, returned, never collected by a call: freed by the drain */
	worker_serve(&w, 0);
	c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, 8);
	CHECK_EQ(sw_mailbox_call(&mb, c, 0), -1);
	worker_serve(&w, 1);
	REQUIRE(wait_done(&mb, 1));
	worker_serve(&w, 0);
	/* and one never taken by the worker (it stopped): freed by the drain too */
	c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, 8);
	CHECK_EQ(sw_mailbox_call(&mb, c, 0), -1);
	CHECK_EQ(mb.in_flight, 1);              /* the call collected the first */
	CHECK_EQ(rte_ring_count(mb.todo), 1);
	worker_stop(&w);
	sw_mailbox_drain(&mb);
	CHECK_EQ(mb.in_flight, 0);
	CHECK_EQ(rte_ring_count(mb.todo), 0);
	CHECK_EQ(rte_ring_count(mb.done), 0);
	free(mem);
	CHECK_FAKE_FINI(&d);
}

/* ---- commands in flight: no more than the worker can always return ---- */

static void
test_in_flight_bound(void)
{
	struct sw_mailbox mb;
	struct worker w;
	struct fake_dp d;
	struct sw_cmd *c;
	unsigned int cap, i;
	void *mem;

	fake_dp_init(&d, NULL);
	mem = mailbox_new(&mb);
	cap = rte_ring_get_capacity(mb.done);
	/* the rings hold one less than their size (no RING_F_EXACT_SZ) */
	CHECK_EQ(cap, SW_MAILBOX_SIZE - 1);
	CHECK_EQ(rte_ring_get_capacity(mb.todo), cap);
	worker_start(&w, &mb, d.lc);
	worker_serve(&w, 0);
	for (i = 0; i < cap; i++) {
		c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
		CHECK_EQ(sw_mailbox_call(&mb, c, 0), -1);
		CHECK_EQ(mb.in_flight, i + 1);
	}
	/* full: refused at once, not posted, freed by the call */
	for (i = 0; i < 3; i++) {
		c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
		CHECK_EQ(sw_mailbox_call(&mb, c, 1000), -1);
		CHECK_EQ(mb.in_flight, cap);
		CHECK_EQ(rte_ring_count(mb.todo), cap);
	}
	/* the worker comes back: every one returned, the next call collects them */
	worker_serve(&w, 1);
	REQUIRE(wait_done(&mb, cap));
	c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
	CHECK_EQ(sw_mailbox_call(&mb, c, 2000), 0);
	sw_cmd_free(c);
	CHECK_EQ(mb.in_flight, 0);
	worker_stop(&w);
	sw_mailbox_drain(&mb);
	free(mem);
	CHECK_FAKE_FINI(&d);
}

/* The bound is there for commands the worker has taken and not returned yet: `todo` has
 * room again, but `done` must still hold everything in flight. No worker thread here: the
 * test takes the commands off `todo` as the worker would (one consumer, as the ring
 * wants), keeps them, and returns them later. */
static void
test_in_flight_taken(void)
{
	void *held[SW_MAILBOX_SIZE];
	struct sw_mailbox mb;
	struct sw_cmd *c;
	unsigned int cap, i;
	void *mem;

	mem = mailbox_new(&mb);
	cap = rte_ring_get_capacity(mb.done);
	for (i = 0; i < cap; i++) {
		c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
		CHECK_EQ(sw_mailbox_call(&mb, c, 0), -1);
	}
	for (i = 0; i < cap; i++)
		REQUIRE(rte_ring_dequeue(mb.todo, &held[i]) == 0);
	/* todo is empty, done is too, all cap are in the worker's hands: no more */
	c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);
	CHECK_EQ(sw_mailbox_call(&mb, c, 0), -1);
	CHECK_EQ(rte_ring_count(mb.todo), 0);
	CHECK_EQ(mb.in_flight, cap);
	/* the worker returns them: all fit */
	for (i = 0; i < cap; i++)
		CHECK_EQ(rte_ring_enqueue(mb.done, held[i]), 0);
	sw_mailbox_drain(&mb);
	CHECK_EQ(mb.in_flight, 0);
	free(mem);
}

int
main(void)
{
	test_dump_and_flush();
	test_timeout();
	test_in_flight_bound();
	test_in_flight_taken();
	return sw_test_done();
}
