/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "bytes.h"
#include "csum.h"

void
sw_csum_patch(uint8_t *base, uint8_t *csum, uint8_t *p, const uint8_t *bytes, unsigned int len)
{
	unsigned int off = (unsigned int)(p - base);
	unsigned int from = off & ~1u;
	unsigned int to = (off + len + 1) & ~1u;
	uint32_t old_sum, new_sum, hc;

	if (len == 0)
		return;
	old_sum = sw_cksum_be16(base + from, to - from);
	memcpy(p, bytes, len);
	new_sum = sw_cksum_be16(base + from, to - from);
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
	hc = sw_rd16(csum);
	hc = (~hc & 0xffff) + (~sw_cksum_fold(old_sum) & 0xffff) + sw_cksum_fold(new_sum);
	sw_wr16(csum, (uint16_t)~sw_cksum_fold(hc));
}
