/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection table: the storage under the syncache and the flow table. One instance per
 * lcore, touched only by its owner: no locks.
 *
 * hashsize buckets of bucketlimit fixed 64-byte slots, allocated once. Each bucket has a
 * small header (struct layout below: 32 bytes for the flow table's 8 slots, two buckets a
 * cache line) with
 *  - a 16-bit signature per slot, taken from the hash; 0 marks a free slot. A lookup compares
 *    the key only with the entries whose signature matches, so it reads the bucket header
 *    and (nearly always) at most the one entry it finds: both can be prefetched a pass ahead
 *    (sw_ctab_prefetch_bucket, then sw_ctab_prefetch_match);
 *  - a permutation of its slot numbers: the first `count` are the live entries from oldest
 *    to newest, the rest are free;
 *  - the count.
 * All live entries are also on one age list (oldest first), so that both "oldest in this
 * bucket" and "oldest in the table" cost O(1) to find. IPv6 addresses live in a side array
 * so that an entry stays one cache line.
 *
 * Each table also counts its entries per source prefix (srcquota.h): every insert and every
 * removal here, whichever path it comes by (an owner's removal, the timer sweep, an eviction
 * inside sw_ctab_insert, a flush), so that the count cannot drift; the owner may take an
 * entry out of the count before its removal (sw_ctab_uncount).
 *
 * Timers (the owner's: a retransmit, an idle timeout) are found without visiting every
 * entry: each bucket header keeps an earliest due time of its entries and how many of its
 * newest entries were inserted since (their due time is not known to the table yet); each
 * group of SW_TIMER_GROUP buckets and each span of SW_TIMER_SPAN buckets keeps a lower bound
 * of its buckets' due times in a side array. The sweep skips a group or a span whose bound
 * is in the future at one read (see sw_ctab_sweep).
 */
#ifndef SW_CTAB_H
#define SW_CTAB_H

#include <stddef.h>
#include <stdint.h>

#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "parse.h"
#include "srcquota.h"

#define SW_CTAB_ENTRY_SIZE 64
#define SW_CTAB_NIL UINT32_MAX
#define SW_CTAB_SHRINK_STEP 4   /* evictions per insert at most, while over the limit */

/* Timer summaries: a group is 2^SW_TIMER_GROUP_SHIFT buckets, a span 2^SW_TIMER_SPAN_SHIFT
 * (64 groups); both are cut to the table when it is smaller. */
#define SW_TIMER_GROUP_SHIFT 4
#define SW_TIMER_SPAN_SHIFT  10
#define SW_TIMER_NONE UINT64_MAX        /* a summary with nothing due, ever */

/* First member of every table entry. */
struct sw_ctab_hdr {
	uint32_t age_prev;
	uint32_t age_next;
	uint32_t saddr;         /* IPv4 source, network order (0 for IPv6: see the side array) */
	uint32_t daddr;
	uint16_t sport;
	uint16_t dport;
	uint8_t v6;
	uint8_t user[3];        /* the owner's: keeps small fields in the header's padding */
};

struct sw_v6pair {
	uint8_t src[16];
	uint8_t dst[16];
};

/*
 * A bucket's header, meta_stride bytes from ctab.meta + b * meta_stride:
 *   uint16_t sig[sig_slots]   per slot (bucketlimit rounded up to 8; the extra ones stay 0)
 *   uint8_t  order[bucketlimit]
 *   uint8_t  count
 *   uint8_t  fresh            the newest `fresh` entries came after the last timer visit
 *   uint32_t due              (4-aligned) no later than the due time of every other entry
 *                             (sw_ms clock, wraps); meaningless while count == fresh
 * meta_stride is a power of 2 up to 64 bytes, else a multiple of 64, so that the signatures
 * of the first 32 slots never straddle a cache line. The timer fields cost no byte for the
 * flow table's 8 slots (25 -> 32 bytes, the same stride) nor the syncache's default 30
 * (95 -> 100, stride 128); the largest bucketlimit, 255, goes from 768 to 832.
 */
struct sw_ctab {
	uint8_t *slots;         /* hashsize * bucketlimit entries */
	uint8_t *meta;          /* per bucket: its header */
	struct sw_v6pair *v6;   /* per slot */
	uint64_t *group_due;    /* per group: no later than its buckets' due times (sw_now_ms),
				 * 0 when one has fresh entries; SW_TIMER_NONE: none */
	uint64_t *span_due;     /* per span: the same of its groups */
	uint32_t hashsize;
	uint32_t mask;
	uint32_t bucketlimit;
	uint32_t count;
	uint32_t age_head;      /* oldest */
	uint32_t age_tail;      /* newest */
	uint32_t seed;
	uint32_t meta_stride;
	uint16_t sig_slots;
	uint16_t count_off;     /* order[] starts at 2 * sig_slots */
	uint16_t due_off;       /* the header's due; fresh is at count_off + 1 */
	struct sw_srcquota srcq;        /* the live entries per source prefix */
	uint8_t uncounted;      /* set by the owner at init (0: none): its entries whose
				 * hdr.user[0] is this are not counted in srcq (they were
				 * taken out with sw_ctab_uncount) */
};

/* What an insert had to evict to make room. */
#define SW_CTAB_EVICT_BUCKET 0x1
#define SW_CTAB_EVICT_CACHE  0x2

size_t sw_ctab_memsize(uint32_t hashsize, uint32_t bucketlimit);
/* mem: sw_ctab_memsize() bytes, 64-byte aligned. hashsize a power of 2, bucketlimit <= 255. */
int sw_ctab_init(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
		 uint32_t seed);

/*
 * Taking over a table another process left in mem (state.h): sw_ctab_attach lays out t over
 * mem as sw_ctab_init would, without touching the entries or the bucket headers, the source
 * counts zeroed; then, once the quotas are set up, sw_ctab_adopt makes t what it was: from
 * the scalars the last owner saved when it stopped cleanly (sw_ctab_save), or, after a
 * crash (saved NULL), rebuilt from the slots. Either way every live entry is counted by its
 * source again and every timer bound is lowered to 0, so that the sweep reads every bucket
 * header once (a bound the last owner was recomputing when it stopped may be too late).
 */
struct sw_ctab_saved {
	uint32_t count;
	uint32_t age_head;
	uint32_t age_tail;
	uint32_t pad;
};

/* What a rebuild needs of the owner: whether a slot that looks live holds an entry of its
 * (one being written when the last owner died may not), an entry's age, for the bucket's
 * order and the age list (older first), and the owner's second choice of hash for a key,
 * if it has one (the flow table's two buckets; NULL: none). And, rebuilt or not, what the
 * owner does with each entry taken over (NULL: nothing), in the pass that counts them. */
struct sw_ctab_rebuild_ops {
	int (*valid)(const void *e, void *arg);
	uint64_t (*age)(const void *e, void *arg);
	uint32_t (*hash2)(uint32_t hash);
	void (*kept)(const void *e, void *arg);
	void *arg;
};

int sw_ctab_attach(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
		   uint32_t seed);
void sw_ctab_save(const struct sw_ctab *t, struct sw_ctab_saved *out);
/* *rebuilt: whether it was (no saved scalars, or ones that do not fit the bucket headers:
 * then the table is rebuilt all the same). Returns the slots found not to hold a valid
 * entry (freed), or -1 without memory for the rebuild. */
int64_t sw_ctab_adopt(struct sw_ctab *t, const struct sw_ctab_saved *saved,
		      const struct sw_ctab_rebuild_ops *ops, int *rebuilt);

uint32_t sw_ctab_hash(const struct sw_ctab *t, const struct sw_tuple *k);

/* The signature an entry stored under `hash` gets: never 0 (a free slot). Within one bucket
 * only the hash bits above the bucket number tell entries apart: all 16 up to 65536
 * buckets, 32 - log2(buckets) beyond (11 at the flow table's largest, 2^21 buckets: a
 * needless key compare once in 2048 per live entry, never a wrong answer). */
static inline uint16_t
sw_ctab_sig(uint32_t hash)
{
	uint16_t s = (uint16_t)(hash >> 16);

	return (uint16_t)(s + (s == 0));
}

static inline uint8_t *
sw_ctab_meta(const struct sw_ctab *t, uint32_t b)
{
	return t->meta + (size_t)b * t->meta_stride;
}

static inline uint16_t *
sw_ctab_sigs(const struct sw_ctab *t, uint32_t b)
{
	return (uint16_t *)sw_ctab_meta(t, b);
}

static inline uint8_t *
sw_ctab_order(const struct sw_ctab *t, uint32_t b)
{
	return sw_ctab_meta(t, b) + 2 * (size_t)t->sig_slots;
}

static inline void *
sw_ctab_slot(const struct sw_ctab *t, uint32_t b, uint32_t slot)
{
	return t->slots + ((size_t)b * t->bucketlimit + slot) * SW_CTAB_ENTRY_SIZE;
}

/* Bit i set: sigs[i] == sig, for the 8 signatures at sigs. */
static inline uint32_t
sw_ctab_sig_match8(const uint16_t *sigs, uint16_t sig)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)sigs);
	__m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16((short)sig));

	/* 0xffff/0 lanes packed into 0xff/0 bytes, one mask bit each */
	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
#else
	uint32_t m = 0, i;

	for (i = 0; i < 8; i++)
		m |= (uint32_t)(sigs[i] == sig) << i;
	return m;
#endif
}

/* Stage 1 of a lookup a pass ahead: the bucket's header on its way into the cache. */
static inline void
sw_ctab_prefetch_bucket(const struct sw_ctab *t, uint32_t hash)
{
	rte_prefetch0(sw_ctab_meta(t, hash & t->mask));
}

/* Stage 2 (once the header is in): the entries whose signature matches (nearly always at
 * most one), among the bucket's first 32 slots. */
static inline void
sw_ctab_prefetch_match(const struct sw_ctab *t, uint32_t hash, int v6)
{
	uint32_t b = hash & t->mask;
	const uint16_t *sigs = sw_ctab_sigs(t, b);
	uint16_t sig = sw_ctab_sig(hash);
	uint32_t c;

	for (c = 0; c < t->sig_slots && c < 32; c += 8) {
		uint32_t m = sw_ctab_sig_match8(sigs + c, sig);

		while (m != 0) {
			uint32_t slot = c + (uint32_t)__builtin_ctz(m);

			m &= m - 1;
			rte_prefetch0(sw_ctab_slot(t, b, slot));
			if (v6)
				rte_prefetch0(&t->v6[(size_t)b * t->bucketlimit + slot]);
		}
	}
}

void *sw_ctab_lookup(const struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash);
/*
 * Insert k (not present). When its bucket is full its oldest entry goes; else when the
 * table holds `limit` entries the oldest of the table goes (up to SW_CTAB_SHRINK_STEP of them
 * while it holds more than `limit`, after the limit was lowered). *evicted gets SW_CTAB_EVICT_*;
 * if evict_out is not NULL the evicted entry is copied there first (64 bytes).
 * The new entry's payload (past the header) is zeroed.
 */
void *sw_ctab_insert(struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash,
		     uint32_t limit, unsigned int *evicted, void *evict_out);
void sw_ctab_remove(struct sw_ctab *t, void *e);
/* Move an entry to the young end of the age list (LRU use). */
void sw_ctab_touch(struct sw_ctab *t, void *e);
void *sw_ctab_oldest(const struct sw_ctab *t);
void sw_ctab_tuple(const struct sw_ctab *t, const void *e, struct sw_tuple *out);

/* e's source address: 4 bytes (network order), or 16 for IPv6 (hdr.v6). */
static inline const uint8_t *
sw_ctab_src(const struct sw_ctab *t, const void *e)
{
	const struct sw_ctab_hdr *h = e;

	if (!h->v6)
		return (const uint8_t *)&h->saddr;
	return t->v6[((const uint8_t *)e - t->slots) / SW_CTAB_ENTRY_SIZE].src;
}

/* e stops counting toward its source prefix, for good: its hdr.user[0] becomes t->uncounted
 * (the flow table's closing flows, which eviction takes first whatever their age: they hold
 * no room from anyone). Its removal then takes nothing from srcq. */
static inline void
sw_ctab_uncount(struct sw_ctab *t, void *e)
{
	struct sw_ctab_hdr *h = e;

	if (h->user[0] == t->uncounted)
		return;
	sw_srcq_sub(&t->srcq, h->v6, sw_ctab_src(t, e));
	h->user[0] = t->uncounted;
}

/* Entries of e's source prefix in the table (srcquota.h: never fewer than there are). */
static inline uint32_t
sw_ctab_src_count(const struct sw_ctab *t, const void *e)
{
	const struct sw_ctab_hdr *h = e;

	return sw_srcq_count(&t->srcq, h->v6, sw_ctab_src(t, e));
}

static inline uint32_t
sw_ctab_bucket_count(const struct sw_ctab *t, uint32_t b)
{
	return sw_ctab_meta(t, b)[t->count_off];
}

/*
 * The timer sweep. It keeps the cadence of a sweep that visits the whole table once per
 * period, a slice of buckets at a time (sw_sweep_due says how many buckets the cursor owes
 * at now_ms), so that a timer fires when the cursor passes its bucket, no more than a
 * period after it is due. But the cursor passes a group or span with nothing due in one
 * step, reads the header of a bucket only in a group that has something due, and reads an
 * entry only when its bucket has something due or the entry is fresh. And a call does at
 * most SW_TIMER_ROUND_STEPS steps and SW_TIMER_ROUND_ENTRIES entries: what it owes beyond
 * is owed to the next call.
 */
struct sw_sweep {
	uint32_t cursor;        /* next bucket to pass */
	uint32_t visited;       /* buckets owed in the current period so far (sw_sweep_due) */
	uint64_t last_ms;       /* when the current period started */
	uint32_t owed;          /* buckets the cursor is behind, passed by the next calls: not 0
				 * after a call only if it stopped at a bound */
	uint32_t group_in;      /* group and span the cursor is in, plus 1 (0: none) */
	uint32_t span_in;
	uint8_t group_claimed;  /* the cursor recomputes this group's / span's bound: it was */
	uint8_t span_claimed;   /* set to NONE on entry, lowered by inserts since */
	uint64_t group_min;     /* the bound so far of the buckets passed in the group */
	uint64_t span_min;      /* the same of the groups passed in the span */
	/* the last call's work (for tests and measurements) */
	uint32_t last_steps;
	uint32_t last_entries;
};

/*
 * Buckets due at now_ms; visit them with sw_sweep_next(). A round visits every bucket once
 * per period; what is due is counted from the round's start, so that the fractions of a
 * bucket each call rounds off add up instead of being lost.
 */
static inline uint32_t
sw_sweep_due(const struct sw_ctab *t, struct sw_sweep *sw, uint64_t now_ms, uint32_t period_ms)
{
	uint64_t elapsed = now_ms - sw->last_ms;
	uint64_t target;
	uint32_t nb;

	if (elapsed >= 2 * (uint64_t)period_ms) {
		/* Far behind (a stall, or the first call): the whole table once, then on. */
		sw->last_ms = now_ms;
		sw->visited = 0;
		return t->hashsize;
	}
	target = (uint64_t)t->hashsize * elapsed / period_ms;      /* < 2 * hashsize */
	nb = target > sw->visited ? (uint32_t)(target - sw->visited) : 0;
	sw->visited += nb;
	if (sw->visited >= t->hashsize) {
		/* Into the next round: what was due of it is counted as visited in it. */
		sw->visited -= t->hashsize;
		sw->last_ms += period_ms;
	}
	return nb > t->hashsize ? t->hashsize : nb;     /* no bucket twice in one call */
}

static inline uint32_t
sw_sweep_next(const struct sw_ctab *t, struct sw_sweep *sw)
{
	uint32_t b = sw->cursor;

	sw->cursor = (b + 1) & t->mask;
	return b;
}

/* The owner's timers, for the sweep: an entry's due time (sw_ms clock, wraps), and what to
 * do once it has come (non-zero: remove the entry); both get arg. The sweep calls fire only
 * when due. */
struct sw_ctab_timer {
	uint32_t (*due)(const void *entry, const void *arg);
	int (*fire)(void *entry, void *arg);
	void *arg;
};

/*
 * Pass the buckets owed at now_ms (sw_sweep_due), within the round's bounds: call fire for
 * each entry that is due, newest first in a bucket so that removing one does not move those
 * not seen yet. Returns the entries read; *removed (if not NULL) gets how many went.
 */
uint32_t sw_ctab_sweep(struct sw_ctab *t, struct sw_sweep *sw, uint64_t now_ms,
		       uint32_t period_ms, const struct sw_ctab_timer *tm, uint32_t *removed);

/*
 * e's due time was brought forward to due_ms (sw_now_ms clock): the sweep must see it. Not
 * needed for a later due time (the sweep finds the bucket early, then nothing to do) nor for
 * an entry just inserted (it is fresh).
 */
void sw_ctab_timer_sooner(struct sw_ctab *t, const void *e, uint64_t due_ms);

/* k-th oldest live entry of bucket b (k < count). */
static inline void *
sw_ctab_bucket_entry(const struct sw_ctab *t, uint32_t b, uint32_t k)
{
	return sw_ctab_slot(t, b, sw_ctab_order(t, b)[k]);
}

#endif
