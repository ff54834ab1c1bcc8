/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_prefetch.h>

#include "ctab.h"

static inline size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static inline uint32_t
sig_slots(uint32_t bucketlimit)
{
	return (bucketlimit + 7) & ~7u;
}

/* Where a bucket header's due time goes: after count and fresh, 4-aligned. */
static inline uint32_t
due_off(uint32_t bucketlimit)
{
	return (2 * sig_slots(bucketlimit) + bucketlimit + 2 + 3) & ~3u;
}

/* Bytes of a bucket's header: signatures, order, count, fresh, due; a power of 2 up to 64,
 * else a multiple of 64. */
static uint32_t
meta_stride(uint32_t bucketlimit)
{
	uint32_t need = due_off(bucketlimit) + 4;
	uint32_t s = 8;

	if (need > 64)
		return (uint32_t)align64(need);
	while (s < need)
		s <<= 1;
	return s;
}

static inline size_t
ngroups(uint32_t hashsize)
{
	return (hashsize + (1u << SW_TIMER_GROUP_SHIFT) - 1) >> SW_TIMER_GROUP_SHIFT;
}

static inline size_t
nspans(uint32_t hashsize)
{
	return (hashsize + (1u << SW_TIMER_SPAN_SHIFT) - 1) >> SW_TIMER_SPAN_SHIFT;
}

size_t
sw_ctab_memsize(uint32_t hashsize, uint32_t bucketlimit)
{
	size_t nslots = (size_t)hashsize * bucketlimit;

	return align64(nslots * SW_CTAB_ENTRY_SIZE) +
	       align64((size_t)hashsize * meta_stride(bucketlimit)) +
	       align64(nslots * sizeof(struct sw_v6pair)) +
	       align64(ngroups(hashsize) * sizeof(uint64_t)) +
	       align64(nspans(hashsize) * sizeof(uint64_t)) +
	       align64(sw_srcq_memsize((uint32_t)nslots));
}

/* t laid out over mem: its pointers and constants; no entry, no bucket header touched. */
static int
layout(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit, uint32_t seed)
{
	size_t nslots = (size_t)hashsize * bucketlimit;
	uint8_t *p = mem;

	if (hashsize == 0 || !rte_is_power_of_2(hashsize) || bucketlimit == 0 ||
	    bucketlimit > 255 || nslots >= SW_CTAB_NIL)
		return -EINVAL;
	t->slots = p;
	p += align64(nslots * SW_CTAB_ENTRY_SIZE);
	t->meta = p;
	t->meta_stride = meta_stride(bucketlimit);
	t->sig_slots = (uint16_t)sig_slots(bucketlimit);
	t->count_off = (uint16_t)(2 * t->sig_slots + bucketlimit);
	p += align64((size_t)hashsize * t->meta_stride);
	t->v6 = (struct sw_v6pair *)p;
	p += align64(nslots * sizeof(struct sw_v6pair));
	t->group_due = (uint64_t *)p;
	p += align64(ngroups(hashsize) * sizeof(uint64_t));
	t->span_due = (uint64_t *)p;
	p += align64(nspans(hashsize) * sizeof(uint64_t));
	sw_srcq_init(&t->srcq, p, (uint32_t)nslots, seed);
	t->due_off = (uint16_t)due_off(bucketlimit);
	t->hashsize = hashsize;
	t->mask = hashsize - 1;
	t->bucketlimit = bucketlimit;
	t->count = 0;
	t->age_head = SW_CTAB_NIL;
	t->age_tail = SW_CTAB_NIL;
	t->seed = seed;
	t->uncounted = 0;
	return 0;
}

int
sw_ctab_init(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
	     uint32_t seed)
{
	uint32_t b, s;
	int rc = layout(t, mem, hashsize, bucketlimit, seed);

	if (rc != 0)
		return rc;
	memset(t->meta, 0, (size_t)hashsize * t->meta_stride);     /* no signatures, count 0 */
	for (b = 0; b < ngroups(hashsize); b++)
		t->group_due[b] = SW_TIMER_NONE;
	for (b = 0; b < nspans(hashsize); b++)
		t->span_due[b] = SW_TIMER_NONE;
	for (b = 0; b < hashsize; b++)
		for (s = 0; s < bucketlimit; s++)
			sw_ctab_order(t, b)[s] = (uint8_t)s;
	return 0;
}

static inline struct sw_ctab_hdr *
slot_hdr(const struct sw_ctab *t, uint32_t idx)
{
	return (struct sw_ctab_hdr *)(t->slots + (size_t)idx * SW_CTAB_ENTRY_SIZE);
}

static inline uint32_t
hdr_idx(const struct sw_ctab *t, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - t->slots) / SW_CTAB_ENTRY_SIZE);
}

uint32_t
sw_ctab_hash(const struct sw_ctab *t, const struct sw_tuple *k)
{
	uint32_t ports = (uint32_t)k->sport << 16 | k->dport;
	uint32_t a, b;

	if (!k->v6) {
		memcpy(&a, k->src, 4);
		memcpy(&b, k->dst, 4);
		return rte_jhash_3words(a, b, ports, t->seed);
	}
	/* rte_jhash reads its key a 32-bit word at a time: the addresses are copied out of
	 * the tuple (2-byte aligned) first. */
	{
		uint32_t src[4], dst[4];

		memcpy(src, k->src, sizeof(src));
		memcpy(dst, k->dst, sizeof(dst));
		a = rte_jhash(src, sizeof(src), t->seed);
		b = rte_jhash(dst, sizeof(dst), a);
	}
	return rte_jhash_1word(ports, b);
}

static inline int
hdr_matches(const struct sw_ctab *t, uint32_t idx, const struct sw_tuple *k)
{
	const struct sw_ctab_hdr *h = slot_hdr(t, idx);

	if (h->sport != k->sport || h->dport != k->dport || h->v6 != k->v6)
		return 0;
	if (!k->v6)
		return memcmp(&h->saddr, k->src, 4) == 0 && memcmp(&h->daddr, k->dst, 4) == 0;
	return memcmp(t->v6[idx].src, k->src, 16) == 0 && memcmp(t->v6[idx].dst, k->dst, 16) == 0;
}

void *
sw_ctab_lookup(const struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash)
{
	uint32_t b = hash & t->mask;
	const uint16_t *sigs = sw_ctab_sigs(t, b);
	uint16_t sig = sw_ctab_sig(hash);
	uint32_t c;

	/* An empty table (a cookie port's syncache, flows yet to come) is not searched. */
	if (t->count == 0)
		return NULL;
	/* Only the entries with the key's signature are compared (free slots have none). */
	for (c = 0; c < t->sig_slots; c += 8) {
		uint32_t m = sw_ctab_sig_match8(sigs + c, sig);

		while (m != 0) {
			uint32_t idx = b * t->bucketlimit + c + (uint32_t)__builtin_ctz(m);

			m &= m - 1;
			if (hdr_matches(t, idx, k))
				return slot_hdr(t, idx);
		}
	}
	return NULL;
}

static void
age_unlink(struct sw_ctab *t, uint32_t idx)
{
	struct sw_ctab_hdr *h = slot_hdr(t, idx);

	if (h->age_prev != SW_CTAB_NIL)
		slot_hdr(t, h->age_prev)->age_next = h->age_next;
	else
		t->age_head = h->age_next;
	if (h->age_next != SW_CTAB_NIL)
		slot_hdr(t, h->age_next)->age_prev = h->age_prev;
	else
		t->age_tail = h->age_prev;
}

static void
age_append(struct sw_ctab *t, uint32_t idx)
{
	struct sw_ctab_hdr *h = slot_hdr(t, idx);

	h->age_prev = t->age_tail;
	h->age_next = SW_CTAB_NIL;
	if (t->age_tail != SW_CTAB_NIL)
		slot_hdr(t, t->age_tail)->age_next = idx;
	else
		t->age_head = idx;
	t->age_tail = idx;
}

void
sw_ctab_remove(struct sw_ctab *t, void *e)
{
	uint32_t idx = hdr_idx(t, e);
	uint32_t b = idx / t->bucketlimit;
	uint8_t slot = (uint8_t)(idx % t->bucketlimit);
	uint8_t *ord = sw_ctab_order(t, b);
	uint8_t *cnt = sw_ctab_meta(t, b) + t->count_off;
	uint32_t n = *cnt;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (ord[i] == slot)
			break;
	if (i == n)
		return;                 /* not live: nothing to do */
	if (i >= n - cnt[1])
		cnt[1]--;               /* it was fresh: the rest of them are still the newest */
	/* Keep the live part in age order; the freed slot goes first in the free part. */
	memmove(ord + i, ord + i + 1, n - i - 1);
	ord[n - 1] = slot;
	*cnt = (uint8_t)(n - 1);
	sw_ctab_sigs(t, b)[slot] = 0;
	age_unlink(t, idx);
	t->count--;
	if (t->uncounted == 0 || slot_hdr(t, idx)->user[0] != t->uncounted)
		sw_srcq_sub(&t->srcq, slot_hdr(t, idx)->v6, sw_ctab_src(t, e));
}

void *
sw_ctab_insert(struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash, uint32_t limit,
	       unsigned int *evicted, void *evict_out)
{
	uint32_t b = hash & t->mask;
	uint8_t *ord = sw_ctab_order(t, b);
	uint8_t *cnt = sw_ctab_meta(t, b) + t->count_off;
	struct sw_ctab_hdr *h;
	uint32_t idx;

	*evicted = 0;
	if (*cnt >= t->bucketlimit) {
		h = slot_hdr(t, b * t->bucketlimit + ord[0]);
		if (evict_out != NULL)
			memcpy(evict_out, h, SW_CTAB_ENTRY_SIZE);
		sw_ctab_remove(t, h);
		*evicted = SW_CTAB_EVICT_BUCKET;
	} else if (t->count >= limit && t->age_head != SW_CTAB_NIL) {
		unsigned int n = 0;

		h = slot_hdr(t, t->age_head);
		if (evict_out != NULL)
			memcpy(evict_out, h, SW_CTAB_ENTRY_SIZE);
		/* Normally one goes. After the limit was lowered at run time, a few more each
		 * time, so that the table shrinks to it without one insert paying for all. */
		do {
			sw_ctab_remove(t, slot_hdr(t, t->age_head));
		} while (++n < SW_CTAB_SHRINK_STEP && t->count >= limit &&
			 t->age_head != SW_CTAB_NIL);
		*evicted = SW_CTAB_EVICT_CACHE;
	}

	idx = b * t->bucketlimit + ord[*cnt];
	sw_ctab_sigs(t, b)[ord[*cnt]] = sw_ctab_sig(hash);
	(*cnt)++;
	cnt[1]++;               /* fresh: its due time is not known yet */
	/* The sweep is to look at it. Two stores, never read here, so the CPU does not wait
	 * for them: one line of group bounds serves 128 buckets. */
	t->group_due[b >> SW_TIMER_GROUP_SHIFT] = 0;
	t->span_due[b >> SW_TIMER_SPAN_SHIFT] = 0;
	t->count++;
	h = slot_hdr(t, idx);
	memset(h, 0, SW_CTAB_ENTRY_SIZE);
	h->sport = k->sport;
	h->dport = k->dport;
	h->v6 = k->v6;
	if (!k->v6) {
		memcpy(&h->saddr, k->src, 4);
		memcpy(&h->daddr, k->dst, 4);
	} else {
		memcpy(t->v6[idx].src, k->src, 16);
		memcpy(t->v6[idx].dst, k->dst, 16);
	}
	age_append(t, idx);
	sw_srcq_add(&t->srcq, k->v6, k->src);
	return h;
}

void
sw_ctab_touch(struct sw_ctab *t, void *e)
{
	uint32_t idx = hdr_idx(t, e);

	if (t->age_tail == idx)
		return;
	age_unlink(t, idx);
	age_append(t, idx);
}

void *
sw_ctab_oldest(const struct sw_ctab *t)
{
	return t->age_head == SW_CTAB_NIL ? NULL : slot_hdr(t, t->age_head);
}

void
sw_ctab_tuple(const struct sw_ctab *t, const void *e, struct sw_tuple *out)
{
	const struct sw_ctab_hdr *h = e;
	uint32_t idx = hdr_idx(t, e);

	memset(out, 0, sizeof(*out));
	out->v6 = h->v6;
	out->sport = h->sport;
	out->dport = h->dport;
	if (!h->v6) {
		memcpy(out->src, &h->saddr, 4);
		memcpy(out->dst, &h->daddr, 4);
	} else {
		memcpy(out->src, t->v6[idx].src, 16);
		memcpy(out->dst, t->v6[idx].dst, 16);
	}
}

/* ---- taking over a table another process left ---- */

int
sw_ctab_attach(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
	       uint32_t seed)
{
	return layout(t, mem, hashsize, bucketlimit, seed);
}

void
sw_ctab_save(const struct sw_ctab *t, struct sw_ctab_saved *out)
{
	out->count = t->count;
	out->age_head = t->age_head;
	out->age_tail = t->age_tail;
	out->pad = 0;
}

static inline uint32_t
nslots_of(const struct sw_ctab *t)
{
	return t->hashsize * t->bucketlimit;
}

/* Is bucket b's header one the table's code could have written: at most bucketlimit live
 * entries, of them at most all fresh, an order that is a permutation of the slots whose
 * first `count` carry a signature and the rest none, no signature past bucketlimit? */
static int
bucket_fits(const struct sw_ctab *t, uint32_t b)
{
	const uint16_t *sigs = sw_ctab_sigs(t, b);
	const uint8_t *ord = sw_ctab_order(t, b);
	const uint8_t *cnt = sw_ctab_meta(t, b) + t->count_off;
	uint64_t seen[4] = { 0, 0, 0, 0 };
	uint32_t s;

	if (cnt[0] > t->bucketlimit || cnt[1] > cnt[0])
		return 0;
	for (s = 0; s < t->bucketlimit; s++) {
		uint8_t o = ord[s];

		if (o >= t->bucketlimit || (seen[o >> 6] >> (o & 63) & 1))
			return 0;
		seen[o >> 6] |= 1ull << (o & 63);
		if ((sigs[o] != 0) != (s < cnt[0]))
			return 0;
	}
	for (s = t->bucketlimit; s < t->sig_slots; s++)
		if (sigs[s] != 0)
			return 0;
	return 1;
}

/*
 * Do the saved scalars and the bucket headers describe one table the code could have left?
 * A clean stop saved the scalars after its last write and marked the region clean after
 * that, so this guards against a region that is not what its header says (a bug, a stray
 * write): in one pass in memory order, never a walk of the age list (a cache miss per
 * entry, nor a look at a neighbour's bucket). Every bucket header fits (bucket_fits); the
 * live entries are as many as saved; each one's neighbours on the age list are NIL or slots
 * of the table other than its own; exactly one has no previous entry, the saved head, and
 * one no next, the saved tail; and the links add up: on one list every live entry but the
 * head is exactly one entry's next, and every one but the tail exactly one's previous, so
 * the sums and XORs of the nexts and of the previouses equal those of the live entries less
 * the head and less the tail (a link to a free slot, or two links to one entry, changes
 * them). Sums and XORs are a check, not a proof: what passes them and is still wrong would
 * take a deliberate forgery of the file, which is root's and locked.
 */
struct links {
	uint64_t sum;
	uint32_t xor;
	uint32_t ends;          /* entries whose link is NIL */
};

/* One of entry idx's links, to, in one direction: NIL, where the list ends (end, the saved
 * head or tail), or another slot of the table, added to the direction's sum and XOR. */
static inline int
link_fits(struct links *l, uint32_t to, uint32_t idx, uint32_t end, uint32_t nslots)
{
	if (to == SW_CTAB_NIL) {
		l->ends++;
		return idx == end;
	}
	if (to >= nslots || to == idx)
		return 0;
	l->sum += to;
	l->xor ^= to;
	return 1;
}

static int
saved_fits(const struct sw_ctab *t, const struct sw_ctab_saved *s)
{
	struct links prev = { 0, 0, 0 }, next = { 0, 0, 0 };
	uint64_t sum_live = 0;
	uint32_t xor_live = 0, live = 0, nslots = nslots_of(t), b, k;

	if (s->count > nslots)
		return 0;
	for (b = 0; b < t->hashsize; b++) {
		const uint8_t *ord = sw_ctab_order(t, b);

		if (!bucket_fits(t, b))
			return 0;
		for (k = 0; k < sw_ctab_bucket_count(t, b); k++) {
			uint32_t idx = b * t->bucketlimit + ord[k];
			const struct sw_ctab_hdr *h = slot_hdr(t, idx);

			if (h->v6 > 1)
				return 0;
			live++;
			sum_live += idx;
			xor_live ^= idx;
			if (!link_fits(&prev, h->age_prev, idx, s->age_head, nslots) ||
			    !link_fits(&next, h->age_next, idx, s->age_tail, nslots))
				return 0;
		}
	}
	if (live != s->count)
		return 0;
	if (live == 0)
		return s->age_head == SW_CTAB_NIL && s->age_tail == SW_CTAB_NIL;
	return prev.ends == 1 && next.ends == 1 &&
	       next.sum == sum_live - s->age_head && next.xor == (xor_live ^ s->age_head) &&
	       prev.sum == sum_live - s->age_tail && prev.xor == (xor_live ^ s->age_tail);
}

/* Does the live-looking slot (b, s) hold the entry its signature says: a key whose hash (or
 * the owner's second choice of it) falls in b with that signature? One being written when
 * its owner died may not. */
static int
slot_holds_key(const struct sw_ctab *t, uint32_t b, uint32_t s,
	       const struct sw_ctab_rebuild_ops *ops)
{
	const struct sw_ctab_hdr *h = slot_hdr(t, b * t->bucketlimit + s);
	uint16_t sig = sw_ctab_sigs(t, b)[s];
	struct sw_tuple k;
	uint32_t hash;

	if (h->v6 > 1)
		return 0;
	sw_ctab_tuple(t, h, &k);
	hash = sw_ctab_hash(t, &k);
	if ((hash & t->mask) == b && sw_ctab_sig(hash) == sig)
		return 1;
	if (ops->hash2 == NULL)
		return 0;
	hash = ops->hash2(hash);
	return (hash & t->mask) == b && sw_ctab_sig(hash) == sig;
}

struct aged {
	uint64_t age;
	uint32_t idx;
};

static int
aged_cmp(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->age != y->age)
		return x->age < y->age ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Everything but the slots made again: each bucket's live entries (valid ones only) in age
 * order, all of them fresh (the sweep reads them), then the age list. Returns the slots
 * freed, or -1 without memory for the sort. */
static int64_t
rebuild(struct sw_ctab *t, const struct sw_ctab_rebuild_ops *ops)
{
	struct aged *all = malloc(sizeof(*all) * (nslots_of(t) ? nslots_of(t) : 1));
	uint32_t b, s, i, live = 0;
	int64_t dropped = 0;

	if (all == NULL)
		return -1;
	for (b = 0; b < t->hashsize; b++) {
		uint16_t *sigs = sw_ctab_sigs(t, b);
		uint8_t *ord = sw_ctab_order(t, b), *cnt = sw_ctab_meta(t, b) + t->count_off;
		struct aged here[255];
		uint32_t n = 0, f = 0;

		for (s = 0; s < t->bucketlimit; s++) {
			const void *e = slot_hdr(t, b * t->bucketlimit + s);

			if (sigs[s] == 0)
				continue;
			if (!slot_holds_key(t, b, s, ops) || !ops->valid(e, ops->arg)) {
				sigs[s] = 0;
				dropped++;
				continue;
			}
			here[n].age = ops->age(e, ops->arg);
			here[n++].idx = s;
		}
		for (s = 0; s < t->sig_slots; s++)
			if (s >= t->bucketlimit)
				sigs[s] = 0;
		if (n > 1)
			qsort(here, n, sizeof(here[0]), aged_cmp);
		for (i = 0; i < n; i++) {
			ord[i] = (uint8_t)here[i].idx;
			all[live].age = here[i].age;
			all[live++].idx = b * t->bucketlimit + here[i].idx;
		}
		for (s = 0; s < t->bucketlimit; s++)
			if (sigs[s] == 0)
				ord[n + f++] = (uint8_t)s;
		cnt[0] = (uint8_t)n;
		cnt[1] = (uint8_t)n;
	}
	qsort(all, live, sizeof(all[0]), aged_cmp);
	t->count = 0;
	t->age_head = SW_CTAB_NIL;
	t->age_tail = SW_CTAB_NIL;
	for (i = 0; i < live; i++) {
		age_append(t, all[i].idx);
		t->count++;
	}
	free(all);
	return dropped;
}

int64_t
sw_ctab_adopt(struct sw_ctab *t, const struct sw_ctab_saved *saved,
	      const struct sw_ctab_rebuild_ops *ops, int *rebuilt)
{
	int64_t dropped = 0;
	uint32_t b;
	size_t i;

	*rebuilt = saved == NULL || !saved_fits(t, saved);
	if (*rebuilt) {
		dropped = rebuild(t, ops);
		if (dropped < 0)
			return -1;
	} else {
		t->count = saved->count;
		t->age_head = saved->age_head;
		t->age_tail = saved->age_tail;
	}
	/* by bucket, in memory order */
	for (b = 0; b < t->hashsize; b++) {
		const uint8_t *ord = sw_ctab_order(t, b);
		uint32_t k, n = sw_ctab_bucket_count(t, b);

		for (k = 0; k < n; k++) {
			const struct sw_ctab_hdr *h = slot_hdr(t, b * t->bucketlimit + ord[k]);

			if (t->uncounted == 0 || h->user[0] != t->uncounted)
				sw_srcq_add(&t->srcq, h->v6, sw_ctab_src(t, h));
			if (ops->kept != NULL)
				ops->kept(h, ops->arg);
		}
	}
	for (i = 0; i < ngroups(t->hashsize); i++)
		t->group_due[i] = 0;
	for (i = 0; i < nspans(t->hashsize); i++)
		t->span_due[i] = 0;
	return dropped;
}
