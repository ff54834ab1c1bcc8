/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the stages put packets: the output sink. A stage never calls the ethdev or the
 * mempool itself; it hands the packet it was given back as a verdict (enum sw_verdict),
 * and the packets it makes (a window update, a retransmitted SYN-ACK) it takes from and
 * gives to the sink. The worker's sink sends on its TX queues (worker.c); a unit test's
 * records what it is given.
 *
 * The buffers are filled inline; the operations are called only when a buffer is full, at
 * the end of a round, or for a new mbuf, so an indirect call costs a packet nothing.
 */
#ifndef SW_SINK_H
#define SW_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "sw_const.h"

/* The ports, as the stages name them. */
enum sw_side {
	SW_OUTSIDE = 0,         /* clients (and attackers) */
	SW_INSIDE = 1,          /* the protected servers */
};

/* What becomes of the packet a stage was handed. */
enum sw_verdict {
	SW_V_DROP = 0,          /* freed, with the round's other drops */
	SW_V_OUTSIDE,           /* sent out of the outside port */
	SW_V_INSIDE,            /* sent out of the inside port */
	SW_V_NO_FLOW,           /* (client segments) handle it as if there were no flow */
};

struct sw_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[SW_TX_BUF];
};

struct sw_sink;

struct sw_sink_ops {
	/* Send the side's buffer and empty it; what the port does not take is freed and
	 * counted there. */
	void (*flush)(struct sw_sink *s, enum sw_side side);
	/* Free the buffered drops and empty the buffer. */
	void (*free_drops)(struct sw_sink *s);
	/* A fresh mbuf for a segment of our own, or NULL when there is none. */
	struct rte_mbuf *(*alloc)(struct sw_sink *s);
};

/* Owned by one worker: only it fills and flushes the buffers. */
struct sw_sink {
	const struct sw_sink_ops *ops;
	bool tx_csum[2];                /* by side: the port offloads IPv4/TCP checksums */
	struct sw_txbuf tx[2];          /* by side */
	struct sw_txbuf dropped;
};

static inline void
sw_sink_send(struct sw_sink *s, enum sw_side side, struct rte_mbuf *m)
{
	struct sw_txbuf *b = &s->tx[side];

	b->pkts[b->n++] = m;
	if (unlikely(b->n == SW_TX_BUF))
		s->ops->flush(s, side);
}

/* A packet synwall is done with: freed with the round's others (one bulk return to the
 * mempool instead of one call per packet; a flood of invalid ACKs is all drops). */
static inline void
sw_sink_drop(struct sw_sink *s, struct rte_mbuf *m)
{
	s->dropped.pkts[s->dropped.n++] = m;
	if (unlikely(s->dropped.n == SW_TX_BUF))
		s->ops->free_drops(s);
}

/* The packet a stage was handed, where its verdict sends it. */
static inline void
sw_sink_put(struct sw_sink *s, struct rte_mbuf *m, enum sw_verdict v)
{
	if (v == SW_V_OUTSIDE)
		sw_sink_send(s, SW_OUTSIDE, m);
	else if (v == SW_V_INSIDE)
		sw_sink_send(s, SW_INSIDE, m);
	else
		sw_sink_drop(s, m);
}

static inline struct rte_mbuf *
sw_sink_alloc(struct sw_sink *s)
{
	return s->ops->alloc(s);
}

/* End of a round: drops back to the pool, then both ports sent. */
static inline void
sw_sink_flush_drops(struct sw_sink *s)
{
	if (s->dropped.n != 0)
		s->ops->free_drops(s);
}

static inline void
sw_sink_flush_tx(struct sw_sink *s)
{
	if (s->tx[SW_OUTSIDE].n != 0)
		s->ops->flush(s, SW_OUTSIDE);
	if (s->tx[SW_INSIDE].n != 0)
		s->ops->flush(s, SW_INSIDE);
}

#endif
