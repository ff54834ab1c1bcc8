/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny test harness for the C unit tests (no EAL, no framework).
 *
 * CHECK(cond), CHECK_EQ(a, b), CHECK_MEM(a, b, n) record a failure with file:line, the
 * expression and the values, and go on; SW_CTX(fmt, ...) sets a context line printed with
 * every failure (which input of a loop failed). A test's main() ends with
 * `return sw_test_done();`, which prints a summary and returns 0 only when nothing failed.
 * The checks do not use assert(): the build is a release build with NDEBUG.
 *
 * sw_guard_alloc(len) returns a buffer of exactly len bytes that ends at a page boundary
 * followed by an inaccessible page, so that a read past the end crashes the test even
 * without valgrind or ASan.
 */
#ifndef SW_TEST_H
#define SW_TEST_H

#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SW_TEST_MAX_PRINTED 60

static unsigned long sw_test_failures __attribute__((unused));
static unsigned long sw_test_checks __attribute__((unused));
static char sw_test_ctx[256] __attribute__((unused));

#define SW_CTX(...) snprintf(sw_test_ctx, sizeof(sw_test_ctx), __VA_ARGS__)
#define SW_CTX_CLEAR() (sw_test_ctx[0] = '\0')

static inline int
sw_test_fail_begin(const char *file, int line)
{
	sw_test_failures++;
	if (sw_test_failures > SW_TEST_MAX_PRINTED) {
		if (sw_test_failures == SW_TEST_MAX_PRINTED + 1)
			fprintf(stderr, "... more failures not printed\n");
		return 0;
	}
	fprintf(stderr, "%s:%d: FAIL", file, line);
	if (sw_test_ctx[0] != '\0')
		fprintf(stderr, " [%s]", sw_test_ctx);
	fprintf(stderr, ": ");
	return 1;
}

#define CHECK(cond) do {                                                        \
	sw_test_checks++;                                                       \
	if (!(cond) && sw_test_fail_begin(__FILE__, __LINE__))                  \
		fprintf(stderr, "%s\n", #cond);                                 \
} while (0)

#define CHECK_MSG(cond, ...) do {                                               \
	sw_test_checks++;                                                       \
	if (!(cond) && sw_test_fail_begin(__FILE__, __LINE__)) {                \
		fprintf(stderr, "%s: ", #cond);                                 \
		fprintf(stderr, __VA_ARGS__);                                   \
		fprintf(stderr, "\n");                                          \
	}                                                                       \
} while (0)

/* Integers of any width and sign: compared as 64-bit values, printed both ways. */
#define CHECK_EQ(a, b) do {                                                     \
	long long sw_a_ = (long long)(a), sw_b_ = (long long)(b);               \
	sw_test_checks++;                                                       \
	if (sw_a_ != sw_b_ && sw_test_fail_begin(__FILE__, __LINE__))           \
		fprintf(stderr, "%s == %s: got %lld (0x%llx), expected %lld (0x%llx)\n", \
			#a, #b, sw_a_, (unsigned long long)sw_a_, sw_b_,         \
			(unsigned long long)sw_b_);                             \
} while (0)

#define CHECK_NE(a, b) do {                                                     \
	long long sw_a_ = (long long)(a), sw_b_ = (long long)(b);               \
	sw_test_checks++;                                                       \
	if (sw_a_ == sw_b_ && sw_test_fail_begin(__FILE__, __LINE__))           \
		fprintf(stderr, "%s != %s: both are %lld (0x%llx)\n",           \
			#a, #b, sw_a_, (unsigned long long)sw_a_);              \
} while (0)

static inline void
sw_test_hex(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(stderr, "%02x%s", b[i], i + 1 < n ? " " : "");
}

#define CHECK_MEM(a, b, n) do {                                                 \
	const void *sw_pa_ = (a), *sw_pb_ = (b);                                \
	size_t sw_n_ = (n);                                                     \
	sw_test_checks++;                                                       \
	if (memcmp(sw_pa_, sw_pb_, sw_n_) != 0 &&                               \
	    sw_test_fail_begin(__FILE__, __LINE__)) {                           \
		fprintf(stderr, "%s == %s (%zu bytes):\n  got      ", #a, #b, sw_n_); \
		sw_test_hex(sw_pa_, sw_n_);                                     \
		fprintf(stderr, "\n  expected ");                              \
		sw_test_hex(sw_pb_, sw_n_);                                     \
		fprintf(stderr, "\n");                                          \
	}                                                                       \
} while (0)

/* Stop the test now (a precondition of what follows failed). */
#define REQUIRE(cond) do {                                                      \
	sw_test_checks++;                                                       \
	if (!(cond)) {                                                          \
		sw_test_failures++;                                             \
		fprintf(stderr, "%s:%d: FATAL", __FILE__, __LINE__);           \
		if (sw_test_ctx[0] != '\0')                                     \
			fprintf(stderr, " [%s]", sw_test_ctx);                  \
		fprintf(stderr, ": %s\n", #cond);                               \
		exit(1);                                                        \
	}                                                                       \
} while (0)

static inline int
sw_test_done_named(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (slash != NULL)
		name = slash + 1;
	if (sw_test_failures != 0) {
		fprintf(stderr, "%s: %lu of %lu checks FAILED\n", name, sw_test_failures,
			sw_test_checks);
		return 1;
	}
	printf("%s: all %lu checks passed\n", name, sw_test_checks);
	return 0;
}

#define sw_test_done() sw_test_done_named(__FILE__)

/* A crash says what it probably is and in which check context it happened. */
static void
sw_test_on_fault(int sig, siginfo_t *si, void *uc)
{
	char msg[512];
	int n;

	(void)uc;
	n = snprintf(msg, sizeof(msg),
		     "FATAL: signal %d at address %p%s%s%s: a read or write outside a buffer "
		     "(the test buffers end at an inaccessible page) or a NULL dereference\n",
		     sig, si->si_addr, sw_test_ctx[0] ? " [" : "", sw_test_ctx,
		     sw_test_ctx[0] ? "]" : "");
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(3);
}

__attribute__((constructor)) static void
sw_test_install_fault_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sw_test_on_fault;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* --- buffers that end at an inaccessible page ------------------------------------ */

struct sw_guard {
	uint8_t *p;             /* len usable bytes, the last one just before the guard */
	void *map;
	size_t maplen;
};

static inline uint8_t *
sw_guard_alloc(struct sw_guard *g, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + pg - 1) / pg;

	if (data_pages == 0)
		data_pages = 1;
	g->maplen = (data_pages + 1) * pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (g->map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (mprotect((uint8_t *)g->map + data_pages * pg, pg, PROT_NONE) != 0) {
		perror("mprotect");
		exit(2);
	}
	g->p = (uint8_t *)g->map + data_pages * pg - len;
	return g->p;
}

/* Copy n bytes into a fresh guarded buffer of exactly n bytes. */
static inline uint8_t *
sw_guard_copy(struct sw_guard *g, const void *src, size_t n)
{
	uint8_t *p = sw_guard_alloc(g, n);

	if (n != 0)
		memcpy(p, src, n);
	return p;
}

static inline void
sw_guard_free(struct sw_guard *g)
{
	munmap(g->map, g->maplen);
	g->map = NULL;
	g->p = NULL;
}

/* Deterministic PRNG (xorshift64*), so that every run checks the same inputs. */
static inline uint64_t
sw_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Internet checksum, written here independently of DPDK's helpers: the folded one's
 * complement sum of a byte string read as big-endian 16-bit words, plus `initial`. */
static inline uint32_t
sw_test_sum16(const void *p, size_t n, uint32_t initial)
{
	const uint8_t *b = p;
	uint64_t s = initial;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

#endif
