/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP errors about the segments synwall sent or translated. */
#ifndef SW_ICMP_H
#define SW_ICMP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "stage.h"

/*
 * An ICMP(v6) message from outside (pkt parsed by sw_parse_l3 as SW_L3_ICMP).
 *
 * About one of our SYN-ACKs: counted (`unreach`), the entry dropped on the second error;
 * SW_V_DROP. About a spliced server segment (a router on the client's path saying
 * "unreachable", "fragmentation needed" or "packet too big"): the quoted sequence number is
 * in the client's space; the server needs its own to act on it (Linux ignores ICMP quoting
 * a sequence number outside its window), so it is translated, or path MTU discovery would
 * black-hole the flow; SW_V_INSIDE. Anything else: SW_V_NO_FLOW, for the caller to bridge.
 * With several workers the ICMP (hashed on the router's address) may reach another worker
 * than the flow's: then it is bridged unchanged.
 */
enum sw_verdict sw_icmp_from_outside(struct sw_lcore *lc, struct rte_mbuf *m,
				     const struct sw_pkt *pkt);

/*
 * A client segment of flow f (pkt, in m, as the client sent it) is larger than the server's
 * MSS: the client was promised more than the server takes (its MSS shrank since synwall
 * learned it, or another server behind the address took the connection), and the server's
 * link may drop it. The client gets what a router before a smaller link would send: an
 * ICMP "fragmentation needed" (IPv4, when the segment has DF) or ICMPv6 "packet too big"
 * with the MTU the server's MSS gives, from the server's address, quoting the segment's
 * headers; its stack lowers its segment size and resends (RFC 1191, RFC 8201). The
 * segment itself goes on: the server's stack may take it all the same.
 */
void sw_icmp_too_big(struct sw_lcore *lc, struct sw_sink *out, const struct rte_mbuf *m,
		     const struct sw_pkt *pkt, uint32_t mtu);

#endif
