/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Taking tables over (ctab.h sw_ctab_attach / sw_ctab_adopt, state.h): a flow table and a
 * syncache filled by one owner are laid over again from the same memory by another, after a
 * clean stop (from the saved scalars) and after a crash (rebuilt from the slots), with
 * damage of the kind a crash in the middle of an insert or a removal leaves: a signature
 * set over a slot whose key was not written yet, a bucket count one off, an age list cut
 * anywhere. Every whole entry is found again, the half-written one is dropped, the tables
 * are consistent (counts, age list, per-source counts, timers that fire), and work goes on.
 * Then the region file itself: created, taken over after a clean stop and after an unclean
 * one, refused (started empty, said so) when its layout or shape differs, and locked
 * against a second owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "flowtab.h"
#include "profile.h"
#include "state.h"
#include "sw_const.h"
#include "sw_test.h"
#include "syncache.h"

#define FLOWS   4096u
#define SEED    0x5eed1234u
#define NOW     100000u

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(10000 + i % 50000);
	k->dport = i % 5 == 1 ? 8443 : 80;
	if (i % 4 == 3) {
		unsigned int j;

		k->v6 = 1;
		for (j = 0; j < 16; j++)
			k->src[j] = (uint8_t)(0x20 + j);
		k->src[12] = (uint8_t)(i >> 8);
		k->src[13] = (uint8_t)i;
		k->dst[0] = 0x20;
		k->dst[15] = 2;
	} else {
		k->src[0] = 198;
		k->src[1] = 18;
		k->src[2] = (uint8_t)(128 + (i >> 8) % 128);
		k->src[3] = (uint8_t)i;
		k->dst[0] = 198;
		k->dst[1] = 18;
		k->dst[3] = 2;
	}
}

static struct sw_flow *
find(const struct sw_flowtab *ft, uint32_t i)
{
	struct sw_tuple k;

	key(&k, i);
	return sw_flowtab_lookup(ft, &k, sw_ctab_hash(&ft->tab, &k));
}

/* n flows, flow i last seen at NOW - (n - i) ms (the oldest first), marked by its irs. */
static void
fill(struct sw_flowtab *ft, uint32_t n)
{
	uint32_t i;
	int ev;

	for (i = 0; i < n; i++) {
		struct sw_tuple k;
		struct sw_flow *f;

		key(&k, i);
		f = sw_flowtab_add(ft, &k, sw_ctab_hash(&ft->tab, &k), NOW - (n - i), 0, &ev);
		REQUIRE(f != NULL);
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
		f->irs = 0xabc00000u + i;
		f->last_ms = NOW - (n - i);
	}
}

/* The table is what it must be: count, every bucket's count, an age list through exactly
 * the live entries (oldest first when ordered is set), per-source counts of as many. */
static void
check_consistent(const struct sw_flowtab *ft, bool ordered)
{
	const struct sw_ctab *t = &ft->tab;
	uint32_t b, live = 0, steps = 0, idx, prev = SW_CTAB_NIL, last = 0;

	for (b = 0; b < t->hashsize; b++)
		live += sw_ctab_bucket_count(t, b);
	CHECK_EQ(live, t->count);
	for (idx = t->age_head; idx != SW_CTAB_NIL && steps <= t->count; steps++) {
		const struct sw_flow *f = (const void *)(t->slots + (size_t)idx * 64);

		CHECK_EQ(f->hdr.age_prev, prev);
		if (ordered)
			CHECK(steps == 0 || (int32_t)(f->last_ms - last) >= 0);
		last = f->last_ms;
		prev = idx;
		idx = f->hdr.age_next;
	}
	CHECK_EQ(steps, t->count);
	CHECK_EQ(prev, t->age_tail);
	CHECK_EQ(t->srcq.live, t->count);
}

/* A second owner over the first one's memory: attach, quotas, adopt. The server ports of
 * the flows taken over are exactly the two key() uses. */
static int64_t
take_over(struct sw_flowtab *ft2, void *mem, const struct sw_ctab_saved *saved, int *rebuilt)
{
	struct sw_srcq_params p = { .v4_len = 24, .v6_len = 64, .limit = 0,
				    .key = { 0x1111, 0x2222 } };
	uint64_t ports[65536 / 64];
	unsigned int w, set = 0;
	int64_t lost;

	memset(ft2, 0xc3, sizeof(*ft2));
	memset(ports, 0, sizeof(ports));
	REQUIRE(sw_flowtab_attach(ft2, mem, FLOWS, SEED) == 0);
	REQUIRE(sw_srcq_setup(&ft2->tab.srcq, &p) == 0);
	lost = sw_flowtab_adopt(ft2, saved, NOW, ports, rebuilt);
	for (w = 0; w < 65536 / 64; w++)
		set += (unsigned int)__builtin_popcountll(ports[w]);
	if (ft2->tab.count > 0) {
		CHECK_EQ(set, 2);
		CHECK(ports[80 / 64] >> (80 % 64) & 1);
		CHECK(ports[8443 / 64] >> (8443 % 64) & 1);
	}
	return lost;
}

/* Damage to a region marked clean, which its scalars alone would not show: refused, the
 * table rebuilt from the slots, every flow found again. */
static void
clean_but_damaged(struct sw_flowtab *ft2, void *mem, uint32_t n, const char *what,
		  void (*damage)(struct sw_ctab *t), int64_t lost)
{
	struct sw_ctab_saved saved;
	uint32_t i;
	int rebuilt;

	SW_CTX("%s", what);
	sw_ctab_save(&ft2->tab, &saved);
	damage(&ft2->tab);
	CHECK_EQ(take_over(ft2, mem, &saved, &rebuilt), lost);
	CHECK(rebuilt);
	check_consistent(ft2, true);
	for (i = 0; i < n; i++)
		CHECK((find(ft2, i) == NULL) == (i % 7 == 0));
}

/* the first bucket with at least two live entries and a free slot */
static uint32_t
busy_bucket(const struct sw_ctab *t)
{
	uint32_t b;

	for (b = 0; b < t->hashsize; b++)
		if (sw_ctab_bucket_count(t, b) >= 2 && sw_ctab_bucket_count(t, b) < t->bucketlimit)
			return b;
	REQUIRE(0);
	return 0;
}

static void
damage_order(struct sw_ctab *t)
{
	uint8_t *ord = sw_ctab_order(t, busy_bucket(t));

	ord[1] = ord[0];        /* not a permutation */
}

static void
damage_fresh(struct sw_ctab *t)
{
	uint8_t *cnt = sw_ctab_meta(t, busy_bucket(t)) + t->count_off;

	cnt[1] = (uint8_t)(cnt[0] + 1);
}

static void
damage_free_sig(struct sw_ctab *t)
{
	uint32_t b = busy_bucket(t);

	/* a signature on a free slot, the count as it was: the slot holds no entry of that
	 * signature, and is the one the rebuild drops */
	sw_ctab_sigs(t, b)[sw_ctab_order(t, b)[sw_ctab_bucket_count(t, b)]] = 0x4242;
}

static void
damage_link_to_free(struct sw_ctab *t)
{
	uint32_t b = busy_bucket(t);
	struct sw_ctab_hdr *h = sw_ctab_slot(t, b, sw_ctab_order(t, b)[0]);

	h->age_next = b * t->bucketlimit + sw_ctab_order(t, b)[sw_ctab_bucket_count(t, b)];
}

static void
damage_link_elsewhere(struct sw_ctab *t)
{
	struct sw_ctab_hdr *head = (void *)(t->slots + (size_t)t->age_head * 64);
	struct sw_ctab_hdr *second = (void *)(t->slots + (size_t)head->age_next * 64);

	/* the head skips its next one: every link to a live entry, one head, one tail, but
	 * the second entry is nobody's next and the third is two entries' */
	head->age_next = second->age_next;
}

/* every flow whose due time came goes */
static enum sw_flow_timer_action
drop_due(struct sw_flow *f, uint32_t idle_ms, void *arg)
{
	(void)f;
	(void)idle_ms;
	++*(uint32_t *)arg;
	return SW_FLOW_DROP;
}

static void
test_clean_and_crash(void)
{
	size_t sz = (sw_flowtab_memsize(FLOWS) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);
	struct sw_flowtab ft, ft2;
	struct sw_ctab_saved saved;
	uint32_t n = 3000, i, b;
	int rebuilt;

	REQUIRE(mem != NULL);
	memset(mem, 0x3c, sz);
	REQUIRE(sw_flowtab_init(&ft, mem, FLOWS, SEED) == 0);
	fill(&ft, n);
	/* a few removed, a few touched: holes in buckets, an age list out of insert order */
	for (i = 0; i < n; i += 7)
		sw_flowtab_remove(&ft, find(&ft, i));
	for (i = 1; i < n; i += 11) {
		struct sw_flow *f = find(&ft, i);

		if (f != NULL) {
			f->last_ms = NOW;
			sw_ctab_touch(&ft.tab, f);
		}
	}
	sw_ctab_save(&ft.tab, &saved);

	SW_CTX("clean stop");
	CHECK_EQ(take_over(&ft2, mem, &saved, &rebuilt), 0);
	CHECK(!rebuilt);
	CHECK_EQ(ft2.tab.count, ft.tab.count);
	CHECK_EQ(ft2.tab.age_head, ft.tab.age_head);
	for (i = 0; i < n; i++) {
		struct sw_flow *f = find(&ft2, i);

		if (i % 7 == 0)
			CHECK(f == NULL);
		else
			CHECK(f != NULL && f->irs == 0xabc00000u + i);
	}
	check_consistent(&ft2, false);

	SW_CTX("saved scalars that do not fit: rebuilt");
	saved.count++;
	CHECK_EQ(take_over(&ft2, mem, &saved, &rebuilt), 0);
	CHECK(rebuilt);
	saved.count--;
	check_consistent(&ft2, true);

	clean_but_damaged(&ft2, mem, n, "clean, order no permutation", damage_order, 0);
	clean_but_damaged(&ft2, mem, n, "clean, more fresh than live", damage_fresh, 0);
	clean_but_damaged(&ft2, mem, n, "clean, a free slot signed", damage_free_sig, 1);
	clean_but_damaged(&ft2, mem, n, "clean, a link to a free slot", damage_link_to_free, 0);
	clean_but_damaged(&ft2, mem, n, "clean, a link that skips", damage_link_elsewhere, 0);
	SW_CTX("clean and whole after all that: taken as saved");
	sw_ctab_save(&ft2.tab, &saved);
	CHECK_EQ(take_over(&ft2, mem, &saved, &rebuilt), 0);
	CHECK(!rebuilt);
	check_consistent(&ft2, true);

	SW_CTX("crash");
	{
		struct sw_ctab *t = &ft2.tab;
		uint32_t half = SW_CTAB_NIL, before = t->count;
		struct sw_flow *f;
		uint8_t *cnt;

		/* an insert cut short: a signature set over a free slot whose key was never
		 * written (it holds an old key of another bucket) */
		for (b = 0; b < t->hashsize && half == SW_CTAB_NIL; b++) {
			cnt = sw_ctab_meta(t, b) + t->count_off;
			if (cnt[0] < t->bucketlimit && cnt[0] > 0) {
				uint8_t slot = sw_ctab_order(t, b)[cnt[0]];
				uint32_t other = ((b + 1) & t->mask) * t->bucketlimit;

				memcpy(sw_ctab_slot(t, b, slot), t->slots + (size_t)other * 64, 64);
				sw_ctab_sigs(t, b)[slot] = 0x4242;
				half = b;
			}
		}
		REQUIRE(half != SW_CTAB_NIL);
		/* a removal cut short: a signature cleared, the count not yet lowered */
		f = find(&ft2, 2);
		REQUIRE(f != NULL);
		{
			uint32_t idx = (uint32_t)(((uint8_t *)f - t->slots) / 64);
			uint32_t fb = idx / t->bucketlimit;

			sw_ctab_sigs(t, fb)[idx % t->bucketlimit] = 0;
		}
		/* the age list cut in the middle */
		f = find(&ft2, 1000);
		REQUIRE(f != NULL);
		f->hdr.age_next = SW_CTAB_NIL;
		/* flow 5 in the middle of being made: a state of no flow */
		f = find(&ft2, 5);
		REQUIRE(f != NULL);
		sw_flow_state(f) = 0;

		CHECK_EQ(take_over(&ft2, mem, NULL, &rebuilt), 2);     /* the half insert, 5 */
		CHECK(rebuilt);
		CHECK_EQ(ft2.tab.count, before - 2);
		for (i = 0; i < n; i++) {
			f = find(&ft2, i);
			if (i % 7 == 0 || i == 2 || i == 5)
				CHECK(f == NULL);
			else
				CHECK(f != NULL && f->irs == 0xabc00000u + i);
		}
		check_consistent(&ft2, true);
	}

	SW_CTX("work goes on");
	{
		uint32_t fired = 0, rounds;
		int ev;

		for (i = n; i < n + 200; i++) {
			struct sw_tuple k;

			key(&k, i);
			REQUIRE(sw_flowtab_add(&ft2, &k, sw_ctab_hash(&ft2.tab, &k), NOW, 0, &ev) !=
				NULL);
			sw_flow_state(find(&ft2, i)) = SW_FLOW_ESTABLISHED;
			find(&ft2, i)->last_ms = NOW;
		}
		sw_flowtab_remove(&ft2, find(&ft2, 1));
		check_consistent(&ft2, false);
		/* every flow's idle timer fires once its time has come: none was lost to the
		 * adoption (the timer bounds were all lowered) */
		ft2.idle_min_ms = 1000;
		for (rounds = 0; rounds < 4000 && ft2.tab.count > 0; rounds++)
			sw_flowtab_sweep(&ft2, (uint64_t)NOW + 60000 + rounds, SW_SWEEP_PERIOD_MS,
					 drop_due, &fired);
		CHECK_EQ(ft2.tab.count, 0);
		CHECK(fired > 0);
	}
	free(mem);
	SW_CTX_CLEAR();
}

/* ---- the region file ---- */

static int
open_region(struct sw_state *st, const char *path, uint32_t flows, char *note, size_t len)
{
	return sw_state_open(st, path, 2, 64, 8, flows, 2600000, 50, note, len);
}

static void
test_region(void)
{
	char path[] = "/tmp/sw_test_state_XXXXXX", note[320];
	struct sw_state st, st2;
	struct sw_syncache sc;
	uint32_t *marker;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	unlink(path);

	SW_CTX("a new region");
	REQUIRE(open_region(&st, path, 1024, note, sizeof(note)) == 0);
	CHECK(!st.adopted);
	CHECK_MSG(note[0] == '\0', "note \"%s\"", note);
	CHECK_EQ(st.hdr->tsc_per_ms, 2600000);
	CHECK_EQ(st.hdr->generation, 1);
	REQUIRE(sw_syncache_init(&sc, sw_state_at(&st, st.hdr->w[1].sc_off), 64, 8, SEED) == 0);
	marker = sw_state_at(&st, st.hdr->learn_off);
	*marker = 0x5eedf00d;

	SW_CTX("a second owner waits, then gives up");
	CHECK(open_region(&st2, path, 1024, note, sizeof(note)) == -1);
	CHECK_MSG(strstr(note, "holds it still") != NULL, "note \"%s\"", note);
	sw_state_close(&st, true);

	SW_CTX("after a clean stop");
	REQUIRE(open_region(&st, path, 1024, note, sizeof(note)) == 0);
	CHECK(st.adopted && st.clean);
	CHECK_MSG(strstr(note, "stopped cleanly") != NULL, "note \"%s\"", note);
	CHECK_EQ(st.hdr->generation, 2);
	CHECK_EQ(*(uint32_t *)sw_state_at(&st, st.hdr->learn_off), 0x5eedf00d);
	sw_state_close(&st, false);

	SW_CTX("after an end without a stop");
	REQUIRE(open_region(&st, path, 1024, note, sizeof(note)) == 0);
	CHECK(st.adopted && !st.clean);
	CHECK_MSG(strstr(note, "rebuilt") != NULL, "note \"%s\"", note);
	sw_state_close(&st, true);

	SW_CTX("another shape");
	REQUIRE(open_region(&st, path, 2048, note, sizeof(note)) == 0);
	CHECK(!st.adopted);
	CHECK_MSG(strstr(note, "of another size") != NULL &&
		  strstr(note, "the tables start empty") != NULL, "note \"%s\"", note);
	CHECK_EQ(*(uint32_t *)sw_state_at(&st, st.hdr->learn_off), 0);   /* empty */
	st.hdr->shape.fingerprint ^= 1;
	sw_state_close(&st, true);

	SW_CTX("another layout");
	REQUIRE(open_region(&st, path, 2048, note, sizeof(note)) == 0);
	CHECK(!st.adopted);
	CHECK_MSG(strstr(note, "its layout is") != NULL, "note \"%s\"", note);
	st.hdr->magic = 0;
	sw_state_close(&st, true);

	SW_CTX("not synwall's");
	REQUIRE(open_region(&st, path, 2048, note, sizeof(note)) == 0);
	CHECK(!st.adopted);
	CHECK_MSG(strstr(note, "holds no synwall state") != NULL, "note \"%s\"", note);
	sw_state_close(&st, true);
	unlink(path);
	SW_CTX_CLEAR();
}

static void
test_learn_adopt(void)
{
	static struct sw_learn_table lt;

	lt.slot[3].seq = 7;                     /* being written when its writer died */
	lt.slot[3].used = 1;
	lt.slot[4].seq = 8;
	lt.slot[4].used = 1;
	sw_learn_adopt(&lt);
	CHECK_EQ(lt.slot[3].seq, 8);
	CHECK_EQ(lt.slot[3].used, 0);
	CHECK_EQ(lt.slot[4].seq, 8);
	CHECK_EQ(lt.slot[4].used, 1);
}

int
main(void)
{
	test_clean_and_crash();
	test_region();
	test_learn_adopt();
	return sw_test_done();
}
