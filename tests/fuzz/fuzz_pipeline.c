/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of a worker's per-packet logic without EAL (docs/FUZZING.md): the
 * pipeline's bursts (sw_outside_burst, sw_inside_burst) and the timers (sw_synack_timer,
 * sw_flow_timer through the table sweeps), on the unit tests' fake lcore (fake_dp.h) with
 * this file's own mbufs and sink, rounds run in the worker's order (worker.c).
 *
 * The input: a 9-byte header (limits, table sizes down to a flow table of 12, source
 * quotas, the source table and its limits, which ports offload TX checksums, policy details, the SipHash implementation) and
 * then operations, each one worker round or more: an outside burst, an inside burst, both, a
 * step of the clock, a port's change of mode, a limit's change at run time (cachelimit,
 * syncookies), failing allocations. A frame is its bytes and a control byte: fix its
 * checksums, number it relative to the conversation it belongs to (so that an ACK can carry
 * the cookie of the SYN-ACK sent for it, a server SYN-ACK answer the server SYN, data follow
 * both), echo the timestamps, repeat the previous frame from the next client (address, or
 * port), answer from synwall's state (an ACK with the cookie its tuple and ISN get, a server
 * SYN-ACK acknowledging its flow's server SYN: floods that fill the tables), the NIC's
 * checksum verdict.
 *
 * Each mbuf's buffer is a real mbuf's size (headroom, 2048 bytes of room) of which only the
 * frame is addressable: the rest is poisoned for AddressSanitizer and filled with a pattern.
 * The segment writers (sw_mbuf_write_seg, and sw_mbuf_synack over the SYN's own frame) and
 * the splice's server side (sw_proxy_to_client, which may move the frame's start) are
 * wrapped (-Wl,--wrap) so that they may write exactly the frame they make. After every round:
 *  - every mbuf given back once (sent or freed), none kept: no leak, no double free; each
 *    in one piece within its buffer, no byte outside what was ever its frame written;
 *  - a frame forwarded unchanged, or changed only as a splice may: a frame of a port with no
 *    flows, of no TCP and no ICMP, byte for byte; a translated segment with its addresses,
 *    ports, flags and payload, and the ones'-complement sums of its IPv4 header and TCP
 *    segment as they were (a right checksum stays right, a wrong one as wrong); a
 *    translated ICMP error with only the quoted sequence number and the checksum changed;
 *  - a checksum offload asked only for synwall's own segments and only of a port that
 *    offloads, and asked right: the flags of the frame's IP version, l2_len and l3_len its
 *    headers', the IPv4 checksum 0, the TCP one the pseudo-header's sum (DPDK's
 *    rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum); then done here as the NIC would, before
 *    the checks below;
 *  - every segment synwall wrote: parses, exactly the frame's length, both checksums right
 *    by this file's own sum; a SYN-ACK's ISS a valid cookie (sw_cookie_check under the
 *    fake's keys); an ICMP error of synwall's (sw_icmp_too_big, also wrapped) whole, its
 *    checksums right, from the server to the client, quoting the client's segment as it
 *    came;
 *  - nothing to a protected port leaves the inside port without its flow (or the port's
 *    adoption window, or a flow that ended in the same round); a server SYN only for an ACK
 *    whose cookie is valid (a syncache entry's ISS is a cookie too); nothing from a
 *    protected port leaves the outside port without its flow;
 *  - every frame counted once: the counters each burst moved say exactly how many of its
 *    frames were dropped, sent out of each port (docs/FUZZING.md has the table); every
 *    failed allocation is one port.nombuf;
 *  - both tables consistent, after every burst too: counts, bucket permutations and
 *    signatures, every entry in one of its buckets and found by a lookup, the age list
 *    whole, the per-source counts those of the entries and no source over its quota, no
 *    table over its limit (a syncache whose cachelimit was lowered: never growing until
 *    it is down to it).
 */
#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "fake_dp.h"
#include "fuzz_util.h"
#include "pipeline.h"
#include "proxy.h"
#include "segment.h"
#include "siphash.h"
#include "splice.h"
#include "syn.h"
#include "tcpout.h"

#define BUF_LEN         (RTE_PKTMBUF_HEADROOM + 2048)
#define MAX_FRAME       2048
#define MAX_OPS         96
#define MAX_FRAMES      600
#define MAX_MBUFS       1024
#define POISON          0xa5
#define NCONV           16

/* ---- mbufs ---- */

enum hm_from { FROM_OUTSIDE, FROM_INSIDE, FROM_ALLOC };
enum hm_state { HM_LIVE, HM_SENT, HM_FREED };

struct hm {
	struct rte_mbuf m;              /* first: the stages see only this */
	uint8_t *buf;
	enum hm_from from;
	enum hm_state state;
	int sent_side;
	bool written;                   /* a segment writer made it a segment of synwall's */
	bool icmp;                      /* sw_icmp_too_big made it an ICMP error of synwall's */
	const struct hm *quoted;        /* (icmp) the client's segment it is about */
	uint16_t lo, hi;                /* the frame has spanned [lo, hi) of buf */
	uint32_t orig_len;
	uint8_t orig[MAX_FRAME];        /* the frame as received */
};

static struct hm *mbufs[MAX_MBUFS];
static unsigned int nmbufs;

static struct hm *
hm_of(const struct rte_mbuf *m)
{
	unsigned int i;

	for (i = 0; i < nmbufs; i++)
		if (&mbufs[i]->m == m)
			return mbufs[i];
	return NULL;
}

/* Only [data_off, data_off + len) addressable. */
static void
hm_poison(struct hm *h)
{
	uint32_t start = h->m.data_off, end = start + h->m.data_len;

	ASAN_POISON_MEMORY_REGION(h->buf, start);
	ASAN_UNPOISON_MEMORY_REGION(h->buf + start, end - start);
	ASAN_POISON_MEMORY_REGION(h->buf + end, BUF_LEN - end);
}

static struct hm *
hm_new(const uint8_t *frame, uint32_t len, enum hm_from from)
{
	struct hm *h;

	FZ_CHECK(nmbufs < MAX_MBUFS, "too many mbufs for the harness");
	h = aligned_alloc(64, (sizeof(*h) + 63) & ~(size_t)63);
	if (h == NULL)
		abort();
	memset(h, 0, sizeof(*h));
	h->buf = aligned_alloc(64, BUF_LEN);
	if (h->buf == NULL)
		abort();
	memset(h->buf, POISON, BUF_LEN);
	if (len != 0)
		memcpy(h->buf + RTE_PKTMBUF_HEADROOM, frame, len);
	h->m.buf_addr = h->buf;
	h->m.buf_len = BUF_LEN;
	h->m.data_off = RTE_PKTMBUF_HEADROOM;
	rte_mbuf_refcnt_set(&h->m, 1);
	h->m.nb_segs = 1;
	h->m.data_len = (uint16_t)len;
	h->m.pkt_len = len;
	h->from = from;
	h->state = HM_LIVE;
	h->sent_side = -1;
	h->lo = RTE_PKTMBUF_HEADROOM;
	h->hi = (uint16_t)(RTE_PKTMBUF_HEADROOM + len);
	h->orig_len = len;
	if (len != 0)
		memcpy(h->orig, frame, len);
	hm_poison(h);
	mbufs[nmbufs++] = h;
	return h;
}

static void
hm_free_all(void)
{
	unsigned int i;

	for (i = 0; i < nmbufs; i++) {
		ASAN_UNPOISON_MEMORY_REGION(mbufs[i]->buf, BUF_LEN);
		free(mbufs[i]->buf);
		free(mbufs[i]);
	}
	nmbufs = 0;
}

/* The segment writer may write exactly the segment it makes, from the frame's start. */
void __real_sw_mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, bool tx_csum);
void __wrap_sw_mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, bool tx_csum);
void
__wrap_sw_mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, bool tx_csum)
{
	struct hm *h = hm_of(m);
	uint8_t want[SW_SEG_MAX_LEN];
	struct sw_seg_lens lens;
	uint8_t *data;

	FZ_CHECK(h != NULL && h->state == HM_LIVE, "a segment written into an mbuf not live");
	sw_write_seg(want, s, tx_csum, &lens);
	FZ_CHECK((uint32_t)m->data_off + lens.frame_len <= m->buf_len, "segment past the buffer");
	data = rte_pktmbuf_mtod(m, uint8_t *);
	ASAN_UNPOISON_MEMORY_REGION(data, lens.frame_len);
	__real_sw_mbuf_write_seg(m, s, tx_csum);
	FZ_CHECK(m->data_len == lens.frame_len && m->pkt_len == lens.frame_len,
		 "the mbuf's lengths are not the segment's");
	FZ_CHECK(memcmp(data, want, lens.frame_len) == 0, "not the segment sw_write_seg writes");
	h->written = true;
	if (m->data_off + m->data_len > h->hi)
		h->hi = (uint16_t)(m->data_off + m->data_len);
	if (m->data_off < h->lo)
		h->lo = m->data_off;
	hm_poison(h);
}

/* The SYN-ACK written over the SYN's own frame: exactly what sw_seg_synack() of the SYN's
 * addresses and sw_write_seg() make, and only that. */
void __real_sw_mbuf_synack(struct rte_mbuf *m, const struct sw_lcore *lc,
			   const struct sw_pkt *pkt, uint32_t iss, uint8_t mac8,
			   const struct sw_tcpopts *offer, bool tx_csum);
void __wrap_sw_mbuf_synack(struct rte_mbuf *m, const struct sw_lcore *lc,
			   const struct sw_pkt *pkt, uint32_t iss, uint8_t mac8,
			   const struct sw_tcpopts *offer, bool tx_csum);
void
__wrap_sw_mbuf_synack(struct rte_mbuf *m, const struct sw_lcore *lc, const struct sw_pkt *pkt,
		      uint32_t iss, uint8_t mac8, const struct sw_tcpopts *offer, bool tx_csum)
{
	struct hm *h = hm_of(m);
	uint8_t want[SW_SEG_MAX_LEN];
	struct sw_seg_lens lens;
	struct sw_seg s;
	uint8_t *data;

	FZ_CHECK(h != NULL && h->state == HM_LIVE, "a SYN-ACK written into an mbuf not live");
	FZ_CHECK(h->from != FROM_ALLOC && !h->written, "a SYN-ACK written over no received SYN");
	data = rte_pktmbuf_mtod(m, uint8_t *);
	FZ_CHECK(m->data_len >= pkt->l2_len, "a SYN-ACK over a frame shorter than its SYN's L2");
	sw_seg_synack(&s, lc, data + 6, data, pkt->vlan_tci, pkt->has_vlan != 0, &pkt->t,
		      pkt->seq, iss, mac8, offer, pkt->opt.tsval);
	sw_write_seg(want, &s, tx_csum, &lens);
	FZ_CHECK((uint32_t)m->data_off + lens.frame_len <= m->buf_len, "SYN-ACK past the buffer");
	ASAN_UNPOISON_MEMORY_REGION(data, lens.frame_len);
	__real_sw_mbuf_synack(m, lc, pkt, iss, mac8, offer, tx_csum);
	FZ_CHECK(m->data_len == lens.frame_len && m->pkt_len == lens.frame_len,
		 "the mbuf's lengths are not the SYN-ACK's");
	FZ_CHECK(memcmp(data, want, lens.frame_len) == 0,
		 "not the SYN-ACK sw_seg_synack and sw_write_seg make");
	h->written = true;
	if (m->data_off + m->data_len > h->hi)
		h->hi = (uint16_t)(m->data_off + m->data_len);
	hm_poison(h);
}

/* The splice's server side moves the frame's start by the plan's grow: those bytes become
 * the frame's (or stop being it). */
void __real_sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f,
			       const struct sw_ts_add *a);
void __wrap_sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f,
			       const struct sw_ts_add *a);
void
__wrap_sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f,
			  const struct sw_ts_add *a)
{
	if (a != NULL && a->grow > 0)
		ASAN_UNPOISON_MEMORY_REGION(data, (size_t)a->grow);
	__real_sw_proxy_to_client(data, pkt, f, a);
	if (a != NULL && a->grow < 0)
		ASAN_POISON_MEMORY_REGION(data + a->grow, (size_t)-a->grow);
}

/* The ICMP error synwall sends a client whose segment is larger than its server takes
 * (icmp.c) is appended (rte_pktmbuf_append, inline) to an mbuf of its own: the room of the
 * mbuf it allocates is open during the call, and what it made is checked when it is sent. */
static struct {
	bool open;
	const struct hm *quoted;
	struct hm *made;
} icmp_alloc;

void __real_sw_icmp_too_big(struct sw_lcore *lc, struct sw_sink *out, const struct rte_mbuf *m,
			    const struct sw_pkt *pkt, uint32_t mtu);
void __wrap_sw_icmp_too_big(struct sw_lcore *lc, struct sw_sink *out, const struct rte_mbuf *m,
			    const struct sw_pkt *pkt, uint32_t mtu);
void
__wrap_sw_icmp_too_big(struct sw_lcore *lc, struct sw_sink *out, const struct rte_mbuf *m,
		       const struct sw_pkt *pkt, uint32_t mtu)
{
	struct hm *h;

	icmp_alloc.open = true;
	icmp_alloc.quoted = hm_of(m);
	icmp_alloc.made = NULL;
	__real_sw_icmp_too_big(lc, out, m, pkt, mtu);
	icmp_alloc.open = false;
	h = icmp_alloc.made;
	if (h != NULL && h->state == HM_LIVE) {
		if (h->m.data_off + h->m.data_len > h->hi)
			h->hi = (uint16_t)(h->m.data_off + h->m.data_len);
		hm_poison(h);
	}
}

/* ---- the state of a run ---- */

struct conv {
	bool used;
	struct sw_tuple t;      /* client -> server */
	uint32_t iss, irs;      /* from the SYN-ACK synwall sent */
	uint32_t srv_syn;       /* the server SYN's seq */
	uint32_t srv_isn;       /* the server SYN-ACK's seq (as built here) */
	uint32_t ts_to_client, ts_to_server;
	uint32_t age;
};

/*
 * The fixture, made once (fake_dp_init, at the largest sizes the header can ask for) and put
 * back as fake_dp_init leaves it before each input (fixture_reset): a fresh one per input
 * would cost more in page faults (its configuration is 1.3 MB) than the input's run.
 */
static struct fake_dp D;
static struct sw_config *cfg_template, *cfg_spare;
static const struct fake_dp_params max_params = { 64, 8, 0, 1024 };

static struct {
	struct sw_sink sink;
	int fail_allocs;
	unsigned int failed_allocs;
	struct sw_counters round_start;
	struct conv conv[NCONV];
	uint32_t conv_clock;
	unsigned int op;
	const char *doing;
	const uint8_t *input;
	size_t input_len;
	uint32_t cachelimit;            /* the syncache's, as the configuration says */
	/* what the syncache may hold: its cachelimit, or what it held at the last check when
	 * that is more (a lowered cachelimit is reached a few evictions an insert, and until
	 * then the count may only go down) */
	uint32_t sc_allowed;
	/* the counters and the flow table's count at the last check of the tables */
	struct sw_counters tables_cnt;
	uint32_t flows;
} S;

static void
print_context(void)
{
	fprintf(stderr, "==fuzz== at operation %u (%s), clock %" PRIu64 " ms\n", S.op,
		S.doing ? S.doing : "-", D.lc ? D.lc->now_ms : 0);
}

static const struct sw_config *
cfg(void)
{
	return D.lc->cfg;
}

/* ---- the tables' inserts, wrapped ---- */

/* A flow's eviction weight, as flowtab.c ranks it. */
static uint32_t
flow_weight(const struct sw_ctab *tab, const struct sw_flow *f)
{
	uint32_t w = sw_ctab_src_count(tab, f);

	return w >= SW_FLOW_HEAVY_MIN ? w : 0;
}

struct candidate {
	struct sw_tuple t;
	uint32_t idle, weight;
	bool closing;
};

/*
 * A flow added (splice.c): it is in the table, found by its lookup; the table grew by one,
 * or, when it was full (the limit, or both of the flow's buckets), one flow went to make
 * room: the one reported (gone_t), no longer in the table, and one of the candidates
 * flowtab.h names (the flows of both full buckets, else the SW_FLOW_EVICT_SCAN least
 * recently used), chosen by its rule: a closing one first, the idlest of them; else one
 * idle at least min_idle_ms, of the heaviest source among those, the idlest among equals;
 * "heavy" only when that is not the idlest, from a source of SW_FLOW_HEAVY_MIN flows or
 * more. None may go: NULL, nothing changed.
 */
struct sw_flow *__real_sw_flowtab_add_evict(struct sw_flowtab *ft, const struct sw_tuple *t,
					    uint32_t hash, uint32_t now_ms, uint32_t min_idle_ms,
					    int *evicted, struct sw_flow *gone,
					    struct sw_tuple *gone_t);
struct sw_flow *__wrap_sw_flowtab_add_evict(struct sw_flowtab *ft, const struct sw_tuple *t,
					    uint32_t hash, uint32_t now_ms, uint32_t min_idle_ms,
					    int *evicted, struct sw_flow *gone,
					    struct sw_tuple *gone_t);
struct sw_flow *
__wrap_sw_flowtab_add_evict(struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash,
			    uint32_t now_ms, uint32_t min_idle_ms, int *evicted,
			    struct sw_flow *gone, struct sw_tuple *gone_t)
{
	struct sw_ctab *tab = &ft->tab;
	uint32_t b1 = hash & tab->mask, b2 = sw_flowtab_hash2(hash) & tab->mask;
	bool both_full = sw_ctab_bucket_count(tab, b1) >= tab->bucketlimit &&
			 sw_ctab_bucket_count(tab, b2) >= tab->bucketlimit;
	bool full = both_full || tab->count >= ft->limit;
	struct candidate c[2 * SW_FLOW_BUCKET_SLOTS + SW_FLOW_EVICT_SCAN];
	uint32_t before = tab->count, max_idle = 0, k, idx, i;
	unsigned int n = 0, g;
	bool any_closing = false, any_idle = false;
	struct sw_flow *f;
	const struct sw_flow *e;

	FZ_CHECK(gone != NULL && gone_t != NULL, "an eviction that does not say what went");
	FZ_CHECK(sw_flowtab_lookup(ft, t, hash) == NULL, "a flow added that is there already");
	if (full && both_full) {
		for (k = 0; k < sw_ctab_bucket_count(tab, b1); k++)
			sw_ctab_tuple(tab, sw_ctab_bucket_entry(tab, b1, k), &c[n++].t);
		for (k = 0; b2 != b1 && k < sw_ctab_bucket_count(tab, b2); k++)
			sw_ctab_tuple(tab, sw_ctab_bucket_entry(tab, b2, k), &c[n++].t);
	} else if (full) {
		for (idx = tab->age_head, i = 0; idx != SW_CTAB_NIL && i < SW_FLOW_EVICT_SCAN;
		     idx = ((const struct sw_ctab_hdr *)(tab->slots + (size_t)idx *
							  SW_CTAB_ENTRY_SIZE))->age_next, i++)
			sw_ctab_tuple(tab, tab->slots + (size_t)idx * SW_CTAB_ENTRY_SIZE,
				      &c[n++].t);
	}
	for (i = 0; i < n; i++) {
		e = sw_flowtab_lookup(ft, &c[i].t, sw_ctab_hash(tab, &c[i].t));
		c[i].idle = now_ms - e->last_ms;
		c[i].closing = sw_flow_state(e) == SW_FLOW_CLOSING;
		c[i].weight = c[i].closing ? 0 : flow_weight(tab, e);
		any_closing |= c[i].closing;
		any_idle |= !c[i].closing && c[i].idle >= min_idle_ms;
		if (!c[i].closing && c[i].idle > max_idle)
			max_idle = c[i].idle;
	}

	f = __real_sw_flowtab_add_evict(ft, t, hash, now_ms, min_idle_ms, evicted, gone, gone_t);

	if (f == NULL) {
		FZ_CHECK(full && !any_closing && !any_idle && *evicted == 0 &&
			 tab->count == before, "a flow refused (table %u of %u, buckets %s full): "
			 "a candidate could have gone", before, ft->limit, both_full ? "" : "not");
		return NULL;
	}
	FZ_CHECK(sw_flowtab_lookup(ft, t, hash) == f, "the flow added is not found");
	if (*evicted == 0) {
		FZ_CHECK(!full && tab->count == before + 1, "a flow added to a table that was full "
			 "(%u of %u, buckets %s full) with no eviction, or one went unsaid (%u -> %u)",
			 before, ft->limit, both_full ? "" : "not", before, tab->count);
		return f;
	}
	FZ_CHECK(full && tab->count == before, "an eviction from a table that was not full, or "
		 "more went (%u of %u -> %u)", before, ft->limit, tab->count);
	FZ_CHECK(sw_flowtab_lookup(ft, gone_t, sw_ctab_hash(tab, gone_t)) == NULL,
		 "the flow said evicted is still in the table");
	for (g = 0; g < n && !sw_tuple_eq(&c[g].t, gone_t); g++)
		;
	FZ_CHECK(g < n, "the flow evicted was no candidate (%s)", both_full ? "both buckets full"
		 : "the least recently used");
	if (any_closing) {
		FZ_CHECK(c[g].closing, "an open flow evicted before a closing one");
		for (i = 0; i < n; i++)
			FZ_CHECK(!c[i].closing || c[i].idle <= c[g].idle,
				 "a closing flow evicted before an idler closing one");
	} else {
		FZ_CHECK(c[g].idle >= min_idle_ms, "a flow evicted idle %u ms, less than %u",
			 c[g].idle, min_idle_ms);
		for (i = 0; i < n; i++)
			FZ_CHECK(c[i].idle < min_idle_ms || c[i].weight < c[g].weight ||
				 (c[i].weight == c[g].weight && c[i].idle <= c[g].idle),
				 "evicted a flow of weight %u idle %u ms before one of weight %u "
				 "idle %u ms", c[g].weight, c[g].idle, c[i].weight, c[i].idle);
		FZ_CHECK(!(*evicted & SW_FLOW_EVICTED_HEAVY) || c[g].weight >= SW_FLOW_HEAVY_MIN,
			 "an eviction said heavy, of a source of weight %u", c[g].weight);
		FZ_CHECK((*evicted & SW_FLOW_EVICTED_HEAVY) || c[g].idle == max_idle,
			 "an eviction not said heavy, not of the idlest (%u ms, the idlest %u ms)",
			 c[g].idle, max_idle);
	}
	return f;
}

/*
 * A syncache entry inserted (syn.c), under the configuration's cachelimit: it is in the
 * table, found by its lookup; when its bucket was full the bucket's oldest entry went
 * (the table's count as it was); else when the table held its cachelimit the table's
 * oldest went, and more of the oldest while it held more, up to SW_CTAB_SHRINK_STEP; else
 * the table grew by one.
 */
struct sw_sc_entry *__real_sw_syncache_insert(struct sw_syncache *sc, const struct sw_tuple *t,
					      uint32_t hash, uint32_t cachelimit,
					      unsigned int *evicted);
struct sw_sc_entry *__wrap_sw_syncache_insert(struct sw_syncache *sc, const struct sw_tuple *t,
					      uint32_t hash, uint32_t cachelimit,
					      unsigned int *evicted);
struct sw_sc_entry *
__wrap_sw_syncache_insert(struct sw_syncache *sc, const struct sw_tuple *t, uint32_t hash,
			  uint32_t cachelimit, unsigned int *evicted)
{
	struct sw_ctab *tab = &sc->tab;
	uint32_t b = hash & tab->mask, before = tab->count, k;
	bool bucket_full = sw_ctab_bucket_count(tab, b) >= tab->bucketlimit;
	struct sw_tuple bucket_oldest, oldest;
	struct sw_sc_entry *e;

	FZ_CHECK(cachelimit == cfg()->lim.cachelimit, "inserted under a cachelimit of %u, the "
		 "configuration's is %u", cachelimit, cfg()->lim.cachelimit);
	FZ_CHECK(sw_syncache_lookup(sc, t, hash) == NULL, "an entry inserted that is there");
	if (bucket_full)
		sw_ctab_tuple(tab, sw_ctab_bucket_entry(tab, b, 0), &bucket_oldest);
	if (tab->age_head != SW_CTAB_NIL)
		sw_ctab_tuple(tab, sw_ctab_oldest(tab), &oldest);

	e = __real_sw_syncache_insert(sc, t, hash, cachelimit, evicted);

	FZ_CHECK(e != NULL && sw_syncache_lookup(sc, t, hash) == e,
		 "the entry inserted is not found");
	if (bucket_full) {
		FZ_CHECK(*evicted == SW_CTAB_EVICT_BUCKET && tab->count == before &&
			 sw_syncache_lookup(sc, &bucket_oldest,
					    sw_ctab_hash(tab, &bucket_oldest)) == NULL,
			 "a full bucket (%u -> %u entries, evicted %#x): its oldest entry did not "
			 "go, or more went", before, tab->count, *evicted);
	} else if (before >= cachelimit) {
		k = before + 1 - tab->count;
		FZ_CHECK(*evicted == SW_CTAB_EVICT_CACHE && k >= 1 && k <= SW_CTAB_SHRINK_STEP &&
			 (k == SW_CTAB_SHRINK_STEP || tab->count == cachelimit) &&
			 sw_syncache_lookup(sc, &oldest, sw_ctab_hash(tab, &oldest)) == NULL,
			 "a full cache (%u entries, cachelimit %u -> %u entries, evicted %#x): its "
			 "oldest did not go, or not as many as it was over", before, cachelimit,
			 tab->count, *evicted);
	} else {
		FZ_CHECK(*evicted == 0 && tab->count == before + 1, "an insert into a syncache "
			 "with room (%u of %u) evicted %#x, %u entries after", before, cachelimit,
			 *evicted, tab->count);
	}
	return e;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fake_dp_init(&D, &max_params);
	cfg_template = sw_cfg_clone(D.cfg);
	cfg_spare = sw_cfg_clone(D.cfg);
	if (cfg_template == NULL || cfg_spare == NULL)
		abort();
	return 0;
}

/* What fake_dp_init does, in the fixture's memory: the tables at p's sizes (at most
 * max_params), the configuration as it made it, a clean lcore and learn table. */
static void
fixture_reset(const struct fake_dp_params *p, const struct sw_srcq_params *flows_q,
	      const struct sw_srcq_params *sc_q)
{
	struct sw_lcore *lc = D.lc;
	struct sw_learn_table *learn = D.learn;

	memcpy(D.cfg, cfg_template, sizeof(*D.cfg));
	D.cfg->lim.cachelimit = p->cachelimit;
	memset(lc, 0, sizeof(*lc));
	if (sw_syncache_init(&lc->sc, D.scmem, p->hashsize, p->bucketlimit, FAKE_SEED) != 0 ||
	    sw_flowtab_init(&lc->ft, D.ftmem, p->flows, FAKE_SEED) != 0 ||
	    sw_srcq_setup(&lc->ft.tab.srcq, flows_q) != 0 ||
	    sw_srcq_setup(&lc->sc.tab.srcq, sc_q) != 0)
		abort();
	lc->lcore_id = 1;
	lc->ts_offset = FAKE_TS_OFFSET;
	lc->now_ms = FAKE_T0_MS;
	lc->cfg = D.cfg;
	memset(learn, 0, sizeof(*learn));
	learn->seed = FAKE_SEED;
	lc->learn = learn;
	lc->sc.sweep.last_ms = FAKE_T0_MS;
	lc->ft.sweep.last_ms = FAKE_T0_MS;
}

static struct conv *
conv_find(const struct sw_tuple *t, bool make)
{
	struct conv *c, *old = &S.conv[0];
	unsigned int i;

	for (i = 0; i < NCONV; i++) {
		c = &S.conv[i];
		if (c->used && sw_tuple_eq(&c->t, t)) {
			c->age = ++S.conv_clock;
			return c;
		}
		if (!c->used || c->age < old->age)
			old = c;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof(*old));
	old->used = true;
	old->t = *t;
	old->age = ++S.conv_clock;
	return old;
}

/* The tuple of a TCP frame as this file reads it (fz_frame_walk). */
static bool
frame_tuple(const uint8_t *f, const struct fz_frame *fr, struct sw_tuple *t)
{
	const uint8_t *ip = f + fr->l3_off, *th = f + fr->l4_off;

	if (!fr->ip || fr->proto != FZ_PROTO_TCP || fr->l4_len < 20)
		return false;
	memset(t, 0, sizeof(*t));
	t->v6 = fr->v6;
	memcpy(t->src, ip + (fr->v6 ? 8 : 12), fr->v6 ? 16 : 4);
	memcpy(t->dst, ip + (fr->v6 ? 24 : 16), fr->v6 ? 16 : 4);
	t->sport = fz_rd16(th);
	t->dport = fz_rd16(th + 2);
	return true;
}

/* The timestamps option of a TCP frame's header (this file's walk), or NULL. */
static uint8_t *
frame_ts(uint8_t *f, const struct fz_frame *fr)
{
	uint8_t *o = f + fr->l4_off;
	uint32_t i = 20, l;

	while (fr->th_len != 0 && i < fr->th_len) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= fr->th_len)
			break;
		l = o[i + 1];
		if (l < 2 || i + l > fr->th_len)
			break;
		if (o[i] == 8 && l == 10)
			return o + i;
		i += l;
	}
	return NULL;
}

/* ---- checks of what leaves ---- */

static bool
protected_port(uint16_t p)
{
	return sw_mode_protected(cfg()->port_mode[p]);
}

static uint16_t
residual(const uint8_t *f, const struct fz_frame *fr, bool ip_header)
{
	const uint8_t *ip = f + fr->l3_off;
	uint32_t s;

	if (ip_header && fr->v6)
		return 0xffff;          /* IPv6 has no header checksum */
	if (ip_header)
		s = fz_sum16(ip, fr->l3_len, 0);
	else if (fr->proto == FZ_PROTO_ICMP)
		s = fz_sum16(f + fr->l4_off, fr->l4_len, 0);
	else if (fr->v6)
		s = fz_sum16(f + fr->l4_off, fr->l4_len,
			     fz_sum16(ip + 8, 32, fr->proto + fr->l4_len));
	else
		s = fz_sum16(f + fr->l4_off, fr->l4_len,
			     fz_sum16(ip + 12, 8, fr->proto + fr->l4_len));
	s = fz_fold(s);
	return (uint16_t)(s == 0 ? 0xffff : s);
}

/* Did a counter that ends a flow move in this round (a frame sent before its flow went)? */
static bool
flows_ended_this_round(void)
{
	const struct sw_counters *c = &D.lc->cnt, *b = &S.round_start;

	return c->proxy_closed != b->proxy_closed || c->proxy_evicted != b->proxy_evicted ||
	       c->proxy_reset != b->proxy_reset || c->proxy_server_rst != b->proxy_server_rst ||
	       c->proxy_expired != b->proxy_expired ||
	       c->proxy_server_timeout != b->proxy_server_timeout;
}

static struct sw_flow *
flow_of(const struct sw_tuple *t)
{
	const struct sw_flowtab *ft = &D.lc->ft;

	return sw_flowtab_lookup(ft, t, sw_ctab_hash(&ft->tab, t));
}

/* A segment synwall wrote: whole, right, and a SYN-ACK's ISS a cookie. */
static void
check_ours(struct hm *h, const uint8_t *f, uint32_t len, int side)
{
	struct fz_frame fr;
	struct sw_pkt pkt;
	struct sw_tuple t, ct;
	uint8_t fl;

	fz_frame_walk(f, len, &fr);
	FZ_CHECK(fr.ip && fr.proto == FZ_PROTO_TCP && fr.th_len != 0 &&
		 fr.l4_off + fr.l4_len == len, "a segment of synwall's does not parse whole");
	FZ_CHECK(fz_ip_csum_ok(f, &fr), "IPv4 header checksum wrong on a segment of synwall's");
	FZ_CHECK(fz_l4_csum_ok(f, &fr), "TCP checksum wrong on a segment of synwall's");
	FZ_CHECK(sw_parse_l3(f, len, &pkt) == SW_L3_TCP && sw_parse_tcp(f, len, &pkt) == 0,
		 "the parser refuses a segment of synwall's");
	fl = pkt.tcp_flags;
	frame_tuple(f, &fr, &t);
	if ((fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK)) {
		struct sw_cookie_opts co;

		FZ_CHECK(side == SW_OUTSIDE, "a SYN-ACK of synwall's to the servers");
		sw_tuple_reverse(&ct, &t);
		FZ_CHECK(sw_cookie_check(&cfg()->keys, &ct, pkt.ack - 1, pkt.seq, &co),
			 "SYN-ACK ISS %#x is not a valid cookie for its SYN (ISN %#x)", pkt.seq,
			 pkt.ack - 1);
		/* with timestamps its TSval carries the MAC's other 8 bits */
		FZ_CHECK(!(pkt.opt.present & SW_OPT_TS) ||
			 sw_cookie_check_ts(&cfg()->keys, &ct, pkt.ack - 1, pkt.seq, pkt.opt.tsval,
					    &co),
			 "SYN-ACK TSval %#x does not carry its cookie's MAC bits", pkt.opt.tsval);
		FZ_CHECK(pkt.win == 0, "SYN-ACK window %u", pkt.win);
	} else if (fl & SW_TH_SYN) {
		struct sw_flow *fl_ = flow_of(&t);

		FZ_CHECK(side == SW_INSIDE, "a SYN of synwall's to the clients");
		if (h->from == FROM_OUTSIDE) {
			/* the client's ACK became it: its cookie must be good */
			struct fz_frame ofr;
			struct sw_cookie_opts co;
			uint32_t seq, ack;
			const uint8_t *oth;

			fz_frame_walk(h->orig, h->orig_len, &ofr);
			FZ_CHECK(ofr.ip && ofr.proto == FZ_PROTO_TCP && ofr.l4_len >= 20,
				 "a server SYN from a frame that is no TCP");
			oth = h->orig + ofr.l4_off;
			seq = fz_rd32(oth + 4);
			ack = fz_rd32(oth + 8);
			FZ_CHECK((oth[13] & (SW_TH_SYN | SW_TH_ACK | SW_TH_RST)) == SW_TH_ACK,
				 "a server SYN from a client segment that is no ACK");
			FZ_CHECK((pkt.seq == seq - 1 &&
				  sw_cookie_check(&cfg()->keys, &t, seq - 1, ack - 1, &co)) ||
				 (pkt.seq == seq &&
				  sw_cookie_check(&cfg()->keys, &t, seq, ack - 1, &co)),
				 "a server SYN (ISN %#x) for an ACK (seq %#x ack %#x) without a valid "
				 "cookie", pkt.seq, seq, ack);
		} else {
			FZ_CHECK(h->from == FROM_ALLOC, "a server SYN from a server's frame");
		}
		if (!flows_ended_this_round())
			FZ_CHECK(fl_ != NULL && sw_flow_state(fl_) == SW_FLOW_OPENING &&
				 fl_->irs == pkt.seq, "a server SYN without its opening flow");
	}
}

/* An ICMP error of synwall's: whole, right, from the server to the client, quoting the
 * client's segment as it came. */
static void
check_ours_icmp(const struct hm *h, const uint8_t *f, uint32_t len, int side)
{
	const struct hm *q = h->quoted;
	struct fz_frame fr, qf;
	const uint8_t *icmp, *ip;
	uint32_t quote;

	FZ_CHECK(side == SW_OUTSIDE, "an ICMP error of synwall's to the servers");
	FZ_CHECK(q != NULL && q->from == FROM_OUTSIDE, "an ICMP error about no client segment");
	fz_frame_walk(f, len, &fr);
	FZ_CHECK(fr.ip && fr.proto == (fr.v6 ? FZ_PROTO_ICMPV6 : FZ_PROTO_ICMP) &&
		 fr.l4_off + fr.l4_len == len, "an ICMP error of synwall's does not parse whole");
	FZ_CHECK(fz_ip_csum_ok(f, &fr) && fz_l4_csum_ok(f, &fr),
		 "checksum wrong on an ICMP error of synwall's");
	icmp = f + fr.l4_off;
	ip = f + fr.l3_off;
	FZ_CHECK(fr.v6 ? (icmp[0] == 2 && icmp[1] == 0) : (icmp[0] == 3 && icmp[1] == 4),
		 "ICMP type %u code %u", icmp[0], icmp[1]);
	fz_frame_walk(q->orig, q->orig_len, &qf);
	FZ_CHECK(qf.ip && qf.v6 == fr.v6, "the quoted segment");
	quote = qf.l3_len + 8;
	FZ_CHECK(fr.l4_len == 8 + quote &&
		 memcmp(icmp + 8, q->orig + qf.l3_off, quote) == 0,
		 "the quote is not the client's IP header and 8 bytes of TCP as it came");
	FZ_CHECK(memcmp(ip + (fr.v6 ? 8 : 12), q->orig + qf.l3_off + (fr.v6 ? 24 : 16),
			fr.v6 ? 16 : 4) == 0 &&
		 memcmp(ip + (fr.v6 ? 24 : 16), q->orig + qf.l3_off + (fr.v6 ? 8 : 12),
			fr.v6 ? 16 : 4) == 0, "an ICMP error not from the server to the client");
	FZ_CHECK(memcmp(f, q->orig + 6, 6) == 0 && memcmp(f + 6, q->orig, 6) == 0,
		 "an ICMP error not to the client's MAC");
}

/* A frame forwarded, changed or not: only as the splice may change it. */
static void
check_forwarded(struct hm *h, const uint8_t *f, uint32_t len)
{
	struct fz_frame in, out;
	const uint8_t *ith, *oth;
	struct sw_tuple t;
	uint16_t port;
	uint32_t ipl, tail_in, tail_out;

	if (len == h->orig_len && memcmp(f, h->orig, len) == 0)
		return;                                 /* bridged as it was */
	fz_frame_walk(h->orig, h->orig_len, &in);
	FZ_CHECK(in.ip && (in.proto == FZ_PROTO_TCP || in.proto == FZ_PROTO_ICMP ||
			   in.proto == FZ_PROTO_ICMPV6),
		 "a frame of no TCP or ICMP changed on its way");
	fz_frame_walk(f, len, &out);
	FZ_CHECK(out.ip && out.proto == in.proto && out.v6 == in.v6 && out.vlan == in.vlan &&
		 out.l3_len == in.l3_len, "a forwarded frame changed its headers");
	FZ_CHECK(memcmp(f, h->orig, in.l3_off) == 0, "Ethernet header changed");
	ith = h->orig + in.l4_off;
	oth = f + out.l4_off;
	FZ_CHECK(residual(f, &out, true) == residual(h->orig, &in, true),
		 "the IPv4 header's sum changed on a forwarded frame");
	FZ_CHECK(residual(f, &out, false) == residual(h->orig, &in, false),
		 "the checksummed sum of a forwarded %s changed (%#x -> %#x): an incremental "
		 "update that is not a full recomputation",
		 in.proto == FZ_PROTO_TCP ? "segment" : "ICMP error",
		 residual(h->orig, &in, false), residual(f, &out, false));
	ipl = in.v6 ? 8 : 12;
	FZ_CHECK(memcmp(f + out.l3_off + ipl, h->orig + in.l3_off + ipl, in.v6 ? 32 : 8) == 0,
		 "addresses changed");
	if (in.proto != FZ_PROTO_TCP) {
		/* an ICMP error about a spliced segment: its quoted seq and its checksum */
		uint32_t i, q = 8 + (in.v6 ? 40 : (uint32_t)(ith[8] & 15) * 4) + 4;

		FZ_CHECK(h->from == FROM_OUTSIDE && len == h->orig_len, "an ICMP error changed");
		for (i = 0; i < in.l4_len; i++)
			if (i != 2 && i != 3 && (i < q || i >= q + 4))
				FZ_CHECK(ith[i] == oth[i], "ICMP byte %u changed", i);
		return;
	}
	frame_tuple(h->orig, &in, &t);
	port = h->from == FROM_OUTSIDE ? t.dport : t.sport;
	FZ_CHECK(sw_cfg_has_flows(cfg(), port),
		 "a segment of port %u (no flows there) changed on its way", port);
	FZ_CHECK(in.th_len != 0 && out.th_len != 0, "a changed segment with a broken header");
	FZ_CHECK(memcmp(ith, oth, 4) == 0, "ports changed");
	FZ_CHECK(ith[13] == oth[13], "TCP flags changed");
	/* the payload and whatever follows the datagram */
	tail_in = h->orig_len - (in.l4_off + in.th_len);
	tail_out = len - (out.l4_off + out.th_len);
	FZ_CHECK(tail_in == tail_out && memcmp(ith + in.th_len, oth + out.th_len, tail_in) == 0,
		 "the payload changed");
	FZ_CHECK(out.l4_len - out.th_len == in.l4_len - in.th_len, "the IP length is not the "
		 "segment's");
}

/* Nothing leaves towards a protected port without its flow, nor from one. */
static void
check_flow_exists(struct hm *h, const uint8_t *f, uint32_t len, int side)
{
	struct fz_frame fr;
	struct sw_tuple t, ct;
	uint16_t port;
	uint8_t fl;

	fz_frame_walk(f, len, &fr);
	if (!frame_tuple(f, &fr, &t))
		return;
	if (side == SW_INSIDE) {
		ct = t;
		port = t.dport;
	} else {
		sw_tuple_reverse(&ct, &t);
		port = t.sport;
	}
	if (!protected_port(port) || sw_cfg_adopting(cfg(), port, D.lc->now_ms))
		return;
	fl = f[fr.l4_off + 13];
	/* a SYN-ACK of synwall's is a cookie (check_ours), with no flow behind it */
	if (side == SW_OUTSIDE && h->written &&
	    (fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK))
		return;
	/* an RST synwall sent for a flow it ended (or passed: the client's, of an opening
	 * flow that goes with it), or anything of a flow that ended later in the round */
	if (flows_ended_this_round())
		return;
	FZ_CHECK(flow_of(&ct) != NULL, "a segment (flags %#x) %s protected port %u without a "
		 "flow", fl, side == SW_INSIDE ? "to the servers of" : "to the clients from",
		 port);
}

/* Conversations: what synwall sent, for the next frames' numbers. */
static void
learn_sent(const uint8_t *f, uint32_t len, int side, bool ours)
{
	struct fz_frame fr;
	struct sw_tuple t, ct;
	const uint8_t *th, *ts;
	struct conv *c;
	uint8_t fl;

	fz_frame_walk(f, len, &fr);
	if (!frame_tuple(f, &fr, &t) || fr.th_len == 0)
		return;
	th = f + fr.l4_off;
	fl = th[13];
	if (side == SW_OUTSIDE)
		sw_tuple_reverse(&ct, &t);
	else
		ct = t;
	c = conv_find(&ct, ours && (fl & SW_TH_SYN));
	if (c == NULL)
		return;
	ts = frame_ts((uint8_t *)(uintptr_t)f, &fr);
	if (side == SW_OUTSIDE) {
		if (ours && (fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK)) {
			c->iss = fz_rd32(th + 4);
			c->irs = fz_rd32(th + 8) - 1;
		}
		if (ts != NULL)
			c->ts_to_client = fz_rd32(ts + 2);
	} else {
		if (ours && (fl & (SW_TH_SYN | SW_TH_ACK)) == SW_TH_SYN)
			c->srv_syn = fz_rd32(th + 4);
		if (ts != NULL)
			c->ts_to_server = fz_rd32(ts + 2);
	}
}

/* Equal in ones' complement (0 and 0xffff are the same number): what a NIC that adds the
 * field into its sum makes of either is the same. */
static bool
csum_same(uint16_t a, uint16_t b)
{
	return a == b || ((a | b) == 0xffff && (a == 0 || b == 0));
}

/*
 * The checksum offload a frame asks of the port it leaves by (ol_flags, l2_len, l3_len),
 * checked and then done as the NIC would, so that the frame can be checked as it goes on
 * the wire. Only synwall's own segments (sw_mbuf_write_seg) may ask, and only of a port that
 * offloads (sink.tx_csum): IPv4 with IP and TCP checksums, IPv6 with the TCP one, l2_len
 * and l3_len the frame's Ethernet (with its tag) and IP header, the IPv4 checksum field 0
 * and the TCP one the pseudo-header's sum as DPDK's rte_ipv4_phdr_cksum and
 * rte_ipv6_phdr_cksum make it (what the drivers expect). The NIC then sums the TCP segment
 * from l2_len + l3_len to the end of the frame. A frame forwarded keeps its checksums as
 * they are, right or wrong: it asks for nothing, nor does an ICMP error (icmp.c sums it).
 */
static void
check_offload(const struct hm *h, struct rte_mbuf *m, uint8_t *f, uint32_t len, int side)
{
	uint64_t tx = m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, want;
	struct fz_frame fr;
	uint8_t *ip, *th;
	uint16_t pseudo;
	uint32_t l4;

	if (tx == 0)
		return;
	FZ_CHECK(S.sink.tx_csum[side], "TX offload flags %#" PRIx64 " on a frame to the %s "
		 "port, which does not offload", tx, side == SW_OUTSIDE ? "outside" : "inside");
	FZ_CHECK(h->written && !h->icmp, "TX offload flags %#" PRIx64 " on a frame %s", tx,
		 h->icmp ? "synwall summed itself (an ICMP error)" : "forwarded: its checksums "
		 "are the sender's, right or wrong");
	fz_frame_walk(f, len, &fr);
	FZ_CHECK(fr.ip && fr.proto == FZ_PROTO_TCP && fr.th_len != 0 &&
		 fr.l4_off + fr.l4_len == len, "an offloaded frame that is no whole TCP segment");
	want = fr.v6 ? RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM
		     : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	FZ_CHECK(tx == want, "TX offload flags %#" PRIx64 " on an IPv%c segment (want %#" PRIx64
		 ")", tx, fr.v6 ? '6' : '4', want);
	FZ_CHECK(m->l2_len == fr.l3_off && m->l3_len == fr.l3_len, "offload lengths l2 %u l3 %u, "
		 "the frame's %u and %u", m->l2_len, m->l3_len, fr.l3_off, fr.l3_len);
	ip = f + fr.l3_off;
	th = f + fr.l4_off;
	if (fr.v6) {
		pseudo = rte_be_to_cpu_16(rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)
							      (const void *)ip, tx));
	} else {
		FZ_CHECK(fz_rd16(ip + 10) == 0, "IPv4 checksum field %#x under IP checksum offload",
			 fz_rd16(ip + 10));
		pseudo = rte_be_to_cpu_16(rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)
							      (const void *)ip, tx));
	}
	FZ_CHECK(csum_same(fz_rd16(th + 16), pseudo), "TCP checksum field %#x under offload, "
		 "the pseudo-header's sum %#x", fz_rd16(th + 16), pseudo);
	/* the NIC */
	if (!fr.v6)
		fz_wr16(ip + 10, (uint16_t)~fz_sum16(ip, m->l3_len, 0));
	l4 = len - m->l2_len - m->l3_len;
	fz_wr16(th + 16, (uint16_t)~fz_fold(fz_sum16(th, l4, 0)));
}

/* An mbuf given back: live until now, in one piece, nothing written outside its frame. */
static void
take_back(struct rte_mbuf *m, enum hm_state to, int side)
{
	struct hm *h = hm_of(m);
	uint32_t i, lo, hi;

	FZ_CHECK(h != NULL, "an mbuf %s that is none of ours", to == HM_SENT ? "sent" : "freed");
	FZ_CHECK(h->state == HM_LIVE, "an mbuf %s again (after it was %s)",
		 to == HM_SENT ? "sent" : "freed", h->state == HM_SENT ? "sent" : "freed");
	h->state = to;
	h->sent_side = side;
	FZ_CHECK(m->nb_segs == 1 && m->next == NULL && rte_mbuf_refcnt_read(m) == 1 &&
		 m->pool == NULL && m->buf_addr == h->buf, "an mbuf handed back in another shape");
	FZ_CHECK(m->data_len == m->pkt_len, "data_len %u != pkt_len %u", m->data_len, m->pkt_len);
	FZ_CHECK((uint32_t)m->data_off + m->data_len <= m->buf_len, "frame past its buffer");
	lo = RTE_MIN((uint32_t)m->data_off, (uint32_t)h->lo);
	hi = RTE_MAX((uint32_t)m->data_off + m->data_len, (uint32_t)h->hi);
	ASAN_UNPOISON_MEMORY_REGION(h->buf, BUF_LEN);
	for (i = 0; i < lo; i++)
		FZ_CHECK(h->buf[i] == POISON, "written %u bytes before its frame", lo - i);
	for (i = hi; i < BUF_LEN; i++)
		FZ_CHECK(h->buf[i] == POISON, "written %u bytes after its frame", i - hi + 1);
	hm_poison(h);
}

static void
sink_flush(struct sw_sink *s, enum sw_side side)
{
	struct sw_txbuf *b = &s->tx[side];
	uint16_t i;

	for (i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		struct hm *h;
		const uint8_t *f;
		uint32_t len;

		take_back(m, HM_SENT, side);
		h = hm_of(m);
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		len = m->data_len;
		ASAN_UNPOISON_MEMORY_REGION(h->buf, BUF_LEN);
		check_offload(h, m, rte_pktmbuf_mtod(m, uint8_t *), len, side);
		if (h->icmp) {
			check_ours_icmp(h, f, len, side);
		} else if (h->from == FROM_ALLOC || h->written) {
			FZ_CHECK(h->from != FROM_ALLOC || h->written, "an allocated mbuf sent empty");
			check_ours(h, f, len, side);
		} else {
			FZ_CHECK((h->from == FROM_OUTSIDE) == (side == SW_INSIDE),
				 "a frame sent back out of the port it came in on, not rewritten");
			check_forwarded(h, f, len);
		}
		check_flow_exists(h, f, len, side);
		learn_sent(f, len, side, h->from == FROM_ALLOC || h->written);
		hm_poison(h);
	}
	b->n = 0;
}

static void
sink_free_drops(struct sw_sink *s)
{
	uint16_t i;

	for (i = 0; i < s->dropped.n; i++)
		take_back(s->dropped.pkts[i], HM_FREED, -1);
	s->dropped.n = 0;
}

static struct rte_mbuf *
sink_alloc(struct sw_sink *s)
{
	(void)s;
	if (S.fail_allocs > 0) {
		S.fail_allocs--;
		S.failed_allocs++;
		return NULL;
	}
	if (icmp_alloc.open) {
		struct hm *h = hm_new(NULL, 0, FROM_ALLOC);

		ASAN_UNPOISON_MEMORY_REGION(h->buf + h->m.data_off, BUF_LEN - h->m.data_off);
		h->icmp = true;
		h->quoted = icmp_alloc.quoted;
		icmp_alloc.made = h;
		return &h->m;
	}
	return &hm_new(NULL, 0, FROM_ALLOC)->m;
}

static const struct sw_sink_ops sink_ops = {
	.flush = sink_flush,
	.free_drops = sink_free_drops,
	.alloc = sink_alloc,
};

/* ---- the tables ---- */

/* A source prefix as srcquota.h cuts it, and the family, for sorting. */
struct prefix {
	uint8_t v6;
	uint8_t a[16];
};

static int
prefix_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct prefix));
}

static void
prefix_of(const struct sw_srcquota *q, const struct sw_ctab_hdr *h, const uint8_t *src,
	  struct prefix *out)
{
	unsigned int bits = h->v6 ? q->v6_len : q->v4_len, i;

	memset(out, 0, sizeof(*out));
	out->v6 = h->v6;
	memcpy(out->a, src, h->v6 ? 16 : 4);
	for (i = 0; i < 128; i++)
		if (i >= bits)
			out->a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* The per-source counts are the entries' (counted again from them here: every counter, the
 * total) and no source holds more than its quota. */
static void
check_srcq(const struct sw_ctab *t)
{
	const struct sw_srcquota *q = &t->srcq;
	uint32_t rows = SW_SRCQ_ROWS * (q->mask + 1), b, k, live = 0, n = 0, run;
	uint32_t *want = calloc(rows, sizeof(*want));
	struct prefix *pre = calloc(t->count + 1, sizeof(*pre));

	if (want == NULL || pre == NULL)
		abort();
	FZ_CHECK(sw_srcq_check(q) == 0, "a source quota row does not sum to its total");
	for (b = 0; b < t->hashsize; b++) {
		for (k = 0; k < sw_ctab_bucket_count(t, b); k++) {
			const struct sw_ctab_hdr *h = sw_ctab_bucket_entry(t, b, k);
			struct sw_srcq_pos pos;
			unsigned int r;

			if (t->uncounted != 0 && h->user[0] == t->uncounted)
				continue;
			sw_srcq_locate(q, h->v6, sw_ctab_src(t, h), &pos);
			for (r = 0; r < SW_SRCQ_ROWS; r++)
				want[pos.at[r]]++;
			live++;
			prefix_of(q, h, sw_ctab_src(t, h), &pre[n++]);
		}
	}
	FZ_CHECK(q->live == live, "source counts: %u counted, %u entries count", q->live, live);
	FZ_CHECK(memcmp(want, q->cnt, rows * sizeof(*want)) == 0,
		 "source counters are not those of the entries");
	if (q->limit != 0 && n != 0) {
		qsort(pre, n, sizeof(*pre), prefix_cmp);
		for (k = 1, run = 1; k <= n; k++) {
			if (k < n && prefix_cmp(&pre[k], &pre[k - 1]) == 0) {
				run++;
				continue;
			}
			FZ_CHECK(run <= q->limit, "a source prefix holds %u entries, its quota %u",
				 run, q->limit);
			run = 1;
		}
	}
	free(want);
	free(pre);
}

static void
check_ctab(const struct sw_ctab *t, bool flows, uint32_t limit)
{
	uint32_t b, k, total = 0, steps = 0, idx, prev;
	uint8_t *seen;

	seen = calloc((size_t)t->hashsize * t->bucketlimit, 1);
	if (seen == NULL)
		abort();
	for (b = 0; b < t->hashsize; b++) {
		const uint8_t *ord = sw_ctab_order(t, b);
		const uint16_t *sig = sw_ctab_sigs(t, b);
		uint32_t cnt = sw_ctab_meta(t, b)[t->count_off];
		uint32_t fresh = sw_ctab_meta(t, b)[t->count_off + 1];
		uint8_t perm[256] = { 0 };

		FZ_CHECK(cnt <= t->bucketlimit && fresh <= cnt, "bucket %u: count %u fresh %u", b,
			 cnt, fresh);
		for (k = 0; k < t->bucketlimit; k++) {
			FZ_CHECK(ord[k] < t->bucketlimit && !perm[ord[k]],
				 "bucket %u: order is no permutation", b);
			perm[ord[k]] = 1;
			FZ_CHECK((sig[ord[k]] != 0) == (k < cnt), "bucket %u: slot %u's signature "
				 "says %s", b, ord[k], k < cnt ? "free" : "live");
		}
		for (k = t->bucketlimit; k < t->sig_slots; k++)
			FZ_CHECK(sig[k] == 0, "bucket %u: a signature past the slots", b);
		for (k = 0; k < cnt; k++) {
			const void *e = sw_ctab_slot(t, b, ord[k]);
			struct sw_tuple tu;
			uint32_t h, h2;
			const void *found;

			sw_ctab_tuple(t, e, &tu);
			h = sw_ctab_hash(t, &tu);
			h2 = sw_flowtab_hash2(h);
			if (!flows) {
				FZ_CHECK((h & t->mask) == b && sig[ord[k]] == sw_ctab_sig(h),
					 "syncache entry in bucket %u, not its own", b);
				found = sw_ctab_lookup(t, &tu, h);
			} else {
				FZ_CHECK(((h & t->mask) == b && sig[ord[k]] == sw_ctab_sig(h)) ||
					 ((h2 & t->mask) == b && sig[ord[k]] == sw_ctab_sig(h2)),
					 "flow in bucket %u, neither of its own", b);
				found = sw_flowtab_lookup(&D.lc->ft, &tu, h);
			}
			FZ_CHECK(found == e, "an entry its lookup does not find (a twin?)");
			if (flows) {
				const struct sw_flow *f = e;

				FZ_CHECK(sw_flow_state(f) >= SW_FLOW_OPENING &&
					 sw_flow_state(f) <= SW_FLOW_CLOSING, "flow state %u",
					 sw_flow_state(f));
				FZ_CHECK(SW_FLOW_WS_CLIENT(f) <= 14 && SW_FLOW_WS_OURS(f) <= 14,
					 "flow shifts %#x", sw_flow_ws(f));
				if (sw_flow_state(f) != SW_FLOW_OPENING)
					FZ_CHECK(f->ws_srv <= 14, "server shift %u", f->ws_srv);
				FZ_CHECK(protected_port(f->hdr.dport) ||
					 (cfg()->port_flags[f->hdr.dport] & SW_PORTF_FLOWS),
					 "a flow on port %u, which has none", f->hdr.dport);
			} else {
				const struct sw_sc_entry *e_ = e;

				FZ_CHECK(e_->rxmits <= cfg()->lim.rexmtlimit, "syncache entry "
					 "retransmitted %u times, limit %u", e_->rxmits,
					 cfg()->lim.rexmtlimit);
			}
		}
		total += cnt;
	}
	FZ_CHECK(total == t->count, "table count %u, buckets hold %u", t->count, total);
	check_srcq(t);
	FZ_CHECK(t->count <= limit, "table holds %u, limit %u", t->count, limit);
	/* the age list: every live entry once, links both ways */
	prev = SW_CTAB_NIL;
	for (idx = t->age_head; idx != SW_CTAB_NIL; idx = ((const struct sw_ctab_hdr *)
		     (t->slots + (size_t)idx * SW_CTAB_ENTRY_SIZE))->age_next) {
		const struct sw_ctab_hdr *hd;
		uint32_t bb = idx / t->bucketlimit, slot = idx % t->bucketlimit;

		FZ_CHECK(idx < t->hashsize * t->bucketlimit && steps < t->count,
			 "age list longer than the table's %u entries", t->count);
		hd = (const struct sw_ctab_hdr *)(t->slots + (size_t)idx * SW_CTAB_ENTRY_SIZE);
		FZ_CHECK(!seen[idx], "an entry twice on the age list");
		seen[idx] = 1;
		FZ_CHECK(sw_ctab_sigs(t, bb)[slot] != 0, "a free slot on the age list");
		FZ_CHECK(hd->age_prev == prev, "age list: a broken back link");
		prev = idx;
		steps++;
	}
	FZ_CHECK(steps == t->count && t->age_tail == prev, "age list of %u, table of %u", steps,
		 t->count);
	free(seen);
}

/* ---- the counters of a burst ---- */

#define C(f) offsetof(struct sw_counters, f)
#define MALFORMED C(mal_truncated), C(mal_ip_header), C(mal_ip_length), C(mal_fragment),     \
	C(mal_vlan), C(mal_tcp_header), C(mal_tcp_option), C(mal_flags), C(mal_checksum),    \
	C(mal_ipv6_ext), C(mal_ah), C(mal_unparsed)
#define END ((size_t)-1)
/* Each frame of an outside burst moves exactly one of these, by its fate... */
static const size_t out_drop[] = { MALFORMED, C(sc_unreach), C(port_policy_drop), C(src_denied),
	C(proxy_syn_opening), C(proxy_ack_opening), C(proxy_outside_synack), C(sc_reset),
	C(proxy_rst_ignored), C(sc_aborted), C(sc_badack), C(proxy_ack_no_handshake),
	C(cookie_failed), C(cookie_limited), C(proxy_unexpected), C(proxy_source_quota),
	C(sc_source_quota_dropped), C(src_syn_limited), C(src_prefix_limited),
	C(src_reflect_capped), END };
static const size_t out_inside[] = { C(port_unparsed), C(proxy_icmp), C(port_bridged),
	C(proxy_reset), C(proxy_to_server), C(proxy_adopt_passed), C(proxy_opened), END };
static const size_t out_outside[] = { C(sc_dupsyn), C(sc_added), C(sc_sendcookie), END };
/* ... and of an inside burst one of these. */
static const size_t in_drop[] = { MALFORMED, C(proxy_synack_mismatch),
	C(proxy_server_opening), C(proxy_server_no_flow), END };
static const size_t in_outside[] = { C(port_unparsed), C(port_bridged), C(proxy_server_rst),
	C(proxy_to_client), C(proxy_adopt_full), C(proxy_adopt_source_quota), END };
static const size_t in_inside[] = { C(proxy_established), C(proxy_ack_resent), END };
/* All of them once: in a burst of either side, the other side's move by nothing. */
static const size_t any_fate[] = { MALFORMED, C(sc_unreach), C(port_policy_drop), C(src_denied),
	C(proxy_syn_opening), C(proxy_ack_opening), C(proxy_outside_synack), C(sc_reset),
	C(proxy_rst_ignored), C(sc_aborted), C(sc_badack), C(proxy_ack_no_handshake),
	C(cookie_failed), C(cookie_limited), C(proxy_unexpected), C(port_unparsed), C(proxy_icmp),
	C(port_bridged),
	C(proxy_reset), C(proxy_to_server), C(proxy_adopt_passed), C(proxy_opened), C(sc_dupsyn),
	C(sc_added), C(sc_sendcookie), C(proxy_synack_mismatch), C(proxy_server_opening),
	C(proxy_server_no_flow), C(proxy_server_rst), C(proxy_to_client), C(proxy_adopt_full),
	C(proxy_established), C(proxy_ack_resent), C(proxy_source_quota),
	C(sc_source_quota_dropped), C(proxy_adopt_source_quota), C(src_syn_limited),
	C(src_prefix_limited), C(src_reflect_capped), END };
/* Every flow that comes into the table or leaves it moves one of these. */
static const size_t flow_in[] = { C(proxy_opened), C(proxy_adopted), END };
static const size_t flow_out[] = { C(proxy_reset), C(proxy_closed), C(proxy_server_rst),
	C(proxy_server_timeout), C(proxy_expired), C(proxy_evicted), END };

#undef C

static uint64_t
moved(const struct sw_counters *a, const struct sw_counters *b, const size_t *set)
{
	uint64_t n = 0;

	for (; *set != END; set++)
		n += *(const uint64_t *)((const uint8_t *)b + *set) -
		     *(const uint64_t *)((const uint8_t *)a + *set);
	return n;
}

/* Both tables, after every burst and every round; and the flows counted in and out since
 * the last time are the table's change. */
static void
check_tables(void)
{
	struct sw_lcore *lc = D.lc;
	uint64_t in = moved(&S.tables_cnt, &lc->cnt, flow_in);
	uint64_t out = moved(&S.tables_cnt, &lc->cnt, flow_out);

	check_ctab(&lc->sc.tab, false, RTE_MAX(S.cachelimit, S.sc_allowed));
	S.sc_allowed = RTE_MAX(S.cachelimit, lc->sc.tab.count);
	check_ctab(&lc->ft.tab, true, lc->ft.limit);
	FZ_CHECK((uint64_t)S.flows + in - out == lc->ft.tab.count, "the flow table went from %u "
		 "to %u flows; the counters say %" PRIu64 " in, %" PRIu64 " out", S.flows,
		 lc->ft.tab.count, in, out);
	S.flows = lc->ft.tab.count;
	S.tables_cnt = lc->cnt;
}

struct burst {
	unsigned int first, n;          /* its mbufs: mbufs[first .. first + n) */
	enum sw_side from;
	struct sw_counters before, after;
};

static void
check_burst(const struct burst *b)
{
	unsigned int i, dropped = 0, out = 0, in = 0;
	const size_t *sd = b->from == SW_OUTSIDE ? out_drop : in_drop;
	const size_t *so = b->from == SW_OUTSIDE ? out_outside : in_outside;
	const size_t *si = b->from == SW_OUTSIDE ? out_inside : in_inside;

	for (i = b->first; i < b->first + b->n; i++) {
		if (mbufs[i]->state == HM_FREED)
			dropped++;
		else if (mbufs[i]->sent_side == SW_OUTSIDE)
			out++;
		else
			in++;
	}
	FZ_CHECK(moved(&b->before, &b->after, sd) == dropped &&
		 moved(&b->before, &b->after, so) == out &&
		 moved(&b->before, &b->after, si) == in,
		 "%s burst of %u: counters say %" PRIu64 " dropped, %" PRIu64 " out, %" PRIu64
		 " in; the frames went %u, %u, %u", b->from == SW_OUTSIDE ? "outside" : "inside",
		 b->n, moved(&b->before, &b->after, sd), moved(&b->before, &b->after, so),
		 moved(&b->before, &b->after, si), dropped, out, in);
	FZ_CHECK(moved(&b->before, &b->after, any_fate) == b->n,
		 "%s burst of %u: the counters of frames' fates moved by %" PRIu64,
		 b->from == SW_OUTSIDE ? "outside" : "inside", b->n,
		 moved(&b->before, &b->after, any_fate));
}

/* ---- frames from the input ---- */

/*
 * A segment that answers what synwall holds for its tuple, without a conversation of the
 * harness's (so that a flood of them opens as many flows as it has frames): a client's ACK
 * (no SYN, RST) carries a valid cookie for its ISN (its seq - 1) and the option bits of its
 * own ack - 1 (sw_cookie_make under the fixture's keys), and with timestamps a TSecr that
 * echoes the MAC's other 8 bits; a server's SYN-ACK acknowledges the server SYN of its
 * opening flow.
 */
static void
answer_from_state(uint8_t *f, const struct fz_frame *fr, enum sw_side side)
{
	uint8_t *th = f + fr->l4_off;
	struct sw_tuple t, ct;
	struct sw_cookie_opts co;
	uint8_t fl;

	if (!frame_tuple(f, fr, &t))
		return;
	fl = th[13];
	if (side == SW_OUTSIDE && (fl & (SW_TH_SYN | SW_TH_RST | SW_TH_ACK)) == SW_TH_ACK) {
		uint32_t irs = fz_rd32(th + 4) - 1, cookie, i;

		sw_cookie_decode(fz_rd32(th + 8) - 1, &co);
		cookie = sw_cookie_make(&cfg()->keys, &t, irs, &co);
		fz_wr32(th + 8, cookie + 1);
		/* the timestamps option, if the options hold one whole */
		for (i = 20; i + 10 <= fr->th_len;) {
			uint8_t kind = th[i];

			if (kind == 0)
				break;
			if (kind == 1) {
				i++;
				continue;
			}
			if (th[i + 1] < 2)
				break;
			if (kind == 8 && th[i + 1] == 10) {
				uint32_t tsecr = fz_rd32(th + i + 6);
				uint8_t mac8 = (uint8_t)sw_cookie_mac(&cfg()->keys, &t, irs,
								      cookie & 0xff);

				fz_wr32(th + i + 6, (tsecr & ~0xff0u) |
					(uint32_t)mac8 << SW_COOKIE_TS_SHIFT);
				break;
			}
			i += th[i + 1];
		}
	} else if (side == SW_INSIDE && (fl & (SW_TH_SYN | SW_TH_ACK)) == (SW_TH_SYN | SW_TH_ACK)) {
		const struct sw_flow *fw;

		sw_tuple_reverse(&ct, &t);
		fw = flow_of(&ct);
		if (fw != NULL && sw_flow_state(fw) == SW_FLOW_OPENING)
			fz_wr32(th + 8, fw->irs + 1);
	}
}

/* The next frame: its control byte, its bytes, the fix-ups. NULL when the input ends. */
static struct hm *
next_frame(struct fz_in *in, enum sw_side side, const struct hm *prev)
{
	uint8_t f[MAX_FRAME];
	uint8_t ctl = fz_u8(in);
	uint32_t len;
	struct fz_frame fr;
	struct sw_tuple t, ct;
	struct hm *h;
	uint64_t flags;
	size_t got;

	if (in->n == 0 && ctl == 0)
		return NULL;
	if ((ctl & 0x08) && prev != NULL) {
		/* a flood: the previous frame again, from the next client address (or, with
		 * 0x80, of a TCP segment: from the same client's next port) */
		len = prev->orig_len;
		memcpy(f, prev->orig, len);
		fz_frame_walk(f, len, &fr);
		if (fr.ip && (ctl & 0x80) && fr.proto == FZ_PROTO_TCP && fr.l4_len >= 20) {
			uint8_t *cport = f + fr.l4_off + (side == SW_OUTSIDE ? 0 : 2);

			fz_wr16(cport, (uint16_t)(fz_rd16(cport) + 1));
		} else if (fr.ip) {
			f[fr.l3_off + (fr.v6 ? 23 : 15)] += (side == SW_OUTSIDE) ? 1 : 0;
			f[fr.l3_off + (fr.v6 ? 39 : 19)] += (side == SW_INSIDE) ? 1 : 0;
		}
		if (fr.ip) {
			if (ctl & 0x40)
				answer_from_state(f, &fr, side);
			fz_csum_fix(f, &fr);
		}
	} else {
		const uint8_t *p;

		len = fz_u16(in) % (MAX_FRAME + 1);
		p = fz_bytes(in, len, &got);
		len = (uint32_t)got;
		memcpy(f, p, len);
		fz_frame_walk(f, len, &fr);
		if ((ctl & 0x02) && frame_tuple(f, &fr, &t)) {
			/* numbered within its conversation: the frame's own numbers are offsets */
			uint8_t *th = f + fr.l4_off, fl = th[13];
			struct conv *c;

			if (side == SW_OUTSIDE)
				ct = t;
			else
				sw_tuple_reverse(&ct, &t);
			c = conv_find(&ct, false);
			if (c != NULL && side == SW_OUTSIDE && !(fl & SW_TH_SYN)) {
				fz_wr32(th + 4, c->irs + 1 + fz_rd32(th + 4));
				fz_wr32(th + 8, c->iss + 1 + fz_rd32(th + 8));
			} else if (c != NULL && side == SW_INSIDE && (fl & SW_TH_SYN)) {
				c->srv_isn = fz_rd32(th + 4);
				fz_wr32(th + 8, c->srv_syn + 1 + fz_rd32(th + 8));
			} else if (c != NULL && side == SW_INSIDE) {
				fz_wr32(th + 4, c->srv_isn + 1 + fz_rd32(th + 4));
				fz_wr32(th + 8, c->irs + 1 + fz_rd32(th + 8));
			}
			if (c != NULL && (ctl & 0x04)) {
				uint8_t *ts = frame_ts(f, &fr);

				if (ts != NULL)
					fz_wr32(ts + 6, side == SW_OUTSIDE ? c->ts_to_client
									  : c->ts_to_server);
			}
		} else if ((ctl & 0x02) && fr.ip && side == SW_OUTSIDE &&
			   (fr.proto == FZ_PROTO_ICMP || fr.proto == FZ_PROTO_ICMPV6) &&
			   fr.l4_len >= 8 + (fr.v6 ? 40u : 20u) + 8) {
			/* an ICMP error quoting one of our SYN-ACKs or a spliced segment */
			uint8_t *q = f + fr.l4_off + 8;
			uint32_t qhl = fr.v6 ? 40 : (uint32_t)(q[0] & 15) * 4;
			struct conv *c;

			if (qhl >= 20 && fr.l4_len >= 8 + qhl + 8) {
				memset(&t, 0, sizeof(t));
				t.v6 = fr.v6;
				memcpy(t.src, q + (fr.v6 ? 8 : 12), fr.v6 ? 16 : 4);
				memcpy(t.dst, q + (fr.v6 ? 24 : 16), fr.v6 ? 16 : 4);
				t.sport = fz_rd16(q + qhl);
				t.dport = fz_rd16(q + qhl + 2);
				sw_tuple_reverse(&ct, &t);
				c = conv_find(&ct, false);
				if (c != NULL)
					fz_wr32(q + qhl + 4, c->iss + fz_rd32(q + qhl + 4));
			}
		}
		if ((ctl & 0x40) && fr.ip)
			answer_from_state(f, &fr, side);
		if ((ctl & 0x01) && fr.ip)
			fz_csum_fix(f, &fr);
	}
	h = hm_new(f, len, side == SW_OUTSIDE ? FROM_OUTSIDE : FROM_INSIDE);
	/* the NIC's verdict, when the fixture says the port gives one */
	flags = 0;
	switch ((ctl >> 4) & 3) {
	case 1: flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD; break;
	case 2: flags = RTE_MBUF_F_RX_L4_CKSUM_BAD; break;
	case 3: flags = RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_BAD; break;
	default: break;
	}
	h->m.ol_flags = flags;
	return h;
}

/* ---- rounds ---- */

static void
round_begin(void)
{
	S.round_start = D.lc->cnt;
	S.failed_allocs = 0;
}

/* The rest of a worker round (worker.c): drops back, timers, TX; then the checks. */
static void
round_end(struct burst *bursts, unsigned int nb)
{
	struct sw_lcore *lc = D.lc;
	struct sw_stage_io io = { .lc = lc, .out = &S.sink };
	struct sw_counters before_timers = lc->cnt;
	unsigned int i;

	sw_sink_flush_drops(&S.sink);
	S.doing = "timers";
	sw_syncache_sweep(&lc->sc, lc->now_ms, SW_SWEEP_PERIOD_MS, sw_synack_timer, &io);
	sw_flowtab_sweep(&lc->ft, lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer, &io);
	S.doing = "TX";
	sw_sink_flush_tx(&S.sink);
	sw_sink_flush_drops(&S.sink);
	S.doing = "checks";
	for (i = 0; i < nmbufs; i++)
		FZ_CHECK(mbufs[i]->state != HM_LIVE, "an mbuf (%s) never given back: a leak",
			 mbufs[i]->from == FROM_ALLOC ? "allocated" : "received");
	for (i = 0; i < nb; i++)
		check_burst(&bursts[i]);
	FZ_CHECK(moved(&before_timers, &lc->cnt, any_fate) == 0,
		 "the timers moved a counter of a received frame's fate");
	FZ_CHECK(lc->cnt.port_nombuf - S.round_start.port_nombuf == S.failed_allocs,
		 "%u allocations failed, port.nombuf moved by %" PRIu64, S.failed_allocs,
		 lc->cnt.port_nombuf - S.round_start.port_nombuf);
	check_tables();
	hm_free_all();
	S.doing = NULL;
}

static bool
burst(struct fz_in *in, enum sw_side side, unsigned int n, struct burst *b,
      unsigned int *frames)
{
	struct rte_mbuf *pkts[SW_RX_BURST];
	const struct hm *prev = NULL;
	unsigned int k = 0;

	b->first = nmbufs;
	b->from = side;
	while (k < n && *frames < MAX_FRAMES) {
		struct hm *h = next_frame(in, side, prev);

		if (h == NULL)
			break;
		pkts[k++] = &h->m;
		prev = h;
		(*frames)++;
	}
	b->n = k;
	b->before = D.lc->cnt;
	if (k != 0) {
		S.doing = side == SW_OUTSIDE ? "outside burst" : "inside burst";
		if (side == SW_OUTSIDE)
			sw_outside_burst(D.lc, &S.sink, pkts, (uint16_t)k);
		else
			sw_inside_burst(D.lc, &S.sink, pkts, (uint16_t)k);
		S.doing = "tables after the burst";
		check_tables();
	}
	b->after = D.lc->cnt;
	return k != 0;
}

/* The ports the operations name: the fixture's (proxy, cookie, drop, pass) and two more. */
static const uint16_t ports[] = { FAKE_PORT_PROXY, FAKE_PORT_COOKIE, FAKE_PORT_DROP,
				  FAKE_PORT_PASS, 443, 8443 };

/* As the control thread publishes a change (ctlproto.c): a new version, the old one's
 * consequences for the ports whose mode changed. */
static void
mode_change(uint8_t which, uint8_t mode)
{
	struct sw_config *n = cfg_spare;

	memcpy(n, D.cfg, sizeof(*n));
	n->port_mode[ports[which % RTE_DIM(ports)]] = (uint8_t)(mode % 4);
	sw_cfg_mode_change(D.cfg, n, D.lc->now_ms);
	cfg_spare = D.cfg;
	D.cfg = n;
	D.lc->cfg = n;
}

/* As synwallctl limits set publishes a change (ctlproto.c): a new version of the
 * configuration with the syncache's cachelimit (1 .. hashsize x bucketlimit) or its
 * syncookies settings changed. */
static void
limit_change(uint8_t which, uint8_t v)
{
	struct sw_config *n = cfg_spare;
	const struct sw_ctab *sc = &D.lc->sc.tab;

	memcpy(n, D.cfg, sizeof(*n));
	if (which & 1) {
		n->lim.syncookies = v & 1;
		n->lim.syncookies_only = n->lim.syncookies && (v & 2);
	} else {
		n->lim.cachelimit = 1 + v % (sc->hashsize * sc->bucketlimit);
		S.cachelimit = n->lim.cachelimit;
	}
	cfg_spare = D.cfg;
	D.cfg = n;
	D.lc->cfg = n;
}

static void
setup(struct fz_in *in)
{
	static const uint32_t hashsizes[] = { 8, 16, 64 };
	/* flow tables: 12 in 16 slots (the table's limit comes first: LRU eviction), 16 in
	 * 16, 20 and 40 (a flow's two buckets full before the table: eviction from them) */
	static const uint32_t flows[] = { 64, 128, 1024, 12, 16, 20, 40, 256 };
	uint8_t h0 = fz_u8(in), rexmt = fz_u8(in), retries = fz_u8(in), idle = fz_u8(in);
	uint8_t sizes = fz_u8(in), climit = fz_u8(in), prof = fz_u8(in), adopt = fz_u8(in);
	uint8_t quota = fz_u8(in);
	/* source quotas (srcquota.h), as --source-flows, --source-halfopen, --source-prefix */
	struct sw_srcq_params fq = {
		.key = { 0x0123456789abcdefull, 0xfedcba9876543210ull },
		.v4_len = (quota & 0x10) ? 24 : 32,
		.v6_len = (quota & 0x20) ? 48 : 64,
		.limit = quota & 3,
	};
	struct sw_srcq_params sq = fq;
	struct fake_dp_params p = {
		.hashsize = hashsizes[sizes % 3],
		.bucketlimit = 1 + (sizes >> 2) % 8,
		.flows = flows[sizes >> 5],
	};
	struct sw_config *c;
	struct sw_profile *pp;

	p.cachelimit = 1 + climit % (p.hashsize * p.bucketlimit);
	S.cachelimit = p.cachelimit;
	sq.key.k0 ^= 1;
	sq.limit = (quota >> 2) & 3;
	fixture_reset(&p, &fq, &sq);
	c = D.cfg;
	c->lim.syncookies = !(h0 & 0x01);
	c->lim.syncookies_only = c->lim.syncookies && (h0 & 0x02);
	c->unparsed_pass = (h0 & 0x04) != 0;
	c->adopt_window_s = (h0 & 0x08) ? adopt % 8 : SW_ADOPT_WINDOW_DEFAULT_S;
	c->lim.rexmtlimit = rexmt % (SW_REXMTLIMIT_MAX + 1);
	c->lim.server_retries = retries % (SW_SERVER_RETRIES_MAX + 1);
	/* a budget of a few cookie checks a second of ACKs without timestamps, or none */
	c->lim.cookie_check_rate = (h0 & 0x10) ? 1 + (rexmt >> 4) % 8 : 0;
	if (idle != 0) {
		c->port_idle_s[FAKE_PORT_PROXY] = idle;
		sw_cfg_update_idle_min(c);
	}
	/* what the servers of the proxy port do, as configured */
	pp = &c->port_profile[FAKE_PORT_PROXY];
	pp->flags = prof & 7;
	pp->wscale = (uint8_t)((prof >> 3) % 15);
	pp->mss = (uint16_t)(SW_MSS_MIN + ((prof >> 7) ? 900u : 0u));
	D.lc->rx_csum = (h0 & 0x80) != 0;
	/* ports that offload IPv4/TCP checksums on TX (app.h: tx_csum) */
	S.sink.tx_csum[SW_OUTSIDE] = (quota & 0x40) != 0;
	S.sink.tx_csum[SW_INSIDE] = (quota & 0x80) != 0;
	if (sw_siphash_select((enum sw_siphash_impl)((h0 >> 5) & 3)) != 0)
		sw_siphash_select(SW_SIPHASH_SCALAR);
	S.sink.ops = &sink_ops;
	S.sc_allowed = S.cachelimit;
	/* the source table (srctab.h), of 64 entries (8 sets: floods evict), with a SYN rate
	 * of 2 a second, 3 at once, and a cap of 2 SYN-ACKs a second towards a prefix */
	if (adopt & 0x10) {
		static uint8_t stmem[8 * 64 + 64 * 64] __rte_cache_aligned;
		const struct sw_sipkey stkey = { 0x1111, 0x2222 };

		memset(stmem, 0, sizeof(stmem));
		if (sw_srct_init(&D.lc->st, stmem, 64, &stkey, fq.v4_len, fq.v6_len) != 0)
			abort();
		c->lim.syn_rate = (adopt & 0x20) ? 2 : 0;
		c->lim.syn_burst = 3;
		c->lim.reflect_rate = (adopt & 0x40) ? 2 : 0;
	}
}

/* FUZZ_TRACE=1 in the environment: each round's operation and the counters it moved, on
 * stderr (what an input does, when reading a crash or a seed). */
#define TRACE_NAME(field, name) name,
static const char *const counter_names[] = { SW_COUNTERS(TRACE_NAME) };
#undef TRACE_NAME

static void
trace_round(uint8_t op, const struct sw_counters *before)
{
	unsigned int i;

	fprintf(stderr, "op %u (%#x) at %" PRIu64 " ms:", S.op, op, D.lc->now_ms);
	for (i = 0; i < SW_NCOUNTERS; i++)
		if (sw_counter_at(&D.lc->cnt, i) != sw_counter_at(before, i))
			fprintf(stderr, " %s+%" PRIu64, counter_names[i],
				sw_counter_at(&D.lc->cnt, i) - sw_counter_at(before, i));
	fprintf(stderr, " | flows %u syncache %u\n", D.lc->ft.tab.count, D.lc->sc.tab.count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned int frames = 0;
	struct burst b[2];
	unsigned int nb;
	uint8_t op;
	static int trace = -1;
	struct sw_counters before;

	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (size < 9)
		return 0;
	memset(&S, 0, sizeof(S));
	S.input = data;
	S.input_len = size;
	fz_on_fail = print_context;
	setup(&in);
	for (S.op = 0; S.op < MAX_OPS && in.n != 0 && frames < MAX_FRAMES; S.op++) {
		struct sw_lcore *lc = D.lc;

		op = fz_u8(&in);
		before = lc->cnt;
		lc->ft.idle_min_ms = lc->cfg->idle_min_s * 1000;
		round_begin();
		nb = 0;
		switch (op & 7) {
		case 0:                 /* an outside burst */
		case 1:                 /* an inside burst */
			burst(&in, (op & 7) ? SW_INSIDE : SW_OUTSIDE, 1 + (op >> 3), &b[0], &frames);
			nb = 1;
			break;
		case 2:                 /* both, in the worker's order */
			burst(&in, SW_OUTSIDE, 1 + (op >> 3) % 8, &b[0], &frames);
			burst(&in, SW_INSIDE, 1 + (op >> 6), &b[1], &frames);
			nb = 2;
			break;
		case 3: {               /* the clock: ms, or seconds with the top bit */
			uint16_t v = fz_u16(&in);
			unsigned int r, rounds = 1 + (op >> 3) % 8;

			lc->now_ms += (v & 0x8000) ? (uint64_t)(v & 0x7fff) * 1000 : v;
			for (r = 0; r + 1 < rounds; r++) {
				round_end(NULL, 0);
				round_begin();
				lc->now_ms += 1 + (op >> 6);
			}
			break;
		}
		case 4:                 /* a port's mode */
			mode_change(op >> 3, fz_u8(&in));
			break;
		case 5:                 /* the next allocations fail */
			S.fail_allocs = op >> 3;
			break;
		case 7:                 /* a limit changed at run time */
			limit_change(op >> 3, fz_u8(&in));
			break;
		default:                /* (6) a round with nothing received */
			lc->now_ms += op >> 3;
			break;
		}
		round_end(b, nb);
		if (trace)
			trace_round(op, &before);
	}
	hm_free_all();
	return 0;
}
