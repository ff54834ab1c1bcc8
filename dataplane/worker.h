/* SPDX-License-Identifier: BSD-3-Clause */
/* A packet worker: one per worker lcore, owning one RX and one TX queue on each port. */
#ifndef SW_WORKER_H
#define SW_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "lcore.h"
#include "mailbox.h"
#include "sink.h"

struct sw_app;

struct sw_worker {
	/* set before launch, read-only after */
	struct sw_app *app;
	uint16_t queue;                 /* queue id on both ports, and RCU thread id */
	/* set by the worker when it starts, once the ports are */
	uint16_t port[2];               /* by side: the port ids */

	/* the stages' state and their sink (owned by this worker; lc's counters and log
	 * ring are read by the control thread and telemetry, see lcore.h) */
	struct sw_lcore lc;
	struct sw_sink out;

	/* written by this worker, read by the control thread (--idle-exit) */
	uint64_t last_rx_ms;
	/* commands from the control thread (mailbox.h says who writes what) */
	struct sw_mailbox mbox __rte_cache_aligned;
} __rte_cache_aligned;

/* Allocate and initialise the worker for queue q on lcore. */
struct sw_worker *sw_worker_create(struct sw_app *app, unsigned int lcore, uint16_t q);
void sw_worker_free(struct sw_worker *w);
/* The worker lcore's main loop; returns when app->quit is set. */
int sw_worker_run(struct sw_worker *w);

/* preload.c (benchmarks): n established flows of a known shape in w's table. Returns 0, or
 * -1 when the table is full first. */
int sw_preload_flows(struct sw_worker *w, uint32_t n, uint32_t now_ms);

#endif
