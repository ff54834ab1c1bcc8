/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Server profiles: the TCP options a protected server really uses. The SYN-ACK synwall sends
 * a client offers only what the server will do too, so that after the first handshake with a
 * server the splice has nothing to rewrite but sequence numbers. A port's configured profile
 * is the starting point; what each server's SYN-ACKs show is learned per server address and
 * port.
 */
#ifndef SW_PROFILE_H
#define SW_PROFILE_H

#include <stdbool.h>
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

/*
 * Learned profiles, one table for all lcores: a SYN on any lcore is offered what the server's
 * latest SYN-ACK on any lcore showed, so that every client of a server sees the same options
 * whichever queue RSS gave it. Direct-mapped: a collision only makes two servers share a slot
 * (the one seen last is learned). Each slot is guarded by its own sequence number (even:
 * stable, odd: being written), without a lock: a writer that finds the slot odd, or loses the
 * race to make it odd, leaves the learning to the next SYN-ACK; a reader that sees it change
 * takes the port's profile for this SYN. Either way a SYN-ACK offers a profile some server
 * really showed, or the port's; every flow then follows what its own server's SYN-ACK says.
 *
 * The MSS is the exception: the one thing the splice cannot fix afterwards is a client that
 * was promised more than the server takes. The MSS learned is the smallest any SYN-ACK showed
 * in the last SW_LEARN_MAX_AGE_MS, so several servers behind one address are all offered the
 * smallest of theirs, and a server whose MSS grew gets it offered once no smaller one has
 * been seen for that long.
 *
 * An option learned off is offered again (the port's profile says whether) once no SYN-ACK
 * has shown it off for SW_LEARN_REPROBE_MS: our SYN offers the server only what its client
 * was offered, so without that a server that turned an option back on would never be seen
 * doing it while its SYN-ACKs keep the slot fresh.
 */
#define SW_LEARN_SLOTS 4096
/* A profile not confirmed by a SYN-ACK for this long is forgotten (the port's again): a
 * server that went away or was replaced stops shaping what its clients are offered. */
#define SW_LEARN_MAX_AGE_MS (600u * 1000)
/* A slot that says the same is rewritten at most this often (only its time changes): a busy
 * server costs each lcore one shared write a second, not one a handshake. */
#define SW_LEARN_REFRESH_MS 1000u
/* An option a server was last seen not doing is offered again after this long: one
 * connection a minute may meet a server that still does not (a cost the splice covers). */
#define SW_LEARN_REPROBE_MS (60u * 1000)

/* One slot a cache line: a write to one server's slot never stalls the readers of another. */
struct sw_learned {
	uint32_t seq;           /* even: stable; odd: being written */
	uint32_t seen_ms;       /* last SYN-ACK that showed it (sw_ms clock, wraps) */
	uint32_t mss_ms;        /* last SYN-ACK that showed an MSS this small */
	uint32_t off_ms;        /* last SYN-ACK that showed an option offered to it off */
	uint8_t addr[16];       /* server address (IPv4 in the first 4 bytes) */
	uint16_t port;
	uint8_t v6;
	uint8_t used;
	struct sw_profile p;
} __attribute__((aligned(64)));

struct sw_learn_table {
	uint32_t seed;
	struct sw_learned slot[SW_LEARN_SLOTS] __attribute__((aligned(64)));
};

/* A table another process left (state.h): a slot it was writing when it died (its sequence
 * number odd) is forgotten. */
void sw_learn_adopt(struct sw_learn_table *lt);

/* The server of tuple t (client -> server): its learned profile into *out, or false. port is
 * the port's profile: the options it has come back once the learned offs are due a re-probe. */
bool sw_learn_lookup(const struct sw_learn_table *lt, const struct sw_tuple *t, uint32_t now_ms,
		     const struct sw_profile *port, struct sw_profile *out);

/*
 * Learn from the server's SYN-ACK to our SYN. Only what our SYN offered can be learned
 * (a server answers no option it was not offered): the rest keeps `base`.
 */
void sw_learn_synack(struct sw_learn_table *lt, const struct sw_tuple *t,
		     const struct sw_profile *base, uint8_t syn_offered,
		     const struct sw_tcpopts *synack, uint32_t now_ms);

#endif
