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

/* The cookie MACs of an ACK, computed by the burst's first pass when it saw no entry and no
 * flow for it; without them (NULL, or `have` false) the stage computes what it needs. */
struct sw_ack_macs {
	bool have;              /* mac24: the MAC over the ACK's seq - 1 */
	bool have_probe;        /* mac24_probe: the MAC over seq (a zero-window probe) */
	uint32_t mac24;
	uint32_t mac24_probe;
};

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
