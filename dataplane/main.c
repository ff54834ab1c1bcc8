/* SPDX-License-Identifier: BSD-3-Clause */
/* synwall-dp: start-up, the launch, and an orderly stop. */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "app.h"
#include "clock.h"
#include "keys.h"

struct sw_app sw_app;

static struct sw_worker *worker_of_lcore[RTE_MAX_LCORE];

static void
on_signal(int sig)
{
	(void)sig;
	sw_app.quit = true;
}

static int
lcore_main(void *arg)
{
	struct sw_app *app = arg;
	unsigned int lcore = rte_lcore_id();

	if (lcore == rte_get_main_lcore())
		return sw_control_loop(app);
	if (worker_of_lcore[lcore] != NULL)
		return sw_worker_run(worker_of_lcore[lcore]);
	return 0;
}

/*
 * The application's options are checked before EAL starts, so that a bad one costs nothing:
 * no memory is mapped and no device is probed (net_pcap would already create its files).
 */
static int
parse_app_args_first(struct sw_args *a, int argc, char **argv)
{
	char **app_argv;
	int i, sep = argc, n, rc;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	n = sep < argc ? argc - sep : 1;
	app_argv = calloc((size_t)n + 1, sizeof(char *));
	if (app_argv == NULL)
		return -1;
	app_argv[0] = argv[0];
	for (i = 1; i < n; i++)
		app_argv[i] = argv[sep + i];
	rc = sw_args_parse(a, n, app_argv);
	free(app_argv);
	return rc;
}

static int
resolve_port_name(const char *opt, const char *name, uint16_t *id)
{
	if (name == NULL)
		return 0;
	if (rte_eth_dev_get_port_by_name(name, id) != 0) {
		fprintf(stderr, "synwall-dp: %s: no port named '%s' (%u ports probed)\n", opt,
			name, rte_eth_dev_count_avail());
		return -1;
	}
	return 0;
}

static int
resolve_port_names(struct sw_args *a)
{
	if (resolve_port_name("--outside", a->outside_name, &a->outside_port) < 0 ||
	    resolve_port_name("--inside", a->inside_name, &a->inside_port) < 0)
		return -1;
	if (a->outside_port == a->inside_port) {
		fprintf(stderr, "synwall-dp: --inside: the inside port must differ from the "
			"outside port\n");
		return -1;
	}
	return 0;
}

/* Workers for every worker lcore, queue ids in lcore order. */
/* --state: the tables' region, taken over or started empty (said on one line); its clock
 * becomes ours, so that the tables' times go on. */
static int
open_state(struct sw_app *app)
{
	static struct sw_state st;
	char note[320];

	if (sw_state_open(&st, app->args.state_path, app->nb_workers, app->args.hashsize,
			  app->args.bucketlimit, app->args.flows, sw_tsc_per_ms,
			  SW_STATE_LOCK_WAIT_MS, note, sizeof(note)) != 0) {
		fprintf(stderr, "synwall-dp: --state %s: %s\n", app->args.state_path, note);
		return -1;
	}
	if (note[0] != '\0')
		printf("synwall-dp: --state %s: %s\n", app->args.state_path, note);
	if (st.adopted)
		sw_tsc_per_ms = st.hdr->tsc_per_ms;
	app->state = &st;
	return 0;
}

static int
create_workers(struct sw_app *app)
{
	unsigned int lcore, q = 0;

	if (app->state != NULL) {
		app->learn = sw_state_at(app->state, app->state->hdr->learn_off);
		if (app->state->adopted)
			sw_learn_adopt(app->learn);
		else
			app->learn->seed = (uint32_t)rte_rand();
	} else {
		app->learn = rte_zmalloc("sw_learn", sizeof(*app->learn), RTE_CACHE_LINE_SIZE);
		if (app->learn == NULL) {
			fprintf(stderr, "synwall-dp: cannot allocate the learned profiles (%zu "
				"bytes): add memory (-m)\n", sizeof(*app->learn));
			return -1;
		}
		app->learn->seed = (uint32_t)rte_rand();
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct sw_worker *w = sw_worker_create(app, lcore, (uint16_t)q);

		if (w == NULL) {
			fprintf(stderr, "synwall-dp: lcore %u: cannot allocate the syncache "
				"(%u x %u) and flow table (%u): add memory (-m) or lower "
				"--hashsize/--bucketlimit/--flows\n", lcore, app->args.hashsize,
				app->args.bucketlimit, app->args.flows);
			return -1;
		}
		__atomic_store_n(&app->workers[q++], w, __ATOMIC_RELEASE);
		worker_of_lcore[lcore] = w;
	}
	return 0;
}

/* --sources: the set built from the rules read before EAL started, into the configuration
 * we start with (its tables in EAL's memory, on the main lcore's socket). */
static int
build_sources(struct sw_app *app)
{
	struct sw_args *a = &app->args;
	char why[256];
	int rc;

	if (a->sources_path == NULL)
		return 0;
	rc = sw_srcset_build(a->src_rules, (size_t)a->n_src_rules, a->src_ranges, a->n_src_ranges,
			     (int)rte_socket_id(), &a->cfg->src, why, sizeof(why));
	free(a->src_rules);
	free(a->src_ranges);
	a->src_rules = NULL;
	a->src_ranges = NULL;
	if (rc != 0) {
		fprintf(stderr, "synwall-dp: --sources: %s: %s\n", a->sources_path, why);
		return -1;
	}
	printf("synwall-dp: --sources %s: %u IPv4 and %u IPv6 prefixes, %u port range(s) with "
	       "lists of their own, %u limit(s), %.1f MB\n", a->sources_path,
	       a->cfg->src ? a->cfg->src->rules4 : 0, a->cfg->src ? a->cfg->src->rules6 : 0,
	       a->n_src_ranges, a->cfg->src ? a->cfg->src->nlimits : 0,
	       a->cfg->src ? (double)a->cfg->src->mem_bytes / 1048576 : 0.0);
	return 0;
}

/* Server ports of flows taken over that the configuration we start with does not protect
 * (a restart with other --protect ranges, or none until the controller's arrive): their
 * flows are translated until they end, as after a change of mode (SW_PORTF_FLOWS), rather
 * than bridged untranslated, which would break every one of them. */
static void
mark_adopted_ports(struct sw_app *app)
{
	struct sw_config *c = app->args.cfg;
	unsigned int p, marked = 0;

	for (p = 0; p < 65536; p++) {
		if (!(app->adopted_ports[p >> 6] >> (p & 63) & 1) ||
		    sw_mode_protected(c->port_mode[p]))
			continue;
		c->port_flags[p] |= SW_PORTF_FLOWS;
		marked++;
	}
	if (marked != 0)
		printf("synwall-dp: %u server port(s) of flows taken over are not protected: "
		       "those flows are still translated until they end\n", marked);
}

static void
free_workers(struct sw_app *app)
{
	bool clean = app->state != NULL;
	unsigned int q;

	for (q = 0; q < app->nb_workers; q++) {
		struct sw_worker *w = app->workers[q];

		/* no worker runs: each one's tables are whole, their scalars saved for the
		 * next owner */
		if (app->state != NULL && w != NULL) {
			sw_ctab_save(&w->lc.sc.tab, &app->state->hdr->w[q].sc);
			sw_ctab_save(&w->lc.ft.tab, &app->state->hdr->w[q].ft);
		} else {
			clean = false;
		}
		sw_worker_free(w);
		app->workers[q] = NULL;
	}
	if (app->state != NULL)
		sw_state_close(app->state, clean);
	else
		rte_free(app->learn);
	app->state = NULL;
	app->learn = NULL;
}

/*
 * Packet capture: dpdk-dumpcap (or dpdk-pdump), a secondary process of the same
 * --file-prefix, asks for a port's RX and TX to be copied to it; rte_pdump's callbacks on the
 * port's queues copy them (only while a capture runs: until then the queues have no
 * callback). A secondary needs the primary's memory in shared files: with --no-huge (or
 * --in-memory) there are none, and capture is unavailable, which is said once here.
 */
static bool
capture_init(void)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return false;
	if (!rte_eal_has_hugepages()) {
		printf("synwall-dp: packet capture (dpdk-dumpcap) unavailable: no secondary "
		       "process can attach under --no-huge (it needs hugepages)\n");
		return false;
	}
	if (rte_pdump_init() != 0) {
		printf("synwall-dp: packet capture (dpdk-dumpcap) unavailable: %s\n",
		       rte_strerror(rte_errno));
		return false;
	}
	return true;
}

/*
 * DPDK's own log lines (EAL, drivers, libraries) by their level: warnings and worse on
 * standard error, the rest on standard output, as synwall-dp's own lines are. Under
 * systemd the two are the journal's streams at priority err and info (systemd-cat, started
 * by synwalld); EAL's default stream would also send every line to syslog, which under
 * systemd is the journal again.
 */
static ssize_t
eal_log_write(void *cookie, const char *buf, size_t size)
{
	FILE *out = rte_log_cur_msg_loglevel() <= (int)RTE_LOG_WARNING ? stderr : stdout;
	size_t n = fwrite(buf, 1, size, out);

	(void)cookie;
	fflush(out);
	return (ssize_t)n;
}

static void
log_init(void)
{
	static const cookie_io_functions_t io = { .write = eal_log_write };
	FILE *f;

	/* a line reaches the journal (or the file) as it is written, with its own time */
	setvbuf(stdout, NULL, _IOLBF, 0);
	f = fopencookie(NULL, "w", io);
	if (f != NULL)
		rte_openlog_stream(f);
}

int
main(int argc, char **argv)
{
	struct sw_app *app = &sw_app;
	bool have_cfg = false, capture = false;
	int ret, rc = 1;

	/* What a controller asks of a binary before it lets it take the tables over: the
	 * layout of its state region (state.h), on one line, without starting anything. */
	if (argc == 2 && strcmp(argv[1], "--state-layout") == 0) {
		printf("synwall-dp state layout %u fingerprint %08x\n", SW_STATE_LAYOUT,
		       sw_state_fingerprint());
		return 0;
	}
	if (parse_app_args_first(&app->args, argc, argv) < 0)
		return 2;

	log_init();
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "synwall-dp: EAL: %s\n", rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	if (sw_clock_init() < 0) {
		fprintf(stderr, "synwall-dp: EAL knows no TSC frequency\n");
		goto out;
	}
	if (resolve_port_names(&app->args) < 0) {
		rc = 2;
		goto out;
	}

	sw_siphash_select(app->args.siphash >= 0 ? (enum sw_siphash_impl)app->args.siphash
						  : sw_siphash_best_impl());

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Its output is a journal stream under systemd: a write to a stream journald has
	 * closed must cost the line, not the dataplane. */
	signal(SIGPIPE, SIG_IGN);
	/* Registered before anything else, so that a reader never finds the socket without
	 * the commands; they answer zeros until the workers exist. */
	if (sw_stats_telemetry_register(app) < 0)
		fprintf(stderr, "synwall-dp: telemetry commands not registered\n");

	app->nb_workers = rte_lcore_count() - 1;
	if (app->nb_workers == 0 || app->nb_workers > SW_MAX_WORKERS) {
		fprintf(stderr, "synwall-dp: -l: need 1..%u worker lcores besides the main lcore "
			"(for example -l 0-1), have %u\n", SW_MAX_WORKERS, app->nb_workers);
		app->nb_workers = 0;
		rc = 2;
		goto out;
	}

	if (app->args.state_path != NULL && open_state(app) < 0) {
		rc = 2;
		goto out;
	}

	app->pool = rte_pktmbuf_pool_create("sw_mbufs", app->args.mbufs, SW_MBUF_CACHE, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app->pool == NULL) {
		fprintf(stderr, "synwall-dp: --mbufs: cannot allocate %u mbufs: %s\n",
			app->args.mbufs, rte_strerror(rte_errno));
		goto out;
	}

	if (build_sources(app) < 0) {
		rc = 2;
		goto out;
	}
	if (sw_keys_initial(&app->args, &app->args.cfg->keys) < 0 ||
	    sw_cfg_domain_init(&app->cfg, app->nb_workers, app->args.cfg) != 0) {
		fprintf(stderr, "synwall-dp: cannot set up the configuration\n");
		goto out;
	}
	have_cfg = true;

	if (create_workers(app) < 0)
		goto out;
	/* nothing reads the configuration yet: it is still ours to finish */
	mark_adopted_ports(app);
	if (sw_ports_init(app) < 0)
		goto stop_ports;
	capture = capture_init();
	printf("synwall-dp: %u worker(s), syncache %u x %u per lcore, flows %u per lcore, "
	       "SipHash %s\n", app->nb_workers, app->args.hashsize, app->args.bucketlimit,
	       app->args.flows, sw_siphash_impl_name());
	fflush(stdout);

	rte_eal_mp_remote_launch(lcore_main, app, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	if (capture)
		rte_pdump_uninit();

	sw_ports_stop(app);
	if (app->args.stats_json != NULL &&
	    sw_stats_write_file(app, app->args.stats_json) < 0)
		fprintf(stderr, "synwall-dp: --stats-json %s: %s\n", app->args.stats_json,
			strerror(errno));
	rc = 0;
	goto out;

stop_ports:
	sw_ports_stop(app);
out:
	free_workers(app);
	if (have_cfg)
		sw_cfg_domain_fini(&app->cfg);
	else if (app->args.cfg != NULL)
		sw_srcset_free(app->args.cfg->src);
	rte_mempool_free(app->pool);
	rte_eal_cleanup();
	return rc;
}
