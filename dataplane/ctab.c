/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_prefetch.h>

#include "ctab.h"
#include "sw_const.h"

/* Buckets the sweep prefetches ahead of the one it visits. */
#define SW_SWEEP_AHEAD 16

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
	       align64(nspans(hashsize) * sizeof(uint64_t));
}

int
sw_ctab_init(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
	     uint32_t seed)
{
	size_t nslots = (size_t)hashsize * bucketlimit;
	uint8_t *p = mem;
	uint32_t b, s;

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
	t->due_off = (uint16_t)due_off(bucketlimit);
	t->hashsize = hashsize;
	t->mask = hashsize - 1;
	t->bucketlimit = bucketlimit;
	t->count = 0;
	t->age_head = SW_CTAB_NIL;
	t->age_tail = SW_CTAB_NIL;
	t->seed = seed;
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

/* ---- timers ---- */

static inline uint8_t *
fresh_of(const struct sw_ctab *t, uint32_t b)
{
	return sw_ctab_meta(t, b) + t->count_off + 1;
}

static inline uint32_t *
due_of(const struct sw_ctab *t, uint32_t b)
{
	return (uint32_t *)(void *)(sw_ctab_meta(t, b) + t->due_off);
}

/* a no later than b, on the wrapping ms clock */
static inline int
due_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* A 32-bit due time near now_ms on the 64-bit clock. */
static inline uint64_t
due64(uint32_t due, uint64_t now_ms)
{
	return now_ms + (uint64_t)(int64_t)(int32_t)(due - (uint32_t)now_ms);
}

void
sw_ctab_timer_sooner(struct sw_ctab *t, const void *e, uint64_t due_ms)
{
	uint32_t b = hdr_idx(t, e) / t->bucketlimit;
	uint32_t *due = due_of(t, b);
	uint64_t *g = &t->group_due[b >> SW_TIMER_GROUP_SHIFT];
	uint64_t *sp = &t->span_due[b >> SW_TIMER_SPAN_SHIFT];

	/* (if every entry is fresh, so is e: the header's due is set when they are seen) */
	if (sw_ctab_bucket_count(t, b) > *fresh_of(t, b) && !due_le(*due, (uint32_t)due_ms))
		*due = (uint32_t)due_ms;
	if (*g > due_ms)
		*g = due_ms;
	if (*sp > due_ms)
		*sp = due_ms;
}

struct sweep_round {
	uint64_t now;
	const struct sw_ctab_timer *tm;
	uint32_t entries;
	uint32_t gone;
};

/*
 * One bucket: all its entries if its due time has come, else only the fresh ones. Fires
 * those that are due and returns the bucket's new bound (SW_TIMER_NONE when empty).
 */
static uint64_t
visit_bucket(struct sw_ctab *t, uint32_t b, struct sweep_round *r)
{
	uint32_t now = (uint32_t)r->now;
	uint32_t n = sw_ctab_bucket_count(t, b);
	uint32_t known = n - *fresh_of(t, b);
	uint32_t *duep = due_of(t, b);
	int all = known > 0 && due_le(*duep, now);
	int have = known > 0 && !all;
	uint32_t bound = *duep;
	uint32_t k;

	for (k = n; k-- > (all ? 0 : known);) {
		void *e = sw_ctab_bucket_entry(t, b, k);
		uint32_t d = r->tm->due(e);

		r->entries++;
		if (due_le(d, now)) {
			if (r->tm->fire(e, r->tm->arg)) {
				sw_ctab_remove(t, e);
				r->gone++;
				continue;
			}
			/* kept, maybe still due (no mbuf): the cursor comes back in a period */
			d = r->tm->due(e);
		}
		if (!have || !due_le(bound, d)) {
			bound = d;
			have = 1;
		}
	}
	*fresh_of(t, b) = 0;
	if (!have)
		return SW_TIMER_NONE;
	*duep = bound;
	return due64(bound, r->now);
}

static inline uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline void
lower(uint64_t *v, uint64_t x)
{
	if (x < *v)
		*v = x;
}

/* The cursor moved from bucket `last` to the next: close the group and span it left. */
static void
left(struct sw_ctab *t, struct sw_sweep *sw, uint32_t last)
{
	uint32_t g = last >> SW_TIMER_GROUP_SHIFT, sp = last >> SW_TIMER_SPAN_SHIFT;
	uint32_t next = last + 1;

	if ((next & ((1u << SW_TIMER_GROUP_SHIFT) - 1)) != 0 && next < t->hashsize)
		return;
	if (sw->group_in == g + 1) {
		if (sw->group_claimed)
			lower(&t->group_due[g], sw->group_min);
		if (sw->span_claimed)
			lower(&sw->span_min, t->group_due[g]);
		sw->group_in = 0;
	} else if (sw->span_claimed) {
		/* a group passed in one step, never entered */
		lower(&sw->span_min, t->group_due[g]);
	}
	if ((next & ((1u << SW_TIMER_SPAN_SHIFT) - 1)) != 0 && next < t->hashsize)
		return;
	if (sw->span_in == sp + 1 && sw->span_claimed)
		lower(&t->span_due[sp], sw->span_min);
	sw->span_in = 0;
}

/* Enter the group or span at index i: claimed (its bound recomputed as it is passed) if
 * something in it is due and the cursor is at its first bucket (entered half-way, its bound
 * stays what it was: a lower one than needed, never a later one). */
static inline void
enter(uint64_t *bound, uint64_t now, uint32_t i, int at_start, uint32_t *in, uint8_t *claimed,
      uint64_t *min)
{
	if (*in == i + 1)
		return;
	*in = i + 1;
	*claimed = at_start && *bound <= now;
	if (*claimed) {
		*bound = SW_TIMER_NONE;
		*min = SW_TIMER_NONE;
	}
}

uint32_t
sw_ctab_sweep(struct sw_ctab *t, struct sw_sweep *sw, uint64_t now_ms, uint32_t period_ms,
	      const struct sw_ctab_timer *tm, uint32_t *removed)
{
	struct sweep_round r = { now_ms, tm, 0, 0 };
	uint32_t now32 = (uint32_t)now_ms;
	uint32_t owed = sw->owed + sw_sweep_due(t, sw, now_ms, period_ms);
	uint32_t steps = 0;

	owed = min_u32(owed, t->hashsize);      /* a whole pass sees everything */
	while (owed > 0) {
		uint32_t b = sw->cursor, n;
		uint32_t g = b >> SW_TIMER_GROUP_SHIFT, sp = b >> SW_TIMER_SPAN_SHIFT;

		if (steps >= SW_TIMER_ROUND_STEPS || r.entries >= SW_TIMER_ROUND_ENTRIES)
			break;
		steps++;
		enter(&t->span_due[sp], now_ms, sp, (b & ((1u << SW_TIMER_SPAN_SHIFT) - 1)) == 0,
		      &sw->span_in, &sw->span_claimed, &sw->span_min);
		if (!sw->span_claimed && t->span_due[sp] > now_ms) {
			/* nothing due in the span: to its end, or as far as owed */
			n = min_u32(owed, min_u32(((sp + 1) << SW_TIMER_SPAN_SHIFT), t->hashsize) - b);
		} else {
			enter(&t->group_due[g], now_ms, g,
			      (b & ((1u << SW_TIMER_GROUP_SHIFT) - 1)) == 0, &sw->group_in,
			      &sw->group_claimed, &sw->group_min);
			if (!sw->group_claimed && t->group_due[g] > now_ms) {
				n = min_u32(owed, min_u32(((g + 1) << SW_TIMER_GROUP_SHIFT),
							  t->hashsize) - b);
			} else {
				uint32_t ahead = (b + SW_SWEEP_AHEAD) & t->mask, k, c;
				uint64_t bound;

				if (r.entries > 0 && r.entries + sw_ctab_bucket_count(t, b) >
				    SW_TIMER_ROUND_ENTRIES) {
					steps--;
					break;
				}
				/* Every entry visited would be a cache miss, one after the other:
				 * the headers go into the cache 2 x SW_SWEEP_AHEAD buckets ahead,
				 * the entries SW_SWEEP_AHEAD ahead. */
				rte_prefetch0(sw_ctab_meta(t, (b + 2 * SW_SWEEP_AHEAD) & t->mask) +
					      t->count_off);
				c = sw_ctab_bucket_count(t, ahead);
				if (c > *fresh_of(t, ahead) && !due_le(*due_of(t, ahead), now32))
					c = *fresh_of(t, ahead);        /* only those are read */
				for (k = 0; k < c && k < SW_SWEEP_AHEAD; k++)
					rte_prefetch0(sw_ctab_bucket_entry(t, ahead,
						      sw_ctab_bucket_count(t, ahead) - 1 - k));
				bound = visit_bucket(t, b, &r);
				if (sw->group_claimed)
					lower(&sw->group_min, bound);
				n = 1;
			}
		}
		sw->cursor = (b + n) & t->mask;
		owed -= n;
		left(t, sw, b + n - 1);
	}
	sw->owed = owed;
	sw->last_steps = steps;
	sw->last_entries = r.entries;
	if (removed != NULL)
		*removed = r.gone;
	return r.entries;
}
