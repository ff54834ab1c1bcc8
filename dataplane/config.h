/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime configuration: limits, per-port policy and cookie keys, in one immutable struct.
 * A change builds a new version and publishes it by pointer swap; workers load the pointer
 * once per loop and report a quiescent state (rte_rcu_qsbr) at the end of it, and the old
 * version is freed only after every worker has passed one.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "cookie.h"
#include "profile.h"

enum sw_mode {
	SW_MODE_PASS = 0,
	SW_MODE_PROXY,
	SW_MODE_COOKIE,
	SW_MODE_DROP,
};

/* The ranges of the limits and profiles: the one place they are written. */
#define SW_REXMTLIMIT_MAX      10u
#define SW_SERVER_RETRIES_MAX  10u
#define SW_COOKIE_CHECK_RATE_DEFAULT 262144u
#define SW_COOKIE_CHECK_RATE_MAX     100000000u
#define SW_SOURCE_RATE_MAX           100000000u
#define SW_MSS_MIN             536u
#define SW_MSS_MAX             9000u
#define SW_WSCALE_MAX          14u      /* RFC 7323 2.3 */
#define SW_ADOPT_WINDOW_MAX_S   3600u
/* How long a port that became protected lets the connections opened before it show
 * themselves: long enough for a client's retransmission timeouts to come round, short
 * enough that an ACK flood started with the switch soon stops reaching the servers. */
#define SW_ADOPT_WINDOW_DEFAULT_S 60u

/* Limits that may change at run time (hashsize and bucketlimit are start-time only). Each
 * as wide as what the controller and the command line give, so that it is checked
 * (sw_limits_validate) before anything narrows it. */
struct sw_limits {
	uint32_t cachelimit;    /* syncache entries per lcore */
	uint32_t rexmtlimit;    /* SYN-ACK retransmits */
	uint32_t syncookies;    /* answer with a cookie when no entry is kept */
	uint32_t syncookies_only;/* keep no entries */
	uint32_t wscale;        /* shift offered in SYN-ACKs */
	uint32_t server_retries;/* server SYN retransmits before the client gets an RST */
	uint32_t mss;           /* largest MSS offered in SYN-ACKs */
	uint32_t cookie_check_rate;/* cookie checks a second of ACKs without timestamps, all
				 * workers together (handshake.h); 0: no limit */
	/* the source table's (srctab.h), all workers together; a rate 0: no limit, a burst 0:
	 * the rate */
	uint32_t syn_rate;      /* SYNs a second of one source prefix */
	uint32_t syn_burst;
	uint32_t reflect_rate;  /* SYN-ACKs a second towards one source prefix */
	uint32_t reflect_burst;
};

/* port_flags: */
#define SW_PORTF_FLOWS  0x01    /* spliced flows may exist although the port is in `pass`
				 * mode now: its segments are looked up, and those of a flow
				 * are still translated until the flow ends */

struct sw_srcset;

struct sw_config {
	uint64_t version;
	struct sw_limits lim;
	struct sw_keyset keys;
	/* the source prefix lists (srclist.h), NULL: none. Shared by the versions that point at
	 * it (a copy keeps the pointer); sw_cfg_publish frees a set the new version no longer
	 * points at, once no worker can hold the old one. */
	struct sw_srcset *src;
	uint32_t adopt_window_s;        /* --adopt-window (0: none) */
	/* --unparsed pass: frames that could carry TCP the parser cannot see (stacked VLAN
	 * tags, IPv6 header chains it cannot follow) are bridged; else dropped */
	bool unparsed_pass;
	uint8_t port_mode[65536];       /* enum sw_mode by TCP destination port */
	uint8_t port_flags[65536];      /* SW_PORTF_* */
	/*
	 * A port that has just become protected (from `pass` or `drop`) adopts the connections
	 * opened before, until this time (seconds of the workers' clock; 0: never): a client
	 * segment of no flow and no valid cookie is passed to the server, whose answer then
	 * proves the connection (sw_splice_adopt).
	 */
	uint32_t port_adopt_until_s[65536];
	/* an established flow of the port (as the server's) with no segment this long ends */
	uint32_t port_idle_s[65536];
	uint32_t idle_default_s;        /* --idle-timeout: where a port range sets none */
	uint32_t idle_min_s;            /* the shortest of port_idle_s (sw_cfg_update_idle_min) */
	/* what the servers behind each port do, until learned per server */
	struct sw_profile port_profile[65536];
};

/* Is port p adopting the connections opened before it became protected, at now_ms? */
static inline bool
sw_cfg_adopting(const struct sw_config *c, uint16_t p, uint64_t now_ms)
{
	return (uint64_t)c->port_adopt_until_s[p] * 1000 > now_ms;
}

static inline bool
sw_mode_protected(uint8_t mode)
{
	return mode == SW_MODE_PROXY || mode == SW_MODE_COOKIE;
}

/* Does TCP on port p (as the server's port) need a flow lookup? */
static inline bool
sw_cfg_has_flows(const struct sw_config *c, uint16_t p)
{
	return sw_mode_protected(c->port_mode[p]) ||
	       (c->port_mode[p] == SW_MODE_PASS && (c->port_flags[p] & SW_PORTF_FLOWS));
}

/*
 * Control thread: the consequences of a change of port modes from the published version old
 * to n (whose port_mode is the new one): ports leaving protection keep their flows
 * translated once in `pass` (SW_PORTF_FLOWS, set on leaving, whether for `pass` or for `drop`
 * first, and never cleared: a flow may live for hours); ports becoming
 * protected adopt the connections opened before for n->adopt_window_s.
 */
void sw_cfg_mode_change(const struct sw_config *old, struct sw_config *n, uint64_t now_ms);

/* Every port's idle timeout, and the default of the ranges that set none, to idle_s. */
void sw_cfg_set_idle_default(struct sw_config *c, uint32_t idle_s);
/* idle_min_s again, after port_idle_s changed. */
void sw_cfg_update_idle_min(struct sw_config *c);

/* One port range of a configuration being built: its ports' mode, profile and idle
 * timeout. */
struct sw_port_range {
	uint16_t lo, hi;                /* 1 <= lo <= hi */
	uint8_t mode;                   /* enum sw_mode */
	struct sw_profile profile;
	uint32_t idle_s;                /* 0: the default (idle_default_s) */
};

/*
 * Control thread: every port of c to the ranges r[0..n) (where they overlap, the later
 * range wins), every other port to pass, the default profile and c->idle_default_s. The
 * ranges must be checked already. The cost is linear in n plus the 65536 ports, whatever the
 * ranges' widths: each port is written once, by the last range that covers it. Returns 0, or
 * -ENOMEM (c is then unchanged).
 */
int sw_cfg_set_ranges(struct sw_config *c, const struct sw_port_range *r, size_t n);

/* The published configuration and the RCU state guarding it. */
struct sw_cfg_domain {
	/* written by the control thread (publish), read by the workers (sw_cfg_get) */
	struct sw_config *current;
	struct rte_rcu_qsbr *qs;
	uint32_t nthreads;
};

/* Set up RCU for nthreads readers (thread ids 0..nthreads-1) and publish initial. */
int sw_cfg_domain_init(struct sw_cfg_domain *d, uint32_t nthreads, struct sw_config *initial);
void sw_cfg_domain_fini(struct sw_cfg_domain *d);

/* A private copy of the current version to change and then publish. */
struct sw_config *sw_cfg_clone(const struct sw_config *c);
struct sw_config *sw_cfg_new_default(void);

/*
 * Publish c (it becomes immutable), wait until no worker can still see the previous
 * version, then free it. Control thread only.
 */
void sw_cfg_publish(struct sw_cfg_domain *d, struct sw_config *c);

static inline const struct sw_config *
sw_cfg_get(const struct sw_cfg_domain *d)
{
	return __atomic_load_n(&d->current, __ATOMIC_ACQUIRE);
}

/* The profile every port starts from: the limits' MSS and shift, SACK and timestamps on. */
struct sw_profile sw_cfg_default_profile(const struct sw_limits *l);
/* Every port's profile from the defaults. */
void sw_cfg_default_profiles(struct sw_config *c);

/* Validate limits against the start-time sizes: NULL, or the field to blame (with the
 * reason, its value and the allowed range, in why). */
const char *sw_limits_validate(const struct sw_limits *l, uint32_t hashsize,
			       uint32_t bucketlimit, char *why, size_t len);
/* The same, the field alone. */
const char *sw_limits_check(const struct sw_limits *l, uint32_t hashsize, uint32_t bucketlimit);

#endif
