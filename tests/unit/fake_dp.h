/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake of what the packet stages run on, for the unit tests (no EAL, no mempool, no
 * port):
 *
 *  - mbufs: each a struct rte_mbuf of its own and a malloc'ed buffer of exactly buf_len
 *    bytes (headroom RTE_PKTMBUF_HEADROOM, refcnt 1, one segment, no pool), every byte
 *    that is not the frame set to FAKE_POISON. Every mbuf is registered: when the sink
 *    takes one back, the bytes outside what was ever its frame must still be poison (a
 *    stage wrote outside its packet otherwise), and it must be in a shape a port would
 *    take (one segment, data_len = pkt_len, within its buffer).
 *  - a sink (struct fake_sink) whose operations record every packet sent, per side, and
 *    every one dropped, in order; its alloc can be told to fail.
 *  - an lcore (struct fake_dp) with a syncache, a flow table, a default configuration with
 *    a fixed cookie key and a few ports protected, and a clock the test sets.
 *
 * fake_dp_fini() ends the round, frees the fixture and returns (each printed on stderr)
 * the problems found since the last fini: an mbuf given back twice (sent after being
 * freed, freed twice) or damaged as above and, once no fixture is left (a test may run a
 * twin beside its fixture), every mbuf never given back (a leak); then all mbufs are
 * freed. The checks of the segments written are in fake_check.h.
 */
#ifndef FAKE_DP_H
#define FAKE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "bytes.h"
#include "config.h"
#include "handshake.h"
#include "lcore.h"
#include "parse.h"
#include "sink.h"
#include "stage.h"
#include "syn.h"

/* ---- mbufs ---- */

#define FAKE_POISON     0xa5
#define FAKE_MBUF_ROOM  2048    /* data room behind the headroom */

/* A received frame: len bytes copied behind the standard headroom. */
struct rte_mbuf *fake_mbuf(const void *frame, uint32_t len);
/* The same with another headroom (0: no room to prepend anything). */
struct rte_mbuf *fake_mbuf_headroom(const void *frame, uint32_t len, uint16_t headroom);

static inline uint8_t *
fake_data(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

/* ---- the sink ---- */

struct fake_list {
	struct rte_mbuf **m;
	unsigned int n;
	unsigned int cap;
};

struct fake_sink {
	struct sw_sink sink;            /* first: the stages are handed &sink */
	int fail_allocs;                /* the next this many allocs fail; < 0: every one */
	unsigned int allocs;            /* alloc calls, failed ones too */
	unsigned int flushes[2];        /* flush calls by side */
	struct fake_list sent[2];       /* by side, in the order sent */
	struct fake_list dropped;       /* in the order freed */
};

/* ---- the lcore ---- */

/* The ports the fixture protects; every other port passes. */
#define FAKE_PORT_PROXY   80
#define FAKE_PORT_COOKIE  8080
#define FAKE_PORT_DROP    23
#define FAKE_PORT_PASS    22

#define FAKE_TS_OFFSET    0x5a5a0003u   /* lc->ts_offset: its low bits are not 0 */
#define FAKE_T0_MS        1000000u      /* the clock at the start */
#define FAKE_SEED         0x1234567u    /* both tables' (and the learn cache's) seed */

struct fake_dp_params {
	uint32_t hashsize;      /* syncache buckets (0: 64) */
	uint32_t bucketlimit;   /* 0: 8 */
	uint32_t cachelimit;    /* 0: hashsize x bucketlimit */
	uint32_t flows;         /* flow table entries (0: 1024) */
};

struct fake_dp {
	struct sw_lcore *lc;
	struct sw_config *cfg;          /* lc->cfg: the test's to change */
	struct fake_sink out;
	struct sw_stage_io io;          /* { lc, &out.sink }: the timers' argument */
	void *scmem;
	void *ftmem;
	struct sw_learn_table *learn;   /* lc->learn */
};

/* Keys: key[0] is the one cookies are made with (epoch 0, as with --key). */
extern const struct sw_sipkey fake_key0, fake_key1;

void fake_dp_init(struct fake_dp *d, const struct fake_dp_params *p);
/* End the round and free d; returns the problems found (see the top of this file). */
unsigned int fake_dp_fini(struct fake_dp *d);

static inline struct sw_sink *
fake_out(struct fake_dp *d)
{
	return &d->out.sink;
}

static inline void
fake_dp_time(struct fake_dp *d, uint64_t now_ms)
{
	d->lc->now_ms = now_ms;
}

/* The end of a worker round: drops freed, then both sides sent. */
static inline void
fake_dp_round(struct fake_dp *d)
{
	sw_sink_flush_drops(fake_out(d));
	sw_sink_flush_tx(fake_out(d));
}

/* What a stage was handed goes where its verdict says; then the round ends. */
static inline void
fake_dp_put(struct fake_dp *d, struct rte_mbuf *m, enum sw_verdict v)
{
	sw_sink_put(fake_out(d), m, v);
	fake_dp_round(d);
}

static inline unsigned int
fake_nsent(const struct fake_dp *d, enum sw_side side)
{
	return d->out.sent[side].n;
}

static inline unsigned int
fake_ndropped(const struct fake_dp *d)
{
	return d->out.dropped.n;
}

/* Where m went: SW_V_OUTSIDE, SW_V_INSIDE (sent there), SW_V_DROP (freed), or -1 (not
 * given back yet). */
int fake_fate(const struct fake_dp *d, const struct rte_mbuf *m);

/* The fake's own test: problems are counted but not printed. */
extern bool fake_dp_quiet;

/* The last packet sent on side (NULL when none was). */
static inline struct rte_mbuf *
fake_last_sent(const struct fake_dp *d, enum sw_side side)
{
	const struct fake_list *l = &d->out.sent[side];

	return l->n == 0 ? NULL : l->m[l->n - 1];
}

/* ---- frames ---- */

extern const uint8_t fake_mac_client[6];
extern const uint8_t fake_mac_server[6];

/* Client number `client` (198.18.0.x / 2001:2::c:x) to the server (198.18.1.1 /
 * 2001:2::1:1), client -> server. */
void fake_tuple(struct sw_tuple *t, int v6, uint32_t client, uint16_t sport, uint16_t dport);

struct fake_tcp {
	struct sw_tuple t;      /* this segment's source -> destination */
	bool from_server;       /* MACs server -> client (else client -> server) */
	bool vlan;
	uint16_t vlan_tci;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	uint8_t opts[40];
	uint8_t optlen;
	uint16_t paylen;        /* payload bytes (a pattern) */
	bool bad_csum;          /* TCP checksum off by one */
};

/* Options in Linux's layout (MSS, SACK_PERM, TS, NOP, WS, with NOPs for the missing ones):
 * writes s->opts, sets s->optlen. */
void fake_tcp_opts(struct fake_tcp *s, uint8_t present, uint16_t mss, uint8_t wscale,
		   uint32_t tsval, uint32_t tsecr);
/* The frame, checksums computed here independently of the dataplane; returns its length. */
uint32_t fake_tcp_frame(uint8_t *buf, const struct fake_tcp *s);
struct rte_mbuf *fake_tcp_mbuf(const struct fake_tcp *s);

/* A copy of m's frame (to compare with what the stage left). */
static inline void
fake_copy(const struct rte_mbuf *m, uint8_t *buf, uint32_t *len)
{
	*len = rte_pktmbuf_data_len(m);
	memcpy(buf, fake_data(m), *len);
}

/* ---- checking a segment written into an mbuf ---- */

/* Parse m back to TCP: 0, or -1 not TCP, -2 bad TCP header, -3 a checksum wrong, -4 the
 * frame's length is not the segment's. */
int fake_parse(const struct rte_mbuf *m, struct sw_pkt *pkt);

/* ---- driving a stage as the pipeline does ---- */

/* m parsed to TCP (both parser stages) and its tuple's hash (the flow table's, which the
 * pipeline uses for both tables): 0, or the parser's negative result (SW_L3_* > 0: not
 * TCP). */
int fake_rx(const struct fake_dp *d, const struct rte_mbuf *m, struct sw_pkt *pkt,
	    uint32_t *hash);
/* A SYN's plan and its cookie, as the burst's first pass makes them: sw_syn_plan, then the
 * MAC from sw_cookie_msg and sw_siphash24. */
void fake_syn_plan(const struct fake_dp *d, const struct sw_pkt *pkt, struct sw_syn_plan *p);
/* An ACK's first-pass MACs (the probe's too for a zero-length one). */
void fake_ack_macs(const struct fake_dp *d, const struct sw_pkt *pkt, struct sw_ack_macs *m);
/* The TSecr of a client that echoes the TSval of our SYN-ACK with the cookie (made over
 * t and isn under fake_dp's keys, epoch 0) offering shift ws_code: its MAC's other 8 bits
 * and ws_code in the low 12 bits. */
uint32_t fake_cookie_tsecr(const struct sw_tuple *t, uint32_t isn, uint32_t cookie,
			   uint8_t ws_code);

/* The lcore's last log line ("" when none was queued). */
static inline const char *
fake_last_log(const struct fake_dp *d)
{
	const struct sw_logq *q = &d->lc->log;

	if (q->head == q->tail)
		return "";
	return q->line[(q->head - 1) & (SW_LOGQ_SIZE - 1)];
}

/* Forget queued log lines and the rate limit: the next line is queued. */
static inline void
fake_log_reset(struct fake_dp *d)
{
	d->lc->log.tail = d->lc->log.head;
	d->lc->log_next_ms = 0;
	d->lc->log_suppressed = 0;
}

#endif
