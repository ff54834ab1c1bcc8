/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore's life: its state created before launch, then the loop: receive a burst on
 * each port and hand it to the pipeline, run the timers, send, serve the mailbox, report a
 * quiescent state. The sink's operations here are the only ethdev and mempool calls of the
 * packet path.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include "app.h"
#include "clock.h"
#include "pipeline.h"
#include "splice.h"
#include "syn.h"
#include "worker.h"

/* ---- the sink: the worker's TX queues and mempool ---- */

static void
eth_flush(struct sw_sink *s, enum sw_side side)
{
	struct sw_worker *w = container_of(s, struct sw_worker, out);
	struct sw_txbuf *b = &s->tx[side];
	uint16_t sent = rte_eth_tx_burst(w->port[side], w->queue, b->pkts, b->n);

	if (side == SW_OUTSIDE)
		w->lc.cnt.port_outside_tx += sent;
	else
		w->lc.cnt.port_inside_tx += sent;
	if (unlikely(sent < b->n)) {
		w->lc.cnt.port_tx_dropped += b->n - sent;
		rte_pktmbuf_free_bulk(&b->pkts[sent], b->n - sent);
	}
	b->n = 0;
}

static void
eth_free_drops(struct sw_sink *s)
{
	rte_pktmbuf_free_bulk(s->dropped.pkts, s->dropped.n);
	s->dropped.n = 0;
}

static struct rte_mbuf *
eth_alloc(struct sw_sink *s)
{
	struct sw_worker *w = container_of(s, struct sw_worker, out);

	return rte_pktmbuf_alloc(w->app->pool);
}

static const struct sw_sink_ops eth_sink_ops = {
	.flush = eth_flush,
	.free_drops = eth_free_drops,
	.alloc = eth_alloc,
};

/* ---- life cycle ---- */

/* The source quotas of both tables, each counted under a random key of its own (srcquota.h:
 * a client cannot aim collisions). Before any entry is made. */
static int
setup_quotas(struct sw_lcore *lc, const struct sw_args *a)
{
	struct sw_srcq_params p = { .v4_len = a->source_v4_len, .v6_len = a->source_v6_len };

	p.key.k0 = rte_rand();
	p.key.k1 = rte_rand();
	p.limit = a->source_flows;
	if (sw_srcq_setup(&lc->ft.tab.srcq, &p) != 0)
		return -1;
	p.key.k0 = rte_rand();
	p.key.k1 = rte_rand();
	p.limit = a->source_halfopen;
	return sw_srcq_setup(&lc->sc.tab.srcq, &p);
}

/* The source table, under a random key of its own (a client cannot aim its prefixes at
 * another's set). Its state is not kept across a restart: the buckets start full. */
static int
setup_source_table(struct sw_lcore *lc, const struct sw_args *a, int socket)
{
	struct sw_sipkey key = { .k0 = rte_rand(), .k1 = rte_rand() };
	void *mem;

	if (a->source_table == 0)
		return 0;
	mem = rte_zmalloc_socket("sw_srctab", sw_srct_memsize(a->source_table),
				 RTE_CACHE_LINE_SIZE, socket);
	if (mem == NULL)
		return -1;
	if (sw_srct_init(&lc->st, mem, a->source_table, &key, a->source_v4_len,
			 a->source_v6_len) != 0) {
		rte_free(mem);
		return -1;
	}
	return 0;
}

/* The tables of worker q from the state region: the last owner's (taken over: its seed
 * and TSval offset with them) or new ones. Returns 0, -1 when they cannot be laid out. */
static int
tables_from_state(struct sw_worker *w, struct sw_app *app, uint16_t q)
{
	struct sw_state *st = app->state;
	struct sw_state_worker *sw = &st->hdr->w[q];
	void *scmem = sw_state_at(st, sw->sc_off), *ftmem = sw_state_at(st, sw->ft_off);
	const struct sw_args *a = &app->args;
	uint32_t now = (uint32_t)sw_now_ms();
	int sc_rebuilt, ft_rebuilt;
	int64_t sc_lost, ft_lost;

	if (!st->adopted) {
		sw->seed = (uint32_t)rte_rand();
		sw->ts_offset = (uint32_t)rte_rand();
		w->lc.ts_offset = sw->ts_offset;
		return sw_syncache_init(&w->lc.sc, scmem, a->hashsize, a->bucketlimit,
					sw->seed) != 0 ||
		       sw_flowtab_init(&w->lc.ft, ftmem, a->flows, sw->seed) != 0 ||
		       setup_quotas(&w->lc, a) != 0 ? -1 : 0;
	}
	w->lc.ts_offset = sw->ts_offset;
	if (sw_syncache_attach(&w->lc.sc, scmem, a->hashsize, a->bucketlimit, sw->seed) != 0 ||
	    sw_flowtab_attach(&w->lc.ft, ftmem, a->flows, sw->seed) != 0 ||
	    setup_quotas(&w->lc, a) != 0)
		return -1;
	sc_lost = sw_syncache_adopt(&w->lc.sc, st->clean ? &sw->sc : NULL, now, &sc_rebuilt);
	ft_lost = sw_flowtab_adopt(&w->lc.ft, st->clean ? &sw->ft : NULL, now, app->adopted_ports,
				   &ft_rebuilt);
	if (sc_lost < 0 || ft_lost < 0)
		return -1;
	printf("synwall-dp: queue %u: %u flows and %u syncache entries taken over%s", q,
	       w->lc.ft.tab.count, w->lc.sc.tab.count,
	       sc_rebuilt || ft_rebuilt ? ", tables rebuilt" : "");
	if (sc_lost + ft_lost > 0)
		printf(" (%" PRId64 " half-written entries dropped)", sc_lost + ft_lost);
	printf("\n");
	return 0;
}

struct sw_worker *
sw_worker_create(struct sw_app *app, unsigned int lcore, uint16_t q)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct sw_worker *w;
	void *scmem = NULL, *ftmem = NULL, *mbmem;
	uint32_t seed;
	int rc;

	w = rte_zmalloc_socket("sw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	mbmem = rte_zmalloc_socket("sw_mailbox", sw_mailbox_memsize(), RTE_CACHE_LINE_SIZE,
				   socket);
	if (app->state != NULL) {
		rc = mbmem == NULL ? -1 : tables_from_state(w, app, q);
	} else {
		scmem = rte_zmalloc_socket("sw_syncache",
					   sw_syncache_memsize(app->args.hashsize,
							       app->args.bucketlimit),
					   RTE_CACHE_LINE_SIZE, socket);
		ftmem = rte_zmalloc_socket("sw_flowtab", sw_flowtab_memsize(app->args.flows),
					   RTE_CACHE_LINE_SIZE, socket);
		/* one seed for both tables: the pipeline hashes a tuple once for both
		 * (lcore.h) */
		seed = (uint32_t)rte_rand();
		w->lc.ts_offset = (uint32_t)rte_rand();
		rc = scmem == NULL || ftmem == NULL || mbmem == NULL ||
		     sw_syncache_init(&w->lc.sc, scmem, app->args.hashsize,
				      app->args.bucketlimit, seed) != 0 ||
		     sw_flowtab_init(&w->lc.ft, ftmem, app->args.flows, seed) != 0 ||
		     setup_quotas(&w->lc, &app->args) != 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = setup_source_table(&w->lc, &app->args, socket);
	if (rc != 0 || sw_mailbox_init(&w->mbox, mbmem) != 0) {
		rte_free(w->lc.st.sets);
		rte_free(scmem);
		rte_free(ftmem);
		rte_free(mbmem);
		rte_free(w);
		return NULL;
	}
	w->app = app;
	w->queue = q;
	w->lc.lcore_id = lcore;
	w->lc.nworkers = app->nb_workers;
	w->lc.worker = q;
	w->lc.learn = app->learn;
	w->out.ops = &eth_sink_ops;
	if (app->args.preload_flows != 0 && w->lc.ft.tab.count == 0) {
		if (sw_preload_flows(w, app->args.preload_flows, (uint32_t)sw_now_ms()) == 0) {
			printf("synwall-dp: lcore %u: %u of %u flows preloaded\n", lcore,
			       w->lc.ft.tab.count, app->args.preload_flows);
			return w;
		}
		fprintf(stderr, "synwall-dp: --preload-flows %u: the flow table (--flows %u) "
			"is full\n", app->args.preload_flows, app->args.flows);
		sw_worker_free(w);
		return NULL;
	}
	return w;
}

void
sw_worker_free(struct sw_worker *w)
{
	if (w == NULL)
		return;
	sw_mailbox_drain(&w->mbox);
	if (w->app == NULL || w->app->state == NULL) {
		/* (in the state region they are the region's) */
		rte_free(w->lc.sc.tab.slots);
		rte_free(w->lc.ft.tab.slots);
	}
	rte_free(w->lc.st.sets);
	rte_free(w->mbox.todo);
	rte_free(w);
}

/* ---- the loop ---- */

int
sw_worker_run(struct sw_worker *w)
{
	struct sw_app *app = w->app;
	struct sw_lcore *lc = &w->lc;
	struct sw_stage_io io = { .lc = lc, .out = &w->out };
	struct rte_mbuf *pkts[SW_RX_BURST];
	const uint32_t sleep_us = app->args.idle_sleep_us;
	uint32_t empty_rounds = 0;
	uint64_t tsc, end;
	uint16_t n, got;

	/* The ports and their offloads are known once they are started, after create. */
	w->port[SW_OUTSIDE] = app->outside.id;
	w->port[SW_INSIDE] = app->inside.id;
	w->out.tx_csum[SW_OUTSIDE] = app->outside.tx_csum;
	w->out.tx_csum[SW_INSIDE] = app->inside.tx_csum;
	lc->rx_csum = app->outside.rx_csum;

	rte_rcu_qsbr_thread_register(app->cfg.qs, w->queue);
	rte_rcu_qsbr_thread_online(app->cfg.qs, w->queue);
	lc->now_ms = sw_now_ms();
	lc->sc.sweep.last_ms = lc->now_ms;
	lc->ft.sweep.last_ms = lc->now_ms;
	w->last_rx_ms = lc->now_ms;

	while (!app->quit) {
		tsc = rte_rdtsc();
		lc->now_ms = tsc / sw_tsc_per_ms;
		lc->cfg = sw_cfg_get(&app->cfg);
		/* a shorter timeout reaches a flow whose due time was set under the longer one
		 * once that has come (docs/DATAPLANE.md, "Timers") */
		lc->ft.idle_min_ms = lc->cfg->idle_min_s * 1000;

		n = rte_eth_rx_burst(w->port[SW_OUTSIDE], w->queue, pkts, SW_RX_BURST);
		got = n;
		if (n > 0) {
			lc->cnt.port_outside_rx += n;
			__atomic_store_n(&w->last_rx_ms, lc->now_ms, __ATOMIC_RELAXED);
			sw_outside_burst(lc, &w->out, pkts, n);
		}
		n = rte_eth_rx_burst(w->port[SW_INSIDE], w->queue, pkts, SW_RX_BURST);
		got |= n;
		if (n > 0) {
			lc->cnt.port_inside_rx += n;
			__atomic_store_n(&w->last_rx_ms, lc->now_ms, __ATOMIC_RELAXED);
			sw_inside_burst(lc, &w->out, pkts, n);
		}

		/* the round's drops back to the pool before the timers allocate */
		sw_sink_flush_drops(&w->out);
		sw_syncache_sweep(&lc->sc, lc->now_ms, SW_SWEEP_PERIOD_MS, sw_synack_timer, &io);
		sw_flowtab_sweep(&lc->ft, lc->now_ms, SW_SWEEP_PERIOD_MS, sw_flow_timer, &io);
		/* a sweep that stopped at its round's bound owes buckets to the next round */
		lc->cnt.sc_timer_capped += lc->sc.sweep.owed != 0;
		lc->cnt.proxy_timer_capped += lc->ft.sweep.owed != 0;
		sw_sink_flush_tx(&w->out);

		/* gauges */
		lc->cnt.sc_count = lc->sc.tab.count;
		lc->cnt.sc_paused = sw_syncache_paused(&lc->sc, lc->now_ms);
		lc->cnt.proxy_flows = lc->ft.tab.count;

		if (unlikely(sw_mailbox_pending(&w->mbox)))
			sw_mailbox_serve(&w->mbox, lc);

		rte_rcu_qsbr_quiescent(app->cfg.qs, w->queue);

		/* the share of its time the worker spends on rounds that found packets */
		end = rte_rdtsc();
		if (got != 0) {
			lc->cnt.lcore_busy_cycles += end - tsc;
			empty_rounds = 0;
		} else if (sleep_us != 0 && ++empty_rounds >= SW_IDLE_ROUNDS) {
			/* Nothing came for a while: give the CPU to whoever shares it (the
			 * kernel's half of a virtual port) rather than poll on. */
			rte_delay_us_sleep(sleep_us);
			end = rte_rdtsc();
		}
		lc->cnt.lcore_cycles += end - tsc;
	}

	rte_rcu_qsbr_thread_offline(app->cfg.qs, w->queue);
	rte_rcu_qsbr_thread_unregister(app->cfg.qs, w->queue);
	return 0;
}
