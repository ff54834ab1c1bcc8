/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_prefetch.h>

#include "ctab.h"

static inline size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static inline uint32_t
sig_slots(uint32_t bucketlimit)
{
	return (bucketlimit + 7) & ~7u;
}

/* Where a bucket header's due time goes: after count and fresh, 4-aligned. */
static inline uint32_t
due_off(uint32_t bucketlimit)
{
	return (2 * sig_slots(bucketlimit) + bucketlimit + 2 + 3) & ~3u;
}

/* Bytes of a bucket's header: signatures, order, count, fresh, due; a power of 2 up to 64,
 * else a multiple of 64. */
static uint32_t
meta_stride(uint32_t bucketlimit)
{
	uint32_t need = due_off(bucketlimit) + 4;
	uint32_t s = 8;

	if (need > 64)
		return (uint32_t)align64(need);
	while (s < need)
		s <<= 1;
	return s;
}

static inline size_t
ngroups(uint32_t hashsize)
{
	return (hashsize + (1u << SW_TIMER_GROUP_SHIFT) - 1) >> SW_TIMER_GROUP_SHIFT;
}

static inline size_t
nspans(uint32_t hashsize)
{
	return (hashsize + (1u << SW_TIMER_SPAN_SHIFT) - 1) >> SW_TIMER_SPAN_SHIFT;
}

size_t
sw_ctab_memsize(uint32_t hashsize, uint32_t bucketlimit)
{
	size_t nslots = (size_t)hashsize * bucketlimit;

	return align64(nslots * SW_CTAB_ENTRY_SIZE) +
	       align64((size_t)hashsize * meta_stride(bucketlimit)) +
	       align64(nslots * sizeof(struct sw_v6pair)) +
	       align64(ngroups(hashsize) * sizeof(uint64_t)) +
	       align64(nspans(hashsize) * sizeof(uint64_t)) +
	       align64(sw_srcq_memsize((uint32_t)nslots));
}

int
sw_ctab_init(struct sw_ctab *t, void *mem, uint32_t hashsize, uint32_t bucketlimit,
	     uint32_t seed)
{
	size_t nslots = (size_t)hashsize * bucketlimit;
	uint8_t *p = mem;
	uint32_t b, s;

	if (hashsize == 0 || !rte_is_power_of_2(hashsize) || bucketlimit == 0 ||
	    bucketlimit > 255 || nslots >= SW_CTAB_NIL)
		return -EINVAL;
	t->slots = p;
	p += align64(nslots * SW_CTAB_ENTRY_SIZE);
	t->meta = p;
	t->meta_stride = meta_stride(bucketlimit);
	t->sig_slots = (uint16_t)sig_slots(bucketlimit);
	t->count_off = (uint16_t)(2 * t->sig_slots + bucketlimit);
	p += align64((size_t)hashsize * t->meta_stride);
	t->v6 = (struct sw_v6pair *)p;
	p += align64(nslots * sizeof(struct sw_v6pair));
	t->group_due = (uint64_t *)p;
	p += align64(ngroups(hashsize) * sizeof(uint64_t));
	t->span_due = (uint64_t *)p;
	p += align64(nspans(hashsize) * sizeof(uint64_t));
	sw_srcq_init(&t->srcq, p, (uint32_t)nslots, seed);
	t->due_off = (uint16_t)due_off(bucketlimit);
	t->hashsize = hashsize;
	t->mask = hashsize - 1;
	t->bucketlimit = bucketlimit;
	t->count = 0;
	t->age_head = SW_CTAB_NIL;
	t->age_tail = SW_CTAB_NIL;
	t->seed = seed;
	t->uncounted = 0;
	memset(t->meta, 0, (size_t)hashsize * t->meta_stride);     /* no signatures, count 0 */
	for (b = 0; b < ngroups(hashsize); b++)
		t->group_due[b] = SW_TIMER_NONE;
	for (b = 0; b < nspans(hashsize); b++)
		t->span_due[b] = SW_TIMER_NONE;
	for (b = 0; b < hashsize; b++)
		for (s = 0; s < bucketlimit; s++)
			sw_ctab_order(t, b)[s] = (uint8_t)s;
	return 0;
}

static inline struct sw_ctab_hdr *
slot_hdr(const struct sw_ctab *t, uint32_t idx)
{
	return (struct sw_ctab_hdr *)(t->slots + (size_t)idx * SW_CTAB_ENTRY_SIZE);
}

static inline uint32_t
hdr_idx(const struct sw_ctab *t, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - t->slots) / SW_CTAB_ENTRY_SIZE);
}

uint32_t
sw_ctab_hash(const struct sw_ctab *t, const struct sw_tuple *k)
{
	uint32_t ports = (uint32_t)k->sport << 16 | k->dport;
	uint32_t a, b;

	if (!k->v6) {
		memcpy(&a, k->src, 4);
		memcpy(&b, k->dst, 4);
		return rte_jhash_3words(a, b, ports, t->seed);
	}
	/* rte_jhash reads its key a 32-bit word at a time: the addresses are copied out of
	 * the tuple (2-byte aligned) first. */
	{
		uint32_t src[4], dst[4];

		memcpy(src, k->src, sizeof(src));
		memcpy(dst, k->dst, sizeof(dst));
		a = rte_jhash(src, sizeof(src), t->seed);
		b = rte_jhash(dst, sizeof(dst), a);
	}
	return rte_jhash_1word(ports, b);
}

static inline int
hdr_matches(const struct sw_ctab *t, uint32_t idx, const struct sw_tuple *k)
{
	const struct sw_ctab_hdr *h = slot_hdr(t, idx);

	if (h->sport != k->sport || h->dport != k->dport || h->v6 != k->v6)
		return 0;
	if (!k->v6)
		return memcmp(&h->saddr, k->src, 4) == 0 && memcmp(&h->daddr, k->dst, 4) == 0;
	return memcmp(t->v6[idx].src, k->src, 16) == 0 && memcmp(t->v6[idx].dst, k->dst, 16) == 0;
}

void *
sw_ctab_lookup(const struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash)
{
	uint32_t b = hash & t->mask;
	const uint16_t *sigs = sw_ctab_sigs(t, b);
	uint16_t sig = sw_ctab_sig(hash);
	uint32_t c;

	/* Only the entries with the key's signature are compared (free slots have none). */
	for (c = 0; c < t->sig_slots; c += 8) {
		uint32_t m = sw_ctab_sig_match8(sigs + c, sig);

		while (m != 0) {
			uint32_t idx = b * t->bucketlimit + c + (uint32_t)__builtin_ctz(m);

			m &= m - 1;
			if (hdr_matches(t, idx, k))
				return slot_hdr(t, idx);
		}
	}
	return NULL;
}

static void
age_unlink(struct sw_ctab *t, uint32_t idx)
{
	struct sw_ctab_hdr *h = slot_hdr(t, idx);

	if (h->age_prev != SW_CTAB_NIL)
		slot_hdr(t, h->age_prev)->age_next = h->age_next;
	else
		t->age_head = h->age_next;
	if (h->age_next != SW_CTAB_NIL)
		slot_hdr(t, h->age_next)->age_prev = h->age_prev;
	else
		t->age_tail = h->age_prev;
}

static void
age_append(struct sw_ctab *t, uint32_t idx)
{
	struct sw_ctab_hdr *h = slot_hdr(t, idx);

	h->age_prev = t->age_tail;
	h->age_next = SW_CTAB_NIL;
	if (t->age_tail != SW_CTAB_NIL)
		slot_hdr(t, t->age_tail)->age_next = idx;
	else
		t->age_head = idx;
	t->age_tail = idx;
}

void
sw_ctab_remove(struct sw_ctab *t, void *e)
{
	uint32_t idx = hdr_idx(t, e);
	uint32_t b = idx / t->bucketlimit;
	uint8_t slot = (uint8_t)(idx % t->bucketlimit);
	uint8_t *ord = sw_ctab_order(t, b);
	uint8_t *cnt = sw_ctab_meta(t, b) + t->count_off;
	uint32_t n = *cnt;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (ord[i] == slot)
			break;
	if (i == n)
		return;                 /* not live: nothing to do */
	if (i >= n - cnt[1])
		cnt[1]--;               /* it was fresh: the rest of them are still the newest */
	/* Keep the live part in age order; the freed slot goes first in the free part. */
	memmove(ord + i, ord + i + 1, n - i - 1);
	ord[n - 1] = slot;
	*cnt = (uint8_t)(n - 1);
	sw_ctab_sigs(t, b)[slot] = 0;
	age_unlink(t, idx);
	t->count--;
	if (t->uncounted == 0 || slot_hdr(t, idx)->user[0] != t->uncounted)
		sw_srcq_sub(&t->srcq, slot_hdr(t, idx)->v6, sw_ctab_src(t, e));
}

void *
sw_ctab_insert(struct sw_ctab *t, const struct sw_tuple *k, uint32_t hash, uint32_t limit,
	       unsigned int *evicted, void *evict_out)
{
	uint32_t b = hash & t->mask;
	uint8_t *ord = sw_ctab_order(t, b);
	uint8_t *cnt = sw_ctab_meta(t, b) + t->count_off;
	struct sw_ctab_hdr *h;
	uint32_t idx;

	*evicted = 0;
	if (*cnt >= t->bucketlimit) {
		h = slot_hdr(t, b * t->bucketlimit + ord[0]);
		if (evict_out != NULL)
			memcpy(evict_out, h, SW_CTAB_ENTRY_SIZE);
		sw_ctab_remove(t, h);
		*evicted = SW_CTAB_EVICT_BUCKET;
	} else if (t->count >= limit && t->age_head != SW_CTAB_NIL) {
		unsigned int n = 0;

		h = slot_hdr(t, t->age_head);
		if (evict_out != NULL)
			memcpy(evict_out, h, SW_CTAB_ENTRY_SIZE);
		/* Normally one goes. After the limit was lowered at run time, a few more each
		 * time, so that the table shrinks to it without one insert paying for all. */
		do {
			sw_ctab_remove(t, slot_hdr(t, t->age_head));
		} while (++n < SW_CTAB_SHRINK_STEP && t->count >= limit &&
			 t->age_head != SW_CTAB_NIL);
		*evicted = SW_CTAB_EVICT_CACHE;
	}

	idx = b * t->bucketlimit + ord[*cnt];
	sw_ctab_sigs(t, b)[ord[*cnt]] = sw_ctab_sig(hash);
	(*cnt)++;
	cnt[1]++;               /* fresh: its due time is not known yet */
	/* The sweep is to look at it. Two stores, never read here, so the CPU does not wait
	 * for them: one line of group bounds serves 128 buckets. */
	t->group_due[b >> SW_TIMER_GROUP_SHIFT] = 0;
	t->span_due[b >> SW_TIMER_SPAN_SHIFT] = 0;
	t->count++;
	h = slot_hdr(t, idx);
	memset(h, 0, SW_CTAB_ENTRY_SIZE);
	h->sport = k->sport;
	h->dport = k->dport;
	h->v6 = k->v6;
	if (!k->v6) {
		memcpy(&h->saddr, k->src, 4);
		memcpy(&h->daddr, k->dst, 4);
	} else {
		memcpy(t->v6[idx].src, k->src, 16);
		memcpy(t->v6[idx].dst, k->dst, 16);
	}
	age_append(t, idx);
	sw_srcq_add(&t->srcq, k->v6, k->src);
	return h;
}

void
sw_ctab_touch(struct sw_ctab *t, void *e)
{
	uint32_t idx = hdr_idx(t, e);

	if (t->age_tail == idx)
		return;
	age_unlink(t, idx);
	age_append(t, idx);
}

void *
sw_ctab_oldest(const struct sw_ctab *t)
{
	return t->age_head == SW_CTAB_NIL ? NULL : slot_hdr(t, t->age_head);
}

void
sw_ctab_tuple(const struct sw_ctab *t, const void *e, struct sw_tuple *out)
{
	const struct sw_ctab_hdr *h = e;
	uint32_t idx = hdr_idx(t, e);

	memset(out, 0, sizeof(*out));
	out->v6 = h->v6;
	out->sport = h->sport;
	out->dport = h->dport;
	if (!h->v6) {
		memcpy(out->src, &h->saddr, 4);
		memcpy(out->dst, &h->daddr, 4);
	} else {
		memcpy(out->src, t->v6[idx].src, 16);
		memcpy(out->dst, t->v6[idx].dst, 16);
	}
}
