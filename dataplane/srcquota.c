/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>

#include "srcquota.h"

/* Counters per row: the table's slots, rounded up to a power of 2 (at least 64). A full
 * table then puts at most one entry per counter on average. */
static uint32_t
width(uint32_t slots)
{
	return slots <= 64 ? 64 : rte_align32pow2(slots);
}

size_t
sw_srcq_memsize(uint32_t slots)
{
	return (size_t)SW_SRCQ_ROWS * width(slots) * sizeof(uint32_t);
}

void
sw_srcq_init(struct sw_srcquota *q, void *mem, uint32_t slots, uint32_t seed)
{
	uint32_t w = width(slots);

	memset(q, 0, sizeof(*q));
	q->cnt = mem;
	q->mask = w - 1;
	memset(q->cnt, 0, sw_srcq_memsize(slots));
	q->v4_len = SW_SRCQ_V4_DEFAULT;
	q->v6_len = SW_SRCQ_V6_DEFAULT;
	/* a key of the tables' seed until sw_srcq_setup gives a random one */
	q->key.k0 = (uint64_t)seed * 0x9e3779b97f4a7c15ull;
	q->key.k1 = ~q->key.k0 ^ 0x53524351554f5441ull;
}

int
sw_srcq_setup(struct sw_srcquota *q, const struct sw_srcq_params *p)
{
	if (q->live != 0 || p->v4_len < SW_SRCQ_V4_MIN || p->v4_len > 32 ||
	    p->v6_len < SW_SRCQ_V6_MIN || p->v6_len > 128)
		return -1;
	q->key = p->key;
	q->v4_len = p->v4_len;
	q->v6_len = p->v6_len;
	q->limit = p->limit;
	return 0;
}

void
sw_srcq_locate(const struct sw_srcquota *q, int v6, const uint8_t *src,
	       struct sw_srcq_pos *pos)
{
	unsigned int bits = v6 ? q->v6_len : q->v4_len;
	unsigned int n = (bits + 7) / 8;
	uint8_t msg[17];
	uint64_t h;

	/* the family, then the prefix's bytes, its last one cut to the length: a v4 and a v6
	 * prefix never hash alike, nor two prefixes of one address with other lengths */
	msg[0] = v6 ? 6 : 4;
	memcpy(msg + 1, src, n);
	if (bits % 8 != 0)
		msg[n] &= (uint8_t)(0xff00u >> (bits % 8));
	h = sw_siphash24(&q->key, msg, n + 1);
	pos->at[0] = (uint32_t)h & q->mask;
	pos->at[1] = q->mask + 1 + ((uint32_t)(h >> 32) & q->mask);
}

void
sw_srcq_add(struct sw_srcquota *q, int v6, const uint8_t *src)
{
	struct sw_srcq_pos pos;
	unsigned int r;

	sw_srcq_locate(q, v6, src, &pos);
	for (r = 0; r < SW_SRCQ_ROWS; r++)
		q->cnt[pos.at[r]]++;
	q->live++;
}

void
sw_srcq_sub(struct sw_srcquota *q, int v6, const uint8_t *src)
{
	struct sw_srcq_pos pos;
	unsigned int r;

	sw_srcq_locate(q, v6, src, &pos);
	/* Never below 0, should a removal ever not match an insert: a counter that wrapped
	 * would refuse its prefixes for good. sw_srcq_check finds such a removal in tests. */
	for (r = 0; r < SW_SRCQ_ROWS; r++)
		if (q->cnt[pos.at[r]] != 0)
			q->cnt[pos.at[r]]--;
	if (q->live != 0)
		q->live--;
}

int
sw_srcq_check(const struct sw_srcquota *q)
{
	unsigned int r;
	uint32_t i;

	for (r = 0; r < SW_SRCQ_ROWS; r++) {
		uint64_t sum = 0;

		for (i = 0; i <= q->mask; i++)
			sum += q->cnt[(size_t)r * (q->mask + 1) + i];
		if (sum != q->live)
			return -1;
	}
	return 0;
}
