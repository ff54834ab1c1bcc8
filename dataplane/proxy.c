/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

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

bool
sw_proxy_needs_ts(const struct sw_pkt *pkt, const struct sw_flow *f)
{
	return (sw_flow_flags(f) & (SW_FLF_C_TS | SW_FLF_S_TS)) == SW_FLF_C_TS &&
	       !(pkt->opt.present & SW_OPT_TS) && pkt->th_len + SW_TS_OPTLEN <= 60;
}

void
sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f, bool add_ts,
		   uint32_t tsval)
{
	uint8_t *th;
	uint16_t win;

	if (add_ts) {
		unsigned int hl = pkt->l2_len + pkt->l3_len + pkt->th_len;
		uint8_t *ip = data + pkt->l2_len;
		uint8_t opt[SW_TS_OPTLEN] = { 1, 1, 8, 10 };
		uint8_t lenb[2], doff;
		uint32_t pseudo_old, pseudo_new;
		uint8_t *csum;

		memmove(data, data + SW_TS_OPTLEN, hl);
		th = data + pkt->l2_len + pkt->l3_len;
		csum = th + 16;
		/* Receivers stop reading options at an end-of-options byte: the option added
		 * behind it would be unseen. The end of the list becomes NOP padding. */
		if (pkt->opt.eol_off != 0)
			nop_out(th, pkt->opt.eol_off, pkt->th_len - pkt->opt.eol_off);
		/* The option goes where the payload started; the payload stays where it is. */
		sw_wr32(opt + 4, tsval);
		sw_wr32(opt + 8, f->ts_recent);
		/* The checksum covers the new bytes, the data offset, and (pseudo-header) the
		 * TCP length: account for each. */
		{
			uint32_t hc = (uint32_t)(csum[0] << 8 | csum[1]);
			uint32_t add = sw_cksum_be16(opt, SW_TS_OPTLEN);

			hc = (~hc & 0xffff) + sw_cksum_fold(add);
			pseudo_old = (uint32_t)(pkt->l4_len);
			pseudo_new = pseudo_old + SW_TS_OPTLEN;
			hc += (~pseudo_old & 0xffff) + pseudo_new;
			sw_wr16(csum, (uint16_t)~sw_cksum_fold(hc));
		}
		memcpy(th + pkt->th_len, opt, SW_TS_OPTLEN);
		doff = (uint8_t)((((pkt->th_len + SW_TS_OPTLEN) / 4) << 4) | (th[12] & 0x0f));
		{
			uint8_t w[2] = { doff, th[13] };

			sw_csum_patch(th, csum, th + 12, w, 2);
		}
		if (!pkt->t.v6) {
			uint16_t tot = (uint16_t)(pkt->l3_len + pkt->l4_len + SW_TS_OPTLEN);

			sw_wr16(lenb, tot);
			sw_csum_patch(ip, ip + 10, ip + 2, lenb, 2);
		} else {
			sw_wr16(lenb, (uint16_t)(pkt->l4_len + SW_TS_OPTLEN));
			memcpy(ip + 4, lenb, 2);
		}
		pkt->opt.present |= SW_OPT_TS;
		pkt->opt.ts_off = (uint8_t)(pkt->th_len + 2);
		pkt->opt.tsval = tsval;
		pkt->opt.tsecr = f->ts_recent;
		pkt->th_len = (uint16_t)(pkt->th_len + SW_TS_OPTLEN);
		pkt->l4_len = (uint16_t)(pkt->l4_len + SW_TS_OPTLEN);
	}
	th = data + pkt->l2_len + pkt->l3_len;

	patch32(th, th + 4, pkt->seq - f->seq_delta);
	win = sw_proxy_win_to_client(f, pkt->win);
	if (win != pkt->win)
		patch16(th, th + 14, win);
	if (!add_ts && (pkt->opt.present & SW_OPT_TS)) {
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
	f->ws_srv = (flags & SW_FLF_S_WS) ? sa->opt.wscale : 0;
	f->srv_ack = sa->ack;
	return true;
}
