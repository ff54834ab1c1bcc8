/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "config.h"
#include "srclist.h"
#include "sw_const.h"

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
	c->lim.cookie_check_rate = SW_COOKIE_CHECK_RATE_DEFAULT;
	c->adopt_window_s = SW_ADOPT_WINDOW_DEFAULT_S;
	sw_cfg_set_idle_default(c, SW_FLOW_IDLE_DEFAULT_S);
	return c;
}

void
sw_cfg_set_idle_default(struct sw_config *c, uint32_t idle_s)
{
	unsigned int p;

	c->idle_default_s = idle_s;
	c->idle_min_s = idle_s;
	for (p = 0; p < 65536; p++)
		c->port_idle_s[p] = idle_s;
}

void
sw_cfg_update_idle_min(struct sw_config *c)
{
	uint32_t min = c->idle_default_s;
	unsigned int p;

	for (p = 0; p < 65536; p++)
		if (c->port_idle_s[p] < min)
			min = c->port_idle_s[p];
	c->idle_min_s = min;
}

void
sw_cfg_mode_change(const struct sw_config *old, struct sw_config *n, uint64_t now_ms)
{
	/* rounded up: the window is never shorter than configured */
	uint32_t until = (uint32_t)((now_ms + 999) / 1000) + n->adopt_window_s;
	unsigned int p;

	for (p = 0; p < 65536; p++) {
		bool was = sw_mode_protected(old->port_mode[p]);
		bool is = sw_mode_protected(n->port_mode[p]);

		/* on leaving protection, whatever for: a port may go on from drop to pass
		 * while its flows live */
		if (was && !is)
			n->port_flags[p] |= SW_PORTF_FLOWS;
		if (!was && is && n->adopt_window_s != 0)
			n->port_adopt_until_s[p] = until;
	}
}

struct sw_profile
sw_cfg_default_profile(const struct sw_limits *l)
{
	struct sw_profile p = {
		.mss = (uint16_t)l->mss,
		.wscale = (uint8_t)l->wscale,
		.flags = SW_PROF_SACK | SW_PROF_TS | SW_PROF_WS,
	};

	return p;
}

void
sw_cfg_default_profiles(struct sw_config *c)
{
	struct sw_profile p = sw_cfg_default_profile(&c->lim);
	unsigned int i;

	for (i = 0; i < 65536; i++)
		c->port_profile[i] = p;
}

/* The first port at or after p that no later range has taken (65536: none); halves the
 * path it walks, so that the walks of all the ranges together stay linear. */
static uint32_t
next_free(uint32_t *next, uint32_t p)
{
	while (next[p] != p) {
		next[p] = next[next[p]];
		p = next[p];
	}
	return p;
}

int
sw_cfg_set_ranges(struct sw_config *c, const struct sw_port_range *r, size_t n)
{
	/* next[p] == p: port p is not taken yet; next[65536] is the end */
	uint32_t *next = malloc(65537 * sizeof(*next));
	struct sw_profile def = sw_cfg_default_profile(&c->lim);
	uint32_t p;
	size_t i;

	if (next == NULL)
		return -ENOMEM;
	for (p = 0; p <= 65536; p++)
		next[p] = p;
	memset(c->port_mode, SW_MODE_PASS, sizeof(c->port_mode));
	for (p = 0; p < 65536; p++) {
		c->port_profile[p] = def;
		c->port_idle_s[p] = c->idle_default_s;
	}
	/* Last range first: a port is written by the first range here that covers it (the
	 * last one given) and then skipped by every other. */
	for (i = n; i-- > 0;) {
		const struct sw_port_range *pr = &r[i];
		uint32_t idle = pr->idle_s != 0 ? pr->idle_s : c->idle_default_s;

		for (p = next_free(next, pr->lo); p <= pr->hi; p = next_free(next, p)) {
			c->port_mode[p] = pr->mode;
			c->port_profile[p] = pr->profile;
			c->port_idle_s[p] = idle;
			next[p] = p + 1;
		}
	}
	free(next);
	sw_cfg_update_idle_min(c);
	return 0;
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
	if (d->current != NULL)
		sw_srcset_free(d->current->src);
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
	if (old->src != c->src)
		sw_srcset_free(old->src);
	free(old);
}

const char *
sw_limits_validate(const struct sw_limits *l, uint32_t hashsize, uint32_t bucketlimit,
		   char *why, size_t len)
{
	uint64_t cap = (uint64_t)hashsize * bucketlimit;

	if (l->cachelimit == 0 || l->cachelimit > cap) {
		snprintf(why, len, "cachelimit %u must be 1..%" PRIu64 " (hashsize %u x "
			 "bucketlimit %u)", l->cachelimit, cap, hashsize, bucketlimit);
		return "cachelimit";
	}
	if (l->rexmtlimit > SW_REXMTLIMIT_MAX) {
		snprintf(why, len, "rexmtlimit %u must be 0..%u", l->rexmtlimit,
			 SW_REXMTLIMIT_MAX);
		return "rexmtlimit";
	}
	if (l->mss < SW_MSS_MIN || l->mss > SW_MSS_MAX) {
		snprintf(why, len, "mss %u must be %u..%u", l->mss, SW_MSS_MIN, SW_MSS_MAX);
		return "mss";
	}
	if (l->wscale > SW_WSCALE_MAX) {
		snprintf(why, len, "wscale %u must be 0..%u", l->wscale, SW_WSCALE_MAX);
		return "wscale";
	}
	if (l->server_retries > SW_SERVER_RETRIES_MAX) {
		snprintf(why, len, "server_retries %u must be 0..%u", l->server_retries,
			 SW_SERVER_RETRIES_MAX);
		return "server_retries";
	}
	if (l->cookie_check_rate > SW_COOKIE_CHECK_RATE_MAX) {
		snprintf(why, len, "cookie_check_rate %u must be 0..%u", l->cookie_check_rate,
			 SW_COOKIE_CHECK_RATE_MAX);
		return "cookie_check_rate";
	}
	{
		const struct { const char *name; uint32_t v; } rates[] = {
			{ "syn_rate", l->syn_rate }, { "syn_burst", l->syn_burst },
			{ "reflect_rate", l->reflect_rate }, { "reflect_burst", l->reflect_burst },
		};
		unsigned int i;

		for (i = 0; i < RTE_DIM(rates); i++) {
			if (rates[i].v > SW_SOURCE_RATE_MAX) {
				snprintf(why, len, "%s %u must be 0..%u", rates[i].name, rates[i].v,
					 SW_SOURCE_RATE_MAX);
				return rates[i].name;
			}
		}
	}
	if (l->syncookies_only && !l->syncookies) {
		snprintf(why, len, "syncookies_only needs syncookies");
		return "syncookies_only";
	}
	return NULL;
}

const char *
sw_limits_check(const struct sw_limits *l, uint32_t hashsize, uint32_t bucketlimit)
{
	char why[160];

	return sw_limits_validate(l, hashsize, bucketlimit, why, sizeof(why));
}
