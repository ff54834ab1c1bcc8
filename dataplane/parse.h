/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser. Works on a flat buffer (one mbuf segment), never trusts a length field:
 * every header and option is checked against the bytes really present.
 */
#ifndef SW_PARSE_H
#define SW_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A connection's addresses and ports, oriented client -> server. Addresses in network
 * order (IPv4 in the first 4 bytes), ports in host order. */
struct sw_tuple {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint8_t v6;
};

/* TCP options we understand. */
#define SW_OPT_MSS     0x01
#define SW_OPT_WS      0x02
#define SW_OPT_SACKOK  0x04
#define SW_OPT_TS      0x08
#define SW_OPT_SACK    0x10     /* SACK blocks present */

/* The MSS a peer that sends no MSS option is taken to accept (RFC 9293 3.7.1). */
#define SW_TCP_DEFAULT_MSS 536
/* The smallest MSS Linux accepts from a peer (TCP_MIN_MSS). */
#define SW_TCP_MIN_MSS     88

struct sw_tcpopts {
	uint8_t present;            /* SW_OPT_* */
	uint8_t wscale;
	uint16_t mss;
	uint32_t tsval;
	uint32_t tsecr;
	uint8_t sack_off;           /* offset of the SACK option from the TCP header */
	uint8_t sack_len;
	uint8_t ts_off;             /* offset of the timestamps option from the TCP header */
	uint8_t eol_off;            /* offset of an end-of-options byte, 0 if none */
};

/* TCP flags */
#define SW_TH_FIN 0x01
#define SW_TH_SYN 0x02
#define SW_TH_RST 0x04
#define SW_TH_PSH 0x08
#define SW_TH_ACK 0x10
#define SW_TH_URG 0x20

/* What the first stage found. Negative values are malformed-packet reasons. */
enum sw_l3_kind {
	SW_L3_OTHER = 0,        /* not IP, or IP but nothing we look at: bridge unchanged */
	SW_L3_TCP,
	SW_L3_ICMP,             /* ICMPv4 or ICMPv6 */
};

enum sw_bad {
	SW_BAD_NONE = 0,
	SW_BAD_TRUNCATED,
	SW_BAD_IP_HEADER,
	SW_BAD_IP_LENGTH,
	SW_BAD_FRAGMENT,
	SW_BAD_VLAN,
	SW_BAD_TCP_HEADER,
	SW_BAD_TCP_OPTION,
	SW_BAD_FLAGS,
	SW_BAD_CHECKSUM,
	SW_BAD_IPV6_EXT,
	SW_BAD_AH,
	SW_BAD_UNPARSED,        /* could carry TCP the parser cannot see: the rule decides */
	SW_BAD_MAX
};

/* sw_pkt.ext */
#define SW_EXT_V6  0x01         /* IPv6 extension headers (l3_len > 40) */
#define SW_EXT_AH  0x02         /* an authentication header among them (IPv4 or IPv6) */

struct sw_pkt {
	uint16_t l2_len;            /* 14, or 18 with an 802.1Q tag */
	uint16_t l3_len;            /* IP header length (IPv6: 40) */
	uint16_t l4_len;            /* IP payload length (TCP header + data), from the IP header */
	uint16_t th_len;            /* TCP header length with options (stage 2) */
	uint16_t vlan_tci;
	uint8_t has_vlan;
	uint8_t ext;                /* SW_EXT_*: headers between the IP header and TCP */
	uint8_t l4_proto;
	uint8_t ttl;
	uint8_t tcp_flags;
	uint8_t ip;                 /* an IP header was read: t.v6 and t.src are the frame's */
	uint16_t win;
	uint32_t seq;
	uint32_t ack;
	struct sw_tuple t;
	struct sw_tcpopts opt;
};

/*
 * Stage 1: Ethernet, one VLAN tag, IPv4/IPv6 headers, and for TCP the ports. Returns an
 * sw_l3_kind, or -(sw_bad) when the frame is malformed at this level.
 */
int sw_parse_l3(const uint8_t *data, uint32_t len, struct sw_pkt *pkt);

/*
 * Stage 2, only for TCP on protected ports: TCP header, flags, sequence numbers, options.
 * Returns 0 or -(sw_bad).
 */
int sw_parse_tcp(const uint8_t *data, uint32_t len, struct sw_pkt *pkt);

/* Parse just the option area of a TCP header. Returns 0 or -(SW_BAD_TCP_OPTION). */
int sw_parse_tcp_options(const uint8_t *opts, uint32_t optlen, struct sw_tcpopts *out);
/* The same without the fast paths for the common layouts: every option walked (tests). */
int sw_parse_tcp_options_loop(const uint8_t *opts, uint32_t optlen, struct sw_tcpopts *out);

/* Verify IPv4 header and TCP checksums in software. */
bool sw_tcp_checksum_ok(const uint8_t *data, const struct sw_pkt *pkt);

/*
 * For an ICMP destination-unreachable (or ICMPv6 packet-too-big) quoting a TCP segment (the first 8 bytes of its TCP
 * header), extract the quoted segment's tuple (as quoted: src is the sender of the quoted
 * segment) and sequence number. Returns 0 when it is such a message, -1 otherwise.
 */
int sw_parse_icmp_unreach(const uint8_t *data, uint32_t len, const struct sw_pkt *pkt,
			  struct sw_tuple *quoted, uint32_t *quoted_seq);

/* The same connection seen from the other end. */
static inline void
sw_tuple_reverse(struct sw_tuple *out, const struct sw_tuple *in)
{
	out->v6 = in->v6;
	memcpy(out->src, in->dst, 16);
	memcpy(out->dst, in->src, 16);
	out->sport = in->dport;
	out->dport = in->sport;
}

/* Compare two tuples. */
static inline bool
sw_tuple_eq(const struct sw_tuple *a, const struct sw_tuple *b)
{
	unsigned int n = a->v6 ? 16 : 4;
	unsigned int i;

	if (a->v6 != b->v6 || a->sport != b->sport || a->dport != b->dport)
		return false;
	for (i = 0; i < n; i++)
		if (a->src[i] != b->src[i] || a->dst[i] != b->dst[i])
			return false;
	return true;
}

#endif
