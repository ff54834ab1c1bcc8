/* SPDX-License-Identifier: BSD-3-Clause */
/* A packet worker: one per worker lcore, owning one RX and one TX queue on each port. */
#ifndef SW_WORKER_H
#define SW_WORKER_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "flowtab.h"
#include "profile.h"
#include "stats.h"
#include "sw_const.h"
#include "syncache.h"

struct sw_app;

struct sw_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[SW_TX_BUF];
};

/* Log lines travel from the worker to the control thread, which prints them: the worker
 * makes no system call. Single producer (worker), single consumer (control thread). */
#define SW_LOGQ_SIZE 16         /* power of 2 */
#define SW_LOG_LEN   240

struct sw_logq {
	uint32_t head;          /* written by the worker (release), read by control */
	uint32_t tail;          /* written by control (release), read by the worker */
	char line[SW_LOGQ_SIZE][SW_LOG_LEN];
};

/*
 * Operations on a worker's own state (syncache dump and flush) are carried out by the worker
 * itself: the control thread fills in a request and bumps `req`; the worker, once per loop,
 * sees req != done, does it, and sets done = req.
 */
enum sw_op {
	SW_OP_NONE = 0,
	SW_OP_DUMP,
	SW_OP_FLUSH,
};

struct sw_dump_entry {
	struct sw_tuple t;
	uint32_t irs;
	uint32_t iss;
	uint16_t mss;           /* 0: none */
	uint8_t rxmits;
	uint8_t flags;          /* SW_SCF_* */
	uint8_t wscale;
};

struct sw_mbox {
	uint32_t req;           /* written by control (release), read by the worker */
	uint32_t done;          /* written by the worker (release), read by control */
	/* the request: written by control before req, read by the worker */
	uint8_t op;
	uint32_t bucket;        /* dump: start here */
	uint32_t pos;
	uint32_t max;
	struct sw_dump_entry *out;
	/* the answer: written by the worker before done, read by control */
	uint32_t n;
	uint32_t next_bucket;
	uint32_t next_pos;
	uint8_t more;
	uint64_t flushed;
};

struct sw_worker {
	/* set before launch, read-only after */
	struct sw_app *app;
	unsigned int lcore_id;
	uint16_t queue;                 /* queue id on both ports, and RCU thread id */
	uint32_t ts_offset;             /* added to the ms clock for TSvals we send */

	/* owned by this worker */
	struct sw_syncache sc;
	struct sw_flowtab ft;
	struct sw_learn_cache learn;    /* server profiles seen in SYN-ACKs */
	struct sw_txbuf tx_outside;
	struct sw_txbuf tx_inside;
	struct sw_txbuf dropped;        /* mbufs to free, in bulk, at the end of the round */
	uint64_t now_ms;                /* this loop iteration's time */
	uint64_t log_next_ms;
	uint32_t log_suppressed;

	/* written by this worker, read by the control thread and telemetry */
	struct sw_counters cnt __rte_cache_aligned;
	uint64_t last_rx_ms;
	struct sw_logq log;
	struct sw_mbox mbox __rte_cache_aligned;
} __rte_cache_aligned;

/* Allocate and initialise the worker for queue q on lcore. */
struct sw_worker *sw_worker_create(struct sw_app *app, unsigned int lcore, uint16_t q);
void sw_worker_free(struct sw_worker *w);
/* The worker lcore's main loop; returns when app->quit is set. */
int sw_worker_run(struct sw_worker *w);
/* Control thread: have worker w carry out the operation in w->mbox (filled in by the caller);
 * returns 0, or -1 when it did not answer within timeout_ms. */
int sw_worker_call(struct sw_worker *w, uint32_t timeout_ms);

/* Control thread: print and drop queued log lines. */
void sw_worker_drain_log(struct sw_worker *w, FILE *f);

#endif
