/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source prefix lists (srclist.h): parsing, checking and building a set on the control
 * thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "srclist.h"
#include "sw_const.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static inline uint32_t
family_bits(uint8_t v6)
{
	return v6 ? 128 : 32;
}

/* Is bit i (from the most significant of byte 0) of addr set? */
static inline int
bit_at(const uint8_t *addr, uint32_t i)
{
	return (addr[i >> 3] >> (7 - (i & 7))) & 1;
}

/* No bit set past the prefix's length, up to the end of addr (an IPv4 rule's last 12 bytes
 * are 0 too: the rules are sorted by all 16). */
static int
host_bits_clear(const struct sw_src_rule *r)
{
	uint32_t i;

	for (i = r->len; i < 128; i++)
		if (bit_at(r->addr, i))
			return 0;
	return 1;
}

/* Does prefix (a, alen) contain prefix (b, blen) (both of one family)? */
static int
contains(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	uint32_t full = alen / 8, rest = alen % 8;

	if (alen > blen || memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff00u >> rest)) == 0;
}

static const struct sw_src_rule *sort_rules;

/* By family, then address, then length: a prefix comes after every prefix containing it. */
static int
rule_cmp(const void *x, const void *y)
{
	const struct sw_src_rule *a = &sort_rules[*(const uint32_t *)x];
	const struct sw_src_rule *b = &sort_rules[*(const uint32_t *)y];
	int c;

	if (a->v6 != b->v6)
		return a->v6 - b->v6;
	c = memcmp(a->addr, b->addr, 16);
	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len - b->len;
	return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/* ---- the verdicts, each kept once ---- */

struct verdicts {
	struct sw_src_verdict *v;
	uint32_t n, cap;
	uint32_t *slot;         /* open addressing: index + 1, 0 free */
	uint32_t mask;
};

static uint32_t
verdict_hash(const struct sw_src_verdict *v)
{
	uint64_t h = v->deny * 0x9e3779b97f4a7c15ull ^ v->allow * 0xc2b2ae3d27d4eb4full ^
		     v->limit * 0x165667b19e3779f9ull;

	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static int64_t
verdict_index(struct verdicts *vs, const struct sw_src_verdict *v)
{
	uint32_t i = verdict_hash(v) & vs->mask;

	while (vs->slot[i] != 0) {
		const struct sw_src_verdict *have = &vs->v[vs->slot[i] - 1];

		if (have->deny == v->deny && have->allow == v->allow && have->limit == v->limit)
			return vs->slot[i] - 1;
		i = (i + 1) & vs->mask;
	}
	if (vs->n == vs->cap)
		return -1;
	vs->v[vs->n] = *v;
	vs->slot[i] = ++vs->n;
	return vs->n - 1;
}

/* ---- the tables ---- */

static uint64_t set_seq;

struct walked {
	uint32_t rule;          /* the first rule of the prefix */
	uint32_t verdict;
};

struct open_prefix {
	const uint8_t *addr;
	uint32_t len;
	struct sw_src_verdict v;
};

/*
 * One family's rules, sorted (idx[0..n)): each distinct prefix's verdict, from the prefixes
 * containing it (a stack of them, innermost on top) and its own rules. out[] gets one entry
 * per distinct prefix; returns how many, or -1 with why.
 */
static long
walk(const struct sw_src_rule *rules, const uint32_t *idx, uint32_t n, const uint32_t *limit_of,
     struct verdicts *vs, struct walked *out, char *why, size_t whylen)
{
	struct open_prefix stack[130];
	uint32_t depth = 0, i = 0, nout = 0;

	while (i < n) {
		const struct sw_src_rule *p = &rules[idx[i]];
		struct sw_src_verdict v = { 0, 0, 0, 0 };
		uint32_t here_rule[SW_SRCL_MAX];
		uint64_t here = 0;
		uint32_t j;
		int64_t at;

		while (depth > 0 && !contains(stack[depth - 1].addr, stack[depth - 1].len,
					      p->addr, p->len))
			depth--;
		if (depth > 0)
			v = stack[depth - 1].v;
		for (j = i; j < n; j++) {
			const struct sw_src_rule *r = &rules[idx[j]];
			uint64_t bit = 1ull << r->list;

			if (r->len != p->len || memcmp(r->addr, p->addr, 16) != 0)
				break;
			if (here & bit) {
				const struct sw_src_rule *o = &rules[here_rule[r->list]];

				if (o->action == r->action && (r->action != SW_SRC_LIMIT ||
				    (o->rate == r->rate && o->burst == r->burst)))
					continue;       /* listed twice alike: once is enough */
				if (o->action != SW_SRC_LIMIT && r->action != SW_SRC_LIMIT)
					return fail(why, whylen, "rules %u and %u: the same prefix in "
						    "the same list, one deny and one allow",
						    here_rule[r->list], idx[j]);
				return fail(why, whylen, "rules %u and %u: the same prefix in the same "
					    "list, with other actions or rates", here_rule[r->list],
					    idx[j]);
			}
			here |= bit;
			here_rule[r->list] = idx[j];
			v.deny &= ~bit;
			v.allow &= ~bit;
			if (r->list == 0)
				v.limit = 0;
			if (r->action == SW_SRC_DENY)
				v.deny |= bit;
			else if (r->action == SW_SRC_ALLOW)
				v.allow |= bit;
			else
				v.limit = limit_of[idx[j]] + 1;
		}
		at = verdict_index(vs, &v);
		if (at < 0)
			return fail(why, whylen, "out of verdicts");    /* cap is rules + 1 */
		out[nout].rule = idx[i];
		out[nout++].verdict = (uint32_t)at;
		stack[depth].addr = p->addr;
		stack[depth].len = p->len;
		stack[depth++].v = v;
		i = j;
	}
	return nout;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
k17_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 17);
}

/* tbl8 groups the IPv4 prefixes need: one per distinct /24 holding a longer prefix. */
static uint32_t
tbl8s_v4(const struct sw_src_rule *rules, const struct walked *w, long n)
{
	uint32_t *keys = malloc(sizeof(*keys) * (size_t)(n > 0 ? n : 1));
	uint32_t k = 0, distinct = 0, i;
	long j;

	if (keys == NULL)
		return UINT32_MAX;
	for (j = 0; j < n; j++) {
		const struct sw_src_rule *r = &rules[w[j].rule];
		uint32_t a;

		if (r->len <= 24)
			continue;
		memcpy(&a, r->addr, 4);
		keys[k++] = rte_be_to_cpu_32(a) >> 8;
	}
	qsort(keys, k, sizeof(*keys), u32_cmp);
	for (i = 0; i < k; i++)
		distinct += i == 0 || keys[i] != keys[i - 1];
	free(keys);
	return distinct;
}

/* tbl8 groups the IPv6 prefixes need: one for each distinct first 24, 32, ... bits of a
 * prefix that is longer (rte_fib6's trie walks a byte a level past its first 24 bits). */
static uint64_t
tbl8s_v6(const struct sw_src_rule *rules, const struct walked *w, long n)
{
	size_t cap = 0, k = 0, i;
	uint8_t *keys;
	uint64_t distinct = 0;
	long j;

	for (j = 0; j < n; j++) {
		uint32_t len = rules[w[j].rule].len;

		if (len > 24)
			cap += (len - 24 + 7) / 8;
	}
	keys = malloc(17 * (cap > 0 ? cap : 1));
	if (keys == NULL)
		return UINT64_MAX;
	for (j = 0; j < n; j++) {
		const struct sw_src_rule *r = &rules[w[j].rule];
		uint32_t b;

		for (b = 24; b < r->len; b += 8) {
			uint8_t *key = keys + 17 * k++;

			memset(key, 0, 17);
			memcpy(key, r->addr, b / 8);
			key[16] = (uint8_t)b;
		}
	}
	qsort(keys, k, 17, k17_cmp);
	for (i = 0; i < k; i++)
		distinct += i == 0 || memcmp(keys + 17 * i, keys + 17 * (i - 1), 17) != 0;
	free(keys);
	return distinct;
}

/* One family's table: its distinct prefixes w[0..n) and their verdicts. A prefix of length
 * 0 is no table entry but the table's default next hop, the verdict of a miss. */
static int
table(struct sw_srcset *s, const struct sw_src_rule *rules, const struct walked *w, long n,
      uint8_t v6, int socket, char *why, size_t whylen)
{
	char *name = v6 ? s->name6 : s->name4;
	uint32_t miss = 0;
	long j, first = 0;
	int rc, routes;

	if (n > 0 && rules[w[0].rule].len == 0) {
		miss = w[0].verdict;
		first = 1;
	}
	(v6 ? &s->miss6 : &s->miss4)[0] = miss;
	(v6 ? &s->rules6 : &s->rules4)[0] = (uint32_t)n;
	if (n - first == 0)
		return 0;
	/* the tables keep their prefixes in a RIB, a binary trie whose branch nodes count too:
	 * 2n - 1 nodes at most for n prefixes */
	routes = (int)(2 * (n - first) + 1);
	snprintf(name, SW_SRC_NAMESIZE, "sw_src%u_%" PRIu64, v6 ? 6 : 4, ++set_seq);
	if (!v6) {
		uint32_t groups = tbl8s_v4(rules, w + first, n - first);
		struct rte_fib_conf c = {
			.type = RTE_FIB_DIR24_8, .default_nh = miss, .max_routes = routes,
			.dir24_8 = { .nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = groups + 1 },
		};

		if (groups == UINT32_MAX)
			return fail(why, whylen, "out of memory");
		s->v4 = rte_fib_create(name, socket, &c);
		if (s->v4 == NULL)
			return fail(why, whylen, "%ld IPv4 prefixes: cannot create their table "
				    "(64 MB and %u groups of 1 KB): %s", n - first, c.dir24_8.num_tbl8,
				    rte_strerror(rte_errno));
	} else {
		uint64_t groups = tbl8s_v6(rules, w + first, n - first);
		struct rte_fib6_conf c = {
			.type = RTE_FIB6_TRIE, .default_nh = miss, .max_routes = routes,
			.trie = { .nh_sz = RTE_FIB6_TRIE_4B },
		};

		if (groups >= UINT32_MAX / 2 - 16)
			return fail(why, whylen, "%ld IPv6 prefixes: too many table groups",
				    n - first);
		/* the trie writes a prefix's range by its two edges, each a chain of groups
		 * (DPDK's trie.c): up to twice the groups its prefixes' bytes alone need */
		c.trie.num_tbl8 = (uint32_t)groups * 2 + 16;
		s->v6 = rte_fib6_create(name, socket, &c);
		if (s->v6 == NULL)
			return fail(why, whylen, "%ld IPv6 prefixes: cannot create their table "
				    "(64 MB and %u groups of 1 KB): %s", n - first, c.trie.num_tbl8,
				    rte_strerror(rte_errno));
	}
	for (j = first; j < n; j++) {
		const struct sw_src_rule *r = &rules[w[j].rule];

		if (!v6) {
			uint32_t a;

			memcpy(&a, r->addr, 4);
			rc = rte_fib_add(s->v4, rte_be_to_cpu_32(a), r->len, w[j].verdict);
		} else {
			rc = rte_fib6_add(s->v6, r->addr, r->len, w[j].verdict);
		}
		if (rc != 0)
			return fail(why, whylen, "rule %u: not added to the table: %s", w[j].rule,
				    strerror(-rc));
	}
	return 0;
}

void
sw_srcset_free(struct sw_srcset *s)
{
	if (s == NULL)
		return;
	rte_fib_free(s->v4);
	rte_fib6_free(s->v6);
	rte_free(s->verdict);
	rte_free(s->limits);
	rte_free(s->tat);
	rte_free(s);
}

static int
check_rules(const struct sw_src_rule *rules, size_t n, const struct sw_src_ports *ranges,
	    uint32_t nranges, char *why, size_t whylen)
{
	size_t i, limits = 0;

	if (n > SW_SRC_MAX_RULES)
		return fail(why, whylen, "%zu prefixes: at most %u", n, SW_SRC_MAX_RULES);
	if (nranges > SW_SRCL_MAX - 1)
		return fail(why, whylen, "%u port ranges with lists of their own: at most %u",
			    nranges, SW_SRCL_MAX - 1);
	for (i = 0; i < nranges; i++)
		if (ranges[i].lo < 1 || ranges[i].hi < ranges[i].lo)
			return fail(why, whylen, "port range %zu: %u-%u is not one of 1..65535",
				    i, ranges[i].lo, ranges[i].hi);
	for (i = 0; i < n; i++) {
		const struct sw_src_rule *r = &rules[i];

		if (r->v6 > 1 || r->len > family_bits(r->v6))
			return fail(why, whylen, "rule %zu: a prefix length of %u bits for an %s "
				    "address", i, r->len, r->v6 ? "IPv6" : "IPv4");
		if (!host_bits_clear(r))
			return fail(why, whylen, "rule %zu: the address has bits set past its "
				    "prefix length %u", i, r->len);
		if (r->action != SW_SRC_DENY && r->action != SW_SRC_ALLOW &&
		    r->action != SW_SRC_LIMIT)
			return fail(why, whylen, "rule %zu: action %u is not deny, allow or limit",
				    i, r->action);
		if (r->action == SW_SRC_LIMIT) {
			if (r->list != 0)
				return fail(why, whylen, "rule %zu: a limit is the global list's, "
					    "for every port", i);
			if (r->rate < 1 || r->rate > SW_SRC_RATE_MAX ||
			    r->burst > SW_SRC_RATE_MAX)
				return fail(why, whylen, "rule %zu: rate %u and burst %u must be "
					    "1..%u and 0..%u", i, r->rate, r->burst,
					    SW_SRC_RATE_MAX, SW_SRC_RATE_MAX);
			if (++limits > SW_SRC_MAX_LIMITS)
				return fail(why, whylen, "rule %zu: more than %u limit rules", i,
					    SW_SRC_MAX_LIMITS);
		}
		if (r->list > nranges)
			return fail(why, whylen, "rule %zu: list %u of %u", i, r->list, nranges);
	}
	return 0;
}

/* Bytes allocated from EAL's heap of a socket (SOCKET_ID_ANY: the caller's). */
static uint64_t
heap_bytes(int socket)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats(socket == SOCKET_ID_ANY ? (int)rte_socket_id() : socket,
					&st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

/* The set's limit rules (s->nlimits of them, in the order of rules) and every worker's
 * bucket times, each worker's on cache lines of its own. */
static int
set_limits(struct sw_srcset *s, const struct sw_src_rule *rules, size_t n, int socket, char *why,
	   size_t whylen)
{
	uint32_t k = 0;
	size_t i;

	if (s->nlimits == 0)
		return 0;
	s->limits = rte_zmalloc_socket("sw_src_limits", sizeof(*s->limits) * s->nlimits,
				       RTE_CACHE_LINE_SIZE, socket);
	s->tat_stride = RTE_ALIGN_CEIL(s->nlimits, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	s->tat = rte_zmalloc_socket("sw_src_limit_times",
				    sizeof(*s->tat) * s->tat_stride * SW_MAX_WORKERS,
				    RTE_CACHE_LINE_SIZE, socket);
	if (s->limits == NULL || s->tat == NULL)
		return fail(why, whylen, "out of memory for %u limits", s->nlimits);
	for (i = 0; i < n; i++) {
		const struct sw_src_rule *r = &rules[i];
		uint32_t burst = r->burst != 0 ? r->burst : r->rate;

		if (r->action != SW_SRC_LIMIT)
			continue;
		s->limits[k].t1 = RTE_MAX(1000000000ull / r->rate, 1ull);
		s->limits[k++].whole = 1000000000ull * burst / r->rate;
	}
	return 0;
}

int
sw_srcset_build(const struct sw_src_rule *rules, size_t n, const struct sw_src_ports *ranges,
		uint32_t nranges, int socket, struct sw_srcset **out, char *why, size_t whylen)
{
	struct verdicts vs = { 0 };
	struct sw_srcset *s = NULL;
	struct walked *w = NULL;
	uint32_t *idx = NULL, *limit_of = NULL, n4 = 0, k, p;
	uint64_t heap0;
	long w4 = 0, w6 = 0;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (check_rules(rules, n, ranges, nranges, why, whylen) != 0)
		return -1;
	if (n == 0)
		return 0;
	heap0 = heap_bytes(socket);
	idx = malloc(sizeof(*idx) * n);
	limit_of = malloc(sizeof(*limit_of) * n);
	w = malloc(sizeof(*w) * n);
	vs.cap = (uint32_t)n + 2;
	for (vs.mask = 1; vs.mask < 2 * vs.cap; vs.mask <<= 1)
		;
	vs.slot = calloc(vs.mask, sizeof(*vs.slot));
	vs.mask--;
	vs.v = calloc(vs.cap, sizeof(*vs.v));
	s = rte_zmalloc_socket("sw_srcset", sizeof(*s), RTE_CACHE_LINE_SIZE, socket);
	if (idx == NULL || limit_of == NULL || w == NULL || vs.slot == NULL || vs.v == NULL ||
	    s == NULL) {
		fail(why, whylen, "out of memory");
		goto out;
	}
	s->nlists = nranges + 1;
	for (k = 1; k <= nranges; k++) {
		s->ports[k] = ranges[k - 1];
		for (p = ranges[k - 1].lo; p <= ranges[k - 1].hi; p++)
			s->port_list[p] = (uint8_t)k;
	}
	for (i = 0; i < n; i++) {
		idx[i] = (uint32_t)i;
		n4 += !rules[i].v6;
		if (rules[i].action == SW_SRC_LIMIT)
			limit_of[i] = s->nlimits++;
	}
	if (set_limits(s, rules, n, socket, why, whylen) != 0)
		goto out;
	sort_rules = rules;
	qsort(idx, n, sizeof(*idx), rule_cmp);
	{
		const struct sw_src_verdict none = { 0, 0, 0, 0 };

		verdict_index(&vs, &none);      /* [0]: what a miss without a /0 gets */
	}
	w4 = walk(rules, idx, n4, limit_of, &vs, w, why, whylen);
	if (w4 < 0)
		goto out;
	w6 = walk(rules, idx + n4, (uint32_t)(n - n4), limit_of, &vs, w + w4, why, whylen);
	if (w6 < 0)
		goto out;
	if (table(s, rules, w, w4, 0, socket, why, whylen) != 0 ||
	    table(s, rules, w + w4, w6, 1, socket, why, whylen) != 0)
		goto out;
	s->verdict = rte_malloc_socket("sw_src_verdicts", sizeof(*s->verdict) * vs.n,
				       RTE_CACHE_LINE_SIZE, socket);
	if (s->verdict == NULL) {
		fail(why, whylen, "out of memory for %u verdicts", vs.n);
		goto out;
	}
	memcpy(s->verdict, vs.v, sizeof(*s->verdict) * vs.n);
	s->nverdicts = vs.n;
	/* (the control thread is the only one that allocates: the workers never do) */
	s->mem_bytes = heap_bytes(socket) - heap0;
	*out = s;
	s = NULL;
	rc = 0;
out:
	sw_srcset_free(s);
	free(idx);
	free(limit_of);
	free(w);
	free(vs.slot);
	free(vs.v);
	return rc;
}

/* ---- the text form ---- */

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* The next word of the line: [*w, return) */
static const char *
word(const char *p, const char *end, const char **w)
{
	p = skip_space(p, end);
	*w = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
		p++;
	return p;
}

static int
parse_prefix(const char *w, size_t len, struct sw_src_rule *r)
{
	char buf[64];
	const char *slash;
	char *endp;
	unsigned long bits;

	if (len == 0 || len >= sizeof(buf) || memchr(w, '\0', len) != NULL)
		return -1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash == NULL || slash[1] == '\0' || !isdigit((unsigned char)slash[1]))
		return -1;
	buf[slash - buf] = '\0';
	errno = 0;
	bits = strtoul(slash + 1, &endp, 10);
	if (errno != 0 || *endp != '\0')
		return -1;
	memset(r->addr, 0, sizeof(r->addr));
	if (inet_pton(AF_INET, buf, r->addr) == 1)
		r->v6 = 0;
	else if (inet_pton(AF_INET6, buf, r->addr) == 1)
		r->v6 = 1;
	else
		return -1;
	if (bits > family_bits(r->v6))
		return -1;
	r->len = (uint8_t)bits;
	return 0;
}

static int
parse_ports(const char *w, size_t len, struct sw_src_ports *pr)
{
	char buf[16];
	char *endp;
	unsigned long lo, hi;

	if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)w[0]) ||
	    memchr(w, '\0', len) != NULL)
		return -1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	lo = strtoul(buf, &endp, 10);
	hi = lo;
	if (*endp == '-') {
		if (!isdigit((unsigned char)endp[1]))
			return -1;
		hi = strtoul(endp + 1, &endp, 10);
	}
	if (*endp != '\0' || lo < 1 || hi < lo || hi > 65535)
		return -1;
	pr->lo = (uint16_t)lo;
	pr->hi = (uint16_t)hi;
	return 0;
}

/* A number of 0..SW_SRC_RATE_MAX in w[0..len). */
static int
parse_count(const char *w, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(w[i] - '0');
	}
	if (v > SW_SRC_RATE_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A limit's RATE [BURST], from the word at *w (ending at q); returns where the line goes on
 * (*w its next word), or NULL with why. */
static const char *
parse_rate(const char *q, const char *eol, const char **w, uint32_t line,
	   struct sw_src_rule *r, char *why, size_t whylen)
{
	if (parse_count(*w, (size_t)(q - *w), &r->rate) != 0 || r->rate == 0) {
		fail(why, whylen, "line %u: \"%.*s\" is not a rate of 1..%u SYNs a second",
		     line, (int)(q - *w > 20 ? 20 : q - *w), *w, SW_SRC_RATE_MAX);
		return NULL;
	}
	q = word(q, eol, w);
	if (q != *w) {
		if (parse_count(*w, (size_t)(q - *w), &r->burst) != 0 || r->burst == 0) {
			fail(why, whylen, "line %u: \"%.*s\" is not a burst of 1..%u SYNs", line,
			     (int)(q - *w > 20 ? 20 : q - *w), *w, SW_SRC_RATE_MAX);
			return NULL;
		}
		q = word(q, eol, w);
	}
	return q;
}

long
sw_src_parse(const char *text, size_t len, struct sw_src_rule **rules,
	     struct sw_src_ports **ranges, uint32_t *nranges, char *why, size_t whylen)
{
	const char *p = text, *end = text + len;
	struct sw_src_rule *rs = NULL;
	struct sw_src_ports *ps = NULL;
	size_t n = 0, cap = 0;
	uint32_t np = 0, line = 0;

	*rules = NULL;
	*ranges = NULL;
	*nranges = 0;
	ps = malloc(sizeof(*ps) * (SW_SRCL_MAX - 1));
	if (ps == NULL)
		return fail(why, whylen, "out of memory");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *w, *q;
		struct sw_src_rule r = { .list = 0 };
		struct sw_src_ports pr;
		uint32_t k;

		eol = eol != NULL ? eol : end;
		line++;
		q = word(p, eol, &w);
		if (q == w)
			goto next;      /* blank, or a comment */
		if ((size_t)(q - w) == 4 && memcmp(w, "deny", 4) == 0) {
			r.action = SW_SRC_DENY;
		} else if ((size_t)(q - w) == 5 && memcmp(w, "allow", 5) == 0) {
			r.action = SW_SRC_ALLOW;
		} else if ((size_t)(q - w) == 5 && memcmp(w, "limit", 5) == 0) {
			r.action = SW_SRC_LIMIT;
		} else {
			fail(why, whylen, "line %u: \"%.*s\": not deny, allow or limit", line,
			     (int)(q - w > 40 ? 40 : q - w), w);
			goto bad;
		}
		q = word(q, eol, &w);
		if (parse_prefix(w, (size_t)(q - w), &r) != 0) {
			fail(why, whylen, "line %u: \"%.*s\" is not a prefix (ADDRESS/LENGTH, IPv4 "
			     "or IPv6)", line, (int)(q - w > 60 ? 60 : q - w), w);
			goto bad;
		}
		if (!host_bits_clear(&r)) {
			fail(why, whylen, "line %u: \"%.*s\" has bits set past its length", line,
			     (int)(q - w), w);
			goto bad;
		}
		q = word(q, eol, &w);
		if (r.action == SW_SRC_LIMIT) {
			q = parse_rate(q, eol, &w, line, &r, why, whylen);
			if (q == NULL)
				goto bad;
		} else if (q != w) {
			if (parse_ports(w, (size_t)(q - w), &pr) != 0) {
				fail(why, whylen, "line %u: \"%.*s\" is not a port or a range "
				     "LO-HI of 1..65535", line, (int)(q - w > 20 ? 20 : q - w), w);
				goto bad;
			}
			for (k = 0; k < np; k++)
				if (ps[k].lo == pr.lo && ps[k].hi == pr.hi)
					break;
			if (k == np) {
				if (np == SW_SRCL_MAX - 1) {
					fail(why, whylen, "line %u: more than %u port ranges with "
					     "lists of their own", line, SW_SRCL_MAX - 1);
					goto bad;
				}
				ps[np++] = pr;
			}
			r.list = (uint8_t)(k + 1);
			q = word(q, eol, &w);
		}
		if (q != w) {
			fail(why, whylen, "line %u: \"%.*s\" after the rule", line,
			     (int)(q - w > 20 ? 20 : q - w), w);
			goto bad;
		}
		if (n == SW_SRC_MAX_RULES) {
			fail(why, whylen, "line %u: more than %u prefixes", line, SW_SRC_MAX_RULES);
			goto bad;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct sw_src_rule *nr = realloc(rs, sizeof(*rs) * ncap);

			if (nr == NULL) {
				fail(why, whylen, "out of memory");
				goto bad;
			}
			rs = nr;
			cap = ncap;
		}
		rs[n++] = r;
next:
		p = eol + 1;
	}
	*rules = rs;
	*ranges = ps;
	*nranges = np;
	return (long)n;
bad:
	free(rs);
	free(ps);
	return -1;
}

long
sw_src_read(const char *path, struct sw_src_rule **rules, struct sw_src_ports **ranges,
	    uint32_t *nranges, char *why, size_t whylen)
{
	char inner[256];
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	long n;

	*rules = NULL;
	*ranges = NULL;
	*nranges = 0;
	if (f == NULL)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	do {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nt;

			if (ncap > SW_SRC_MAX_FILE + 1)
				ncap = SW_SRC_MAX_FILE + 1;
			nt = realloc(text, ncap);
			if (nt == NULL) {
				free(text);
				fclose(f);
				return fail(why, whylen, "%s: out of memory", path);
			}
			text = nt;
			cap = ncap;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got > 0 && len <= SW_SRC_MAX_FILE);
	if (ferror(f)) {
		int e = errno;

		free(text);
		fclose(f);
		return fail(why, whylen, "%s: %s", path, strerror(e));
	}
	fclose(f);
	if (len > SW_SRC_MAX_FILE) {
		free(text);
		return fail(why, whylen, "%s: more than %u MB", path, SW_SRC_MAX_FILE >> 20);
	}
	n = sw_src_parse(text != NULL ? text : "", len, rules, ranges, nranges, inner,
			 sizeof(inner));
	free(text);
	if (n < 0)
		return fail(why, whylen, "%s: %s", path, inner);
	return n;
}
