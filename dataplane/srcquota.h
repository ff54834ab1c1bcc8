/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Entries per source prefix, for one table of one lcore (the syncache's, the flow table's):
 * how many a client's prefix (its address cut to --source-prefix) holds, so that one source
 * cannot take the table, and so that eviction takes from the heaviest source first.
 *
 * A count-min sketch: SW_SRCQ_ROWS rows of `mask + 1` counters (at least the table's
 * slots, a power of 2), allocated with the table; a prefix adds one to one counter of each
 * row on an insert and takes it back on every removal (ctab.c does both, so no path is
 * missed), and its count is the least of its counters. Collisions only ever add: a count is
 * never below the truth, and it is exact unless every row's counter is shared with
 * another prefix. Each row's counter is a multiply-add-shift hash of the prefix's 32-bit
 * words under random 64-bit multipliers of its own (Dietzfelbinger's multilinear family:
 * two given prefixes share a row's counter with probability at most 2 / width over the
 * keys), drawn per lcore from a SipHash key: a client cannot choose addresses that collide
 * with someone else's (CRC or jhash with a known structure would let it aim, and push a
 * victim over its quota), and an insert costs a few multiplies, not a SipHash, on the SYN
 * path. The key and prefix lengths are fixed while anything is counted (sw_srcq_setup
 * refuses otherwise): a removal must find the counters its insert took.
 */
#ifndef SW_SRCQUOTA_H
#define SW_SRCQUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "siphash.h"

#define SW_SRCQ_ROWS 2
/* The prefix lengths --source-prefix takes, and the defaults: an IPv4 address is one
 * source (a carrier NAT is one address), an IPv6 one its /64 (what one subscriber gets). */
#define SW_SRCQ_V4_MIN      8u
#define SW_SRCQ_V4_DEFAULT  32u
#define SW_SRCQ_V6_MIN      16u
#define SW_SRCQ_V6_DEFAULT  64u

struct sw_srcq_params {
	struct sw_sipkey key;
	uint8_t v4_len;         /* SW_SRCQ_V4_MIN..32 */
	uint8_t v6_len;         /* SW_SRCQ_V6_MIN..128 */
	uint32_t limit;         /* entries a prefix may hold; 0: any number (no quota) */
};

/* The owner's (its lcore's) only. */
struct sw_srcquota {
	uint32_t *cnt;          /* SW_SRCQ_ROWS rows of mask + 1 counters, row after row */
	uint32_t mask;
	uint32_t limit;         /* as sw_srcq_params */
	uint32_t live;          /* entries counted: every row sums to this */
	uint8_t v4_len;
	uint8_t v6_len;
	struct sw_sipkey key;
	/* per row: the multipliers of the prefix's words, and the added constant of each
	 * family (so that an IPv4 and an IPv6 prefix never hash alike but by chance) */
	uint64_t mul[SW_SRCQ_ROWS][4];
	uint64_t add[SW_SRCQ_ROWS][2];
	/* the prefix lengths as masks of host-order words: IPv4's, IPv6's four */
	uint32_t mask4;
	uint32_t mask6[4];
};

/* Where a prefix's counters are: one per row. */
struct sw_srcq_pos {
	uint32_t at[SW_SRCQ_ROWS];
};

/* Bytes of counters for a table of `slots` entries (64-byte multiple). */
size_t sw_srcq_memsize(uint32_t slots);
/* mem: sw_srcq_memsize(slots) bytes. Counts from now on with the defaults (a key made from
 * seed, /32 and /64, no quota) until sw_srcq_setup. */
void sw_srcq_init(struct sw_srcquota *q, void *mem, uint32_t slots, uint32_t seed);
/* The key, prefix lengths and quota; -1 (nothing changed) while entries are counted or when
 * a length is out of range. */
int sw_srcq_setup(struct sw_srcquota *q, const struct sw_srcq_params *p);

/* The counters of the prefix of source address src (4 bytes, or 16 with v6): on every SYN
 * that keeps an entry and every insert and removal, so inline and a multiply a word a row. */
static inline void
sw_srcq_locate(const struct sw_srcquota *q, int v6, const uint8_t *src,
	       struct sw_srcq_pos *pos)
{
	uint64_t h[SW_SRCQ_ROWS];
	unsigned int r, i;
	uint32_t w;

	for (r = 0; r < SW_SRCQ_ROWS; r++)
		h[r] = q->add[r][v6 ? 1 : 0];
	for (i = 0; i < (v6 ? 4u : 1u); i++) {
		memcpy(&w, src + 4 * i, 4);
		w = rte_be_to_cpu_32(w) & (v6 ? q->mask6[i] : q->mask4);
		for (r = 0; r < SW_SRCQ_ROWS; r++)
			h[r] += q->mul[r][i] * w;
	}
	/* the high bits are the well-mixed ones */
	for (r = 0; r < SW_SRCQ_ROWS; r++)
		pos->at[r] = r * (q->mask + 1) + ((uint32_t)(h[r] >> 32) & q->mask);
}

static inline uint32_t
sw_srcq_count_at(const struct sw_srcquota *q, const struct sw_srcq_pos *pos)
{
	uint32_t a = q->cnt[pos->at[0]], b = q->cnt[pos->at[1]];

	return a < b ? a : b;
}

/* Entries the prefix of src holds (never fewer than it does). */
static inline uint32_t
sw_srcq_count(const struct sw_srcquota *q, int v6, const uint8_t *src)
{
	struct sw_srcq_pos pos;

	sw_srcq_locate(q, v6, src, &pos);
	return sw_srcq_count_at(q, &pos);
}

/* Does the prefix of src hold its quota already (no entry more for it)? */
static inline bool
sw_srcq_full(const struct sw_srcquota *q, int v6, const uint8_t *src)
{
	return q->limit != 0 && sw_srcq_count(q, v6, src) >= q->limit;
}

/* An entry of src's prefix was inserted / removed (ctab.c). */
void sw_srcq_add(struct sw_srcquota *q, int v6, const uint8_t *src);
void sw_srcq_sub(struct sw_srcquota *q, int v6, const uint8_t *src);

/* Tests: 0 when every row sums to `live` (no counter was lost or taken twice). */
int sw_srcq_check(const struct sw_srcquota *q);

#endif
