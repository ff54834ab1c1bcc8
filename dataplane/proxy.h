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

#define SW_TS_OPTLEN 12         /* NOP NOP TS */

/* Window field for the server from the client's, and for the client from the server's. */
uint16_t sw_proxy_win_to_server(const struct sw_flow *f, uint16_t win);
uint16_t sw_proxy_win_to_client(const struct sw_flow *f, uint16_t win);

/* Translate a client -> server segment of an established flow. */
void sw_proxy_to_server(uint8_t *data, const struct sw_pkt *pkt, struct sw_flow *f);

/*
 * A server -> client segment of a flow whose client was promised timestamps by a server that
 * does not do them needs a timestamps option synwall adds (RFC 7323 3.2: once agreed, on
 * every segment but an RST). The options are rebuilt: NOP NOP TS first, the server's other
 * options as they were, then its SACK option, dropped if the client never agreed to SACK,
 * else with as many of its first blocks (the most recent, RFC 2018 4) as the 40 bytes
 * leave room for.
 */
struct sw_ts_add {
	uint8_t opt[40];        /* the new options */
	uint8_t len;            /* their length, a multiple of 4 */
	int8_t grow;            /* new TCP header length - old (bytes, a multiple of 4) */
	uint8_t sack_cut;       /* SACK blocks left out for room */
	uint8_t sack_off;       /* the new SACK option's offset from the TCP header, 0: none */
	uint8_t sack_len;
	uint32_t tsval;
	uint32_t sum_old;       /* ones'-complement sum of the old options (not folded) */
};

enum sw_ts_need {
	SW_TS_KEEP,             /* nothing to add */
	SW_TS_ADD,              /* planned */
	SW_TS_NO_ROOM,          /* the server's other options leave no room for it */
};

/* Does the segment need the option added (the test the fast path makes)? */
static inline bool
sw_proxy_wants_ts(const struct sw_pkt *pkt, const struct sw_flow *f)
{
	return (sw_flow_flags(f) & (SW_FLF_C_TS | SW_FLF_S_TS)) == SW_FLF_C_TS &&
	       !(pkt->opt.present & SW_OPT_TS) && !(pkt->tcp_flags & SW_TH_RST);
}

/* Plan the options of a segment that wants the option (data: the frame), with TSval tsval. */
enum sw_ts_need sw_proxy_ts_plan(const uint8_t *data, const struct sw_pkt *pkt,
				 const struct sw_flow *f, uint32_t tsval, struct sw_ts_add *a);

/*
 * Translate a server -> client segment. With a plan, the caller has moved the start of the
 * frame by a->grow bytes (data is the new start: the old one is data + a->grow; the payload
 * stays where it is); the headers move, the new options go behind them, pkt is updated.
 */
void sw_proxy_to_client(uint8_t *data, struct sw_pkt *pkt, struct sw_flow *f,
			const struct sw_ts_add *a);

/*
 * The server's SYN-ACK for an opening flow: record what the server negotiated and the
 * offsets. Returns false if it does not answer our SYN (ack != client ISN + 1).
 */
bool sw_proxy_server_synack(struct sw_flow *f, const struct sw_pkt *synack);

#endif
