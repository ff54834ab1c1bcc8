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
	uint64_t now_ms;                /* this loop iteration's time */
	uint64_t log_next_ms;
	uint32_t log_suppressed;

	/* written by this worker, read by the control thread and telemetry */
	struct sw_counters cnt __rte_cache_aligned;
	uint64_t last_rx_ms;
	struct sw_logq log;
} __rte_cache_aligned;

/* Allocate and initialise the worker for queue q on lcore. */
struct sw_worker *sw_worker_create(struct sw_app *app, unsigned int lcore, uint16_t q);
void sw_worker_free(struct sw_worker *w);
/* The worker lcore's main loop; returns when app->quit is set. */
int sw_worker_run(struct sw_worker *w);
/* Control thread: print and drop queued log lines. */
void sw_worker_drain_log(struct sw_worker *w, FILE *f);

#endif
