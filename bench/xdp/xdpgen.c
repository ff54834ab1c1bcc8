/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A SYN flood generator that outruns the defenders on a veth pair: the kernel's
 * BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES, as xdp-trafficgen uses)
 * runs gen.bpf.o, which writes a template SYN (this program's, in its map) into each frame
 * with a new source, again and again, and transmits every frame out of
 * --dev (XDP_TX), with no socket and no skb on the way out. Every frame run counts as
 * offered; what the veth peer refused (its ring full) is lost there, as on a wire.
 *
 * Bounded twice: --count frames at most, --seconds at most. Prints one JSON object.
 *
 *   xdpgen --prog gen.bpf.o --dev cli0 --smac M --dmac M --dst 198.18.0.2 --dport 80
 *          --count N --seconds S
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "gen.h"

#define CHUNK (1u << 18) /* frames a BPF_PROG_RUN call: about 0.1 s at full speed */

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "xdpgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		die("not a MAC address", s);
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			die("not a MAC address", s);
		mac[i] = (uint8_t)b[i];
	}
}

static unsigned long long
parse_num(const char *s, unsigned long long max, const char *what)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *e || v == 0 || v > max)
		die(what, s);
	return v;
}

static uint32_t
sum16(const void *p, size_t len, uint32_t s)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	return s;
}

static uint16_t
finish(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/*
 * The template: a SYN as Linux sends it (MSS 1460, SACK permitted, timestamps, window scale
 * 7), from the first source of the flood, with its checksums (the frame BPF_PROG_RUN is
 * given), and the sums of its words that the program does not change.
 */
static void
build_syn(struct gen_template *t, const uint8_t smac[6], const uint8_t dmac[6], uint32_t dst,
	  uint16_t dport)
{
	static const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					 0, 0, 0, 0, 1, 3, 3, 7};
	uint8_t *f = t->frame;
	struct ethhdr *eth = (void *)f;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	size_t tcp_len = sizeof(*th) + sizeof(opts);

	_Static_assert(sizeof(*eth) + sizeof(*ip) + sizeof(*th) + sizeof(opts) == GEN_FRAME_LEN,
		       "the template's layout");
	memset(t, 0, sizeof(*t));
	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + tcp_len));
	ip->frag_off = htons(0x4000);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->daddr = dst;
	th->dest = htons(dport);
	th->seq = htonl(0x12345678);
	th->doff = (uint16_t)(tcp_len / 4);
	th->syn = 1;
	th->window = htons(64240);
	memcpy(th + 1, opts, sizeof(opts));
	/* the sums with the source address, the source port and the checksums zero */
	t->ip_sum = sum16(ip, sizeof(*ip), 0);
	t->tcp_sum = sum16(th, tcp_len, sum16(&ip->daddr, 4, IPPROTO_TCP + (uint32_t)tcp_len));
	/* the first frame whole */
	ip->saddr = htonl(0xc6128000u);
	th->source = htons(1024);
	ip->check = finish(t->ip_sum + 0xc612 + 0x8000);
	th->check = finish(t->tcp_sum + 0xc612 + 0x8000 + 1024);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"prog", required_argument, NULL, 'p'},	 {"dev", required_argument, NULL, 'd'},
		{"smac", required_argument, NULL, 's'},	 {"dmac", required_argument, NULL, 'm'},
		{"dst", required_argument, NULL, 'a'},	 {"dport", required_argument, NULL, 'o'},
		{"count", required_argument, NULL, 'c'}, {"seconds", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *prog_path = NULL, *dev = NULL;
	uint8_t smac[6], dmac[6];
	struct gen_template tmpl;
	int have_smac = 0, have_dmac = 0, opt;
	struct in_addr dst = {0};
	unsigned long long count = 0, seconds = 0, sent = 0;
	unsigned int ifindex, dport = 0;
	struct bpf_object *obj;
	struct bpf_program *prog;
	double t0, t1;
	const size_t len = GEN_FRAME_LEN;
	struct bpf_map *map;
	uint32_t key = 0;
	int fd, err;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': prog_path = optarg; break;
		case 'd': dev = optarg; break;
		case 's': parse_mac(optarg, smac); have_smac = 1; break;
		case 'm': parse_mac(optarg, dmac); have_dmac = 1; break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				die("not an IPv4 address", optarg);
			break;
		case 'o': dport = (unsigned int)parse_num(optarg, 65535, "bad --dport"); break;
		case 'c': count = parse_num(optarg, 1ull << 40, "bad --count"); break;
		case 't': seconds = parse_num(optarg, 600, "bad --seconds"); break;
		default: die("usage: see the comment at the top of xdpgen.c", NULL);
		}
	}
	if (!prog_path || !dev || !have_smac || !have_dmac || !dst.s_addr || !dport || !count ||
	    !seconds)
		die("--prog, --dev, --smac, --dmac, --dst, --dport, --count and --seconds are all "
		    "needed", NULL);
	/* The flood stays inside the benchmark's networks: the destination in 198.18.0.0/15. */
	if ((ntohl(dst.s_addr) & 0xfffe0000u) != 0xc6120000u)
		die("the destination must be in 198.18.0.0/15", NULL);
	ifindex = if_nametoindex(dev);
	if (!ifindex)
		die("no such interface", dev);

	build_syn(&tmpl, smac, dmac, dst.s_addr, (uint16_t)dport);
	obj = bpf_object__open_file(prog_path, NULL);
	if (!obj)
		die("cannot open", prog_path);
	err = bpf_object__load(obj);
	if (err)
		die("cannot load", strerror(-err));
	prog = bpf_object__find_program_by_name(obj, "gen");
	if (!prog)
		die("no program 'gen' in", prog_path);
	fd = bpf_program__fd(prog);
	map = bpf_object__find_map_by_name(obj, "template");
	if (!map || bpf_map__update_elem(map, &key, sizeof(key), &tmpl, sizeof(tmpl), BPF_ANY))
		die("cannot write the template into the program's map", NULL);

	t0 = now_s();
	t1 = t0;
	while (sent < count && t1 - t0 < (double)seconds) {
		struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = ifindex};
		unsigned long long left = count - sent;
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = tmpl.frame, .data_size_in = (uint32_t)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .repeat = left < CHUNK ? (uint32_t)left : CHUNK);

		err = bpf_prog_test_run_opts(fd, &run);
		if (err)
			die("BPF_PROG_RUN (live frames) failed", strerror(errno));
		sent += run.repeat;
		t1 = now_s();
	}
	printf("{\"frames\": %llu, \"seconds\": %.6f, \"pps\": %.0f}\n", sent, t1 - t0,
	       (double)sent / (t1 - t0));
	bpf_object__close(obj);
	return 0;
}
