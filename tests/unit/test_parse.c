/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser on hand-built frames. Frames are built here byte by byte, with
 * checksums computed by this file (sw_test_sum16), and handed to the parser in buffers of
 * exactly the frame's length that end at an inaccessible page: a read past the end crashes
 * the test. The truncation loops also use malloc'ed buffers of exactly the length, for
 * valgrind/ASan.
 */
#include <rte_ip.h>

#include "bytes.h"
#include "csum.h"
#include "parse.h"
#include "sw_test.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP  0x0806
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* A Linux SYN's options: MSS 1460, SACK_PERM, TS, NOP, WS 7. */
static const uint8_t linux_syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7
};

struct spec {
	int v6;
	int vlan;
	uint16_t tci;
	int qinq_inner;                 /* second tag type, 0: none */
	uint16_t outer_type;            /* 0: 0x8100 when vlan */
	uint8_t ipopt[40];
	unsigned int ipoptlen;          /* multiple of 4 */
	uint8_t ttl;
	uint8_t proto;                  /* 0: TCP */
	uint16_t frag;                  /* IPv4 flags+offset field (DF 0x4000, MF 0x2000) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t urp;
	const uint8_t *opt;
	unsigned int optlen;            /* multiple of 4 */
	const uint8_t *data;
	unsigned int datalen;
	unsigned int pad;               /* Ethernet padding after the datagram */
	const uint8_t *l4raw;           /* non-TCP payload, used as is */
	unsigned int l4rawlen;
};

/* The L4 checksum over a pseudo-header and the segment (checksum field zeroed). */
static uint16_t
l4_cksum(int v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *l4,
	 unsigned int l4len)
{
	uint8_t ph[40];
	unsigned int alen = v6 ? 16 : 4, n = 0;
	uint32_t s;

	memcpy(ph, src, alen);
	n += alen;
	memcpy(ph + n, dst, alen);
	n += alen;
	if (v6) {
		sw_wr32(ph + n, l4len);
		n += 4;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = proto;
	} else {
		ph[n++] = 0;
		ph[n++] = proto;
		sw_wr16(ph + n, (uint16_t)l4len);
		n += 2;
	}
	s = sw_test_sum16(ph, n, 0);
	s = sw_test_sum16(l4, l4len, s);
	return (uint16_t)~s;
}

/* Build the frame; returns its length. */
static unsigned int
build(uint8_t *b, const struct spec *s)
{
	unsigned int off = 12, l3, l4len, i;
	uint8_t proto = s->proto ? s->proto : 6;
	uint8_t *ip, *l4;

	memcpy(b, mac_dst, 6);
	memcpy(b + 6, mac_src, 6);
	if (s->vlan) {
		sw_wr16(b + off, s->outer_type ? s->outer_type : ETH_VLAN);
		sw_wr16(b + off + 2, s->tci);
		off += 4;
		if (s->qinq_inner) {
			sw_wr16(b + off, (uint16_t)s->qinq_inner);
			sw_wr16(b + off + 2, 0x0064);
			off += 4;
		}
	}
	sw_wr16(b + off, s->v6 ? ETH_IPV6 : ETH_IPV4);
	off += 2;
	ip = b + off;
	l3 = s->v6 ? 40 : 20 + s->ipoptlen;
	l4 = ip + l3;
	if (s->l4raw != NULL) {
		memcpy(l4, s->l4raw, s->l4rawlen);
		l4len = s->l4rawlen;
	} else {
		unsigned int th = 20 + s->optlen;

		sw_wr16(l4, s->sport);
		sw_wr16(l4 + 2, s->dport);
		sw_wr32(l4 + 4, s->seq);
		sw_wr32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((th / 4) << 4);
		l4[13] = s->flags;
		sw_wr16(l4 + 14, s->win);
		sw_wr16(l4 + 16, 0);
		sw_wr16(l4 + 18, s->urp);
		if (s->optlen)
			memcpy(l4 + 20, s->opt, s->optlen);
		if (s->datalen)
			memcpy(l4 + th, s->data, s->datalen);
		l4len = th + s->datalen;
	}
	if (!s->v6) {
		ip[0] = (uint8_t)(0x40 | (l3 / 4));
		ip[1] = 0;
		sw_wr16(ip + 2, (uint16_t)(l3 + l4len));
		sw_wr16(ip + 4, 0x1234);
		sw_wr16(ip + 6, s->frag);
		ip[8] = s->ttl;
		ip[9] = proto;
		sw_wr16(ip + 10, 0);
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		if (s->ipoptlen)
			memcpy(ip + 20, s->ipopt, s->ipoptlen);
		sw_wr16(ip + 10, (uint16_t)~sw_test_sum16(ip, l3, 0));
	} else {
		sw_wr32(ip, 0x60000000);
		sw_wr16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
	}
	if (s->l4raw == NULL)
		sw_wr16(l4 + 16, l4_cksum(s->v6, s->src, s->dst, proto, l4, l4len));
	for (i = 0; i < s->pad; i++)
		l4[l4len + i] = 0;
	return (unsigned int)(l4 - b) + l4len + s->pad;
}

static void
syn4(struct spec *s)
{
	static const uint8_t src[4] = { 198, 51, 100, 7 }, dst[4] = { 203, 0, 113, 80 };

	memset(s, 0, sizeof(*s));
	memcpy(s->src, src, 4);
	memcpy(s->dst, dst, 4);
	s->ttl = 57;
	s->frag = 0x4000;               /* DF */
	s->sport = 40000;
	s->dport = 80;
	s->seq = 0xdeadbeef;
	s->ack = 0;
	s->flags = SW_TH_SYN;
	s->win = 64240;
	s->opt = linux_syn_opts;
	s->optlen = sizeof(linux_syn_opts);
}

static void
syn6(struct spec *s)
{
	unsigned int i;

	syn4(s);
	s->v6 = 1;
	s->ttl = 61;
	s->frag = 0;
	for (i = 0; i < 16; i++) {
		s->src[i] = (uint8_t)(0x20 + i);
		s->dst[i] = (uint8_t)(0xf0 - i);
	}
	s->src[0] = 0x20;
	s->src[1] = 0x01;
	s->dst[0] = 0x20;
	s->dst[1] = 0x01;
}

/* Parse from a guarded copy of exactly len bytes. Returns stage 1's result; when that is
 * TCP and do_tcp, *tcp_rc gets stage 2's. */
static int
parse_guarded(const uint8_t *frame, unsigned int len, struct sw_pkt *pkt, int do_tcp,
	      int *tcp_rc)
{
	struct sw_guard g;
	uint8_t *p = sw_guard_copy(&g, frame, len);
	int rc;

	memset(pkt, 0xcc, sizeof(*pkt));
	rc = sw_parse_l3(p, len, pkt);
	if (tcp_rc != NULL)
		*tcp_rc = 1;
	if (rc == SW_L3_TCP && do_tcp) {
		int r2 = sw_parse_tcp(p, len, pkt);

		if (tcp_rc != NULL)
			*tcp_rc = r2;
	}
	sw_guard_free(&g);
	return rc;
}

static void
test_plain_syn(void)
{
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len;
	int rc, trc;

	syn4(&s);
	len = build(f, &s);
	CHECK_EQ(len, 14 + 20 + 40);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l2_len, 14);
	CHECK_EQ(pkt.l3_len, 20);
	CHECK_EQ(pkt.l4_len, 40);
	CHECK_EQ(pkt.th_len, 40);
	CHECK_EQ(pkt.vlan_tci, 0);
	CHECK_EQ(pkt.has_vlan, 0);
	CHECK_EQ(pkt.l4_proto, 6);
	CHECK_EQ(pkt.ttl, 57);
	CHECK_EQ(pkt.tcp_flags, SW_TH_SYN);
	CHECK_EQ(pkt.win, 64240);
	CHECK_EQ(pkt.seq, 0xdeadbeef);
	CHECK_EQ(pkt.ack, 0);
	CHECK_EQ(pkt.t.v6, 0);
	CHECK_MEM(pkt.t.src, s.src, 4);
	CHECK_MEM(pkt.t.dst, s.dst, 4);
	CHECK_EQ(pkt.t.sport, 40000);
	CHECK_EQ(pkt.t.dport, 80);
	CHECK_EQ(pkt.opt.present, SW_OPT_MSS | SW_OPT_WS | SW_OPT_SACKOK | SW_OPT_TS);
	CHECK_EQ(pkt.opt.mss, 1460);
	CHECK_EQ(pkt.opt.wscale, 7);
	CHECK_EQ(pkt.opt.tsval, 0x11223344);
	CHECK_EQ(pkt.opt.tsecr, 0);
	CHECK_EQ(pkt.opt.sack_off, 0);
	CHECK_EQ(pkt.opt.sack_len, 0);
	{
		struct sw_guard g;
		uint8_t *p = sw_guard_copy(&g, f, len);

		CHECK(sw_tcp_checksum_ok(p, &pkt));
		sw_guard_free(&g);
	}

	/* ACK with data, all flags but SYN, TSecr set, a SACK option with two blocks. */
	{
		static const uint8_t opts[32] = {
			1, 1, 8, 10, 0, 0, 0, 5, 0xa1, 0xb2, 0xc3, 0xd4,
			1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4
		};
		static const uint8_t data[7] = "payload";

		syn4(&s);
		s.flags = SW_TH_ACK | SW_TH_PSH | SW_TH_URG | SW_TH_FIN;
		s.seq = 1;
		s.ack = 0x80000001;
		s.win = 0xffff;
		s.urp = 3;
		s.opt = opts;
		s.optlen = sizeof(opts);
		s.data = data;
		s.datalen = sizeof(data);
		len = build(f, &s);
		rc = parse_guarded(f, len, &pkt, 1, &trc);
		CHECK_EQ(rc, SW_L3_TCP);
		CHECK_EQ(trc, 0);
		CHECK_EQ(pkt.l4_len, 20 + 32 + 7);
		CHECK_EQ(pkt.th_len, 52);
		CHECK_EQ(pkt.tcp_flags, SW_TH_ACK | SW_TH_PSH | SW_TH_URG | SW_TH_FIN);
		CHECK_EQ(pkt.seq, 1);
		CHECK_EQ(pkt.ack, 0x80000001);
		CHECK_EQ(pkt.win, 0xffff);
		CHECK_EQ(pkt.opt.present, SW_OPT_TS | SW_OPT_SACK);
		CHECK_EQ(pkt.opt.tsval, 5);
		CHECK_EQ(pkt.opt.tsecr, 0xa1b2c3d4);
		CHECK_EQ(pkt.opt.sack_off, 20 + 14);
		CHECK_EQ(pkt.opt.sack_len, 18);
		CHECK_EQ(pkt.opt.mss, 0);
		CHECK_EQ(pkt.opt.wscale, 0);
	}

	/* RST and SYN|ACK, no options */
	syn4(&s);
	s.flags = SW_TH_RST | SW_TH_ACK;
	s.optlen = 0;
	len = build(f, &s);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.tcp_flags, SW_TH_RST | SW_TH_ACK);
	CHECK_EQ(pkt.th_len, 20);
	CHECK_EQ(pkt.opt.present, 0);
}

static void
test_vlan_v6_ipopts(void)
{
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len;
	int rc, trc;

	/* 802.1Q */
	syn4(&s);
	s.vlan = 1;
	s.tci = 0x2064;                 /* PCP 1, VID 100 */
	len = build(f, &s);
	CHECK_EQ(len, 18 + 20 + 40);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l2_len, 18);
	CHECK_EQ(pkt.has_vlan, 1);
	CHECK_EQ(pkt.vlan_tci, 0x2064);
	CHECK_EQ(pkt.l3_len, 20);
	CHECK_EQ(pkt.l4_len, 40);
	CHECK_EQ(pkt.th_len, 40);
	CHECK_EQ(pkt.t.sport, 40000);
	CHECK_EQ(pkt.t.dport, 80);
	CHECK_MEM(pkt.t.src, s.src, 4);
	CHECK_MEM(pkt.t.dst, s.dst, 4);
	CHECK_EQ(pkt.seq, 0xdeadbeef);
	CHECK_EQ(pkt.opt.mss, 1460);
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* IPv6 */
	syn6(&s);
	len = build(f, &s);
	CHECK_EQ(len, 14 + 40 + 40);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l2_len, 14);
	CHECK_EQ(pkt.has_vlan, 0);
	CHECK_EQ(pkt.vlan_tci, 0);
	CHECK_EQ(pkt.l3_len, 40);
	CHECK_EQ(pkt.l4_len, 40);
	CHECK_EQ(pkt.th_len, 40);
	CHECK_EQ(pkt.l4_proto, 6);
	CHECK_EQ(pkt.ttl, 61);
	CHECK_EQ(pkt.t.v6, 1);
	CHECK_MEM(pkt.t.src, s.src, 16);
	CHECK_MEM(pkt.t.dst, s.dst, 16);
	CHECK_EQ(pkt.t.sport, 40000);
	CHECK_EQ(pkt.t.dport, 80);
	CHECK_EQ(pkt.tcp_flags, SW_TH_SYN);
	CHECK_EQ(pkt.seq, 0xdeadbeef);
	CHECK_EQ(pkt.win, 64240);
	CHECK_EQ(pkt.opt.present, SW_OPT_MSS | SW_OPT_WS | SW_OPT_SACKOK | SW_OPT_TS);
	CHECK_EQ(pkt.opt.mss, 1460);
	CHECK_EQ(pkt.opt.wscale, 7);
	CHECK_EQ(pkt.opt.tsval, 0x11223344);
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* IPv6 in 802.1Q */
	syn6(&s);
	s.vlan = 1;
	s.tci = 0x0fff;
	len = build(f, &s);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l2_len, 18);
	CHECK_EQ(pkt.vlan_tci, 0x0fff);
	CHECK_EQ(pkt.t.v6, 1);
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* IPv4 with 4 bytes of IP options (IHL 6): router alert */
	syn4(&s);
	s.ipopt[0] = 0x94;
	s.ipopt[1] = 4;
	s.ipoptlen = 4;
	len = build(f, &s);
	CHECK_EQ(f[14], 0x46);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l3_len, 24);
	CHECK_EQ(pkt.l4_len, 40);
	CHECK_EQ(pkt.th_len, 40);
	CHECK_EQ(pkt.t.sport, 40000);
	CHECK_EQ(pkt.t.dport, 80);
	CHECK_EQ(pkt.seq, 0xdeadbeef);
	CHECK_EQ(pkt.opt.mss, 1460);
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* IHL 15: 40 bytes of IP options */
	syn4(&s);
	memset(s.ipopt, 1, 40);
	s.ipoptlen = 40;
	len = build(f, &s);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l3_len, 60);
	CHECK_EQ(pkt.t.dport, 80);
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* Ethernet padding after the datagram is allowed (a 60-byte minimum frame). */
	syn4(&s);
	s.optlen = 0;
	s.pad = 6;
	len = build(f, &s);
	CHECK_EQ(len, 60);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.l4_len, 20);       /* from the IP header, not the frame */
	CHECK(sw_tcp_checksum_ok(f, &pkt));

	/* DF alone is not a fragment. */
	syn4(&s);
	s.frag = 0x4000;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_TCP);
}

static void
test_not_tcp(void)
{
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len;
	static const uint8_t udp[12] = { 0x13, 0x88, 0x00, 0x35, 0, 12, 0, 0, 'a', 'b', 'c', 'd' };
	static const uint8_t icmp_echo[12] = { 8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4 };
	static const uint8_t icmp6_echo[12] = { 128, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4 };

	/* ARP */
	{
		uint8_t arp[42];

		memset(arp, 0, sizeof(arp));
		memset(arp, 0xff, 6);
		memcpy(arp + 6, mac_src, 6);
		sw_wr16(arp + 12, ETH_ARP);
		sw_wr16(arp + 14, 1);
		sw_wr16(arp + 16, 0x0800);
		arp[18] = 6;
		arp[19] = 4;
		sw_wr16(arp + 20, 1);
		CHECK_EQ(parse_guarded(arp, sizeof(arp), &pkt, 0, NULL), SW_L3_OTHER);
		/* even truncated right after the EtherType: nothing past it is read */
		CHECK_EQ(parse_guarded(arp, 14, &pkt, 0, NULL), SW_L3_OTHER);
		/* ARP in a VLAN */
		memcpy(f, arp, 12);
		sw_wr16(f + 12, ETH_VLAN);
		sw_wr16(f + 14, 7);
		memcpy(f + 16, arp + 12, 30);
		CHECK_EQ(parse_guarded(f, 46, &pkt, 0, NULL), SW_L3_OTHER);
		CHECK_EQ(pkt.has_vlan, 1);
		CHECK_EQ(pkt.vlan_tci, 7);
		CHECK_EQ(parse_guarded(f, 18, &pkt, 0, NULL), SW_L3_OTHER);
	}
	/* UDP over IPv4 and IPv6 */
	syn4(&s);
	s.proto = 17;
	s.l4raw = udp;
	s.l4rawlen = sizeof(udp);
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_OTHER);
	/* a UDP fragment is not ours to drop: bridged */
	s.frag = 0x2000;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_OTHER);
	syn6(&s);
	s.proto = 17;
	s.l4raw = udp;
	s.l4rawlen = sizeof(udp);
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_OTHER);

	/* IPv6 with a hop-by-hop header in front of TCP: walked, TCP found and flagged (the
	 * worker does not answer it on protected ports: malformed.ipv6_ext) */
	{
		uint8_t l4[8 + 20];

		memset(l4, 0, sizeof(l4));
		l4[0] = 6;              /* next header: TCP */
		l4[1] = 0;              /* 8 bytes */
		l4[2] = 1;              /* PadN */
		l4[3] = 4;
		sw_wr16(l4 + 8, 40000);
		sw_wr16(l4 + 10, 80);
		l4[8 + 12] = 0x50;
		l4[8 + 13] = SW_TH_SYN;
		syn6(&s);
		s.proto = 0;
		s.l4raw = l4;
		s.l4rawlen = sizeof(l4);
		len = build(f, &s);
		f[14 + 6] = 0;          /* build() defaults proto 0 to TCP: hop-by-hop is 0 */
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_TCP);
		CHECK_EQ(pkt.ext, SW_EXT_V6);
		CHECK_EQ(pkt.l3_len, 48);
		CHECK_EQ(pkt.l4_len, 20);
		CHECK_EQ(pkt.t.dport, 80);
		/* a fragment header (first fragment, more to come) with TCP behind it: dropped
		 * like IPv4 TCP fragments */
		l4[0] = 44;
		memcpy(l4 + 8, (uint8_t[]){ 6, 0, 0, 1, 0, 0, 0, 1 }, 8);
		len = build(f, &s);
		f[14 + 6] = 0;
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), -SW_BAD_FRAGMENT);
		/* an atomic fragment (offset 0, no more) is a whole packet (RFC 6946): TCP */
		memcpy(l4 + 8, (uint8_t[]){ 6, 0, 0, 0, 0, 0, 0, 1 }, 8);
		len = build(f, &s);
		f[14 + 6] = 0;
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_TCP);
		CHECK_EQ(pkt.ext, SW_EXT_V6);
		CHECK_EQ(pkt.l3_len, 56);
		/* a header whose length runs past the payload */
		l4[0] = 60;
		l4[1] = 200;
		len = build(f, &s);
		f[14 + 6] = 0;
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), -SW_BAD_TRUNCATED);
		/* UDP behind a destination-options header: passes */
		l4[0] = 60;
		l4[1] = 0;
		l4[8] = 17;
		l4[9] = 0;
		len = build(f, &s);
		f[14 + 6] = 0;
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_OTHER);
	}
	/* a chain longer than the walk allows (nine hop-by-hop headers): unparsed, bounded */
	{
		uint8_t l4[9 * 8 + 20];
		unsigned int k;

		memset(l4, 0, sizeof(l4));
		for (k = 0; k < 9; k++)
			l4[8 * k] = k < 8 ? 0 : 6;
		syn6(&s);
		s.proto = 0;
		s.l4raw = l4;
		s.l4rawlen = sizeof(l4);
		len = build(f, &s);
		f[14 + 6] = 0;
		CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), -SW_BAD_UNPARSED);
	}

	/* ICMP and ICMPv6 */
	syn4(&s);
	s.proto = 1;
	s.l4raw = icmp_echo;
	s.l4rawlen = sizeof(icmp_echo);
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_ICMP);
	CHECK_EQ(pkt.l4_proto, 1);
	CHECK_EQ(pkt.l4_len, 12);
	CHECK_EQ(pkt.t.v6, 0);
	syn6(&s);
	s.proto = 58;
	s.l4raw = icmp6_echo;
	s.l4rawlen = sizeof(icmp6_echo);
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 0, NULL), SW_L3_ICMP);
	CHECK_EQ(pkt.l4_proto, 58);
	CHECK_EQ(pkt.t.v6, 1);
}

/*
 * Header chains: every one is followed to its TCP header, or refused when it could carry TCP
 * the parser cannot see. Each chain is written as (next header, header bytes) pairs in front
 * of a TCP SYN to port 80.
 */
struct chain_case {
	const char *name;
	int v6;
	uint8_t first;                  /* the IP header's protocol / next header */
	uint8_t hdrs[96];               /* the headers between IP and TCP, as sent */
	unsigned int hdrlen;
	uint16_t frag;                  /* IPv4 flags+offset */
	int want;                       /* stage 1's result */
	uint8_t ext;                    /* and pkt.ext when TCP */
};

/* an 8-byte IPv6 options header (hop-by-hop, destination options) */
#define OPT8(nh)        (nh), 0, 1, 4, 0, 0, 0, 0
/* a fragment header: next header, offset (8-byte units) and M */
#define FRAG(nh, off, m) (nh), 0, (uint8_t)((off) >> 5), (uint8_t)(((off) << 3) | (m)), 0, 0, 0, 7
/* an authentication header of 12 bytes of ICV: length (12 + 12) / 4 - 2 = 4 */
#define AH24(nh)        (nh), 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9

static const struct chain_case chain_cases[] = {
	{ "v6 AH", 1, 51, { AH24(6) }, 24, 0, SW_L3_TCP, SW_EXT_V6 | SW_EXT_AH },
	{ "v6 HBH AH DST", 1, 0, { OPT8(51), AH24(60), OPT8(6) }, 40, 0, SW_L3_TCP,
	  SW_EXT_V6 | SW_EXT_AH },
	{ "v6 HBH atomic-frag DST", 1, 0, { OPT8(44), FRAG(60, 0, 0), OPT8(6) }, 24, 0,
	  SW_L3_TCP, SW_EXT_V6 },
	{ "v6 first fragment, DST then TCP", 1, 44, { FRAG(60, 0, 1), OPT8(6) }, 16, 0,
	  -SW_BAD_FRAGMENT, 0 },
	{ "v6 HBH first fragment DST TCP", 1, 0, { OPT8(44), FRAG(60, 0, 1), OPT8(6) }, 24, 0,
	  -SW_BAD_FRAGMENT, 0 },
	{ "v6 later fragment of a chain", 1, 44, { FRAG(60, 100, 0), OPT8(6) }, 16, 0,
	  -SW_BAD_UNPARSED, 0 },
	{ "v6 later fragment of TCP", 1, 44, { FRAG(6, 100, 1) }, 8, 0, -SW_BAD_FRAGMENT, 0 },
	{ "v6 later fragment of UDP", 1, 44, { FRAG(17, 100, 0) }, 8, 0, SW_L3_OTHER, 0 },
	{ "v6 first fragment of UDP behind DST", 1, 44, { FRAG(60, 0, 1), OPT8(17) }, 16, 0,
	  SW_L3_OTHER, 0 },
	{ "v6 ESP: not readable by anyone without its key", 1, 50, { 0 }, 8, 0, SW_L3_OTHER, 0 },
	{ "v6 no next header", 1, 59, { 0 }, 0, 0, SW_L3_OTHER, 0 },
	{ "v6 eight headers: the most walked", 1, 0,
	  { OPT8(0), OPT8(0), OPT8(0), OPT8(0), OPT8(0), OPT8(0), OPT8(60), OPT8(6) }, 64, 0,
	  SW_L3_TCP, SW_EXT_V6 },
	{ "v4 AH", 0, 51, { AH24(6) }, 24, 0, SW_L3_TCP, SW_EXT_AH },
	{ "v4 AH AH", 0, 51, { AH24(51), AH24(6) }, 48, 0, SW_L3_TCP, SW_EXT_AH },
	{ "v4 three AH", 0, 51, { AH24(51), AH24(51), AH24(6) }, 72, 0, -SW_BAD_UNPARSED, 0 },
	{ "v4 AH UDP", 0, 51, { AH24(17) }, 24, 0, SW_L3_OTHER, 0 },
	{ "v4 AH in a fragment", 0, 51, { AH24(6) }, 24, 0x2000, -SW_BAD_UNPARSED, 0 },
	{ "v4 AH past the datagram", 0, 51, { 6, 200, 0, 0 }, 4, 0, -SW_BAD_TRUNCATED, 0 },
};

static void
test_header_chains(void)
{
	static const uint8_t tcp[20] = { 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02,
					 0xff, 0xff };
	uint8_t l4[96 + 20], f[256];
	struct sw_pkt pkt;
	struct spec s;
	unsigned int i, len;

	for (i = 0; i < RTE_DIM(chain_cases); i++) {
		const struct chain_case *c = &chain_cases[i];

		SW_CTX("chain: %s", c->name);
		memcpy(l4, c->hdrs, c->hdrlen);
		memcpy(l4 + c->hdrlen, tcp, sizeof(tcp));
		if (c->v6)
			syn6(&s);
		else
			syn4(&s);
		s.proto = c->first;
		s.frag = c->frag;
		s.l4raw = l4;
		s.l4rawlen = c->hdrlen + sizeof(tcp);
		len = build(f, &s);
		if (c->first == 0)      /* build() reads proto 0 as TCP: put the real 0 back */
			f[14 + (c->v6 ? 6 : 9)] = 0;
		if (!c->v6) {           /* the header checksum again, over the protocol set */
			f[24] = 0;
			f[25] = 0;
			sw_wr16(f + 24, (uint16_t)~sw_test_sum16(f + 14, 20, 0));
		}
		REQUIRE(parse_guarded(f, len, &pkt, 0, NULL) == c->want);
		if (c->want == SW_L3_TCP) {
			CHECK_EQ(pkt.ext, c->ext);
			CHECK_EQ(pkt.l3_len, (c->v6 ? 40 : 20) + c->hdrlen);
			CHECK_EQ(pkt.l4_len, 20);
			CHECK_EQ(pkt.t.sport, 40000);
			CHECK_EQ(pkt.t.dport, 80);
			CHECK_EQ(sw_parse_tcp(f, len, &pkt), 0);
			CHECK_EQ(pkt.tcp_flags, SW_TH_SYN);
		}
	}
	SW_CTX_CLEAR();
}

/* Expected stage-1 result of a frame truncated to len (full: its untruncated length,
 * hdr: l2 + IP header length, minimum IP header size minip). */
static int
truncated_expect(unsigned int len, unsigned int l2, unsigned int minip, unsigned int hdr)
{
	if (len < 14 || len < l2)
		return -SW_BAD_TRUNCATED;
	if (len < l2 + minip)
		return -SW_BAD_TRUNCATED;
	if (len < hdr)                  /* IHL past the frame */
		return -SW_BAD_TRUNCATED;
	return -SW_BAD_IP_LENGTH;       /* total / payload length past the frame */
}

static void
truncation_loop(const char *name, const uint8_t *frame, unsigned int full, unsigned int l2,
		unsigned int minip, unsigned int hdr, unsigned int datagram_end, int full_rc)
{
	unsigned int len;

	for (len = 0; len < full; len++) {
		struct sw_pkt pkt;
		uint8_t *m;
		int rc, trc, rc2;

		SW_CTX("%s truncated to %u of %u bytes", name, len, full);
		rc = parse_guarded(frame, len, &pkt, 1, &trc);
		if (len < datagram_end) {
			CHECK(rc < 0);
			CHECK_EQ(rc, truncated_expect(len, l2, minip, hdr));
		} else {
			/* only padding was cut: same result as the whole frame */
			CHECK_EQ(rc, full_rc);
			if (rc == SW_L3_TCP)
				CHECK_EQ(trc, 0);
		}
		if (rc >= 0 && rc != SW_L3_OTHER)
			CHECK((unsigned int)pkt.l2_len + pkt.l3_len + pkt.l4_len <= len);
		if (rc == SW_L3_TCP && trc == 0)
			CHECK(pkt.th_len <= pkt.l4_len);

		/* malloc'ed copy of exactly len bytes, for valgrind / ASan */
		m = malloc(len ? len : 1);
		REQUIRE(m != NULL);
		memcpy(m, frame, len);
		rc2 = sw_parse_l3(m, len, &pkt);
		CHECK_EQ(rc2, rc);
		if (rc2 == SW_L3_TCP && sw_parse_tcp(m, len, &pkt) == 0)
			(void)sw_tcp_checksum_ok(m, &pkt);
		free(m);
	}
	SW_CTX_CLEAR();
}

static void
test_truncation(void)
{
	uint8_t f[256];
	struct spec s;
	unsigned int len;

	syn4(&s);
	len = build(f, &s);
	truncation_loop("IPv4 SYN", f, len, 14, 20, 34, len, SW_L3_TCP);

	syn4(&s);
	s.vlan = 1;
	s.tci = 5;
	len = build(f, &s);
	truncation_loop("802.1Q IPv4 SYN", f, len, 18, 20, 38, len, SW_L3_TCP);

	syn6(&s);
	len = build(f, &s);
	truncation_loop("IPv6 SYN", f, len, 14, 40, 54, len, SW_L3_TCP);

	syn6(&s);
	s.vlan = 1;
	len = build(f, &s);
	truncation_loop("802.1Q IPv6 SYN", f, len, 18, 40, 58, len, SW_L3_TCP);

	syn4(&s);
	memset(s.ipopt, 1, 8);
	s.ipoptlen = 8;
	len = build(f, &s);
	truncation_loop("IPv4 SYN with IHL 7", f, len, 14, 20, 42, len, SW_L3_TCP);

	syn4(&s);
	s.optlen = 0;
	s.pad = 6;
	len = build(f, &s);
	truncation_loop("padded IPv4 SYN", f, len, 14, 20, 34, len - 6, SW_L3_TCP);
}

static void
test_malformed_ip(void)
{
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len, ihl;
	int trc;

	/* IHL < 5 */
	for (ihl = 0; ihl < 5; ihl++) {
		syn4(&s);
		len = build(f, &s);
		f[14] = (uint8_t)(0x40 | ihl);
		SW_CTX("IHL %u", ihl);
		CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_HEADER);
	}
	SW_CTX_CLEAR();
	/* wrong IP version for the EtherType */
	syn4(&s);
	len = build(f, &s);
	f[14] = 0x65;
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_HEADER);
	syn6(&s);
	len = build(f, &s);
	f[14] = 0x40;
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_HEADER);

	/* IHL past the frame: a 20-byte IP header that claims 60, total length 40 */
	syn4(&s);
	s.optlen = 0;
	len = build(f, &s);
	f[14] = 0x4f;
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_TRUNCATED);
	/* frame ends inside the IP options */
	syn4(&s);
	memset(s.ipopt, 1, 12);
	s.ipoptlen = 12;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, 14 + 24, &pkt, 1, NULL), -SW_BAD_TRUNCATED);

	/* total length past the frame */
	syn4(&s);
	len = build(f, &s);
	sw_wr16(f + 16, (uint16_t)(sw_rd16(f + 16) + 1));
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_LENGTH);
	sw_wr16(f + 16, 0xffff);
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_LENGTH);
	/* total length < IHL */
	for (ihl = 0; ihl < 20; ihl += 4) {
		syn4(&s);
		len = build(f, &s);
		sw_wr16(f + 16, (uint16_t)ihl);
		SW_CTX("total length %u", ihl);
		CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_LENGTH);
	}
	syn4(&s);
	s.ipoptlen = 8;
	memset(s.ipopt, 1, 8);
	len = build(f, &s);
	sw_wr16(f + 16, 24);               /* IHL 28 */
	SW_CTX("total length 24 < IHL 28");
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_LENGTH);
	SW_CTX_CLEAR();
	/* IPv6 payload length past the frame */
	syn6(&s);
	len = build(f, &s);
	sw_wr16(f + 18, (uint16_t)(sw_rd16(f + 18) + 1));
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_IP_LENGTH);

	/* IPv4 total length covers less than a TCP header's first 4 bytes / 20 bytes */
	syn4(&s);
	len = build(f, &s);
	sw_wr16(f + 16, 20 + 3);
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_TRUNCATED);
	sw_wr16(f + 16, 20 + 19);
	f[24] = 0;
	f[25] = 0;
	sw_wr16(f + 24, (uint16_t)~sw_test_sum16(f + 14, 20, 0));
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, &trc), SW_L3_TCP);
	CHECK_EQ(trc, -SW_BAD_TRUNCATED);

	/* Two VLAN tags */
	syn4(&s);
	s.vlan = 1;
	s.qinq_inner = ETH_VLAN;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
	syn4(&s);
	s.vlan = 1;
	s.qinq_inner = ETH_QINQ;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
	syn4(&s);
	s.vlan = 1;
	s.outer_type = ETH_QINQ;
	s.qinq_inner = ETH_VLAN;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
	/* the pre-standard service tags, outside or inside, and a service tag alone: what
	 * they carry is not read */
	{
		static const uint16_t tags[] = { 0x9100, 0x9200, ETH_QINQ };
		unsigned int i;

		for (i = 0; i < RTE_DIM(tags); i++) {
			SW_CTX("tag 0x%04x", tags[i]);
			syn4(&s);
			s.vlan = 1;
			s.outer_type = tags[i];
			s.qinq_inner = ETH_VLAN;
			len = build(f, &s);
			CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
			syn4(&s);
			s.vlan = 1;
			s.qinq_inner = tags[i];
			len = build(f, &s);
			CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
			syn4(&s);
			s.vlan = 1;
			s.outer_type = tags[i];
			len = build(f, &s);
			CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_VLAN);
		}
		SW_CTX_CLEAR();
	}
	/* a frame that ends inside the VLAN tag */
	syn4(&s);
	s.vlan = 1;
	len = build(f, &s);
	CHECK_EQ(parse_guarded(f, 16, &pkt, 1, NULL), -SW_BAD_TRUNCATED);
	CHECK_EQ(parse_guarded(f, 17, &pkt, 1, NULL), -SW_BAD_TRUNCATED);

	/* IPv4 TCP fragments */
	{
		static const uint16_t frags[] = { 0x2000, 0x0001, 0x1fff, 0x2001, 0x6000, 0x4001,
						  0x8001 };
		unsigned int i;

		for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
			syn4(&s);
			s.frag = frags[i];
			len = build(f, &s);
			SW_CTX("flags/offset 0x%04x", frags[i]);
			CHECK_EQ(parse_guarded(f, len, &pkt, 1, NULL), -SW_BAD_FRAGMENT);
		}
		SW_CTX_CLEAR();
	}
}

static void
test_malformed_tcp(void)
{
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len, doff;
	int rc, trc;

	/* data offset < 5 */
	for (doff = 0; doff < 5; doff++) {
		syn4(&s);
		len = build(f, &s);
		f[14 + 20 + 12] = (uint8_t)(doff << 4);
		SW_CTX("data offset %u", doff);
		rc = parse_guarded(f, len, &pkt, 1, &trc);
		CHECK_EQ(rc, SW_L3_TCP);
		CHECK_EQ(trc, -SW_BAD_TCP_HEADER);
	}
	/* data offset past the segment */
	syn4(&s);
	s.optlen = 0;
	len = build(f, &s);
	for (doff = 6; doff < 16; doff++) {
		f[14 + 20 + 12] = (uint8_t)(doff << 4);
		SW_CTX("data offset %u in a 20-byte segment", doff);
		rc = parse_guarded(f, len, &pkt, 1, &trc);
		CHECK_EQ(rc, SW_L3_TCP);
		CHECK_EQ(trc, -SW_BAD_TCP_HEADER);
	}
	/* data offset past the segment by 4 with 20 bytes of options */
	syn4(&s);
	len = build(f, &s);
	f[14 + 20 + 12] = 11 << 4;
	SW_CTX("data offset 11 in a 40-byte segment");
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(trc, -SW_BAD_TCP_HEADER);
	/* the same in IPv6 */
	syn6(&s);
	len = build(f, &s);
	f[14 + 40 + 12] = 11 << 4;
	SW_CTX("IPv6 data offset 11 in a 40-byte segment");
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(rc, SW_L3_TCP);
	CHECK_EQ(trc, -SW_BAD_TCP_HEADER);
	SW_CTX_CLEAR();

	/* a data offset that covers the whole segment (no data) is fine */
	syn4(&s);
	len = build(f, &s);
	rc = parse_guarded(f, len, &pkt, 1, &trc);
	CHECK_EQ(trc, 0);
	CHECK_EQ(pkt.th_len, pkt.l4_len);
}

/* Run the option parser on exactly these bytes; returns its result. */
static int
opts_guarded(const uint8_t *o, unsigned int n, struct sw_tcpopts *out)
{
	struct sw_guard g;
	uint8_t *p = sw_guard_copy(&g, o, n);
	int rc;

	memset(out, 0xcc, sizeof(*out));
	rc = sw_parse_tcp_options(p, n, out);
	sw_guard_free(&g);
	return rc;
}

static void
test_options(void)
{
	struct sw_tcpopts o;
	uint8_t b[40];
	unsigned int i;

	/* zero length, length 1 */
	{
		static const uint8_t z[4] = { 2, 0, 5, 0xb4 }, z2[4] = { 30, 0, 1, 1 };
		static const uint8_t one[4] = { 8, 1, 1, 1 }, one2[4] = { 1, 1, 99, 1 };

		CHECK_EQ(opts_guarded(z, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(z2, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(one, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(one2, 4, &o), -SW_BAD_TCP_OPTION);
	}
	/* length past the header */
	{
		static const uint8_t a[4] = { 30, 5, 0, 0 };
		static const uint8_t c[8] = { 2, 4, 5, 0xb4, 8, 10, 0, 0 };
		static const uint8_t d[4] = { 1, 1, 3, 3 };     /* WS wants 3, 2 left */

		CHECK_EQ(opts_guarded(a, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(c, 8, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(d, 4, &o), -SW_BAD_TCP_OPTION);
		/* 255 */
		memset(b, 1, sizeof(b));
		b[36] = 30;
		b[37] = 255;
		CHECK_EQ(opts_guarded(b, 40, &o), -SW_BAD_TCP_OPTION);
	}
	/* wrong lengths of known options */
	{
		static const uint8_t mss3[4] = { 2, 3, 5, 1 }, mss5[8] = { 2, 5, 5, 0xb4, 0, 1, 1, 1 };
		static const uint8_t ws4[4] = { 3, 4, 7, 0 }, ws2[4] = { 3, 2, 1, 1 };
		static const uint8_t sok3[4] = { 4, 3, 0, 1 };
		static const uint8_t ts8[8] = { 8, 8, 0, 0, 0, 1, 0, 0 };
		static const uint8_t sack9[12] = { 5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1 };
		static const uint8_t sack2[4] = { 5, 2, 1, 1 };

		CHECK_EQ(opts_guarded(mss3, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(mss5, 8, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(ws4, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(ws2, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(sok3, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(ts8, 8, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(sack9, 12, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(sack2, 4, &o), -SW_BAD_TCP_OPTION);
	}
	/* a kind without its length byte at the very end */
	{
		static const uint8_t k1[4] = { 1, 1, 1, 2 }, k2[4] = { 1, 1, 1, 30 };
		static const uint8_t k3[1] = { 8 };

		CHECK_EQ(opts_guarded(k1, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(k2, 4, &o), -SW_BAD_TCP_OPTION);
		CHECK_EQ(opts_guarded(k3, 1, &o), -SW_BAD_TCP_OPTION);
	}
	/* unknown options are skipped by their length */
	{
		static const uint8_t u[12] = { 30, 4, 0xaa, 0xbb, 2, 4, 0x05, 0x78, 253, 2, 1, 1 };
		static const uint8_t u2[8] = { 34, 8, 2, 4, 0, 0, 0, 0 };   /* TFO cookie */

		CHECK_EQ(opts_guarded(u, 12, &o), 0);
		CHECK_EQ(o.present, SW_OPT_MSS);
		CHECK_EQ(o.mss, 1400);
		/* bytes inside an unknown option are not parsed as options */
		CHECK_EQ(opts_guarded(u2, 8, &o), 0);
		CHECK_EQ(o.present, 0);
	}
	/* EOL stops parsing: what follows is not looked at, even if invalid */
	{
		static const uint8_t e[8] = { 2, 4, 0x05, 0xb4, 0, 3, 0, 0xff };
		static const uint8_t e2[4] = { 0, 2, 4, 5 };

		CHECK_EQ(opts_guarded(e, 8, &o), 0);
		CHECK_EQ(o.present, SW_OPT_MSS);
		CHECK_EQ(o.mss, 1460);
		CHECK_EQ(opts_guarded(e2, 4, &o), 0);
		CHECK_EQ(o.present, 0);
	}
	/* NOP padding */
	{
		static const uint8_t n[12] = { 1, 1, 1, 3, 3, 2, 1, 1, 1, 1, 4, 2 };

		CHECK_EQ(opts_guarded(n, 12, &o), 0);
		CHECK_EQ(o.present, SW_OPT_WS | SW_OPT_SACKOK);
		CHECK_EQ(o.wscale, 2);
	}
	/* 40 bytes of NOPs, and the empty option area */
	memset(b, 1, sizeof(b));
	CHECK_EQ(opts_guarded(b, 40, &o), 0);
	CHECK_EQ(o.present, 0);
	CHECK_EQ(opts_guarded(b, 0, &o), 0);
	CHECK_EQ(o.present, 0);
	/* RFC 7323 2.3: a shift above 14 is taken as 14 */
	{
		static const uint8_t w[4] = { 1, 3, 3, 15 }, w2[4] = { 1, 3, 3, 255 };
		static const uint8_t w3[4] = { 1, 3, 3, 14 };

		CHECK_EQ(opts_guarded(w, 4, &o), 0);
		CHECK_EQ(o.wscale, 14);
		CHECK_EQ(opts_guarded(w2, 4, &o), 0);
		CHECK_EQ(o.wscale, 14);
		CHECK_EQ(opts_guarded(w3, 4, &o), 0);
		CHECK_EQ(o.wscale, 14);
	}
	/* Every option area of up to 8 bytes made of the interesting bytes: never a read
	 * past the area (guard page), never a crash. */
	{
		static const uint8_t alphabet[6] = { 0, 1, 2, 4, 8, 30 };
		unsigned int n, idx, total;

		for (n = 1; n <= 6; n++) {
			total = 1;
			for (i = 0; i < n; i++)
				total *= 6;
			for (idx = 0; idx < total; idx++) {
				unsigned int x = idx;

				for (i = 0; i < n; i++) {
					b[i] = alphabet[x % 6];
					x /= 6;
				}
				(void)opts_guarded(b, n, &o);
			}
		}
	}

	/* Through a whole frame: an option error is stage 2's result */
	{
		uint8_t f[256];
		struct spec s;
		struct sw_pkt pkt;
		static const uint8_t bad[4] = { 2, 3, 5, 1 };
		static const uint8_t nops[40] = {
			1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
			1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
		};
		unsigned int len;
		int trc;

		syn4(&s);
		s.opt = bad;
		s.optlen = 4;
		len = build(f, &s);
		CHECK_EQ(parse_guarded(f, len, &pkt, 1, &trc), SW_L3_TCP);
		CHECK_EQ(trc, -SW_BAD_TCP_OPTION);

		syn4(&s);
		s.opt = nops;
		s.optlen = 40;
		len = build(f, &s);
		CHECK_EQ(parse_guarded(f, len, &pkt, 1, &trc), SW_L3_TCP);
		CHECK_EQ(trc, 0);
		CHECK_EQ(pkt.th_len, 60);
		CHECK_EQ(pkt.opt.present, 0);
		CHECK(sw_tcp_checksum_ok(f, &pkt));
	}
}

static void
test_checksum(void)
{
	static const uint8_t data[9] = "some data";
	uint8_t f[256];
	struct spec s;
	struct sw_pkt pkt;
	unsigned int len, v6, i, bit, odd;
	int trc;

	for (v6 = 0; v6 <= 1; v6++)
	for (odd = 0; odd <= 1; odd++) {
		unsigned int first;

		if (v6)
			syn6(&s);
		else
			syn4(&s);
		s.data = data;
		s.datalen = odd ? 9 : 8;        /* odd-length segments too */
		len = build(f, &s);
		SW_CTX("v6 %u data %u", v6, s.datalen);
		REQUIRE(parse_guarded(f, len, &pkt, 1, &trc) == SW_L3_TCP);
		CHECK_EQ(trc, 0);
		CHECK(sw_tcp_checksum_ok(f, &pkt));

		/* any single bit flipped in what the checksums cover: IPv4 header and segment,
		 * IPv6 addresses and segment */
		first = v6 ? 14 + 8 : 14;
		for (i = first; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				f[i] ^= (uint8_t)(1u << bit);
				SW_CTX("v6 %u data %u: bit %u of byte %u flipped", v6, s.datalen,
				       bit, i);
				CHECK(!sw_tcp_checksum_ok(f, &pkt));
				f[i] ^= (uint8_t)(1u << bit);
			}
		}
		SW_CTX("v6 %u data %u restored", v6, s.datalen);
		CHECK(sw_tcp_checksum_ok(f, &pkt));
	}
	SW_CTX_CLEAR();
}

/* sw_raw_cksum() is rte_raw_cksum(): every length up to 300 at every alignment, random
 * bytes, and all-0xff / all-zero data (the sums that fold to 0xffff and 0). */
static void
test_raw_cksum(void)
{
	static uint8_t buf[320];
	uint64_t rs = 0xc5c5ULL;
	unsigned int len, al, round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = round == 0 ? (uint8_t)sw_rand(&rs) : round == 1 ? 0xff : 0;
		for (len = 0; len <= 300; len++)
			for (al = 0; al < 8; al++) {
				SW_CTX("round %u len %u align %u", round, len, al);
				CHECK_EQ(sw_raw_cksum(buf + al, len), rte_raw_cksum(buf + al, len));
			}
	}
	SW_CTX_CLEAR();
}

static unsigned int
build_unreach4(uint8_t *f, unsigned int quote_tcp_bytes, unsigned int qipopt, uint8_t type,
	       uint8_t qproto)
{
	uint8_t icmp[8 + 60 + 20];
	uint8_t *q = icmp + 8, *qt;
	unsigned int qhl = 20 + qipopt;
	struct spec s;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = type;
	icmp[1] = 3;                    /* port unreachable */
	/* the quoted datagram: our SYN-ACK, 203.0.113.80:80 -> 198.51.100.7:40000 */
	q[0] = (uint8_t)(0x40 | qhl / 4);
	sw_wr16(q + 2, (uint16_t)(qhl + 40));
	q[8] = 64;
	q[9] = qproto;
	q[12] = 203; q[13] = 0; q[14] = 113; q[15] = 80;
	q[16] = 198; q[17] = 51; q[18] = 100; q[19] = 7;
	memset(q + 20, 1, qipopt);
	qt = q + qhl;
	sw_wr16(qt, 80);
	sw_wr16(qt + 2, 40000);
	sw_wr32(qt + 4, 0xc0ffee01);
	sw_wr32(qt + 8, 0xdeadbef0);
	qt[12] = 0x50;
	qt[13] = SW_TH_SYN | SW_TH_ACK;
	sw_wr16(icmp + 2, (uint16_t)~sw_test_sum16(icmp, 8 + qhl + quote_tcp_bytes, 0));

	syn4(&s);
	memcpy(s.src, (const uint8_t[]){ 192, 0, 2, 1 }, 4);   /* a router */
	s.proto = 1;
	s.l4raw = icmp;
	s.l4rawlen = 8 + qhl + quote_tcp_bytes;
	return build(f, &s);
}

static unsigned int
build_unreach6(uint8_t *f, unsigned int quote_tcp_bytes, uint8_t type)
{
	uint8_t icmp[8 + 40 + 20];
	uint8_t *q = icmp + 8, *qt;
	struct spec s;
	unsigned int i;

	syn6(&s);
	memset(icmp, 0, sizeof(icmp));
	icmp[0] = type;
	icmp[1] = 4;                    /* port unreachable */
	sw_wr32(q, 0x60000000);
	sw_wr16(q + 4, 40);
	q[6] = 6;
	q[7] = 64;
	memcpy(q + 8, s.dst, 16);       /* quoted: server -> client */
	memcpy(q + 24, s.src, 16);
	qt = q + 40;
	sw_wr16(qt, 443);
	sw_wr16(qt + 2, 51515);
	sw_wr32(qt + 4, 0x01234567);
	qt[12] = 0x50;
	for (i = 0; i < 16; i++)
		s.src[i] = (uint8_t)(0x30 + i);     /* a router */
	s.proto = 58;
	s.l4raw = icmp;
	s.l4rawlen = 8 + 40 + quote_tcp_bytes;
	return build(f, &s);
}

static int
unreach_guarded(const uint8_t *f, unsigned int len, struct sw_tuple *q, uint32_t *qseq)
{
	struct sw_guard g;
	uint8_t *p = sw_guard_copy(&g, f, len);
	struct sw_pkt pkt;
	int rc;

	rc = sw_parse_l3(p, len, &pkt);
	if (rc != SW_L3_ICMP) {
		sw_guard_free(&g);
		return -100 + rc;
	}
	memset(q, 0xcc, sizeof(*q));
	*qseq = 0xcccccccc;
	rc = sw_parse_icmp_unreach(p, len, &pkt, q, qseq);
	sw_guard_free(&g);
	return rc;
}

static void
test_icmp_unreach(void)
{
	uint8_t f[256];
	struct sw_tuple q;
	uint32_t qseq;
	unsigned int len, n;
	static const uint8_t a_srv[4] = { 203, 0, 113, 80 }, a_cli[4] = { 198, 51, 100, 7 };

	/* IPv4: the quoted IP header and the first 8 bytes of its TCP header */
	len = build_unreach4(f, 8, 0, 3, 6);
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), 0);
	CHECK_EQ(q.v6, 0);
	CHECK_MEM(q.src, a_srv, 4);
	CHECK_MEM(q.dst, a_cli, 4);
	CHECK_EQ(q.sport, 80);
	CHECK_EQ(q.dport, 40000);
	CHECK_EQ(qseq, 0xc0ffee01);
	/* more of the quote is fine */
	len = build_unreach4(f, 20, 0, 3, 6);
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), 0);
	CHECK_EQ(qseq, 0xc0ffee01);
	/* quoted IP header with options */
	len = build_unreach4(f, 8, 8, 3, 6);
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), 0);
	CHECK_EQ(q.sport, 80);
	CHECK_EQ(q.dport, 40000);
	CHECK_EQ(qseq, 0xc0ffee01);
	/* quotes too short: fewer than 8 TCP bytes, down to nothing */
	for (n = 0; n < 8; n++) {
		len = build_unreach4(f, n, 0, 3, 6);
		SW_CTX("IPv4 quote with %u TCP bytes", n);
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
		len = build_unreach4(f, n, 8, 3, 6);
		SW_CTX("IPv4 quote (IHL 7) with %u TCP bytes", n);
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
	}
	SW_CTX_CLEAR();
	/* and an ICMP message shorter than an ICMP header, or with a partial IP header */
	{
		uint8_t g[256];
		unsigned int full = build_unreach4(g, 8, 0, 3, 6), l4;

		for (l4 = 0; l4 < 8 + 20; l4++) {
			memcpy(f, g, full);
			sw_wr16(f + 16, (uint16_t)(20 + l4));
			SW_CTX("IPv4 ICMP of %u bytes", l4);
			CHECK_EQ(unreach_guarded(f, 14 + 20 + l4, &q, &qseq), -1);
		}
		SW_CTX_CLEAR();
	}
	/* not "destination unreachable" */
	len = build_unreach4(f, 8, 0, 11, 6);           /* time exceeded */
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
	len = build_unreach4(f, 8, 0, 0, 6);            /* echo reply */
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
	/* quoting UDP */
	len = build_unreach4(f, 8, 0, 3, 17);
	CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);

	/* IPv6 */
	{
		struct spec s;

		syn6(&s);
		len = build_unreach6(f, 8, 1);
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), 0);
		CHECK_EQ(q.v6, 1);
		CHECK_MEM(q.src, s.dst, 16);
		CHECK_MEM(q.dst, s.src, 16);
		CHECK_EQ(q.sport, 443);
		CHECK_EQ(q.dport, 51515);
		CHECK_EQ(qseq, 0x01234567);
		for (n = 0; n < 8; n++) {
			len = build_unreach6(f, n, 1);
			SW_CTX("IPv6 quote with %u TCP bytes", n);
			CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
		}
		SW_CTX_CLEAR();
		len = build_unreach6(f, 8, 3);          /* time exceeded */
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
		len = build_unreach6(f, 8, 128);        /* echo request */
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
		len = build_unreach6(f, 8, 1);
		f[14 + 40 + 8 + 6] = 17;                /* quoting UDP */
		CHECK_EQ(unreach_guarded(f, len, &q, &qseq), -1);
	}
}

/* Random mutations of valid frames, parsed from exact-length guarded buffers: nothing is
 * read past the end, and what the parser reports lies within the frame. */
static void
test_fuzz(void)
{
	enum { NBASE = 6, MAXLEN = 160 };
	uint8_t base[NBASE][256], f[256];
	unsigned int blen[NBASE];
	struct sw_guard guards[MAXLEN + 1];
	uint64_t rs = 0x5eed5eed12345678ULL;
	struct spec s;
	unsigned int i, iter;

	syn4(&s);
	blen[0] = build(base[0], &s);
	syn6(&s);
	blen[1] = build(base[1], &s);
	syn4(&s);
	s.vlan = 1;
	blen[2] = build(base[2], &s);
	blen[3] = build_unreach4(base[3], 8, 4, 3, 6);
	blen[4] = build_unreach6(base[4], 8, 1);
	syn4(&s);
	memset(s.ipopt, 1, 12);
	s.ipoptlen = 12;
	blen[5] = build(base[5], &s);
	for (i = 0; i <= MAXLEN; i++)
		sw_guard_alloc(&guards[i], i);

	for (iter = 0; iter < 300000; iter++) {
		unsigned int b = (unsigned int)(sw_rand(&rs) % NBASE);
		unsigned int len = blen[b], nmut, k;
		struct sw_pkt pkt;
		uint8_t *p;
		int rc;

		memcpy(f, base[b], len);
		nmut = (unsigned int)(sw_rand(&rs) % 4);
		for (k = 0; k < nmut; k++) {
			uint64_t r = sw_rand(&rs);
			unsigned int pos = (unsigned int)(r % len);

			/* favour the header bytes that steer the parser */
			if ((r >> 32) % 2 == 0) {
				static const unsigned int hot[] = { 12, 13, 14, 16, 17, 18, 19, 20,
								    23, 46, 58, 34, 54, 42, 43 };
				pos = hot[(r >> 40) % (sizeof(hot) / sizeof(hot[0]))];
				if (pos >= len)
					pos = len - 1;
			}
			f[pos] = (uint8_t)(r >> 48);
		}
		if (sw_rand(&rs) % 3 == 0)
			len = (unsigned int)(sw_rand(&rs) % (len + 1));
		if (len > MAXLEN)
			len = MAXLEN;
		p = guards[len].p;
		memcpy(p, f, len);
		rc = sw_parse_l3(p, len, &pkt);
		if (rc == SW_L3_TCP || rc == SW_L3_ICMP) {
			SW_CTX("fuzz iteration %u", iter);
			CHECK((unsigned int)pkt.l2_len + pkt.l3_len + pkt.l4_len <= len);
			if (rc == SW_L3_TCP && sw_parse_tcp(p, len, &pkt) == 0) {
				CHECK(pkt.th_len >= 20 && pkt.th_len <= pkt.l4_len);
				(void)sw_tcp_checksum_ok(p, &pkt);
			}
			if (rc == SW_L3_ICMP) {
				struct sw_tuple q;
				uint32_t qs;

				(void)sw_parse_icmp_unreach(p, len, &pkt, &q, &qs);
			}
		}
	}
	SW_CTX_CLEAR();
	for (i = 0; i <= MAXLEN; i++)
		sw_guard_free(&guards[i]);
}

/*
 * The fast paths for Linux's SYN layout and the aligned timestamps give what the full walk
 * gives: on the exact layouts with random values (shifts above 14 included), and on those
 * layouts with one byte changed at random (then mostly the walk decides, and must agree).
 */
static void
test_options_fast_path(void)
{
	static const uint8_t syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
					 1, 3, 3, 7 };
	static const uint8_t ack[12] = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint64_t rs = 0x5eed0f0fULL;
	unsigned int round;

	for (round = 0; round < 200000; round++) {
		const int is_syn = round & 1;
		const unsigned int n = is_syn ? 20 : 12;
		uint8_t b[20];
		struct sw_tcpopts fast, walk;
		unsigned int k;
		int rf, rw;

		memcpy(b, is_syn ? syn : ack, n);
		for (k = is_syn ? 8 : 4; k < (is_syn ? 16u : 12u); k++)
			b[k] = (uint8_t)sw_rand(&rs);
		if (is_syn) {
			b[2] = (uint8_t)sw_rand(&rs);
			b[3] = (uint8_t)sw_rand(&rs);
			b[19] = (uint8_t)(sw_rand(&rs) % 20);
		}
		if (round % 4 >= 2)     /* one byte anywhere changed */
			b[sw_rand(&rs) % n] = (uint8_t)sw_rand(&rs);
		SW_CTX("round %u", round);
		memset(&fast, 0xcc, sizeof(fast));
		memset(&walk, 0x33, sizeof(walk));
		rf = sw_parse_tcp_options(b, n, &fast);
		rw = sw_parse_tcp_options_loop(b, n, &walk);
		CHECK_EQ(rf, rw);
		if (rf == 0 && rw == 0)
			CHECK_MEM(&fast, &walk, sizeof(fast));
		if (round % 4 < 2) {
			/* the exact layouts: everything there */
			CHECK_EQ(rf, 0);
			CHECK_EQ(fast.present, is_syn ? (SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS |
							 SW_OPT_WS) : SW_OPT_TS);
			CHECK_EQ(fast.ts_off, 20 + (is_syn ? 6 : 2));
			CHECK_EQ(fast.tsval, sw_rd32(b + (is_syn ? 8 : 4)));
			if (is_syn)
				CHECK_EQ(fast.wscale, b[19] > 14 ? 14 : b[19]);
		}
	}
}

int
main(void)
{
	test_plain_syn();
	test_vlan_v6_ipopts();
	test_not_tcp();
	test_header_chains();
	test_truncation();
	test_malformed_ip();
	test_malformed_tcp();
	test_options();
	test_options_fast_path();
	test_checksum();
	test_raw_cksum();
	test_icmp_unreach();
	test_fuzz();
	return sw_test_done();
}
