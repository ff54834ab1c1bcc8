/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' clock: milliseconds from the TSC, no system call. Read once per loop round
 * by each worker (the stages take that round's value from their lcore state, never the
 * clock itself, so that a unit test sets the time).
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

/* TSC cycles per millisecond: written once by sw_clock_init() before any worker starts,
 * read by every thread after. */
extern uint64_t sw_tsc_per_ms;

/* Calibrate from EAL's TSC frequency (after rte_eal_init). Returns 0, or -1 without one. */
int sw_clock_init(void);

static inline uint64_t
sw_now_ms(void)
{
	return rte_rdtsc() / sw_tsc_per_ms;
}

#endif
