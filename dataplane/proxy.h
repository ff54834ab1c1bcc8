/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The splice: rewriting the segments of an established flow in place, so that the client
 * and the server each see one consistent connection although the client's handshake was
 * with synwall (ISS = cookie) and the server's with its own ISN.
 *
 * client -> server: ack and SACK blocks + seq_delta, TSecr + ts_delta, window rescaled if
 *                   the server does not scale, options the server did not negotiate NOPed out.
 * server -> client: seq - seq_delta, TSval - ts_delta, window rescaled from the server's shift
 *                   to the one the client was promised; a timestamps option added when the
 *                   client was promised timestamps and the server does not do them.
 * Checksums are updated incrementally (RFC 1624), so a corrupt segment stays corrupt.
 */
#ifndef SW_PROXY_H
#define SW_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "csum.h"
#include "flowtab.h"
#include "parse.h"

#define SW_TS_OPTLEN 12         /* NOP NOP TS: what a timestamps insertion adds */

/* Window field for the server from the client's, and for the client from the server's. */
uint16_t sw_proxy_win_to_server(const struct sw_flow *f, uint16_t win);
uint16_t sw_proxy_win_to_client(const struct sw_flow *f, uint16_t win);

/* Translate a client -> server segment of an established flow. */
void sw_proxy_to_server(uint8_t *data, const struct sw_pkt *pkt, struct sw_flow *f);

/* Does this server -> client segment need a timestamps option added (and is there room)? */
bool sw_proxy_needs_ts(const struct sw_pkt *pkt, const struct sw_flow *f);

/*
 * Translate a server -> client segment. With add_ts the caller has made SW_TS_OPTLEN bytes
 * of room in front of the frame and data points there (the headers move down, the option
 * goes after them, pkt is updated); tsval is the TSval to put in it.
 */
void sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f, bool add_ts,
			uint32_t tsval);

/*
 * The server's SYN-ACK for an opening flow: record what the server negotiated and the
 * offsets. Returns false if it does not answer our SYN (ack != client ISN + 1).
 */
bool sw_proxy_server_synack(struct sw_flow *f, const struct sw_pkt *synack);

#endif
