/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writing TCP segments the appliance originates (SYN-ACKs to clients, SYNs to servers):
 * Ethernet (+802.1Q), IPv4 without options or IPv6, TCP with options, checksums.
 */
#ifndef SW_TCPOUT_H
#define SW_TCPOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"

/* Everything a segment's headers need, by value: the buffer it is written to may be the
 * very packet these values were read from. */
struct sw_seg {
	uint8_t eth_src[6];
	uint8_t eth_dst[6];
	uint16_t vlan_tci;
	uint8_t has_vlan;
	uint8_t flags;                  /* SW_TH_* */
	struct sw_tuple t;              /* src -> dst of this segment */
	uint32_t seq;
	uint32_t ack;
	uint16_t win;
	/* options: the SW_OPT_* bits in opt.present that are written */
	struct sw_tcpopts opt;
};

/* Largest frame sw_write_seg() writes: 18 + 40 + 20 + 20 */
#define SW_SEG_MAX_LEN 98

struct sw_seg_lens {
	uint16_t l2_len;
	uint16_t l3_len;
	uint16_t l4_len;
	uint16_t frame_len;
};

/*
 * Write the segment at buf (room for SW_SEG_MAX_LEN bytes). With csum_offload the TCP
 * checksum field holds the pseudo-header sum and the IPv4 checksum 0, for the NIC to finish;
 * otherwise both are computed here.
 */
void sw_write_seg(uint8_t *buf, const struct sw_seg *s, bool csum_offload,
		  struct sw_seg_lens *lens);

/*
 * The answer to the parsed segment pkt, written over its own frame: the MACs swapped, the
 * 802.1Q tag kept, the IP and TCP headers of the reverse direction (seq, ack, flags, win,
 * the options o) as sw_write_seg() writes them. The frame must have room for them.
 */
void sw_write_answer(uint8_t *frame, const struct sw_pkt *pkt, uint32_t seq, uint32_t ack,
		     uint8_t flags, uint16_t win, const struct sw_tcpopts *o, bool csum_offload,
		     struct sw_seg_lens *lens);

/* Write the TCP options of s->opt (MSS, SACK_PERM, TS, WS in Linux's layout); returns
 * the length, a multiple of 4, at most 20. */
uint16_t sw_write_tcp_options(uint8_t *p, const struct sw_tcpopts *o);

#endif
