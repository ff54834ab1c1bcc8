/* SPDX-License-Identifier: BSD-3-Clause */
/* The stages' fake surroundings (fake_dp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_dp.h"

const uint8_t fake_mac_client[6] = { 0x02, 0x00, 0x00, 0x00, 0xc1, 0x01 };
const uint8_t fake_mac_server[6] = { 0x02, 0x00, 0x00, 0x00, 0x5e, 0x02 };

const struct sw_sipkey fake_key0 = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
const struct sw_sipkey fake_key1 = { 0x1716151413121110ull, 0x1f1e1d1c1b1a1918ull };

/* ---- the mbuf registry ---- */

enum fake_state {
	FAKE_LIVE = 0,          /* the test's or a stage's */
	FAKE_SENT,              /* a port took it */
	FAKE_FREED,             /* back in the (pretend) pool */
};

struct fake_mb {
	struct rte_mbuf *m;
	uint8_t *buf;
	enum fake_state state;
	uint16_t lo;            /* the frame ever spanned [lo, hi) of the buffer */
	uint16_t hi;
};

static struct fake_mb *reg;
static unsigned int nreg, capreg;
static unsigned int problems;
static unsigned int live_fixtures;
bool fake_dp_quiet;

static void
problem(const char *fmt, const void *m, const char *what)
{
	problems++;
	if (fake_dp_quiet)
		return;
	fprintf(stderr, "fake_dp: mbuf %p: ", m);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
}

static void *
xalloc(size_t align, size_t n)
{
	void *p = align > 16 ? aligned_alloc(align, (n + align - 1) / align * align) : malloc(n);

	if (p == NULL) {
		fprintf(stderr, "fake_dp: out of memory\n");
		exit(2);
	}
	return p;
}

static struct fake_mb *
find(const struct rte_mbuf *m)
{
	unsigned int i;

	for (i = nreg; i-- > 0;)
		if (reg[i].m == m)
			return &reg[i];
	return NULL;
}

static struct rte_mbuf *
new_mbuf(const void *frame, uint32_t len, uint16_t headroom)
{
	uint16_t buf_len = (uint16_t)(headroom + FAKE_MBUF_ROOM);
	struct rte_mbuf *m = xalloc(RTE_CACHE_LINE_SIZE, sizeof(*m));
	uint8_t *buf = xalloc(1, buf_len);
	struct fake_mb *r;

	if (len > FAKE_MBUF_ROOM) {
		fprintf(stderr, "fake_dp: a frame of %u bytes does not fit\n", len);
		exit(2);
	}
	memset(m, 0, sizeof(*m));
	memset(buf, FAKE_POISON, buf_len);
	if (len != 0)
		memcpy(buf + headroom, frame, len);
	m->buf_addr = buf;
	m->buf_len = buf_len;
	m->data_off = headroom;
	rte_mbuf_refcnt_set(m, 1);
	m->nb_segs = 1;
	m->next = NULL;
	m->pool = NULL;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	if (nreg == capreg) {
		capreg = capreg == 0 ? 256 : 2 * capreg;
		reg = realloc(reg, capreg * sizeof(*reg));
		if (reg == NULL) {
			fprintf(stderr, "fake_dp: out of memory\n");
			exit(2);
		}
	}
	r = &reg[nreg++];
	r->m = m;
	r->buf = buf;
	r->state = FAKE_LIVE;
	r->lo = headroom;
	r->hi = (uint16_t)(headroom + len);
	return m;
}

struct rte_mbuf *
fake_mbuf_headroom(const void *frame, uint32_t len, uint16_t headroom)
{
	return new_mbuf(frame, len, headroom);
}

struct rte_mbuf *
fake_mbuf(const void *frame, uint32_t len)
{
	return new_mbuf(frame, len, RTE_PKTMBUF_HEADROOM);
}

/* An mbuf given back to the sink: registered, live, in one piece, and nothing written
 * outside what has been its frame. */
static void
take_back(struct rte_mbuf *m, enum fake_state to)
{
	struct fake_mb *r = find(m);
	uint32_t i, lo, hi;

	if (r == NULL) {
		problem("%s, but it is none of ours", m, to == FAKE_SENT ? "sent" : "freed");
		return;
	}
	if (r->state != FAKE_LIVE) {
		problem("%s again (after it was %s)", m,
			r->state == FAKE_SENT ? "sent" : "freed");
		return;
	}
	r->state = to;
	if (m->nb_segs != 1 || m->next != NULL || rte_mbuf_refcnt_read(m) != 1 ||
	    m->pool != NULL || m->buf_addr != r->buf)
		problem("%s", m, "handed back in a shape not made here (segments, refcnt, "
			"buffer)");
	if (m->data_len != m->pkt_len)
		problem("%s", m, "data_len != pkt_len");
	if ((uint32_t)m->data_off + m->data_len > m->buf_len)
		problem("%s", m, "frame past the end of its buffer");
	lo = m->data_off < r->lo ? m->data_off : r->lo;
	hi = (uint32_t)m->data_off + m->data_len;
	if (hi < r->hi)
		hi = r->hi;
	for (i = 0; i < lo; i++)
		if (r->buf[i] != FAKE_POISON) {
			problem("%s", m, "written before its frame");
			break;
		}
	for (i = hi; i < m->buf_len; i++)
		if (r->buf[i] != FAKE_POISON) {
			problem("%s", m, "written after its frame");
			break;
		}
}

static void
list_add(struct fake_list *l, struct rte_mbuf *m)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : 2 * l->cap;
		l->m = realloc(l->m, l->cap * sizeof(*l->m));
		if (l->m == NULL) {
			fprintf(stderr, "fake_dp: out of memory\n");
			exit(2);
		}
	}
	l->m[l->n++] = m;
}

/* ---- the sink's operations ---- */

static void
sink_flush(struct sw_sink *s, enum sw_side side)
{
	struct fake_sink *fs = (struct fake_sink *)s;
	struct sw_txbuf *b = &s->tx[side];
	uint16_t i;

	fs->flushes[side]++;
	for (i = 0; i < b->n; i++) {
		take_back(b->pkts[i], FAKE_SENT);
		list_add(&fs->sent[side], b->pkts[i]);
	}
	b->n = 0;
}

static void
sink_free_drops(struct sw_sink *s)
{
	struct fake_sink *fs = (struct fake_sink *)s;
	uint16_t i;

	for (i = 0; i < s->dropped.n; i++) {
		take_back(s->dropped.pkts[i], FAKE_FREED);
		list_add(&fs->dropped, s->dropped.pkts[i]);
	}
	s->dropped.n = 0;
}

static struct rte_mbuf *
sink_alloc(struct sw_sink *s)
{
	struct fake_sink *fs = (struct fake_sink *)s;

	fs->allocs++;
	if (fs->fail_allocs != 0) {
		if (fs->fail_allocs > 0)
			fs->fail_allocs--;
		return NULL;
	}
	/* what rte_pktmbuf_alloc() gives: the standard headroom, no data */
	return new_mbuf(NULL, 0, RTE_PKTMBUF_HEADROOM);
}

static const struct sw_sink_ops fake_sink_ops = {
	.flush = sink_flush,
	.free_drops = sink_free_drops,
	.alloc = sink_alloc,
};

static bool
list_has(const struct fake_list *l, const struct rte_mbuf *m)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->m[i] == m)
			return true;
	return false;
}

int
fake_fate(const struct fake_dp *d, const struct rte_mbuf *m)
{
	if (list_has(&d->out.sent[SW_OUTSIDE], m))
		return SW_V_OUTSIDE;
	if (list_has(&d->out.sent[SW_INSIDE], m))
		return SW_V_INSIDE;
	if (list_has(&d->out.dropped, m))
		return SW_V_DROP;
	return -1;
}

/* ---- the lcore ---- */

void
fake_dp_init(struct fake_dp *d, const struct fake_dp_params *p)
{
	struct fake_dp_params def = { 64, 8, 0, 1024 };
	struct sw_lcore *lc;
	size_t sz;

	if (p != NULL) {
		def.hashsize = p->hashsize != 0 ? p->hashsize : def.hashsize;
		def.bucketlimit = p->bucketlimit != 0 ? p->bucketlimit : def.bucketlimit;
		def.cachelimit = p->cachelimit;
		def.flows = p->flows != 0 ? p->flows : def.flows;
	}
	if (def.cachelimit == 0)
		def.cachelimit = def.hashsize * def.bucketlimit;

	memset(d, 0, sizeof(*d));
	live_fixtures++;
	lc = xalloc(RTE_CACHE_LINE_SIZE, sizeof(*lc));
	memset(lc, 0, sizeof(*lc));
	d->lc = lc;

	d->cfg = sw_cfg_new_default();
	if (d->cfg == NULL) {
		fprintf(stderr, "fake_dp: out of memory\n");
		exit(2);
	}
	d->cfg->lim.cachelimit = def.cachelimit;
	sw_cfg_default_profiles(d->cfg);
	d->cfg->port_mode[FAKE_PORT_PROXY] = SW_MODE_PROXY;
	d->cfg->port_mode[FAKE_PORT_COOKIE] = SW_MODE_COOKIE;
	d->cfg->port_mode[FAKE_PORT_DROP] = SW_MODE_DROP;
	d->cfg->keys.key[0] = fake_key0;
	d->cfg->keys.key[1] = fake_key1;
	d->cfg->keys.epoch = 0;

	sz = sw_syncache_memsize(def.hashsize, def.bucketlimit);
	d->scmem = xalloc(RTE_CACHE_LINE_SIZE, sz);
	memset(d->scmem, 0, sz);
	sz = sw_flowtab_memsize(def.flows);
	d->ftmem = xalloc(RTE_CACHE_LINE_SIZE, sz);
	memset(d->ftmem, 0, sz);
	/* One seed for both tables, as the worker has it: the pipeline hashes a tuple once
	 * (with the flow table's) and looks it up in both. */
	if (sw_syncache_init(&lc->sc, d->scmem, def.hashsize, def.bucketlimit,
			     FAKE_SEED) != 0 ||
	    sw_flowtab_init(&lc->ft, d->ftmem, def.flows, FAKE_SEED) != 0) {
		fprintf(stderr, "fake_dp: table sizes refused\n");
		exit(2);
	}
	lc->lcore_id = 1;
	lc->ts_offset = FAKE_TS_OFFSET;
	lc->rx_csum = false;
	lc->now_ms = FAKE_T0_MS;
	lc->cfg = d->cfg;
	d->learn = xalloc(RTE_CACHE_LINE_SIZE, sizeof(*d->learn));
	memset(d->learn, 0, sizeof(*d->learn));
	d->learn->seed = FAKE_SEED;
	lc->learn = d->learn;
	lc->sc.sweep.last_ms = FAKE_T0_MS;
	lc->ft.sweep.last_ms = FAKE_T0_MS;

	d->out.sink.ops = &fake_sink_ops;
	d->io.lc = lc;
	d->io.out = &d->out.sink;
}

unsigned int
fake_dp_fini(struct fake_dp *d)
{
	unsigned int i, found;

	fake_dp_round(d);
	free(d->out.sent[0].m);
	free(d->out.sent[1].m);
	free(d->out.dropped.m);
	free(d->scmem);
	free(d->learn);
	free(d->ftmem);
	free(d->cfg);
	free(d->lc);
	memset(d, 0, sizeof(*d));
	/* An mbuf is nobody's in particular: with another fixture still live (a test's
	 * twin), its mbufs may still be in use. */
	if (--live_fixtures == 0) {
		for (i = 0; i < nreg; i++) {
			if (reg[i].state == FAKE_LIVE)
				problem("%s", reg[i].m, "never given back (leaked)");
			free(reg[i].buf);
			free(reg[i].m);
		}
		free(reg);
		reg = NULL;
		nreg = capreg = 0;
	}
	found = problems;
	problems = 0;
	return found;
}

/* ---- frames ---- */

void
fake_tuple(struct sw_tuple *t, int v6, uint32_t client, uint16_t sport, uint16_t dport)
{
	memset(t, 0, sizeof(*t));
	t->v6 = (uint8_t)v6;
	t->sport = sport;
	t->dport = dport;
	if (!v6) {
		t->src[0] = 198;
		t->src[1] = 18;
		t->src[2] = (uint8_t)(client >> 8);
		t->src[3] = (uint8_t)client;
		t->dst[0] = 198;
		t->dst[1] = 18;
		t->dst[2] = 1;
		t->dst[3] = 1;
	} else {
		static const uint8_t net[4] = { 0x20, 0x01, 0x00, 0x02 };

		memcpy(t->src, net, 4);
		t->src[7] = 0x0c;
		t->src[14] = (uint8_t)(client >> 8);
		t->src[15] = (uint8_t)client;
		memcpy(t->dst, net, 4);
		t->dst[7] = 0x01;
		t->dst[15] = 0x01;
	}
}

void
fake_tcp_opts(struct fake_tcp *s, uint8_t present, uint16_t mss, uint8_t wscale,
	      uint32_t tsval, uint32_t tsecr)
{
	uint8_t *o = s->opts;
	unsigned int n = 0;
	bool sack = present & SW_OPT_SACKOK, ts = present & SW_OPT_TS;

	if (present & SW_OPT_MSS) {
		o[n++] = 2;
		o[n++] = 4;
		sw_wr16(o + n, mss);
		n += 2;
	}
	if (sack) {
		o[n++] = 4;
		o[n++] = 2;
	} else if (ts) {
		o[n++] = 1;
		o[n++] = 1;
	}
	if (ts) {
		o[n++] = 8;
		o[n++] = 10;
		sw_wr32(o + n, tsval);
		sw_wr32(o + n + 4, tsecr);
		n += 8;
	} else if (sack) {
		o[n++] = 1;
		o[n++] = 1;
	}
	if (present & SW_OPT_WS) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = wscale;
	}
	s->optlen = (uint8_t)n;
}

/* The ones' complement sum of big-endian 16-bit words, folded. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	uint64_t acc = s;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint32_t
fake_tcp_frame(uint8_t *buf, const struct fake_tcp *s)
{
	unsigned int l2 = s->vlan ? 18 : 14, l3 = s->t.v6 ? 40 : 20;
	unsigned int thl = 20 + s->optlen, l4 = thl + s->paylen, i;
	uint8_t *ip = buf + l2, *th = ip + l3;
	uint32_t sum;

	memset(buf, 0, l2 + l3 + l4);
	memcpy(buf, s->from_server ? fake_mac_client : fake_mac_server, 6);
	memcpy(buf + 6, s->from_server ? fake_mac_server : fake_mac_client, 6);
	if (s->vlan) {
		sw_wr16(buf + 12, 0x8100);
		sw_wr16(buf + 14, s->vlan_tci);
	}
	sw_wr16(buf + l2 - 2, s->t.v6 ? 0x86dd : 0x0800);
	if (!s->t.v6) {
		ip[0] = 0x45;
		sw_wr16(ip + 2, (uint16_t)(l3 + l4));
		sw_wr16(ip + 4, 0x1234);
		sw_wr16(ip + 6, 0x4000);
		ip[8] = 57;
		ip[9] = 6;
		memcpy(ip + 12, s->t.src, 4);
		memcpy(ip + 16, s->t.dst, 4);
		sw_wr16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
		sum = sum16(ip + 12, 8, 6 + l4);
	} else {
		ip[0] = 0x60;
		sw_wr16(ip + 4, (uint16_t)l4);
		ip[6] = 6;
		ip[7] = 57;
		memcpy(ip + 8, s->t.src, 16);
		memcpy(ip + 24, s->t.dst, 16);
		sum = sum16(ip + 8, 32, 6 + l4);
	}
	sw_wr16(th, s->t.sport);
	sw_wr16(th + 2, s->t.dport);
	sw_wr32(th + 4, s->seq);
	sw_wr32(th + 8, s->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s->flags;
	sw_wr16(th + 14, s->win);
	memcpy(th + 20, s->opts, s->optlen);
	for (i = 0; i < s->paylen; i++)
		th[thl + i] = (uint8_t)(i * 13 + 7);
	sum = sum16(th, l4, sum);
	sw_wr16(th + 16, (uint16_t)(~sum + (s->bad_csum ? 1 : 0)));
	return l2 + l3 + l4;
}

struct rte_mbuf *
fake_tcp_mbuf(const struct fake_tcp *s)
{
	uint8_t buf[18 + 40 + 60 + 1500];

	if (s->paylen > 1500) {
		fprintf(stderr, "fake_dp: payload too long\n");
		exit(2);
	}
	return fake_mbuf(buf, fake_tcp_frame(buf, s));
}

int
fake_parse(const struct rte_mbuf *m, struct sw_pkt *pkt)
{
	const uint8_t *d = fake_data(m);
	uint32_t len = rte_pktmbuf_data_len(m);

	memset(pkt, 0, sizeof(*pkt));
	if (sw_parse_l3(d, len, pkt) != SW_L3_TCP)
		return -1;
	if (sw_parse_tcp(d, len, pkt) != 0)
		return -2;
	if (!sw_tcp_checksum_ok(d, pkt))
		return -3;
	if ((uint32_t)pkt->l2_len + pkt->l3_len + pkt->l4_len != len || m->pkt_len != len)
		return -4;
	return 0;
}

/* ---- driving a stage as the pipeline does ---- */

int
fake_rx(const struct fake_dp *d, const struct rte_mbuf *m, struct sw_pkt *pkt, uint32_t *hash)
{
	const uint8_t *data = fake_data(m);
	uint32_t len = rte_pktmbuf_data_len(m);
	int rc;

	memset(pkt, 0, sizeof(*pkt));
	rc = sw_parse_l3(data, len, pkt);
	if (rc != SW_L3_TCP)
		return rc;
	rc = sw_parse_tcp(data, len, pkt);
	if (rc != 0)
		return rc;
	*hash = sw_ctab_hash(&d->lc->ft.tab, &pkt->t);
	return 0;
}

/* The MAC's 32 bits, as the pipeline's batch computes them (not sw_cookie_mac: the tests
 * compare the two). */
static uint32_t
mac32(const struct fake_dp *d, const struct sw_tuple *t, uint32_t irs, uint32_t low)
{
	uint8_t msg[SW_COOKIE_MSG_MAX];
	unsigned int n = sw_cookie_msg(msg, t, irs, low);

	return sw_cookie_mac32(sw_siphash24(&d->cfg->keys.key[sw_cookie_key_slot(low)], msg,
					    n));
}

void
fake_syn_plan(const struct fake_dp *d, const struct sw_pkt *pkt, struct sw_syn_plan *p)
{
	uint32_t mac;

	sw_syn_plan(d->lc, pkt, p);
	mac = mac32(d, &pkt->t, pkt->seq, p->low);
	p->iss = (mac >> 8) << 8 | p->low;
	p->mac8 = (uint8_t)mac;
}

uint32_t
fake_cookie_tsecr(const struct sw_tuple *t, uint32_t isn, uint32_t cookie, uint8_t ws_code)
{
	struct sw_keyset ks = { .key = { fake_key0, fake_key1 }, .epoch = 0 };
	uint8_t mac8 = (uint8_t)sw_cookie_mac(&ks, t, isn, cookie & 0xff);

	return 0x12345000u | (uint32_t)mac8 << SW_COOKIE_TS_SHIFT | ws_code;
}

void
fake_ack_macs(const struct fake_dp *d, const struct sw_pkt *pkt, struct sw_ack_macs *m)
{
	uint32_t low = (pkt->ack - 1) & 0xff;

	m->have = true;
	m->mac = mac32(d, &pkt->t, pkt->seq - 1, low);
	m->have_probe = pkt->l4_len == pkt->th_len;
	m->mac_probe = m->have_probe ? mac32(d, &pkt->t, pkt->seq, low) : 0;
}
