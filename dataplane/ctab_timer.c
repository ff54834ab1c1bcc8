/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection table's timer sweep (ctab.h): a cursor with the cadence of a whole-table
 * sweep per period that skips, at one read, the groups and spans of buckets with nothing
 * due, and stops at the round's bounds (docs/DATAPLANE.md, "Timers").
 */
#include <rte_prefetch.h>

#include "ctab.h"
#include "sw_const.h"

/* Buckets the sweep prefetches ahead of the one it visits. */
#define SW_SWEEP_AHEAD 16


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
	uint32_t b = (uint32_t)(((const uint8_t *)e - t->slots) / SW_CTAB_ENTRY_SIZE) /
		     t->bucketlimit;
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
		uint32_t d = r->tm->due(e, r->tm->arg);

		r->entries++;
		if (due_le(d, now)) {
			if (r->tm->fire(e, r->tm->arg)) {
				sw_ctab_remove(t, e);
				r->gone++;
				continue;
			}
			/* kept, maybe still due (no mbuf): the cursor comes back in a period */
			d = r->tm->due(e, r->tm->arg);
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
