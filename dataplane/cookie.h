/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies. The ISS carries what the SYN offered, authenticated by a SipHash-2-4 MAC:
 *
 *   ISS = MAC24 << 8 | key << 7 | sack << 6 | ws << 3 | mss
 *
 * mss indexes sw_cookie_mss_table, ws indexes sw_cookie_ws_table (0: no window scale),
 * key is the parity of the epoch whose secret made the MAC. The MAC covers both addresses,
 * both ports (so a cookie opens only the port it was made for), the client's ISN and the
 * low byte above.
 */
#ifndef SW_COOKIE_H
#define SW_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"
#include "siphash.h"

#define SW_COOKIE_NMSS 8
#define SW_COOKIE_NWS  8
#define SW_COOKIE_WS_NONE 0xff

extern const uint16_t sw_cookie_mss_table[SW_COOKIE_NMSS];
extern const uint8_t sw_cookie_ws_table[SW_COOKIE_NWS];

/* The two live secrets: key[epoch & 1] is current, key[(epoch - 1) & 1] the previous. */
struct sw_keyset {
	struct sw_sipkey key[2];
	uint64_t epoch;
};

/* What a cookie remembers of the SYN. */
struct sw_cookie_opts {
	uint16_t mss;           /* a table value */
	uint8_t wscale;         /* SW_COOKIE_WS_NONE: not offered */
	uint8_t sack;
	uint8_t mss_idx;        /* their places in the tables */
	uint8_t ws_idx;
};

/* Round the SYN's options down to what a cookie can carry. */
void sw_cookie_opts_from_syn(const struct sw_tcpopts *syn, struct sw_cookie_opts *out);

uint32_t sw_cookie_make(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
			const struct sw_cookie_opts *o);

/*
 * The pieces of a cookie, for computing many MACs at once (sw_siphash24_batch):
 * cookie = sw_cookie_mac24(SipHash(key[low >> 7], msg)) << 8 | low.
 */
#define SW_COOKIE_MSG_V4  (4 + 4 + 2 + 2 + 4 + 1)
#define SW_COOKIE_MSG_V6  (16 + 16 + 2 + 2 + 4 + 1)
#define SW_COOKIE_MSG_MAX SW_COOKIE_MSG_V6

/* The secret (its slot in struct sw_keyset) a cookie's low byte names. */
static inline unsigned int
sw_cookie_key_slot(uint32_t low)
{
	return low >> 7;
}

uint32_t sw_cookie_low(const struct sw_keyset *ks, const struct sw_cookie_opts *o);
/* The MAC's input; returns its length (SW_COOKIE_MSG_V4 or SW_COOKIE_MSG_V6). */
unsigned int sw_cookie_msg(uint8_t buf[SW_COOKIE_MSG_MAX], const struct sw_tuple *t,
			   uint32_t irs, uint32_t low);
static inline uint32_t
sw_cookie_mac24(uint64_t siphash)
{
	return (uint32_t)(siphash >> 40);
}
/* The options a (valid) cookie carries. */
void sw_cookie_decode(uint32_t cookie, struct sw_cookie_opts *out);

/* true when cookie is valid for (t, irs) under one of the two live secrets. */
bool sw_cookie_check(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
		     uint32_t cookie, struct sw_cookie_opts *out);

/*
 * Fleet keys: the secret of an epoch derives from a master secret, so that appliances
 * sharing the master accept each other's cookies without talking to each other.
 */
void sw_keyset_derive(struct sw_keyset *ks, const struct sw_sipkey *master, uint64_t epoch);
void sw_key_derive(struct sw_sipkey *out, const struct sw_sipkey *master, uint64_t epoch);

#endif
