/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bytes.h"
#include "ctlsock.h"

static void
client_reset(struct sw_ctl_client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
sw_ctlsock_open(struct sw_ctlsock *s, const char *path, sw_ctl_handler handle, void *arg)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, i;

	s->listen_fd = -1;
	s->path = path;
	s->handle = handle;
	s->arg = arg;
	s->now_ms = 0;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		client_reset(&s->clients[i]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	/* Created 0600 from the start: no moment where others could connect. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SW_CTL_MAX_CLIENTS) < 0) {
		int err = errno;

		umask(old);
		close(fd);
		errno = err;
		return -1;
	}
	umask(old);
	s->listen_fd = fd;
	return 0;
}

static void
client_drop(struct sw_ctl_client *c)
{
	close(c->fd);
	free(c->buf);
	free(c->out);
	client_reset(c);
}

static bool
client_idle(const struct sw_ctl_client *c)
{
	return c->out == NULL && c->hdr_have == 0;
}

/* Send what the socket takes of the pending answer. 0: sent or more to come; -1: the client
 * is gone (the connection is dropped). */
static int
client_flush(struct sw_ctlsock *s, struct sw_ctl_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;       /* the rest when the client has read some */
		if (w <= 0) {
			client_drop(c);
			return -1;
		}
		c->out_sent += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_sent = 0;
	c->since_ms = s->now_ms;
	return 0;
}

static void
client_answer(struct sw_ctlsock *s, struct sw_ctl_client *c)
{
	uint8_t *resp = NULL;
	size_t n = s->handle(s->arg, c->buf, c->have, &resp);

	free(c->buf);
	c->buf = NULL;
	c->want = c->have = c->hdr_have = 0;
	c->out = resp != NULL ? malloc(n + 4) : NULL;
	if (c->out == NULL) {
		free(resp);
		client_drop(c);
		return;
	}
	sw_wr32(c->out, (uint32_t)n);
	memcpy(c->out + 4, resp, n);
	free(resp);
	c->out_len = n + 4;
	c->out_sent = 0;
	c->since_ms = s->now_ms;
	client_flush(s, c);
}

/* Receive into p[*have .. want). 1: complete, 0: more to come, -1: the client is gone. */
static int
recv_some(struct sw_ctl_client *c, uint8_t *p, uint32_t *have, uint32_t want)
{
	ssize_t r = recv(c->fd, p + *have, want - *have, MSG_DONTWAIT);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return -1;
	if (r < 0)
		return 0;
	*have += (uint32_t)r;
	return *have == want;
}

/* Read what a client has sent; answer a complete request. */
static void
client_read(struct sw_ctlsock *s, struct sw_ctl_client *c)
{
	int rc;

	if (c->hdr_have < 4) {
		uint32_t before = c->hdr_have;

		rc = recv_some(c, c->hdr, &c->hdr_have, 4);
		if (rc < 0)
			return client_drop(c);
		if (before == 0 && c->hdr_have > 0)
			c->since_ms = s->now_ms;        /* a request has begun */
		if (rc == 0)
			return;
		c->want = sw_rd32(c->hdr);
		if (c->want > SW_CTL_MAX_MSG) {
			fprintf(stderr, "synwall-dp: control socket: a %u-byte message is over the "
				"%u limit: connection closed\n", c->want, SW_CTL_MAX_MSG);
			return client_drop(c);
		}
		c->buf = malloc(c->want > 0 ? c->want : 1);
		if (c->buf == NULL)
			return client_drop(c);
		c->have = 0;
	}
	if (c->have < c->want) {
		rc = recv_some(c, c->buf, &c->have, c->want);
		if (rc < 0)
			return client_drop(c);
		if (rc == 0)
			return;
	}
	/* One request per client per round: a client that pipelines cannot keep the others
	 * (and key rotation, logging) waiting. */
	client_answer(s, c);
}

/* The connection a newcomer replaces when every place is taken: the one idle longest, else
 * the one whose request or answer has been pending longest. */
static struct sw_ctl_client *
victim(struct sw_ctlsock *s)
{
	struct sw_ctl_client *best = NULL;
	bool best_idle = false;
	int i;

	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++) {
		struct sw_ctl_client *c = &s->clients[i];
		bool idle = client_idle(c);

		if (best == NULL || (idle && !best_idle) ||
		    (idle == best_idle && c->since_ms < best->since_ms)) {
			best = c;
			best_idle = idle;
		}
	}
	return best;
}

static void
accept_client(struct sw_ctlsock *s)
{
	struct sw_ctl_client *c = NULL;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < SW_CTL_MAX_CLIENTS && c == NULL; i++)
		if (s->clients[i].fd < 0)
			c = &s->clients[i];
	if (c == NULL) {
		c = victim(s);
		client_drop(c);
	}
	client_reset(c);
	c->fd = fd;
	c->since_ms = s->now_ms;
}

/* Close the connections past their time. */
static void
expire(struct sw_ctlsock *s)
{
	int i;

	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++) {
		struct sw_ctl_client *c = &s->clients[i];
		uint64_t age;

		if (c->fd < 0)
			continue;
		age = s->now_ms - c->since_ms;
		if (client_idle(c)) {
			if (age >= SW_CTL_IDLE_MS)
				client_drop(c);
		} else if (age >= SW_CTL_IO_MS) {
			fprintf(stderr, "synwall-dp: control socket: %s for %" PRIu64 " ms: "
				"connection closed\n", c->out != NULL ? "an answer not taken"
				: "a request incomplete", age);
			client_drop(c);
		}
	}
}

void
sw_ctlsock_poll(struct sw_ctlsock *s, int timeout_ms, uint64_t now_ms)
{
	struct pollfd pfd[SW_CTL_MAX_CLIENTS + 1];
	int map[SW_CTL_MAX_CLIENTS + 1];
	int n = 0, i;

	if (s->listen_fd < 0) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	s->now_ms = now_ms;
	pfd[n].fd = s->listen_fd;
	pfd[n].events = POLLIN;
	map[n++] = -1;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0) {
			pfd[n].fd = s->clients[i].fd;
			/* a connection with an answer to send is read no further until it is out */
			pfd[n].events = s->clients[i].out != NULL ? POLLOUT : POLLIN;
			map[n++] = i;
		}
	if (poll(pfd, (nfds_t)n, timeout_ms) > 0) {
		for (i = 1; i < n; i++) {
			struct sw_ctl_client *c = &s->clients[map[i]];

			if (pfd[i].revents == 0)
				continue;
			if (c->out != NULL)
				client_flush(s, c);
			else
				client_read(s, c);
		}
		if (pfd[0].revents & POLLIN)
			accept_client(s);
	}
	expire(s);
}

void
sw_ctlsock_close(struct sw_ctlsock *s)
{
	int i;

	if (s->listen_fd < 0)
		return;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_drop(&s->clients[i]);
	close(s->listen_fd);
	s->listen_fd = -1;
	unlink(s->path);
}
