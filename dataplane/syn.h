/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN answering: a SYN to a protected port gets a SYN-ACK whose ISS is a cookie, and (in
 * proxy mode, unless the syncache is off or paused) a syncache entry; the entries' SYN-ACKs
 * are retransmitted by the syncache timer.
 */
#ifndef SW_SYN_H
#define SW_SYN_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "cookie.h"
#include "stage.h"

/* What answering a SYN needs, worked out by the burst's first pass (sw_syn_plan), before
 * the cookie MACs of the whole burst are computed at once. */
struct sw_syn_plan {
	struct sw_tcpopts offer;        /* what the SYN-ACK offers */
	struct sw_cookie_opts co;       /* what the cookie carries */
	uint32_t low;                   /* the cookie's low byte (sw_cookie_low) */
	uint32_t iss;                   /* the cookie, once its MAC is known: mac24 << 8 | low */
	uint8_t mac8;                   /* and the MAC's other 8 bits, for the TSval */
	/* the client's source prefix as the source table keys it (srctab.h), when the SYN is
	 * to be counted there (every one with a limit on, else one in SW_SRCT_SAMPLE), and for
	 * how many SYNs it counts; the set (and the entry a pass later) prefetched */
	bool src_keyed;
	uint8_t src_weight;
	uint64_t src_hash;
	uint8_t src_key[16];
};

/* Negotiate the SYN's options with the server's profile and encode the cookie's bits. */
void sw_syn_plan(struct sw_lcore *lc, const struct sw_pkt *pkt, struct sw_syn_plan *p);

/*
 * A SYN (no ACK, RST or FIN) to a port in mode (proxy or cookie), with no flow; plan->iss
 * is its cookie. m becomes the SYN-ACK: the verdict is SW_V_OUTSIDE; SW_V_DROP only with
 * syncookies off, when the SYN's source prefix holds its quota of entries.
 */
enum sw_verdict sw_syn_answer(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf *m,
			      const struct sw_pkt *pkt, enum sw_mode mode, uint32_t hash,
			      const struct sw_syn_plan *plan);

/* The syncache sweep's timer (arg: struct sw_stage_io): SYN-ACK retransmits, then the
 * entry's end. */
enum sw_sc_timer_action sw_synack_timer(struct sw_sc_entry *e, void *arg);

#endif
