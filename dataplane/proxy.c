/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>

#include "bytes.h"
#include "proxy.h"

static inline void
patch32(uint8_t *th, uint8_t *p, uint32_t v)
{
	uint8_t b[4];

	sw_wr32(b, v);
	sw_csum_patch(th, th + 16, p, b, 4);
}

static inline void
patch16(uint8_t *th, uint8_t *p, uint16_t v)
{
	uint8_t b[2];

	sw_wr16(b, v);
	sw_csum_patch(th, th + 16, p, b, 2);
}

/* Replace an option by NOPs: the peer never negotiated it. */
static void
nop_out(uint8_t *th, unsigned int off, unsigned int len)
{
	uint8_t nops[40];

	memset(nops, 1, len);
	sw_csum_patch(th, th + 16, th + off, nops, len);
}

uint16_t
sw_proxy_win_to_server(const struct sw_flow *f, uint16_t win)
{
	uint32_t v;

	/* The server applies the shift it was told unless it declined window scaling. */
	if ((sw_flow_flags(f) & SW_FLF_S_WS) || !(sw_flow_flags(f) & SW_FLF_C_WS))
		return win;
	v = (uint32_t)win << SW_FLOW_WS_CLIENT(f);
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

uint16_t
sw_proxy_win_to_client(const struct sw_flow *f, uint16_t win)
{
	unsigned int srv = (sw_flow_flags(f) & SW_FLF_S_WS) ? f->ws_srv : 0;
	unsigned int ours = (sw_flow_flags(f) & SW_FLF_C_WS) ? SW_FLOW_WS_OURS(f) : 0;
	uint64_t v;

	if (srv == ours)
		return win;
	/* Round up: a window rounded down to 0 would stall the client. */
	v = ((uint64_t)win << srv) + (1u << ours) - 1;
	v >>= ours;
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

void
sw_proxy_to_server(uint8_t *data, const struct sw_pkt *pkt, struct sw_flow *f)
{
	uint8_t *th = data + pkt->l2_len + pkt->l3_len;
	uint8_t flags = sw_flow_flags(f);
	uint16_t win;

	if (pkt->tcp_flags & SW_TH_ACK)
		patch32(th, th + 8, pkt->ack + f->seq_delta);
	win = sw_proxy_win_to_server(f, pkt->win);
	if (win != pkt->win)
		patch16(th, th + 14, win);

	if (pkt->opt.present & SW_OPT_TS) {
		f->ts_recent = pkt->opt.tsval;
		if (flags & SW_FLF_S_TS)
			patch32(th, th + pkt->opt.ts_off + 6, pkt->opt.tsecr + f->ts_delta);
		else
			nop_out(th, pkt->opt.ts_off, 10);
	}
	if (pkt->opt.present & SW_OPT_SACK) {
		if (flags & SW_FLF_S_SACK) {
			unsigned int o;

			/* The client SACKs the server's data: edges into the server's space. */
			for (o = pkt->opt.sack_off + 2; o + 4 <= pkt->opt.sack_off +
			     (unsigned int)pkt->opt.sack_len; o += 4)
				patch32(th, th + o, sw_rd32(th + o) + f->seq_delta);
		} else {
			nop_out(th, pkt->opt.sack_off, pkt->opt.sack_len);
		}
	}
}

enum sw_ts_need
sw_proxy_ts_plan(const uint8_t *data, const struct sw_pkt *pkt, const struct sw_flow *f,
		 uint32_t tsval, struct sw_ts_add *a)
{
	const uint8_t *th = data + pkt->l2_len + pkt->l3_len;
	unsigned int i, len, others = 0, blocks = 0, keep, total;
	uint8_t *o;

	/* The other options' bytes go behind NOP NOP TS; NOPs and an end of options go (the
	 * new list is padded again), so does a SACK option, rewritten after them. */
	o = a->opt + SW_TS_OPTLEN;
	for (i = 20; i < pkt->th_len; i += len) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			len = 1;
			continue;
		}
		/* the parser has checked every length */
		len = th[i + 1];
		if (i == pkt->opt.sack_off && (pkt->opt.present & SW_OPT_SACK)) {
			blocks = (len - 2) / 8;
			continue;
		}
		if (SW_TS_OPTLEN + others + len > 40)
			return SW_TS_NO_ROOM;
		memcpy(o + others, th + i, len);
		others += len;
	}
	if (!(sw_flow_flags(f) & SW_FLF_C_SACK))
		blocks = 0;             /* never agreed with the client: it goes */
	/* as many blocks as fit, rounded up to words */
	for (keep = blocks; keep > 0; keep--)
		if (RTE_ALIGN_CEIL(SW_TS_OPTLEN + others + 2 + 8 * keep, 4) <= 40)
			break;
	total = SW_TS_OPTLEN + others;
	a->sack_off = 0;
	a->sack_len = 0;
	if (keep > 0) {
		/* the padding in front, so that the blocks are word-aligned as Linux sends
		 * them when the other options are */
		for (; (total + 2) % 4 != 0; total++)
			a->opt[total] = 1;
		o = a->opt + total;
		o[0] = 5;
		o[1] = (uint8_t)(2 + 8 * keep);
		memcpy(o + 2, th + pkt->opt.sack_off + 2, 8 * keep);
		a->sack_off = (uint8_t)(20 + total);
		a->sack_len = o[1];
		total += 2 + 8 * keep;
	}
	for (; total % 4 != 0; total++)
		a->opt[total] = 1;
	a->opt[0] = 1;
	a->opt[1] = 1;
	a->opt[2] = 8;
	a->opt[3] = 10;
	sw_wr32(a->opt + 4, tsval);
	sw_wr32(a->opt + 8, f->ts_recent);
	a->len = (uint8_t)total;
	a->grow = (int8_t)((int)(20 + total) - (int)pkt->th_len);
	a->sack_cut = (uint8_t)((pkt->opt.present & SW_OPT_SACK) &&
				(sw_flow_flags(f) & SW_FLF_C_SACK) ? blocks - keep : 0);
	a->tsval = tsval;
	a->sum_old = sw_cksum_be16(th + 20, pkt->th_len - 20u);
	return SW_TS_ADD;
}

/* The headers moved and the new options behind them: lengths and checksums follow. Out of
 * line: the translation of every other segment stays small enough to be inlined. */
static __rte_noinline __rte_cold void
put_ts(uint8_t *data, struct sw_pkt *pkt, const struct sw_ts_add *a)
{
	unsigned int base = pkt->l2_len + pkt->l3_len + 20u;
	uint8_t *ip = data + pkt->l2_len;
	uint8_t *th = ip + pkt->l3_len;
	uint8_t *csum = th + 16;
	uint16_t l4_old = pkt->l4_len, l4_new = (uint16_t)(pkt->l4_len + a->grow);
	uint8_t w[2];
	uint32_t hc;

	/* the headers up to the options, from where the frame started before */
	memmove(data, data + a->grow, base);
	memcpy(th + 20, a->opt, a->len);
	/* The checksum: the options' words out and in, the TCP length (pseudo-header) old out
	 * and new in. The data offset is patched on its own below. */
	hc = (uint32_t)(~(csum[0] << 8 | csum[1]) & 0xffff);
	hc += (~sw_cksum_fold(a->sum_old) & 0xffff) + sw_cksum_be16(a->opt, a->len);
	hc += (~(uint32_t)l4_old & 0xffff) + l4_new;
	sw_wr16(csum, (uint16_t)~sw_cksum_fold(hc));
	w[0] = (uint8_t)((((20u + a->len) / 4) << 4) | (th[12] & 0x0f));
	w[1] = th[13];
	sw_csum_patch(th, csum, th + 12, w, 2);
	if (!pkt->t.v6) {
		sw_wr16(w, (uint16_t)(sw_rd16(ip + 2) + a->grow));
		sw_csum_patch(ip, ip + 10, ip + 2, w, 2);
	} else {
		/* extension headers are in the payload length too */
		sw_wr16(ip + 4, (uint16_t)(sw_rd16(ip + 4) + a->grow));
	}
	pkt->opt.present = (uint8_t)((pkt->opt.present & ~SW_OPT_SACK) | SW_OPT_TS |
				     (a->sack_off != 0 ? SW_OPT_SACK : 0));
	pkt->opt.ts_off = 22;
	pkt->opt.tsval = a->tsval;
	pkt->opt.tsecr = sw_rd32(a->opt + 8);
	pkt->opt.sack_off = a->sack_off;
	pkt->opt.sack_len = a->sack_len;
	pkt->opt.eol_off = 0;
	pkt->th_len = (uint16_t)(20 + a->len);
	pkt->l4_len = l4_new;
}

void
sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f,
		   const struct sw_ts_add *a)
{
	uint8_t *th;
	uint16_t win;

	if (a != NULL)
		put_ts(data, pkt, a);
	th = data + pkt->l2_len + pkt->l3_len;

	patch32(th, th + 4, pkt->seq - f->seq_delta);
	win = sw_proxy_win_to_client(f, pkt->win);
	if (win != pkt->win)
		patch16(th, th + 14, win);
	if (a == NULL && (pkt->opt.present & SW_OPT_TS)) {
		if (!(sw_flow_flags(f) & SW_FLF_C_TS))
			nop_out(th, pkt->opt.ts_off, 10);       /* never negotiated with the client */
		else if (sw_flow_flags(f) & SW_FLF_S_TS)
			patch32(th, th + pkt->opt.ts_off + 2, pkt->opt.tsval - f->ts_delta);
	}
	/* The server SACKs the client's data (the client's own space): nothing to translate,
	 * unless the client never agreed to SACK. */
	if ((pkt->opt.present & SW_OPT_SACK) && !(sw_flow_flags(f) & SW_FLF_C_SACK))
		nop_out(th, pkt->opt.sack_off, pkt->opt.sack_len);
	/* What the server expects next from the client: the yardstick for the client's RSTs. */
	if ((pkt->tcp_flags & SW_TH_ACK) && (int32_t)(pkt->ack - f->srv_ack) > 0)
		f->srv_ack = pkt->ack;
}

bool
sw_proxy_server_synack(struct sw_flow *f, const struct sw_pkt *sa)
{
	uint8_t flags = sw_flow_flags(f);

	if (sa->ack != f->irs + 1)
		return false;
	flags &= (uint8_t)~(SW_FLF_S_SACK | SW_FLF_S_TS | SW_FLF_S_WS);
	/* An option is in effect only if both SYNs carried it; ours carried the client's. */
	if ((sa->opt.present & SW_OPT_SACKOK) && (flags & SW_FLF_C_SACK))
		flags |= SW_FLF_S_SACK;
	if ((sa->opt.present & SW_OPT_TS) && (flags & SW_FLF_C_TS))
		flags |= SW_FLF_S_TS;
	if ((sa->opt.present & SW_OPT_WS) && (flags & SW_FLF_C_WS))
		flags |= SW_FLF_S_WS;
	sw_flow_flags(f) = flags;
	f->ts_delta = (flags & SW_FLF_S_TS) ? sa->opt.tsval - f->ts_ours : 0;
	f->seq_delta = sa->seq - f->iss;
	f->srv_nxt = f->iss + 1;        /* the SYN-ACK's SYN */
	f->rexmits = 0;         /* the byte the shift and the FINs share */
	f->ws_srv = (flags & SW_FLF_S_WS) ? sa->opt.wscale : 0;
	f->fin = 0;
	f->mss8 = (sa->opt.present & SW_OPT_MSS) ? (uint8_t)RTE_MIN(sa->opt.mss / 8, 255)
						 : SW_TCP_DEFAULT_MSS / 8;
	f->srv_ack = sa->ack;
	return true;
}
