/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN generator's XDP program, run by xdpgen through BPF_PROG_RUN in live-frames mode:
 * every run writes the whole template SYN over the frame (the kernel does not give back a
 * fresh copy: a frame returns from the defender as whatever the defender made of it), sets
 * the source address (198.18.128.0/17, one after another) and the source port, finishes both
 * checksums from the template's sums and sends the frame out of the interface named in the
 * run's context (XDP_TX).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gen.h"

#define SRC_FIRST 0xc6128000u /* 198.18.128.0 */
#define SRC_BITS 15           /* a /17 */
#define SPORT_FIRST 1024u
#define SPORTS 64512u

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_template);
} template SEC(".maps");

__u64 runs; /* one generator on one CPU: no atomics */

static __always_inline __u16
finish(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return bpf_htons(~s & 0xffff);
}

SEC("xdp")
int
gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct gen_template *t;
	struct iphdr *ip;
	struct tcphdr *th;
	__u32 key = 0, saddr, addr_sum;
	__u16 sport;
	__u64 n;

	if (data + GEN_FRAME_LEN > end)
		return XDP_ABORTED;
	t = bpf_map_lookup_elem(&template, &key);
	if (!t)
		return XDP_ABORTED;
	__builtin_memcpy(data, t->frame, GEN_FRAME_LEN);
	ip = data + sizeof(struct ethhdr);
	th = (void *)(ip + 1);
	n = runs++;
	saddr = SRC_FIRST + (__u32)(n & ((1u << SRC_BITS) - 1));
	sport = (__u16)(SPORT_FIRST + (__u32)((n >> SRC_BITS) % SPORTS));
	addr_sum = (saddr >> 16) + (saddr & 0xffff);
	ip->saddr = bpf_htonl(saddr);
	th->source = bpf_htons(sport);
	ip->check = finish(t->ip_sum + addr_sum);
	th->check = finish(t->tcp_sum + addr_sum + sport);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
