/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf_core.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "bytes.h"
#include "tcpout.h"

uint16_t
sw_write_tcp_options(uint8_t *p, const struct sw_tcpopts *o)
{
	uint16_t n = 0;
	bool sack = o->present & SW_OPT_SACKOK;
	bool ts = o->present & SW_OPT_TS;

	if (o->present & SW_OPT_MSS) {
		p[n++] = 2;
		p[n++] = 4;
		sw_wr16(p + n, o->mss);
		n += 2;
	}
	if (ts) {
		if (sack) {
			p[n++] = 4;
			p[n++] = 2;
		} else {
			p[n++] = 1;
			p[n++] = 1;
		}
		p[n++] = 8;
		p[n++] = 10;
		sw_wr32(p + n, o->tsval);
		sw_wr32(p + n + 4, o->tsecr);
		n += 8;
	} else if (sack) {
		p[n++] = 1;
		p[n++] = 1;
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

void
sw_write_seg(uint8_t *buf, const struct sw_seg *s, bool csum_offload, struct sw_seg_lens *lens)
{
	uint8_t *ip, *th;
	uint16_t l2 = 14, l3, olen, l4;

	memcpy(buf, s->eth_dst, 6);
	memcpy(buf + 6, s->eth_src, 6);
	if (s->has_vlan) {
		sw_wr16(buf + 12, 0x8100);
		sw_wr16(buf + 14, s->vlan_tci);
		l2 = 18;
	}
	sw_wr16(buf + l2 - 2, s->t.v6 ? 0x86dd : 0x0800);
	ip = buf + l2;
	l3 = s->t.v6 ? 40 : 20;
	th = ip + l3;

	olen = sw_write_tcp_options(th + 20, &s->opt);
	l4 = (uint16_t)(20 + olen);
	sw_wr16(th, s->t.sport);
	sw_wr16(th + 2, s->t.dport);
	sw_wr32(th + 4, s->seq);
	sw_wr32(th + 8, s->ack);
	th[12] = (uint8_t)((l4 / 4) << 4);
	th[13] = s->flags;
	sw_wr16(th + 14, s->win);
	sw_wr16(th + 16, 0);
	sw_wr16(th + 18, 0);

	if (!s->t.v6) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		ip[0] = 0x45;
		ip[1] = 0;
		sw_wr16(ip + 2, (uint16_t)(l3 + l4));
		sw_wr16(ip + 4, 0);
		sw_wr16(ip + 6, 0x4000);           /* DF */
		ip[8] = 64;
		ip[9] = 6;
		sw_wr16(ip + 10, 0);
		memcpy(ip + 12, s->t.src, 4);
		memcpy(ip + 16, s->t.dst, 4);
		if (csum_offload) {
			uint16_t ph = rte_ipv4_phdr_cksum(h, RTE_MBUF_F_TX_IPV4 |
							  RTE_MBUF_F_TX_IP_CKSUM |
							  RTE_MBUF_F_TX_TCP_CKSUM);
			memcpy(th + 16, &ph, 2);
		} else {
			uint16_t ck = rte_ipv4_cksum(h);
			memcpy(ip + 10, &ck, 2);
			ck = rte_ipv4_udptcp_cksum(h, th);
			memcpy(th + 16, &ck, 2);
		}
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		sw_wr32(ip, 0x60000000);
		sw_wr16(ip + 4, l4);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, s->t.src, 16);
		memcpy(ip + 24, s->t.dst, 16);
		if (csum_offload) {
			uint16_t ph = rte_ipv6_phdr_cksum(h, RTE_MBUF_F_TX_IPV6 |
							  RTE_MBUF_F_TX_TCP_CKSUM);
			memcpy(th + 16, &ph, 2);
		} else {
			uint16_t ck = rte_ipv6_udptcp_cksum(h, th);
			memcpy(th + 16, &ck, 2);
		}
	}
	lens->l2_len = l2;
	lens->l3_len = l3;
	lens->l4_len = l4;
	lens->frame_len = (uint16_t)(l2 + l3 + l4);
}
