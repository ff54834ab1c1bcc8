/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "app.h"
#include "keys.h"

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
sw_keys_initial(const struct sw_args *a, struct sw_keyset *ks)
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
rotate(struct sw_app *app, uint64_t epoch)
{
	struct sw_config *n = sw_cfg_clone(sw_cfg_get(&app->cfg));

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

void
sw_keys_tick(struct sw_app *app, uint64_t now_ms)
{
	const struct sw_args *a = &app->args;

	if (a->have_key || a->have_epoch || app->keys_managed)
		return;
	if (a->have_master) {
		uint64_t e = epoch_of_clock(a);

		if (e != sw_cfg_get(&app->cfg)->keys.epoch)
			rotate(app, e);
		return;
	}
	if (app->next_rotation_ms == 0) {
		app->next_rotation_ms = now_ms + (uint64_t)a->rotate_s * 1000;
	} else if (now_ms >= app->next_rotation_ms) {
		rotate(app, sw_cfg_get(&app->cfg)->keys.epoch + 1);
		app->next_rotation_ms = now_ms + (uint64_t)a->rotate_s * 1000;
	}
}
