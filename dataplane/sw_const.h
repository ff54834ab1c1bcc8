/* SPDX-License-Identifier: BSD-3-Clause */
/* Tuning constants of the fast path, in one place. */
#ifndef SW_CONST_H
#define SW_CONST_H

#define SW_MAX_WORKERS      32u     /* worker lcores (and queues per port) */
/* --state: how long a new synwall-dp waits for the last owner of the region to let go */
#define SW_STATE_LOCK_WAIT_MS 5000u
#define SW_RX_BURST         32      /* packets per rte_eth_rx_burst */
/* --idle-sleep: a worker sleeps after this many rounds in a row found both ports empty, at
 * most this long a round (timers, the mailbox and RCU wait for it) */
#define SW_IDLE_ROUNDS      16
#define SW_IDLE_SLEEP_MAX_US 10000
#define SW_TX_BUF           64      /* packets buffered per port before a flush */
#define SW_PREFETCH_AHEAD   4       /* packets prefetched ahead in a burst */
#define SW_RX_DESC          1024
#define SW_TX_DESC          1024
#define SW_MBUF_CACHE       256
#define SW_DEFAULT_MBUFS    32767

/* Timers: the sweep's cursor passes the whole table once per SW_SWEEP_PERIOD_MS, a slice per
 * loop, and does at most SW_TIMER_ROUND_STEPS steps (a span or group passed at one read, a
 * bucket header read) and reads at most SW_TIMER_ROUND_ENTRIES entries per table and round
 * (one bucket whole, at least): the rest waits for the next round (docs/DATAPLANE.md,
 * "Timers"). */
#define SW_SWEEP_PERIOD_MS  100
#define SW_TIMER_ROUND_STEPS    128
#define SW_TIMER_ROUND_ENTRIES  64
#define SW_SYNACK_RTO_MS    1000    /* first SYN-ACK retransmit, doubling after (RFC 6298) */
#define SW_SC_PAUSE_MS      16000   /* FreeBSD TCP_SYNCACHE_PAUSE_TIME (SYNCOOKIE_LIFETIME) */
#define SW_SC_PAUSE_MAX_BACKOFF 6   /* pause doubles at most this many times */

/* Flow table. The server SYN is resent after 1 s, doubling, --server-retries times; then the
 * client gets an RST. */
#define SW_SERVER_SYN_RTO_MS       1000
#define SW_SERVER_SYN_MAX_BACKOFF  6        /* the timeout doubles at most this many times */
/* An established flow with no segment for this long ends (with an RST to both sides), unless
 * its port says otherwise (--idle-timeout, the controller's per-port setting): a day, as
 * pf's tcp.established; Linux conntrack keeps 5 days. */
#define SW_FLOW_IDLE_DEFAULT_S     86400u
#define SW_FLOW_IDLE_TIMEOUT_MS    (SW_FLOW_IDLE_DEFAULT_S * 1000u)
#define SW_FLOW_IDLE_MAX_S         (30u * 86400)   /* idle times are 32-bit milliseconds */
/* After FINs both ways a flow lingers as long as a TIME_WAIT does in conntrack (2 MSL,
 * 120 s), so that a retransmitted FIN and the ACK of it still find the flow; after an RST,
 * conntrack's CLOSE time. */
#define SW_FLOW_LINGER_MS          120000
#define SW_FLOW_RST_LINGER_MS      10000
#define SW_FLOW_EVICT_MIN_IDLE_MS  10000    /* a full table evicts only flows idle this long */
/* Eviction from a full table chooses among this many flows at the LRU end (the oldest); and
 * ranks candidates by their source prefix's flows only from this many on: below, what the
 * sketch's collisions can add to a light source's count (srcquota.h) would decide, not the
 * source (docs/DATAPLANE.md, "The splice"). */
#define SW_FLOW_EVICT_SCAN         8
#define SW_FLOW_HEAVY_MIN          4
#define SW_FLOW_BUCKET_SLOTS       8
#define SW_FLOW_RELINK_MS          1000     /* LRU order kept to this granularity */

/* Rate limit of the plain-words log lines, per lcore. */
#define SW_LOG_INTERVAL_MS  1000

/* Control loop period on the main lcore (it sleeps, it does not poll). */
#define SW_CONTROL_PERIOD_US 1000

#endif
