/* SPDX-License-Identifier: BSD-3-Clause */
#include "clock.h"

uint64_t sw_tsc_per_ms;

int
sw_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz();

	if (hz < 1000)
		return -1;
	sw_tsc_per_ms = hz / 1000;
	return 0;
}
