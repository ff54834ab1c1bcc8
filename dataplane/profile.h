/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Server profiles: the TCP options a protected server really uses. The SYN-ACK synwall sends
 * a client offers only what the server will do too, so that after the first handshake with a
 * server the splice has nothing to rewrite but sequence numbers. A port's configured profile
 * is the starting point; what each server's SYN-ACKs show is learned per server address and
 * port, per lcore.
 */
#ifndef SW_PROFILE_H
#define SW_PROFILE_H

#include <stdint.h>

#include "parse.h"

#define SW_PROF_SACK 0x01
#define SW_PROF_TS   0x02
#define SW_PROF_WS   0x04

struct sw_profile {
	uint16_t mss;           /* the server's MSS */
	uint8_t wscale;         /* its shift, with SW_PROF_WS */
	uint8_t flags;          /* SW_PROF_* */
};

#define SW_LEARN_SLOTS 1024     /* per lcore, direct-mapped: a collision just re-learns */

struct sw_learned {
	uint8_t addr[16];       /* server address (IPv4 in the first 4 bytes) */
	uint16_t port;
	uint8_t v6;
	uint8_t used;
	struct sw_profile p;
	uint32_t seen_ms;
	uint8_t pad[4];
};

struct sw_learn_cache {
	struct sw_learned slot[SW_LEARN_SLOTS];
	uint32_t seed;
};

/* The server of tuple t (client -> server): its learned profile, or NULL. */
const struct sw_profile *sw_learn_lookup(const struct sw_learn_cache *lc,
					 const struct sw_tuple *t);

/*
 * Learn from the server's SYN-ACK to our SYN. Only what our SYN offered can be learned
 * (a server answers no option it was not offered): the rest keeps `base`.
 */
void sw_learn_synack(struct sw_learn_cache *lc, const struct sw_tuple *t,
		     const struct sw_profile *base, uint8_t syn_offered,
		     const struct sw_tcpopts *synack, uint32_t now_ms);

#endif
