/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segments the appliance writes (tcpout.h): every combination of IPv4/IPv6, with/without
 * 802.1Q, and options MSS / SACK_PERM / TS / WS, re-parsed with the parser and checked
 * field by field, byte by byte for the options, with checksums verified both by
 * sw_tcp_checksum_ok and by this file's own sum. Also the checksum-offload variant.
 */
#include "parse.h"
#include "sw_test.h"
#include "tcpout.h"

static const uint8_t mac_a[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t mac_b[6] = { 0x0a, 0x99, 0x88, 0x77, 0x66, 0x01 };

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The option bytes the document prescribes (Linux's layout), built independently. */
static unsigned int
expected_options(uint8_t *p, const struct sw_tcpopts *o)
{
	unsigned int n = 0;
	int sack = !!(o->present & SW_OPT_SACKOK), ts = !!(o->present & SW_OPT_TS);

	if (o->present & SW_OPT_MSS) {
		p[n++] = 2;
		p[n++] = 4;
		p[n++] = (uint8_t)(o->mss >> 8);
		p[n++] = (uint8_t)o->mss;
	}
	if (sack && ts) {
		p[n++] = 4;
		p[n++] = 2;
	} else if (ts || sack) {
		p[n++] = 1;
		p[n++] = 1;
	}
	if (ts) {
		p[n++] = 8;
		p[n++] = 10;
		p[n++] = (uint8_t)(o->tsval >> 24);
		p[n++] = (uint8_t)(o->tsval >> 16);
		p[n++] = (uint8_t)(o->tsval >> 8);
		p[n++] = (uint8_t)o->tsval;
		p[n++] = (uint8_t)(o->tsecr >> 24);
		p[n++] = (uint8_t)(o->tsecr >> 16);
		p[n++] = (uint8_t)(o->tsecr >> 8);
		p[n++] = (uint8_t)o->tsecr;
	} else if (sack) {
		p[n++] = 4;
		p[n++] = 2;
	}
	if (o->present & SW_OPT_WS) {
		p[n++] = 1;
		p[n++] = 3;
		p[n++] = 3;
		p[n++] = o->wscale;
	}
	return n;
}

/* TCP checksum over the pseudo-header, computed here. Returns the folded sum including
 * the checksum field: 0xffff when valid. */
static uint32_t
tcp_sum(const uint8_t *ip, int v6, const uint8_t *th, unsigned int l4len, int with_len)
{
	uint8_t ph[40];
	unsigned int n = 0;

	if (v6) {
		memcpy(ph, ip + 8, 32);
		n = 32;
		ph[n++] = (uint8_t)(with_len ? l4len >> 24 : 0);
		ph[n++] = (uint8_t)(with_len ? l4len >> 16 : 0);
		ph[n++] = (uint8_t)(with_len ? l4len >> 8 : 0);
		ph[n++] = (uint8_t)(with_len ? l4len : 0);
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 6;
	} else {
		memcpy(ph, ip + 12, 8);
		n = 8;
		ph[n++] = 0;
		ph[n++] = 6;
		ph[n++] = (uint8_t)(with_len ? l4len >> 8 : 0);
		ph[n++] = (uint8_t)(with_len ? l4len : 0);
	}
	if (th == NULL)
		return sw_test_sum16(ph, n, 0);
	return sw_test_sum16(th, l4len, sw_test_sum16(ph, n, 0));
}

static void
one_case(int v6, int vlan, uint8_t present, uint8_t flags, int offload)
{
	struct sw_seg s;
	struct sw_seg_lens lens;
	uint8_t buf[SW_SEG_MAX_LEN + 32], want_opts[40];
	unsigned int wantlen, i, l2 = vlan ? 18 : 14, l3 = v6 ? 40 : 20;
	struct sw_pkt pkt;
	const uint8_t *ip, *th;
	int rc;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_src, mac_a, 6);
	memcpy(s.eth_dst, mac_b, 6);
	s.has_vlan = (uint8_t)vlan;
	s.vlan_tci = 0xa123;
	s.flags = flags;
	s.t.v6 = (uint8_t)v6;
	for (i = 0; i < 16; i++) {
		s.t.src[i] = (uint8_t)(0x10 + i);
		s.t.dst[i] = (uint8_t)(0xe0 + i);
	}
	s.t.sport = 443;
	s.t.dport = 61234;
	s.seq = 0xfedcba98;
	s.ack = 0x01234567;
	s.win = present ? 0 : 29200;
	s.opt.present = present;
	s.opt.mss = 1452;
	s.opt.wscale = 9;
	s.opt.tsval = 0xa0b0c0d0;
	s.opt.tsecr = 0x11121314;
	s.opt.sack_off = 99;            /* not written */
	wantlen = expected_options(want_opts, &s.opt);

	SW_CTX("v6 %d vlan %d options 0x%02x flags 0x%02x offload %d", v6, vlan, present, flags,
	       offload);
	memset(buf, 0xee, sizeof(buf));
	sw_write_seg(buf, &s, offload, &lens);

	CHECK_EQ(lens.l2_len, l2);
	CHECK_EQ(lens.l3_len, l3);
	CHECK_EQ(lens.l4_len, 20 + wantlen);
	CHECK_EQ(lens.frame_len, l2 + l3 + 20 + wantlen);
	CHECK(lens.frame_len <= SW_SEG_MAX_LEN);
	CHECK_EQ(lens.l4_len % 4, 0);
	/* nothing written past the frame */
	for (i = lens.frame_len; i < sizeof(buf); i++)
		if (buf[i] != 0xee) {
			CHECK_MSG(buf[i] == 0xee, "byte %u past the %u-byte frame written", i,
				  lens.frame_len);
			break;
		}

	/* Ethernet */
	CHECK_MEM(buf, mac_b, 6);
	CHECK_MEM(buf + 6, mac_a, 6);
	if (vlan) {
		CHECK_EQ(rd16(buf + 12), 0x8100);
		CHECK_EQ(rd16(buf + 14), 0xa123);
	}
	CHECK_EQ(rd16(buf + l2 - 2), v6 ? 0x86dd : 0x0800);

	ip = buf + l2;
	th = ip + l3;
	if (!v6) {
		CHECK_EQ(ip[0], 0x45);                  /* version 4, IHL 5 */
		CHECK_EQ(ip[1], 0);                     /* TOS */
		CHECK_EQ(rd16(ip + 2), 20 + 20 + wantlen);
		CHECK_EQ(rd16(ip + 4), 0);              /* ID */
		CHECK_EQ(rd16(ip + 6), 0x4000);         /* DF, offset 0 */
		CHECK_EQ(ip[8], 64);
		CHECK_EQ(ip[9], 6);
		CHECK_MEM(ip + 12, s.t.src, 4);
		CHECK_MEM(ip + 16, s.t.dst, 4);
		if (offload)
			CHECK_EQ(rd16(ip + 10), 0);
		else
			CHECK_EQ(sw_test_sum16(ip, 20, 0), 0xffff);
	} else {
		CHECK_EQ(rd32(ip), 0x60000000);         /* version 6, class 0, flow 0 */
		CHECK_EQ(rd16(ip + 4), 20 + wantlen);
		CHECK_EQ(ip[6], 6);
		CHECK_EQ(ip[7], 64);
		CHECK_MEM(ip + 8, s.t.src, 16);
		CHECK_MEM(ip + 24, s.t.dst, 16);
	}
	/* TCP */
	CHECK_EQ(rd16(th), 443);
	CHECK_EQ(rd16(th + 2), 61234);
	CHECK_EQ(rd32(th + 4), 0xfedcba98);
	CHECK_EQ(rd32(th + 8), 0x01234567);
	CHECK_EQ(th[12], ((20 + wantlen) / 4) << 4);
	CHECK_EQ(th[13], flags);
	CHECK_EQ(rd16(th + 14), s.win);
	CHECK_EQ(rd16(th + 18), 0);                     /* urgent pointer */
	CHECK_MEM(th + 20, want_opts, wantlen);
	if (offload) {
		/* the pseudo-header sum (with the length, no TSO), not complemented, stored
		 * as DPDK wants it: in network order like any checksum field */
		uint16_t ph = (uint16_t)tcp_sum(ip, v6, NULL, 20 + wantlen, 1);

		CHECK_EQ(rd16(th + 16), ph);
	} else {
		CHECK_EQ(tcp_sum(ip, v6, th, 20 + wantlen, 1), 0xffff);
	}

	/* The parser reads back what was written. */
	{
		struct sw_guard g;
		uint8_t *p = sw_guard_copy(&g, buf, lens.frame_len);

		memset(&pkt, 0xcc, sizeof(pkt));
		rc = sw_parse_l3(p, lens.frame_len, &pkt);
		CHECK_EQ(rc, SW_L3_TCP);
		if (rc == SW_L3_TCP) {
			CHECK_EQ(sw_parse_tcp(p, lens.frame_len, &pkt), 0);
			CHECK_EQ(pkt.l2_len, l2);
			CHECK_EQ(pkt.has_vlan, vlan);
			CHECK_EQ(pkt.vlan_tci, vlan ? 0xa123 : 0);
			CHECK_EQ(pkt.l3_len, l3);
			CHECK_EQ(pkt.l4_len, 20 + wantlen);
			CHECK_EQ(pkt.th_len, 20 + wantlen);
			CHECK_EQ(pkt.l4_proto, 6);
			CHECK_EQ(pkt.ttl, 64);
			CHECK_EQ(pkt.tcp_flags, flags);
			CHECK_EQ(pkt.win, s.win);
			CHECK_EQ(pkt.seq, s.seq);
			CHECK_EQ(pkt.ack, s.ack);
			CHECK(sw_tuple_eq(&pkt.t, &s.t));
			CHECK_EQ(pkt.opt.present, present);
			if (present & SW_OPT_MSS)
				CHECK_EQ(pkt.opt.mss, 1452);
			if (present & SW_OPT_WS)
				CHECK_EQ(pkt.opt.wscale, 9);
			if (present & SW_OPT_TS) {
				CHECK_EQ(pkt.opt.tsval, 0xa0b0c0d0);
				CHECK_EQ(pkt.opt.tsecr, 0x11121314);
			}
			if (!offload)
				CHECK(sw_tcp_checksum_ok(p, &pkt));
		}
		sw_guard_free(&g);
	}
}

static void
test_option_writer(void)
{
	struct sw_tcpopts o;
	uint8_t out[64], want[40];
	unsigned int present, n, w;

	for (present = 0; present < 32; present++) {
		memset(&o, 0, sizeof(o));
		o.present = (uint8_t)present;   /* SW_OPT_SACK (blocks) is never written */
		o.mss = 536;
		o.wscale = 14;
		o.tsval = 1;
		o.tsecr = 0xffffffff;
		memset(out, 0xee, sizeof(out));
		n = sw_write_tcp_options(out, &o);
		w = expected_options(want, &o);
		SW_CTX("options 0x%02x", present);
		CHECK_EQ(n, w);
		CHECK_EQ(n % 4, 0);
		CHECK(n <= 20);
		CHECK_MEM(out, want, w);
		CHECK_EQ(out[n], 0xee);
	}
	SW_CTX_CLEAR();

	/* The documented layouts, spelled out. */
	{
		static const uint8_t all[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
						 0, 0, 0, 2, 1, 3, 3, 7 };
		static const uint8_t ts_ws[20] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1,
						   0, 0, 0, 2, 1, 3, 3, 7 };
		static const uint8_t sack_ws[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };
		static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };

		memset(&o, 0, sizeof(o));
		o.mss = 1460;
		o.wscale = 7;
		o.tsval = 1;
		o.tsecr = 2;
		o.present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS;
		CHECK_EQ(sw_write_tcp_options(out, &o), 20);
		CHECK_MEM(out, all, 20);
		o.present = SW_OPT_MSS | SW_OPT_TS | SW_OPT_WS;
		CHECK_EQ(sw_write_tcp_options(out, &o), 20);
		CHECK_MEM(out, ts_ws, 20);
		o.present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS;
		CHECK_EQ(sw_write_tcp_options(out, &o), 12);
		CHECK_MEM(out, sack_ws, 12);
		o.present = SW_OPT_MSS;
		CHECK_EQ(sw_write_tcp_options(out, &o), 4);
		CHECK_MEM(out, mss_only, 4);
	}
}

/* The buffer may be the very packet the values came from: write over a parsed SYN. */
static void
test_in_place(void)
{
	uint8_t buf[SW_SEG_MAX_LEN + 40];
	struct sw_seg s;
	struct sw_seg_lens lens;
	struct sw_pkt pkt;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_src, mac_a, 6);
	memcpy(s.eth_dst, mac_b, 6);
	s.flags = SW_TH_SYN;
	s.t.src[0] = 198;
	s.t.src[3] = 7;
	s.t.dst[0] = 203;
	s.t.dst[3] = 80;
	s.t.sport = 40000;
	s.t.dport = 80;
	s.seq = 1000;
	s.win = 65535;
	s.opt.present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS;
	s.opt.mss = 1460;
	s.opt.wscale = 7;
	s.opt.tsval = 555;
	sw_write_seg(buf, &s, false, &lens);
	REQUIRE(sw_parse_l3(buf, lens.frame_len, &pkt) == SW_L3_TCP);
	REQUIRE(sw_parse_tcp(buf, lens.frame_len, &pkt) == 0);

	/* the SYN-ACK, from the parsed SYN, into the same buffer */
	memset(&s, 0, sizeof(s));
	memcpy(s.eth_src, buf, 6);
	memcpy(s.eth_dst, buf + 6, 6);
	s.t = pkt.t;
	memcpy(s.t.src, pkt.t.dst, 16);
	memcpy(s.t.dst, pkt.t.src, 16);
	s.t.sport = pkt.t.dport;
	s.t.dport = pkt.t.sport;
	s.flags = SW_TH_SYN | SW_TH_ACK;
	s.seq = 0xc00c1e00;
	s.ack = pkt.seq + 1;
	s.opt.present = SW_OPT_MSS | SW_OPT_WS;
	s.opt.mss = 1400;
	s.opt.wscale = 7;
	for (i = 0; i < 2; i++)
		sw_write_seg(buf, &s, false, &lens);
	REQUIRE(sw_parse_l3(buf, lens.frame_len, &pkt) == SW_L3_TCP);
	REQUIRE(sw_parse_tcp(buf, lens.frame_len, &pkt) == 0);
	CHECK_EQ(pkt.t.sport, 80);
	CHECK_EQ(pkt.t.dport, 40000);
	CHECK_EQ(pkt.t.src[0], 203);
	CHECK_EQ(pkt.t.dst[0], 198);
	CHECK_MEM(buf, mac_a, 6);
	CHECK_MEM(buf + 6, mac_b, 6);
	CHECK_EQ(pkt.ack, 1001);
	CHECK_EQ(pkt.tcp_flags, SW_TH_SYN | SW_TH_ACK);
	CHECK_EQ(pkt.th_len, 28);
	CHECK(sw_tcp_checksum_ok(buf, &pkt));
}

int
main(void)
{
	static const uint8_t flag_sets[] = { SW_TH_SYN | SW_TH_ACK, SW_TH_SYN, SW_TH_ACK,
					     SW_TH_RST | SW_TH_ACK };
	unsigned int v6, vlan, present, f, off;

	test_option_writer();
	for (v6 = 0; v6 <= 1; v6++)
	for (vlan = 0; vlan <= 1; vlan++)
	for (present = 0; present < 16; present++)
	for (f = 0; f < sizeof(flag_sets); f++)
	for (off = 0; off <= 1; off++)
		one_case((int)v6, (int)vlan, (uint8_t)present, flag_sets[f], (int)off);
	SW_CTX_CLEAR();
	test_in_place();
	return sw_test_done();
}
