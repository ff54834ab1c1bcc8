/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path's instructions per packet, counted by callgrind (bench/METHOD.md,
 * "Instructions per packet"; `python3 -m bench.instr` builds this at two commits and
 * compares). Not a test: `bench_pipeline CASE [BURSTS]`, CASE one of
 *
 *   syn     distinct SYNs with a Linux client's options to a proxy port: each gets a
 *           syncache entry and a SYN-ACK written in place (syncache.added)
 *   badack  distinct ACKs (NOP NOP TS, no data, random numbers) of no flow and no entry:
 *           two cookie MACs each (the ACK's and the zero-window probe's), the checksum
 *           verified in software, the cookie refused, dropped (cookie.failed)
 *   c2s     data segments (1448 bytes, NOP NOP TS) of established spliced flows, client
 *           to server, translated in place (proxy.to_server)
 *   s2c     the same, server to client (proxy.to_client)
 *   cookie  the SYNs of `syn` with port 80 switched to cookie mode: no entry, a cookie
 *           SYN-ACK each (syncache.sendcookie), as measurement 1 of the benchmark
 *
 * The lcore is the unit tests' (fake_dp.h: syncache --hashsize 4096 --bucketlimit 30, flow
 * table --flows 65536, the fixed cookie key, port 80 in proxy mode, the clock frozen at
 * FAKE_T0_MS), with no checksum offload either way (as the net_pcap vdev of the rate
 * benchmarks). Before any case, FLOWS handshakes are made through the pipeline (SYN, ACK,
 * the server's SYN-ACK: the Linux options both ways), so the flow table is the same warm one
 * for every case. Then WARM_BURSTS bursts of the case, then BURSTS bursts (default 1024) of
 * 32 packets, each through bench_outside() or bench_inside(): the only functions a callgrind
 * run collects in (--toggle-collect); setup, warm-up, writing the frames and checking what
 * came out call the pipeline directly or run outside them. The packets are the same at
 * every commit: a fixed pseudo-random sequence.
 *
 * The sink's buffers are emptied after every burst (outside the collection), so no flush is
 * called within one; the TX and the freeing of the drops are DPDK's work, not measured here.
 * With BENCH_CYCLES set in the environment, each measured burst is also timed with the TSC
 * (and the MACs use the best SipHash the CPU has, as synwall-dp): the fastest eighth of the
 * bursts gives synwall's own cycles per packet without any PMD, which perf's split of the
 * benchmark (measurement 9) approximates in the real process.
 * Printed: the packets measured, a digest of every packet given back (the first 128 bytes of
 * each, its length and where it went: the same at two commits that write the same segments),
 * and the counters the measured bursts changed. Exits 1 when a packet went elsewhere than
 * the case says or a case's counter missed one.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "fake_dp.h"
#include "pipeline.h"
#include "siphash.h"
#include "stats.h"
#include "sw_const.h"
#if __has_include("srctab.h")
#include "srctab.h"
#endif

#define BURST           SW_RX_BURST
#define FLOWS           4096    /* established flows, the data cases cycle through them */
#define WARM_BURSTS     64
#define DEFAULT_BURSTS  1024
#define PAYLEN          1448    /* a full segment with timestamps at MSS 1460 */
#define LINUX_OPTS      (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS)
/* Tuple numbers (see tuple()): the flows, then the bad ACKs', then the SYNs'. */
#define K_BADACK        (1u << 20)
#define K_SYN           (2u << 20)

/* What the driver knows of one established flow. */
struct flow {
	uint32_t isn;           /* the client's */
	uint32_t iss;           /* our SYN-ACK's (the cookie) */
	uint32_t ts_client;     /* the client's last tsval */
	uint32_t ts_ours;       /* our SYN-ACK's tsval, which the client echoes */
	uint32_t srv_isn;
	uint32_t ts_srv;        /* the server's last tsval */
	uint32_t ts_srv_echo;   /* what the server echoes: the tsval of the SYN it got */
};

struct bench {
	struct fake_dp d;
	struct rte_mbuf *m[BURST];      /* the RX burst, refilled before each burst */
	struct flow fl[FLOWS];
	uint64_t rng;
	uint64_t digest;
	uint32_t sent[2], dropped;      /* by the measured bursts */
	uint64_t tsc[65536];            /* TSC cycles of each measured burst */
};

enum measure { SETUP = 0, MEASURED };

/* ---- the measured calls: collected by callgrind, never inlined into the driver ---- */

void bench_outside(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts,
		   uint16_t n);
void bench_inside(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts,
		  uint16_t n);

/* noipa: the pipeline inlined here sees nothing of the caller (not n's value either). */
__attribute__((noipa)) void
bench_outside(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts, uint16_t n)
{
	sw_outside_burst(lc, out, pkts, n);
}

__attribute__((noipa)) void
bench_inside(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts, uint16_t n)
{
	sw_inside_burst(lc, out, pkts, n);
}

/* ---- the sink: the buffers are read and emptied after each burst ---- */

static void
die(const char *what)
{
	fprintf(stderr, "bench_pipeline: %s\n", what);
	exit(1);
}

static void
sink_flush(struct sw_sink *s, enum sw_side side)
{
	(void)s;
	(void)side;
	die("a TX buffer filled up within a burst");
}

static void
sink_free_drops(struct sw_sink *s)
{
	(void)s;
	die("the drop buffer filled up within a burst");
}

static struct rte_mbuf *
sink_alloc(struct sw_sink *s)
{
	(void)s;
	return fake_mbuf(NULL, 0);
}

static const struct sw_sink_ops bench_sink_ops = {
	.flush = sink_flush,
	.free_drops = sink_free_drops,
	.alloc = sink_alloc,
};

static struct sw_sink *
sink(struct bench *b)
{
	return fake_out(&b->d);
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t
digest(uint64_t h, unsigned int where, const struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	uint8_t head[4] = { (uint8_t)where, (uint8_t)(len >> 8), (uint8_t)len, 0 };

	h = fnv(h, head, sizeof(head));
	return fnv(h, fake_data(m), len < 128 ? len : 128);
}

/* After a measured burst: what left or was dropped, into the digest and the tallies. */
static void
account(struct bench *b)
{
	struct sw_sink *s = sink(b);
	unsigned int side, i;

	for (side = SW_OUTSIDE; side <= SW_INSIDE; side++) {
		for (i = 0; i < s->tx[side].n; i++)
			b->digest = digest(b->digest, side, s->tx[side].pkts[i]);
		b->sent[side] += s->tx[side].n;
	}
	for (i = 0; i < s->dropped.n; i++)
		b->digest = digest(b->digest, 2, s->dropped.pkts[i]);
	b->dropped += s->dropped.n;
}

static void
sink_empty(struct bench *b)
{
	struct sw_sink *s = sink(b);

	s->tx[SW_OUTSIDE].n = 0;
	s->tx[SW_INSIDE].n = 0;
	s->dropped.n = 0;
}

/* ---- frames ---- */

static uint32_t
rnd(struct bench *b)
{
	/* splitmix64 */
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

/* Tuple number k: client 198.18.128.0 + (k & 0x7fff) port 1024 + (k >> 15), to the server
 * 198.18.1.1:80 (the proxy port). */
static void
tuple(struct sw_tuple *t, uint32_t k)
{
	memset(t, 0, sizeof(*t));
	t->src[0] = 198;
	t->src[1] = 18;
	t->src[2] = (uint8_t)(0x80 | ((k >> 8) & 0x7f));
	t->src[3] = (uint8_t)k;
	t->dst[0] = 198;
	t->dst[1] = 18;
	t->dst[2] = 1;
	t->dst[3] = 1;
	t->sport = (uint16_t)(1024 + (k >> 15));
	t->dport = FAKE_PORT_PROXY;
}

static void
load(struct rte_mbuf *m, const struct fake_tcp *s)
{
	uint32_t len;

	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->ol_flags = 0;
	len = fake_tcp_frame(rte_pktmbuf_mtod(m, uint8_t *), s);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

static struct fake_tcp
client_seg(uint32_t k, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct fake_tcp s;

	memset(&s, 0, sizeof(s));
	tuple(&s.t, k);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = win;
	return s;
}

static struct fake_tcp
server_seg(uint32_t k, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct fake_tcp s = client_seg(k, flags, seq, ack, win);
	struct sw_tuple t = s.t;

	sw_tuple_reverse(&s.t, &t);
	s.from_server = true;
	return s;
}

/* ---- the cases: burst i's frames ---- */

static void
syn_frames(struct bench *b, uint32_t burst)
{
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		struct fake_tcp s = client_seg(K_SYN + burst * BURST + i, SW_TH_SYN, rnd(b), 0,
					       64240);

		fake_tcp_opts(&s, LINUX_OPTS, 1460, 7, rnd(b), 0);
		load(b->m[i], &s);
	}
}

static void
badack_frames(struct bench *b, uint32_t burst)
{
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		struct fake_tcp s = client_seg(K_BADACK + burst * BURST + i, SW_TH_ACK, rnd(b),
					       rnd(b), 502);

		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, rnd(b), rnd(b));
		load(b->m[i], &s);
	}
}

/* Pass p over the flows: each sends its next PAYLEN bytes. */
static void
c2s_frames(struct bench *b, uint32_t burst)
{
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		uint32_t k = (burst * BURST + i) % FLOWS, p = (burst * BURST + i) / FLOWS;
		struct flow *f = &b->fl[k];
		struct fake_tcp s = client_seg(k, SW_TH_ACK | SW_TH_PSH, f->isn + 1 + p * PAYLEN,
					       f->iss + 1, 502);

		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, ++f->ts_client, f->ts_ours);
		s.paylen = PAYLEN;
		load(b->m[i], &s);
	}
}

static void
s2c_frames(struct bench *b, uint32_t burst)
{
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		uint32_t k = (burst * BURST + i) % FLOWS, p = (burst * BURST + i) / FLOWS;
		struct flow *f = &b->fl[k];
		struct fake_tcp s = server_seg(k, SW_TH_ACK | SW_TH_PSH,
					       f->srv_isn + 1 + p * PAYLEN, f->isn + 1, 509);

		fake_tcp_opts(&s, SW_OPT_TS, 0, 0, ++f->ts_srv, f->ts_srv_echo);
		s.paylen = PAYLEN;
		load(b->m[i], &s);
	}
}

struct bench_case {
	const char *name;
	void (*frames)(struct bench *b, uint32_t burst);
	bool inside;            /* an inside burst (else outside) */
	bool cookie_port;       /* the flows' port switched to cookie mode first */
	int fate;               /* where each packet must go: SW_V_* */
	size_t counter;         /* the counter each packet must add one to */
};

static const struct bench_case cases[] = {
	{ "syn", syn_frames, false, false, SW_V_OUTSIDE, offsetof(struct sw_counters, sc_added) },
	{ "badack", badack_frames, false, false, SW_V_DROP,
	  offsetof(struct sw_counters, cookie_failed) },
	{ "c2s", c2s_frames, false, false, SW_V_INSIDE,
	  offsetof(struct sw_counters, proxy_to_server) },
	{ "s2c", s2c_frames, true, false, SW_V_OUTSIDE,
	  offsetof(struct sw_counters, proxy_to_client) },
	/* last: the others' packets (seeded by their index) stay what they were */
	{ "cookie", syn_frames, false, true, SW_V_OUTSIDE,
	  offsetof(struct sw_counters, sc_sendcookie) },
};

/* ---- set-up: FLOWS handshakes through the pipeline ---- */

/* Packet i of the last burst, which must have gone to side, parsed back. */
static void
sent_back(struct bench *b, enum sw_side side, unsigned int i, struct sw_pkt *pkt)
{
	struct sw_sink *s = sink(b);

	if (i >= s->tx[side].n || fake_parse(s->tx[side].pkts[i], pkt) != 0)
		die("set-up: a handshake segment is missing or malformed");
}

static void
handshakes(struct bench *b)
{
	struct sw_lcore *lc = b->d.lc;
	struct sw_pkt pkt;
	uint32_t k0, i;

	for (k0 = 0; k0 < FLOWS; k0 += BURST) {
		/* the clients' SYNs: their SYN-ACKs, in place */
		for (i = 0; i < BURST; i++) {
			struct flow *f = &b->fl[k0 + i];
			struct fake_tcp s;

			f->isn = rnd(b);
			f->ts_client = rnd(b);
			s = client_seg(k0 + i, SW_TH_SYN, f->isn, 0, 64240);
			fake_tcp_opts(&s, LINUX_OPTS, 1460, 7, f->ts_client, 0);
			load(b->m[i], &s);
		}
		sw_outside_burst(lc, sink(b), b->m, BURST);
		for (i = 0; i < BURST; i++) {
			sent_back(b, SW_OUTSIDE, i, &pkt);
			b->fl[k0 + i].iss = pkt.seq;
			b->fl[k0 + i].ts_ours = pkt.opt.tsval;
		}
		sink_empty(b);
		/* their ACKs: the server SYNs */
		for (i = 0; i < BURST; i++) {
			struct flow *f = &b->fl[k0 + i];
			struct fake_tcp s = client_seg(k0 + i, SW_TH_ACK, f->isn + 1, f->iss + 1,
						       502);

			fake_tcp_opts(&s, SW_OPT_TS, 0, 0, ++f->ts_client, f->ts_ours);
			load(b->m[i], &s);
		}
		sw_outside_burst(lc, sink(b), b->m, BURST);
		for (i = 0; i < BURST; i++) {
			sent_back(b, SW_INSIDE, i, &pkt);
			b->fl[k0 + i].ts_srv_echo = pkt.opt.tsval;
		}
		sink_empty(b);
		/* the servers' SYN-ACKs: our ACKs to them, the clients' window updates */
		for (i = 0; i < BURST; i++) {
			struct flow *f = &b->fl[k0 + i];
			struct fake_tcp s;

			f->srv_isn = rnd(b);
			f->ts_srv = rnd(b);
			s = server_seg(k0 + i, SW_TH_SYN | SW_TH_ACK, f->srv_isn, f->isn + 1, 65160);
			fake_tcp_opts(&s, LINUX_OPTS, 1460, 7, f->ts_srv, f->ts_srv_echo);
			load(b->m[i], &s);
		}
		sw_inside_burst(lc, sink(b), b->m, BURST);
		if (sink(b)->tx[SW_INSIDE].n != BURST || sink(b)->tx[SW_OUTSIDE].n != BURST)
			die("set-up: the servers' SYN-ACKs did not establish every flow");
		sink_empty(b);
	}
	if (lc->cnt.proxy_established != FLOWS || lc->ft.tab.count != FLOWS)
		die("set-up: not every flow is established");
}

/* ---- a run ---- */

static void
run_bursts(struct bench *b, const struct bench_case *c, uint32_t first, uint32_t n,
	   enum measure how)
{
	struct sw_lcore *lc = b->d.lc;
	uint32_t burst;

	for (burst = first; burst < first + n; burst++) {
		c->frames(b, burst);
		if (how == MEASURED) {
			uint64_t t0 = rte_rdtsc_precise();

			if (c->inside)
				bench_inside(lc, sink(b), b->m, BURST);
			else
				bench_outside(lc, sink(b), b->m, BURST);
			b->tsc[burst - first] = rte_rdtsc_precise() - t0;
			account(b);
		} else if (c->inside) {
			sw_inside_burst(lc, sink(b), b->m, BURST);
		} else {
			sw_outside_burst(lc, sink(b), b->m, BURST);
		}
		sink_empty(b);
	}
}

#define SW_NAME(field, name) name,
static const char *const counter_names[] = { SW_COUNTERS(SW_NAME) };
#undef SW_NAME

/*
 * A third argument, where the tree has a source table (srctab.h): `table`, the default one
 * of synwall-dp (65536 prefixes, no limit), or `rates`, the same with a SYN rate and a cap of
 * SYN-ACKs that refuse nothing (every bucket drawn on).
 */
static int source_mode;         /* 0: none, 1: table, 2: rates */

static bool
source_table(const char *arg)
{
#if __has_include("srctab.h")
	if (strcmp(arg, "table") == 0 || strcmp(arg, "rates") == 0) {
		source_mode = arg[0] == 't' ? 1 : 2;
		return true;
	}
#endif
	(void)arg;
	return false;
}

static void
source_table_setup(struct fake_dp *d)
{
#if __has_include("srctab.h")
	const struct sw_sipkey key = { 0x5eed, 0xfeed };
	void *mem;

	if (source_mode == 0)
		return;
	mem = aligned_alloc(64, sw_srct_memsize(SW_SRCT_DEFAULT));
	if (mem == NULL)
		die("out of memory");
	memset(mem, 0, sw_srct_memsize(SW_SRCT_DEFAULT));
	if (sw_srct_init(&d->lc->st, mem, SW_SRCT_DEFAULT, &key, 32, 64) != 0)
		die("sw_srct_init");
	if (source_mode == 2) {
		d->cfg->lim.syn_rate = SW_SRCT_RATE_MAX;
		d->cfg->lim.reflect_rate = SW_SRCT_RATE_MAX;
		d->cfg->version++;
	}
#else
	(void)d;
#endif
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	const struct fake_dp_params params = {
		.hashsize = 4096, .bucketlimit = 30, .flows = 65536,
	};
	const struct bench_case *c = NULL;
	struct sw_counters before;
	uint32_t bursts = DEFAULT_BURSTS;
	unsigned int i, want[3];
	uint64_t counted;
	bool timed;

	for (i = 0; argc > 1 && i < RTE_DIM(cases); i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			c = &cases[i];
	if (argc > 2)
		bursts = (uint32_t)strtoul(argv[2], NULL, 10);
	if (argc > 3 && !source_table(argv[3]))
		argc = 0;
	if (c == NULL || bursts == 0 || bursts > 65536 || argc > 4) {
		fprintf(stderr, "usage: bench_pipeline syn|cookie|badack|c2s|s2c [BURSTS (1..65536)] "
			"[table|rates]\n");
		return 2;
	}
	/* callgrind runs no AVX-512, and both commits are to batch the MACs alike; timed, the
	 * best the CPU has, as synwall-dp chooses */
	timed = getenv("BENCH_CYCLES") != NULL;
	if (sw_siphash_select(timed ? sw_siphash_best_impl() : SW_SIPHASH_AVX2) != 0)
		die("this CPU has no AVX2");

	fake_dp_init(&b.d, &params);
	b.d.out.sink.ops = &bench_sink_ops;
	source_table_setup(&b.d);
	b.rng = 0x5eed;
	for (i = 0; i < BURST; i++)
		b.m[i] = fake_mbuf(NULL, 0);
	handshakes(&b);
	if (c->cookie_port) {
		b.d.cfg->port_mode[FAKE_PORT_PROXY] = SW_MODE_COOKIE;
		b.d.cfg->version++;
	}

	b.rng = 0x5eed0000u + (uint64_t)(c - cases);
	run_bursts(&b, c, 0, WARM_BURSTS, SETUP);
	before = b.d.lc->cnt;
	b.digest = 0xcbf29ce484222325ull;
	run_bursts(&b, c, WARM_BURSTS, bursts, MEASURED);

	printf("case %s packets %" PRIu32 " digest %016" PRIx64 "\n", c->name, bursts * BURST,
	       b.digest);
	printf("counters");
	for (i = 0; i < RTE_DIM(counter_names); i++) {
		uint64_t d = sw_counter_at(&b.d.lc->cnt, i) - sw_counter_at(&before, i);

		if (d != 0)
			printf(" %s=%" PRIu64, counter_names[i], d);
	}
	printf("\n");
	if (timed) {
		/* the fastest eighth of the bursts: the others met an interrupt or a cold line */
		qsort(b.tsc, bursts, sizeof(b.tsc[0]), cmp_u64);
		printf("cycles %.1f per packet (TSC, the fastest eighth of the bursts; median "
		       "%.1f)\n", (double)b.tsc[bursts / 8] / BURST,
		       (double)b.tsc[bursts / 2] / BURST);
	}
	want[0] = c->fate == SW_V_OUTSIDE ? bursts * BURST : 0;
	want[1] = c->fate == SW_V_INSIDE ? bursts * BURST : 0;
	want[2] = c->fate == SW_V_DROP ? bursts * BURST : 0;
	counted = sw_counter_at(&b.d.lc->cnt, (unsigned int)(c->counter / sizeof(uint64_t))) -
		  sw_counter_at(&before, (unsigned int)(c->counter / sizeof(uint64_t)));
	if (b.sent[SW_OUTSIDE] != want[0] || b.sent[SW_INSIDE] != want[1] ||
	    b.dropped != want[2] || counted != (uint64_t)bursts * BURST) {
		fprintf(stderr, "bench_pipeline: %s: %u out, %u in, %u dropped, %" PRIu64
			" counted; expected %u, %u, %u and %u\n", c->name, b.sent[SW_OUTSIDE],
			b.sent[SW_INSIDE], b.dropped, counted, want[0], want[1], want[2],
			bursts * BURST);
		return 1;
	}
	return 0;
}
