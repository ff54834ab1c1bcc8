/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bytes per syncache entry and per flow entry, from the dataplane's own headers and table
 * code (linked against build/dataplane/libsw_core.a): sizeof of each entry, and the memory
 * the tables allocate per slot (entry + IPv6 side array + the bucket header: signatures, slot order, count).
 * Prints one JSON object.
 */
#include <stdio.h>

#include "flowtab.h"
#include "sw_const.h"
#include "syncache.h"

int
main(void)
{
	const uint32_t hs = 131072, bl = 8;     /* a syncache of 1M slots */
	const uint32_t flows = 1u << 20;         /* a flow table of 1M entries */
	size_t sc = sw_syncache_memsize(hs, bl);
	size_t ft = sw_flowtab_memsize(flows);
	size_t ft_slots = (size_t)sw_flowtab_hashsize(flows) * SW_FLOW_BUCKET_SLOTS;

	printf("{\"sizeof_sc_entry\": %zu, \"sizeof_flow\": %zu, \"sizeof_ctab_hdr\": %zu, "
	       "\"sizeof_v6pair\": %zu, "
	       "\"syncache_slots\": %zu, \"syncache_bytes\": %zu, "
	       "\"flow_slots\": %zu, \"flow_bytes\": %zu}\n",
	       sizeof(struct sw_sc_entry), sizeof(struct sw_flow), sizeof(struct sw_ctab_hdr),
	       sizeof(struct sw_v6pair), (size_t)hs * bl, sc, ft_slots, ft);
	return 0;
}
