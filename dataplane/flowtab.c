/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>

#include "flowtab.h"
#include "sw_const.h"

uint32_t
sw_flowtab_hashsize(uint32_t flows)
{
	return rte_align32pow2((flows + SW_FLOW_BUCKET_SLOTS - 1) / SW_FLOW_BUCKET_SLOTS);
}

size_t
sw_flowtab_memsize(uint32_t flows)
{
	return sw_ctab_memsize(sw_flowtab_hashsize(flows), SW_FLOW_BUCKET_SLOTS);
}

/* ft over mem: a new table (fresh), or the one another process left there. */
static int
flowtab_over(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed, bool fresh)
{
	uint32_t hashsize = sw_flowtab_hashsize(flows);

	memset(ft, 0, sizeof(*ft));
	ft->limit = flows;
	ft->idle_min_ms = SW_FLOW_IDLE_TIMEOUT_MS;
	if ((fresh ? sw_ctab_init(&ft->tab, mem, hashsize, SW_FLOW_BUCKET_SLOTS, seed)
		   : sw_ctab_attach(&ft->tab, mem, hashsize, SW_FLOW_BUCKET_SLOTS, seed)) != 0)
		return -1;
	ft->tab.uncounted = SW_FLOW_CLOSING;    /* sw_flowtab_closing */
	return 0;
}

int
sw_flowtab_init(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed)
{
	return flowtab_over(ft, mem, flows, seed, true);
}

int
sw_flowtab_attach(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed)
{
	return flowtab_over(ft, mem, flows, seed, false);
}

struct adopting {
	uint32_t now_ms;
	uint64_t *server_ports;
};

static int
flow_valid(const void *e, void *arg)
{
	const struct sw_flow *f = e;

	(void)arg;
	return sw_flow_state(f) >= SW_FLOW_OPENING && sw_flow_state(f) <= SW_FLOW_CLOSING;
}

/* Older first: the time since the last segment, on the wrapping clock around now. */
static uint64_t
flow_age(const void *e, void *arg)
{
	const struct sw_flow *f = e;
	const struct adopting *a = arg;

	return (uint64_t)(UINT32_MAX - (a->now_ms - f->last_ms));
}

static void
flow_kept(const void *e, void *arg)
{
	const struct sw_flow *f = e;
	const struct adopting *a = arg;

	a->server_ports[f->hdr.dport >> 6] |= 1ull << (f->hdr.dport & 63);
}

int64_t
sw_flowtab_adopt(struct sw_flowtab *ft, const struct sw_ctab_saved *saved, uint32_t now_ms,
		 uint64_t *server_ports, int *rebuilt)
{
	struct adopting a = { .now_ms = now_ms, .server_ports = server_ports };
	const struct sw_ctab_rebuild_ops ops = {
		.valid = flow_valid, .age = flow_age, .hash2 = sw_flowtab_hash2,
		.kept = server_ports != NULL ? flow_kept : NULL, .arg = &a,
	};

	return sw_ctab_adopt(&ft->tab, saved, &ops, rebuilt);
}

static inline uint32_t
idle_ms(const struct sw_flow *f, uint32_t now_ms)
{
	return now_ms - f->last_ms;
}

/* A flow's weight for eviction: how many open (not closing) flows its source prefix holds,
 * or 0 below SW_FLOW_HEAVY_MIN (light sources are not told apart by the sketch's noise). */
static inline uint32_t
weight(const struct sw_ctab *tab, const struct sw_flow *f)
{
	uint32_t w = sw_ctab_src_count(tab, f);

	return w >= SW_FLOW_HEAVY_MIN ? w : 0;
}

/*
 * The flow that makes room, of the n candidates c[] (two full buckets, or the oldest of a
 * full table): a closing one first (it only lingers for stragglers), the one idle the
 * longest; else, of those idle at least min_idle_ms, the one of the heaviest source
 * (weight), the idlest of those; NULL when none may go. *heavy: the idle rule alone (the
 * idlest) would have taken another one.
 */
static struct sw_flow *
pick_victim(const struct sw_ctab *tab, struct sw_flow *const *c, unsigned int n,
	    uint32_t now_ms, uint32_t min_idle_ms, bool *heavy)
{
	struct sw_flow *closing = NULL, *idlest = NULL, *best = NULL;
	uint32_t best_w = 0;
	unsigned int i;

	*heavy = false;
	for (i = 0; i < n; i++) {
		if (sw_flow_state(c[i]) == SW_FLOW_CLOSING) {
			if (closing == NULL || idle_ms(c[i], now_ms) > idle_ms(closing, now_ms))
				closing = c[i];
		} else if (idlest == NULL || idle_ms(c[i], now_ms) > idle_ms(idlest, now_ms)) {
			idlest = c[i];
		}
	}
	if (closing != NULL)
		return closing;
	if (idlest == NULL || idle_ms(idlest, now_ms) < min_idle_ms)
		return NULL;
	for (i = 0; i < n; i++) {
		uint32_t w;

		if (idle_ms(c[i], now_ms) < min_idle_ms)
			continue;
		w = weight(tab, c[i]);
		if (best == NULL || w > best_w ||
		    (w == best_w && idle_ms(c[i], now_ms) > idle_ms(best, now_ms))) {
			best = c[i];
			best_w = w;
		}
	}
	*heavy = best != idlest;
	return best;
}

/* The candidates of an eviction: the flows of both full buckets, or the SW_FLOW_EVICT_SCAN
 * oldest of the table (the LRU end of its age list). */
static unsigned int
candidates(struct sw_ctab *tab, bool buckets, uint32_t b1, uint32_t b2, struct sw_flow **c)
{
	unsigned int n = 0;
	uint32_t k;

	if (buckets) {
		for (k = 0; k < sw_ctab_bucket_count(tab, b1); k++)
			c[n++] = sw_ctab_bucket_entry(tab, b1, k);
		for (k = 0; b2 != b1 && k < sw_ctab_bucket_count(tab, b2); k++)
			c[n++] = sw_ctab_bucket_entry(tab, b2, k);
		return n;
	}
	for (k = tab->age_head; k != SW_CTAB_NIL && n < SW_FLOW_EVICT_SCAN;
	     k = c[n - 1]->hdr.age_next)
		c[n++] = (struct sw_flow *)(void *)(tab->slots + (size_t)k * SW_CTAB_ENTRY_SIZE);
	return n;
}

struct sw_flow *
sw_flowtab_add(struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash, uint32_t now_ms,
	       uint32_t min_idle_ms, int *evicted)
{
	return sw_flowtab_add_evict(ft, t, hash, now_ms, min_idle_ms, evicted, NULL, NULL);
}

struct sw_flow *
sw_flowtab_add_evict(struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash,
		     uint32_t now_ms, uint32_t min_idle_ms, int *evicted, struct sw_flow *gone,
		     struct sw_tuple *gone_t)
{
	struct sw_ctab *tab = &ft->tab;
	uint32_t hash2 = sw_flowtab_hash2(hash);
	uint32_t b1 = hash & tab->mask, b2 = hash2 & tab->mask;
	uint32_t n1 = sw_ctab_bucket_count(tab, b1), n2 = sw_ctab_bucket_count(tab, b2);
	uint32_t use = n2 < n1 ? hash2 : hash;
	struct sw_flow *c[2 * SW_FLOW_BUCKET_SLOTS > SW_FLOW_EVICT_SCAN ?
			  2 * SW_FLOW_BUCKET_SLOTS : SW_FLOW_EVICT_SCAN];
	bool both_full = n1 >= tab->bucketlimit && n2 >= tab->bucketlimit;
	struct sw_flow *victim, *f;
	bool heavy;
	unsigned int ev;

	*evicted = 0;
	if (both_full || tab->count >= ft->limit) {
		uint32_t vb;

		victim = pick_victim(tab, c, candidates(tab, both_full, b1, b2, c), now_ms,
				     min_idle_ms, &heavy);
		if (victim == NULL)
			return NULL;
		vb = (uint32_t)(((const uint8_t *)victim - tab->slots) / SW_CTAB_ENTRY_SIZE) /
		     tab->bucketlimit;
		if (gone != NULL && gone_t != NULL) {
			*gone = *victim;
			sw_ctab_tuple(tab, victim, gone_t);
		}
		sw_ctab_remove(tab, victim);
		*evicted = SW_FLOW_EVICTED | (heavy ? SW_FLOW_EVICTED_HEAVY : 0);
		/* the freed slot is where the new flow goes, if it was one of its buckets */
		if (vb == b1)
			use = hash;
		else if (vb == b2)
			use = hash2;
	}
	f = sw_ctab_insert(tab, t, use, UINT32_MAX, &ev, NULL);
	f->last_ms = now_ms;
	return f;
}

struct flow_timer_call {
	sw_flow_timer_fn fn;
	void *arg;
	uint32_t now_ms;
	const struct sw_flowtab *ft;
};

static uint32_t
flow_due(const void *entry, const void *arg)
{
	const struct flow_timer_call *c = arg;

	return sw_flow_due_ms(c->ft, entry);
}

static int
flow_fire(void *entry, void *arg)
{
	const struct flow_timer_call *c = arg;
	struct sw_flow *f = entry;

	return c->fn(f, idle_ms(f, c->now_ms), c->arg) == SW_FLOW_DROP;
}

uint32_t
sw_flowtab_sweep(struct sw_flowtab *ft, uint64_t now_ms, uint32_t period_ms,
		 sw_flow_timer_fn fn, void *arg)
{
	struct flow_timer_call c = { fn, arg, (uint32_t)now_ms, ft };
	const struct sw_ctab_timer tm = { flow_due, flow_fire, &c };
	uint32_t removed;

	sw_ctab_sweep(&ft->tab, &ft->sweep, now_ms, period_ms, &tm, &removed);
	return removed;
}
