/* SPDX-License-Identifier: BSD-3-Clause */
/* The process-wide state: options, ports, workers, configuration. */
#ifndef SW_APP_H
#define SW_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>

#include "config.h"
#include "srclist.h"
#include "state.h"
#include "sw_const.h"
#include "worker.h"

/* Command-line options (DESIGN.md "Dataplane command line"). */
struct sw_args {
	uint16_t outside_port;
	uint16_t inside_port;
	const char *outside_name;       /* a device name to look up after EAL init, or NULL */
	const char *inside_name;
	uint32_t hashsize;
	uint32_t bucketlimit;
	uint32_t flows;
	uint32_t preload_flows;         /* benchmarks: established flows made at start */
	/* the source quotas (srcquota.h): a client's source prefix is its address cut to these
	 * lengths; per lcore it may hold this many flows and syncache entries (0: any number;
	 * SW_ARGS_UNSET until sw_args_source_finish) */
	uint8_t source_v4_len;
	uint8_t source_v6_len;
	uint32_t source_flows;
	uint32_t source_halfopen;
	uint32_t source_table;          /* entries of each lcore's source table (srctab.h); 0:
					 * none */
	int siphash;                    /* enum sw_siphash_impl, or -1: the best there is */
	uint32_t mbufs;
	uint32_t rotate_s;
	uint64_t idle_exit_ms;          /* 0: off */
	uint32_t idle_sleep_us;         /* a worker's longest sleep when idle; 0: never sleeps */
	bool have_key;                  /* --key: fixed secret, no rotation */
	bool have_master;               /* --master: secrets derived per epoch */
	bool have_epoch;                /* --epoch: pinned epoch, no rotation */
	uint64_t epoch;
	struct sw_sipkey key;
	struct sw_sipkey master;
	const char *ctl_path;
	const char *stats_json;
	const char *state_path;         /* --state: the tables' region (state.h), or NULL */
	/* --sources FILE: its rules and port ranges (srclist.h), read before EAL starts; the
	 * set is built from them once it runs */
	const char *sources_path;
	struct sw_src_rule *src_rules;
	long n_src_rules;
	struct sw_src_ports *src_ranges;
	uint32_t n_src_ranges;
	struct sw_config *cfg;          /* initial configuration, built from the options */
};

/* Per port: what the NIC can do for us. Set before launch, read-only after. */
struct sw_port {
	uint16_t id;
	bool tx_csum;                   /* IPv4/TCP/IPv6 TX checksum offload */
	bool rx_csum;                   /* RX checksum flags are meaningful */
};

struct sw_app {
	struct sw_args args;
	struct sw_port outside;
	struct sw_port inside;
	struct rte_mempool *pool;
	unsigned int nb_workers;
	/* index = queue id; written once by main before launch (release), read by telemetry
	 * (which may run before they exist: sw_app_worker) */
	struct sw_worker *workers[SW_MAX_WORKERS];
	struct sw_learn_table *learn;   /* the workers' learned server profiles */
	struct sw_state *state;         /* --state: where the tables live (NULL: rte_malloc) */
	/* main thread, at start: a bitmap of the server ports of the flows taken over */
	uint64_t adopted_ports[65536 / 64];
	struct sw_cfg_domain cfg;
	/* written by the signal handler and the control loop, read by every loop */
	volatile bool quit;
	/* control thread only: keys come from the controller, no rotation of our own */
	bool keys_managed;
	/* control thread only: when the random secrets rotate next (0: not yet set) */
	uint64_t next_rotation_ms;
};

extern struct sw_app sw_app;

/* Worker q, or NULL while start-up has not created it yet. */
static inline const struct sw_worker *
sw_app_worker(const struct sw_app *app, unsigned int q)
{
	return __atomic_load_n(&app->workers[q], __ATOMIC_ACQUIRE);
}

/* args.c: parse the application's options. Returns 0, or prints one line and returns -1. */
int sw_args_parse(struct sw_args *a, int argc, char **argv);
/* argsrc.c: the source quotas' options; finish: their defaults and checks, once the table
 * sizes and the cachelimit are known. Each returns 0, or prints one line and returns -1. */
#define SW_ARGS_UNSET UINT32_MAX
int sw_args_source_prefix(struct sw_args *a, const char *s);
int sw_args_source_flows(struct sw_args *a, const char *s);
int sw_args_source_table(struct sw_args *a, const char *s);
int sw_args_source_halfopen(struct sw_args *a, const char *s);
int sw_args_source_finish(struct sw_args *a, uint32_t cachelimit);
/* port.c */
int sw_ports_init(struct sw_app *app);
void sw_ports_stop(struct sw_app *app);
/* control.c: the main lcore's loop (key rotation, idle exit, control socket). */
int sw_control_loop(struct sw_app *app);
/* ctlproto.c: answer one controller request (a serialized DpRequest); the response is
 * written to *out (malloc'ed, the caller frees). Returns its length. */
size_t sw_ctl_handle(struct sw_app *app, const uint8_t *req, size_t len, uint8_t **out);

#endif
