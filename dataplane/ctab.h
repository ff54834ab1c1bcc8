/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection table: the storage under the syncache and the flow table. One instance per
 * lcore, touched only by its owner: no locks.
 *
 * hashsize buckets of bucketlimit fixed 64-byte slots, allocated once. Each bucket keeps a
 * permutation of its slot numbers: the first `count` are the live entries from oldest to
 * newest, the rest are free. All live entries are also on one age list (oldest first), so
 * that both "oldest in this bucket" and "oldest in the table" cost O(1) to find. IPv6
 * addresses live in a side array so that an entry stays one cache line.
 */
#ifndef SW_CTAB_H
#define SW_CTAB_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define SW_CTAB_ENTRY_SIZE 64
#define SW_CTAB_NIL UINT32_MAX
#define SW_CTAB_SHRINK_STEP 4   /* evictions per insert at most, while over the limit */

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

struct sw_ctab {
	uint8_t *slots;         /* hashsize * bucketlimit entries */
	uint8_t *order;         /* per bucket: bucketlimit slot numbers, live ones first */
	uint8_t *bcount;        /* per bucket: live entries */
	struct sw_v6pair *v6;   /* per slot */
	uint32_t hashsize;
	uint32_t mask;
	uint32_t bucketlimit;
	uint32_t count;
	uint32_t age_head;      /* oldest */
	uint32_t age_tail;      /* newest */
	uint32_t seed;
};

/* What an insert had to evict to make room. */
#define SW_CTAB_EVICT_BUCKET 0x1
#define SW_CTAB_EVICT_CACHE  0x2

size_t sw_ctab_memsize(uint32_t hashsize, uint32_t bucketlimit);
/* mem: sw_ctab_memsize() bytes, 64-byte aligned. hashsize a power of 2, bucketlimit <= 255. */
int sw_ctab_init(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
		 uint32_t seed);

uint32_t sw_ctab_hash(const struct sw_ctab *t, const struct sw_tuple *k);
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

static inline uint32_t
sw_ctab_bucket_count(const struct sw_ctab *t, uint32_t b)
{
	return t->bcount[b];
}

/*
 * Incremental sweep for timers: the whole table is visited once per period, a slice of
 * buckets at a time, so that no loop iteration pays for the whole table.
 */
struct sw_sweep {
	uint32_t cursor;        /* next bucket to visit */
	uint32_t visited;       /* buckets visited in the current round */
	uint64_t last_ms;       /* when the current round started */
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

/*
 * Visit the buckets due at now_ms (sw_sweep_due) and call fn for each live entry, newest first
 * so that removing one does not move those not seen yet; a non-zero return removes it.
 * Returns the entries visited; *removed (if not NULL) gets how many were removed.
 */
typedef int (*sw_ctab_visit_fn)(void *entry, void *arg);
uint32_t sw_ctab_sweep(struct sw_ctab *t, struct sw_sweep *sw, uint64_t now_ms,
		       uint32_t period_ms, sw_ctab_visit_fn fn, void *arg, uint32_t *removed);

/* k-th oldest live entry of bucket b (k < count). */
static inline void *
sw_ctab_bucket_entry(const struct sw_ctab *t, uint32_t b, uint32_t k)
{
	uint32_t slot = t->order[(size_t)b * t->bucketlimit + k];

	return t->slots + ((size_t)b * t->bucketlimit + slot) * SW_CTAB_ENTRY_SIZE;
}

#endif
