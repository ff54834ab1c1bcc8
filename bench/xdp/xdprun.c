/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An XDP program's own run time per packet, without I/O: BPF_PROG_RUN of an attached
 * program (by id) over one frame, one run per call, --runs calls. One run per call because
 * a program that rewrites its frame in place (a SYN into a SYN-ACK) would see its own answer
 * on a repeat; each call starts from a fresh copy of the frame. The kernel times each run
 * (the duration BPF_PROG_RUN reports); prints the median, the 10th and 90th percentiles and
 * the mean in ns, and how many runs returned XDP_TX, as one JSON object.
 *
 *   xdprun --prog-id ID --data FILE --runs N
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "xdprun: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"prog-id", required_argument, NULL, 'i'},
		{"data", required_argument, NULL, 'd'},
		{"runs", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	unsigned long id = 0, runs = 0, tx = 0;
	const char *path = NULL;
	uint8_t frame[2048], out[4096];
	uint32_t *ns;
	double sum = 0;
	size_t len;
	FILE *f;
	int fd, opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long *v = opt == 'i' ? &id : &runs;
		char *e;

		switch (opt) {
		case 'i':
		case 'r':
			errno = 0;
			*v = strtoul(optarg, &e, 10);
			if (errno || e == optarg || *e)
				die("not a number", optarg);
			break;
		case 'd': path = optarg; break;
		default: die("usage: xdprun --prog-id ID --data FILE --runs N", NULL);
		}
	}
	if (!id || !path || !runs || runs > 10000000)
		die("--prog-id, --data and --runs (1..10000000) are needed", NULL);
	f = fopen(path, "rb");
	if (!f)
		die("cannot open", path);
	len = fread(frame, 1, sizeof(frame), f);
	fclose(f);
	if (len < 14)
		die("the frame is too short", path);
	fd = bpf_prog_get_fd_by_id((uint32_t)id);
	if (fd < 0)
		die("no such program", strerror(errno));
	ns = calloc(runs, sizeof(*ns));
	if (!ns)
		die("out of memory", NULL);
	for (unsigned long i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = (uint32_t)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(fd, &run))
			die("BPF_PROG_RUN failed", strerror(errno));
		ns[i] = run.duration;
		sum += run.duration;
		tx += run.retval == XDP_TX;
	}
	qsort(ns, runs, sizeof(*ns), cmp_u32);
	printf("{\"runs\": %lu, \"median_ns\": %u, \"p10_ns\": %u, \"p90_ns\": %u, "
	       "\"mean_ns\": %.1f, \"xdp_tx\": %lu}\n", runs, ns[runs / 2], ns[runs / 10],
	       ns[runs * 9 / 10], sum / (double)runs, tx);
	free(ns);
	return 0;
}
