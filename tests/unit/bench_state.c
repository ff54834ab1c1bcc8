/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What taking the tables over costs (docs/DATAPLANE.md, "Restarts"): one worker's flow table
 * filled with FLOWS established flows (default 1M) in a state region file, closed after a
 * clean stop and after a crash (not closed cleanly), then opened again and adopted as
 * synwall-dp does it (sw_state_open, sw_flowtab_attach, the quotas, sw_flowtab_adopt), each
 * step timed with CLOCK_MONOTONIC. Not a test: `build/tests/unit/bench_state [FLOWS [FILE]]`
 * (FILE default /dev/shm/sw_bench_state; removed at the end).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "flowtab.h"
#include "state.h"
#include "sw_const.h"

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
key(struct sw_tuple *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = 198;
	k->src[1] = 18;
	k->src[2] = (uint8_t)(128 + ((i >> 16) & 0x7f));
	k->src[3] = (uint8_t)(i >> 8);
	k->sport = (uint16_t)(1024 + (i & 0xff) + ((i >> 23) << 8));
	k->dst[0] = 198;
	k->dst[1] = 18;
	k->dst[2] = 1;
	k->dst[3] = 1;
	k->dport = 80;
}

struct open_times {
	double open, attach, adopt;
	uint32_t count;
	int rebuilt;
};

static int
take_over(const char *path, uint32_t flows, struct open_times *t, struct sw_state *st,
	  struct sw_flowtab *ft)
{
	struct sw_srcq_params p = { .v4_len = 32, .v6_len = 64, .limit = flows / 4,
				    .key = { 1, 2 } };
	static uint64_t ports[65536 / 64];      /* as synwall-dp's: the flows' server ports */
	char note[320];
	double t0 = now_ms();

	if (sw_state_open(st, path, 1, 64, 8, flows, 2600000, 1000, note, sizeof(note)) != 0) {
		fprintf(stderr, "bench_state: %s: %s\n", path, note);
		return -1;
	}
	t->open = now_ms() - t0;
	t0 = now_ms();
	if (st->adopted) {
		if (sw_flowtab_attach(ft, sw_state_at(st, st->hdr->w[0].ft_off), flows,
				      st->hdr->w[0].seed) != 0 ||
		    sw_srcq_setup(&ft->tab.srcq, &p) != 0)
			return -1;
		t->attach = now_ms() - t0;
		t0 = now_ms();
		if (sw_flowtab_adopt(ft, st->clean ? &st->hdr->w[0].ft : NULL, 1000, ports,
				     &t->rebuilt) < 0)
			return -1;
		t->adopt = now_ms() - t0;
	} else {
		st->hdr->w[0].seed = 0x1234;
		if (sw_flowtab_init(ft, sw_state_at(st, st->hdr->w[0].ft_off), flows, 0x1234) != 0 ||
		    sw_srcq_setup(&ft->tab.srcq, &p) != 0)
			return -1;
		t->attach = now_ms() - t0;
		t->adopt = 0;
		t->rebuilt = 0;
	}
	t->count = ft->tab.count;
	return 0;
}

int
main(int argc, char **argv)
{
	uint32_t flows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1u << 20;
	const char *path = argc > 2 ? argv[2] : "/dev/shm/sw_bench_state";
	struct open_times t;
	struct sw_flowtab ft;
	struct sw_state st;
	uint32_t i, n = 0;
	double t0;
	int ev;

	unlink(path);
	if (take_over(path, flows, &t, &st, &ft) != 0)
		return 1;
	printf("region of %zu MB for %u flows: opened (new) in %.1f ms\n", st.size >> 20, flows,
	       t.open);
	t0 = now_ms();
	for (i = 0; n < flows - flows / 8; i++) {
		struct sw_tuple k;
		struct sw_flow *f;

		key(&k, i);
		f = sw_flowtab_add(&ft, &k, sw_ctab_hash(&ft.tab, &k), 1000, 0, &ev);
		if (f == NULL)
			break;
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
		f->last_ms = 1000 - (i & 1023);
		n++;
	}
	printf("filled with %u flows in %.1f ms\n", ft.tab.count, now_ms() - t0);
	sw_ctab_save(&ft.tab, &st.hdr->w[0].ft);
	t0 = now_ms();
	sw_state_close(&st, true);
	printf("clean stop (scalars saved, msync, unmap): %.1f ms\n", now_ms() - t0);

	if (take_over(path, flows, &t, &st, &ft) != 0)
		return 1;
	printf("after a clean stop: open and map %.2f ms, attach %.2f ms, adopt %.2f ms "
	       "(%s): %u flows\n", t.open, t.attach, t.adopt,
	       t.rebuilt ? "rebuilt" : "as saved", t.count);
	sw_state_close(&st, false);     /* as a crash leaves it: not marked clean */

	if (take_over(path, flows, &t, &st, &ft) != 0)
		return 1;
	printf("after a crash: open and map %.2f ms, attach %.2f ms, adopt %.2f ms (%s): "
	       "%u flows\n", t.open, t.attach, t.adopt, t.rebuilt ? "rebuilt" : "as saved",
	       t.count);
	sw_state_close(&st, true);
	unlink(path);
	return 0;
}
