/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies. The ISS carries what the SYN offered, authenticated by a SipHash-2-4 MAC:
 *
 *   ISS = MAC24 << 8 | key << 7 | sack << 6 | ws << 3 | mss
 *
 * mss indexes sw_cookie_mss_table, ws indexes sw_cookie_ws_table (0: no window scale),
 * key is the parity of the epoch whose secret made the MAC. The MAC covers both addresses,
 * both ports (so a cookie opens only the port it was made for), the client's ISN and the
 * low byte above. It is the top 32 bits of the SipHash: MAC24 its first 24, and when the
 * SYN-ACK offers timestamps its TSval carries the other 8 (MAC8, sw_cookie_ts_mac8), so
 * that an ACK with timestamps is checked on all 32.
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
sw_cookie_mac32(uint64_t siphash)
{
	return (uint32_t)(siphash >> 32);
}
static inline uint32_t
sw_cookie_mac24(uint64_t siphash)
{
	return sw_cookie_mac32(siphash) >> 8;
}

/* MAC8 in a TSval of a SYN-ACK: above its low 4 bits, which say the window shift offered
 * (segment.h). */
#define SW_COOKIE_TS_SHIFT 4
static inline uint8_t
sw_cookie_ts_mac8(uint32_t tsval)
{
	return (uint8_t)(tsval >> SW_COOKIE_TS_SHIFT);
}

/* The MAC's 32 bits for (t, irs) and the cookie's low byte. */
uint32_t sw_cookie_mac(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
		       uint32_t low);
/* The options a (valid) cookie carries. */
void sw_cookie_decode(uint32_t cookie, struct sw_cookie_opts *out);

/* true when cookie is valid for (t, irs) under one of the two live secrets (its 24 bits of
 * MAC: an ACK without timestamps). */
bool sw_cookie_check(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
		     uint32_t cookie, struct sw_cookie_opts *out);
/* The same for an ACK with timestamps, whose TSecr echoes the SYN-ACK's TSval: all 32. */
bool sw_cookie_check_ts(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
			uint32_t cookie, uint32_t tsecr, struct sw_cookie_opts *out);

/*
 * Fleet keys: the secret of an epoch derives from a master secret, so that appliances
 * sharing the master accept each other's cookies without talking to each other.
 */
void sw_keyset_derive(struct sw_keyset *ks, const struct sw_sipkey *master, uint64_t epoch);
void sw_key_derive(struct sw_sipkey *out, const struct sw_sipkey *master, uint64_t epoch);

#endif
