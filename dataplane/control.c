/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
/*
 * The main lcore's loop: it sleeps between rounds (it never polls a port) and does what the
 * workers must not: print their log lines, rotate cookie keys, watch for idleness, and
 * answer the control socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "app.h"

static uint64_t tsc_per_ms;

uint64_t
sw_now_ms(void)
{
	if (unlikely(tsc_per_ms == 0))
		tsc_per_ms = rte_get_tsc_hz() / 1000;
	return rte_rdtsc() / tsc_per_ms;
}

/* ---- keys ---- */

static int
random_key(struct sw_sipkey *k)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	sw_sipkey_from_bytes(k, b);
	return 0;
}

static uint64_t
epoch_of_clock(const struct sw_args *a)
{
	return (uint64_t)time(NULL) / a->rotate_s;
}

int
sw_keys_initial(struct sw_args *a, struct sw_keyset *ks)
{
	if (a->have_key) {
		/* A fixed secret: both slots hold it, nothing rotates. */
		ks->key[0] = a->key;
		ks->key[1] = a->key;
		ks->epoch = 0;
		return 0;
	}
	if (a->have_master) {
		sw_keyset_derive(ks, &a->master, a->have_epoch ? a->epoch : epoch_of_clock(a));
		return 0;
	}
	ks->epoch = 1;
	if (random_key(&ks->key[0]) < 0 || random_key(&ks->key[1]) < 0)
		return -1;
	return 0;
}

/* Publish a new configuration whose keys moved to epoch `epoch`. */
static void
rotate_keys(struct sw_app *app, uint64_t epoch)
{
	const struct sw_config *cur = sw_cfg_get(&app->cfg);
	struct sw_config *n = sw_cfg_clone(cur);

	if (n == NULL) {
		fprintf(stderr, "synwall-dp: key rotation postponed: out of memory\n");
		return;
	}
	if (app->args.have_master) {
		sw_keyset_derive(&n->keys, &app->args.master, epoch);
	} else {
		n->keys.epoch = epoch;
		/* The slot of epoch - 1 stays: cookies it made are valid one more period. */
		if (random_key(&n->keys.key[epoch & 1]) < 0) {
			fprintf(stderr, "synwall-dp: key rotation postponed: no randomness\n");
			free(n);
			return;
		}
	}
	sw_cfg_publish(&app->cfg, n);
}

/* ---- control socket: length-prefixed DpRequest / DpResponse (proto/synwall/dp/v1) ---- */

#define SW_CTL_MAX_CLIENTS 8
#define SW_CTL_MAX_MSG (4u << 20)

struct ctl_client {
	int fd;                 /* -1: free */
	uint8_t *buf;           /* the message being received, after its 4-byte length */
	uint32_t want;          /* its length, once the 4 bytes are in */
	uint32_t have;
	uint8_t hdr[4];
	uint32_t hdr_have;
};

static int ctl_listen_fd = -1;
static struct ctl_client ctl_clients[SW_CTL_MAX_CLIENTS];

static int
ctl_open(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, i;

	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		ctl_clients[i].fd = -1;
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
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static void
ctl_drop(struct ctl_client *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
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
ctl_answer(struct sw_app *app, struct ctl_client *c)
{
	uint8_t *resp = NULL, hdr[4];
	size_t n = sw_ctl_handle(app, c->buf, c->have, &resp);

	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	if (resp == NULL || write_all(c->fd, hdr, 4) < 0 || write_all(c->fd, resp, n) < 0) {
		free(resp);
		ctl_drop(c);
		return;
	}
	free(resp);
	free(c->buf);
	c->buf = NULL;
	c->want = c->have = c->hdr_have = 0;
}

/* Read what a client has sent; answer each complete request. */
static void
ctl_read(struct sw_app *app, struct ctl_client *c)
{
	for (;;) {
		ssize_t r;

		if (c->hdr_have < 4) {
			r = recv(c->fd, c->hdr + c->hdr_have, 4 - c->hdr_have, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				ctl_drop(c);
				return;
			}
			if (r < 0)
				return;
			c->hdr_have += (uint32_t)r;
			if (c->hdr_have < 4)
				continue;
			c->want = (uint32_t)c->hdr[0] << 24 | (uint32_t)c->hdr[1] << 16 |
				  (uint32_t)c->hdr[2] << 8 | c->hdr[3];
			if (c->want > SW_CTL_MAX_MSG) {
				fprintf(stderr, "synwall-dp: control socket: a %u-byte message is "
					"over the %u limit: connection closed\n", c->want,
					SW_CTL_MAX_MSG);
				ctl_drop(c);
				return;
			}
			c->buf = malloc(c->want > 0 ? c->want : 1);
			if (c->buf == NULL) {
				ctl_drop(c);
				return;
			}
			c->have = 0;
		}
		if (c->have < c->want) {
			r = recv(c->fd, c->buf + c->have, c->want - c->have, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				ctl_drop(c);
				return;
			}
			if (r < 0)
				return;
			c->have += (uint32_t)r;
			if (c->have < c->want)
				continue;
		}
		/* One request per client per round: a client that pipelines cannot keep the
		 * others (and key rotation, logging) waiting. */
		ctl_answer(app, c);
		return;
	}
}

/* Wait up to timeout_ms for control traffic and serve it. */
static void
ctl_poll(struct sw_app *app, int timeout_ms)
{
	struct pollfd pfd[SW_CTL_MAX_CLIENTS + 1];
	int map[SW_CTL_MAX_CLIENTS + 1];
	int n = 0, i;

	if (ctl_listen_fd < 0) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	pfd[n].fd = ctl_listen_fd;
	pfd[n].events = POLLIN;
	map[n++] = -1;
	for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i].fd >= 0) {
			pfd[n].fd = ctl_clients[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
		}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (i = 1; i < n; i++)
		if (pfd[i].revents != 0)
			ctl_read(app, &ctl_clients[map[i]]);
	if (pfd[0].revents & POLLIN) {
		int fd = accept4(ctl_listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
			if (ctl_clients[i].fd < 0)
				break;
		if (i == SW_CTL_MAX_CLIENTS) {
			close(fd);      /* busy: the controller reconnects */
			return;
		}
		{
			/* Answers are written blocking, but never for long. */
			struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };

			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		}
		memset(&ctl_clients[i], 0, sizeof(ctl_clients[i]));
		ctl_clients[i].fd = fd;
	}
}

/* ---- the loop ---- */

int
sw_control_loop(struct sw_app *app)
{
	struct sw_args *a = &app->args;
	uint64_t next_rotation_ms = sw_now_ms() + (uint64_t)a->rotate_s * 1000;
	unsigned int q;

	if (a->ctl_path != NULL) {
		ctl_listen_fd = ctl_open(a->ctl_path);
		if (ctl_listen_fd < 0)
			fprintf(stderr, "synwall-dp: --ctl %s: cannot listen: %s\n", a->ctl_path,
				strerror(errno));
	}

	while (!app->quit) {
		uint64_t now = sw_now_ms();

		for (q = 0; q < app->nb_workers; q++)
			sw_worker_drain_log(app->workers[q], stderr);

		if (a->idle_exit_ms != 0) {
			uint64_t last = 0;

			for (q = 0; q < app->nb_workers; q++) {
				uint64_t l = __atomic_load_n(&app->workers[q]->last_rx_ms,
							     __ATOMIC_RELAXED);
				if (l > last)
					last = l;
			}
			if (last != 0 && now > last + a->idle_exit_ms) {
				printf("synwall-dp: idle for %" PRIu64 " ms: exiting\n",
				       a->idle_exit_ms);
				app->quit = true;
				break;
			}
		}

		if (!a->have_key && !a->have_epoch && !app->keys_managed) {
			if (a->have_master) {
				uint64_t e = epoch_of_clock(a);

				if (e != sw_cfg_get(&app->cfg)->keys.epoch)
					rotate_keys(app, e);
			} else if (now >= next_rotation_ms) {
				rotate_keys(app, sw_cfg_get(&app->cfg)->keys.epoch + 1);
				next_rotation_ms = now + (uint64_t)a->rotate_s * 1000;
			}
		}

		ctl_poll(app, SW_CONTROL_PERIOD_US / 1000);
	}

	for (q = 0; q < app->nb_workers; q++)
		sw_worker_drain_log(app->workers[q], stderr);
	if (ctl_listen_fd >= 0) {
		unsigned int i;

		for (i = 0; i < SW_CTL_MAX_CLIENTS; i++)
			if (ctl_clients[i].fd >= 0)
				ctl_drop(&ctl_clients[i]);
		close(ctl_listen_fd);
		unlink(a->ctl_path);
	}
	return 0;
}
