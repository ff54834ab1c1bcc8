/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The splice's segment rewriting (proxy.c) and server profiles (profile.c): frames are
 * built here byte by byte with checksums computed by the test's own sum, translated, then
 * parsed back and checked field by field.
 */
#include <string.h>

#include "bytes.h"
#include "flowtab.h"
#include "parse.h"
#include "profile.h"
#include "proxy.h"
#include "sw_test.h"

#define HEADROOM 32

static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_s[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct frame {
	uint8_t room[HEADROOM];         /* for a timestamps insertion */
	uint8_t b[2048];
	uint32_t len;
};

/* A TCP segment with raw options and a payload; checksums by the test's own sum. */
static void
build(struct frame *f, int v6, int vlan, uint32_t seq, uint32_t ack, uint8_t flags,
      uint16_t win, const uint8_t *opts, unsigned int optlen, const uint8_t *payload,
      unsigned int paylen)
{
	uint8_t *p = f->b, *ip, *th;
	unsigned int l2 = vlan ? 18 : 14, l3 = v6 ? 40 : 20, thl = 20 + optlen;
	uint32_t sum;
	uint8_t pseudo[40];

	memset(f, 0, sizeof(*f));
	memcpy(p, mac_s, 6);
	memcpy(p + 6, mac_c, 6);
	if (vlan) {
		sw_wr16(p + 12, 0x8100);
		sw_wr16(p + 14, 0x2005);
	}
	sw_wr16(p + l2 - 2, v6 ? 0x86dd : 0x0800);
	ip = p + l2;
	th = ip + l3;
	if (!v6) {
		ip[0] = 0x45;
		sw_wr16(ip + 2, (uint16_t)(l3 + thl + paylen));
		sw_wr16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		ip[12] = 198; ip[13] = 18; ip[14] = 0; ip[15] = 1;
		ip[16] = 198; ip[17] = 18; ip[18] = 1; ip[19] = 1;
		sw_wr16(ip + 10, (uint16_t)~sw_test_sum16(ip, 20, 0));
	} else {
		ip[0] = 0x60;
		sw_wr16(ip + 4, (uint16_t)(thl + paylen));
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0x20; ip[9] = 0x01; ip[11] = 0x02; ip[23] = 0x01;
		ip[24] = 0x20; ip[25] = 0x01; ip[27] = 0x02; ip[39] = 0x02;
	}
	sw_wr16(th, 40000);
	sw_wr16(th + 2, 80);
	sw_wr32(th + 4, seq);
	sw_wr32(th + 8, ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	sw_wr16(th + 14, win);
	memcpy(th + 20, opts, optlen);
	memcpy(th + thl, payload, paylen);
	/* pseudo-header */
	memset(pseudo, 0, sizeof(pseudo));
	if (!v6) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = 6;
		sw_wr16(pseudo + 10, (uint16_t)(thl + paylen));
		sum = sw_test_sum16(pseudo, 12, 0);
	} else {
		memcpy(pseudo, ip + 8, 32);
		sum = sw_test_sum16(pseudo, 32, 0);
		sum = sw_test_sum16((uint8_t[]){ 0, 0, (uint8_t)((thl + paylen) >> 8),
						 (uint8_t)(thl + paylen), 0, 0, 0, 6 }, 8, sum);
	}
	sum = sw_test_sum16(th, thl + paylen, sum);
	sw_wr16(th + 16, (uint16_t)~sum);
	f->len = l2 + l3 + thl + paylen;
}

static void
parse_ok(const uint8_t *data, uint32_t len, struct sw_pkt *pkt)
{
	REQUIRE(sw_parse_l3(data, len, pkt) == SW_L3_TCP);
	REQUIRE(sw_parse_tcp(data, len, pkt) == 0);
}

/* An established flow: server ISN = iss + delta, server TSval = ours + ts_delta. */
static void
flow_init(struct sw_flow *f, uint8_t flags, uint8_t ws_client, uint8_t ws_ours, uint8_t ws_srv)
{
	memset(f, 0, sizeof(*f));
	sw_flow_state(f) = SW_FLOW_ESTABLISHED;
	sw_flow_flags(f) = flags;
	sw_flow_ws(f) = (uint8_t)(ws_client | ws_ours << 4);
	f->ws_srv = ws_srv;
	f->iss = 0x10000000;
	f->seq_delta = 0x7fff0001;
	f->ts_delta = 0x00100010;
	f->ts_recent = 0xabcdef01;
}

/* ---- RFC 1624 incremental update against a full recomputation ---- */

static void
test_csum_patch(void)
{
	uint64_t rs = 42;
	uint8_t buf[64], ck[2];
	int round;

	for (round = 0; round < 20000; round++) {
		unsigned int i, off, len;
		uint8_t bytes[12];
		uint16_t full;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)sw_rand(&rs);
		/* the checksum field lives in the first 2 bytes of a separate word array */
		sw_wr16(ck, (uint16_t)~sw_test_sum16(buf, sizeof(buf), 0));
		len = 1 + (unsigned int)(sw_rand(&rs) % sizeof(bytes));
		off = (unsigned int)(sw_rand(&rs) % (sizeof(buf) - len));
		for (i = 0; i < len; i++)
			bytes[i] = (uint8_t)sw_rand(&rs);
		sw_csum_patch(buf, ck, buf + off, bytes, len);
		CHECK_MEM(buf + off, bytes, len);
		full = (uint16_t)~sw_test_sum16(buf, sizeof(buf), 0);
		SW_CTX("round %d off %u len %u", round, off, len);
		/* 0x0000 and 0xffff are the same one's complement number */
		CHECK((uint16_t)(ck[0] << 8 | ck[1]) == full ||
		      ((ck[0] << 8 | ck[1]) == 0xffff && full == 0) ||
		      ((ck[0] << 8 | ck[1]) == 0 && full == 0xffff));
	}
	SW_CTX_CLEAR();
}

/* ---- windows ---- */

static void
test_windows(void)
{
	struct sw_flow f;

	/* both scale: server shift 8, client promised 7 -> doubled */
	flow_init(&f, SW_FLF_C_WS | SW_FLF_S_WS, 7, 7, 8);
	CHECK_EQ(sw_proxy_win_to_client(&f, 1000), 2000);
	CHECK_EQ(sw_proxy_win_to_client(&f, 40000), 65535);    /* capped */
	CHECK_EQ(sw_proxy_win_to_server(&f, 1000), 1000);      /* server applies the shift */
	/* same shifts: unchanged */
	flow_init(&f, SW_FLF_C_WS | SW_FLF_S_WS, 7, 7, 7);
	CHECK_EQ(sw_proxy_win_to_client(&f, 12345), 12345);
	/* the server declined window scaling: it neither scales nor reads scaled windows */
	flow_init(&f, SW_FLF_C_WS, 6, 7, 0);
	CHECK_EQ(sw_proxy_win_to_client(&f, 65535), 512);      /* 65535 / 128 rounded up */
	CHECK_EQ(sw_proxy_win_to_client(&f, 1), 1);            /* never rounded to 0 */
	CHECK_EQ(sw_proxy_win_to_client(&f, 0), 0);
	CHECK_EQ(sw_proxy_win_to_server(&f, 100), 6400);       /* client's shift 6 undone */
	CHECK_EQ(sw_proxy_win_to_server(&f, 5000), 65535);
	/* the client does not scale: nobody does */
	flow_init(&f, 0, 0, 0, 0);
	CHECK_EQ(sw_proxy_win_to_client(&f, 777), 777);
	CHECK_EQ(sw_proxy_win_to_server(&f, 777), 777);
}

/* ---- client -> server ---- */

static void
test_to_server(int v6, int vlan, int server_ts, int server_sack)
{
	/* NOP NOP TS(val, ecr) NOP NOP SACK(2 blocks) */
	uint8_t opts[32] = { 1, 1, 8, 10 };
	uint8_t payload[100];
	struct frame fr;
	struct sw_pkt pkt, out;
	struct sw_flow f;
	uint32_t ack = 0x10000123, e[4] = { 0x10000200, 0x10000300, 0x10000400, 0x10000500 };
	unsigned int i;

	SW_CTX("to_server v6=%d vlan=%d server_ts=%d server_sack=%d", v6, vlan, server_ts,
	       server_sack);
	sw_wr32(opts + 4, 0x11111111);            /* TSval */
	sw_wr32(opts + 8, 0x22222222);            /* TSecr */
	opts[12] = 1;
	opts[13] = 1;
	opts[14] = 5;
	opts[15] = 18;
	for (i = 0; i < 4; i++)
		sw_wr32(opts + 16 + 4 * i, e[i]);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	build(&fr, v6, vlan, 0x5000, ack, SW_TH_ACK | SW_TH_PSH, 300, opts, 32, payload,
	      sizeof(payload));
	flow_init(&f, (uint8_t)(SW_FLF_C_TS | SW_FLF_C_SACK | SW_FLF_C_WS | SW_FLF_S_WS |
				(server_ts ? SW_FLF_S_TS : 0) | (server_sack ? SW_FLF_S_SACK : 0)),
		  7, 7, 7);
	parse_ok(fr.b, fr.len, &pkt);
	sw_proxy_to_server(fr.b, &pkt, &f);
	parse_ok(fr.b, fr.len, &out);

	CHECK(sw_tcp_checksum_ok(fr.b, &out));
	CHECK_EQ(out.seq, 0x5000);                      /* the client's space is the server's */
	CHECK_EQ(out.ack, ack + f.seq_delta);
	CHECK_EQ(out.win, 300);
	CHECK_EQ(f.ts_recent, 0x11111111);              /* kept for timestamps we may add */
	if (server_ts) {
		CHECK(out.opt.present & SW_OPT_TS);
		CHECK_EQ(out.opt.tsval, 0x11111111);
		CHECK_EQ(out.opt.tsecr, 0x22222222 + f.ts_delta);
	} else {
		CHECK(!(out.opt.present & SW_OPT_TS));  /* NOPed out */
	}
	if (server_sack) {
		REQUIRE(out.opt.present & SW_OPT_SACK);
		for (i = 0; i < 4; i++)
			CHECK_EQ(sw_rd32(fr.b + out.l2_len + out.l3_len + out.opt.sack_off + 2 + 4 * i),
				 e[i] + f.seq_delta);
	} else {
		CHECK(!(out.opt.present & SW_OPT_SACK));
	}
	CHECK_MEM(fr.b + fr.len - sizeof(payload), payload, sizeof(payload));
	SW_CTX_CLEAR();
}

/* ---- server -> client ---- */

/* Translate a server segment as the splice does: with the timestamps option added when the
 * flow wants it (the frame's start moves by the plan's growth). The new start. */
static uint8_t *
to_client(struct frame *fr, struct sw_pkt *pkt, struct sw_flow *f, uint32_t tsval,
	  struct sw_ts_add *a)
{
	uint8_t *data = fr->b;

	if (!sw_proxy_wants_ts(pkt, f)) {
		sw_proxy_to_client(data, pkt, f, NULL);
		return data;
	}
	REQUIRE(sw_proxy_ts_plan(data, pkt, f, tsval, a) == SW_TS_ADD);
	REQUIRE(a->grow <= HEADROOM);
	data -= a->grow;
	fr->len = (uint32_t)((int)fr->len + a->grow);
	sw_proxy_to_client(data, pkt, f, a);
	return data;
}

static void
test_to_client(int v6, int vlan, int server_ts, int client_ts)
{
	uint8_t opts[12] = { 1, 1, 8, 10 };
	uint8_t payload[200];
	struct frame fr;
	struct sw_pkt pkt, out;
	struct sw_flow f;
	uint32_t seq = 0x8fff1234, len0;
	uint8_t *data;
	struct sw_ts_add a;
	unsigned int i;

	SW_CTX("to_client v6=%d vlan=%d server_ts=%d client_ts=%d", v6, vlan, server_ts,
	       client_ts);
	sw_wr32(opts + 4, 0x33333333);
	sw_wr32(opts + 8, 0x44444444);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(255 - i);
	build(&fr, v6, vlan, seq, 0x5100, SW_TH_ACK, 1000, opts, server_ts ? 12 : 0, payload,
	      sizeof(payload));
	len0 = fr.len;
	/* server shift 9, client promised 7 */
	flow_init(&f, (uint8_t)(SW_FLF_C_WS | SW_FLF_S_WS | (client_ts ? SW_FLF_C_TS : 0) |
				(server_ts ? SW_FLF_S_TS : 0)), 7, 7, 9);
	parse_ok(fr.b, fr.len, &pkt);
	CHECK_EQ(sw_proxy_wants_ts(&pkt, &f), client_ts && !server_ts);
	data = to_client(&fr, &pkt, &f, 0x55555555, &a);
	parse_ok(data, fr.len, &out);

	CHECK(sw_tcp_checksum_ok(data, &out));
	if (!v6) {
		const uint8_t *ip = data + out.l2_len;

		CHECK_EQ(sw_test_sum16(ip, 20, 0), 0xffff);    /* IPv4 header checksum */
		CHECK_EQ(ip[2] << 8 | ip[3], fr.len - out.l2_len);
	} else {
		const uint8_t *ip = data + out.l2_len;

		CHECK_EQ(ip[4] << 8 | ip[5], fr.len - out.l2_len - 40);
	}
	CHECK_EQ(out.seq, seq - f.seq_delta);
	CHECK_EQ(out.ack, 0x5100);
	CHECK_EQ(out.win, 4000);                        /* 1000 << 9 >> 7 */
	CHECK_MEM(data, mac_s, 6);                      /* MACs kept, moved with the headers */
	CHECK_EQ(out.has_vlan, vlan);
	if (client_ts) {
		REQUIRE(out.opt.present & SW_OPT_TS);
		if (server_ts) {
			CHECK_EQ(out.opt.tsval, 0x33333333 - f.ts_delta);
			CHECK_EQ(out.opt.tsecr, 0x44444444);
		} else {
			CHECK_EQ(out.opt.tsval, 0x55555555);
			CHECK_EQ(out.opt.tsecr, f.ts_recent);
			CHECK_EQ(fr.len, len0 + SW_TS_OPTLEN);
		}
	} else {
		CHECK(!(out.opt.present & SW_OPT_TS));
	}
	CHECK_EQ(out.l4_len - out.th_len, sizeof(payload));
	CHECK_MEM(data + fr.len - sizeof(payload), payload, sizeof(payload));
	SW_CTX_CLEAR();
}

/* A server whose options end with EOL padding (FreeBSD's SACK-only ACKs): the timestamps
 * option added for the client must not hide behind the EOL. */
static void
test_to_client_eol(void)
{
	/* SACK with one block, then EOL and padding: 10 + 2 = 12 bytes */
	uint8_t opts[12] = { 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0 };
	uint8_t payload[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct frame fr;
	struct sw_pkt pkt, out;
	struct sw_flow f;
	struct sw_ts_add a;
	uint8_t *data;

	build(&fr, 0, 0, 0x9000, 0x5100, SW_TH_ACK, 100, opts, 12, payload, sizeof(payload));
	flow_init(&f, SW_FLF_C_TS | SW_FLF_C_SACK | SW_FLF_S_SACK, 0, 0, 0);
	parse_ok(fr.b, fr.len, &pkt);
	CHECK_EQ(pkt.opt.eol_off, 30);
	REQUIRE(sw_proxy_wants_ts(&pkt, &f));
	data = to_client(&fr, &pkt, &f, 0x77777777, &a);
	parse_ok(data, fr.len, &out);
	CHECK(sw_tcp_checksum_ok(data, &out));
	CHECK(out.opt.present & SW_OPT_TS);             /* seen: no EOL before it any more */
	CHECK(out.opt.present & SW_OPT_SACK);
	CHECK_EQ(out.opt.eol_off, 0);
	CHECK_EQ(out.opt.tsval, 0x77777777);
	CHECK_MEM(data + fr.len - sizeof(payload), payload, sizeof(payload));
}

/*
 * The option added where the server's SACK blocks fill the header: the first blocks (the
 * most recent) are kept, as many as leave room; the rest go; a SACK option the client never
 * agreed to goes whole; other options of the server's stay. Every case checks the bytes.
 */
static void
test_to_client_sack_room(int v6)
{
	static const struct {
		const char *name;
		uint8_t opts[40];
		unsigned int optlen;
		uint8_t c_sack;         /* the client agreed to SACK */
		unsigned int blocks_in; /* SACK blocks in the server's segment */
		unsigned int blocks_out;/* and in the client's */
		int grow;
		uint8_t other[20];      /* another option expected after NOP NOP TS */
		unsigned int otherlen;
	} cases[] = {
		{ "4 blocks -> 3", { 1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
				     0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8 }, 36, 1,
		  4, 3, 4, { 0 }, 0 },
		{ "3 blocks kept", { 1, 1, 5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
				     0, 0, 0, 5, 0, 0, 0, 6 }, 28, 1, 3, 3, 12, { 0 }, 0 },
		{ "no SACK for the client", { 1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
					      0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7,
					      0, 0, 0, 8 }, 36, 0, 4, 0, -24, { 0 }, 0 },
		/* an 18-byte option of the server's own (kind 19, as TCP MD5) leaves room for
		 * one block */
		{ "other option + 2 blocks -> 1", { 19, 18, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
						    9, 9, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0,
						    0, 3, 0, 0, 0, 4 }, 36, 1, 2, 1, 4,
		  { 19, 18, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 }, 18 },
	};
	uint8_t payload[100];
	unsigned int i, k;

	for (k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)(k * 7);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame fr;
		struct sw_pkt pkt, out;
		struct sw_flow f;
		struct sw_ts_add a;
		uint8_t *data, *th;
		uint32_t len0;

		SW_CTX("sack_room v6=%d %s", v6, cases[i].name);
		build(&fr, v6, 0, 0x9000, 0x5100, SW_TH_ACK, 100, cases[i].opts, cases[i].optlen,
		      payload, sizeof(payload));
		len0 = fr.len;
		flow_init(&f, (uint8_t)(SW_FLF_C_TS | SW_FLF_S_SACK |
					(cases[i].c_sack ? SW_FLF_C_SACK : 0)), 0, 0, 0);
		parse_ok(fr.b, fr.len, &pkt);
		data = to_client(&fr, &pkt, &f, 0x77777777, &a);
		CHECK_EQ(a.grow, cases[i].grow);
		CHECK_EQ(a.sack_cut, cases[i].c_sack ? cases[i].blocks_in - cases[i].blocks_out : 0);
		CHECK_EQ(fr.len, (uint32_t)((int)len0 + cases[i].grow));
		parse_ok(data, fr.len, &out);
		CHECK(sw_tcp_checksum_ok(data, &out));
		if (!v6) {
			const uint8_t *ip = data + out.l2_len;

			CHECK_EQ(sw_test_sum16(ip, 20, 0), 0xffff);
			CHECK_EQ(ip[2] << 8 | ip[3], fr.len - out.l2_len);
		} else {
			const uint8_t *ip = data + out.l2_len;

			CHECK_EQ(ip[4] << 8 | ip[5], fr.len - out.l2_len - 40);
		}
		CHECK(out.th_len <= 60);
		th = data + out.l2_len + out.l3_len;
		/* NOP NOP TS first, ours */
		CHECK_EQ(th[20], 1);
		CHECK_EQ(th[21], 1);
		CHECK_EQ(out.opt.ts_off, 22);
		CHECK_EQ(out.opt.tsval, 0x77777777);
		CHECK_EQ(out.opt.tsecr, f.ts_recent);
		CHECK_MEM(th + 32, cases[i].other, cases[i].otherlen);
		if (cases[i].blocks_out == 0) {
			CHECK(!(out.opt.present & SW_OPT_SACK));
		} else {
			const uint8_t *in_sack = cases[i].opts + (cases[i].optlen - 2 -
								  8 * cases[i].blocks_in);

			REQUIRE(out.opt.present & SW_OPT_SACK);
			CHECK_EQ(out.opt.sack_len, 2 + 8 * cases[i].blocks_out);
			/* the first blocks, unchanged (the server SACKs the client's own data) */
			CHECK_MEM(th + out.opt.sack_off + 2, in_sack + 2, 8 * cases[i].blocks_out);
		}
		CHECK_EQ(out.seq, 0x9000 - f.seq_delta);
		CHECK_EQ(out.l4_len - out.th_len, sizeof(payload));
		CHECK_MEM(data + fr.len - sizeof(payload), payload, sizeof(payload));
		SW_CTX_CLEAR();
	}
}

/* No room: options of the server's own that leave less than 12 bytes. Planned as such. */
static void
test_to_client_no_room(void)
{
	/* two 16-byte options of an unknown kind and NOPs: 36 bytes, nothing to trim */
	uint8_t opts[36] = { 253, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			     254, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	uint8_t payload[4] = { 1, 2, 3, 4 };
	struct frame fr;
	struct sw_pkt pkt;
	struct sw_flow f;
	struct sw_ts_add a;

	build(&fr, 0, 0, 0x9000, 0x5100, SW_TH_ACK, 100, opts, sizeof(opts), payload,
	      sizeof(payload));
	flow_init(&f, SW_FLF_C_TS, 0, 0, 0);
	parse_ok(fr.b, fr.len, &pkt);
	REQUIRE(sw_proxy_wants_ts(&pkt, &f));
	CHECK(sw_proxy_ts_plan(fr.b, &pkt, &f, 1, &a) == SW_TS_NO_ROOM);
	/* an RST needs no timestamps (RFC 7323 3.2) */
	pkt.tcp_flags |= SW_TH_RST;
	CHECK(!sw_proxy_wants_ts(&pkt, &f));
}

/* ---- the server's SYN-ACK ---- */

static void
test_server_synack(void)
{
	struct sw_flow f;
	struct sw_pkt sa;

	memset(&f, 0, sizeof(f));
	sw_flow_state(&f) = SW_FLOW_OPENING;
	sw_flow_flags(&f) = SW_FLF_C_SACK | SW_FLF_C_TS | SW_FLF_C_WS;
	f.irs = 1000;
	f.iss = 0x20000000;
	f.ts_ours = 5000;
	memset(&sa, 0, sizeof(sa));
	sa.seq = 0x30000000;
	sa.ack = 1002;                                  /* not our SYN's */
	CHECK(!sw_proxy_server_synack(&f, &sa));
	sa.ack = 1001;
	sa.opt.present = SW_OPT_MSS | SW_OPT_TS | SW_OPT_WS;   /* no SACK */
	sa.opt.tsval = 9000;
	sa.opt.wscale = 9;
	CHECK(sw_proxy_server_synack(&f, &sa));
	CHECK_EQ(sw_flow_flags(&f), SW_FLF_C_SACK | SW_FLF_C_TS | SW_FLF_C_WS | SW_FLF_S_TS |
				    SW_FLF_S_WS);
	CHECK_EQ(f.seq_delta, 0x10000000);
	CHECK_EQ(f.ts_delta, 4000);
	CHECK_EQ(f.ws_srv, 9);

	/* An option the client did not have cannot be in effect, whatever the server says. */
	memset(&f, 0, sizeof(f));
	sw_flow_flags(&f) = SW_FLF_C_TS;
	f.irs = 1000;
	sa.opt.present = SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS;
	CHECK(sw_proxy_server_synack(&f, &sa));
	CHECK_EQ(sw_flow_flags(&f), SW_FLF_C_TS | SW_FLF_S_TS);
	CHECK_EQ(f.ws_srv, 0);
}

/* ---- learned server profiles ---- */

static bool
learned(const struct sw_learn_table *lt, const struct sw_tuple *t, uint32_t now,
	struct sw_profile *p)
{
	/* a port that does nothing: only what was learned shows */
	static const struct sw_profile none = { .mss = 1460 };

	return sw_learn_lookup(lt, t, now, &none, p);
}

static void
test_learning(void)
{
	static struct sw_learn_table lt;
	struct sw_profile base = { .mss = 1460, .wscale = 7,
				   .flags = SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS };
	struct sw_tuple t, other;
	struct sw_tcpopts sa;
	struct sw_profile p, q;
	struct sw_learned *slot = NULL;
	uint32_t now = 5000, seq, i;

	memset(&lt, 0, sizeof(lt));
	lt.seed = 7;
	memset(&t, 0, sizeof(t));
	t.src[0] = 198; t.src[1] = 18; t.src[3] = 5;
	t.dst[0] = 198; t.dst[1] = 18; t.dst[2] = 1; t.dst[3] = 1;
	t.sport = 40000;
	t.dport = 80;
	CHECK(!learned(&lt, &t, now, &p));

	/* Our SYN offered SACK and TS but no WS (the client had none): the server answered
	 * without TS. Learned: no TS, SACK yes, WS unknown so kept from the base, MSS 1380. */
	memset(&sa, 0, sizeof(sa));
	sa.present = SW_OPT_MSS | SW_OPT_SACKOK;
	sa.mss = 1380;
	sw_learn_synack(&lt, &t, &base, SW_OPT_SACKOK | SW_OPT_TS, &sa, now);
	REQUIRE(learned(&lt, &t, now, &p));
	CHECK_EQ(p.mss, 1380);
	CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_WS);
	CHECK_EQ(p.wscale, 7);
	for (i = 0; i < SW_LEARN_SLOTS; i++)
		if (lt.slot[i].used)
			slot = &lt.slot[i];
	REQUIRE(slot != NULL);
	CHECK_EQ(slot->seq, 2);                         /* one write, finished */

	/* Another client, same server: same profile. Another port or address: none. */
	other = t;
	other.sport = 1;
	other.src[3] = 99;
	CHECK(learned(&lt, &other, now, &q) && memcmp(&p, &q, sizeof(p)) == 0);
	other.dport = 81;
	CHECK(!learned(&lt, &other, now, &q));
	other = t;
	other.dst[3] = 2;
	CHECK(!learned(&lt, &other, now, &q));

	/* The same again within the refresh time: no write to the shared slot; after it, the
	 * time is renewed. */
	sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK | SW_OPT_TS, &sa, now + 10);
	CHECK_EQ(slot->seq, 2);
	CHECK_EQ(slot->seen_ms, now);
	sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK | SW_OPT_TS, &sa, now + SW_LEARN_REFRESH_MS);
	CHECK_EQ(slot->seq, 4);
	CHECK_EQ(slot->seen_ms, now + SW_LEARN_REFRESH_MS);
	now += SW_LEARN_REFRESH_MS;

	/* A later SYN-ACK with WS 9 (our SYN offered WS): learned at once. */
	sa.present = SW_OPT_MSS | SW_OPT_WS;
	sa.wscale = 9;
	sw_learn_synack(&lt, &t, &p, SW_OPT_WS, &sa, now + 1);
	REQUIRE(learned(&lt, &t, now + 1, &p));
	CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_WS);
	CHECK_EQ(p.wscale, 9);
	CHECK_EQ(slot->seq, 6);

	/* The MSS: a smaller one at once; a larger one (another server behind the address, or
	 * this one grown) only once no smaller one was seen for SW_LEARN_MAX_AGE_MS. */
	sa.present = SW_OPT_MSS;
	sa.mss = 1200;
	sw_learn_synack(&lt, &t, &p, 0, &sa, now + 1);
	REQUIRE(learned(&lt, &t, now + 1, &q));
	CHECK_EQ(q.mss, 1200);
	CHECK_EQ(q.wscale, 9);                          /* not offered: kept */
	sa.mss = 1460;
	sw_learn_synack(&lt, &t, &q, 0, &sa, now + 1 + SW_LEARN_MAX_AGE_MS - 1);
	REQUIRE(learned(&lt, &t, now + SW_LEARN_MAX_AGE_MS, &q));
	CHECK_EQ(q.mss, 1200);
	sw_learn_synack(&lt, &t, &q, 0, &sa, now + 1 + SW_LEARN_MAX_AGE_MS);
	REQUIRE(learned(&lt, &t, now + 1 + SW_LEARN_MAX_AGE_MS, &q));
	CHECK_EQ(q.mss, 1460);
	now += 1 + SW_LEARN_MAX_AGE_MS;
	sa.mss = 1380;
	sw_learn_synack(&lt, &t, &q, 0, &sa, now + 1);
	REQUIRE(learned(&lt, &t, now + 1, &p));
	CHECK_EQ(p.mss, 1380);
	sa.present = SW_OPT_MSS | SW_OPT_WS;
	sa.wscale = 9;
	seq = slot->seq;

	/* A slot being written (odd) reads as unknown; a writer finding it so leaves it. */
	CHECK(seq % 2 == 0);
	slot->seq++;
	CHECK(!learned(&lt, &t, now + 1, &q));
	seq = slot->seq;
	sa.wscale = 3;
	sw_learn_synack(&lt, &t, &p, SW_OPT_WS, &sa, now + 2);
	CHECK_EQ(slot->seq, seq);
	CHECK_EQ(slot->p.wscale, 9);
	slot->seq++;
	CHECK(learned(&lt, &t, now + 1, &q));

	/* Aged: unconfirmed for SW_LEARN_MAX_AGE_MS, forgotten; the clock may wrap meanwhile. */
	CHECK(learned(&lt, &t, now + 1 + SW_LEARN_MAX_AGE_MS, &q));
	CHECK(!learned(&lt, &t, now + 2 + SW_LEARN_MAX_AGE_MS, &q));
	memset(&lt, 0, sizeof(lt));
	lt.seed = 7;
	sw_learn_synack(&lt, &t, &base, SW_OPT_WS, &sa, UINT32_MAX - 10);
	CHECK(learned(&lt, &t, 100, &q));
	CHECK_EQ(q.wscale, 3);

	/* An option seen off is offered again (as the port has it) once no SYN-ACK showed it off
	 * for SW_LEARN_REPROBE_MS, although SYN-ACKs that could not show it keep the slot
	 * fresh; seen off again, it is off for another SW_LEARN_REPROBE_MS. */
	{
		struct sw_profile port = { .mss = 1460, .wscale = 7, .flags = SW_PROF_SACK |
					   SW_PROF_TS | SW_PROF_WS };
		uint32_t t0 = 1000000;

		memset(&sa, 0, sizeof(sa));
		sa.present = SW_OPT_MSS | SW_OPT_SACKOK;
		sa.mss = 1460;
		/* offered SACK, TS, WS: only SACK done */
		sw_learn_synack(&lt, &t, &port, SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS, &sa, t0);
		REQUIRE(sw_learn_lookup(&lt, &t, t0, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK);
		/* later SYN-ACKs of connections offered SACK only: nothing seen off */
		sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK, &sa, t0 + 30000);
		sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK, &sa, t0 + SW_LEARN_REPROBE_MS - 1000);
		REQUIRE(sw_learn_lookup(&lt, &t, t0 + SW_LEARN_REPROBE_MS, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK);
		REQUIRE(sw_learn_lookup(&lt, &t, t0 + SW_LEARN_REPROBE_MS + 1, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS);
		CHECK_EQ(p.wscale, 7);
		/* the re-probe's SYN-ACK: the server does timestamps again, and a shift of 9 */
		sa.present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS;
		sa.wscale = 9;
		sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS, &sa,
				t0 + SW_LEARN_REPROBE_MS + 2);
		REQUIRE(sw_learn_lookup(&lt, &t, t0 + SW_LEARN_REPROBE_MS + 3, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS);
		CHECK_EQ(p.wscale, 9);
		/* seen off again: off, and for the full time again */
		sa.present = SW_OPT_MSS | SW_OPT_SACKOK | SW_OPT_WS;
		sw_learn_synack(&lt, &t, &p, SW_OPT_SACKOK | SW_OPT_TS | SW_OPT_WS, &sa, t0 + 200000);
		REQUIRE(sw_learn_lookup(&lt, &t, t0 + 200000 + SW_LEARN_REPROBE_MS, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_WS);
		/* a port without the option never brings it back */
		port.flags = SW_PROF_SACK;
		REQUIRE(sw_learn_lookup(&lt, &t, t0 + 200001 + SW_LEARN_REPROBE_MS, &port, &p));
		CHECK_EQ(p.flags, SW_PROF_SACK | SW_PROF_WS);
		memset(&lt, 0, sizeof(lt));
		lt.seed = 7;
	}

	/* IPv6 servers are told apart by all 16 bytes. */
	t.v6 = 1;
	memset(t.dst, 0, 16);
	t.dst[0] = 0x20; t.dst[1] = 0x01; t.dst[3] = 0x02; t.dst[15] = 2;
	CHECK(!learned(&lt, &t, now, &q));
	sw_learn_synack(&lt, &t, &base, 0, &sa, now);
	CHECK(learned(&lt, &t, now, &q));
	other = t;
	other.dst[8] = 1;
	CHECK(!learned(&lt, &other, now, &q));
}

int
main(void)
{
	int v6, vlan, a, b;

	test_csum_patch();
	test_windows();
	for (v6 = 0; v6 < 2; v6++)
		for (vlan = 0; vlan < 2; vlan++)
			for (a = 0; a < 2; a++)
				for (b = 0; b < 2; b++) {
					test_to_server(v6, vlan, a, b);
					test_to_client(v6, vlan, a, b);
				}
	test_to_client_eol();
	test_to_client_sack_room(0);
	test_to_client_sack_room(1);
	test_to_client_no_room();
	test_server_synack();
	test_learning();
	return sw_test_done();
}
