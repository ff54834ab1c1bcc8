/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source prefix lists (srclist.h): the text form and its errors, a set's verdicts where
 * prefixes nest and where port ranges have lists of their own, a /0, IPv6, and refusals; then
 * random sets checked address by address against a linear scan of their rules (the longest
 * prefix of the port's list, else of the global one). rte_fib allocates from EAL's memory:
 * the one unit test with an EAL (--no-huge, no PCI).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "config.h"
#include "srclist.h"
#include "sw_test.h"

static struct sw_srcset *
build_text(const char *text, char *why, size_t whylen)
{
	struct sw_src_rule *rules;
	struct sw_src_ports *ranges;
	struct sw_srcset *s = NULL;
	uint32_t nranges;
	long n = sw_src_parse(text, strlen(text), &rules, &ranges, &nranges, why, whylen);

	if (n < 0)
		return NULL;
	if (sw_srcset_build(rules, (size_t)n, ranges, nranges, SOCKET_ID_ANY, &s, why,
			    whylen) != 0)
		s = NULL;
	free(rules);
	free(ranges);
	return s;
}

static struct sw_pkt
pkt_from(const char *addr, uint16_t dport)
{
	struct sw_pkt p;

	memset(&p, 0, sizeof(p));
	if (inet_pton(AF_INET, addr, p.t.src) == 1) {
		p.t.v6 = 0;
	} else {
		REQUIRE(inet_pton(AF_INET6, addr, p.t.src) == 1);
		p.t.v6 = 1;
	}
	p.t.dport = dport;
	return p;
}

static enum sw_src_action
verdict(const struct sw_srcset *s, const char *addr, int port)
{
	struct sw_pkt p = pkt_from(addr, (uint16_t)(port < 0 ? 0 : port));

	return sw_srcset_lookup(s, &p, port >= 0);
}

static void
test_parse_errors(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "deny 198.18.200.0/24\npermit 198.18.1.0/24\n",
		  "line 2: \"permit\": not deny, allow or limit" },
		{ "deny 198.18.200.0\n", "line 1: \"198.18.200.0\" is not a prefix" },
		{ "deny 198.18.200.0/33\n", "line 1: \"198.18.200.0/33\" is not a prefix" },
		{ "deny 198.18.200.1/24\n", "line 1: \"198.18.200.1/24\" has bits set past its length" },
		{ "allow 2001:2::1/64\n", "line 1: \"2001:2::1/64\" has bits set past its length" },
		{ "deny 198.18.300.0/24\n", "is not a prefix" },
		{ "deny 198.18.200.0/24 0\n", "line 1: \"0\" is not a port or a range" },
		{ "deny 198.18.200.0/24 90-80\n", "is not a port or a range" },
		{ "deny 198.18.200.0/24 65536\n", "is not a port or a range" },
		{ "deny 198.18.200.0/24 80 443\n", "line 1: \"443\" after the rule" },
		{ "deny 198.18.200.0/-1\n", "is not a prefix" },
		{ "deny\n", "is not a prefix" },
	};
	static const char nul[] = "deny 198.18.200.0/24\0junk\n";
	struct sw_src_rule *rules;
	struct sw_src_ports *ranges;
	uint32_t nranges, i;
	char why[200];
	long n;

	for (i = 0; i < RTE_DIM(bad); i++) {
		SW_CTX("%s", bad[i].text);
		why[0] = '\0';
		n = sw_src_parse(bad[i].text, strlen(bad[i].text), &rules, &ranges, &nranges, why,
				 sizeof(why));
		CHECK_EQ(n, -1);
		CHECK_MSG(strstr(why, bad[i].why) != NULL, "why \"%s\"", why);
		CHECK(rules == NULL && ranges == NULL);
	}
	SW_CTX("a NUL inside a word");
	n = sw_src_parse(nul, sizeof(nul) - 1, &rules, &ranges, &nranges, why, sizeof(why));
	CHECK_EQ(n, -1);
	CHECK_MSG(strstr(why, "line 1: ") != NULL && strstr(why, "is not a prefix") != NULL,
		  "why \"%s\"", why);
	SW_CTX("comments, blanks, ranges shared");
	{
		const char *t = "# a list\n\n  deny 198.18.200.0/24   # flooders\nallow "
				"2001:2::/48 80\r\ndeny 198.18.201.0/24 80\ndeny 198.18.202.0/24 "
				"22-23\n";

		n = sw_src_parse(t, strlen(t), &rules, &ranges, &nranges, why, sizeof(why));
		CHECK_EQ(n, 4);
		CHECK_EQ(nranges, 2);
		if (n == 4 && nranges == 2) {
			CHECK(rules[0].action == SW_SRC_DENY && rules[0].list == 0 &&
			      rules[0].len == 24 && !rules[0].v6);
			CHECK(rules[1].action == SW_SRC_ALLOW && rules[1].list == 1 &&
			      rules[1].v6 && rules[1].len == 48);
			CHECK(rules[2].list == 1 && rules[3].list == 2);
			CHECK(ranges[0].lo == 80 && ranges[0].hi == 80);
			CHECK(ranges[1].lo == 22 && ranges[1].hi == 23);
		}
		free(rules);
		free(ranges);
	}
}

static void
test_verdicts(void)
{
	char why[200] = "";
	struct sw_srcset *s = build_text(
		"deny 198.18.200.0/24\n"
		"allow 198.18.200.128/25\n"
		"deny 198.18.200.130/32\n"
		"allow 198.18.200.0/24 22\n"
		"deny 198.18.201.0/24 8000-8080\n"
		"deny 2001:2::/48\n"
		"allow 2001:2:0:1::/64\n"
		"deny 2001:2:0:1::5/128 443\n", why, sizeof(why));

	SW_CTX("nested, ports, IPv6");
	CHECK_MSG(s != NULL, "%s", why);
	if (s == NULL)
		return;
	CHECK_EQ(s->rules4, 4);      /* 198.18.200.0/24 is in two lists: one entry */
	CHECK_EQ(s->rules6, 3);
	CHECK_EQ(s->nlists, 4);      /* the global list and three of ports */
	CHECK_EQ(verdict(s, "198.18.200.1", 80), SW_SRC_DENY);
	CHECK_EQ(verdict(s, "198.18.200.1", -1), SW_SRC_DENY);     /* not TCP: global */
	CHECK_EQ(verdict(s, "198.18.200.200", 80), SW_SRC_ALLOW);  /* the /25 within */
	CHECK_EQ(verdict(s, "198.18.200.130", 80), SW_SRC_DENY);   /* the /32 within that */
	CHECK_EQ(verdict(s, "198.18.199.255", 80), SW_SRC_NONE);
	/* port 22's own list: its /24 allows, also where the global list's /32 denies */
	CHECK_EQ(verdict(s, "198.18.200.1", 22), SW_SRC_ALLOW);
	CHECK_EQ(verdict(s, "198.18.200.130", 22), SW_SRC_ALLOW);
	/* a port list that says nothing of an address leaves it to the global one */
	CHECK_EQ(verdict(s, "198.18.200.1", 8000), SW_SRC_DENY);
	CHECK_EQ(verdict(s, "198.18.201.9", 8080), SW_SRC_DENY);
	CHECK_EQ(verdict(s, "198.18.201.9", 8081), SW_SRC_NONE);
	CHECK_EQ(verdict(s, "198.18.201.9", -1), SW_SRC_NONE);
	CHECK_EQ(verdict(s, "2001:2::9", 80), SW_SRC_DENY);
	CHECK_EQ(verdict(s, "2001:2:0:1::9", 80), SW_SRC_ALLOW);
	CHECK_EQ(verdict(s, "2001:2:0:1::5", 80), SW_SRC_ALLOW);
	CHECK_EQ(verdict(s, "2001:2:0:1::5", 443), SW_SRC_DENY);
	CHECK_EQ(verdict(s, "2001:2:1::1", 80), SW_SRC_NONE);
	sw_srcset_free(s);

	SW_CTX("a /0 both ways");
	s = build_text("deny 0.0.0.0/0\nallow 198.18.0.0/16\ndeny ::/0\nallow 2001:2::/48 80\n",
		       why, sizeof(why));
	CHECK_MSG(s != NULL, "%s", why);
	if (s != NULL) {
		CHECK_EQ(s->rules4, 2);       /* the /0 among them */
		CHECK_EQ(verdict(s, "198.19.1.1", 80), SW_SRC_DENY);
		CHECK_EQ(verdict(s, "198.18.1.1", 80), SW_SRC_ALLOW);
		CHECK_EQ(verdict(s, "2001:2::1", 80), SW_SRC_ALLOW);
		CHECK_EQ(verdict(s, "2001:2::1", 81), SW_SRC_DENY);
		sw_srcset_free(s);
	}

	SW_CTX("only IPv6: IPv4 untouched");
	s = build_text("deny 2001:2::/32\n", why, sizeof(why));
	CHECK(s != NULL && s->v4 == NULL && s->miss4 == 0);
	if (s != NULL) {
		CHECK_EQ(verdict(s, "198.18.1.1", 80), SW_SRC_NONE);
		sw_srcset_free(s);
	}

	SW_CTX("the same prefix twice in one list");
	s = build_text("deny 198.18.5.0/24\nallow 198.18.5.0/24 80\ndeny 198.18.5.0/24\n", why,
		       sizeof(why));
	CHECK(s != NULL);       /* alike twice, and another list: fine */
	sw_srcset_free(s);
	why[0] = '\0';
	s = build_text("deny 198.18.5.0/24\nallow 198.18.6.0/24\nallow 198.18.5.0/24\n", why,
		       sizeof(why));
	CHECK(s == NULL);
	CHECK_MSG(strcmp(why, "rules 0 and 2: the same prefix in the same list, one deny and "
			 "one allow") == 0, "why \"%s\"", why);
	sw_srcset_free(s);
}

static void
test_refusals(void)
{
	struct sw_src_rule r = { .addr = { 198, 18, 1, 1 }, .len = 24, .action = SW_SRC_DENY };
	struct sw_src_ports ports = { 90, 80 }, good_ports = { 80, 90 };
	struct sw_srcset *s = (void *)1;
	char why[200];

	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(s == NULL && strstr(why, "rule 0: the address has bits set past") != NULL);
	r.addr[3] = 0;
	r.addr[9] = 1;          /* past an IPv4 address: a rule's bytes are all compared */
	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "rule 0: the address has bits set past") != NULL);
	r.addr[9] = 0;
	r.action = 7;
	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "rule 0: action 7") != NULL);
	r.action = SW_SRC_LIMIT;
	r.rate = 0;
	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "rule 0: rate 0 and burst 0 must be 1..") != NULL);
	r.rate = 5;
	r.list = 1;
	CHECK_EQ(sw_srcset_build(&r, 1, &good_ports, 1, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "rule 0: a limit is the global list's") != NULL);
	r.action = SW_SRC_DENY;
	r.rate = 0;
	r.list = 1;
	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "rule 0: list 1 of 0") != NULL);
	CHECK_EQ(sw_srcset_build(&r, 1, &ports, 1, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "port range 0: 90-80") != NULL);
	r.len = 33;
	r.list = 0;
	CHECK_EQ(sw_srcset_build(&r, 1, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), -1);
	CHECK(strstr(why, "a prefix length of 33 bits") != NULL);
	CHECK_EQ(sw_srcset_build(NULL, 0, NULL, 0, SOCKET_ID_ANY, &s, why, sizeof(why)), 0);
	CHECK(s == NULL);
}

/* The limit rule of an address: 1 + its index among the set's limits, or 0. */
static uint32_t
limit_of(const struct sw_srcset *s, const char *addr, int port)
{
	struct sw_pkt p = pkt_from(addr, (uint16_t)(port < 0 ? 0 : port));
	uint64_t nh;
	uint32_t a, limit;

	REQUIRE(!p.t.v6);
	memcpy(&a, p.t.src, 4);
	a = rte_be_to_cpu_32(a);
	sw_srcset_lookup4(s, &a, &nh, 1);
	return sw_srcset_decide_limit(s, nh, port >= 0, p.t.dport, &limit) == SW_SRC_LIMIT ?
	       limit : 0;
}

/* `limit PREFIX RATE [BURST]`: the global list's third action, the longest prefix winning
 * among all three; a port's own list first; each limit a bucket of its own, each worker its
 * share; the text refused where it is not a rate. */
static void
test_limits(void)
{
	struct sw_srcset *s;
	char why[200];
	unsigned int i, ok;

	SW_CTX("limit rules");
	s = build_text("allow 198.18.0.0/16\n"
		       "limit 198.18.200.0/24 10 5\n"
		       "deny 198.18.200.66/32\n"
		       "limit 198.18.200.128/25 1000\n"
		       "allow 198.18.200.0/24 22\n"
		       "limit 2001:2::/48 7\n", why, sizeof(why));
	CHECK_MSG(s != NULL, "%s", why);
	if (s == NULL)
		return;
	CHECK_EQ(s->nlimits, 3);
	CHECK_EQ(verdict(s, "198.18.1.1", 80), SW_SRC_ALLOW);
	CHECK_EQ(verdict(s, "198.18.200.1", 80), SW_SRC_LIMIT);
	CHECK_EQ(limit_of(s, "198.18.200.1", 80), 1);
	CHECK_EQ(limit_of(s, "198.18.200.1", -1), 1);   /* not TCP: the global list */
	CHECK_EQ(verdict(s, "198.18.200.66", 80), SW_SRC_DENY);
	CHECK_EQ(limit_of(s, "198.18.200.130", 80), 2);
	CHECK_EQ(verdict(s, "198.18.200.130", 22), SW_SRC_ALLOW);
	CHECK_EQ(verdict(s, "2001:2::1", 80), SW_SRC_LIMIT);
	CHECK_EQ(verdict(s, "2001:2:1::1", 80), SW_SRC_NONE);
	/* 10 a second, 5 at once: worker 0 of 1 */
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srcset_limit_take(s, 1, 0, 1, 1000);
	CHECK_EQ(ok, 5);
	CHECK(!sw_srcset_limit_take(s, 1, 0, 1, 1099));
	CHECK(sw_srcset_limit_take(s, 1, 0, 1, 1100));
	/* another worker has its own time: of 2, each half the burst and rate */
	for (i = 0, ok = 0; i < 20; i++)
		ok += sw_srcset_limit_take(s, 1, 1, 2, 1000);
	CHECK_EQ(ok, 2);
	/* burst 0: the rate's worth */
	for (i = 0, ok = 0; i < 2000; i++)
		ok += sw_srcset_limit_take(s, 2, 0, 1, 1000);
	CHECK_EQ(ok, 1000);
	sw_srcset_free(s);

	s = build_text("limit 198.18.5.0/24 10\nlimit 198.18.5.0/24 10\n", why, sizeof(why));
	CHECK(s != NULL);       /* alike twice */
	sw_srcset_free(s);
	why[0] = '\0';
	s = build_text("limit 198.18.5.0/24 10\nlimit 198.18.5.0/24 11\n", why, sizeof(why));
	CHECK(s == NULL);
	CHECK_MSG(strcmp(why, "rules 0 and 1: the same prefix in the same list, with other "
			 "actions or rates") == 0, "why \"%s\"", why);
	s = build_text("deny 198.18.5.0/24\nlimit 198.18.5.0/24 11\n", why, sizeof(why));
	CHECK(s == NULL && strstr(why, "with other actions or rates") != NULL);

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "limit 198.18.0.0/16\n", "line 1: \"\" is not a rate of 1..100000000" },
		{ "limit 198.18.0.0/16 0\n", "line 1: \"0\" is not a rate of 1..100000000" },
		{ "limit 198.18.0.0/16 100000001\n", "line 1: \"100000001\" is not a rate" },
		{ "limit 198.18.0.0/16 10 0\n", "line 1: \"0\" is not a burst of 1..100000000" },
		{ "limit 198.18.0.0/16 10 8000-8080\n", "line 1: \"8000-8080\" is not a burst" },
		{ "limit 198.18.0.0/16 10 20 80\n", "line 1: \"80\" after the rule" },
		{ "limit 198.18.0.0/16 1e3\n", "line 1: \"1e3\" is not a rate" },
	};
	for (i = 0; i < RTE_DIM(bad); i++) {
		struct sw_src_rule *rules;
		struct sw_src_ports *ranges;
		uint32_t nranges;

		SW_CTX("%s", bad[i].text);
		why[0] = '\0';
		CHECK_EQ(sw_src_parse(bad[i].text, strlen(bad[i].text), &rules, &ranges, &nranges,
				      why, sizeof(why)), -1);
		CHECK_MSG(strncmp(why, bad[i].why, strlen(bad[i].why)) == 0, "why \"%s\"", why);
	}
	SW_CTX_CLEAR();
}

/* ---- random sets against a linear scan ---- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	return (uint32_t)(sw_rand(&rng) >> 32);
}

/* an address in 198.18.0.0/15 (or 2001:2::/48, a few /64s of it), near the rules' */
static void
random_addr(uint8_t v6, uint8_t *a)
{
	memset(a, 0, 16);
	if (!v6) {
		uint32_t x = 0xc6120000u | (rnd() & 0x1ffffu);

		x &= ~(rnd() & 0x3u ? 0u : 0xffu);
		a[0] = (uint8_t)(x >> 24);
		a[1] = (uint8_t)(x >> 16);
		a[2] = (uint8_t)(x >> 8);
		a[3] = (uint8_t)x;
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[3] = 0x02;
		a[7] = (uint8_t)(rnd() & 3);
		a[8] = (uint8_t)(rnd() & 1 ? 0 : rnd());
		a[15] = (uint8_t)(rnd() & 7);
	}
}

static void
clear_past(uint8_t *a, uint32_t len, uint32_t bits)
{
	uint32_t i;

	for (i = len; i < bits; i++)
		a[i >> 3] &= (uint8_t)~(0x80u >> (i & 7));
}

static enum sw_src_action
scan_list(const struct sw_src_rule *rules, size_t n, uint8_t list, const struct sw_pkt *p)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct sw_src_rule *r = &rules[i];
		uint8_t a[16];

		if (r->list != list || r->v6 != p->t.v6 || (best >= 0 && r->len <= rules[best].len))
			continue;
		memcpy(a, p->t.src, 16);
		clear_past(a, r->len, r->v6 ? 128 : 32);
		if (memcmp(a, r->addr, r->v6 ? 16 : 4) == 0)
			best = (int)i;
	}
	return best < 0 ? SW_SRC_NONE : (enum sw_src_action)rules[best].action;
}

static void
test_random_sets(void)
{
	static const struct sw_src_ports ports[3] = { { 22, 22 }, { 80, 90 }, { 85, 443 } };
	uint32_t round, i;

	for (round = 0; round < 12; round++) {
		size_t n = round < 4 ? 8 : round < 8 ? 300 : 4000;
		struct sw_src_rule *rules = calloc(n, sizeof(*rules));
		struct sw_srcset *s;
		char why[200];

		REQUIRE(rules != NULL);
		for (i = 0; i < n; i++) {
			struct sw_src_rule *r = &rules[i];
			uint32_t k;

			r->v6 = (uint8_t)(rnd() % 4 == 0);
			random_addr(r->v6, r->addr);
			r->len = r->v6 ? (uint8_t)(16 + rnd() % 113) : (uint8_t)(8 + rnd() % 25);
			clear_past(r->addr, r->len, r->v6 ? 128 : 32);
			r->action = rnd() & 1 ? SW_SRC_DENY : SW_SRC_ALLOW;
			r->list = (uint8_t)(rnd() % 4);
			if (r->list == 0 && rnd() % 3 == 0) {
				r->action = SW_SRC_LIMIT;
				r->rate = 1 + rnd() % 1000;
			}
			/* no conflicting duplicate: a second rule of a prefix and list copies the
			 * first one's action */
			for (k = 0; k < i; k++)
				if (rules[k].list == r->list && rules[k].v6 == r->v6 &&
				    rules[k].len == r->len && memcmp(rules[k].addr, r->addr, 16) == 0) {
					r->action = rules[k].action;
					r->rate = rules[k].rate;
				}
		}
		SW_CTX("round %u, %zu rules", round, n);
		why[0] = '\0';
		CHECK_MSG(sw_srcset_build(rules, n, ports, 3, SOCKET_ID_ANY, &s, why,
					  sizeof(why)) == 0, "%s", why);
		for (i = 0; s != NULL && i < 20000; i++) {
			struct sw_pkt p;
			uint16_t dport = (uint16_t)(rnd() % 500);
			int tcp = (int)(rnd() % 8 != 0);
			uint8_t list = 0;
			enum sw_src_action want;

			memset(&p, 0, sizeof(p));
			p.t.v6 = (uint8_t)(rnd() % 4 == 0);
			/* half the addresses inside some rule's prefix */
			if (rnd() & 1) {
				const struct sw_src_rule *r = &rules[rnd() % n];
				uint32_t b;

				p.t.v6 = r->v6;
				memcpy(p.t.src, r->addr, 16);
				for (b = r->len; b < (r->v6 ? 128u : 32u); b++)
					if (rnd() & 1)
						p.t.src[b >> 3] |= (uint8_t)(0x80u >> (b & 7));
			} else {
				random_addr(p.t.v6, p.t.src);
			}
			p.t.dport = dport;
			if (tcp) {
				uint32_t k;

				for (k = 0; k < 3; k++)
					if (dport >= ports[k].lo && dport <= ports[k].hi)
						list = (uint8_t)(k + 1);
			}
			want = list ? scan_list(rules, n, list, &p) : SW_SRC_NONE;
			if (want == SW_SRC_NONE)
				want = scan_list(rules, n, 0, &p);
			if (sw_srcset_lookup(s, &p, tcp) != want) {
				CHECK_MSG(0, "address %u.%u.%u.%u / %02x%02x..%02x v6 %u port %u tcp %d: "
					  "%d, want %d", p.t.src[0], p.t.src[1], p.t.src[2], p.t.src[3],
					  p.t.src[0], p.t.src[1], p.t.src[15], p.t.v6, dport, tcp,
					  sw_srcset_lookup(s, &p, tcp), want);
				break;
			}
			CHECK(1);
		}
		sw_srcset_free(s);
		free(rules);
	}
}

/* A set lives as long as a published version points at it: a copy shares it, and a publish
 * frees the old version's set only when the new one no longer points at it (its table's
 * name is gone from EAL's list then). */
static void
test_lifetime_in_configs(void)
{
	struct sw_cfg_domain d;
	struct sw_config *c = sw_cfg_new_default(), *n;
	char why[200], name1[SW_SRC_NAMESIZE], name2[SW_SRC_NAMESIZE];
	struct sw_srcset *first, *second;

	SW_CTX("sets in configurations");
	REQUIRE(c != NULL);
	first = build_text("deny 198.18.200.0/24\n", why, sizeof(why));
	second = build_text("deny 198.18.201.0/24\n", why, sizeof(why));
	REQUIRE(first != NULL && second != NULL);
	snprintf(name1, sizeof(name1), "%s", first->name4);
	snprintf(name2, sizeof(name2), "%s", second->name4);
	c->src = first;
	REQUIRE(sw_cfg_domain_init(&d, 1, c) == 0);
	n = sw_cfg_clone(d.current);             /* a change of something else */
	REQUIRE(n != NULL);
	sw_cfg_publish(&d, n);
	CHECK(d.current->src == first && rte_fib_find_existing(name1) == first->v4);
	CHECK_EQ(verdict(d.current->src, "198.18.200.1", 80), SW_SRC_DENY);
	n = sw_cfg_clone(d.current);             /* the lists replaced */
	REQUIRE(n != NULL);
	n->src = second;
	sw_cfg_publish(&d, n);
	CHECK(rte_fib_find_existing(name1) == NULL);
	CHECK(rte_fib_find_existing(name2) == second->v4);
	CHECK_EQ(verdict(d.current->src, "198.18.201.1", 80), SW_SRC_DENY);
	n = sw_cfg_clone(d.current);             /* the lists removed */
	REQUIRE(n != NULL);
	n->src = NULL;
	sw_cfg_publish(&d, n);
	CHECK(rte_fib_find_existing(name2) == NULL);
	n = sw_cfg_clone(d.current);
	REQUIRE(n != NULL);
	n->src = build_text("allow 2001:2::/48\n", why, sizeof(why));
	CHECK(n->src != NULL);
	sw_cfg_publish(&d, n);
	sw_cfg_domain_fini(&d);         /* frees the last one's set too */
}

int
main(void)
{
	char *argv[] = { "test_srclist", "--no-huge", "--no-pci", "-m", "512",
			 "--log-level=lib.eal:error", "--file-prefix=swtest_srclist", NULL };

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "test_srclist: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_parse_errors();
	test_verdicts();
	test_refusals();
	test_limits();
	test_random_sets();
	test_lifetime_in_configs();
	rte_eal_cleanup();
	return sw_test_done();
}
