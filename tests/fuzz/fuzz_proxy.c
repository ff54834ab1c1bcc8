/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the splice's rewriting (proxy.c), docs/FUZZING.md. The input is a
 * 32-byte header that makes a flow (what each side negotiated, the offsets, the shifts, the
 * server's MSS) and says which function to drive, then one frame. The frame is rewritten in
 * a heap buffer of exactly the bytes the rewrite may use (the frame, plus the room an added
 * timestamps option takes in front of it), so that AddressSanitizer reports a byte read or
 * written outside.
 *
 * After each rewrite: the frame still parses, to the same lengths (or, with an option added,
 * lengths grown by exactly what was added, the IP length with them); every byte the rewrite
 * has no business with is unchanged (addresses, ports, flags, payload, the options it does
 * not translate); the translated fields are what DATAPLANE.md ("The splice") says; and the
 * ones'-complement sum of each checksummed area is what it was: a right checksum stays right
 * (the incremental update equals a full recomputation) and a wrong one stays wrong by as
 * much. The pkt the rewrite hands back agrees with a fresh parse of what it wrote.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "fuzz_util.h"
#include "parse.h"
#include "proxy.h"

#define HDR_LEN 32

enum mode {
	MODE_TO_SERVER,
	MODE_TO_CLIENT,
	MODE_SERVER_SYNACK,
	MODE_WINDOWS,
	MODE_N
};

static const uint8_t *cur_input;
static size_t cur_len;

static void
print_input(void)
{
	fz_hexdump("input (32-byte header, then the frame)", cur_input, cur_len);
}

/* The sum of a checksummed area with its pseudo-header, folded, 0 taken as 0xffff (the
 * same number in ones' complement): what an incremental update must keep. */
static uint16_t
residual(const uint8_t *f, const struct fz_frame *fr, bool ip_header)
{
	const uint8_t *ip = f + fr->l3_off;
	uint32_t s;

	if (ip_header && fr->v6)
		return 0xffff;          /* IPv6 has no header checksum */
	if (ip_header)
		s = fz_sum16(ip, fr->l3_len, 0);
	else if (fr->v6)
		s = fz_sum16(f + fr->l4_off, fr->l4_len, fz_sum16(ip + 8, 32, 6 + fr->l4_len));
	else
		s = fz_sum16(f + fr->l4_off, fr->l4_len, fz_sum16(ip + 12, 8, 6 + fr->l4_len));
	s = fz_fold(s);
	return (uint16_t)(s == 0 ? 0xffff : s);
}

static void
make_flow(struct sw_flow *f, const uint8_t *h, bool opening)
{
	uint8_t wsc = (uint8_t)(h[2] & 15), wso = (uint8_t)(h[2] >> 4);

	memset(f, 0, sizeof(*f));
	sw_flow_state(f) = opening ? SW_FLOW_OPENING : SW_FLOW_ESTABLISHED;
	/* an adopted flow is never translated (splice.c) */
	sw_flow_flags(f) = (uint8_t)(h[1] & ~SW_FLF_ADOPTED);
	/* the shifts are a parsed option's (at most 14) or the configuration's (0..14) */
	sw_flow_ws(f) = (uint8_t)((wsc % 15) | (wso % 15) << 4);
	if (opening) {
		f->iss = fz_rd32(h + 20);
		f->irs = fz_rd32(h + 24);
		f->ts_ours = fz_rd32(h + 8);
	} else {
		f->seq_delta = fz_rd32(h + 4);
		f->ts_delta = fz_rd32(h + 8);
		f->srv_nxt = fz_rd32(h + 20);
		f->srv_ack = fz_rd32(h + 16);
		f->ws_srv = (uint8_t)(h[3] % 15);
		f->fin = (uint8_t)(h[3] >> 4);
		f->mss8 = h[31];
	}
	f->ts_recent = fz_rd32(h + 12);
}

/* ---- the windows ---- */

static uint16_t
ref_win_to_server(const struct sw_flow *f, uint16_t win)
{
	uint32_t v;

	if ((sw_flow_flags(f) & SW_FLF_S_WS) || !(sw_flow_flags(f) & SW_FLF_C_WS))
		return win;
	v = (uint32_t)win << SW_FLOW_WS_CLIENT(f);
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

static void
check_windows(const struct sw_flow *f, uint16_t win)
{
	unsigned int srv = (sw_flow_flags(f) & SW_FLF_S_WS) ? f->ws_srv : 0;
	unsigned int ours = (sw_flow_flags(f) & SW_FLF_C_WS) ? SW_FLOW_WS_OURS(f) : 0;
	uint64_t bytes = (uint64_t)win << srv;          /* what the server offers */
	uint16_t c = sw_proxy_win_to_client(f, win);

	FZ_CHECK(sw_proxy_win_to_server(f, win) == ref_win_to_server(f, win),
		 "win_to_server(%u) = %u", win, sw_proxy_win_to_server(f, win));
	/* the client is offered at least what the server offers (rounded up, never to 0
	 * unless it is 0), or the most the field holds; and no more than one unit above */
	if (c != 0xffff)
		FZ_CHECK(((uint64_t)c << ours) >= bytes, "win_to_client(%u) = %u: less than the "
			 "server's %llu bytes (shifts %u -> %u)", win, c, (unsigned long long)bytes,
			 srv, ours);
	if (c != 0)
		FZ_CHECK((((uint64_t)c - 1) << ours) < bytes || srv == ours,
			 "win_to_client(%u) = %u: not rounded up to the least (shifts %u -> %u)",
			 win, c, srv, ours);
	if (srv == ours)
		FZ_CHECK(c == win, "win_to_client with equal shifts");
}

/* ---- client -> server ---- */

static void
check_unchanged(const uint8_t *a, const uint8_t *b, uint32_t from, uint32_t to, const char *what)
{
	FZ_CHECK(memcmp(a + from, b + from, to - from) == 0, "%s changed", what);
}

static void
to_server(const uint8_t *frame, uint32_t len, const struct sw_pkt *in, struct sw_flow *f,
	  const struct fz_frame *fr)
{
	uint8_t *buf = malloc(len);
	uint32_t th = fr->l4_off, i;
	const uint8_t *ith = frame + th;
	uint8_t *oth;
	uint16_t ip_res, tcp_res;
	struct sw_pkt out = *in;
	uint8_t flags = sw_flow_flags(f);
	bool nop_ts = false, nop_sack = false;

	if (buf == NULL)
		abort();
	memcpy(buf, frame, len);
	ip_res = residual(frame, fr, true);
	tcp_res = residual(frame, fr, false);
	sw_proxy_to_server(buf, &out, f);
	oth = buf + th;

	check_unchanged(frame, buf, 0, th, "a header below TCP");
	check_unchanged(frame, buf, th + in->th_len, len, "the payload");
	check_unchanged(ith, oth, 0, 8, "ports or seq");
	check_unchanged(ith, oth, 12, 14, "data offset or flags");
	check_unchanged(ith, oth, 18, 20, "the urgent pointer");
	FZ_CHECK(fz_rd32(oth + 8) == ((in->tcp_flags & SW_TH_ACK) ? in->ack + f->seq_delta
								  : in->ack), "ack");
	FZ_CHECK(fz_rd16(oth + 14) == ref_win_to_server(f, in->win), "window");
	FZ_CHECK(residual(buf, fr, true) == ip_res, "the IPv4 header's sum changed");
	FZ_CHECK(residual(buf, fr, false) == tcp_res,
		 "the TCP sum changed (%#x -> %#x): the incremental update is not a full "
		 "recomputation", tcp_res, residual(buf, fr, false));

	if (in->opt.present & SW_OPT_TS) {
		FZ_CHECK(f->ts_recent == in->opt.tsval, "ts_recent not the client's TSval");
		if (flags & SW_FLF_S_TS) {
			FZ_CHECK(fz_rd32(oth + in->opt.ts_off + 2) == in->opt.tsval &&
				 fz_rd32(oth + in->opt.ts_off + 6) == in->opt.tsecr + f->ts_delta,
				 "timestamps");
		} else {
			nop_ts = true;
		}
	}
	if (in->opt.present & SW_OPT_SACK) {
		if (flags & SW_FLF_S_SACK) {
			for (i = 2; i + 4 <= in->opt.sack_len; i += 4)
				FZ_CHECK(fz_rd32(oth + in->opt.sack_off + i) ==
					 fz_rd32(ith + in->opt.sack_off + i) + f->seq_delta,
					 "SACK edge %u", i);
		} else {
			nop_sack = true;
		}
	}
	/* the options: the translated ones as above, the ones the server did not agree to
	 * NOPs, every other byte as it was */
	for (i = 20; i < in->th_len; i++) {
		bool in_ts = (in->opt.present & SW_OPT_TS) && i >= in->opt.ts_off &&
			     i < in->opt.ts_off + 10u;
		bool in_sack = (in->opt.present & SW_OPT_SACK) && i >= in->opt.sack_off &&
			       i < (uint32_t)in->opt.sack_off + in->opt.sack_len;

		if ((in_ts && nop_ts) || (in_sack && nop_sack))
			FZ_CHECK(oth[i] == 1, "option byte %u not a NOP", i);
		else if (!(in_ts && i >= in->opt.ts_off + 6u) && !(in_sack && i >= in->opt.sack_off + 2u))
			FZ_CHECK(oth[i] == ith[i], "option byte %u changed", i);
	}
	/* and it still parses, to the same lengths */
	{
		struct sw_pkt again;

		FZ_CHECK(sw_parse_l3(buf, len, &again) == SW_L3_TCP &&
			 sw_parse_tcp(buf, len, &again) == 0, "the rewritten segment does not parse");
		FZ_CHECK(again.th_len == in->th_len && again.l4_len == in->l4_len, "lengths");
		FZ_CHECK(!(again.opt.present & SW_OPT_TS) == (nop_ts || !(in->opt.present & SW_OPT_TS)),
			 "a timestamps option the server did not agree to is left");
		FZ_CHECK(!(again.opt.present & SW_OPT_SACK) ==
			 (nop_sack || !(in->opt.present & SW_OPT_SACK)),
			 "a SACK option the server did not agree to is left");
	}
	free(buf);
}

/* ---- server -> client ---- */

/* The options of a segment other than NOP, EOL, SACK and timestamps, in order. */
static uint32_t
other_options(const uint8_t *th, const struct sw_pkt *p, uint8_t *out)
{
	uint32_t i, n = 0, l;

	for (i = 20; i < p->th_len; i += l) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			l = 1;
			continue;
		}
		l = th[i + 1];
		if (th[i] == 5 || th[i] == 8)
			continue;
		memcpy(out + n, th + i, l);
		n += l;
	}
	return n;
}

static void
to_client(const uint8_t *frame, uint32_t len, const struct sw_pkt *in, struct sw_flow *f,
	  const struct fz_frame *fr, uint32_t tsval)
{
	struct sw_ts_add a;
	enum sw_ts_need need = SW_TS_KEEP;
	uint8_t *buf, *data;
	uint32_t newlen = len, i;
	uint16_t ip_res = residual(frame, fr, true), tcp_res = residual(frame, fr, false);
	struct sw_pkt out = *in, again;
	struct fz_frame ofr;
	uint8_t flags = sw_flow_flags(f), others_in[40], others_out[40];
	uint32_t n_in, n_out, srv_ack_before = f->srv_ack;
	const uint8_t *ith = frame + fr->l4_off;
	uint8_t *oth;

	n_in = other_options(ith, in, others_in);
	if (sw_proxy_wants_ts(in, f)) {
		memset(&a, 0xee, sizeof(a));
		need = sw_proxy_ts_plan(frame, in, f, tsval, &a);
		FZ_CHECK(need == SW_TS_ADD || need == SW_TS_NO_ROOM, "plan %d", need);
		if (need == SW_TS_NO_ROOM)
			FZ_CHECK(12 + n_in > 40, "no room said with %u bytes of other options", n_in);
	}
	if (need == SW_TS_ADD) {
		FZ_CHECK(a.len % 4 == 0 && a.len <= 40 && a.len >= 12, "the new options' length %u",
			 a.len);
		FZ_CHECK(a.grow == (int)(20 + a.len) - (int)in->th_len, "grow %d", a.grow);
		newlen = (uint32_t)((int)len + a.grow);
		/* as splice.c does with the mbuf: the start moves by grow, the payload stays */
		buf = malloc(a.grow > 0 ? newlen : len);
		if (buf == NULL)
			abort();
		if (a.grow > 0) {
			memcpy(buf + a.grow, frame, len);
			data = buf;
		} else {
			memcpy(buf, frame, len);
			data = buf - a.grow;
		}
		sw_proxy_to_client(data, &out, f, &a);
	} else {
		buf = malloc(len);
		if (buf == NULL)
			abort();
		memcpy(buf, frame, len);
		data = buf;
		sw_proxy_to_client(data, &out, f, NULL);
	}

	/* it parses, to lengths grown by what was added, and pkt says the same */
	memset(&again, 0, sizeof(again));
	FZ_CHECK(sw_parse_l3(data, newlen, &again) == SW_L3_TCP &&
		 sw_parse_tcp(data, newlen, &again) == 0, "the rewritten segment does not parse");
	FZ_CHECK(again.l4_len == in->l4_len + (need == SW_TS_ADD ? a.grow : 0) &&
		 again.l2_len == in->l2_len && again.l3_len == in->l3_len, "lengths");
	/* an option rebuilt: the pkt handed back says what a parse of the new one does (in
	 * place, only the lengths, which do not change) */
	FZ_CHECK(out.th_len == again.th_len && out.l4_len == again.l4_len &&
		 (need != SW_TS_ADD || memcmp(&out.opt, &again.opt, sizeof(out.opt)) == 0),
		 "the pkt handed back is not what a parse of the segment says: th_len %u/%u "
		 "l4_len %u/%u present %#x/%#x", out.th_len, again.th_len, out.l4_len,
		 again.l4_len, out.opt.present, again.opt.present);
	fz_frame_walk(data, newlen, &ofr);
	FZ_CHECK(ofr.ip && ofr.l4_off == fr->l4_off && ofr.th_len == again.th_len, "the walk");
	oth = data + ofr.l4_off;

	/* what must not change: MACs, VLAN, addresses, ports, flags, urgent pointer, payload */
	check_unchanged(frame, data, 0, fr->l3_off, "Ethernet");
	if (!fr->v6) {
		check_unchanged(frame, data, fr->l3_off, fr->l3_off + 2, "IPv4 version/TOS");
		check_unchanged(frame, data, fr->l3_off + 4, fr->l3_off + 10, "IPv4 id/frag/ttl/proto");
		check_unchanged(frame, data, fr->l3_off + 12, fr->l4_off, "IPv4 addresses/options");
	} else {
		check_unchanged(frame, data, fr->l3_off, fr->l3_off + 4, "IPv6 version/flow");
		check_unchanged(frame, data, fr->l3_off + 6, fr->l4_off, "IPv6 addresses");
	}
	check_unchanged(ith, oth, 0, 4, "ports");
	check_unchanged(ith, oth, 8, 12, "ack");
	FZ_CHECK((ith[12] & 15) == (oth[12] & 15) && ith[13] == oth[13], "flags");
	check_unchanged(ith, oth, 18, 20, "urgent pointer");
	FZ_CHECK(len - (fr->l4_off + in->th_len) == newlen - (ofr.l4_off + again.th_len) &&
		 memcmp(ith + in->th_len, oth + again.th_len, len - (fr->l4_off + in->th_len)) == 0,
		 "the payload");
	FZ_CHECK(fz_rd32(oth + 4) == in->seq - f->seq_delta, "seq");
	FZ_CHECK(fz_rd16(oth + 14) == sw_proxy_win_to_client(f, in->win), "window");
	if (!fr->v6)
		FZ_CHECK(fz_rd16(data + fr->l3_off + 2) == fz_rd16(frame + fr->l3_off + 2) +
			 (newlen - len), "IPv4 total length");
	else
		FZ_CHECK(fz_rd16(data + fr->l3_off + 4) == fz_rd16(frame + fr->l3_off + 4) +
			 (newlen - len), "IPv6 payload length");
	/* sums: the IPv4 header's and TCP's (pseudo-header with the new length) kept */
	FZ_CHECK(residual(data, &ofr, true) == ip_res, "the IPv4 header's sum changed");
	FZ_CHECK(residual(data, &ofr, false) == tcp_res,
		 "the TCP sum changed (%#x -> %#x): the incremental update is not a full "
		 "recomputation", tcp_res, residual(data, &ofr, false));
	/* the server's other options, in order */
	n_out = other_options(oth, &again, others_out);
	FZ_CHECK(n_out == n_in && memcmp(others_in, others_out, n_in) == 0,
		 "the server's other options changed");
	if ((in->tcp_flags & SW_TH_ACK) && (int32_t)(in->ack - srv_ack_before) > 0)
		FZ_CHECK(f->srv_ack == in->ack, "srv_ack not the server's latest ack");
	else
		FZ_CHECK(f->srv_ack == srv_ack_before, "srv_ack moved back");

	if (need == SW_TS_ADD) {
		uint32_t blocks = (in->opt.present & SW_OPT_SACK) ? (in->opt.sack_len - 2u) / 8 : 0;

		FZ_CHECK(again.opt.present & SW_OPT_TS, "no timestamps option added");
		FZ_CHECK(again.opt.ts_off == 22 && oth[20] == 1 && oth[21] == 1,
			 "not NOP NOP TS first");
		FZ_CHECK(again.opt.tsval == tsval && again.opt.tsecr == f->ts_recent,
			 "the added TSval/TSecr");
		if (!(flags & SW_FLF_C_SACK))
			FZ_CHECK(!(again.opt.present & SW_OPT_SACK), "SACK to a client without it");
		if (blocks != 0 && (flags & SW_FLF_C_SACK)) {
			uint32_t keep = (again.opt.present & SW_OPT_SACK) ?
					(again.opt.sack_len - 2u) / 8 : 0;

			FZ_CHECK(keep + a.sack_cut == blocks, "blocks %u kept, %u cut, of %u", keep,
				 a.sack_cut, blocks);
			FZ_CHECK(keep == 0 || memcmp(oth + again.opt.sack_off + 2,
						     ith + in->opt.sack_off + 2, 8 * keep) == 0,
				 "the SACK blocks kept are not the first ones");
			/* as many as fit */
			FZ_CHECK(keep == blocks ||
				 ((12 + n_in + 2 + 8 * (keep + 1) + 3) & ~3u) > 40,
				 "a block left out that had room");
		} else {
			FZ_CHECK(a.sack_cut == 0, "sack_cut");
		}
		FZ_CHECK(again.th_len <= 60, "TCP header of %u bytes", again.th_len);
	} else {
		/* in place: the translated fields, the rest of the options as it was */
		FZ_CHECK(newlen == len && again.th_len == in->th_len, "lengths");
		for (i = 20; i < in->th_len; i++) {
			bool in_ts = (in->opt.present & SW_OPT_TS) && i >= in->opt.ts_off &&
				     i < in->opt.ts_off + 10u;
			bool in_sack = (in->opt.present & SW_OPT_SACK) && i >= in->opt.sack_off &&
				       i < (uint32_t)in->opt.sack_off + in->opt.sack_len;

			if (in_ts && !(flags & SW_FLF_C_TS))
				FZ_CHECK(oth[i] == 1, "a timestamps option the client never agreed to "
					 "is left (byte %u)", i);
			else if (in_sack && !(flags & SW_FLF_C_SACK))
				FZ_CHECK(oth[i] == 1, "a SACK option the client never agreed to is "
					 "left (byte %u)", i);
			else if (!(in_ts && (flags & SW_FLF_S_TS) && i >= in->opt.ts_off + 2u &&
				   i < in->opt.ts_off + 6u))
				FZ_CHECK(oth[i] == ith[i], "option byte %u changed", i);
		}
		if ((in->opt.present & SW_OPT_TS) && (flags & SW_FLF_C_TS) && (flags & SW_FLF_S_TS))
			FZ_CHECK(again.opt.tsval == in->opt.tsval - f->ts_delta, "TSval");
	}
	free(buf);
}

/* ---- the server's SYN-ACK ---- */

static void
server_synack(const struct sw_pkt *sa, struct sw_flow *f)
{
	struct sw_flow before = *f;
	uint8_t c = sw_flow_flags(f);
	bool ok = sw_proxy_server_synack(f, sa);
	uint8_t s = sw_flow_flags(f);

	FZ_CHECK(ok == (sa->ack == before.irs + 1), "accepted %d with ack %#x, irs %#x", ok,
		 sa->ack, before.irs);
	if (!ok) {
		FZ_CHECK(memcmp(f, &before, sizeof(*f)) == 0, "a refused SYN-ACK changed the flow");
		return;
	}
	FZ_CHECK((c & ~(SW_FLF_S_SACK | SW_FLF_S_TS | SW_FLF_S_WS)) ==
		 (s & ~(SW_FLF_S_SACK | SW_FLF_S_TS | SW_FLF_S_WS)), "client flags changed");
	FZ_CHECK(!!(s & SW_FLF_S_SACK) == ((sa->opt.present & SW_OPT_SACKOK) && (c & SW_FLF_C_SACK)),
		 "S_SACK");
	FZ_CHECK(!!(s & SW_FLF_S_TS) == ((sa->opt.present & SW_OPT_TS) && (c & SW_FLF_C_TS)),
		 "S_TS");
	FZ_CHECK(!!(s & SW_FLF_S_WS) == ((sa->opt.present & SW_OPT_WS) && (c & SW_FLF_C_WS)),
		 "S_WS");
	FZ_CHECK(f->seq_delta == sa->seq - before.iss, "seq_delta");
	FZ_CHECK(f->ts_delta == ((s & SW_FLF_S_TS) ? sa->opt.tsval - before.ts_ours : 0),
		 "ts_delta");
	FZ_CHECK(f->srv_nxt == before.iss + 1 && f->srv_ack == sa->ack, "srv_nxt/srv_ack");
	FZ_CHECK(f->ws_srv == ((s & SW_FLF_S_WS) ? sa->opt.wscale : 0) && f->ws_srv <= 14,
		 "ws_srv");
	FZ_CHECK(f->fin == 0, "the FINs of a flow just established");
	FZ_CHECK(f->mss8 == ((sa->opt.present & SW_OPT_MSS) ? RTE_MIN(sa->opt.mss / 8, 255)
							      : SW_TCP_DEFAULT_MSS / 8),
		 "mss8 %u for the server's MSS %u", f->mss8, sa->opt.mss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *h = data;
	uint8_t *frame;
	uint32_t len;
	struct sw_pkt pkt;
	struct sw_flow f;
	struct fz_frame fr;
	enum mode mode;

	if (size < HDR_LEN || size > HDR_LEN + 9000)
		return 0;
	fz_on_fail = print_input;
	cur_input = data;
	cur_len = size;
	mode = (enum mode)(h[0] % MODE_N);
	len = (uint32_t)(size - HDR_LEN);
	make_flow(&f, h, mode == MODE_SERVER_SYNACK);
	if (mode == MODE_WINDOWS) {
		check_windows(&f, fz_rd16(h + 28));
		check_windows(&f, 0);
		check_windows(&f, 0xffff);
		return 0;
	}
	frame = malloc(len == 0 ? 1 : len);
	if (frame == NULL)
		abort();
	memcpy(frame, data + HDR_LEN, len);
	fz_frame_walk(frame, len, &fr);
	/* right checksums unless the header says to leave them as they are */
	if ((h[30] & 1) && fr.ip)
		fz_csum_fix(frame, &fr);
	/* what the pipeline hands the splice: TCP without extension headers, parsed */
	if (sw_parse_l3(frame, len, &pkt) != SW_L3_TCP || pkt.ext != 0 ||
	    sw_parse_tcp(frame, len, &pkt) != 0) {
		free(frame);
		return 0;
	}
	FZ_CHECK(fr.ip && fr.proto == FZ_PROTO_TCP && fr.l4_off == (uint32_t)pkt.l2_len + pkt.l3_len &&
		 fr.th_len == pkt.th_len, "the walk and the parser disagree");
	switch (mode) {
	case MODE_TO_SERVER:
		to_server(frame, len, &pkt, &f, &fr);
		break;
	case MODE_TO_CLIENT:
		to_client(frame, len, &pkt, &f, &fr, fz_rd32(h + 24));
		break;
	case MODE_SERVER_SYNACK:
		server_synack(&pkt, &f);
		break;
	default:
		break;
	}
	free(frame);
	return 0;
}
