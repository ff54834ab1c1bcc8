/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters: plain uint64_t per lcore, written only by the owning worker, summed when read.
 * The names are a contract (DESIGN.md): stats JSON, telemetry, gRPC API and CLI share them.
 */
#ifndef SW_STATS_H
#define SW_STATS_H

#include <stdint.h>
#include <stdio.h>

#define SW_COUNTERS(X)                                  \
	X(sc_added,          "syncache.added")          \
	X(sc_retransmitted,  "syncache.retransmitted")  \
	X(sc_dupsyn,         "syncache.dupsyn")         \
	X(sc_dropped,        "syncache.dropped")        \
	X(sc_completed,      "syncache.completed")      \
	X(sc_bucketoverflow, "syncache.bucketoverflow") \
	X(sc_cacheoverflow,  "syncache.cacheoverflow")  \
	X(sc_reset,          "syncache.reset")          \
	X(sc_stale,          "syncache.stale")          \
	X(sc_aborted,        "syncache.aborted")        \
	X(sc_badack,         "syncache.badack")         \
	X(sc_unreach,        "syncache.unreach")        \
	X(sc_zonefail,       "syncache.zonefail")       \
	X(sc_sendcookie,     "syncache.sendcookie")     \
	X(sc_recvcookie,     "syncache.recvcookie")     \
	X(sc_count,          "syncache.count")          \
	X(sc_paused,         "syncache.paused")         \
	X(sc_timer_capped,   "syncache.timer_capped")   \
	X(sc_source_quota,   "syncache.source_quota")   \
	X(sc_source_quota_dropped, "syncache.source_quota_dropped") \
	X(cookie_failed,     "cookie.failed")           \
	X(cookie_limited,    "cookie.limited")          \
	X(proxy_flows,       "proxy.flows")             \
	X(proxy_opened,      "proxy.opened")            \
	X(proxy_established, "proxy.established")       \
	X(proxy_syn_retransmitted, "proxy.syn_retransmitted") \
	X(proxy_ack_resent,  "proxy.ack_resent")        \
	X(proxy_server_rst,  "proxy.server_rst")        \
	X(proxy_server_timeout, "proxy.server_timeout") \
	X(proxy_ack_opening, "proxy.ack_opening")       \
	X(proxy_icmp,        "proxy.icmp")              \
	X(proxy_to_server,   "proxy.to_server")         \
	X(proxy_to_client,   "proxy.to_client")         \
	X(proxy_reset,       "proxy.reset")             \
	X(proxy_closed,      "proxy.closed")            \
	X(proxy_rst_ignored, "proxy.rst_ignored")       \
	X(proxy_unexpected,  "proxy.unexpected")        \
	X(proxy_ack_no_handshake, "proxy.ack_no_handshake") \
	X(proxy_syn_opening, "proxy.syn_opening")       \
	X(proxy_server_opening, "proxy.server_opening") \
	X(proxy_synack_mismatch, "proxy.synack_mismatch") \
	X(proxy_outside_synack, "proxy.outside_synack") \
	X(proxy_adopted,     "proxy.adopted")           \
	X(proxy_adopt_passed, "proxy.adopt_passed")     \
	X(proxy_adopt_full,  "proxy.adopt_full")        \
	X(proxy_server_no_flow, "proxy.server_no_flow") \
	X(proxy_reset_sent,  "proxy.reset_sent")        \
	X(proxy_expired,     "proxy.expired")           \
	X(proxy_evicted,     "proxy.evicted")           \
	X(proxy_evicted_heavy, "proxy.evicted_heavy")   \
	X(proxy_source_quota, "proxy.source_quota")     \
	X(proxy_adopt_source_quota, "proxy.adopt_source_quota") \
	X(proxy_timer_capped, "proxy.timer_capped")     \
	X(proxy_sack_trimmed, "proxy.sack_trimmed")     \
	X(proxy_ts_no_room,  "proxy.ts_no_room")        \
	X(proxy_too_big,     "proxy.too_big")           \
	X(port_outside_rx,   "port.outside_rx")         \
	X(port_inside_rx,    "port.inside_rx")          \
	X(port_outside_tx,   "port.outside_tx")         \
	X(port_inside_tx,    "port.inside_tx")          \
	X(port_tx_dropped,   "port.tx_dropped")         \
	X(port_nombuf,       "port.nombuf")             \
	X(port_bridged,      "port.bridged")            \
	X(port_policy_drop,  "port.policy_drop")        \
	X(port_unparsed,     "port.unparsed")           \
	X(src_denied,        "source.denied")           \
	X(src_allowed,       "source.allowed")          \
	X(src_syn_limited,   "source.syn_limited")      \
	X(src_prefix_limited, "source.prefix_limited")  \
	X(src_reflect_capped, "source.reflect_capped")  \
	X(src_evicted,       "source.evicted")          \
	X(lcore_cycles,      "lcore.cycles")            \
	X(lcore_busy_cycles, "lcore.busy_cycles")       \
	X(mal_truncated,     "malformed.truncated")     \
	X(mal_ip_header,     "malformed.ip_header")     \
	X(mal_ip_length,     "malformed.ip_length")     \
	X(mal_fragment,      "malformed.fragment")      \
	X(mal_vlan,          "malformed.vlan")          \
	X(mal_tcp_header,    "malformed.tcp_header")    \
	X(mal_tcp_option,    "malformed.tcp_option")    \
	X(mal_flags,         "malformed.flags")         \
	X(mal_checksum,      "malformed.checksum")      \
	X(mal_ipv6_ext,      "malformed.ipv6_ext")      \
	X(mal_ah,            "malformed.ah")            \
	X(mal_unparsed,      "malformed.unparsed")

struct sw_counters {
#define SW_X(field, name) uint64_t field;
	SW_COUNTERS(SW_X)
#undef SW_X
};

#define SW_NCOUNTERS (sizeof(struct sw_counters) / sizeof(uint64_t))

extern const char *const sw_counter_names[];

/* Counter indexed by position, for the generic readers below. */
static inline uint64_t
sw_counter_at(const struct sw_counters *c, unsigned int i)
{
	const volatile uint64_t *v = (const volatile uint64_t *)c;

	return v[i];
}

struct sw_app;

/* Sum of all workers into *out. */
void sw_stats_total(const struct sw_app *app, struct sw_counters *out);
/* Write {"total": {...}, "lcores": [...]} to f. */
void sw_stats_write_json(const struct sw_app *app, FILE *f);
int sw_stats_write_file(const struct sw_app *app, const char *path);
/* Register /synwall/stats and /synwall/lcore_stats with DPDK telemetry. */
int sw_stats_telemetry_register(struct sw_app *app);

#endif
