/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "srctab.h"

size_t
sw_srct_memsize(uint32_t entries)
{
	return (size_t)(entries / SW_SRCT_WAYS) * sizeof(struct sw_srct_set) +
	       (size_t)entries * sizeof(struct sw_srct_entry);
}

/* A mask of the first `bits` bits of a 32-bit word (bits may be past it, or 0). */
static uint32_t
lead_mask(int bits)
{
	if (bits <= 0)
		return 0;
	return bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
}

int
sw_srct_init(struct sw_srctab *st, void *mem, uint32_t entries, const struct sw_sipkey *key,
	     uint8_t v4_len, uint8_t v6_len)
{
	uint32_t nsets = entries / SW_SRCT_WAYS;
	unsigned int i;
	uint8_t msg;

	if (entries < SW_SRCT_MIN || entries > SW_SRCT_MAX || !rte_is_power_of_2(entries) ||
	    v4_len > 32 || v6_len > 128)
		return -1;
	memset(st, 0, sizeof(*st));
	st->sets = mem;
	st->ent = (struct sw_srct_entry *)(st->sets + nsets);
	st->mask = nsets - 1;
	st->v4_len = v4_len;
	st->v6_len = v6_len;
	st->mask4 = lead_mask(v4_len);
	for (i = 0; i < 4; i++)
		st->mask6[i] = lead_mask((int)v6_len - 32 * (int)i);
	for (i = 0; i < 6; i++) {
		uint64_t v;

		msg = (uint8_t)i;
		v = sw_siphash24(key, &msg, 1);
		if (i < 4)
			st->mul[i] = v | 1;
		else
			st->add[i - 4] = v;
	}
	return 0;
}

void
sw_srct_bucket_of(struct sw_srct_bucket *b, uint32_t rate, uint32_t burst,
		  unsigned int nworkers)
{
	uint64_t whole;

	if (rate == 0) {
		b->t = b->tau = 0;
		return;
	}
	if (burst == 0)
		burst = rate;
	nworkers = RTE_MAX(nworkers, 1u);
	/* each worker passes rate / nworkers a second, burst / nworkers at once (at least one):
	 * the burst lasts burst / rate seconds on each */
	b->t = RTE_MAX(1000000000ull * nworkers / rate, 1ull);
	whole = 1000000000ull * burst / rate;
	b->tau = whole > b->t ? whole - b->t : 0;
}

void
sw_srct_configure(struct sw_srctab *st, uint64_t version, uint32_t syn_rate,
		  uint32_t syn_burst, uint32_t reflect_rate, uint32_t reflect_burst,
		  unsigned int nworkers)
{
	sw_srct_bucket_of(&st->syn, syn_rate, syn_burst, nworkers);
	sw_srct_bucket_of(&st->ack, reflect_rate, reflect_burst, nworkers);
	st->version = version;
}

struct sw_srct_entry *
sw_srct_get_keyed(struct sw_srctab *st, int v6, const uint8_t key[16], uint64_t h,
		  uint64_t now_ms, int *evicted)
{
	uint32_t s = (uint32_t)h & st->mask;
	uint32_t tag = (uint32_t)(h >> 32) | 1;
	struct sw_srct_set *set = &st->sets[s];
	struct sw_srct_entry *e;
	uint32_t now32 = (uint32_t)now_ms, score_now = sw_srct_score_now(now_ms);
	uint32_t m = sw_srct_match(set, tag);
	unsigned int w, victim = SW_SRCT_WAYS;
	int32_t least = INT32_MAX;
	uint64_t k0, k1;

	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	*evicted = 0;
	while (m != 0) {
		uint64_t e0, e1;

		w = (unsigned int)__builtin_ctz(m);
		m &= m - 1;
		e = &st->ent[s * SW_SRCT_WAYS + w];
		memcpy(&e0, e->key, 8);
		memcpy(&e1, e->key + 8, 8);
		if (((e0 ^ k0) | (e1 ^ k1)) == 0 && e->v6 == (uint8_t)!!v6) {
			e->last_ms = now32;
			return e;
		}
	}
	/* a miss: an empty way, or the one whose buckets are full the soonest */
	m = sw_srct_match(set, 0);
	if (m != 0) {
		victim = (unsigned int)__builtin_ctz(m);
	} else {
		for (w = 0; w < SW_SRCT_WAYS; w++) {
			int32_t ahead = (int32_t)(set->score[w] - score_now);

			if (ahead < least) {
				least = ahead;
				victim = w;
			}
		}
		*evicted = 1;
	}
	e = &st->ent[s * SW_SRCT_WAYS + victim];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, 16);
	e->v6 = (uint8_t)!!v6;
	e->len = v6 ? st->v6_len : st->v4_len;
	e->last_ms = now32;
	e->syn_tat = e->ack_tat = now_ms * SW_SRCT_NS_PER_MS;
	set->tag[victim] = tag;
	set->score[victim] = score_now;
	return e;
}

/* ---- top talkers ---- */

static uint64_t
metric(const struct sw_srct_talker *t, enum sw_srct_by by)
{
	switch (by) {
	case SW_SRCT_BY_BAD_COOKIES:
		return t->bad_cookies;
	case SW_SRCT_BY_FLOWS:
		return t->flows;
	case SW_SRCT_BY_SYNS_LIMITED:
		return t->syns_limited;
	case SW_SRCT_BY_SYNACKS_CAPPED:
		return t->synacks_capped;
	case SW_SRCT_BY_SYNS:
	default:
		return t->syns;
	}
}

static int
by_prefix(const void *a, const void *b)
{
	const struct sw_srct_talker *x = a, *y = b;

	if (x->v6 != y->v6)
		return x->v6 < y->v6 ? -1 : 1;
	return memcmp(x->key, y->key, 16);
}

static int
by_weight(const void *a, const void *b)
{
	const struct sw_srct_talker *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return by_prefix(a, b);
}

/* The min-heap h[0..n) by weight: sift h[i] down. */
static void
heap_down(struct sw_srct_talker *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct sw_srct_talker t;

		if (l < n && h[l].weight < h[m].weight)
			m = l;
		if (r < n && h[r].weight < h[m].weight)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
heap_up(struct sw_srct_talker *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2].weight > h[i].weight) {
		struct sw_srct_talker t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* The `keep` heaviest by `by` of one table (weight > 0) into h; returns how many. */
static size_t
table_top(const struct sw_srctab *st, enum sw_srct_by by, uint64_t now_ms,
	  struct sw_srct_talker *h, size_t keep)
{
	size_t ents = (size_t)(st->mask + 1) * SW_SRCT_WAYS, n = 0, i;

	for (i = 0; i < ents; i++) {
		struct sw_srct_entry e;
		struct sw_srct_talker t;

		if (st->sets[i / SW_SRCT_WAYS].tag[i % SW_SRCT_WAYS] == 0)
			continue;
		/* one copy: the worker may be writing it */
		memcpy(&e, (const void *)&st->ent[i], sizeof(e));
		memcpy(t.key, e.key, 16);
		t.v6 = e.v6;
		t.len = e.len;
		t.syns = e.syns;
		t.syns_limited = e.syns_limited;
		t.bad_cookies = e.bad_cookies;
		t.flows = e.flows;
		t.synacks_capped = e.synacks_capped;
		t.idle_ms = (uint32_t)((uint32_t)now_ms - e.last_ms);
		t.weight = metric(&t, by);
		if (t.weight == 0)
			continue;
		if (n < keep) {
			h[n] = t;
			heap_up(h, n++);
		} else if (t.weight > h[0].weight) {
			h[0] = t;
			heap_down(h, n, 0);
		}
	}
	return n;
}

int
sw_srct_top(const struct sw_srctab *const *tables, unsigned int n, enum sw_srct_by by,
	    uint64_t now_ms, struct sw_srct_talker *out, unsigned int max)
{
	/* each table's heaviest, SW_SRCT_TOP_KEEP times what is asked for at most: a prefix
	 * heavy in all is heavy in each, as RSS spreads its connections evenly */
	size_t keep = RTE_MIN((size_t)max * 4, (size_t)SW_SRCT_TOP_KEEP), live = 0, i, j;
	struct sw_srct_talker *all;
	unsigned int k;

	if (max == 0 || n == 0)
		return 0;
	all = malloc((size_t)n * keep * sizeof(*all));
	if (all == NULL)
		return -1;
	for (k = 0; k < n; k++)
		if (tables[k]->sets != NULL)
			live += table_top(tables[k], by, now_ms, all + live, keep);
	/* the same prefix on several workers: one line, its counts summed */
	qsort(all, live, sizeof(*all), by_prefix);
	for (i = 0, j = 0; i < live; i++) {
		if (j > 0 && by_prefix(&all[j - 1], &all[i]) == 0) {
			struct sw_srct_talker *t = &all[j - 1];

			t->syns += all[i].syns;
			t->syns_limited += all[i].syns_limited;
			t->bad_cookies += all[i].bad_cookies;
			t->flows += all[i].flows;
			t->synacks_capped += all[i].synacks_capped;
			t->weight += all[i].weight;
			t->idle_ms = RTE_MIN(t->idle_ms, all[i].idle_ms);
		} else {
			all[j++] = all[i];
		}
	}
	live = j;
	qsort(all, live, sizeof(*all), by_weight);
	live = RTE_MIN(live, (size_t)max);
	memcpy(out, all, live * sizeof(*all));
	free(all);
	return (int)live;
}
