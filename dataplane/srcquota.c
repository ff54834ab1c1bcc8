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

/* A mask of the first `bits` bits of a 32-bit word (bits may be past it, or 0). */
static uint32_t
lead_mask(int bits)
{
	if (bits <= 0)
		return 0;
	return bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
}

/* The rows' multipliers and constants from the key, the masks from the lengths. */
static void
derive(struct sw_srcquota *q)
{
	unsigned int r, i;
	uint8_t msg[2];

	q->mask4 = lead_mask(q->v4_len);
	for (i = 0; i < 4; i++)
		q->mask6[i] = lead_mask((int)q->v6_len - 32 * (int)i);
	for (r = 0; r < SW_SRCQ_ROWS; r++) {
		for (i = 0; i < 6; i++) {
			uint64_t v;

			msg[0] = (uint8_t)r;
			msg[1] = (uint8_t)i;
			v = sw_siphash24(&q->key, msg, sizeof(msg));
			if (i < 4)
				q->mul[r][i] = v | 1;
			else
				q->add[r][i - 4] = v;
		}
	}
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
	derive(q);
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
	derive(q);
	q->limit = p->limit;
	return 0;
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
