/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The order of the stages: the only place that knows it. A burst from the outside port is
 * parsed and classified, its table lines prefetched, the cookie MACs it needs computed all
 * at once (several per vector instruction), and then each packet handed to its stage in
 * order; every verdict is put in the sink. A burst from the inside port is looked up in the
 * flow table packet by packet.
 */
#ifndef SW_PIPELINE_H
#define SW_PIPELINE_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "stage.h"

/* n <= SW_RX_BURST packets from the outside port; each ends up in the sink. */
void sw_outside_burst(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts,
		      uint16_t n);

/* n packets from the inside port; each ends up in the sink. */
void sw_inside_burst(struct sw_lcore *lc, struct sw_sink *out, struct rte_mbuf **pkts,
		     uint16_t n);

#endif
