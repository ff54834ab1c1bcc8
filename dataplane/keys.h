/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cookie secrets the dataplane keeps itself: fixed (--key), derived per epoch from a
 * master secret (--master, --epoch), or random and rotated every --rotate seconds; unless
 * the controller sets them (then they are "managed" and nothing rotates here).
 */
#ifndef SW_KEYS_H
#define SW_KEYS_H

#include <stdint.h>

#include "cookie.h"

struct sw_app;
struct sw_args;

/* The secrets to start with. Returns 0, or -1 without randomness. */
int sw_keys_initial(const struct sw_args *a, struct sw_keyset *ks);

/* Control thread, each round: rotate the secrets when their time has come. */
void sw_keys_tick(struct sw_app *app, uint64_t now_ms);

#endif
