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

int
sw_flowtab_init(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed)
{
	memset(ft, 0, sizeof(*ft));
	ft->limit = flows;
	ft->idle_min_ms = SW_FLOW_IDLE_TIMEOUT_MS;
	return sw_ctab_init(&ft->tab, mem, sw_flowtab_hashsize(flows), SW_FLOW_BUCKET_SLOTS,
			    seed);
}

static inline uint32_t
idle_ms(const struct sw_flow *f, uint32_t now_ms)
{
	return now_ms - f->last_ms;
}

/* The flow of full bucket b idle the longest (the bucket's order is insertion order, not
 * use). */
static struct sw_flow *
idlest_in(struct sw_ctab *tab, uint32_t b, uint32_t now_ms, struct sw_flow *best)
{
	uint32_t k;

	for (k = 0; k < sw_ctab_bucket_count(tab, b); k++) {
		struct sw_flow *c = sw_ctab_bucket_entry(tab, b, k);

		bool c_closing = sw_flow_state(c) == SW_FLOW_CLOSING;
		bool b_closing = best != NULL && sw_flow_state(best) == SW_FLOW_CLOSING;

		/* a closing flow first: it only lingers for stragglers */
		if (best == NULL || (c_closing && !b_closing) ||
		    (c_closing == b_closing && idle_ms(c, now_ms) > idle_ms(best, now_ms)))
			best = c;
	}
	return best;
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
	struct sw_flow *victim = NULL;
	unsigned int ev;
	struct sw_flow *f;

	*evicted = 0;
	if (n1 >= tab->bucketlimit && n2 >= tab->bucketlimit) {
		victim = idlest_in(tab, b1, now_ms, NULL);
		if (b2 != b1)
			victim = idlest_in(tab, b2, now_ms, victim);
	} else if (tab->count >= ft->limit) {
		victim = sw_ctab_oldest(tab);
	}
	if (victim != NULL) {
		uint32_t vb = (uint32_t)(((const uint8_t *)victim - tab->slots) /
					 SW_CTAB_ENTRY_SIZE) / tab->bucketlimit;

		if (idle_ms(victim, now_ms) < min_idle_ms &&
		    sw_flow_state(victim) != SW_FLOW_CLOSING)
			return NULL;
		if (gone != NULL && gone_t != NULL) {
			*gone = *victim;
			sw_ctab_tuple(tab, victim, gone_t);
		}
		sw_ctab_remove(tab, victim);
		*evicted = 1;
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
