/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The segments synwall originates, as struct sw_seg values (tcpout.h writes them): the
 * SYN-ACK to a client, the SYN and the completing ACK to a server, an RST or a window update
 * to a client; and the writing of one into an mbuf.
 */
#ifndef SW_SEGMENT_H
#define SW_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "cookie.h"
#include "flowtab.h"
#include "lcore.h"
#include "syncache.h"
#include "tcpout.h"

/*
 * TSvals we send: the ms clock plus a per-worker offset. The SYN-ACK's carries in its low 12
 * bits what the cookie path needs to find again (as Linux's cookies do with their option
 * bits): the window shift it offered in the low 4 (SW_TS_WS_NONE: none) and 8 bits of the
 * cookie's MAC above them (cookie.h). Its higher bits are those of the clock 4096 ms ago, so
 * that it is always behind the clock; every later TSval is SW_TS_AFTER_SYNACK above the
 * clock, and never goes back behind the SYN-ACK's.
 */
#define SW_TS_WS_MASK      0xfu
#define SW_TS_WS_NONE      0xfu
#define SW_TS_SYNACK_LOW   0xfffu
#define SW_TS_AFTER_SYNACK 16u

static inline uint32_t
sw_tsval_ours(const struct sw_lcore *lc)
{
	return (uint32_t)lc->now_ms + lc->ts_offset + SW_TS_AFTER_SYNACK;
}

static inline uint32_t
sw_tsval_synack(const struct sw_lcore *lc, uint8_t mac8, uint8_t ws_code)
{
	uint32_t past = (uint32_t)lc->now_ms + lc->ts_offset - (SW_TS_SYNACK_LOW + 1);

	return (past & ~SW_TS_SYNACK_LOW) | (uint32_t)mac8 << SW_COOKIE_TS_SHIFT | ws_code;
}

/* Replace the contents of m by the segment s (offload flags set when tx_csum). */
void sw_mbuf_write_seg(struct rte_mbuf *m, const struct sw_seg *s, bool tx_csum);

/* The SYN-ACK answering the client's SYN pkt written over the SYN's own frame m, as
 * sw_seg_synack() and sw_mbuf_write_seg() would write it. */
void sw_mbuf_synack(struct rte_mbuf *m, const struct sw_lcore *lc, const struct sw_pkt *pkt,
		    uint32_t iss, uint8_t mac8, const struct sw_tcpopts *offer, bool tx_csum);

/* The SYN-ACK answering the client's SYN on t: from the server's addresses back to the
 * client. iss: the cookie, mac8 the rest of its MAC (for the TSval); offer: the options (and
 * values) we accept; client_tsval is echoed. */
void sw_seg_synack(struct sw_seg *s, const struct sw_lcore *lc, const uint8_t *eth_client,
		   const uint8_t *eth_server, uint16_t vlan_tci, bool has_vlan,
		   const struct sw_tuple *t, uint32_t irs, uint32_t iss, uint8_t mac8,
		   const struct sw_tcpopts *offer, uint32_t client_tsval);

/* The same SYN-ACK again, from what the syncache entry kept of it. */
void sw_seg_synack_again(struct sw_seg *s, const struct sw_lcore *lc,
			 const struct sw_sc_entry *e, const struct sw_tuple *t);

/* The addresses of a segment of flow f (keyed t, client -> server), either way; no
 * options. */
void sw_seg_of_flow(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		    bool to_server);

/* The SYN to the server, with the client's ISN and options. */
void sw_seg_server_syn(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t);

/* An RST to the client of an opening flow, in the client's view of the connection. */
void sw_seg_client_rst(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t);

/* The ACK that completes the server's handshake (and answers its SYN-ACK again if our
 * first ACK was lost). */
void sw_seg_server_ack(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		       uint32_t seq, uint32_t srv_isn, uint32_t srv_tsval, uint16_t client_win);

/* The RST that ends an established flow on one side (to_server, or to the client), with
 * exactly the sequence number that side expects next once everything sent has arrived
 * (RFC 5961 3.2: anything else only earns a challenge ACK). */
void sw_seg_reset(struct sw_seg *s, const struct sw_flow *f, const struct sw_tuple *t,
		  bool to_server);

/* To the client of a flow just established: the server's window, now that there is one
 * (our SYN-ACK offered none). irs: the client's ISN; srv_win and srv_tsval: the server
 * SYN-ACK's (its window is never scaled). */
void sw_seg_client_window(struct sw_seg *s, const struct sw_lcore *lc, const struct sw_flow *f,
			  const struct sw_tuple *t, uint32_t irs, uint16_t srv_win,
			  uint32_t srv_tsval);

#endif
