/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime configuration (config.h): publication by pointer swap under RCU, and the
 * limits check.
 *
 * Use-after-free detection: this test is linked with -Wl,--wrap=free, so every free() of
 * libsw_core (sw_cfg_publish, sw_cfg_domain_fini) and of this file goes through
 * __wrap_free below, which overwrites a freed configuration with a poison pattern and
 * keeps it in a quarantine for a while before really freeing it. A reader that still used
 * a configuration after it was freed would then see a snapshot that is not internally
 * consistent (the writer makes every byte of port_mode and lim.mss a function of the
 * version), or a version from nowhere. The test is also clean under
 * `valgrind --error-exitcode=1` (SW_CFG_VERSIONS=200 keeps that run short).
 */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "config.h"
#include "sw_test.h"

/* ---- free() interposition ----------------------------------------------------------- */

void __real_free(void *p);
void __wrap_free(void *p);

#define QUARANTINE 16

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static void *q_ring[QUARANTINE];
static unsigned int q_next, q_len;
static atomic_ulong configs_freed;

void
__wrap_free(void *p)
{
	void *old = NULL;

	if (p == NULL)
		return;
	if (malloc_usable_size(p) < sizeof(struct sw_config)) {
		__real_free(p);
		return;
	}
	memset(p, 0xa5, sizeof(struct sw_config));
	pthread_mutex_lock(&q_lock);
	if (q_len == QUARANTINE)
		old = q_ring[q_next];
	else
		q_len++;
	q_ring[q_next] = p;
	q_next = (q_next + 1) % QUARANTINE;
	pthread_mutex_unlock(&q_lock);
	atomic_fetch_add(&configs_freed, 1);
	if (old != NULL)
		__real_free(old);
}

static void
quarantine_flush(void)
{
	unsigned int i;

	pthread_mutex_lock(&q_lock);
	for (i = 0; i < QUARANTINE; i++) {
		if (q_ring[i] != NULL)
			__real_free(q_ring[i]);
		q_ring[i] = NULL;
	}
	q_len = 0;
	q_next = 0;
	pthread_mutex_unlock(&q_lock);
}

/* ---- what a consistent version looks like -------------------------------------------- */

static uint8_t
mode_byte_of(uint64_t v)
{
	return (uint8_t)(v ^ 0x5a);     /* never 0xa5 for the poison's version 0xa5a5... */
}

static uint16_t
mss_of(uint64_t v)
{
	return (uint16_t)(536 + v % 8000);
}

static void
make_consistent(struct sw_config *c, uint64_t v)
{
	memset(c->port_mode, mode_byte_of(v), sizeof(c->port_mode));
	c->lim.mss = mss_of(v);
}

/* ---- the RCU stress test ------------------------------------------------------------- */

struct reader {
	pthread_t th;
	unsigned int id;
	unsigned long iters;
	unsigned long distinct;
	unsigned long errors;
	char first_error[200];
};

static struct sw_cfg_domain dom;
static atomic_int stop_readers;
static atomic_int readers_ready;
static atomic_ullong max_published;

static void
reader_error(struct reader *r, const char *what, uint64_t v, uint64_t detail)
{
	if (r->errors++ == 0)
		snprintf(r->first_error, sizeof(r->first_error),
			 "reader %u, iteration %lu: %s (version %" PRIu64 ", detail %" PRIu64 ")",
			 r->id, r->iters, what, v, detail);
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	uint64_t last = 0;

	rte_rcu_qsbr_thread_register(dom.qs, r->id);
	rte_rcu_qsbr_thread_online(dom.qs, r->id);
	atomic_fetch_add(&readers_ready, 1);
	while (!atomic_load(&stop_readers)) {
		const volatile struct sw_config *c = sw_cfg_get(&dom);
		uint64_t v = c->version, v2;
		uint8_t want = mode_byte_of(v);
		uint32_t i;

		if (v < last)
			reader_error(r, "version went backwards", v, last);
		if (v > atomic_load(&max_published) + 1)
			reader_error(r, "version never published (freed memory?)", v,
				     atomic_load(&max_published));
		if (c->lim.mss != mss_of(v))
			reader_error(r, "lim.mss does not match the version", v, c->lim.mss);
		/* every byte of port_mode, 8 at a time */
		for (i = 0; i < 65536 / 8; i++) {
			uint64_t w;

			memcpy(&w, (const void *)&c->port_mode[i * 8], 8);
			if (w != want * 0x0101010101010101ULL) {
				reader_error(r, "port_mode byte does not match the version", v,
					     i * 8);
				break;
			}
			/* hold the snapshot across a reschedule now and then: the writer
			 * must not free it meanwhile */
			if (i == 4096 && (r->iters & 15) == 0)
				sched_yield();
		}
		v2 = c->version;
		if (v2 != v)
			reader_error(r, "version changed under the reader", v, v2);
		if (v != last)
			r->distinct++;
		last = v;
		r->iters++;
		rte_rcu_qsbr_quiescent(dom.qs, r->id);
	}
	rte_rcu_qsbr_thread_offline(dom.qs, r->id);
	rte_rcu_qsbr_thread_unregister(dom.qs, r->id);
	return NULL;
}

static void
test_rcu_swap(unsigned int nversions)
{
	struct reader readers[2];
	struct sw_config *init = sw_cfg_new_default();
	unsigned long freed0;
	unsigned int i, n;

	REQUIRE(init != NULL);
	init->lim.cachelimit = 4096 * 30;
	make_consistent(init, 1);
	REQUIRE(sw_cfg_domain_init(&dom, 2, init) == 0);
	CHECK(sw_cfg_get(&dom) == init);
	CHECK_EQ(sw_cfg_get(&dom)->version, 1);
	CHECK_EQ(dom.nthreads, 2);
	atomic_store(&max_published, 1);
	freed0 = atomic_load(&configs_freed);

	for (i = 0; i < 2; i++) {
		memset(&readers[i], 0, sizeof(readers[i]));
		readers[i].id = i;
		REQUIRE(pthread_create(&readers[i].th, NULL, reader_main, &readers[i]) == 0);
	}
	while (atomic_load(&readers_ready) < 2)
		sched_yield();

	for (n = 0; n < nversions; n++) {
		const struct sw_config *cur = sw_cfg_get(&dom);
		struct sw_config *c = sw_cfg_clone(cur);
		uint64_t nv = cur->version + 1;

		REQUIRE(c != NULL);
		if (n < 3)
			CHECK(memcmp(c, cur, sizeof(*c)) == 0);     /* a full copy */
		make_consistent(c, nv);
		atomic_store(&max_published, nv);
		sw_cfg_publish(&dom, c);
		CHECK(sw_cfg_get(&dom) == c);
		CHECK_EQ(c->version, nv);
		/* the previous version is freed by the time publish returns */
		CHECK_EQ(atomic_load(&configs_freed) - freed0, n + 1);
	}
	atomic_store(&stop_readers, 1);
	for (i = 0; i < 2; i++) {
		pthread_join(readers[i].th, NULL);
		SW_CTX("reader %u: %lu iterations, %lu versions seen", i, readers[i].iters,
		       readers[i].distinct);
		CHECK_MSG(readers[i].errors == 0, "%lu inconsistent snapshots, first: %s",
			  readers[i].errors, readers[i].first_error);
		CHECK(readers[i].iters > 0);
		CHECK(readers[i].distinct >= 2);
	}
	SW_CTX_CLEAR();
	CHECK_EQ(sw_cfg_get(&dom)->version, 1 + nversions);
	sw_cfg_domain_fini(&dom);
	CHECK(dom.current == NULL);
	CHECK_EQ(atomic_load(&configs_freed) - freed0, nversions + 1);
	quarantine_flush();
}

/* ---- publish waits for a reader that holds the old version ---------------------------- */

static struct sw_cfg_domain dom1;
static atomic_int holder_state;         /* 1: holding the old pointer, 2: told to release */
static atomic_int publish_done;
static atomic_int holder_saw_bad;

static void *
holder_main(void *arg)
{
	const volatile struct sw_config *c;
	uint32_t i;

	(void)arg;
	rte_rcu_qsbr_thread_register(dom1.qs, 0);
	rte_rcu_qsbr_thread_online(dom1.qs, 0);
	c = sw_cfg_get(&dom1);
	atomic_store(&holder_state, 1);
	while (atomic_load(&holder_state) != 2)
		sched_yield();
	/* still intact after the new version was published */
	if (c->version != 1 || c->lim.mss != mss_of(1))
		atomic_store(&holder_saw_bad, 1);
	for (i = 0; i < 65536; i++)
		if (c->port_mode[i] != mode_byte_of(1)) {
			atomic_store(&holder_saw_bad, 1);
			break;
		}
	rte_rcu_qsbr_quiescent(dom1.qs, 0);
	rte_rcu_qsbr_thread_offline(dom1.qs, 0);
	rte_rcu_qsbr_thread_unregister(dom1.qs, 0);
	return NULL;
}

static struct sw_config *to_publish;

static void *
publisher_main(void *arg)
{
	(void)arg;
	sw_cfg_publish(&dom1, to_publish);
	atomic_store(&publish_done, 1);
	return NULL;
}

static void
test_publish_waits(void)
{
	struct sw_config *init = sw_cfg_new_default();
	pthread_t holder, publisher;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	unsigned long freed0;

	REQUIRE(init != NULL);
	make_consistent(init, 1);
	REQUIRE(sw_cfg_domain_init(&dom1, 1, init) == 0);
	REQUIRE(pthread_create(&holder, NULL, holder_main, NULL) == 0);
	while (atomic_load(&holder_state) != 1)
		sched_yield();

	to_publish = sw_cfg_clone(init);
	REQUIRE(to_publish != NULL);
	make_consistent(to_publish, 2);
	freed0 = atomic_load(&configs_freed);
	REQUIRE(pthread_create(&publisher, NULL, publisher_main, NULL) == 0);
	nanosleep(&ts, NULL);
	/* the new version is visible, but the old one is neither freed nor done with */
	CHECK(sw_cfg_get(&dom1) == to_publish);
	CHECK_EQ(atomic_load(&publish_done), 0);
	CHECK_EQ(atomic_load(&configs_freed), freed0);
	atomic_store(&holder_state, 2);
	pthread_join(holder, NULL);
	pthread_join(publisher, NULL);
	CHECK_EQ(atomic_load(&publish_done), 1);
	CHECK_EQ(atomic_load(&holder_saw_bad), 0);
	CHECK_EQ(atomic_load(&configs_freed), freed0 + 1);
	CHECK_EQ(sw_cfg_get(&dom1)->version, 2);
	sw_cfg_domain_fini(&dom1);
	quarantine_flush();
}

/* ---- limits ----------------------------------------------------------------------------- */

static void
test_limits(void)
{
	struct sw_config *d = sw_cfg_new_default();
	struct sw_limits l;
	uint32_t i;

	REQUIRE(d != NULL);
	/* the documented defaults */
	CHECK_EQ(d->lim.rexmtlimit, 3);
	CHECK_EQ(d->lim.syncookies, 1);
	CHECK_EQ(d->lim.syncookies_only, 0);
	CHECK_EQ(d->lim.wscale, 7);
	CHECK_EQ(d->lim.mss, 1460);
	for (i = 0; i < 65536; i++)
		if (d->port_mode[i] != SW_MODE_PASS) {
			CHECK_MSG(d->port_mode[i] == SW_MODE_PASS, "port %u not pass by default", i);
			break;
		}
	/* defaults with cachelimit = hashsize x bucketlimit are accepted */
	l = d->lim;
	l.cachelimit = 4096 * 30;
	CHECK(sw_limits_check(&l, 4096, 30) == NULL);

#define REJECT(field, value) do {                                               \
	struct sw_limits b_ = l;                                                \
	b_.field = (value);                                                     \
	SW_CTX(#field " = " #value);                                            \
	CHECK(sw_limits_check(&b_, 4096, 30) != NULL);                          \
} while (0)
#define ACCEPT(field, value) do {                                               \
	struct sw_limits b_ = l;                                                \
	b_.field = (value);                                                     \
	SW_CTX(#field " = " #value);                                            \
	CHECK(sw_limits_check(&b_, 4096, 30) == NULL);                          \
} while (0)

	REJECT(cachelimit, 0);
	REJECT(cachelimit, 4096 * 30 + 1);
	REJECT(cachelimit, UINT32_MAX);
	ACCEPT(cachelimit, 1);
	ACCEPT(cachelimit, 4096 * 30);
	REJECT(rexmtlimit, 11);
	REJECT(rexmtlimit, 255);
	ACCEPT(rexmtlimit, 0);
	ACCEPT(rexmtlimit, 10);
	REJECT(mss, 535);
	REJECT(mss, 9001);
	REJECT(mss, 0);
	REJECT(mss, 65535);
	ACCEPT(mss, 536);
	ACCEPT(mss, 9000);
	REJECT(wscale, 15);
	REJECT(wscale, 255);
	ACCEPT(wscale, 0);
	ACCEPT(wscale, 14);
	SW_CTX_CLEAR();
	/* the largest table: 1048576 x 255 entries */
	l.cachelimit = 1048576u * 255;
	CHECK(sw_limits_check(&l, 1048576, 255) == NULL);
	l.cachelimit = 1048576u * 255 + 1;
	CHECK(sw_limits_check(&l, 1048576, 255) != NULL);
	/* the limit follows the sizes given */
	l.cachelimit = 31;
	CHECK(sw_limits_check(&l, 1, 30) != NULL);
	CHECK(sw_limits_check(&l, 2, 30) == NULL);
	free(d);
}

/* ---- port ranges ------------------------------------------------------------------------ */

/* What sw_cfg_set_ranges must give: every range written over the ports in turn. */
static void
paint_naive(uint8_t *mode, struct sw_profile *prof, uint32_t *idle,
	    const struct sw_port_range *r, size_t n, struct sw_profile def, uint32_t idle_def)
{
	uint32_t p;
	size_t i;

	for (p = 0; p < 65536; p++) {
		mode[p] = SW_MODE_PASS;
		prof[p] = def;
		idle[p] = idle_def;
	}
	for (i = 0; i < n; i++)
		for (p = r[i].lo; p <= r[i].hi; p++) {
			mode[p] = r[i].mode;
			prof[p] = r[i].profile;
			idle[p] = r[i].idle_s != 0 ? r[i].idle_s : idle_def;
		}
}

static void
test_ranges(void)
{
	static uint8_t mode[65536];
	static struct sw_profile prof[65536];
	static uint32_t idle[65536];
	static struct sw_port_range r[65535];
	struct sw_config *c = sw_cfg_new_default();
	struct sw_profile def;
	unsigned int seed = 1, round;
	size_t n, i;
	uint32_t p, min;

	REQUIRE(c != NULL);
	sw_cfg_set_idle_default(c, 3600);
	def = sw_cfg_default_profile(&c->lim);
	/* random ranges, narrow and wide, overlapping: the later wins, as if painted in turn */
	for (round = 0; round < 40; round++) {
		n = round == 0 ? 0 : (size_t)(rand_r(&seed) % (round < 30 ? 20 : 3000)) + 1;
		for (i = 0; i < n; i++) {
			uint32_t lo = (uint32_t)(rand_r(&seed) % 65535) + 1;
			uint32_t w = rand_r(&seed) % 4 == 0 ? (uint32_t)rand_r(&seed) % 65536
							      : (uint32_t)rand_r(&seed) % 40;
			uint32_t hi = lo + w > 65535 ? 65535 : lo + w;

			r[i] = (struct sw_port_range){
				.lo = (uint16_t)lo, .hi = (uint16_t)hi,
				.mode = (uint8_t)(rand_r(&seed) % 4),
				.profile = { .mss = (uint16_t)(536 + i % 1000), .wscale = (uint8_t)(i % 15),
					     .flags = (uint8_t)(i % 8) },
				.idle_s = rand_r(&seed) % 3 == 0 ? 0 : (uint32_t)(i + 1) * 7,
			};
		}
		SW_CTX("round %u: %zu ranges", round, n);
		/* whatever the ports held before goes */
		memset(c->port_mode, SW_MODE_DROP, sizeof(c->port_mode));
		REQUIRE(sw_cfg_set_ranges(c, r, n) == 0);
		paint_naive(mode, prof, idle, r, n, def, 3600);
		min = 3600;
		for (p = 0; p < 65536; p++)
			if (idle[p] < min)
				min = idle[p];
		CHECK_MEM(c->port_mode, mode, sizeof(mode));
		CHECK_MEM(c->port_profile, prof, sizeof(prof));
		CHECK_MEM(c->port_idle_s, idle, sizeof(idle));
		CHECK_EQ(c->idle_min_s, min);
	}
	/* The most a request may carry: a range per port, each from its port to 65535 (painted
	 * in turn: 65535 x 32768 port writes). Port p is the last range's that covers it, the
	 * one that starts at p. */
	SW_CTX("65535 ranges");
	for (i = 0; i < 65535; i++)
		r[i] = (struct sw_port_range){ .lo = (uint16_t)(i + 1), .hi = 65535,
					       .mode = (uint8_t)(1 + i % 3), .profile = def };
	REQUIRE(sw_cfg_set_ranges(c, r, 65535) == 0);
	CHECK_EQ(c->port_mode[0], SW_MODE_PASS);
	for (p = 1; p < 65536; p++)
		if (c->port_mode[p] != 1 + (p - 1) % 3) {
			CHECK_MSG(0, "port %u: mode %u", p, c->port_mode[p]);
			break;
		}
	SW_CTX_CLEAR();
	free(c);
}

int
main(void)
{
	const char *env = getenv("SW_CFG_VERSIONS");
	unsigned int nversions = env != NULL ? (unsigned int)strtoul(env, NULL, 10) : 2000;

	test_limits();
	test_ranges();
	test_publish_waits();
	test_rcu_swap(nversions);
	return sw_test_done();
}
