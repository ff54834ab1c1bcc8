/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The splice's state machine: the segments of a known flow from either side (translated by
 * proxy.c), the server's SYN-ACK that establishes a flow, the close bookkeeping, and the
 * flow timers (server SYN retransmits, linger, idle expiry).
 */
#ifndef SW_SPLICE_H
#define SW_SPLICE_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "stage.h"

/*
 * A segment from the client (pkt, parsed to TCP) of flow f. SW_V_INSIDE when translated
 * and passed on, SW_V_DROP, or SW_V_NO_FLOW when it is a new SYN on a closing 4-tuple: the
 * flow is gone and the segment is to be handled as if there had been none.
 */
enum sw_verdict sw_splice_client(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
				 struct sw_pkt *pkt, struct sw_flow *f);

/*
 * A segment from the server (pkt, parsed to TCP; t its flow's key, client -> server) of
 * flow f. SW_V_OUTSIDE (translated, or the client's RST when the server refused), SW_V_INSIDE
 * (m became our ACK to the server's SYN-ACK) or SW_V_DROP.
 */
enum sw_verdict sw_splice_server(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
				 struct sw_pkt *pkt, struct sw_flow *f, const struct sw_tuple *t);

/*
 * A segment from the server (pkt, parsed to TCP; t the key, client -> server; hash its hash)
 * with no flow, on a protected port. While the port adopts the connections opened before it
 * became protected (sw_cfg_adopting), an established connection's segment makes an adopted
 * flow (SW_FLF_ADOPTED: passed untranslated both ways from now on), and the segment passes
 * (SW_V_OUTSIDE) as it would have without synwall. Outside that window it is dropped: it
 * would leave untranslated.
 */
enum sw_verdict sw_splice_adopt(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
				const struct sw_pkt *pkt, const struct sw_tuple *t, uint32_t hash);

/* A new flow for t (hash: its hash), in a full table in the place of one that gives way,
 * which is then ended on both sides (sw_splice_end, proxy.evicted); NULL when none may. */
struct sw_flow *sw_splice_add(struct sw_lcore *lc, struct sw_sink *out, const struct sw_tuple *t,
			      uint32_t hash);

/* End flow f (a copy will do; t its key), evicted or expired: an established one with an RST
 * to the client and one to the server, each with the sequence number it expects
 * (sw_seg_reset); an opening one with the client's RST (the server never answered); a
 * closing one quietly. */
void sw_splice_end(struct sw_lcore *lc, struct sw_sink *out, const struct sw_flow *f,
		   const struct sw_tuple *t);

/* The flow sweep's timer (arg: struct sw_stage_io). */
enum sw_flow_timer_action sw_flow_timer(struct sw_flow *f, uint32_t idle_ms, void *arg);

#endif
