/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies (docs/DATAPLANE.md, "The cookie"):
 *
 *   ISS = MAC24 << 8 | key << 7 | sack << 6 | ws << 3 | mss
 *
 * mss indexes {536, 1220, 1300, 1360, 1440, 1452, 1460, 8960} (largest <= the client's MSS,
 * index 0 if smaller), ws indexes {none, 0, 2, 4, 6, 7, 8, 10} (largest <= the client's
 * shift), key is the epoch's parity, MAC24 the top 24 bits of SipHash-2-4(secret[key], src
 * addr, dst addr, src port, dst port, client ISN, low byte). Valid for the current and the
 * previous epoch only. The tables are typed in here from the document.
 */
#include "cookie.h"
#include "sw_test.h"

static const uint16_t doc_mss[8] = { 536, 1220, 1300, 1360, 1440, 1452, 1460, 8960 };
static const int doc_ws[8] = { -1, 0, 2, 4, 6, 7, 8, 10 };     /* -1: not offered */

/* Index of the largest table MSS <= mss (index 0 if smaller than all). */
static unsigned int
doc_mss_index(int present, unsigned int mss)
{
	unsigned int i, best = 0;

	if (!present)
		mss = 536;              /* RFC 879 default when the SYN carries no MSS */
	for (i = 0; i < 8; i++)
		if (doc_mss[i] <= mss)
			best = i;
	return best;
}

/* Index of the largest table shift <= ws; 0 when not offered. */
static unsigned int
doc_ws_index(int present, unsigned int ws)
{
	unsigned int i, best = 0;

	if (!present)
		return 0;
	for (i = 1; i < 8; i++)
		if ((unsigned int)doc_ws[i] <= ws)
			best = i;
	return best;
}

static struct sw_sipkey
sipkey(uint64_t k0, uint64_t k1)
{
	struct sw_sipkey k = { k0, k1 };

	return k;
}

static void
tuple4(struct sw_tuple *t, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	memset(t, 0, sizeof(*t));
	t->src[0] = (uint8_t)(src >> 24);
	t->src[1] = (uint8_t)(src >> 16);
	t->src[2] = (uint8_t)(src >> 8);
	t->src[3] = (uint8_t)src;
	t->dst[0] = (uint8_t)(dst >> 24);
	t->dst[1] = (uint8_t)(dst >> 16);
	t->dst[2] = (uint8_t)(dst >> 8);
	t->dst[3] = (uint8_t)dst;
	t->sport = sport;
	t->dport = dport;
}

static void
tuple6(struct sw_tuple *t, uint8_t seed, uint16_t sport, uint16_t dport)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->v6 = 1;
	for (i = 0; i < 16; i++) {
		t->src[i] = (uint8_t)(0x20 + i * 7 + seed);
		t->dst[i] = (uint8_t)(0xfe - i * 3 - seed);
	}
	t->sport = sport;
	t->dport = dport;
}

/* MSS values to try: the table, one above and one below each, and the extremes. */
static const struct {
	int present;
	unsigned int mss;
} mss_cases[] = {
	{ 0, 0 }, { 1, 0 }, { 1, 1 }, { 1, 88 }, { 1, 535 }, { 1, 536 }, { 1, 537 },
	{ 1, 1000 }, { 1, 1219 }, { 1, 1220 }, { 1, 1221 }, { 1, 1299 }, { 1, 1300 },
	{ 1, 1301 }, { 1, 1359 }, { 1, 1360 }, { 1, 1361 }, { 1, 1439 }, { 1, 1440 },
	{ 1, 1441 }, { 1, 1451 }, { 1, 1452 }, { 1, 1453 }, { 1, 1459 }, { 1, 1460 },
	{ 1, 1461 }, { 1, 4000 }, { 1, 8959 }, { 1, 8960 }, { 1, 8961 }, { 1, 9000 },
	{ 1, 65535 },
};

static void
test_round_trip(void)
{
	struct sw_sipkey master = sipkey(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
	unsigned int mc, ws, sack, v6, epoch;
	unsigned int n = 0;

	for (epoch = 40; epoch <= 41; epoch++) {
		struct sw_keyset ks;

		sw_keyset_derive(&ks, &master, epoch);
		CHECK_EQ(ks.epoch, epoch);
		for (v6 = 0; v6 <= 1; v6++)
		for (mc = 0; mc < sizeof(mss_cases) / sizeof(mss_cases[0]); mc++)
		for (ws = 0; ws <= 15; ws++)            /* 15: not offered */
		for (sack = 0; sack <= 1; sack++) {
			struct sw_tcpopts syn;
			struct sw_cookie_opts o, d;
			struct sw_tuple t;
			unsigned int mi, wi;
			uint32_t irs = 0x9e3779b9u * (n + 1), c, low;

			n++;
			if (v6)
				tuple6(&t, (uint8_t)n, (uint16_t)(1024 + n), 443);
			else
				tuple4(&t, 0xc6336400u + n, 0xcb007107u, (uint16_t)(1024 + n), 80);
			memset(&syn, 0, sizeof(syn));
			if (mss_cases[mc].present) {
				syn.present |= SW_OPT_MSS;
				syn.mss = (uint16_t)mss_cases[mc].mss;
			}
			if (ws <= 14) {
				syn.present |= SW_OPT_WS;
				syn.wscale = (uint8_t)ws;
			}
			if (sack)
				syn.present |= SW_OPT_SACKOK;
			/* Timestamps are not carried by the cookie and change nothing. */
			syn.present |= SW_OPT_TS;
			syn.tsval = 12345;

			SW_CTX("epoch %u v6 %u mss %s%u ws %s%u sack %u", epoch, v6,
			       mss_cases[mc].present ? "" : "absent/", mss_cases[mc].mss,
			       ws <= 14 ? "" : "absent/", ws, sack);

			mi = doc_mss_index(mss_cases[mc].present, mss_cases[mc].mss);
			wi = doc_ws_index(ws <= 14, ws);

			memset(&o, 0xaa, sizeof(o));
			sw_cookie_opts_from_syn(&syn, &o);
			CHECK_EQ(o.mss, doc_mss[mi]);
			CHECK_EQ(o.wscale, wi == 0 ? SW_COOKIE_WS_NONE : (unsigned int)doc_ws[wi]);
			CHECK_EQ(o.sack, sack);

			c = sw_cookie_make(&ks, &t, irs, &o);
			low = (epoch & 1) << 7 | sack << 6 | wi << 3 | mi;
			CHECK_EQ(c & 0xff, low);

			memset(&d, 0x55, sizeof(d));
			CHECK(sw_cookie_check(&ks, &t, irs, c, &d));
			CHECK_EQ(d.mss, o.mss);
			CHECK_EQ(d.wscale, o.wscale);
			CHECK_EQ(d.sack, o.sack);

			/* MAC24 is the top 24 bits of SipHash-2-4 over src, dst, sport, dport,
			 * irs, low byte (ports and ISN in network byte order: the document does
			 * not say, this pins the wire format a fleet shares). */
			{
				uint8_t m[16 + 16 + 2 + 2 + 4 + 1];
				unsigned int al = v6 ? 16 : 4, k = 0;

				memcpy(m + k, t.src, al);
				k += al;
				memcpy(m + k, t.dst, al);
				k += al;
				m[k++] = (uint8_t)(t.sport >> 8);
				m[k++] = (uint8_t)t.sport;
				m[k++] = (uint8_t)(t.dport >> 8);
				m[k++] = (uint8_t)t.dport;
				m[k++] = (uint8_t)(irs >> 24);
				m[k++] = (uint8_t)(irs >> 16);
				m[k++] = (uint8_t)(irs >> 8);
				m[k++] = (uint8_t)irs;
				m[k++] = (uint8_t)low;
				CHECK_EQ(c >> 8,
					 sw_siphash24(&ks.key[epoch & 1], m, k) >> 40);
			}
		}
	}
	SW_CTX_CLEAR();
}

/* Every single-field change makes the cookie invalid. */
static void
test_mac_covers_everything(void)
{
	struct sw_sipkey master = sipkey(0x1111222233334444ULL, 0x5555666677778888ULL);
	unsigned int v6, i, bit, epoch;

	for (epoch = 7; epoch <= 8; epoch++)
	for (v6 = 0; v6 <= 1; v6++) {
		struct sw_keyset ks;
		struct sw_tcpopts syn = { .present = SW_OPT_MSS | SW_OPT_WS | SW_OPT_SACKOK,
					  .mss = 1460, .wscale = 7 };
		struct sw_cookie_opts o, d;
		struct sw_tuple t, t2;
		uint32_t irs = 0x01020304, c;
		unsigned int alen = v6 ? 16 : 4;

		sw_keyset_derive(&ks, &master, epoch);
		if (v6)
			tuple6(&t, 3, 51000, 8443);
		else
			tuple4(&t, 0x0a000001, 0x0a000102, 51000, 8443);
		sw_cookie_opts_from_syn(&syn, &o);
		c = sw_cookie_make(&ks, &t, irs, &o);
		REQUIRE(sw_cookie_check(&ks, &t, irs, c, &d));

		for (i = 0; i < alen; i++) {
			static const uint8_t flips[] = { 0x01, 0x80, 0xff };
			unsigned int f;

			for (f = 0; f < sizeof(flips); f++) {
				t2 = t;
				t2.src[i] ^= flips[f];
				SW_CTX("epoch %u v6 %u src byte %u ^ %02x", epoch, v6, i, flips[f]);
				CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));
				t2 = t;
				t2.dst[i] ^= flips[f];
				SW_CTX("epoch %u v6 %u dst byte %u ^ %02x", epoch, v6, i, flips[f]);
				CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));
			}
		}
		/* src and dst swapped (the SYN-ACK's own direction) */
		t2 = t;
		memcpy(t2.src, t.dst, 16);
		memcpy(t2.dst, t.src, 16);
		SW_CTX("epoch %u v6 %u addresses swapped", epoch, v6);
		CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));
		t2 = t;
		t2.sport = t.dport;
		t2.dport = t.sport;
		SW_CTX("epoch %u v6 %u ports swapped", epoch, v6);
		CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));

		for (bit = 0; bit < 16; bit++) {
			t2 = t;
			t2.sport ^= (uint16_t)(1u << bit);
			SW_CTX("epoch %u v6 %u sport bit %u", epoch, v6, bit);
			CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));
			t2 = t;
			t2.dport ^= (uint16_t)(1u << bit);
			SW_CTX("epoch %u v6 %u dport bit %u", epoch, v6, bit);
			CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));
		}
		for (bit = 0; bit < 32; bit++) {
			SW_CTX("epoch %u v6 %u irs bit %u", epoch, v6, bit);
			CHECK(!sw_cookie_check(&ks, &t, irs ^ (1u << bit), c, &d));
			SW_CTX("epoch %u v6 %u cookie bit %u", epoch, v6, bit);
			CHECK(!sw_cookie_check(&ks, &t, irs, c ^ (1u << bit), &d));
		}
		/* irs + 1 and cookie + 1 (off-by-one handling in a caller) */
		SW_CTX("epoch %u v6 %u irs+1 / cookie+1", epoch, v6);
		CHECK(!sw_cookie_check(&ks, &t, irs + 1, c, &d));
		CHECK(!sw_cookie_check(&ks, &t, irs, c + 1, &d));
		CHECK(!sw_cookie_check(&ks, &t, irs, c - 1, &d));

		/* The address family is part of the message. */
		t2 = t;
		t2.v6 = (uint8_t)!v6;
		SW_CTX("epoch %u v6 %u family flipped", epoch, v6);
		CHECK(!sw_cookie_check(&ks, &t2, irs, c, &d));

		/* For IPv4 only the first 4 address bytes count (sw_tuple's contract). */
		if (!v6) {
			t2 = t;
			memset(t2.src + 4, 0xee, 12);
			memset(t2.dst + 4, 0x77, 12);
			SW_CTX("epoch %u IPv4 with junk past the 4 address bytes", epoch);
			CHECK(sw_cookie_check(&ks, &t2, irs, c, &d));
			CHECK_EQ(sw_cookie_make(&ks, &t2, irs, &o), c);
		}
	}
	SW_CTX_CLEAR();
}

static void
test_epochs(void)
{
	struct sw_sipkey master = sipkey(0xa5a5a5a5deadbeefULL, 0x0badc0de12345678ULL);
	struct sw_sipkey other = sipkey(0xa5a5a5a5deadbeefULL, 0x0badc0de12345679ULL);
	static const uint64_t epochs[] = { 2, 3, 1000, 1001, 123456789ULL, 0xfffffffffffffffeULL };
	unsigned int ei, k;

	for (ei = 0; ei < sizeof(epochs) / sizeof(epochs[0]); ei++) {
		uint64_t e = epochs[ei];
		struct sw_keyset now, prev, prev2, next, again, foreign;

		sw_keyset_derive(&now, &master, e);
		sw_keyset_derive(&prev, &master, e - 1);
		sw_keyset_derive(&prev2, &master, e - 2);
		sw_keyset_derive(&next, &master, e + 1);
		sw_keyset_derive(&again, &master, e);
		sw_keyset_derive(&foreign, &other, e);

		/* Fleet property: same master and epoch, same keys, on any appliance. */
		SW_CTX("epoch %" PRIu64, e);
		CHECK_MEM(&again, &now, sizeof(now));
		/* key[e & 1] is epoch e's secret, key[(e-1) & 1] epoch e-1's. */
		{
			struct sw_sipkey ke, kp;

			sw_key_derive(&ke, &master, e);
			sw_key_derive(&kp, &master, e - 1);
			CHECK_MEM(&now.key[e & 1], &ke, sizeof(ke));
			CHECK_MEM(&now.key[(e - 1) & 1], &kp, sizeof(kp));
			CHECK(memcmp(&ke, &kp, sizeof(ke)) != 0);
			/* Rotation keeps the previous current key. */
			CHECK_MEM(&next.key[e & 1], &now.key[e & 1], sizeof(ke));
		}
		CHECK(memcmp(&foreign.key[0], &now.key[0], sizeof(now.key[0])) != 0);
		CHECK(memcmp(&foreign.key[1], &now.key[1], sizeof(now.key[1])) != 0);

		for (k = 0; k < 64; k++) {
			struct sw_tuple t;
			struct sw_cookie_opts o = { .mss = 1460, .wscale = 7, .sack = 1 }, d;
			uint32_t irs = 0x7f000000u + k * 0x01010101u;
			uint32_t c_now, c_prev, c_prev2, c_next;

			if (k & 1)
				tuple6(&t, (uint8_t)k, (uint16_t)(30000 + k), 443);
			else
				tuple4(&t, 0xc0a80000u + k, 0xc0a80101u, (uint16_t)(30000 + k), 80);
			SW_CTX("epoch %" PRIu64 " tuple %u", e, k);
			c_now = sw_cookie_make(&now, &t, irs, &o);
			c_prev = sw_cookie_make(&prev, &t, irs, &o);
			c_prev2 = sw_cookie_make(&prev2, &t, irs, &o);
			c_next = sw_cookie_make(&next, &t, irs, &o);
			CHECK_EQ((c_now >> 7) & 1, e & 1);
			CHECK_EQ((c_prev >> 7) & 1, (e - 1) & 1);

			CHECK(sw_cookie_check(&now, &t, irs, c_now, &d));
			CHECK(sw_cookie_check(&now, &t, irs, c_prev, &d));
			CHECK(!sw_cookie_check(&now, &t, irs, c_prev2, &d));
			/* a cookie of a future epoch is not valid either */
			CHECK(!sw_cookie_check(&now, &t, irs, c_next, &d));
			/* the next epoch still takes this one's cookies */
			CHECK(sw_cookie_check(&next, &t, irs, c_now, &d));
			/* another appliance with the same master takes them */
			CHECK(sw_cookie_check(&again, &t, irs, c_now, &d));
			/* a different master does not */
			CHECK(!sw_cookie_check(&foreign, &t, irs, c_now, &d));
			CHECK(!sw_cookie_check(&foreign, &t, irs, c_prev, &d));
		}
	}
	SW_CTX_CLEAR();

	/* Keysets built by hand (--key): both slots used by parity. */
	{
		struct sw_keyset ks = { .key = { { 1, 2 }, { 3, 4 } }, .epoch = 5 };
		struct sw_keyset swapped = ks;
		struct sw_cookie_opts o = { .mss = 536, .wscale = SW_COOKIE_WS_NONE, .sack = 0 }, d;
		struct sw_tuple t;
		uint32_t c;

		tuple4(&t, 0x01020304, 0x05060708, 1, 2);
		c = sw_cookie_make(&ks, &t, 99, &o);
		CHECK_EQ(c & 0xff, 0x80);       /* key 1, no sack, no ws, mss index 0 */
		CHECK(sw_cookie_check(&ks, &t, 99, c, &d));
		swapped.key[0] = ks.key[1];
		swapped.key[1] = ks.key[0];
		CHECK(!sw_cookie_check(&swapped, &t, 99, c, &d));
	}
}

int
main(void)
{
	/* The tables the header exports are the document's. */
	unsigned int i;

	for (i = 0; i < 8; i++) {
		SW_CTX("table index %u", i);
		CHECK_EQ(sw_cookie_mss_table[i], doc_mss[i]);
		CHECK_EQ(sw_cookie_ws_table[i],
			 doc_ws[i] < 0 ? SW_COOKIE_WS_NONE : (unsigned int)doc_ws[i]);
	}
	SW_CTX_CLEAR();

	test_round_trip();
	test_mac_covers_everything();
	test_epochs();
	return sw_test_done();
}
