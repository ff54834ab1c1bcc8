/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_hash_crc.h>

#include "profile.h"

static inline struct sw_learned *
slot_of(const struct sw_learn_cache *lc, const struct sw_tuple *t)
{
	uint32_t a[4], h;

	/* Every SYN looks its server up: a CRC32C (one instruction per word with SSE4.2) is
	 * enough here. The keys are the protected servers' own addresses, not ones a client
	 * picks, and a collision only makes two servers share a slot (re-learned). */
	memcpy(a, t->dst, sizeof(a));
	h = rte_hash_crc_4byte(a[0], lc->seed ^ t->dport);
	if (t->v6) {
		h = rte_hash_crc_4byte(a[1], h);
		h = rte_hash_crc_4byte(a[2], h);
		h = rte_hash_crc_4byte(a[3], h);
	}
	/* the CRC's high bits, folded onto the low ones the slot index takes */
	h ^= h >> 16;
	return (struct sw_learned *)&lc->slot[h & (SW_LEARN_SLOTS - 1)];
}

const struct sw_profile *
sw_learn_lookup(const struct sw_learn_cache *lc, const struct sw_tuple *t)
{
	const struct sw_learned *l = slot_of(lc, t);

	if (!l->used || l->port != t->dport || l->v6 != t->v6 ||
	    memcmp(l->addr, t->dst, t->v6 ? 16 : 4) != 0)
		return NULL;
	return &l->p;
}

void
sw_learn_synack(struct sw_learn_cache *lc, const struct sw_tuple *t,
		const struct sw_profile *base, uint8_t syn_offered,
		const struct sw_tcpopts *sa, uint32_t now_ms)
{
	struct sw_learned *l = slot_of(lc, t);
	struct sw_profile p = *base;

	p.mss = (sa->present & SW_OPT_MSS) ? sa->mss : 536;
	if (syn_offered & SW_OPT_SACKOK)
		p.flags = (uint8_t)((p.flags & ~SW_PROF_SACK) |
				    ((sa->present & SW_OPT_SACKOK) ? SW_PROF_SACK : 0));
	if (syn_offered & SW_OPT_TS)
		p.flags = (uint8_t)((p.flags & ~SW_PROF_TS) |
				    ((sa->present & SW_OPT_TS) ? SW_PROF_TS : 0));
	if (syn_offered & SW_OPT_WS) {
		p.flags = (uint8_t)((p.flags & ~SW_PROF_WS) |
				    ((sa->present & SW_OPT_WS) ? SW_PROF_WS : 0));
		if (sa->present & SW_OPT_WS)
			p.wscale = sa->wscale;
	}
	memset(l, 0, sizeof(*l));
	memcpy(l->addr, t->dst, t->v6 ? 16 : 4);
	l->port = t->dport;
	l->v6 = t->v6;
	l->used = 1;
	l->p = p;
	l->seen_ms = now_ms;
}
