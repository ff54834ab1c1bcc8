/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The syncache: half-open connections of one lcore, with the limits and counters of
 * FreeBSD's syncache(4). Every SYN-ACK's ISS is a cookie, so an entry that is evicted or
 * never made costs the client nothing but exact options.
 */
#ifndef SW_SYNCACHE_H
#define SW_SYNCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "ctab.h"
#include "parse.h"

/* SACK, TS and WS: negotiated (offered by the client and accepted in our SYN-ACK). */
#define SW_SCF_VLAN     0x01
#define SW_SCF_SACK     0x02
#define SW_SCF_TS       0x04
#define SW_SCF_WS       0x08
#define SW_SCF_MSS      0x10    /* the client sent an MSS */
#define SW_SCF_UNREACH  0x20    /* one ICMP unreachable already seen */

/* One half-open connection: all that is needed to resend the SYN-ACK and to build the
 * server-side SYN. The tuple is client -> server. */
struct sw_sc_entry {
	struct sw_ctab_hdr hdr;
	uint32_t irs;           /* client's ISN */
	uint32_t iss;           /* our ISS: the cookie */
	uint32_t ts_recent;     /* client's TSval in the SYN */
	uint32_t expire_ms;     /* next retransmit (sw_ms clock, wraps) */
	uint8_t eth_client[6];  /* the SYN's source MAC */
	uint8_t eth_server[6];  /* the SYN's destination MAC */
	uint16_t vlan_tci;
	uint16_t mss;           /* client's MSS (SW_SCF_MSS) */
	uint8_t wscale;         /* client's shift (SW_SCF_WS) */
	uint8_t flags;          /* SW_SCF_* */
	uint8_t rxmits;         /* SYN-ACK retransmits so far */
	uint8_t ws_ours;        /* shift offered in the SYN-ACK (SW_SCF_WS) */
	uint8_t mac8;           /* the cookie MAC's other 8 bits, in the SYN-ACK's TSval */
	uint16_t mss_offer;     /* MSS offered in the SYN-ACK */
};

_Static_assert(sizeof(struct sw_sc_entry) == SW_CTAB_ENTRY_SIZE,
	       "a syncache entry is one cache line");

struct sw_syncache {
	struct sw_ctab tab;
	uint64_t pause_until_ms;        /* paused (cookie-only) while now < this */
	uint8_t paused;
	uint8_t pause_backoff;
	struct sw_sweep sweep;           /* retransmit timers */
};

size_t sw_syncache_memsize(uint32_t hashsize, uint32_t bucketlimit);
/* Taking over the syncache another process left in mem (ctab.h, state.h). */
int sw_syncache_attach(struct sw_syncache *sc, void *mem, uint32_t hashsize,
		       uint32_t bucketlimit, uint32_t seed);
int64_t sw_syncache_adopt(struct sw_syncache *sc, const struct sw_ctab_saved *saved,
			  uint32_t now_ms, int *rebuilt);
int sw_syncache_init(struct sw_syncache *sc, void *mem, uint32_t hashsize,
		     uint32_t bucketlimit, uint32_t seed);

static inline struct sw_sc_entry *
sw_syncache_lookup(const struct sw_syncache *sc, const struct sw_tuple *t, uint32_t hash)
{
	/* Cookie-only ports keep the syncache empty: then not even a bucket is read. */
	if (sc->tab.count == 0)
		return NULL;
	return sw_ctab_lookup(&sc->tab, t, hash);
}

/* A lookup a burst pass ahead, in two stages (see ctab.h). */
static inline void
sw_syncache_prefetch_bucket(const struct sw_syncache *sc, uint32_t hash)
{
	if (sc->tab.count != 0)
		sw_ctab_prefetch_bucket(&sc->tab, hash);
}

static inline void
sw_syncache_prefetch_match(const struct sw_syncache *sc, uint32_t hash, int v6)
{
	if (sc->tab.count != 0)
		sw_ctab_prefetch_match(&sc->tab, hash, v6);
}

/* Insert; *evicted says whether a bucket or the cache overflowed (SW_CTAB_EVICT_*). */
struct sw_sc_entry *sw_syncache_insert(struct sw_syncache *sc, const struct sw_tuple *t,
				       uint32_t hash, uint32_t cachelimit,
				       unsigned int *evicted);

/* Does t's source prefix hold its quota of entries (--source-halfopen) already? */
static inline bool
sw_syncache_source_full(const struct sw_syncache *sc, const struct sw_tuple *t)
{
	return sw_srcq_full(&sc->tab.srcq, t->v6, t->src);
}

static inline void
sw_syncache_remove(struct sw_syncache *sc, struct sw_sc_entry *e)
{
	sw_ctab_remove(&sc->tab, e);
}

/*
 * A bucket overflowed: pause the syncache (cookies only) like FreeBSD's syncache_pause():
 * 16 s, doubled (up to 6 times) when a new overflow comes within the previous pause
 * window. Returns true when this call started a pause.
 */
bool sw_syncache_pause(struct sw_syncache *sc, uint64_t now_ms);
/* Lift an expired pause; returns whether the syncache is paused now. */
bool sw_syncache_paused(struct sw_syncache *sc, uint64_t now_ms);

/* Timer outcome for one entry, decided by the callback. */
enum sw_sc_timer_action {
	SW_SC_KEEP,             /* entry was retransmitted and rescheduled */
	SW_SC_DROP,             /* remove it */
};
typedef enum sw_sc_timer_action (*sw_sc_timer_fn)(struct sw_sc_entry *e, void *arg);

/*
 * Pass the slice of buckets due at now_ms so that the whole table is swept once per
 * period_ms (within the round's bounds: ctab.h), and call fn for each entry whose timer
 * expired (expire_ms). Returns entries read.
 */
uint32_t sw_syncache_sweep(struct sw_syncache *sc, uint64_t now_ms, uint32_t period_ms,
			   sw_sc_timer_fn fn, void *arg);

/* e->expire_ms was brought forward, to due_ms (sw_now_ms clock): tell the sweep. Not needed
 * after an insert, nor in fn. */
static inline void
sw_syncache_sooner(struct sw_syncache *sc, struct sw_sc_entry *e, uint64_t due_ms)
{
	sw_ctab_timer_sooner(&sc->tab, e, due_ms);
}

/* ms until the n-th retransmit (n from 0): SW_SYNACK_RTO_MS doubled n times, capped. */
uint32_t sw_syncache_rto_ms(unsigned int rxmits);

/*
 * ms since the SYN that started e's SYN-ACK schedule (a duplicate SYN starts it again), at
 * now_ms: read back from its retransmit timer, each retransmit having been sent rto_ms after
 * the one before. An entry keeps no time of its own (it fills its cache line); a timer that
 * fired late makes the age short by as much, at most a sweep period a retransmit.
 */
uint32_t sw_syncache_age_ms(const struct sw_sc_entry *e, uint32_t now_ms);

#endif
