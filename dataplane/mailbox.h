/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands from the control thread to one worker: operations on the worker's own state
 * (a syncache page, a flush) that only the worker may carry out. Each worker has two
 * single-producer single-consumer rings of command pointers: `todo` (control -> worker) and
 * `done` (worker -> control). The control thread allocates a command, posts it and waits
 * for it to come back; the worker, once per loop round, carries out what is posted and
 * returns it. Neither side writes the other's fields: a command belongs to whoever holds it.
 * A command whose wait timed out stays the mailbox's: the control thread frees it when it
 * comes back.
 */
#ifndef SW_MAILBOX_H
#define SW_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "lcore.h"

#define SW_MAILBOX_SIZE 8       /* ring size, a power of 2: 7 commands in flight per worker */

enum sw_cmd_type {
	SW_CMD_DUMP_SYNCACHE = 1,       /* a page of the syncache */
	SW_CMD_FLUSH_SYNCACHE,          /* every entry removed */
};

/* A syncache entry as a dump shows it. */
struct sw_dump_entry {
	struct sw_tuple t;
	uint32_t irs;
	uint32_t iss;
	uint16_t mss;           /* 0: none */
	uint8_t rxmits;
	uint8_t flags;          /* SW_SCF_* */
	uint8_t wscale;
	uint32_t age_ms;        /* sw_syncache_age_ms() as the worker dumped it */
};

struct sw_cmd {
	enum sw_cmd_type type;
	union {
		struct {
			/* request: start at bucket, position pos; room for max entries */
			uint32_t bucket;
			uint32_t pos;
			uint32_t max;
			/* answer */
			uint32_t n;
			bool more;              /* a next page starts at next_bucket/next_pos */
			uint32_t next_bucket;
			uint32_t next_pos;
		} dump;
		struct {
			uint64_t flushed;       /* answer */
		} flush;
	};
	struct sw_dump_entry entries[];  /* dump: max of them */
};

struct sw_mailbox {
	struct rte_ring *todo;  /* enqueued by control, dequeued by the worker */
	struct rte_ring *done;  /* enqueued by the worker, dequeued by control */
	/* control thread only: commands posted and not yet back */
	unsigned int in_flight;
};

/* Memory for a mailbox's two rings (cache-line aligned, zeroed by the caller). */
size_t sw_mailbox_memsize(void);
int sw_mailbox_init(struct sw_mailbox *mb, void *mem);

/* Control thread: a new command (malloc'ed; a dump with room for max entries). */
struct sw_cmd *sw_cmd_new(enum sw_cmd_type type, uint32_t max);
void sw_cmd_free(struct sw_cmd *c);

/*
 * Control thread: post c and wait up to timeout_ms for the worker to carry it out.
 * 0: done, c is the caller's again. -1: not done in time (or the mailbox is full): c
 * belongs to the mailbox from now on, the caller must not touch it.
 */
int sw_mailbox_call(struct sw_mailbox *mb, struct sw_cmd *c, uint32_t timeout_ms);

/* Control thread: free the commands that came back after their wait ended (at stop). */
void sw_mailbox_drain(struct sw_mailbox *mb);

/* Worker: carry out what is posted, on its own state. */
void sw_mailbox_serve(struct sw_mailbox *mb, struct sw_lcore *lc);

/* Worker, once per round: anything posted? */
static inline bool
sw_mailbox_pending(const struct sw_mailbox *mb)
{
	return rte_ring_empty(mb->todo) == 0;
}

#endif
