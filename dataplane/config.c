/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct sw_config *
sw_cfg_new_default(void)
{
	struct sw_config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->lim.cachelimit = 0;  /* filled in from the sizes by the caller */
	c->lim.rexmtlimit = 3;
	c->lim.syncookies = 1;
	c->lim.syncookies_only = 0;
	c->lim.wscale = 7;
	c->lim.mss = 1460;
	c->lim.server_retries = 3;
	return c;
}

void
sw_cfg_default_profiles(struct sw_config *c)
{
	struct sw_profile p = {
		.mss = c->lim.mss,
		.wscale = c->lim.wscale,
		.flags = SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS,
	};
	unsigned int i;

	for (i = 0; i < 65536; i++)
		c->port_profile[i] = p;
}

struct sw_config *
sw_cfg_clone(const struct sw_config *c)
{
	struct sw_config *n = malloc(sizeof(*n));

	if (n == NULL)
		return NULL;
	memcpy(n, c, sizeof(*n));
	return n;
}

int
sw_cfg_domain_init(struct sw_cfg_domain *d, uint32_t nthreads, struct sw_config *initial)
{
	size_t sz = rte_rcu_qsbr_get_memsize(nthreads);
	void *mem;

	/* aligned_alloc, not rte_zmalloc: the control thread owns this, and tests run
	 * without EAL. */
	sz = (sz + RTE_CACHE_LINE_SIZE - 1) & ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	mem = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
	if (mem == NULL)
		return -ENOMEM;
	memset(mem, 0, sz);
	d->qs = mem;
	if (rte_rcu_qsbr_init(d->qs, nthreads) != 0) {
		free(mem);
		return -EINVAL;
	}
	d->nthreads = nthreads;
	initial->version = 1;
	__atomic_store_n(&d->current, initial, __ATOMIC_RELEASE);
	return 0;
}

void
sw_cfg_domain_fini(struct sw_cfg_domain *d)
{
	free(d->current);
	d->current = NULL;
	free(d->qs);
	d->qs = NULL;
}

void
sw_cfg_publish(struct sw_cfg_domain *d, struct sw_config *c)
{
	struct sw_config *old = d->current;

	c->version = old->version + 1;
	__atomic_store_n(&d->current, c, __ATOMIC_RELEASE);
	/* Every registered worker passes a quiescent state after this point only once it is
	 * done with whatever it loaded before: then old is unreachable. */
	rte_rcu_qsbr_synchronize(d->qs, RTE_QSBR_THRID_INVALID);
	free(old);
}

const char *
sw_limits_check(const struct sw_limits *l, uint32_t hashsize, uint32_t bucketlimit)
{
	if (l->cachelimit == 0)
		return "cachelimit must be at least 1";
	if ((uint64_t)l->cachelimit > (uint64_t)hashsize * bucketlimit)
		return "cachelimit must not exceed hashsize x bucketlimit";
	if (l->rexmtlimit > 10)
		return "rexmtlimit must be 0..10";
	if (l->mss < 536 || l->mss > 9000)
		return "mss must be 536..9000";
	if (l->wscale > 14)
		return "wscale must be 0..14";
	if (l->server_retries > 10)
		return "server_retries must be 0..10";
	return NULL;
}
