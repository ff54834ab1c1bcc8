/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the source lists' text form (srclist.c, sw_src_parse), docs/FUZZING.md:
 * the input is a file of rules as --sources and the control socket's load_sources read it,
 * copied into a heap buffer of exactly its length. Either it is refused, with a reason that
 * names its line (or says it ran out of memory) and nothing returned; or every rule it gives
 * is one the set can be built from (a prefix of its family's length with no bit set past it,
 * deny or allow, a list that exists, ranges of 1..65535 in order, at most 63), no more rules
 * than lines, and the rules written back as text parse again to the very same rules.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "srclist.h"

static const uint8_t *cur;
static size_t cur_len;

static void
print_input(void)
{
	fz_hexdump("sources", cur, cur_len);
}

static void
check_rule(const struct sw_src_rule *r, size_t i, uint32_t nranges)
{
	uint32_t bits = r->v6 ? 128 : 32, b;

	FZ_CHECK(r->v6 <= 1 && r->len <= bits, "rule %zu: v6 %u len %u", i, r->v6, r->len);
	FZ_CHECK(r->action == SW_SRC_DENY || r->action == SW_SRC_ALLOW ||
		 r->action == SW_SRC_LIMIT, "rule %zu: action %u", i, r->action);
	if (r->action == SW_SRC_LIMIT)
		FZ_CHECK(r->list == 0 && r->rate >= 1 && r->rate <= SW_SRC_RATE_MAX &&
			 r->burst <= SW_SRC_RATE_MAX, "rule %zu: limit %u/%u in list %u", i,
			 r->rate, r->burst, r->list);
	else
		FZ_CHECK(r->rate == 0 && r->burst == 0, "rule %zu: a rate without a limit", i);
	FZ_CHECK(r->list <= nranges, "rule %zu: list %u of %u", i, r->list, nranges);
	for (b = r->len; b < 128; b++)
		FZ_CHECK(!((r->addr[b >> 3] >> (7 - (b & 7))) & 1), "rule %zu: bit %u set past "
			 "its length %u", i, b, r->len);
}

/* The rules as text again, one a line. */
static char *
render(const struct sw_src_rule *rules, long n, const struct sw_src_ports *ranges,
       size_t *len)
{
	char *text = malloc((size_t)n * 80 + 1), addr[INET6_ADDRSTRLEN];
	size_t at = 0;
	long i;

	FZ_CHECK(text != NULL, "out of memory");
	for (i = 0; i < n; i++) {
		const struct sw_src_rule *r = &rules[i];

		FZ_CHECK(inet_ntop(r->v6 ? AF_INET6 : AF_INET, r->addr, addr, sizeof(addr)) != NULL,
			 "rule %ld: inet_ntop", i);
		at += (size_t)sprintf(text + at, "%s %s/%u", r->action == SW_SRC_DENY ? "deny" :
				      r->action == SW_SRC_ALLOW ? "allow" : "limit", addr, r->len);
		if (r->action == SW_SRC_LIMIT)
			at += (size_t)sprintf(text + at, " %u", r->rate);
		if (r->burst != 0)
			at += (size_t)sprintf(text + at, " %u", r->burst);
		if (r->list != 0)
			at += (size_t)sprintf(text + at, " %u-%u", ranges[r->list - 1].lo,
					      ranges[r->list - 1].hi);
		text[at++] = '\n';
	}
	text[at] = '\0';
	*len = at;
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_src_rule *rules, *again;
	struct sw_src_ports *ranges, *ranges2;
	uint32_t nranges, nranges2, k;
	char why[256], why2[256], *text, *back;
	size_t lines = 1, i, blen;
	long n, m;

	if (size > 1 << 16)
		return 0;
	text = malloc(size ? size : 1);
	FZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	cur = data;
	cur_len = size;
	fz_on_fail = print_input;
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	why[0] = '\0';
	n = sw_src_parse(text, size, &rules, &ranges, &nranges, why, sizeof(why));
	if (n < 0) {
		FZ_CHECK(rules == NULL && ranges == NULL, "refused, yet rules returned");
		FZ_CHECK(strncmp(why, "line ", 5) == 0 || strcmp(why, "out of memory") == 0,
			 "a refusal that names no line: \"%s\"", why);
		free(text);
		return 0;
	}
	FZ_CHECK((size_t)n <= lines, "%ld rules from %zu lines", n, lines);
	FZ_CHECK(nranges <= SW_SRCL_MAX - 1, "%u ranges", nranges);
	for (k = 0; k < nranges; k++)
		FZ_CHECK(ranges[k].lo >= 1 && ranges[k].lo <= ranges[k].hi, "range %u: %u-%u", k,
			 ranges[k].lo, ranges[k].hi);
	for (i = 0; i < (size_t)n; i++)
		check_rule(&rules[i], i, nranges);

	back = render(rules, n, ranges, &blen);
	m = sw_src_parse(back, blen, &again, &ranges2, &nranges2, why2, sizeof(why2));
	FZ_CHECK(m == n, "written back, %ld rules parse as %ld (%s):\n%s", n, m, why2, back);
	for (i = 0; i < (size_t)n; i++) {
		const struct sw_src_rule *a = &rules[i], *b = &again[i];

		FZ_CHECK(a->v6 == b->v6 && a->len == b->len && a->action == b->action &&
			 a->rate == b->rate && a->burst == b->burst &&
			 memcmp(a->addr, b->addr, 16) == 0, "rule %zu differs written back", i);
		FZ_CHECK((a->list == 0) == (b->list == 0), "rule %zu: its list written back", i);
		if (a->list != 0)
			FZ_CHECK(ranges[a->list - 1].lo == ranges2[b->list - 1].lo &&
				 ranges[a->list - 1].hi == ranges2[b->list - 1].hi,
				 "rule %zu: its range written back", i);
	}
	free(back);
	free(again);
	free(ranges2);
	free(rules);
	free(ranges);
	free(text);
	return 0;
}
