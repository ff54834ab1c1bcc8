/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The timer sweep's work per round at the largest tables the options allow (docs/DATAPLANE.md,
 * "Timers"): a flow table of --flows 16777216 and a syncache of --hashsize 1048576. Not a
 * test (it takes seconds and gigabytes): `build/tests/unit/bench_timers`. The worker's rounds
 * are simulated: ROUNDS_PER_MS calls of the sweep per millisecond of the table's clock, each
 * timed with the TSC.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "flowtab.h"
#include "sw_const.h"
#include "syncache.h"

/* The established flows' idle timeout measured here (the table's idle_min_ms). */
#define BENCH_IDLE_MS 300000u
#define ROUNDS_PER_MS 100       /* a round of 10 us: a loaded worker */

#define HIST_US 200             /* calls by their time, in 1 us bins */

struct work {
	uint64_t calls, steps, entries, cycles, worst_cycles, capped;
	uint32_t worst_steps, worst_entries;
	uint64_t hist[HIST_US + 1];
};

static double tsc_ghz;

static void
measure_tsc(void)
{
	struct timespec a, b;
	uint64_t c0, c1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	c0 = rte_rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 200000000L);
	c1 = rte_rdtsc();
	tsc_ghz = (double)(c1 - c0) /
		  (double)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
}

static void
account(struct work *w, const struct sw_sweep *sw, uint64_t cycles)
{
	uint64_t us;

	w->calls++;
	w->steps += sw->last_steps;
	w->entries += sw->last_entries;
	w->cycles += cycles;
	w->capped += sw->owed != 0;
	us = (uint64_t)((double)cycles / tsc_ghz / 1000);
	w->hist[us < HIST_US ? us : HIST_US]++;
	if (cycles > w->worst_cycles)
		w->worst_cycles = cycles;
	if (sw->last_steps > w->worst_steps)
		w->worst_steps = sw->last_steps;
	if (sw->last_entries > w->worst_entries)
		w->worst_entries = sw->last_entries;
}

/* The time 99.9% of the calls take at most (the worst one may be the OS's doing). */
static unsigned int
p999_us(const struct work *w)
{
	uint64_t seen = 0;
	unsigned int us;

	for (us = 0; us < HIST_US; us++) {
		seen += w->hist[us];
		if (seen * 1000 >= w->calls * 999)
			break;
	}
	return us + 1;
}

static void
report(const char *what, const struct work *w)
{
	printf("  %-34s %9" PRIu64 " calls (%" PRIu64 " capped), %10" PRIu64 " steps, %10" PRIu64
	       " entries;\n    per call: worst %u steps, %u entries; 99.9%% under %u us, worst %.1f us,"
	       " mean %.2f us; total %.1f ms\n", what, w->calls, w->capped, w->steps, w->entries,
	       w->worst_steps, w->worst_entries, p999_us(w),
	       (double)w->worst_cycles / tsc_ghz / 1000,
	       (double)w->cycles / (double)(w->calls ? w->calls : 1) / tsc_ghz / 1000,
	       (double)w->cycles / tsc_ghz / 1e6);
}

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->sport = (uint16_t)(1024 + (i & 0x7fff));
	k->dport = 443;
	k->src[0] = 198;
	k->src[1] = 18;
	k->src[2] = (uint8_t)(i >> 23);
	k->src[3] = (uint8_t)(i >> 15);
}

static enum sw_flow_timer_action
flow_policy(struct sw_flow *f, uint32_t idle, void *arg)
{
	(void)arg;
	if (sw_flow_state(f) == SW_FLOW_ESTABLISHED && idle < BENCH_IDLE_MS)
		return SW_FLOW_KEEP;
	return SW_FLOW_DROP;
}

static enum sw_sc_timer_action
synack_policy(struct sw_sc_entry *e, void *arg)
{
	uint64_t now = *(const uint64_t *)arg;

	e->rxmits++;
	e->expire_ms = (uint32_t)now + sw_syncache_rto_ms(e->rxmits);
	return SW_SC_KEEP;
}

/* Rounds from now on until the sweep owes nothing and `until` ms have passed. */
static uint64_t
run_flows(struct sw_flowtab *ft, uint64_t now, uint64_t until, struct work *w)
{
	uint64_t end = now + until;
	uint32_t r = 0;

	do {
		uint64_t c = rte_rdtsc();

		sw_flowtab_sweep(ft, now, SW_SWEEP_PERIOD_MS, flow_policy, NULL);
		account(w, &ft->sweep, rte_rdtsc() - c);
		if (++r == ROUNDS_PER_MS) {
			r = 0;
			now++;
		}
	} while (now < end || ft->sweep.owed != 0);
	return now;
}

static uint64_t
run_sc(struct sw_syncache *sc, uint64_t now, uint64_t until, struct work *w)
{
	uint64_t end = now + until;
	uint32_t r = 0;

	do {
		uint64_t c = rte_rdtsc();

		sw_syncache_sweep(sc, now, SW_SWEEP_PERIOD_MS, synack_policy, &now);
		account(w, &sc->sweep, rte_rdtsc() - c);
		if (++r == ROUNDS_PER_MS) {
			r = 0;
			now++;
		}
	} while (now < end || sc->sweep.owed != 0);
	return now;
}

static void
bench_flows(uint32_t flows)
{
	struct sw_flowtab ft;
	size_t sz = (sw_flowtab_memsize(flows) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);
	struct work fold = { 0 }, idle = { 0 }, stall = { 0 };
	const uint64_t t0 = 1000000;
	uint64_t now;
	uint32_t i, n = 0;

	if (mem == NULL || sw_flowtab_init(&ft, mem, flows, 1) != 0) {
		fprintf(stderr, "no memory for %u flows\n", flows);
		exit(1);
	}
	ft.idle_min_ms = BENCH_IDLE_MS;
	memset(ft.tab.slots, 0, (size_t)ft.tab.hashsize * ft.tab.bucketlimit * 64);
	for (i = 0; n < flows / 8 * 7; i++) {
		struct sw_tuple k;
		struct sw_flow *f;
		int ev;

		key(&k, i);
		f = sw_flowtab_add(&ft, &k, sw_ctab_hash(&ft.tab, &k), (uint32_t)t0, UINT32_MAX,
				   &ev);
		if (f != NULL) {
			sw_flow_state(f) = SW_FLOW_ESTABLISHED;
			n++;
		}
	}
	ft.sweep.last_ms = t0;
	printf("flow table: --flows %u, %u buckets, %u established flows (%.0f MB)\n", flows,
	       ft.tab.hashsize, n, (double)sz / 1e6);
	now = run_flows(&ft, t0, 2 * SW_SWEEP_PERIOD_MS, &fold);
	report("after a preload (all fresh):", &fold);
	now = run_flows(&ft, now, 10 * SW_SWEEP_PERIOD_MS, &idle);
	report("1 s, nothing due:", &idle);
	/* the worker stalls until every flow is past its idle timeout */
	now = t0 + BENCH_IDLE_MS + 60000;
	run_flows(&ft, now, 0, &stall);
	report("stall, then all due (expire):", &stall);
	printf("  (the sweep before: every entry read each period: %" PRIu64
	       " entries per 100 ms)\n", (uint64_t)n);
	free(mem);
}

static void
bench_syncache(uint32_t hashsize, uint32_t bucketlimit)
{
	struct sw_syncache sc;
	size_t sz = (sw_syncache_memsize(hashsize, bucketlimit) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);
	struct work fold = { 0 }, idle = { 0 }, stall = { 0 };
	const uint64_t t0 = 1000000;
	uint64_t now;
	uint32_t i;

	if (mem == NULL || sw_syncache_init(&sc, mem, hashsize, bucketlimit, 2) != 0) {
		fprintf(stderr, "no memory for the syncache\n");
		exit(1);
	}
	memset(sc.tab.slots, 0, (size_t)hashsize * bucketlimit * 64);
	for (i = 0; sc.tab.count < hashsize / 8 * 7 * bucketlimit; i++) {
		struct sw_tuple k;
		struct sw_sc_entry *e;
		unsigned int ev;
		uint32_t h;

		key(&k, i);
		h = sw_ctab_hash(&sc.tab, &k);
		if (sw_ctab_bucket_count(&sc.tab, h & sc.tab.mask) == bucketlimit)
			continue;
		e = sw_syncache_insert(&sc, &k, h, UINT32_MAX, &ev);
		e->expire_ms = (uint32_t)t0 + 30000;
	}
	sc.sweep.last_ms = t0;
	printf("syncache: --hashsize %u --bucketlimit %u, %u entries (%.0f MB)\n", hashsize,
	       bucketlimit, sc.tab.count, (double)sz / 1e6);
	now = run_sc(&sc, t0, 2 * SW_SWEEP_PERIOD_MS, &fold);
	report("after a flood (all fresh):", &fold);
	now = run_sc(&sc, now, 10 * SW_SWEEP_PERIOD_MS, &idle);
	report("1 s, nothing due:", &idle);
	now = t0 + 30000 + 10000;
	run_sc(&sc, now, 0, &stall);
	report("stall, then all due (retransmit):", &stall);
	printf("  (the sweep before: every entry read each period: %u entries per 100 ms)\n",
	       sc.tab.count);
	free(mem);
}

int
main(int argc, char **argv)
{
	uint32_t flows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1u << 24;
	uint32_t hashsize = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 1u << 20;
	uint32_t bucketlimit = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 16;

	measure_tsc();
	printf("TSC %.3f GHz; %d rounds per ms; bounds per round: %u steps, %u entries\n",
	       tsc_ghz, ROUNDS_PER_MS, SW_TIMER_ROUND_STEPS, SW_TIMER_ROUND_ENTRIES);
	bench_flows(flows);
	bench_syncache(hashsize, bucketlimit);
	return 0;
}
