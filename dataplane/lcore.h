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

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "config.h"
#include "flowtab.h"
#include "parse.h"
#include "profile.h"
#include "srctab.h"
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
	unsigned int worker;            /* this one's index among them, 0..nworkers-1 */

	/* this round's, set by the worker loop at the start of each round */
	uint64_t now_ms;
	const struct sw_config *cfg;
	/* the packet's, set by the pipeline before its stage runs: its source is on an allow
	 * list (srclist.h), which exempts it from the source quotas */
	bool src_allowed;
	/* and a limit rule that covers it: 1 + the rule's index in the lists' set, or 0 */
	uint32_t src_limit;

	/* owned by this worker; sc and ft are made with one hash seed, so that the pipeline
	 * hashes a tuple once for both (sw_ctab_hash of either) */
	struct sw_syncache sc;
	struct sw_flowtab ft;
	/* what each source prefix did lately: its rates, the top talkers (srctab.h); sets
	 * NULL without one */
	struct sw_srctab st;
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

/* Worker: the limits of this round's configuration in the source table; the table's entry
 * of the client of t (the table exists), with them in force. */
static inline void
sw_source_configure(struct sw_lcore *lc)
{
	const struct sw_config *cfg = lc->cfg;

	if (unlikely(lc->st.version != cfg->version))
		sw_srct_configure(&lc->st, cfg->version, cfg->lim.syn_rate, cfg->lim.syn_burst,
				  cfg->lim.reflect_rate, cfg->lim.reflect_burst, lc->nworkers);
}

static inline struct sw_srct_entry *
sw_source_entry(struct sw_lcore *lc, const struct sw_tuple *t)
{
	struct sw_srct_entry *se;
	int evicted;

	sw_source_configure(lc);
	se = sw_srct_get(&lc->st, t->v6, t->src, lc->now_ms, &evicted);
	lc->cnt.src_evicted += (uint64_t)evicted;
	return se;
}

/* Worker: a client segment that is not a SYN touched its source prefix's entry (counts for
 * the top talkers; the entry is kept as if refreshed now). */
static inline struct sw_srct_entry *
sw_source_touch(struct sw_lcore *lc, const struct sw_tuple *t)
{
	struct sw_srct_entry *se = sw_source_entry(lc, t);
	uint32_t i = sw_srct_slot(&lc->st, se);
	uint32_t *score = &lc->st.sets[i / SW_SRCT_WAYS].score[i % SW_SRCT_WAYS];
	uint32_t now = sw_srct_score_now(lc->now_ms);

	if ((int32_t)(*score - now) < 0)
		*score = now;
	return se;
}

/* Worker: queue a log line for the control thread, at most one per SW_LOG_INTERVAL_MS
 * (the others are counted and the next line says how many). */
void sw_log(struct sw_lcore *lc, const char *fmt, ...) __rte_format_printf(2, 3);

/* Worker: log an ACK (or other segment) from the client side and what became of it. */
void sw_log_segment(struct sw_lcore *lc, const struct sw_pkt *pkt, const char *what);

/* Control thread: print and drop queued log lines. */
void sw_log_drain(struct sw_lcore *lc, FILE *f);

#endif
