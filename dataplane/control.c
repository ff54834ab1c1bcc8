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

/* ---- control socket: one request per line, one JSON answer per line ---- */

static int ctl_listen_fd = -1;

static int
ctl_open(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
ctl_serve(struct sw_app *app, int fd)
{
	char req[256];
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	FILE *out;

	/* A client gets 100 ms to send its line: a silent one cannot stall the loop. */
	while (n < sizeof(req) - 1 && poll(&p, 1, 100) == 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(req, '\n', n) != NULL)
			break;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	out = fdopen(fd, "w");
	if (out == NULL) {
		close(fd);
		return;
	}
	if (strcmp(req, "stats") == 0)
		sw_stats_write_json(app, out);
	else if (strcmp(req, "ping") == 0)
		fputs("{\"ok\": true}\n", out);
	else
		fputs("{\"error\": \"unknown request (stats, ping)\"}\n", out);
	fclose(out);
}

static void
ctl_poll(struct sw_app *app)
{
	int fd;

	if (ctl_listen_fd < 0)
		return;
	fd = accept4(ctl_listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);

		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		ctl_serve(app, fd);
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

		if (!a->have_key && !a->have_epoch) {
			if (a->have_master) {
				uint64_t e = epoch_of_clock(a);

				if (e != sw_cfg_get(&app->cfg)->keys.epoch)
					rotate_keys(app, e);
			} else if (now >= next_rotation_ms) {
				rotate_keys(app, sw_cfg_get(&app->cfg)->keys.epoch + 1);
				next_rotation_ms = now + (uint64_t)a->rotate_s * 1000;
			}
		}

		ctl_poll(app);
		usleep(SW_CONTROL_PERIOD_US);
	}

	for (q = 0; q < app->nb_workers; q++)
		sw_worker_drain_log(app->workers[q], stderr);
	if (ctl_listen_fd >= 0) {
		close(ctl_listen_fd);
		unlink(a->ctl_path);
	}
	return 0;
}
