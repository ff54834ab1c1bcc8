/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table of one lcore: connections whose client proved itself (syncache hit or valid
 * cookie) and that are being, or have been, spliced to the server. The tuple is
 * client -> server.
 */
#ifndef SW_FLOWTAB_H
#define SW_FLOWTAB_H

#include <stdint.h>

#include "ctab.h"

enum sw_flow_state {
	SW_FLOW_OPENING = 1,    /* server SYN sent, waiting for the server's SYN-ACK */
	SW_FLOW_ESTABLISHED,    /* spliced: segments translated both ways */
	SW_FLOW_CLOSING,        /* FIN or RST seen, lingering */
};

#define SW_FLF_VLAN  0x01
#define SW_FLF_SACK  0x02       /* client offered SACK */
#define SW_FLF_TS    0x04       /* client uses timestamps */
#define SW_FLF_WS    0x08       /* client offered window scale */

struct sw_flow {
	struct sw_ctab_hdr hdr;
	uint32_t irs;           /* client's ISN */
	uint32_t iss;           /* the ISS (cookie) the client was given */
	uint32_t srv_isn;       /* server's ISN, once its SYN-ACK arrived */
	uint32_t ts_ours;       /* TSval we sent the client in the SYN-ACK (its TSecr) */
	uint32_t last_ms;       /* last segment seen (sw_ms clock, wraps) */
	uint8_t eth_client[6];  /* MAC the client's segments come from */
	uint8_t eth_server[6];  /* MAC the client's segments go to */
	uint16_t vlan_tci;
	uint16_t mss;           /* client's MSS as told to the server */
	uint8_t state;          /* sw_flow_state */
	uint8_t flags;          /* SW_FLF_* */
	uint8_t ws_client;      /* client's shift */
	uint8_t ws_ours;        /* shift we promised the client */
};

_Static_assert(sizeof(struct sw_flow) == SW_CTAB_ENTRY_SIZE, "a flow is one cache line");

struct sw_flowtab {
	struct sw_ctab tab;
	uint32_t limit;
	struct sw_sweep sweep;   /* idle timers */
};

/* Buckets for a table of `flows` entries (SW_FLOW_BUCKET_SLOTS each, power of 2). */
uint32_t sw_flowtab_hashsize(uint32_t flows);
size_t sw_flowtab_memsize(uint32_t flows);
int sw_flowtab_init(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed);

static inline struct sw_flow *
sw_flowtab_lookup(const struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash)
{
	return sw_ctab_lookup(&ft->tab, t, hash);
}

/*
 * Add a flow. When its bucket or the table is full, the least recently used flow makes room
 * only if it has been idle for at least min_idle_ms; otherwise NULL (the caller counts the
 * refusal). *evicted tells whether one was evicted.
 */
struct sw_flow *sw_flowtab_add(struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash,
			       uint32_t now_ms, uint32_t min_idle_ms, int *evicted);

static inline void
sw_flowtab_remove(struct sw_flowtab *ft, struct sw_flow *f)
{
	sw_ctab_remove(&ft->tab, f);
}

/* A segment of the flow was seen: refresh its LRU position. */
static inline void
sw_flowtab_touch(struct sw_flowtab *ft, struct sw_flow *f, uint32_t now_ms)
{
	f->last_ms = now_ms;
	sw_ctab_touch(&ft->tab, f);
}

/* Remove flows idle past their state's timeout; sweeps the table once per period_ms.
 * Returns flows removed. */
uint32_t sw_flowtab_expire(struct sw_flowtab *ft, uint64_t now_ms, uint32_t period_ms,
			   uint32_t opening_timeout_ms, uint32_t idle_timeout_ms);

#endif
