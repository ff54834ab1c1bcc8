/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "sw_const.h"
#include "syncache.h"

size_t
sw_syncache_memsize(uint32_t hashsize, uint32_t bucketlimit)
{
	return sw_ctab_memsize(hashsize, bucketlimit);
}

int
sw_syncache_init(struct sw_syncache *sc, void *mem, uint32_t hashsize, uint32_t bucketlimit,
		 uint32_t seed)
{
	memset(sc, 0, sizeof(*sc));
	return sw_ctab_init(&sc->tab, mem, hashsize, bucketlimit, seed);
}

int
sw_syncache_attach(struct sw_syncache *sc, void *mem, uint32_t hashsize, uint32_t bucketlimit,
		   uint32_t seed)
{
	memset(sc, 0, sizeof(*sc));
	return sw_ctab_attach(&sc->tab, mem, hashsize, bucketlimit, seed);
}

static int
entry_valid(const void *e, void *arg)
{
	(void)e;
	(void)arg;
	return 1;
}

/* Older first: by when the SYN came, its first retransmit being a second after. */
static uint64_t
entry_age(const void *e, void *arg)
{
	const struct sw_sc_entry *se = e;
	uint32_t now = *(const uint32_t *)arg;
	uint32_t since = se->expire_ms - sw_syncache_rto_ms(se->rxmits);

	return (uint64_t)(UINT32_MAX - (now - since));
}

int64_t
sw_syncache_adopt(struct sw_syncache *sc, const struct sw_ctab_saved *saved, uint32_t now_ms,
		  int *rebuilt)
{
	const struct sw_ctab_rebuild_ops ops = {
		.valid = entry_valid, .age = entry_age, .hash2 = NULL, .arg = &now_ms,
	};

	return sw_ctab_adopt(&sc->tab, saved, &ops, rebuilt);
}

struct sw_sc_entry *
sw_syncache_insert(struct sw_syncache *sc, const struct sw_tuple *t, uint32_t hash,
		   uint32_t cachelimit, unsigned int *evicted)
{
	return sw_ctab_insert(&sc->tab, t, hash, cachelimit, evicted, NULL);
}

uint32_t
sw_syncache_rto_ms(unsigned int rxmits)
{
	if (rxmits > 6)
		rxmits = 6;
	return SW_SYNACK_RTO_MS << rxmits;
}

uint32_t
sw_syncache_age_ms(const struct sw_sc_entry *e, uint32_t now_ms)
{
	/* when the last SYN-ACK went: its timer is due rto(rxmits) after */
	uint32_t start = e->expire_ms - sw_syncache_rto_ms(e->rxmits);
	unsigned int k;

	for (k = 0; k < e->rxmits; k++)
		start -= sw_syncache_rto_ms(k);
	/* the sw_ms clock wraps: the difference is right across a wrap */
	return now_ms - start;
}

bool
sw_syncache_pause(struct sw_syncache *sc, uint64_t now_ms)
{
	uint64_t delta;

	if (sc->paused)
		return false;
	delta = (uint64_t)SW_SC_PAUSE_MS << sc->pause_backoff;
	/* A flood that comes back within one more pause of the last one is the same flood. */
	if (sc->pause_until_ms + delta > now_ms && sc->pause_until_ms != 0) {
		if (sc->pause_backoff < SW_SC_PAUSE_MAX_BACKOFF) {
			delta <<= 1;
			sc->pause_backoff++;
		}
	} else {
		delta = SW_SC_PAUSE_MS;
		sc->pause_backoff = 0;
	}
	sc->paused = 1;
	sc->pause_until_ms = now_ms + delta;
	return true;
}

bool
sw_syncache_paused(struct sw_syncache *sc, uint64_t now_ms)
{
	if (sc->paused && now_ms >= sc->pause_until_ms)
		sc->paused = 0;
	return sc->paused;
}

struct sc_timer_call {
	sw_sc_timer_fn fn;
	void *arg;
};

static uint32_t
sc_due(const void *entry, const void *arg)
{
	(void)arg;
	return ((const struct sw_sc_entry *)entry)->expire_ms;
}

static int
sc_fire(void *entry, void *arg)
{
	const struct sc_timer_call *c = arg;

	return c->fn(entry, c->arg) == SW_SC_DROP;
}

uint32_t
sw_syncache_sweep(struct sw_syncache *sc, uint64_t now_ms, uint32_t period_ms,
		  sw_sc_timer_fn fn, void *arg)
{
	struct sc_timer_call c = { fn, arg };
	const struct sw_ctab_timer tm = { sc_due, sc_fire, &c };

	return sw_ctab_sweep(&sc->tab, &sc->sweep, now_ms, period_ms, &tm, NULL);
}
