/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's framing (ctlsock.c) on a real Unix socket, its clock driven by the
 * test: requests answered in order; the ninth client served by replacing the one idle
 * longest; idle connections closed after SW_CTL_IDLE_MS and not before; a request left
 * incomplete, and an answer a client never reads, cost the loop nothing and close their
 * connection after SW_CTL_IO_MS, while the other clients are answered meanwhile; a slow
 * reader gets its whole answer; an oversized request closes its connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "ctlsock.h"
#include "sw_test.h"

/* The handler's answer: the request's bytes, or BIG bytes of a pattern for a request "big". */
#define BIG (3u << 20)

static unsigned int handled;

static size_t
handler(void *arg, const uint8_t *req, size_t len, uint8_t **out)
{
	size_t n = len, i;

	(void)arg;
	handled++;
	if (len == 3 && memcmp(req, "big", 3) == 0)
		n = BIG;
	*out = malloc(n > 0 ? n : 1);
	if (*out == NULL)
		return 0;
	if (n == BIG)
		for (i = 0; i < n; i++)
			(*out)[i] = (uint8_t)(i * 7);
	else
		memcpy(*out, req, n);
	return n;
}

static char path[108];

static int
client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	REQUIRE(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void
client_send(int fd, const void *msg, uint32_t len)
{
	uint8_t hdr[4];

	sw_wr32(hdr, len);
	REQUIRE(send(fd, hdr, 4, MSG_NOSIGNAL) == 4);
	if (len > 0)
		REQUIRE(send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len);
}

/* Is the connection closed by the server (EOF or reset, nothing else pending)? */
static int
closed_by_server(int fd)
{
	uint8_t b[64];
	ssize_t r;

	for (;;) {
		r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (r > 0)
			continue;       /* what was left of an answer */
		return r == 0 || (r < 0 && errno == ECONNRESET);
	}
}

/* Read one whole answer (blocking, with a bound): its length, -1 if the connection ended. */
static long
client_answer(int fd, uint8_t *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = 5 };
	uint8_t hdr[4];
	size_t got = 0, n;
	ssize_t r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < 4) {
		r = recv(fd, hdr + got, 4 - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	n = sw_rd32(hdr);
	REQUIRE(n <= cap);
	for (got = 0; got < n; got += (size_t)r) {
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
	}
	return (long)n;
}

static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A few rounds of the loop at time now (a round accepts at most one client). */
static void
rounds(struct sw_ctlsock *s, int n, uint64_t now)
{
	while (n-- > 0)
		sw_ctlsock_poll(s, 0, now);
}

static int
nclients(const struct sw_ctlsock *s)
{
	int i, n = 0;

	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		n += s->clients[i].fd >= 0;
	return n;
}

static void
test_answers_in_order(struct sw_ctlsock *s)
{
	uint8_t buf[64];
	int fd = client_connect();
	long n;

	SW_CTX("answers in order");
	rounds(s, 1, 1000);
	client_send(fd, "one", 3);
	client_send(fd, "second", 6);
	client_send(fd, "", 0);
	/* one request per connection per round */
	handled = 0;
	rounds(s, 1, 1000);
	CHECK_EQ(handled, 1);
	rounds(s, 4, 1000);
	CHECK_EQ(handled, 3);
	n = client_answer(fd, buf, sizeof(buf));
	CHECK(n == 3 && memcmp(buf, "one", 3) == 0);
	n = client_answer(fd, buf, sizeof(buf));
	CHECK(n == 6 && memcmp(buf, "second", 6) == 0);
	CHECK_EQ(client_answer(fd, buf, sizeof(buf)), 0);
	close(fd);
	rounds(s, 2, 1000);
	CHECK_EQ(nclients(s), 0);
}

static void
test_newest_replaces_the_longest_idle(struct sw_ctlsock *s)
{
	int idle[SW_CTL_MAX_CLIENTS], fd, fd2, i;
	uint8_t buf[16];

	SW_CTX("a ninth client");
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++) {
		idle[i] = client_connect();
		rounds(s, 1, 2000 + (uint64_t)i);   /* each accepted a millisecond later */
	}
	CHECK_EQ(nclients(s), SW_CTL_MAX_CLIENTS);
	/* The second one is busy with a request begun but not finished: not idle. */
	REQUIRE(send(idle[1], "\0\0", 2, MSG_NOSIGNAL) == 2);
	rounds(s, 1, 2010);
	fd = client_connect();
	rounds(s, 1, 2020);
	client_send(fd, "ping", 4);
	rounds(s, 1, 2020);
	CHECK_EQ(client_answer(fd, buf, sizeof(buf)), 4);
	CHECK_EQ(nclients(s), SW_CTL_MAX_CLIENTS);
	/* the one idle longest made room: the first, not the busy second */
	CHECK(closed_by_server(idle[0]));
	CHECK(!closed_by_server(idle[1]));
	CHECK(!closed_by_server(idle[2]));
	close(idle[0]);
	/* again: the third goes (the busy second is still not idle, the ninth was idle for
	 * less time) */
	fd2 = client_connect();
	rounds(s, 1, 2040);
	client_send(fd2, "ping", 4);
	rounds(s, 1, 2040);
	CHECK_EQ(client_answer(fd2, buf, sizeof(buf)), 4);
	CHECK(closed_by_server(idle[2]));
	CHECK(!closed_by_server(idle[1]));
	CHECK(!closed_by_server(fd));
	close(fd);
	close(fd2);
	for (i = 1; i < SW_CTL_MAX_CLIENTS; i++)
		close(idle[i]);
	rounds(s, SW_CTL_MAX_CLIENTS, 2050);
	CHECK_EQ(nclients(s), 0);
}

static void
test_idle_timeout(struct sw_ctlsock *s)
{
	uint64_t t0 = 10000;
	uint8_t buf[16];
	int silent = client_connect(), used = client_connect();

	SW_CTX("idle timeout");
	rounds(s, 2, t0);
	client_send(used, "x", 1);
	rounds(s, 1, t0 + 3000);
	CHECK_EQ(client_answer(used, buf, sizeof(buf)), 1);
	/* the silent one: idle since its accept; the used one since its answer */
	rounds(s, 1, t0 + SW_CTL_IDLE_MS - 1);
	CHECK(!closed_by_server(silent));
	rounds(s, 1, t0 + SW_CTL_IDLE_MS);
	CHECK(closed_by_server(silent));
	CHECK(!closed_by_server(used));
	rounds(s, 1, t0 + 3000 + SW_CTL_IDLE_MS);
	CHECK(closed_by_server(used));
	CHECK_EQ(nclients(s), 0);
	close(silent);
	close(used);
}

static void
test_incomplete_request(struct sw_ctlsock *s)
{
	uint64_t t0 = 20000;
	uint8_t hdr[4];
	int fd = client_connect();

	SW_CTX("incomplete request");
	rounds(s, 1, t0);
	sw_wr32(hdr, 100);
	REQUIRE(send(fd, hdr, 4, MSG_NOSIGNAL) == 4);
	REQUIRE(send(fd, "abc", 3, MSG_NOSIGNAL) == 3);
	rounds(s, 2, t0 + 10);
	/* more bytes do not buy more time: the request had SW_CTL_IO_MS from its first byte */
	REQUIRE(send(fd, "def", 3, MSG_NOSIGNAL) == 3);
	rounds(s, 1, t0 + 10 + SW_CTL_IO_MS - 1);
	CHECK(!closed_by_server(fd));
	rounds(s, 1, t0 + 10 + SW_CTL_IO_MS);
	CHECK(closed_by_server(fd));
	close(fd);
}

static void
test_answer_not_read(struct sw_ctlsock *s)
{
	uint64_t t0 = 30000, start, worst = 0;
	int stuck = client_connect(), other = client_connect();
	uint8_t buf[16];
	int i;

	SW_CTX("an answer not read");
	rounds(s, 2, t0);
	client_send(stuck, "big", 3);
	start = wall_us();
	rounds(s, 1, t0);
	worst = wall_us() - start;
	/* the loop goes on at once and serves the others */
	for (i = 0; i < 20; i++) {
		client_send(other, "hi", 2);
		start = wall_us();
		rounds(s, 1, t0 + 100 + (uint64_t)i);
		if (wall_us() - start > worst)
			worst = wall_us() - start;
		CHECK_EQ(client_answer(other, buf, sizeof(buf)), 2);
	}
	CHECK_MSG(worst < 200000, "a round took %" PRIu64 " us", worst);
	CHECK(!closed_by_server(other));
	rounds(s, 1, t0 + SW_CTL_IO_MS - 1);
	CHECK_EQ(nclients(s), 2);
	rounds(s, 1, t0 + SW_CTL_IO_MS);
	CHECK_EQ(nclients(s), 1);
	CHECK(closed_by_server(stuck));
	close(stuck);

	/* a client that reads gets the whole answer, however many rounds it takes: the test
	 * reads and runs the loop by turns (3 MiB is more than the socket holds) */
	SW_CTX("a big answer read");
	client_send(other, "big", 3);
	{
		static uint8_t got[BIG + 4];
		size_t have = 0, k;
		int bad = 0;

		for (i = 0; i < 100000 && have < sizeof(got); i++) {
			ssize_t r;

			rounds(s, 1, t0 + 5000);
			while ((r = recv(other, got + have, sizeof(got) - have, MSG_DONTWAIT)) > 0)
				have += (size_t)r;
		}
		REQUIRE(have == sizeof(got));
		CHECK_EQ(sw_rd32(got), BIG);
		for (k = 0; k < BIG; k++)
			bad |= got[4 + k] != (uint8_t)(k * 7);
		CHECK(!bad);
	}
	close(other);
	rounds(s, 2, t0 + 5000);
	CHECK_EQ(nclients(s), 0);
}

static void
test_oversized_request(struct sw_ctlsock *s)
{
	uint8_t hdr[4];
	int fd = client_connect();

	SW_CTX("oversized request");
	rounds(s, 1, 40000);
	sw_wr32(hdr, SW_CTL_MAX_MSG + 1);
	REQUIRE(send(fd, hdr, 4, MSG_NOSIGNAL) == 4);
	rounds(s, 1, 40000);
	CHECK(closed_by_server(fd));
	close(fd);
}

int
main(void)
{
	struct sw_ctlsock s;

	snprintf(path, sizeof(path), "/tmp/sw_test_ctlsock.%d", (int)getpid());
	REQUIRE(sw_ctlsock_open(&s, path, handler, NULL) == 0);
	test_answers_in_order(&s);
	test_newest_replaces_the_longest_idle(&s);
	test_idle_timeout(&s);
	test_incomplete_request(&s);
	test_answer_not_read(&s);
	test_oversized_request(&s);
	sw_ctlsock_close(&s);
	CHECK(access(path, F_OK) != 0);
	return sw_test_done();
}
