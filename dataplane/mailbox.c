/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <time.h>

#include "mailbox.h"

static size_t
ring_size(void)
{
	return RTE_ALIGN_CEIL((size_t)rte_ring_get_memsize(SW_MAILBOX_SIZE),
			      RTE_CACHE_LINE_SIZE);
}

size_t
sw_mailbox_memsize(void)
{
	return 2 * ring_size();
}

int
sw_mailbox_init(struct sw_mailbox *mb, void *mem)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ;

	mb->todo = mem;
	mb->done = (struct rte_ring *)((uint8_t *)mem + ring_size());
	mb->in_flight = 0;
	if (rte_ring_init(mb->todo, "sw_mb_todo", SW_MAILBOX_SIZE, flags) != 0 ||
	    rte_ring_init(mb->done, "sw_mb_done", SW_MAILBOX_SIZE, flags) != 0)
		return -1;
	return 0;
}

struct sw_cmd *
sw_cmd_new(enum sw_cmd_type type, uint32_t max)
{
	struct sw_cmd *c = calloc(1, sizeof(*c) + (size_t)max * sizeof(c->entries[0]));

	if (c == NULL)
		return NULL;
	c->type = type;
	if (type == SW_CMD_DUMP_SYNCACHE)
		c->dump.max = max;
	return c;
}

void
sw_cmd_free(struct sw_cmd *c)
{
	free(c);
}

/* Control: take back what the worker has returned; true when `want` was among it. */
static bool
collect(struct sw_mailbox *mb, const struct sw_cmd *want)
{
	void *back;
	bool found = false;

	while (rte_ring_dequeue(mb->done, &back) == 0) {
		mb->in_flight--;
		if (back == want)
			found = true;
		else
			sw_cmd_free(back);      /* its caller gave up waiting */
	}
	return found;
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
sw_mailbox_call(struct sw_mailbox *mb, struct sw_cmd *c, uint32_t timeout_ms)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = 20000 };
	uint64_t deadline = monotonic_ms() + timeout_ms;

	collect(mb, NULL);
	/* The worker can always return what it took: `done` has room for all in flight. */
	if (mb->in_flight >= rte_ring_get_capacity(mb->done) ||
	    rte_ring_enqueue(mb->todo, c) != 0) {
		sw_cmd_free(c);
		return -1;
	}
	mb->in_flight++;
	while (!collect(mb, c)) {
		if (monotonic_ms() > deadline)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

void
sw_mailbox_drain(struct sw_mailbox *mb)
{
	void *c;

	collect(mb, NULL);
	/* Posted and never taken: the worker has stopped. */
	while (rte_ring_dequeue(mb->todo, &c) == 0) {
		mb->in_flight--;
		sw_cmd_free(c);
	}
}

static void
dump_syncache(struct sw_lcore *lc, struct sw_cmd *c)
{
	struct sw_ctab *t = &lc->sc.tab;
	uint32_t b = c->dump.bucket, k = c->dump.pos;

	c->dump.n = 0;
	c->dump.more = false;
	for (; b < t->hashsize; b++, k = 0) {
		for (; k < sw_ctab_bucket_count(t, b); k++) {
			const struct sw_sc_entry *e = sw_ctab_bucket_entry(t, b, k);
			struct sw_dump_entry *d;

			if (c->dump.n == c->dump.max) {
				c->dump.next_bucket = b;
				c->dump.next_pos = k;
				c->dump.more = true;
				return;
			}
			d = &c->entries[c->dump.n++];
			sw_ctab_tuple(t, e, &d->t);
			d->irs = e->irs;
			d->iss = e->iss;
			d->mss = (e->flags & SW_SCF_MSS) ? e->mss : 0;
			d->rxmits = e->rxmits;
			d->flags = e->flags;
			d->wscale = e->wscale;
			d->age_ms = sw_syncache_age_ms(e, (uint32_t)lc->now_ms);
		}
	}
}

static void
flush_syncache(struct sw_lcore *lc, struct sw_cmd *c)
{
	struct sw_ctab *t = &lc->sc.tab;
	void *e;

	c->flush.flushed = 0;
	while ((e = sw_ctab_oldest(t)) != NULL) {
		sw_ctab_remove(t, e);
		c->flush.flushed++;
	}
}

void
sw_mailbox_serve(struct sw_mailbox *mb, struct sw_lcore *lc)
{
	void *p;

	while (rte_ring_dequeue(mb->todo, &p) == 0) {
		struct sw_cmd *c = p;

		switch (c->type) {
		case SW_CMD_DUMP_SYNCACHE:
			dump_syncache(lc, c);
			break;
		case SW_CMD_FLUSH_SYNCACHE:
			flush_syncache(lc, c);
			break;
		}
		/* cannot fail: control keeps no more in flight than `done` holds */
		rte_ring_enqueue(mb->done, c);
	}
}
