/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handshake completion: the client's ACK of our SYN-ACK (matched against its syncache
 * entry, or else against its cookie) opens a flow and becomes, in place, the SYN to the
 * server. And the client's RST of a pending handshake.
 */
#ifndef SW_HANDSHAKE_H
#define SW_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "stage.h"

/* The cookie MACs of an ACK (all 32 bits, sw_cookie_mac), computed by the burst's first pass
 * when it saw no entry and no flow for it; without them (NULL, or `have` false) the stage
 * computes what it needs. */
struct sw_ack_macs {
	bool have;              /* mac: the MAC over the ACK's seq - 1 */
	bool have_probe;        /* mac_probe: the MAC over seq (a zero-window probe) */
	uint32_t mac;
	uint32_t mac_probe;
};

/*
 * The budget of cookie checks on ACKs without timestamps, whose cookies carry 24 bits of MAC
 * only: the limit cookie_check_rate (checks a second in the whole dataplane; 0: no limit),
 * each worker its share, as a bucket that holds a second of it. An ACK with timestamps is
 * checked on 32 bits, outside of it.
 */
#define SW_COOKIE_BUDGET_MS 1000
/* Is a check left in the budget? (The first pass: no MACs computed for nothing.) */
bool sw_cookie_budget_left(struct sw_lcore *lc);
/* Take one check from the budget; false when it is spent. */
bool sw_cookie_budget_take(struct sw_lcore *lc);

/*
 * An ACK (no SYN or RST) with no flow, to a port in mode (proxy or cookie), checksums
 * verified. SW_V_INSIDE: m is now the SYN to the server and a flow is opening; SW_V_DROP
 * otherwise (counted, and logged at a limited rate).
 */
enum sw_verdict sw_handshake_complete(struct sw_lcore *lc, struct sw_sink *out,
				      struct rte_mbuf *m, const struct sw_pkt *pkt,
				      enum sw_mode mode, uint32_t hash,
				      const struct sw_ack_macs *macs);

/* An RST with no flow: it ends a pending handshake only with the exact sequence number
 * (RFC 5961 3.2). Always SW_V_DROP. */
enum sw_verdict sw_handshake_rst(struct sw_lcore *lc, const struct sw_pkt *pkt, uint32_t hash);

#endif
