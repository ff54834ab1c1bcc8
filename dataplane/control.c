/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main lcore's loop: it sleeps between rounds (it never polls a port) and does what the
 * workers must not: print their log lines, rotate cookie keys, watch for idleness, and
 * answer the control socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "ctlsock.h"
#include "keys.h"

static size_t
handle_request(void *arg, const uint8_t *req, size_t len, uint8_t **out)
{
	return sw_ctl_handle(arg, req, len, out);
}

static void
drain_logs(struct sw_app *app)
{
	unsigned int q;

	for (q = 0; q < app->nb_workers; q++)
		sw_log_drain(&app->workers[q]->lc, stderr);
}

/* --idle-exit: true once no worker has received a packet for that long. */
static bool
idle_expired(const struct sw_app *app, uint64_t now_ms)
{
	uint64_t last = 0;
	unsigned int q;

	for (q = 0; q < app->nb_workers; q++) {
		uint64_t l = __atomic_load_n(&app->workers[q]->last_rx_ms, __ATOMIC_RELAXED);

		if (l > last)
			last = l;
	}
	return last != 0 && now_ms > last + app->args.idle_exit_ms;
}

int
sw_control_loop(struct sw_app *app)
{
	const struct sw_args *a = &app->args;
	struct sw_ctlsock sock = { .listen_fd = -1 };

	if (a->ctl_path != NULL && sw_ctlsock_open(&sock, a->ctl_path, handle_request, app) < 0)
		fprintf(stderr, "synwall-dp: --ctl %s: cannot listen: %s\n", a->ctl_path,
			strerror(errno));

	while (!app->quit) {
		uint64_t now = sw_now_ms();

		drain_logs(app);
		if (a->idle_exit_ms != 0 && idle_expired(app, now)) {
			printf("synwall-dp: idle for %" PRIu64 " ms: exiting\n", a->idle_exit_ms);
			app->quit = true;
			break;
		}
		sw_keys_tick(app, now);
		sw_ctlsock_poll(&sock, SW_CONTROL_PERIOD_US / 1000, now);
	}

	drain_logs(app);
	sw_ctlsock_close(&sock);
	return 0;
}
