/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_hash_crc.h>

#include "profile.h"

static inline struct sw_learned *
slot_of(const struct sw_learn_table *lt, const struct sw_tuple *t)
{
	uint32_t a[4], h;

	/* Every SYN looks its server up: a CRC32C (one instruction per word with SSE4.2) is
	 * enough here. The keys are the protected servers' own addresses, not ones a client
	 * picks, and a collision only makes two servers share a slot (re-learned). */
	memcpy(a, t->dst, sizeof(a));
	h = rte_hash_crc_4byte(a[0], lt->seed ^ t->dport);
	if (t->v6) {
		h = rte_hash_crc_4byte(a[1], h);
		h = rte_hash_crc_4byte(a[2], h);
		h = rte_hash_crc_4byte(a[3], h);
	}
	/* the CRC's high bits, folded onto the low ones the slot index takes */
	h ^= h >> 16;
	return (struct sw_learned *)&lt->slot[h & (SW_LEARN_SLOTS - 1)];
}

static inline bool
is_of(const struct sw_learned *l, const struct sw_tuple *t)
{
	/* each length a constant: compared inline, not by a call to memcmp */
	return l->used && l->port == t->dport && l->v6 == t->v6 &&
	       (t->v6 ? memcmp(l->addr, t->dst, 16) : memcmp(l->addr, t->dst, 4)) == 0;
}

/* A consistent copy of the slot of t's server, if it has one and is not aged. */
static inline bool
read_slot(const struct sw_learned *l, const struct sw_tuple *t, uint32_t now_ms,
	  struct sw_learned *copy)
{
	uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return false;
	memcpy(copy, l, sizeof(*copy));
	/* the copy's loads before the second read of seq */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&l->seq, __ATOMIC_RELAXED) == seq && is_of(copy, t) &&
	       now_ms - copy->seen_ms <= SW_LEARN_MAX_AGE_MS;
}

#define PROF_OPTS (SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS)

void
sw_learn_adopt(struct sw_learn_table *lt)
{
	unsigned int i;

	for (i = 0; i < SW_LEARN_SLOTS; i++) {
		struct sw_learned *s = &lt->slot[i];

		if (s->seq & 1) {
			s->used = 0;
			s->seq++;
		}
	}
}

bool
sw_learn_lookup(const struct sw_learn_table *lt, const struct sw_tuple *t, uint32_t now_ms,
		const struct sw_profile *port, struct sw_profile *out)
{
	struct sw_learned copy;
	uint8_t back;

	if (!read_slot(slot_of(lt, t), t, now_ms, &copy))
		return false;
	*out = copy.p;
	if (now_ms - copy.off_ms > SW_LEARN_REPROBE_MS) {
		back = (uint8_t)(port->flags & PROF_OPTS & ~out->flags);
		out->flags |= back;
		if (back & SW_PROF_WS)
			out->wscale = port->wscale;
	}
	return true;
}

void
sw_learn_synack(struct sw_learn_table *lt, const struct sw_tuple *t,
		const struct sw_profile *base, uint8_t syn_offered,
		const struct sw_tcpopts *sa, uint32_t now_ms)
{
	struct sw_learned *l = slot_of(lt, t);
	struct sw_profile p = *base;
	struct sw_learned had;
	uint32_t seq, mss_ms = now_ms, off_ms = now_ms;
	bool known, off_seen;

	p.mss = (sa->present & SW_OPT_MSS) ? sa->mss : SW_TCP_DEFAULT_MSS;
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
	/* an option our SYN offered that the SYN-ACK does not have: seen off */
	off_seen = ((syn_offered & SW_OPT_SACKOK) && !(sa->present & SW_OPT_SACKOK)) ||
		   ((syn_offered & SW_OPT_TS) && !(sa->present & SW_OPT_TS)) ||
		   ((syn_offered & SW_OPT_WS) && !(sa->present & SW_OPT_WS));
	known = read_slot(l, t, now_ms, &had);
	if (known && !off_seen)
		off_ms = had.off_ms;
	/* a smaller MSS seen lately stands */
	if (known && p.mss > had.p.mss && now_ms - had.mss_ms < SW_LEARN_MAX_AGE_MS) {
		p.mss = had.p.mss;
		mss_ms = had.mss_ms;
	}
	/* nothing new, and said recently: no write to the shared line */
	if (known && memcmp(&had.p, &p, sizeof(p)) == 0 &&
	    now_ms - had.seen_ms < SW_LEARN_REFRESH_MS)
		return;
	seq = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&l->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;         /* another lcore is writing it: its SYN-ACK is as good */
	/* the odd seq before the fields (readers that see a field changed see seq changed) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	l->seen_ms = now_ms;
	l->mss_ms = mss_ms;
	l->off_ms = off_ms;
	memset(l->addr, 0, sizeof(l->addr));
	memcpy(l->addr, t->dst, t->v6 ? 16 : 4);
	l->port = t->dport;
	l->v6 = t->v6;
	l->used = 1;
	l->p = p;
	__atomic_store_n(&l->seq, seq + 2, __ATOMIC_RELEASE);
}
