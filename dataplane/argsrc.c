/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source quotas' options: --source-prefix, --source-flows, --source-halfopen, and the
 * defaults that follow from the table sizes (docs/DATAPLANE.md, "Command line").
 */
#include <string.h>

#include <rte_common.h>

#include "app.h"
#include "srctab.h"
#include "argval.h"

/* "V4LEN,V6LEN": the lengths a client address is cut to, to make its source prefix. */
int
sw_args_source_prefix(struct sw_args *a, const char *s)
{
	const char *opt = "--source-prefix";
	const char *comma = strchr(s, ',');
	char v4[12];
	uint32_t l4, l6;

	if (comma == NULL || comma == s || (size_t)(comma - s) >= sizeof(v4) ||
	    strchr(comma + 1, ',') != NULL)
		return bad(opt, "expected V4LEN,V6LEN (for example 32,64), got '%s'", s);
	memcpy(v4, s, (size_t)(comma - s));
	v4[comma - s] = '\0';
	if (parse_u32(opt, v4, 0, UINT32_MAX, &l4) < 0 ||
	    parse_u32(opt, comma + 1, 0, UINT32_MAX, &l6) < 0)
		return -1;
	if (l4 < SW_SRCQ_V4_MIN || l4 > 32)
		return bad(opt, "IPv4 prefix length %u is out of range %u..32", l4,
			   SW_SRCQ_V4_MIN);
	if (l6 < SW_SRCQ_V6_MIN || l6 > 128)
		return bad(opt, "IPv6 prefix length %u is out of range %u..128", l6,
			   SW_SRCQ_V6_MIN);
	a->source_v4_len = (uint8_t)l4;
	a->source_v6_len = (uint8_t)l6;
	return 0;
}

int
sw_args_source_flows(struct sw_args *a, const char *s)
{
	return parse_u32("--source-flows", s, 0, 1u << 24, &a->source_flows);
}

/* --source-table N: 0 (none), or a power of 2 of SW_SRCT_MIN..SW_SRCT_MAX entries. */
int
sw_args_source_table(struct sw_args *a, const char *s)
{
	const char *opt = "--source-table";

	if (parse_u32(opt, s, 0, SW_SRCT_MAX, &a->source_table) < 0)
		return -1;
	if (a->source_table != 0 &&
	    (a->source_table < SW_SRCT_MIN || !rte_is_power_of_2(a->source_table)))
		return bad(opt, "%u is not 0 or a power of 2 of %u..%u", a->source_table,
			   SW_SRCT_MIN, SW_SRCT_MAX);
	return 0;
}

int
sw_args_source_halfopen(struct sw_args *a, const char *s)
{
	return parse_u32("--source-halfopen", s, 0, UINT32_MAX - 1, &a->source_halfopen);
}

/* A quota not given: a quarter of what it shares (rounded up). One given: at most that. */
int
sw_args_source_finish(struct sw_args *a, uint32_t cachelimit)
{
	uint32_t slots = a->hashsize * a->bucketlimit;

	if (a->source_flows == SW_ARGS_UNSET)
		a->source_flows = (a->flows + 3) / 4;
	else if (a->source_flows > a->flows)
		return bad("--source-flows", "%u is more than the flow table holds (--flows %u; "
			   "0: no quota)", a->source_flows, a->flows);
	if (a->source_halfopen == SW_ARGS_UNSET)
		a->source_halfopen = (cachelimit + 3) / 4;
	else if (a->source_halfopen > slots)
		return bad("--source-halfopen", "%u is more than the syncache holds (--hashsize "
			   "%u x --bucketlimit %u = %u; 0: no quota)", a->source_halfopen,
			   a->hashsize, a->bucketlimit, slots);
	return 0;
}
