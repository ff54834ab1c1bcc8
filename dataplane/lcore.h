/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state of one worker lcore that the packet stages work on: its tables, its counters,
 * its log ring and this round's time and configuration. The stages (syn.c, handshake.c,
 * splice.c, icmp.c, pipeline.c) take this, the parsed packet and an output sink (sink.h),
 * never the application, so that tests/unit can call them.
 */
#ifndef SW_LCORE_H
#define SW_LCORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>

#include "config.h"
#include "flowtab.h"
#include "parse.h"
#include "profile.h"
#include "stats.h"
#include "syncache.h"

/* Log lines travel from the worker to the control thread, which prints them: the worker
 * makes no system call. Single producer (worker), single consumer (control thread). */
#define SW_LOGQ_SIZE 16         /* power of 2 */
#define SW_LOG_LEN   240

struct sw_logq {
	uint32_t head;          /* written by the worker (release), read by control */
	uint32_t tail;          /* written by control (release), read by the worker */
	char line[SW_LOGQ_SIZE][SW_LOG_LEN];
};

struct sw_lcore {
	/* set before launch, read-only after */
	unsigned int lcore_id;
	uint32_t ts_offset;             /* added to the ms clock for TSvals we send */
	bool rx_csum;                   /* the outside port's RX checksum flags are meaningful */
	unsigned int nworkers;          /* workers in all: their shares of the limits */

	/* this round's, set by the worker loop at the start of each round */
	uint64_t now_ms;
	const struct sw_config *cfg;
	/* the packet's, set by the pipeline before its stage runs: its source is on an allow
	 * list (srclist.h), which exempts it from the source quotas */
	bool src_allowed;

	/* owned by this worker; sc and ft are made with one hash seed, so that the pipeline
	 * hashes a tuple once for both (sw_ctab_hash of either) */
	struct sw_syncache sc;
	struct sw_flowtab ft;
	struct sw_learn_table *learn;   /* server profiles seen in SYN-ACKs: shared by all
					 * workers (profile.h says how) */
	uint64_t log_next_ms;
	uint32_t log_suppressed;
	/* the budget of cookie checks of ACKs without timestamps (handshake.h): thousandths
	 * of a check, refilled at cookie_budget_ms; this worker's share of the rate (checks a
	 * second) as of the configuration whose version is cookie_budget_version - 1 (0: none
	 * yet) */
	uint64_t cookie_budget;
	uint64_t cookie_budget_ms;
	uint64_t cookie_budget_version;
	uint32_t cookie_budget_share;

	/* written by this worker, read by the control thread and telemetry */
	struct sw_counters cnt __rte_cache_aligned;
	struct sw_logq log;
};

/* Worker: queue a log line for the control thread, at most one per SW_LOG_INTERVAL_MS
 * (the others are counted and the next line says how many). */
void sw_log(struct sw_lcore *lc, const char *fmt, ...) __rte_format_printf(2, 3);

/* Worker: log an ACK (or other segment) from the client side and what became of it. */
void sw_log_segment(struct sw_lcore *lc, const struct sw_pkt *pkt, const char *what);

/* Control thread: print and drop queued log lines. */
void sw_log_drain(struct sw_lcore *lc, FILE *f);

#endif
