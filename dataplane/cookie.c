/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>

#include "cookie.h"

/* Common MSS values (RFC 879 minimum, IPv6 minimum path, tunnels, Ethernet, jumbo). */
const uint16_t sw_cookie_mss_table[SW_COOKIE_NMSS] = {
	536, 1220, 1300, 1360, 1440, 1452, 1460, 8960
};

/* Window-scale shifts clients really send (Linux 7 and up, Windows 8, macOS 6). */
const uint8_t sw_cookie_ws_table[SW_COOKIE_NWS] = {
	SW_COOKIE_WS_NONE, 0, 2, 4, 6, 7, 8, 10
};

void
sw_cookie_opts_from_syn(const struct sw_tcpopts *syn, struct sw_cookie_opts *out)
{
	uint16_t mss = (syn->present & SW_OPT_MSS) ? syn->mss : 536;
	int i;

	out->mss_idx = 0;
	for (i = SW_COOKIE_NMSS - 1; i > 0; i--)
		if (sw_cookie_mss_table[i] <= mss) {
			out->mss_idx = (uint8_t)i;
			break;
		}
	out->mss = sw_cookie_mss_table[out->mss_idx];
	out->ws_idx = 0;
	/* Rounding the shift down is safe: the peer then under-estimates the window. */
	if (syn->present & SW_OPT_WS)
		for (i = SW_COOKIE_NWS - 1; i >= 1; i--)
			if (sw_cookie_ws_table[i] <= syn->wscale) {
				out->ws_idx = (uint8_t)i;
				break;
			}
	out->wscale = sw_cookie_ws_table[out->ws_idx];
	out->sack = (syn->present & SW_OPT_SACKOK) ? 1 : 0;
}

uint32_t
sw_cookie_low(const struct sw_keyset *ks, const struct sw_cookie_opts *o)
{
	uint32_t mi = o->mss_idx, wi = o->ws_idx, i;

	/* The values are what counts; the indexes (from sw_cookie_opts_from_syn) save the
	 * search when they agree with them. */
	if (mi >= SW_COOKIE_NMSS || sw_cookie_mss_table[mi] != o->mss)
		for (mi = 0, i = 0; i < SW_COOKIE_NMSS; i++)
			if (sw_cookie_mss_table[i] == o->mss)
				mi = i;
	if (wi >= SW_COOKIE_NWS || sw_cookie_ws_table[wi] != o->wscale)
		for (wi = 0, i = 1; i < SW_COOKIE_NWS; i++)
			if (sw_cookie_ws_table[i] == o->wscale)
				wi = i;
	return (uint32_t)(ks->epoch & 1) << 7 | (uint32_t)(o->sack ? 1 : 0) << 6 | wi << 3 | mi;
}

unsigned int
sw_cookie_msg(uint8_t buf[SW_COOKIE_MSG_MAX], const struct sw_tuple *t, uint32_t irs,
	      uint32_t low)
{
	/* Fixed-size copies and whole-word stores: it runs for every SYN and bare ACK. */
	uint32_t pi[2] = {
		rte_cpu_to_be_32((uint32_t)t->sport << 16 | t->dport),
		rte_cpu_to_be_32(irs),
	};
	unsigned int n;

	if (!t->v6) {
		memcpy(buf, t->src, 4);
		memcpy(buf + 4, t->dst, 4);
		n = 8;
	} else {
		memcpy(buf, t->src, 16);
		memcpy(buf + 16, t->dst, 16);
		n = 32;
	}
	memcpy(buf + n, pi, 8);
	buf[n + 8] = (uint8_t)low;
	return n + 9;
}

uint32_t
sw_cookie_mac(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs, uint32_t low)
{
	uint8_t buf[SW_COOKIE_MSG_MAX];
	unsigned int n = sw_cookie_msg(buf, t, irs, low);

	return sw_cookie_mac32(sw_siphash24(&ks->key[sw_cookie_key_slot(low)], buf, n));
}

uint32_t
sw_cookie_make(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
	       const struct sw_cookie_opts *o)
{
	uint32_t low = sw_cookie_low(ks, o);

	return (sw_cookie_mac(ks, t, irs, low) >> 8) << 8 | low;
}

void
sw_cookie_decode(uint32_t cookie, struct sw_cookie_opts *out)
{
	uint32_t low = cookie & 0xff;

	out->mss_idx = (uint8_t)(low & 7);
	out->ws_idx = (uint8_t)((low >> 3) & 7);
	out->mss = sw_cookie_mss_table[out->mss_idx];
	out->wscale = sw_cookie_ws_table[out->ws_idx];
	out->sack = (low >> 6) & 1;
}

bool
sw_cookie_check(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
		uint32_t cookie, struct sw_cookie_opts *out)
{
	uint32_t low = cookie & 0xff;

	if (sw_cookie_mac(ks, t, irs, low) >> 8 != cookie >> 8)
		return false;
	sw_cookie_decode(cookie, out);
	return true;
}

bool
sw_cookie_check_ts(const struct sw_keyset *ks, const struct sw_tuple *t, uint32_t irs,
		   uint32_t cookie, uint32_t tsecr, struct sw_cookie_opts *out)
{
	uint32_t low = cookie & 0xff;

	if (sw_cookie_mac(ks, t, irs, low) != ((cookie >> 8) << 8 | sw_cookie_ts_mac8(tsecr)))
		return false;
	sw_cookie_decode(cookie, out);
	return true;
}

void
sw_key_derive(struct sw_sipkey *out, const struct sw_sipkey *master, uint64_t epoch)
{
	static const char label[] = "synwall cookie key v1";
	uint8_t buf[sizeof(label) + 8 + 1];
	unsigned int i;

	memcpy(buf, label, sizeof(label));
	for (i = 0; i < 8; i++)
		buf[sizeof(label) + i] = (uint8_t)(epoch >> (8 * i));
	buf[sizeof(buf) - 1] = 0;
	out->k0 = sw_siphash24(master, buf, sizeof(buf));
	buf[sizeof(buf) - 1] = 1;
	out->k1 = sw_siphash24(master, buf, sizeof(buf));
}

void
sw_keyset_derive(struct sw_keyset *ks, const struct sw_sipkey *master, uint64_t epoch)
{
	ks->epoch = epoch;
	sw_key_derive(&ks->key[epoch & 1], master, epoch);
	sw_key_derive(&ks->key[(epoch - 1) & 1], master, epoch - 1);
}
