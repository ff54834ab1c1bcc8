/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source table: what each source prefix (a client's address cut to --source-prefix) has
 * done lately on one worker lcore, for the source limits and the top talkers.
 *
 * Two token buckets per prefix, each a GCRA (the virtual-scheduling form of a token bucket:
 * one theoretical arrival time per bucket, no refill step): its SYNs (syn_rate, syn_burst)
 * and the SYN-ACKs and retransmits sent towards it (reflect_rate, reflect_burst: the most a
 * spoofed flood can make synwall reflect at the owner of the address). Each worker keeps its
 * share of the rates (a source's connections spread over the workers by RSS's hash of their
 * ports), so the buckets need no lock. And counts for the top talkers: SYNs, those over the
 * rate, failed cookies, completed connections, SYN-ACKs not sent for the cap.
 *
 * Bounded, whatever the number of sources: sets of SW_SRCT_WAYS entries, a prefix's set by a
 * keyed hash of it (multilinear under random multipliers of the lcore's own, as srcquota.h:
 * a client cannot aim its addresses at someone else's set). A set's tags and eviction
 * scores share one cache line, so that a lookup, hit or miss, reads one line before the
 * entry's. A new prefix takes an empty way, or else the way whose buckets are the fullest
 * (the earliest score: when both buckets are full again): a prefix that is being held to
 * its rate is never the one to go while a flood of one-off sources passes through its set,
 * as each of those is one SYN, one interval, past its arrival, and the held one a burst
 * ahead. With no limit set, the buckets still run at a nominal rate of SW_SRCT_NOMINAL_MS
 * per SYN, up to SW_SRCT_HORIZON_MS ahead, so that the busiest prefixes stay.
 */
#ifndef SW_SRCTAB_H
#define SW_SRCTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "siphash.h"

#define SW_SRCT_WAYS        8u
#define SW_SRCT_MIN         64u
#define SW_SRCT_MAX         (1u << 24)
#define SW_SRCT_DEFAULT     65536u
/* with no limit: what a SYN or SYN-ACK adds to its bucket's time, and the most it is ahead */
#define SW_SRCT_NOMINAL_MS  1u
#define SW_SRCT_HORIZON_MS  1000u
#define SW_SRCT_NS_PER_MS   1000000ull
#define SW_SRCT_SCORE_SHIFT 20
/* the rates and bursts the limits take (SYNs or SYN-ACKs a second) */
#define SW_SRCT_RATE_MAX    100000000u
/* with no limit set, one SYN and one failed cookie in this many are counted, each as this
 * many (a power of 2) */
#define SW_SRCT_SAMPLE      16u

/* One set's tags (0: an empty way) and eviction scores (when the way's buckets are both full
 * again, in units of 2^20 ns, about a millisecond: a shift of the buckets' times; low 32
 * bits). One cache line. */
struct sw_srct_set {
	uint32_t tag[SW_SRCT_WAYS];
	uint32_t score[SW_SRCT_WAYS];
} __rte_aligned(64);

/* One prefix. One cache line. Written by its worker only; the control thread reads the
 * counts while they change (a top-talker list is a snapshot of moving counts). */
struct sw_srct_entry {
	uint8_t key[16];        /* the prefix, network order, bits past its length 0; IPv4
				 * in the first 4 bytes, the rest 0 */
	uint8_t v6;
	uint8_t len;
	uint16_t pad0;
	uint32_t last_ms;       /* its last SYN, ACK or connection (low 32 bits) */
	uint64_t syn_tat;       /* ns: when its SYN bucket is full again */
	uint64_t ack_tat;       /* ns: when its SYN-ACK bucket is */
	uint32_t syns;
	uint32_t syns_limited;
	uint32_t bad_cookies;
	uint32_t flows;
	uint32_t synacks_capped;
	uint32_t pad1;
};

/* A bucket of a limit: its emission interval and how far ahead it may run (ns; t 0: no
 * limit, the nominal rate). */
struct sw_srct_bucket {
	uint64_t t;
	uint64_t tau;
};

struct sw_srctab {
	struct sw_srct_set *sets;       /* NULL: no table (--source-table 0) */
	struct sw_srct_entry *ent;      /* [set * SW_SRCT_WAYS + way] */
	uint32_t mask;                  /* sets - 1 */
	uint8_t v4_len, v6_len;
	/* the hash: multipliers of the prefix's words, and a constant per family */
	uint64_t mul[4];
	uint64_t add[2];
	uint32_t mask4;
	uint32_t mask6[4];
	uint32_t sample;                /* events seen, for one in SW_SRCT_SAMPLE */
	/* this worker's share of the limits of the configuration whose version is `version` */
	uint64_t version;
	struct sw_srct_bucket syn, ack;
};

/* Bytes of `entries` entries (a power of 2, SW_SRCT_MIN..SW_SRCT_MAX) and their sets. */
size_t sw_srct_memsize(uint32_t entries);
/* mem: sw_srct_memsize(entries) bytes, zeroed, 64-byte aligned; key: the lcore's own.
 * Returns 0, or -1 when entries or a length is out of range. */
int sw_srct_init(struct sw_srctab *st, void *mem, uint32_t entries, const struct sw_sipkey *key,
		 uint8_t v4_len, uint8_t v6_len);

/* This worker's share (of nworkers) of rate a second with burst (0: the rate) at once. */
void sw_srct_bucket_of(struct sw_srct_bucket *b, uint32_t rate, uint32_t burst,
		       unsigned int nworkers);
/* The limits of a configuration: its version and its rates (0: none). */
void sw_srct_configure(struct sw_srctab *st, uint64_t version, uint32_t syn_rate,
		       uint32_t syn_burst, uint32_t reflect_rate, uint32_t reflect_burst,
		       unsigned int nworkers);

/* The prefix of src (4 bytes, or 16 with v6) as the table keys it, and its hash. */
static inline uint64_t
sw_srct_key(const struct sw_srctab *st, int v6, const uint8_t *src, uint8_t key[16])
{
	uint64_t h = st->add[v6 ? 1 : 0];
	unsigned int i;
	uint32_t w;

	memset(key, 0, 16);
	for (i = 0; i < (v6 ? 4u : 1u); i++) {
		memcpy(&w, src + 4 * i, 4);
		w = rte_be_to_cpu_32(w) & (v6 ? st->mask6[i] : st->mask4);
		h += st->mul[i] * w;
		w = rte_cpu_to_be_32(w);
		memcpy(key + 4 * i, &w, 4);
	}
	/* a multilinear hash's low bits are its weak ones: mixed into the high ones */
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

/* The ways of set whose tag is tag, a bit each (SSE2: two compares of four tags). */
static inline uint32_t
sw_srct_match(const struct sw_srct_set *set, uint32_t tag)
{
#ifdef __SSE2__
	__m128i t = _mm_set1_epi32((int)tag);
	__m128i a = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)set->tag), t);
	__m128i b = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)
						   (set->tag + 4)), t);

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(a)) |
	       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(b)) << 4;
#else
	uint32_t m = 0;
	unsigned int w;

	for (w = 0; w < SW_SRCT_WAYS; w++)
		m |= (uint32_t)(set->tag[w] == tag) << w;
	return m;
#endif
}

/* Is this the one event in SW_SRCT_SAMPLE to count? */
static inline bool
sw_srct_sampled(struct sw_srctab *st)
{
	return (++st->sample & (SW_SRCT_SAMPLE - 1)) == 0;
}

/* Create or find the entry of the prefix `key` (of sw_srct_key, which gave hash) at now_ms.
 * *evicted: 1 when another prefix's entry made way for it. */
struct sw_srct_entry *sw_srct_get_keyed(struct sw_srctab *st, int v6, const uint8_t key[16],
					uint64_t hash, uint64_t now_ms, int *evicted);

/* The same from the address. */
static inline struct sw_srct_entry *
sw_srct_get(struct sw_srctab *st, int v6, const uint8_t *src, uint64_t now_ms, int *evicted)
{
	uint8_t key[16];
	uint64_t h = sw_srct_key(st, v6, src, key);

	return sw_srct_get_keyed(st, v6, key, h, now_ms, evicted);
}

/* A burst's passes: the set of hash on its way into the cache, then (a pass later, the set
 * there) the entries whose tag matches. */
static inline void
sw_srct_prefetch_set(const struct sw_srctab *st, uint64_t hash)
{
	rte_prefetch0(&st->sets[(uint32_t)hash & st->mask]);
}

static inline void
sw_srct_prefetch_entry(const struct sw_srctab *st, uint64_t hash)
{
	uint32_t s = (uint32_t)hash & st->mask;
	uint32_t m = sw_srct_match(&st->sets[s], (uint32_t)(hash >> 32) | 1);

	if (m != 0)
		rte_prefetch0(&st->ent[s * SW_SRCT_WAYS + (uint32_t)__builtin_ctz(m)]);
}

/* The entry's set and way, to update its score. */
static inline uint32_t
sw_srct_slot(const struct sw_srctab *st, const struct sw_srct_entry *e)
{
	return (uint32_t)(e - st->ent);
}

/* A time of the workers' clock as a score. */
static inline uint32_t
sw_srct_score_now(uint64_t now_ms)
{
	return (uint32_t)((now_ms * SW_SRCT_NS_PER_MS) >> SW_SRCT_SCORE_SHIFT);
}

/* ns -> a score, no more than 2^30 units ahead of now (so that it compares wrapped) */
static inline uint32_t
sw_srct_score_of(uint64_t tat_ns, uint64_t now_ms)
{
	uint64_t now = (now_ms * SW_SRCT_NS_PER_MS) >> SW_SRCT_SCORE_SHIFT;

	return (uint32_t)RTE_MIN(tat_ns >> SW_SRCT_SCORE_SHIFT, now + (1ull << 30));
}

/* One more packet in bucket b whose time is *tat, at now_ms: true if it conforms (and is
 * counted), false if it is over the limit (and is not). */
static inline bool
sw_srct_take(const struct sw_srct_bucket *b, uint64_t *tat, uint64_t now_ms)
{
	uint64_t now = now_ms * SW_SRCT_NS_PER_MS;
	uint64_t at = RTE_MAX(*tat, now);

	if (b->t == 0) {
		*tat = RTE_MIN(at + SW_SRCT_NOMINAL_MS * SW_SRCT_NS_PER_MS,
			       now + SW_SRCT_HORIZON_MS * SW_SRCT_NS_PER_MS);
		return true;
	}
	if (at - now > b->tau)
		return false;
	*tat = at + b->t;
	return true;
}

/* The entry's score after its buckets changed. */
static inline void
sw_srct_rescore(struct sw_srctab *st, const struct sw_srct_entry *e, uint64_t now_ms)
{
	uint32_t i = sw_srct_slot(st, e);

	st->sets[i / SW_SRCT_WAYS].score[i % SW_SRCT_WAYS] =
		sw_srct_score_of(RTE_MAX(e->syn_tat, e->ack_tat), now_ms);
}

/* A SYN of the entry's prefix: counted; true if within syn_rate. */
static inline bool
sw_srct_syn(struct sw_srctab *st, struct sw_srct_entry *e, uint64_t now_ms)
{
	bool ok = sw_srct_take(&st->syn, &e->syn_tat, now_ms);

	e->syns++;
	if (!ok)
		e->syns_limited++;
	sw_srct_rescore(st, e, now_ms);
	return ok;
}

/* A SYN of the entry's prefix (counted as `weight` SYNs: one, or a sample's) and the
 * SYN-ACK that answers it, one score for both: 0 if both are within their rates (both
 * counted), 1 if the SYN is over syn_rate, 2 if the SYN-ACK over reflect_rate. */
static inline int
sw_srct_syn_synack(struct sw_srctab *st, struct sw_srct_entry *e, uint64_t now_ms,
		   uint32_t weight)
{
	int rc = 0;

	e->syns += weight;
	if (likely((st->syn.t | st->ack.t) == 0)) {
		/* no limit: only the SYN bucket, at the nominal rate (the SYN-ACK one is never
		 * ahead of it then), and its time is the score */
		uint64_t now = now_ms * SW_SRCT_NS_PER_MS;
		uint32_t i = sw_srct_slot(st, e);

		e->syn_tat = RTE_MIN(RTE_MAX(e->syn_tat, now) +
				     weight * SW_SRCT_NOMINAL_MS * SW_SRCT_NS_PER_MS,
				     now + SW_SRCT_HORIZON_MS * SW_SRCT_NS_PER_MS);
		st->sets[i / SW_SRCT_WAYS].score[i % SW_SRCT_WAYS] =
			(uint32_t)(e->syn_tat >> SW_SRCT_SCORE_SHIFT);
		return 0;
	}
	if (!sw_srct_take(&st->syn, &e->syn_tat, now_ms)) {
		e->syns_limited++;
		rc = 1;
	} else if (!sw_srct_take(&st->ack, &e->ack_tat, now_ms)) {
		e->synacks_capped++;
		rc = 2;
	}
	sw_srct_rescore(st, e, now_ms);
	return rc;
}

/* A SYN-ACK towards the entry's prefix: true if within reflect_rate (counted), false if it is
 * not to be sent. */
static inline bool
sw_srct_synack(struct sw_srctab *st, struct sw_srct_entry *e, uint64_t now_ms)
{
	bool ok = sw_srct_take(&st->ack, &e->ack_tat, now_ms);

	if (!ok)
		e->synacks_capped++;
	sw_srct_rescore(st, e, now_ms);
	return ok;
}

/* ---- the control thread's view: the top talkers ---- */

enum sw_srct_by {
	SW_SRCT_BY_SYNS = 0,
	SW_SRCT_BY_BAD_COOKIES,
	SW_SRCT_BY_FLOWS,
	SW_SRCT_BY_SYNS_LIMITED,
	SW_SRCT_BY_SYNACKS_CAPPED,
};

/* One prefix's counts, summed over the tables that hold it. */
struct sw_srct_talker {
	uint8_t key[16];
	uint8_t v6;
	uint8_t len;
	uint64_t syns, syns_limited, bad_cookies, flows, synacks_capped;
	uint64_t idle_ms;       /* the least over the tables */
	uint64_t weight;        /* the count the list is ordered by */
};

/* What sw_srct_top keeps of each table before it merges them, at most. */
#define SW_SRCT_TOP_KEEP 4096u

/*
 * The heaviest prefixes by `by` of the tables[0..n) at now_ms: at most max of them into
 * out, heaviest first (among equals, by prefix), prefixes with nothing of `by` left out.
 * Each table's 4 x max heaviest (SW_SRCT_TOP_KEEP at most) are merged, a prefix on several
 * summed over those it is among the heaviest of: memory and time bounded by what is asked,
 * not by the tables. Returns how many, or -1 when memory for the merge is short. Reads
 * tables their workers are writing: each entry is copied once and its counts taken as they
 * were.
 */
int sw_srct_top(const struct sw_srctab *const *tables, unsigned int n, enum sw_srct_by by,
		uint64_t now_ms, struct sw_srct_talker *out, unsigned int max);

#endif
