/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every packet stage shares: the lcore state it works on (lcore.h), the sink it puts
 * packets in (sink.h), and the pair of them that the table sweeps hand to the timers.
 */
#ifndef SW_STAGE_H
#define SW_STAGE_H

#include "lcore.h"
#include "sink.h"

/* The timers' argument (sw_syncache_sweep, sw_flowtab_sweep). */
struct sw_stage_io {
	struct sw_lcore *lc;
	struct sw_sink *out;
};

/* The profile of the server a SYN on t is for: learned, else the port's. */
static inline struct sw_profile
sw_server_profile(const struct sw_lcore *lc, const struct sw_tuple *t)
{
	struct sw_profile p;

	if (!sw_learn_lookup(lc->learn, t, (uint32_t)lc->now_ms, &lc->cfg->port_profile[t->dport],
			     &p))
		p = lc->cfg->port_profile[t->dport];
	return p;
}

#endif
