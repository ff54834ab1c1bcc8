/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmarks: established flows made at start (--preload-flows), with a tuple that a
 * traffic generator can compute (see docs/DATAPLANE.md): client 198.18.128.0 + (i >> 14),
 * port 1024 + (i & 0x3fff), server 198.18.1.1:80, ISN i, ISS 7i, server ISN ISS + 0x10000,
 * no options agreed.
 */
#include <string.h>

#include "worker.h"

#define PRELOAD_CLIENT_NET   0xc6128000u        /* 198.18.128.0 */
#define PRELOAD_PORTS_SHIFT  14                 /* client ports per client address: 2^14 */
#define PRELOAD_PORT_BASE    1024
#define PRELOAD_SEQ_DELTA    0x10000

int
sw_preload_flows(struct sw_worker *w, uint32_t n, uint32_t now_ms)
{
	struct sw_flowtab *ft = &w->lc.ft;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t src = PRELOAD_CLIENT_NET + (i >> PRELOAD_PORTS_SHIFT);
		struct sw_tuple t;
		struct sw_flow *f;
		uint32_t hash;
		int evicted;

		memset(&t, 0, sizeof(t));
		t.src[0] = (uint8_t)(src >> 24);
		t.src[1] = (uint8_t)(src >> 16);
		t.src[2] = (uint8_t)(src >> 8);
		t.src[3] = (uint8_t)src;
		t.dst[0] = 198;
		t.dst[1] = 18;
		t.dst[2] = 1;
		t.dst[3] = 1;
		t.sport = (uint16_t)(PRELOAD_PORT_BASE +
				     (i & ((1u << PRELOAD_PORTS_SHIFT) - 1)));
		t.dport = 80;
		hash = sw_ctab_hash(&ft->tab, &t);
		if (sw_flowtab_lookup(ft, &t, hash) != NULL)
			continue;
		/* Never evicting: when both buckets are full this one is left out. */
		f = sw_flowtab_add(ft, &t, hash, now_ms, UINT32_MAX, &evicted);
		if (f == NULL) {
			if (ft->tab.count >= ft->limit)
				return -1;
			continue;
		}
		sw_flow_state(f) = SW_FLOW_ESTABLISHED;
		f->srv_nxt = i * 7 + 1;         /* ISS 7i: the SYN-ACK's SYN, no data yet */
		f->seq_delta = PRELOAD_SEQ_DELTA;
		f->srv_ack = i + 1;     /* nothing sent yet: the server expects ISN + 1 */
		f->eth_client[0] = 0x02;
		f->eth_server[0] = 0x02;
		f->eth_server[5] = 0x01;
	}
	return 0;
}
