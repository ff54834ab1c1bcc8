/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TSC frequency, measured: rdtsc against CLOCK_MONOTONIC_RAW over a sleep, several
 * times; prints the median in Hz. (synwall-dp prints nothing of rte_get_tsc_hz(); on an
 * invariant TSC this is the same number.) Usage: tsc_hz [milliseconds per round]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 100;
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
	double hz[5];
	int i;

	for (i = 0; i < 5; i++) {
		double t0 = now_s();
		uint64_t c0 = __rdtsc();

		nanosleep(&d, NULL);
		hz[i] = (double)(__rdtsc() - c0) / (now_s() - t0);
	}
	qsort(hz, 5, sizeof(hz[0]), cmp);
	printf("%.0f\n", hz[2]);
	return 0;
}
