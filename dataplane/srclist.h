/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source prefix lists: what synwall does with a client by its address. `deny` drops every IP
 * frame from the prefix that comes in on the outside port (counted); `allow` marks it as
 * exempt from the source limits (it is protected all the same). One global list, and lists
 * of their own for port ranges (the client's TCP destination port); the longest prefix
 * wins within a list, and a port's own list before the global one.
 *
 * All the lists are one set, built whole on the control thread (sw_srcset_build) and
 * published with the configuration (config.h: sw_config.src), replaced whole, never changed
 * in place. Whatever the number of lists, a frame costs one longest-prefix lookup: the set
 * keeps one table per address family (DPDK's rte_fib, DIR-24-8, and rte_fib6, a trie of
 * 8-bit strides past 24 bits) over the union of every list's prefixes, looked up a burst at a
 * time, and each of those prefixes carries, as its next hop, the index of a verdict
 * that says, for every list, what that list's longest prefix covering it decides. As the
 * prefixes that match an address are nested, the longest of them in the union is within the
 * longest of each list that matches, which is thus the longest of that list covering it:
 * one lookup answers for every list.
 */
#ifndef SW_SRCLIST_H
#define SW_SRCLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_fib.h>
#include <rte_fib6.h>

#include "parse.h"

/* lists in a set: the global one (0) and up to 63 of port ranges */
#define SW_SRCL_MAX      64
#define SW_SRC_NAMESIZE  32
/* prefixes in a set, all lists together */
#define SW_SRC_MAX_RULES (4u << 20)

enum sw_src_action {
	SW_SRC_NONE = 0,        /* no prefix of the list covers the address */
	SW_SRC_DENY = 1,
	SW_SRC_ALLOW = 2,
	SW_SRC_LIMIT = 3,       /* the global list's only: the prefix's SYNs share a bucket */
};

/* limit rules in a set, and their rates and bursts (SYNs a second) */
#define SW_SRC_MAX_LIMITS 65536u
#define SW_SRC_RATE_MAX   100000000u

/* One prefix of one list, as the set is built from. */
struct sw_src_rule {
	uint8_t addr[16];       /* network order; IPv4 in the first 4 bytes */
	uint8_t v6;
	uint8_t len;            /* 0..32 or 0..128; the bits past it must be 0 */
	uint8_t action;         /* SW_SRC_DENY, SW_SRC_ALLOW or SW_SRC_LIMIT */
	uint8_t list;           /* 0: global; else the index of a port range of the set */
	uint32_t rate;          /* SW_SRC_LIMIT: 1..SW_SRC_RATE_MAX SYNs a second */
	uint32_t burst;         /* SW_SRC_LIMIT: at once, 0..SW_SRC_RATE_MAX (0: the rate) */
};

/* A port range's list. */
struct sw_src_ports {
	uint16_t lo, hi;        /* 1 <= lo <= hi; a later range wins where they overlap */
};

/* For every list, whether its longest prefix covering the address denies or allows; and
 * whether the global list's limits it (then neither bit 0 is set). */
struct sw_src_verdict {
	uint64_t deny;          /* bit k: list k */
	uint64_t allow;
	uint32_t limit;         /* 0, or 1 + the index of the limit rule in the set's limits */
	uint32_t pad;
};

/* A limit rule's bucket, shared by every source of its prefix; each worker keeps its share
 * (srctab.h's arithmetic) in a time of its own. */
struct sw_src_limit {
	uint64_t t1;            /* ns between two SYNs at the whole rate */
	uint64_t whole;         /* ns the whole burst lasts at the whole rate */
};

struct sw_srcset {
	struct rte_fib *v4;             /* NULL: no IPv4 prefix longer than /0 */
	struct rte_fib6 *v6;            /* NULL: no IPv6 prefix longer than /0 */
	struct sw_src_verdict *verdict; /* by the tables' next hops; [0]: no list says a thing */
	uint32_t nverdicts;
	uint32_t miss4, miss6;          /* the verdict of an address no table entry covers:
					 * a /0's, or 0 */
	uint32_t rules4, rules6;        /* distinct prefixes, a /0 among them */
	uint64_t mem_bytes;             /* EAL memory the set took, tables and all */
	uint32_t nlists;                /* 1 + port ranges */
	uint32_t nlimits;               /* limit rules */
	struct sw_src_limit *limits;    /* [nlimits] */
	/* each worker's bucket times of the limits (ns), [worker * tat_stride + limit]: the
	 * one part of a set that changes once it is published, each worker its own lines */
	uint64_t *tat;
	uint32_t tat_stride;
	char name4[SW_SRC_NAMESIZE];    /* the tables' names in EAL's lists */
	char name6[SW_SRC_NAMESIZE];
	struct sw_src_ports ports[SW_SRCL_MAX];     /* [0] unused */
	uint8_t port_list[65536];       /* the list of each TCP destination port (0: global) */
};

/*
 * The set of rules[0..n) with the port ranges ranges[0..nranges) (list k = ranges[k - 1]),
 * its tables on `socket`: *out, or NULL when n is 0 (no lists). Returns 0, or -1 with why
 * (one line, naming the rule by its index) and nothing allocated.
 */
int sw_srcset_build(const struct sw_src_rule *rules, size_t n, const struct sw_src_ports *ranges,
		    uint32_t nranges, int socket, struct sw_srcset **out, char *why, size_t whylen);
void sw_srcset_free(struct sw_srcset *s);

/*
 * The rules of a text: one per line, `deny PREFIX [PORTS]` or `allow PREFIX [PORTS]`, PREFIX
 * an IPv4 or IPv6 address with a length (bits past it 0), PORTS a port or a range LO-HI (its
 * own list: lines with the same PORTS share one); `#` starts a comment. Returns the number of
 * rules (*rules, *ranges and *nranges malloc'd), or -1 with why naming the line.
 */
long sw_src_parse(const char *text, size_t len, struct sw_src_rule **rules,
		  struct sw_src_ports **ranges, uint32_t *nranges, char *why, size_t whylen);

/* The most a file of rules may hold: 4 M rules of a line each, with room for comments. */
#define SW_SRC_MAX_FILE (256u << 20)

/* The rules of the file at path (sw_src_parse); why starts with the path. */
long sw_src_read(const char *path, struct sw_src_rule **rules, struct sw_src_ports **ranges,
		 uint32_t *nranges, char *why, size_t whylen);

/* What the set decides for an address whose table lookup gave verdict index nh, in a frame
 * to TCP destination port dport (tcp), or not TCP. SW_SRC_LIMIT: *limit is 1 + the limit
 * rule's index. */
static inline enum sw_src_action
sw_srcset_decide_limit(const struct sw_srcset *s, uint64_t nh, int tcp, uint16_t dport,
		       uint32_t *limit)
{
	const struct sw_src_verdict *v = &s->verdict[nh];
	uint32_t k = tcp ? s->port_list[dport] : 0;

	if (!(((v->deny | v->allow) >> k) & 1))
		k = 0;
	*limit = v->limit;
	return ((v->deny >> k) & 1) ? SW_SRC_DENY :
	       ((v->allow >> k) & 1) ? SW_SRC_ALLOW :
	       (k == 0 && v->limit != 0) ? SW_SRC_LIMIT : SW_SRC_NONE;
}

static inline enum sw_src_action
sw_srcset_decide(const struct sw_srcset *s, uint64_t nh, int tcp, uint16_t dport)
{
	uint32_t limit;

	return sw_srcset_decide_limit(s, nh, tcp, dport, &limit);
}

/* Worker `worker` (of nworkers): one more SYN of limit rule limit (1 + its index) at now_ms;
 * true if within its rate. */
static inline bool
sw_srcset_limit_take(struct sw_srcset *s, uint32_t limit, unsigned int worker,
		     unsigned int nworkers, uint64_t now_ms)
{
	const struct sw_src_limit *l = &s->limits[limit - 1];
	uint64_t *tat = &s->tat[(size_t)worker * s->tat_stride + limit - 1];
	uint64_t now = now_ms * 1000000ull, at = *tat > now ? *tat : now;
	uint64_t t = l->t1 * (nworkers ? nworkers : 1);

	if (at - now + t > l->whole && at != now)
		return false;
	*tat = at + t;
	return true;
}

/* The verdict indexes of n IPv4 addresses (host order) and of n IPv6 addresses: one bulk
 * lookup each (the pipeline's per burst). Lock-free: the set never changes once
 * published. */
static inline void
sw_srcset_lookup4(const struct sw_srcset *s, uint32_t *ips, uint64_t *nh, unsigned int n)
{
	unsigned int i;

	if (s->v4 != NULL) {
		rte_fib_lookup_bulk(s->v4, ips, nh, (int)n);
		return;
	}
	for (i = 0; i < n; i++)
		nh[i] = s->miss4;
}

static inline void
sw_srcset_lookup6(const struct sw_srcset *s, uint8_t (*ips)[16], uint64_t *nh, unsigned int n)
{
	unsigned int i;

	if (s->v6 != NULL) {
		rte_fib6_lookup_bulk(s->v6, ips, nh, (int)n);
		return;
	}
	for (i = 0; i < n; i++)
		nh[i] = s->miss6;
}

/* The set's verdict for the client of one tuple (the syncache's timers, tests; the pipeline
 * looks a burst up). */
static inline enum sw_src_action
sw_srcset_lookup_tuple(const struct sw_srcset *s, const struct sw_tuple *t, int tcp)
{
	uint64_t nh;

	if (!t->v6) {
		uint32_t a;

		memcpy(&a, t->src, 4);
		a = rte_be_to_cpu_32(a);
		sw_srcset_lookup4(s, &a, &nh, 1);
	} else {
		uint8_t a[1][16];

		memcpy(a[0], t->src, 16);
		sw_srcset_lookup6(s, a, &nh, 1);
	}
	return sw_srcset_decide(s, nh, tcp, t->dport);
}

static inline enum sw_src_action
sw_srcset_lookup(const struct sw_srcset *s, const struct sw_pkt *pkt, int tcp)
{
	return sw_srcset_lookup_tuple(s, &pkt->t, tcp);
}

#endif
