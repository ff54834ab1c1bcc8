/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "bytes.h"
#include "ctlsock.h"

/* Answers are written blocking, but never for long. */
#define SW_CTL_SEND_TIMEOUT_S 2

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
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
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
	client_reset(c);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
client_answer(struct sw_ctlsock *s, struct sw_ctl_client *c)
{
	uint8_t *resp = NULL, hdr[4];
	size_t n = s->handle(s->arg, c->buf, c->have, &resp);

	sw_wr32(hdr, (uint32_t)n);
	if (resp == NULL || write_all(c->fd, hdr, 4) < 0 || write_all(c->fd, resp, n) < 0) {
		free(resp);
		client_drop(c);
		return;
	}
	free(resp);
	free(c->buf);
	c->buf = NULL;
	c->want = c->have = c->hdr_have = 0;
}

/* Receive into p[*have .. want). 1: complete, 0: more to come, -1: the client is gone. */
static int
recv_some(struct sw_ctl_client *c, uint8_t *p, uint32_t *have, uint32_t want)
{
	ssize_t r = recv(c->fd, p + *have, want - *have, MSG_DONTWAIT);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
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

	for (;;) {
		if (c->hdr_have < 4) {
			rc = recv_some(c, c->hdr, &c->hdr_have, 4);
			if (rc < 0)
				return client_drop(c);
			if (rc == 0)
				return;
			c->want = sw_rd32(c->hdr);
			if (c->want > SW_CTL_MAX_MSG) {
				fprintf(stderr, "synwall-dp: control socket: a %u-byte message is "
					"over the %u limit: connection closed\n", c->want,
					SW_CTL_MAX_MSG);
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
		/* One request per client per round: a client that pipelines cannot keep the
		 * others (and key rotation, logging) waiting. */
		client_answer(s, c);
		return;
	}
}

static void
accept_client(struct sw_ctlsock *s)
{
	struct timeval tv = { .tv_sec = SW_CTL_SEND_TIMEOUT_S, .tv_usec = 0 };
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd < 0)
			break;
	if (i == SW_CTL_MAX_CLIENTS) {
		close(fd);      /* busy: the controller reconnects */
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	client_reset(&s->clients[i]);
	s->clients[i].fd = fd;
}

void
sw_ctlsock_poll(struct sw_ctlsock *s, int timeout_ms)
{
	struct pollfd pfd[SW_CTL_MAX_CLIENTS + 1];
	int map[SW_CTL_MAX_CLIENTS + 1];
	int n = 0, i;

	if (s->listen_fd < 0) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	pfd[n].fd = s->listen_fd;
	pfd[n].events = POLLIN;
	map[n++] = -1;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0) {
			pfd[n].fd = s->clients[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
		}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (i = 1; i < n; i++)
		if (pfd[i].revents != 0)
			client_read(s, &s->clients[map[i]]);
	if (pfd[0].revents & POLLIN)
		accept_client(s);
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
