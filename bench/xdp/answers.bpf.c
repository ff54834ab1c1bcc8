/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN-ACKs coming back to the generator, counted and dropped at the client veth's own
 * XDP hook: the cheapest place to count them, on the generator's CPU, and the one place that
 * sees both kinds of answer a veth carries, the frames a defender's XDP program sent back
 * (XDP_TX into the peer, which veth hands on only while the peer runs an XDP program) and
 * the packets its stack or a DPDK port sent. Everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

__u64 synacks;

SEC("xdp")
int
answers(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > end || !th->syn || !th->ack)
		return XDP_PASS;
	__sync_fetch_and_add(&synacks, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
