/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the parser (parse.c), docs/FUZZING.md. The input is one frame, copied
 * into a heap buffer of exactly its length, so that AddressSanitizer reports any read past it.
 *
 *  - sw_parse_l3 against a reference written here from docs/DATAPLANE.md ("Packet path",
 *    "Which malformed counter"): the same verdict or malformed reason, the same header
 *    lengths, protocol, tuple and extension-header marks;
 *  - sw_parse_tcp on TCP: lengths within the segment, the fields as the bytes say;
 *  - the options' fast path (sw_parse_tcp_options) against the loop
 *    (sw_parse_tcp_options_loop), byte for byte, on the frame's own options and on the last
 *    bytes of the input taken as an option area of every length; what they report is where
 *    the bytes say;
 *  - sw_tcp_checksum_ok against a checksum computed here; sw_raw_cksum against DPDK's
 *    rte_raw_cksum; sw_csum_patch keeps a right checksum right;
 *  - sw_parse_icmp_unreach: the quoted tuple and sequence number are the bytes' own.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "csum.h"
#include "fuzz_util.h"
#include "parse.h"

static const uint8_t *cur_frame;
static size_t cur_len;

static void
print_input(void)
{
	fz_hexdump("frame", cur_frame, cur_len);
}

/* ---- the reference of sw_parse_l3 ---- */

struct ref {
	int rc;                 /* sw_l3_kind or -sw_bad */
	uint32_t l2, l3, l4;
	uint8_t proto, ext;
};

static bool
is_tag(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200;
}

static bool
is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static int
ref_v4(const uint8_t *ip, uint32_t avail, struct ref *r)
{
	uint32_t ihl, tot, frag, off, n;
	uint8_t nh;

	if (avail < 20)
		return -SW_BAD_TRUNCATED;
	if (ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
		return -SW_BAD_IP_HEADER;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	if (ihl > avail)
		return -SW_BAD_TRUNCATED;
	tot = fz_rd16(ip + 2);
	if (tot < ihl || tot > avail)
		return -SW_BAD_IP_LENGTH;
	frag = fz_rd16(ip + 6) & 0x3fff;
	r->l3 = ihl;
	r->l4 = tot - ihl;
	r->proto = ip[9];
	if (ip[9] == 6)
		return frag != 0 ? -SW_BAD_FRAGMENT : SW_L3_TCP;
	if (ip[9] == 1)
		return frag == 0 ? SW_L3_ICMP : SW_L3_OTHER;
	if (ip[9] != 51)
		return SW_L3_OTHER;
	/* AH: walked, at most 2, each within the datagram */
	if (frag != 0)
		return -SW_BAD_UNPARSED;
	off = ihl;
	nh = 51;
	for (n = 0; n < 2 && nh == 51; n++) {
		if (off + 2 > tot)
			return -SW_BAD_TRUNCATED;
		nh = ip[off];
		off += ((uint32_t)ip[off + 1] + 2) * 4;
		if (off > tot)
			return -SW_BAD_TRUNCATED;
	}
	if (nh == 51)
		return -SW_BAD_UNPARSED;
	if (nh != 6)
		return SW_L3_OTHER;
	r->ext = SW_EXT_AH;
	r->l3 = off;
	r->l4 = tot - off;
	r->proto = 6;
	return SW_L3_TCP;
}

static int
ref_v6(const uint8_t *ip, uint32_t avail, struct ref *r)
{
	uint32_t plen, end, off = 40, n;
	bool first_fragment = false;
	uint8_t nh, flags = SW_EXT_V6;

	if (avail < 40)
		return -SW_BAD_TRUNCATED;
	if (ip[0] >> 4 != 6)
		return -SW_BAD_IP_HEADER;
	plen = fz_rd16(ip + 4);
	if (plen > avail - 40)
		return -SW_BAD_IP_LENGTH;
	end = 40 + plen;
	r->l3 = 40;
	r->l4 = plen;
	r->proto = ip[6];
	nh = ip[6];
	if (nh == 58)
		return SW_L3_ICMP;
	if (!is_ext(nh))
		return nh == 6 ? SW_L3_TCP : SW_L3_OTHER;
	for (n = 0; is_ext(nh); n++) {
		if (n == 8)
			return -SW_BAD_UNPARSED;        /* more than 8 headers */
		if (nh == 44) {
			uint16_t fo;

			if (off + 8 > end)
				return -SW_BAD_TRUNCATED;
			fo = fz_rd16(ip + off + 2);
			nh = ip[off];
			off += 8;
			if (fo & 0xfff8) {
				/* a later fragment: what it continues is in its header */
				if (nh == 6)
					return -SW_BAD_FRAGMENT;
				return is_ext(nh) ? -SW_BAD_UNPARSED : SW_L3_OTHER;
			}
			if (fo & 1)
				first_fragment = true;
			continue;
		}
		if (off + 2 > end)
			return first_fragment ? -SW_BAD_UNPARSED : -SW_BAD_TRUNCATED;
		if (nh == 51) {
			flags |= SW_EXT_AH;
			nh = ip[off];
			off += ((uint32_t)ip[off + 1] + 2) * 4;
		} else {
			nh = ip[off];
			off += ((uint32_t)ip[off + 1] + 1) * 8;
		}
		if (off > end)
			return first_fragment ? -SW_BAD_UNPARSED : -SW_BAD_TRUNCATED;
	}
	if (nh != 6)
		return SW_L3_OTHER;
	if (first_fragment)
		return -SW_BAD_FRAGMENT;
	r->ext = flags;
	r->l3 = off;
	r->l4 = end - off;
	r->proto = 6;
	return SW_L3_TCP;
}

static void
ref_parse_l3(const uint8_t *f, uint32_t len, struct ref *r)
{
	uint16_t type;
	uint32_t off = 14;

	memset(r, 0, sizeof(*r));
	if (len < 14) {
		r->rc = -SW_BAD_TRUNCATED;
		return;
	}
	type = fz_rd16(f + 12);
	if (type == 0x8100) {
		if (len < 18) {
			r->rc = -SW_BAD_TRUNCATED;
			return;
		}
		type = fz_rd16(f + 16);
		off = 18;
		if (is_tag(type)) {
			r->rc = -SW_BAD_VLAN;
			return;
		}
	} else if (is_tag(type)) {
		r->rc = -SW_BAD_VLAN;
		return;
	}
	r->l2 = off;
	if (type == 0x0800)
		r->rc = ref_v4(f + off, len - off, r);
	else if (type == 0x86dd)
		r->rc = ref_v6(f + off, len - off, r);
	else
		r->rc = SW_L3_OTHER;
	if (r->rc == SW_L3_TCP && r->l4 < 4)
		r->rc = -SW_BAD_TRUNCATED;
}

/* ---- options ---- */

/* Whatever an option area parses to, the fast path and the loop agree, and what they report
 * is where the bytes say. */
static void
check_options(const uint8_t *o, uint32_t n)
{
	struct sw_tcpopts fast, loop;
	int rf, rl;

	memset(&fast, 0x5a, sizeof(fast));
	memset(&loop, 0xa5, sizeof(loop));
	rf = sw_parse_tcp_options(o, n, &fast);
	rl = sw_parse_tcp_options_loop(o, n, &loop);
	FZ_CHECK(rf == rl, "options (%u bytes): fast path %d, loop %d", n, rf, rl);
	FZ_CHECK(rf == 0 || rf == -SW_BAD_TCP_OPTION, "options: %d", rf);
	if (rf != 0)
		return;
	FZ_CHECK(memcmp(&fast, &loop, sizeof(fast)) == 0,
		 "options (%u bytes): fast path and loop disagree: present %#x/%#x mss %u/%u "
		 "ws %u/%u ts %u/%u sack %u+%u/%u+%u eol %u/%u", n, fast.present, loop.present,
		 fast.mss, loop.mss, fast.wscale, loop.wscale, fast.ts_off, loop.ts_off,
		 fast.sack_off, fast.sack_len, loop.sack_off, loop.sack_len, fast.eol_off,
		 loop.eol_off);
	FZ_CHECK(!(loop.present & ~(SW_OPT_MSS | SW_OPT_WS | SW_OPT_SACKOK | SW_OPT_TS |
				    SW_OPT_SACK)), "present %#x", loop.present);
	if (loop.present & SW_OPT_WS)
		FZ_CHECK(loop.wscale <= 14, "wscale %u", loop.wscale);
	if (loop.present & SW_OPT_TS) {
		uint32_t i = loop.ts_off - 20u;

		FZ_CHECK(loop.ts_off >= 20 && i + 10 <= n && o[i] == 8 && o[i + 1] == 10,
			 "ts_off %u", loop.ts_off);
		FZ_CHECK(loop.tsval == fz_rd32(o + i + 2) && loop.tsecr == fz_rd32(o + i + 6),
			 "TSval/TSecr not the option's");
	}
	if (loop.present & SW_OPT_SACK) {
		uint32_t i = loop.sack_off - 20u;

		FZ_CHECK(loop.sack_off >= 20 && i + loop.sack_len <= n && o[i] == 5 &&
			 o[i + 1] == loop.sack_len && loop.sack_len >= 10 &&
			 (loop.sack_len - 2) % 8 == 0, "sack %u+%u", loop.sack_off, loop.sack_len);
	}
	if (loop.eol_off != 0)
		FZ_CHECK(loop.eol_off >= 20 && loop.eol_off - 20u < n && o[loop.eol_off - 20] == 0,
			 "eol_off %u", loop.eol_off);
}

/* ---- checksums ---- */

static void
check_cksum(const uint8_t *p, size_t n)
{
	uint16_t ours = sw_raw_cksum(p, (uint32_t)n), dpdk = rte_raw_cksum(p, n);

	FZ_CHECK(ours == dpdk, "sw_raw_cksum %#x, rte_raw_cksum %#x (%zu bytes)", ours, dpdk, n);
	if (n % 2 == 0)
		FZ_CHECK(sw_cksum_fold(sw_cksum_be16(p, (unsigned int)n)) ==
			 fz_fold(fz_sum16(p, n, 0)), "sw_cksum_be16");
}

/* A segment whose checksum is right stays right when bytes of it are patched. */
static void
check_patch(uint8_t *f, const struct fz_frame *fr, const uint8_t *with, size_t wn)
{
	uint8_t *th = f + fr->l4_off;
	uint32_t off, len;

	if (fr->proto != FZ_PROTO_TCP || fr->l4_len < 20 || wn < 2 ||
	    !fz_l4_csum_ok(f, fr))
		return;
	/* anywhere but the checksum field itself */
	off = with[0] % fr->l4_len;
	len = (uint32_t)(wn - 1 < 8 ? wn - 1 : 8);
	if (off + len > fr->l4_len)
		len = fr->l4_len - off;
	if (off < 18 && off + len > 16)
		return;
	sw_csum_patch(th, th + 16, th + off, with + 1, len);
	FZ_CHECK(memcmp(th + off, with + 1, len) == 0, "sw_csum_patch did not write the bytes");
	FZ_CHECK(fz_l4_csum_ok(f, fr), "sw_csum_patch at %u+%u broke a right checksum", off, len);
}

/* ---- ICMP ---- */

static void
check_icmp(const uint8_t *f, uint32_t len, const struct sw_pkt *pkt)
{
	const uint8_t *icmp = f + pkt->l2_len + pkt->l3_len, *q;
	uint32_t avail = pkt->l4_len, qhl, qseq = 0;
	struct sw_tuple t;
	bool want;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = sw_parse_icmp_unreach(f, len, pkt, &t, &qseq);
	q = icmp + 8;
	if (!pkt->t.v6) {
		qhl = avail >= 28 ? (uint32_t)(q[0] & 15) * 4 : 0;
		want = avail >= 28 && icmp[0] == 3 && q[0] >> 4 == 4 && q[9] == 6 && qhl >= 20 &&
		       avail - 8 >= qhl + 8;
	} else {
		qhl = 40;
		want = avail >= 56 && (icmp[0] == 1 || icmp[0] == 2) && q[0] >> 4 == 6 &&
		       q[6] == 6;
	}
	FZ_CHECK((rc == 0) == want, "sw_parse_icmp_unreach %d, expected %s", rc,
		 want ? "a quoted segment" : "none");
	if (rc != 0)
		return;
	FZ_CHECK(t.v6 == pkt->t.v6, "quoted family");
	FZ_CHECK(memcmp(t.src, q + (t.v6 ? 8 : 12), t.v6 ? 16 : 4) == 0 &&
		 memcmp(t.dst, q + (t.v6 ? 24 : 16), t.v6 ? 16 : 4) == 0, "quoted addresses");
	FZ_CHECK(t.sport == fz_rd16(q + qhl) && t.dport == fz_rd16(q + qhl + 2) &&
		 qseq == fz_rd32(q + qhl + 4), "quoted ports or sequence number");
}

/* ---- the frame ---- */

static void
check_frame(uint8_t *f, uint32_t len, const uint8_t *tail, size_t tail_n)
{
	struct sw_pkt pkt, again;
	struct fz_frame fr;
	struct ref r;
	int kind, rc;

	memset(&pkt, 0xcc, sizeof(pkt));
	kind = sw_parse_l3(f, len, &pkt);
	ref_parse_l3(f, len, &r);
	FZ_CHECK(kind == r.rc, "sw_parse_l3 %d, the reference %d", kind, r.rc);
	memset(&again, 0x33, sizeof(again));
	FZ_CHECK(sw_parse_l3(f, len, &again) == kind, "a second parse differs");
	if (kind == SW_L3_TCP || kind == SW_L3_ICMP) {
		FZ_CHECK(pkt.l2_len == r.l2 && pkt.l3_len == r.l3 && pkt.l4_len == r.l4 &&
			 pkt.l4_proto == r.proto,
			 "lengths l2 %u/%u l3 %u/%u l4 %u/%u proto %u/%u", pkt.l2_len, r.l2,
			 pkt.l3_len, r.l3, pkt.l4_len, r.l4, pkt.l4_proto, r.proto);
		FZ_CHECK((uint32_t)pkt.l2_len + pkt.l3_len + pkt.l4_len <= len,
			 "headers and payload past the frame");
		FZ_CHECK(pkt.ext == r.ext, "ext %#x, expected %#x", pkt.ext, r.ext);
		FZ_CHECK(pkt.has_vlan == (r.l2 == 18), "has_vlan");
		if (pkt.has_vlan)
			FZ_CHECK(pkt.vlan_tci == fz_rd16(f + 14), "vlan_tci");
		if (!pkt.t.v6)
			FZ_CHECK(memcmp(pkt.t.src, f + pkt.l2_len + 12, 4) == 0 &&
				 memcmp(pkt.t.dst, f + pkt.l2_len + 16, 4) == 0, "IPv4 addresses");
		else
			FZ_CHECK(memcmp(pkt.t.src, f + pkt.l2_len + 8, 16) == 0 &&
				 memcmp(pkt.t.dst, f + pkt.l2_len + 24, 16) == 0, "IPv6 addresses");
	}
	if (kind == SW_L3_ICMP)
		check_icmp(f, len, &pkt);
	if (kind != SW_L3_TCP)
		return;
	FZ_CHECK(pkt.t.sport == fz_rd16(f + pkt.l2_len + pkt.l3_len) &&
		 pkt.t.dport == fz_rd16(f + pkt.l2_len + pkt.l3_len + 2), "ports");

	rc = sw_parse_tcp(f, len, &pkt);
	{
		const uint8_t *th = f + pkt.l2_len + pkt.l3_len;
		uint32_t doff = pkt.l4_len >= 20 ? (uint32_t)(th[12] >> 4) * 4 : 0;
		int want = pkt.l4_len < 20 ? -SW_BAD_TRUNCATED :
			   (doff < 20 || doff > pkt.l4_len) ? -SW_BAD_TCP_HEADER : 0;

		if (want == 0) {
			struct sw_tcpopts o;

			want = sw_parse_tcp_options_loop(th + 20, doff - 20, &o);
			check_options(th + 20, doff - 20);
		}
		FZ_CHECK(rc == want, "sw_parse_tcp %d, expected %d", rc, want);
		if (rc == 0) {
			FZ_CHECK(pkt.th_len == doff && pkt.seq == fz_rd32(th + 4) &&
				 pkt.ack == fz_rd32(th + 8) && pkt.tcp_flags == (th[13] & 0x3f) &&
				 pkt.win == fz_rd16(th + 14), "TCP fields not the header's");
		}
	}
	/* the checksum, where this file's walk finds the same headers */
	fz_frame_walk(f, len, &fr);
	if (rc == 0 && pkt.ext == 0 && fr.ip && fr.proto == FZ_PROTO_TCP) {
		bool ours = fz_ip_csum_ok(f, &fr) && fz_l4_csum_ok(f, &fr);

		FZ_CHECK(fr.l4_off == (uint32_t)pkt.l2_len + pkt.l3_len && fr.l4_len == pkt.l4_len,
			 "the walks disagree");
		FZ_CHECK(sw_tcp_checksum_ok(f, &pkt) == ours, "sw_tcp_checksum_ok %d, ours %d",
			 !ours, ours);
		check_patch(f, &fr, tail, tail_n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;
	size_t k, tail_n;

	if (size > 65535)
		return 0;
	fz_on_fail = print_input;
	cur_frame = data;
	cur_len = size;
	/* exactly the frame's bytes: a read past it is ASan's to report */
	f = malloc(size == 0 ? 1 : size);
	if (f == NULL)
		abort();
	memcpy(f, data, size);
	/* the input's last bytes, for the checks that need more than a frame */
	tail_n = size < 41 ? size : 41;
	check_frame(f, (uint32_t)size, data + size - tail_n, tail_n);
	free(f);

	/* the last bytes as an option area of each length, ending where the input ends */
	check_cksum(data, size);
	for (k = 0; k <= 40 && k <= size; k++) {
		uint8_t *o = malloc(k == 0 ? 1 : k);

		if (o == NULL)
			abort();
		memcpy(o, data + size - k, k);
		check_options(o, (uint32_t)k);
		free(o);
	}
	if (size > 1)
		check_cksum(data + 1, size - 1);        /* odd start */
	return 0;
}
