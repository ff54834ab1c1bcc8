/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_jhash.h>

#include "flowtab.h"
#include "profile.h"
#include "state.h"
#include "syncache.h"

#define STATE_HDR_SIZE 4096u
#define STATE_ALIGN    4096u
#define LOCK_POLL_MS   10u

_Static_assert(sizeof(struct sw_state_hdr) <= STATE_HDR_SIZE, "the header fits its page");

static inline uint64_t
align_up(uint64_t n, uint64_t a)
{
	return (n + a - 1) / a * a;
}

uint32_t
sw_state_fingerprint(void)
{
	/* What an entry, a bucket and the learned profiles look like: a change to any of
	 * them without a new SW_STATE_LAYOUT still keeps a region from being misread. */
	const uint32_t items[] = {
		sizeof(struct sw_ctab_hdr), offsetof(struct sw_ctab_hdr, user),
		sizeof(struct sw_flow), offsetof(struct sw_flow, last_ms),
		offsetof(struct sw_flow, iss), offsetof(struct sw_flow, irs),
		offsetof(struct sw_flow, seq_delta), offsetof(struct sw_flow, ts_delta),
		offsetof(struct sw_flow, ts_recent), offsetof(struct sw_flow, eth_client),
		offsetof(struct sw_flow, vlan_tci), offsetof(struct sw_flow, mss8),
		sizeof(struct sw_sc_entry), offsetof(struct sw_sc_entry, irs),
		offsetof(struct sw_sc_entry, expire_ms), offsetof(struct sw_sc_entry, mss),
		offsetof(struct sw_sc_entry, mac8), offsetof(struct sw_sc_entry, mss_offer),
		sizeof(struct sw_v6pair), sizeof(struct sw_learned), sizeof(struct sw_learn_table),
		SW_FLOW_BUCKET_SLOTS, (uint32_t)sw_ctab_memsize(64, 30),
		(uint32_t)sw_ctab_memsize(1024, 8), (uint32_t)sw_ctab_memsize(16, 255),
	};

	return rte_jhash(items, sizeof(items), SW_STATE_LAYOUT);
}

void
sw_state_shape_of(struct sw_state_shape *s, struct sw_state_hdr *hdr, uint32_t workers,
		  uint32_t hashsize, uint32_t bucketlimit, uint32_t flows)
{
	uint64_t off = STATE_HDR_SIZE;
	uint32_t q;

	memset(s, 0, sizeof(*s));
	memset(hdr, 0, sizeof(*hdr));
	s->layout = SW_STATE_LAYOUT;
	s->fingerprint = sw_state_fingerprint();
	s->workers = workers;
	s->hashsize = hashsize;
	s->bucketlimit = bucketlimit;
	s->flows = flows;
	for (q = 0; q < workers && q < SW_MAX_WORKERS; q++) {
		hdr->w[q].sc_off = off;
		off = align_up(off + sw_syncache_memsize(hashsize, bucketlimit), STATE_ALIGN);
		hdr->w[q].ft_off = off;
		off = align_up(off + sw_flowtab_memsize(flows), STATE_ALIGN);
	}
	hdr->learn_off = off;
	off = align_up(off + sizeof(struct sw_learn_table), STATE_ALIGN);
	s->size = off;
}

/* The kernel's boot id, "" when it cannot be read. */
static void
read_boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	size_t n = 0;

	memset(out, 0, 40);
	if (f == NULL)
		return;
	n = fread(out, 1, 39, f);
	fclose(f);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

static bool
same_offsets(const struct sw_state_hdr *a, const struct sw_state_hdr *b)
{
	uint32_t q;

	for (q = 0; q < SW_MAX_WORKERS; q++)
		if (a->w[q].sc_off != b->w[q].sc_off || a->w[q].ft_off != b->w[q].ft_off)
			return false;
	return true;
}

/* Why the region found (old, the file's first bytes) cannot be taken over, or NULL. */
static const char *
refusal(const struct sw_state_hdr *old, const struct sw_state_hdr *want, uint64_t file_size,
	uint64_t map_size, const char *boot_id, char *why, size_t len)
{
	if (file_size == 0)
		return "";
	if (file_size < sizeof(*old) || old->magic != SW_STATE_MAGIC)
		return "it holds no synwall state";
	if (old->shape.layout != want->shape.layout ||
	    old->shape.fingerprint != want->shape.fingerprint) {
		snprintf(why, len, "its layout is %u (fingerprint %08x), this binary's %u "
			 "(%08x)", old->shape.layout, old->shape.fingerprint,
			 want->shape.layout, want->shape.fingerprint);
		return why;
	}
	if (memcmp(&old->shape, &want->shape, sizeof(want->shape)) != 0 ||
	    file_size != map_size || old->learn_off != want->learn_off ||
	    !same_offsets(old, want)) {
		snprintf(why, len, "its tables are of another size (%u workers, hashsize %u, "
			 "bucketlimit %u, flows %u; here %u, %u, %u, %u)", old->shape.workers,
			 old->shape.hashsize, old->shape.bucketlimit, old->shape.flows,
			 want->shape.workers, want->shape.hashsize, want->shape.bucketlimit,
			 want->shape.flows);
		return why;
	}
	if (old->tsc_per_ms == 0 || boot_id[0] == '\0' ||
	    strncmp(old->boot_id, boot_id, sizeof(old->boot_id)) != 0)
		return "it was written before the machine's last boot";
	if (old->clean && rte_rdtsc() < old->stopped_tsc)
		return "its clock is ahead of this one";
	return NULL;
}

int
sw_state_open(struct sw_state *st, const char *path, uint32_t workers, uint32_t hashsize,
	      uint32_t bucketlimit, uint32_t flows, uint64_t tsc_per_ms, uint64_t wait_ms,
	      char *note, size_t len)
{
	static struct sw_state_hdr want, old;
	char boot_id[40], why[200];
	const char *no;
	struct statfs fs;
	struct stat sb;
	uint64_t waited = 0, map_size;
	ssize_t got;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	note[0] = '\0';
	if (workers == 0 || workers > SW_MAX_WORKERS) {
		snprintf(note, len, "%u workers", workers);
		return -1;
	}
	sw_state_shape_of(&want.shape, &want, workers, hashsize, bucketlimit, flows);
	st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		snprintf(note, len, "cannot open it: %s", strerror(errno));
		return -1;
	}
	/* The last owner may still be stopping: only one process ever writes. */
	while (flock(st->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(note, len, "cannot lock it: %s", strerror(errno));
			goto fail;
		}
		if (waited >= wait_ms) {
			got = pread(st->fd, &old, sizeof(old), 0);
			snprintf(note, len, "another synwall-dp (pid %d) holds it still, after "
				 "%" PRIu64 " ms", got == (ssize_t)sizeof(old) ? old.owner_pid : -1,
				 waited);
			goto fail;
		}
		usleep(LOCK_POLL_MS * 1000);
		waited += LOCK_POLL_MS;
	}
	if (fstat(st->fd, &sb) != 0 || fstatfs(st->fd, &fs) != 0) {
		snprintf(note, len, "cannot stat it: %s", strerror(errno));
		goto fail;
	}
	/* on hugetlbfs a mapping is whole huge pages */
	map_size = align_up(want.shape.size, RTE_MAX((uint64_t)fs.f_bsize, (uint64_t)STATE_ALIGN));
	read_boot_id(boot_id);
	memset(&old, 0, sizeof(old));
	got = pread(st->fd, &old, sizeof(old), 0);
	no = refusal(&old, &want, got == (ssize_t)sizeof(old) ? (uint64_t)sb.st_size : 0,
		     map_size, boot_id, why, sizeof(why));
	if (no != NULL) {
		if (no[0] != '\0')
			snprintf(note, len, "not taken over, %s: the tables start empty", no);
		if (ftruncate(st->fd, 0) != 0 || ftruncate(st->fd, (off_t)map_size) != 0) {
			snprintf(note, len, "cannot size it to %" PRIu64 " bytes: %s", map_size,
				 strerror(errno));
			goto fail;
		}
	}
	st->base = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			st->fd, 0);
	if (st->base == MAP_FAILED) {
		st->base = NULL;
		snprintf(note, len, "cannot map %" PRIu64 " bytes: %s", map_size,
			 strerror(errno));
		goto fail;
	}
	st->size = map_size;
	st->hdr = (struct sw_state_hdr *)st->base;
	st->adopted = no == NULL;
	if (st->adopted) {
		st->clean = st->hdr->clean != 0;
		snprintf(note, len, "taking over the tables of pid %d (%s)", st->hdr->owner_pid,
			 st->clean ? "stopped cleanly" : "ended without stopping: rebuilt");
		st->hdr->generation++;
	} else {
		*st->hdr = want;
		st->hdr->magic = SW_STATE_MAGIC;
		st->hdr->tsc_per_ms = tsc_per_ms;
		st->hdr->generation = 1;
		memcpy(st->hdr->boot_id, boot_id, sizeof(st->hdr->boot_id));
	}
	st->hdr->clean = 0;
	st->hdr->owner_pid = (int32_t)getpid();
	return 0;
fail:
	close(st->fd);
	st->fd = -1;
	return -1;
}

void
sw_state_close(struct sw_state *st, bool clean)
{
	if (st->base != NULL) {
		if (clean) {
			st->hdr->stopped_tsc = rte_rdtsc();
			/* everything else first: a next owner that sees clean sees it all */
			__atomic_store_n(&st->hdr->clean, 1, __ATOMIC_RELEASE);
			msync(st->base, st->size, MS_SYNC);
		}
		munmap(st->base, st->size);
		st->base = NULL;
		st->hdr = NULL;
	}
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}
