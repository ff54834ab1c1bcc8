/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Big-endian loads and stores at any alignment, for header fields: one load or store and a
 * byte swap each (memcpy of a fixed size is a plain move), not a byte at a time.
 */
#ifndef SW_BYTES_H
#define SW_BYTES_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

static inline uint16_t
sw_rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
sw_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static inline void
sw_wr16(uint8_t *p, uint16_t v)
{
	uint16_t be = rte_cpu_to_be_16(v);

	memcpy(p, &be, sizeof(be));
}

static inline void
sw_wr32(uint8_t *p, uint32_t v)
{
	uint32_t be = rte_cpu_to_be_32(v);

	memcpy(p, &be, sizeof(be));
}

/* Eight bytes in network order: v's most significant byte first. */
static inline void
sw_wr64(uint8_t *p, uint64_t v)
{
	uint64_t be = rte_cpu_to_be_64(v);

	memcpy(p, &be, sizeof(be));
}

#endif
