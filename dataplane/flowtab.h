/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table of one lcore: connections whose client proved itself (syncache hit or valid
 * cookie) and that are being, or have been, spliced to the server. The tuple is
 * client -> server.
 */
#ifndef SW_FLOWTAB_H
#define SW_FLOWTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "ctab.h"
#include "sw_const.h"

enum sw_flow_state {
	SW_FLOW_OPENING = 1,    /* server SYN sent, waiting for the server's SYN-ACK */
	SW_FLOW_ESTABLISHED,    /* spliced: segments translated both ways */
	SW_FLOW_CLOSING,        /* FINs both ways, or an RST: lingering, then removed */
};

/* What each side negotiated (sw_flow.flags). "Client" options are the ones the client
 * offered in its SYN (and we accepted in the SYN-ACK); "server" ones are in the server's
 * SYN-ACK to our SYN. */
#define SW_FLF_VLAN     0x01
#define SW_FLF_C_SACK   0x02
#define SW_FLF_C_TS     0x04
#define SW_FLF_C_WS     0x08
#define SW_FLF_S_SACK   0x10
#define SW_FLF_S_TS     0x20
#define SW_FLF_S_WS     0x40
/* A connection opened before its port became protected, proven by the server's segment:
 * passed both ways untranslated (its numbers and options are the endpoints' own). */
#define SW_FLF_ADOPTED  0x80

/* sw_flow.fin */
#define SW_FIN_CLIENT   0x01
#define SW_FIN_SERVER   0x02
#define SW_FIN_RST      0x04

/*
 * One spliced connection, one cache line. The tuple is client -> server. While the server
 * side opens, the flow keeps what the server SYN needs (irs, mss, win); once open, the same
 * bytes hold the translation (seq_delta, ts_delta, ws_srv).
 */
struct sw_flow {
	struct sw_ctab_hdr hdr;         /* hdr.user: state, flags, ws */
	uint32_t last_ms;               /* last segment seen (sw_ms clock, wraps) */
	union {
		uint32_t iss;           /* OPENING: the ISS (cookie) the client was given */
		uint32_t srv_nxt;       /* after: what the server has sent, in the client's
					 * space (seq + length of its latest segment): the
					 * client's next expected sequence number once it has
					 * it all, the RST's when synwall ends the flow */
	};
	union {
		uint32_t irs;           /* OPENING: client's ISN */
		uint32_t srv_ack;       /* after: the last ack the server sent, i.e. the
					 * client sequence number it expects (RFC 5961) */
	};
	union {
		struct {
			uint16_t mss;   /* client's MSS as told to the server */
			uint16_t win;   /* client's last window field */
		} open;
		uint32_t seq_delta;     /* server ISN - iss: server seq = client-side seq + delta */
	};
	union {
		uint32_t ts_ours;       /* OPENING: TSval we sent the client (its TSecr) */
		uint32_t ts_delta;      /* server TSval - ours */
	};
	uint32_t ts_recent;             /* client's latest TSval */
	uint8_t eth_client[6];          /* MAC the client's segments come from */
	uint8_t eth_server[6];          /* MAC the client's segments go to */
	uint16_t vlan_tci;
	union {
		uint8_t rexmits;        /* OPENING: server SYNs resent */
		struct {
			uint8_t ws_srv : 4;     /* after: the server's shift (SW_FLF_S_WS) */
			uint8_t fin : 4;        /* after: SW_FIN_* */
		};
	};
	/* after: the server's MSS / 8 as its SYN-ACK said, 1..254; 0 or 255: no limit known
	 * (adopted, or beyond 2032): what the client's segments are held to (sw_splice_client) */
	uint8_t mss8;
};

_Static_assert(sizeof(struct sw_flow) == SW_CTAB_ENTRY_SIZE, "a flow is one cache line");

/* The fields kept in the header's spare bytes. */
#define sw_flow_state(f)        ((f)->hdr.user[0])
#define sw_flow_flags(f)        ((f)->hdr.user[1])
/* shifts: client's own (as told to the server) in the low nibble, ours (told the client)
 * in the high nibble */
#define sw_flow_ws(f)           ((f)->hdr.user[2])
#define SW_FLOW_WS_CLIENT(f)    (sw_flow_ws(f) & 0x0f)
#define SW_FLOW_WS_OURS(f)      (sw_flow_ws(f) >> 4)

struct sw_flowtab {
	struct sw_ctab tab;
	uint32_t limit;
	struct sw_sweep sweep;   /* idle timers */
	/* the shortest idle timeout of any port (ms): the due time of an established flow is
	 * no later than its last segment + this; set by the owner from the configuration */
	uint32_t idle_min_ms;
};

/* Buckets for a table of `flows` entries (SW_FLOW_BUCKET_SLOTS each, power of 2). */
uint32_t sw_flowtab_hashsize(uint32_t flows);
size_t sw_flowtab_memsize(uint32_t flows);
int sw_flowtab_init(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed);
/* Taking over the flow table another process left in mem (ctab.h: sw_ctab_attach, then the
 * quotas, then sw_flowtab_adopt; state.h). now_ms: the clock the flows' times are on.
 * server_ports (NULL: not wanted): a bitmap of the 65536 TCP ports, where the server port
 * of every flow taken over is set. */
int sw_flowtab_attach(struct sw_flowtab *ft, void *mem, uint32_t flows, uint32_t seed);
int64_t sw_flowtab_adopt(struct sw_flowtab *ft, const struct sw_ctab_saved *saved,
			 uint32_t now_ms, uint64_t *server_ports, int *rebuilt);

/*
 * Each flow has two candidate buckets, from `hash` and from sw_flowtab_hash2(hash), and goes
 * into the emptier one ("the power of two choices"): with fixed 8-slot buckets a single
 * choice overflows buckets long before the table is full; two choices keep the buckets even
 * up to a high load, at the price of a second probe for a flow not found in its first.
 */
static inline uint32_t
sw_flowtab_hash2(uint32_t hash)
{
	return ((hash >> 13) | (hash << 19)) * 0x9e3779b1u;
}

static inline struct sw_flow *
sw_flowtab_lookup(const struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash)
{
	struct sw_flow *f;

	if (ft->tab.count == 0)
		return NULL;
	f = sw_ctab_lookup(&ft->tab, t, hash);
	if (f != NULL)
		return f;
	return sw_ctab_lookup(&ft->tab, t, sw_flowtab_hash2(hash));
}

/* A lookup a burst pass ahead, in two stages (see ctab.h): both candidate buckets' headers,
 * then (in a later pass) the flows whose signature matches. */
static inline void
sw_flowtab_prefetch_buckets(const struct sw_flowtab *ft, uint32_t hash)
{
	if (ft->tab.count == 0)
		return;
	sw_ctab_prefetch_bucket(&ft->tab, hash);
	sw_ctab_prefetch_bucket(&ft->tab, sw_flowtab_hash2(hash));
}

static inline void
sw_flowtab_prefetch_match(const struct sw_flowtab *ft, uint32_t hash, int v6)
{
	if (ft->tab.count == 0)
		return;
	sw_ctab_prefetch_match(&ft->tab, hash, v6);
	sw_ctab_prefetch_match(&ft->tab, sw_flowtab_hash2(hash), v6);
}

/*
 * Add a flow (not present) to the emptier of its two buckets. When both are full, a flow
 * of the two makes room; when the table is, one of its SW_FLOW_EVICT_SCAN least recently
 * used. Of those candidates a closing one goes first, whatever its idle time (the one idle
 * the longest); another only if it has been idle for at least min_idle_ms: of those, the
 * one whose source prefix holds the most open flows (from SW_FLOW_HEAVY_MIN on), the
 * idlest among equals. None may: NULL (the caller counts the refusal). *evicted gets
 * SW_FLOW_EVICTED when one was evicted, with SW_FLOW_EVICTED_HEAVY when the idle rule
 * alone would have taken another. The source quota is the caller's to check first
 * (sw_flowtab_source_full).
 */
#define SW_FLOW_EVICTED         0x1
#define SW_FLOW_EVICTED_HEAVY   0x2
struct sw_flow *sw_flowtab_add(struct sw_flowtab *ft, const struct sw_tuple *t, uint32_t hash,
			       uint32_t now_ms, uint32_t min_idle_ms, int *evicted);
/* The same; when a flow had to make room, a copy of it and its key in *gone and *gone_t (for
 * the caller to end it on both sides). */
struct sw_flow *sw_flowtab_add_evict(struct sw_flowtab *ft, const struct sw_tuple *t,
				     uint32_t hash, uint32_t now_ms, uint32_t min_idle_ms,
				     int *evicted, struct sw_flow *gone, struct sw_tuple *gone_t);

/* Does t's source prefix hold its quota of flows (--source-flows) already? */
static inline bool
sw_flowtab_source_full(const struct sw_flowtab *ft, const struct sw_tuple *t)
{
	return sw_srcq_full(&ft->tab.srcq, t->v6, t->src);
}

static inline void
sw_flowtab_remove(struct sw_flowtab *ft, struct sw_flow *f)
{
	sw_ctab_remove(&ft->tab, f);
}

/* A segment of the flow was seen: refresh its LRU position. */
static inline void
sw_flowtab_touch(struct sw_flowtab *ft, struct sw_flow *f, uint32_t now_ms)
{
	/* Moving a flow to the young end of the age list touches its neighbours' cache lines:
	 * once a second is enough for eviction's purpose (which checks last_ms
	 * anyway), and a busy flow's segments then cost no list work at all. */
	if (now_ms - f->last_ms >= SW_FLOW_RELINK_MS)
		sw_ctab_touch(&ft->tab, f);
	f->last_ms = now_ms;
}

/* How long a closing flow lingers after its last segment. */
static inline uint32_t
sw_flow_linger_ms(const struct sw_flow *f)
{
	return (f->fin & SW_FIN_RST) ? SW_FLOW_RST_LINGER_MS : SW_FLOW_LINGER_MS;
}

/* How far beyond what the server acknowledged a client FIN is believed: the largest window
 * the server can offer with the shift it uses (an adopted flow's is not known: the largest
 * any can). A FIN beyond it is outside the server's window and not acceptable to it either. */
static inline uint32_t
sw_flow_fin_window(const struct sw_flow *f)
{
	if (sw_flow_flags(f) & SW_FLF_ADOPTED)
		return UINT16_MAX << 14;
	return (sw_flow_flags(f) & SW_FLF_S_WS) ? (uint32_t)UINT16_MAX << f->ws_srv
						: UINT16_MAX;
}

/*
 * The earliest time (sw_ms clock, wraps) the flow timer may have something to do with f: the
 * server SYN's retransmit timeout while opening (doubling per retransmit), the linger once
 * closing, else the idle timeout. sw_flow_timer (splice.c) decides by the same timeouts;
 * the sweep hands it a flow only from then on.
 */
static inline uint32_t
sw_flow_due_ms(const struct sw_flowtab *ft, const struct sw_flow *f)
{
	switch (sw_flow_state(f)) {
	case SW_FLOW_OPENING:
		return f->last_ms + ((uint32_t)SW_SERVER_SYN_RTO_MS <<
				     (f->rexmits > SW_SERVER_SYN_MAX_BACKOFF ?
				      SW_SERVER_SYN_MAX_BACKOFF : f->rexmits));
	case SW_FLOW_CLOSING:
		return f->last_ms + sw_flow_linger_ms(f);
	default:
		return f->last_ms + ft->idle_min_ms;
	}
}

/* f's due time (sw_flow_due_ms) came sooner, by a change of state: tell the sweep. Not
 * needed when it only goes later (a segment seen), nor after sw_flowtab_add. */
static inline void
sw_flowtab_sooner(struct sw_flowtab *ft, const struct sw_flow *f, uint64_t now_ms)
{
	uint32_t due = sw_flow_due_ms(ft, f);

	sw_ctab_timer_sooner(&ft->tab, f,
			     now_ms + (uint64_t)(int64_t)(int32_t)(due - (uint32_t)now_ms));
}

/*
 * f starts closing (FINs both ways, or an RST): it lingers for stragglers only, the first to
 * go when room is needed, so it no longer counts toward its source's quota nor weighs in
 * eviction (sw_ctab_uncount); and the linger is shorter than the idle timeout, which the
 * sweep is told. The one way into SW_FLOW_CLOSING.
 */
static inline void
sw_flowtab_closing(struct sw_flowtab *ft, struct sw_flow *f, uint64_t now_ms)
{
	sw_ctab_uncount(&ft->tab, f);   /* state: SW_FLOW_CLOSING (ft->tab.uncounted) */
	sw_flowtab_sooner(ft, f, now_ms);
}

/* Timer outcome for one flow, decided by the callback. */
enum sw_flow_timer_action {
	SW_FLOW_KEEP,
	SW_FLOW_DROP,
};
typedef enum sw_flow_timer_action (*sw_flow_timer_fn)(struct sw_flow *f, uint32_t idle_ms,
						       void *arg);

/* Sweep the slice of buckets due at now_ms (the whole table once per period_ms, within the
 * round's bounds: ctab.h), calling fn for every flow whose sw_flow_due_ms has come, with its
 * idle time; DROP removes it. Returns flows removed. */
uint32_t sw_flowtab_sweep(struct sw_flowtab *ft, uint64_t now_ms, uint32_t period_ms,
			  sw_flow_timer_fn fn, void *arg);

#endif
