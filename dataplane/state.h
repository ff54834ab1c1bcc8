/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state region (--state FILE): the workers' syncaches and flow tables and the learned
 * server profiles live in one file mapped shared (on tmpfs or hugetlbfs), so that the next
 * synwall-dp to start on it, after a crash, a restart or an upgrade, takes them over and
 * every spliced connection goes on. docs/DATAPLANE.md, "Restarts", says what holds.
 *
 *   header (struct sw_state_hdr, one page)
 *   per worker: its syncache's memory, its flow table's (page-aligned)
 *   the learned profiles (struct sw_learn_table)
 *
 * Only the owner writes: the file is locked (flock) while a process has it mapped, and the
 * next one waits for the lock. The header says whose layout it is (SW_STATE_LAYOUT and a
 * fingerprint of the structures' sizes and offsets) and the shape (workers, table sizes);
 * a region of another layout or shape is not taken over: the tables start empty. It also
 * says whether its last owner stopped cleanly (having saved each table's scalars): if not,
 * each table is rebuilt from its slots (ctab.h, sw_ctab_adopt), and an entry that was being
 * written when the owner died is the most that can be lost.
 */
#ifndef SW_STATE_H
#define SW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctab.h"
#include "sw_const.h"

/* Changed whenever the meaning of anything in the region changes. */
#define SW_STATE_LAYOUT 1u
#define SW_STATE_MAGIC  0x3174617473777300ull     /* "\0swstat1" */

struct sw_state_shape {
	uint32_t layout;                /* SW_STATE_LAYOUT */
	uint32_t fingerprint;           /* sw_state_fingerprint() */
	uint32_t workers;
	uint32_t hashsize;
	uint32_t bucketlimit;
	uint32_t flows;
	uint64_t size;                  /* bytes in all */
};

struct sw_state_worker {
	uint64_t sc_off;                /* where its syncache's memory is */
	uint64_t ft_off;                /* and its flow table's */
	uint32_t seed;                  /* both tables' hash seed */
	uint32_t ts_offset;             /* its TSvals' offset from the clock */
	struct sw_ctab_saved sc;        /* the scalars saved at a clean stop */
	struct sw_ctab_saved ft;
};

struct sw_state_hdr {
	uint64_t magic;
	struct sw_state_shape shape;
	uint64_t tsc_per_ms;            /* the clock the tables' times are on */
	uint64_t generation;            /* processes that took it, the current one included */
	uint64_t stopped_tsc;           /* a clean stop's TSC: the clock never goes back */
	char boot_id[40];               /* the kernel's boot: a TSC of another boot means nothing */
	uint32_t clean;                 /* the last owner stopped cleanly */
	int32_t owner_pid;
	uint64_t learn_off;
	struct sw_state_worker w[SW_MAX_WORKERS];
};

struct sw_state {
	int fd;
	uint8_t *base;
	size_t size;
	struct sw_state_hdr *hdr;
	bool adopted;                   /* the tables are the last owner's */
	bool clean;                     /* ... who stopped cleanly */
};

/* The layout's fingerprint: the sizes and offsets the region's meaning rests on. */
uint32_t sw_state_fingerprint(void);
/* The shape of a region for these sizes; its size and the blocks' offsets in *hdr too. */
void sw_state_shape_of(struct sw_state_shape *s, struct sw_state_hdr *hdr, uint32_t workers,
		       uint32_t hashsize, uint32_t bucketlimit, uint32_t flows);

/*
 * Open, lock (waiting up to wait_ms for the last owner to let go) and map path; take over
 * what is there if it is of this layout and shape and its clock can be trusted, else start
 * it empty, saying why in note (a line for the log; "" when there is nothing to say).
 * Returns 0, or -1 with the reason in note (the file cannot be used at all).
 */
int sw_state_open(struct sw_state *st, const char *path, uint32_t workers, uint32_t hashsize,
		  uint32_t bucketlimit, uint32_t flows, uint64_t tsc_per_ms, uint64_t wait_ms,
		  char *note, size_t len);

static inline void *
sw_state_at(const struct sw_state *st, uint64_t off)
{
	return st->base + off;
}

/* The end of ownership: with clean, the workers' scalars are saved already (the caller's)
 * and the region is marked as cleanly stopped. Unmaps and unlocks. */
void sw_state_close(struct sw_state *st, bool clean);

#endif
