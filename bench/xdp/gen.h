/* SPDX-License-Identifier: BSD-3-Clause */
/* What xdpgen hands its XDP program: the template SYN and the sums of its fixed words. */
#ifndef SYNWALL_BENCH_GEN_H
#define SYNWALL_BENCH_GEN_H

/* Ethernet, IPv4 without options, TCP with Linux's 20 bytes of SYN options. */
#define GEN_FRAME_LEN 74

struct gen_template {
	__u8 frame[GEN_FRAME_LEN + 2];
	/* one's-complement sums, unfolded, with the source address, the source port and the
	 * checksums themselves zero: of the IPv4 header, and of the TCP pseudo-header and
	 * segment */
	__u32 ip_sum;
	__u32 tcp_sum;
};

#endif
