/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The controller's requests (proto/synwall/dp/v1/dataplane.proto), answered on the control
 * thread. A configuration change is built whole, checked whole, and published under RCU or
 * refused with the field to blame: nothing is ever half-applied.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "app.h"
#include "clock.h"
#include "ctlsock.h"
#include "sw_const.h"
#include "dataplane.pb-c.h"

typedef Synwall__Dp__V1__DpRequest DpRequest;
typedef Synwall__Dp__V1__DpResponse DpResponse;
typedef Synwall__Dp__V1__DpConfig DpConfig;
typedef Synwall__Dp__V1__PortRange PortRange;

#define SW_DUMP_MAX 1000
#define SW_DUMP_DEFAULT 100
#define SW_WORKER_CALL_TIMEOUT_MS 2000

/* The cursor of a syncache dump: worker, bucket, position in the bucket (0 = start). */
#define CURSOR(q, b, k) (((uint64_t)(q) + 1) << 40 | (uint64_t)(b) << 8 | (k))

struct reply {
	DpResponse r;
	char error[256];
	char field[64];
};

static int __rte_format_printf(3, 4)
refuse(struct reply *rp, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->error, sizeof(rp->error), fmt, ap);
	va_end(ap);
	snprintf(rp->field, sizeof(rp->field), "%s", field);
	rp->r.ok = 0;
	rp->r.error = rp->error;
	rp->r.error_field = rp->field;
	return -1;
}

/* ---- configuration ---- */

/* Build (in *n, a copy of the current version) the configuration dc describes. */
static int
config_from_proto(struct sw_app *app, const DpConfig *dc, struct sw_config *n, struct reply *rp)
{
	const struct sw_args *a = &app->args;
	struct sw_port_range *ranges;
	struct sw_profile def;
	const char *what;
	char field[48], why[160];
	size_t i;
	int rc = 0;

	n->lim.cachelimit = dc->cachelimit;
	n->lim.rexmtlimit = dc->rexmtlimit;
	n->lim.syncookies = dc->syncookies;
	n->lim.syncookies_only = dc->syncookies_only;
	n->lim.mss = dc->mss;
	n->lim.wscale = dc->wscale;
	n->lim.server_retries = dc->server_retries;
	n->lim.cookie_check_rate = dc->cookie_check_rate;
	n->lim.syn_rate = dc->syn_rate;
	n->lim.syn_burst = dc->syn_burst;
	n->lim.reflect_rate = dc->reflect_rate;
	n->lim.reflect_burst = dc->reflect_burst;
	what = sw_limits_validate(&n->lim, a->hashsize, a->bucketlimit, why, sizeof(why));
	if (what != NULL)
		return refuse(rp, what, "%s", why);

	/* A port range per port is the most a configuration can mean: more is refused before
	 * anything is built. */
	if (dc->n_ports > SW_CTL_MAX_RANGES)
		return refuse(rp, "ports", "%zu port ranges: at most %u (one per port)",
			      dc->n_ports, SW_CTL_MAX_RANGES);
	def = sw_cfg_default_profile(&n->lim);
	ranges = malloc((dc->n_ports > 0 ? dc->n_ports : 1) * sizeof(*ranges));
	if (ranges == NULL)
		return refuse(rp, "", "out of memory");
	for (i = 0; i < dc->n_ports; i++) {
		const PortRange *pr = dc->ports[i];
		struct sw_profile p = def;

		if (pr->lo < 1 || pr->lo > 65535) {
			snprintf(field, sizeof(field), "ports[%zu].lo", i);
			rc = refuse(rp, field, "port %u must be 1..65535", pr->lo);
			goto out;
		}
		if (pr->hi < pr->lo || pr->hi > 65535) {
			snprintf(field, sizeof(field), "ports[%zu].hi", i);
			rc = refuse(rp, field, "port range %u-%u must be ascending and within "
				    "1..65535", pr->lo, pr->hi);
			goto out;
		}
		if (pr->mode > SW_MODE_DROP) {
			snprintf(field, sizeof(field), "ports[%zu].mode", i);
			rc = refuse(rp, field, "mode %u must be 0 pass, 1 proxy, 2 cookie or 3 drop",
				    pr->mode);
			goto out;
		}
		if (pr->mss != 0 && (pr->mss < SW_MSS_MIN || pr->mss > SW_MSS_MAX)) {
			snprintf(field, sizeof(field), "ports[%zu].mss", i);
			rc = refuse(rp, field, "profile mss %u must be %u..%u", pr->mss, SW_MSS_MIN,
				    SW_MSS_MAX);
			goto out;
		}
		if (pr->wscale > SW_WSCALE_MAX) {
			snprintf(field, sizeof(field), "ports[%zu].wscale", i);
			rc = refuse(rp, field, "profile wscale %u must be 0..%u", pr->wscale,
				    SW_WSCALE_MAX);
			goto out;
		}
		if (pr->idle_timeout_s > SW_FLOW_IDLE_MAX_S) {
			snprintf(field, sizeof(field), "ports[%zu].idle_timeout_s", i);
			rc = refuse(rp, field, "idle timeout %u s must be 1..%u (0: the default)",
				    pr->idle_timeout_s, SW_FLOW_IDLE_MAX_S);
			goto out;
		}
		if (pr->mss != 0)
			p.mss = (uint16_t)pr->mss;
		p.wscale = (uint8_t)pr->wscale;
		p.flags = (uint8_t)((pr->window_scaling ? SW_PROF_WS : 0) |
				    (pr->sack ? SW_PROF_SACK : 0) |
				    (pr->timestamps ? SW_PROF_TS : 0));
		ranges[i] = (struct sw_port_range){
			.lo = (uint16_t)pr->lo, .hi = (uint16_t)pr->hi, .mode = (uint8_t)pr->mode,
			.profile = p, .idle_s = pr->idle_timeout_s,
		};
	}
	if (sw_cfg_set_ranges(n, ranges, dc->n_ports) < 0) {
		rc = refuse(rp, "", "out of memory");
		goto out;
	}
	sw_cfg_mode_change(sw_cfg_get(&app->cfg), n, sw_now_ms());
out:
	free(ranges);
	return rc;
}

static int
same_profile(const struct sw_profile *a, const struct sw_profile *b)
{
	return a->mss == b->mss && a->flags == b->flags &&
	       (!(a->flags & SW_PROF_WS) || a->wscale == b->wscale);
}

/* The current configuration as the controller describes it: ranges of equal mode and
 * profile, for every port not at the defaults. */
static DpConfig *
config_to_proto(const struct sw_config *c, PortRange **storage)
{
	DpConfig *dc = calloc(1, sizeof(*dc));
	PortRange **list = NULL;
	struct sw_profile def = sw_cfg_default_profile(&c->lim);
	size_t n = 0, cap = 0;
	uint32_t p = 1;

	if (dc == NULL)
		return NULL;
	synwall__dp__v1__dp_config__init(dc);
	dc->cachelimit = c->lim.cachelimit;
	dc->rexmtlimit = c->lim.rexmtlimit;
	dc->syncookies = c->lim.syncookies;
	dc->syncookies_only = c->lim.syncookies_only;
	dc->mss = c->lim.mss;
	dc->wscale = c->lim.wscale;
	dc->server_retries = c->lim.server_retries;
	dc->cookie_check_rate = c->lim.cookie_check_rate;
	dc->syn_rate = c->lim.syn_rate;
	dc->syn_burst = c->lim.syn_burst;
	dc->reflect_rate = c->lim.reflect_rate;
	dc->reflect_burst = c->lim.reflect_burst;
	*storage = NULL;
	while (p <= 65535) {
		uint32_t q = p;
		PortRange *pr;

		if (c->port_mode[p] == SW_MODE_PASS && same_profile(&c->port_profile[p], &def) &&
		    c->port_idle_s[p] == c->idle_default_s) {
			p++;
			continue;
		}
		while (q + 1 <= 65535 && c->port_mode[q + 1] == c->port_mode[p] &&
		       same_profile(&c->port_profile[q + 1], &c->port_profile[p]) &&
		       c->port_idle_s[q + 1] == c->port_idle_s[p])
			q++;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			PortRange *ns = realloc(*storage, ncap * sizeof(**storage));
			PortRange **nl = realloc(list, ncap * sizeof(*list));

			if (ns != NULL)
				*storage = ns;
			if (nl != NULL)
				list = nl;
			if (ns == NULL || nl == NULL)
				break;
			cap = ncap;
		}
		pr = &(*storage)[n];
		synwall__dp__v1__port_range__init(pr);
		pr->lo = p;
		pr->hi = q;
		pr->mode = c->port_mode[p];
		pr->mss = c->port_profile[p].mss;
		pr->wscale = c->port_profile[p].wscale;
		pr->window_scaling = (c->port_profile[p].flags & SW_PROF_WS) != 0;
		pr->sack = (c->port_profile[p].flags & SW_PROF_SACK) != 0;
		pr->timestamps = (c->port_profile[p].flags & SW_PROF_TS) != 0;
		pr->idle_timeout_s = c->port_idle_s[p] == c->idle_default_s ? 0
									    : c->port_idle_s[p];
		n++;
		p = q + 1;
	}
	/* the pointers go in once the array stopped moving */
	for (size_t i = 0; i < n; i++)
		list[i] = &(*storage)[i];
	dc->n_ports = n;
	dc->ports = list;
	return dc;
}

static void
config_proto_free(DpConfig *dc, PortRange *storage)
{
	if (dc == NULL)
		return;
	free(dc->ports);
	free(storage);
	free(dc);
}

/* apply (or only check) a whole configuration */
static void
do_config(struct sw_app *app, const DpConfig *dc, int apply, struct reply *rp)
{
	struct sw_config *n = sw_cfg_clone(sw_cfg_get(&app->cfg));

	if (n == NULL) {
		refuse(rp, "", "out of memory");
		return;
	}
	if (config_from_proto(app, dc, n, rp) < 0) {
		free(n);
		return;
	}
	if (!apply) {
		free(n);
		rp->r.config_version = sw_cfg_get(&app->cfg)->version;
		return;
	}
	sw_cfg_publish(&app->cfg, n);
	rp->r.config_version = sw_cfg_get(&app->cfg)->version;
}

static void
do_set_keys(struct sw_app *app, const Synwall__Dp__V1__DpKeys *k, struct reply *rp)
{
	struct sw_config *n;

	if (k->current.len != 16)
		return (void)refuse(rp, "current", "a secret is 16 bytes, got %zu",
				    k->current.len);
	if (k->previous.len != 16)
		return (void)refuse(rp, "previous", "a secret is 16 bytes, got %zu",
				    k->previous.len);
	n = sw_cfg_clone(sw_cfg_get(&app->cfg));
	if (n == NULL)
		return (void)refuse(rp, "", "out of memory");
	n->keys.epoch = k->epoch;
	sw_sipkey_from_bytes(&n->keys.key[k->epoch & 1], k->current.data);
	sw_sipkey_from_bytes(&n->keys.key[(k->epoch - 1) & 1], k->previous.data);
	sw_cfg_publish(&app->cfg, n);
	app->keys_managed = true;
	rp->r.config_version = sw_cfg_get(&app->cfg)->version;
}

/* ---- source lists ---- */

static void
do_load_sources(struct sw_app *app, const Synwall__Dp__V1__DpRequest__LoadSources *ls,
		struct reply *rp)
{
	struct sw_src_rule *rules = NULL;
	struct sw_src_ports *ranges = NULL;
	struct sw_srcset *set = NULL;
	struct sw_config *n;
	uint32_t nranges = 0;
	char why[300];
	long nrules;

	if (ls->path[0] != '\0') {
		nrules = sw_src_read(ls->path, &rules, &ranges, &nranges, why, sizeof(why));
		if (nrules < 0)
			return (void)refuse(rp, "path", "%s", why);
		if (sw_srcset_build(rules, (size_t)nrules, ranges, nranges, (int)rte_socket_id(),
				    &set, why, sizeof(why)) != 0) {
			free(rules);
			free(ranges);
			return (void)refuse(rp, "path", "%s: %s", ls->path, why);
		}
		free(rules);
		free(ranges);
	}
	n = sw_cfg_clone(sw_cfg_get(&app->cfg));
	if (n == NULL) {
		sw_srcset_free(set);
		return (void)refuse(rp, "", "out of memory");
	}
	n->src = set;
	sw_cfg_publish(&app->cfg, n);
	rp->r.config_version = sw_cfg_get(&app->cfg)->version;
}

/* ---- state ---- */

static void
port_name(uint16_t id, char *buf, size_t len)
{
	if (rte_eth_dev_get_name_by_port(id, buf) != 0)
		snprintf(buf, len, "%u", id);
}

static void
do_status(struct sw_app *app, Synwall__Dp__V1__DpStatus *st, char *out_name, char *in_name)
{
	const struct sw_config *c = sw_cfg_get(&app->cfg);

	synwall__dp__v1__dp_status__init(st);
	st->pid = (uint32_t)getpid();
	st->workers = app->nb_workers;
	st->hashsize = app->args.hashsize;
	st->bucketlimit = app->args.bucketlimit;
	st->flows = app->args.flows;
	st->config_version = c->version;
	st->key_epoch = c->keys.epoch;
	st->keys_managed = app->keys_managed;
	port_name(app->outside.id, out_name, RTE_ETH_NAME_MAX_LEN);
	port_name(app->inside.id, in_name, RTE_ETH_NAME_MAX_LEN);
	st->outside_port = out_name;
	st->inside_port = in_name;
	st->source_table = app->args.source_table;
	st->source_v4_len = app->args.source_v4_len;
	st->source_v6_len = app->args.source_v6_len;
	if (c->src != NULL) {
		st->source_prefixes4 = c->src->rules4;
		st->source_prefixes6 = c->src->rules6;
		st->source_ranges = c->src->nlists - 1;
		st->source_limits = c->src->nlimits;
		st->source_bytes = c->src->mem_bytes;
	}
}

static int
do_counters(struct sw_app *app, Synwall__Dp__V1__DpCounters *dc)
{
	static uint64_t lcore_values[SW_MAX_WORKERS][SW_NCOUNTERS];
	static Synwall__Dp__V1__DpLcoreCounters lc[SW_MAX_WORKERS];
	static Synwall__Dp__V1__DpLcoreCounters *lcp[SW_MAX_WORKERS];
	static uint64_t total[SW_NCOUNTERS];
	unsigned int q, i;

	synwall__dp__v1__dp_counters__init(dc);
	memset(total, 0, sizeof(total));
	dc->n_names = SW_NCOUNTERS;
	dc->names = (char **)(uintptr_t)sw_counter_names;
	dc->n_total = SW_NCOUNTERS;
	dc->total = total;
	for (q = 0; q < app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(app, q);

		synwall__dp__v1__dp_lcore_counters__init(&lc[q]);
		/* One snapshot per worker, and the totals summed from it: they add up. */
		for (i = 0; i < SW_NCOUNTERS; i++) {
			lcore_values[q][i] = w != NULL ? sw_counter_at(&w->lc.cnt, i) : 0;
			total[i] += lcore_values[q][i];
		}
		lc[q].lcore = w != NULL ? w->lc.lcore_id : 0;
		lc[q].n_values = SW_NCOUNTERS;
		lc[q].values = lcore_values[q];
		lcp[q] = &lc[q];
	}
	dc->n_lcores = app->nb_workers;
	dc->lcores = lcp;
	return 0;
}

/* A page of the syncaches, worker by worker, each dumping its own. */
static void
do_dump(struct sw_app *app, const Synwall__Dp__V1__DpRequest__DumpSyncache *d, struct reply *rp)
{
	static struct sw_dump_entry buf[SW_DUMP_MAX];
	static Synwall__Dp__V1__DpSyncacheEntry ents[SW_DUMP_MAX];
	static Synwall__Dp__V1__DpSyncacheEntry *entp[SW_DUMP_MAX];
	uint32_t max = d->max_entries == 0 ? SW_DUMP_DEFAULT : d->max_entries;
	uint64_t cur = d->cursor;
	uint32_t q = 0, b = 0, k = 0, n = 0;

	if (max > SW_DUMP_MAX)
		return (void)refuse(rp, "max_entries", "max_entries %u must be 1..%u", max,
				    SW_DUMP_MAX);
	if (cur != 0) {
		q = (uint32_t)(cur >> 40) - 1;
		b = (uint32_t)(cur >> 8) & 0xffffffff;
		k = (uint32_t)cur & 0xff;
		if ((cur >> 40) == 0 || q >= app->nb_workers || b >= app->args.hashsize)
			return (void)refuse(rp, "cursor", "not a cursor of this dataplane");
	}
	rp->r.next_cursor = 0;
	for (; q < app->nb_workers && n < max; q++, b = 0, k = 0) {
		struct sw_worker *w = app->workers[q];
		struct sw_cmd *c = sw_cmd_new(SW_CMD_DUMP_SYNCACHE, max - n);
		bool more;
		uint32_t i;

		if (c == NULL)
			return (void)refuse(rp, "", "out of memory");
		c->dump.bucket = b;
		c->dump.pos = k;
		if (sw_mailbox_call(&w->mbox, c, SW_WORKER_CALL_TIMEOUT_MS) < 0)
			return (void)refuse(rp, "", "worker lcore %u did not answer",
					    w->lc.lcore_id);
		memcpy(buf + n, c->entries, c->dump.n * sizeof(buf[0]));
		for (i = 0; i < c->dump.n; i++) {
			const struct sw_dump_entry *e = &buf[n + i];
			Synwall__Dp__V1__DpSyncacheEntry *o = &ents[n + i];
			size_t alen = e->t.v6 ? 16 : 4;

			synwall__dp__v1__dp_syncache_entry__init(o);
			o->lcore = w->lc.lcore_id;
			o->client_addr.data = (uint8_t *)(uintptr_t)e->t.src;
			o->client_addr.len = alen;
			o->client_port = e->t.sport;
			o->server_addr.data = (uint8_t *)(uintptr_t)e->t.dst;
			o->server_addr.len = alen;
			o->server_port = e->t.dport;
			o->client_isn = e->irs;
			o->iss = e->iss;
			o->retransmits = e->rxmits;
			o->mss = e->mss;
			o->sack = (e->flags & SW_SCF_SACK) != 0;
			o->timestamps = (e->flags & SW_SCF_TS) != 0;
			o->wscale = (e->flags & SW_SCF_WS) ? e->wscale : -1;
			o->age_ms = e->age_ms;
			o->age_known = 1;
			entp[n + i] = o;
		}
		n += c->dump.n;
		more = c->dump.more;
		if (more)
			rp->r.next_cursor = CURSOR(q, c->dump.next_bucket, c->dump.next_pos);
		sw_cmd_free(c);
		if (more)
			break;
	}
	/* A full page that ended exactly at a worker's end (the loop moved q on already):
	 * the next worker's start. */
	if (rp->r.next_cursor == 0 && n == max && q < app->nb_workers)
		rp->r.next_cursor = CURSOR(q, 0, 0);
	rp->r.n_entries = n;
	rp->r.entries = entp;
}

static void
do_flush(struct sw_app *app, struct reply *rp)
{
	unsigned int q;

	rp->r.flushed = 0;
	for (q = 0; q < app->nb_workers; q++) {
		struct sw_worker *w = app->workers[q];
		struct sw_cmd *c = sw_cmd_new(SW_CMD_FLUSH_SYNCACHE, 0);

		if (c == NULL)
			return (void)refuse(rp, "", "out of memory");
		if (sw_mailbox_call(&w->mbox, c, SW_WORKER_CALL_TIMEOUT_MS) < 0)
			return (void)refuse(rp, "", "worker lcore %u did not answer",
					    w->lc.lcore_id);
		rp->r.flushed += c->flush.flushed;
		sw_cmd_free(c);
	}
}
#define SW_TOP_DEFAULT 20u
#define SW_TOP_MAX     1000u

/* The heaviest source prefixes of the workers' source tables, merged (srctab.h). */
static void
do_top_sources(struct sw_app *app, const Synwall__Dp__V1__DpRequest__TopSources *ts,
	       struct reply *rp)
{
	static struct sw_srct_talker top[SW_TOP_MAX];
	static Synwall__Dp__V1__DpSource out[SW_TOP_MAX];
	static Synwall__Dp__V1__DpSource *outp[SW_TOP_MAX];
	const struct sw_srctab *tables[SW_MAX_WORKERS];
	uint32_t max = ts->max == 0 ? SW_TOP_DEFAULT : ts->max;
	unsigned int q, nt = 0;
	int n, i;

	if (max > SW_TOP_MAX)
		return (void)refuse(rp, "max", "max %u must be 1..%u", max, SW_TOP_MAX);
	if ((unsigned int)ts->by > SW_SRCT_BY_SYNACKS_CAPPED)
		return (void)refuse(rp, "by", "%d is not a count sources are ordered by",
				    (int)ts->by);
	for (q = 0; q < app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(app, q);

		if (w != NULL)
			tables[nt++] = &w->lc.st;
	}
	n = sw_srct_top(tables, nt, (enum sw_srct_by)ts->by, sw_now_ms(), top, max);
	if (n < 0)
		return (void)refuse(rp, "", "out of memory");
	for (i = 0; i < n; i++) {
		Synwall__Dp__V1__DpSource *o = &out[i];

		synwall__dp__v1__dp_source__init(o);
		o->prefix.data = top[i].key;
		o->prefix.len = top[i].v6 ? 16 : 4;
		o->len = top[i].len;
		o->syns = top[i].syns;
		o->syns_limited = top[i].syns_limited;
		o->bad_cookies = top[i].bad_cookies;
		o->flows = top[i].flows;
		o->synacks_capped = top[i].synacks_capped;
		o->idle_ms = top[i].idle_ms;
		outp[i] = o;
	}
	rp->r.n_sources = (size_t)n;
	rp->r.sources = outp;
}

/* The two ports' link and NIC counters (the control thread's own reading of them). */
static void
do_ports(struct sw_app *app, struct reply *rp)
{
	static Synwall__Dp__V1__DpPort ports[2];
	static Synwall__Dp__V1__DpPort *portp[2];
	static char names[2][RTE_ETH_NAME_MAX_LEN];
	static uint64_t qin[2][RTE_ETHDEV_QUEUE_STAT_CNTRS], qout[2][RTE_ETHDEV_QUEUE_STAT_CNTRS];
	const struct sw_port *which[2] = { &app->outside, &app->inside };
	static const char *const roles[2] = { "outside", "inside" };
	unsigned int i, q, nq = RTE_MIN(app->nb_workers, (unsigned int)RTE_ETHDEV_QUEUE_STAT_CNTRS);

	for (i = 0; i < 2; i++) {
		Synwall__Dp__V1__DpPort *o = &ports[i];
		struct rte_eth_stats st;
		struct rte_eth_link link;
		uint16_t id = which[i]->id;

		synwall__dp__v1__dp_port__init(o);
		o->role = (char *)(uintptr_t)roles[i];
		port_name(id, names[i], sizeof(names[i]));
		o->name = names[i];
		o->id = id;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(id, &link) == 0) {
			o->link_up = link.link_status == RTE_ETH_LINK_UP;
			o->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 :
					link.link_speed;
			o->full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
			o->autoneg = link.link_autoneg == RTE_ETH_LINK_AUTONEG;
		}
		if (rte_eth_stats_get(id, &st) == 0) {
			o->ipackets = st.ipackets;
			o->opackets = st.opackets;
			o->ibytes = st.ibytes;
			o->obytes = st.obytes;
			o->imissed = st.imissed;
			o->ierrors = st.ierrors;
			o->oerrors = st.oerrors;
			o->rx_nombuf = st.rx_nombuf;
			for (q = 0; q < nq; q++) {
				qin[i][q] = st.q_ipackets[q];
				qout[i][q] = st.q_opackets[q];
			}
			o->n_queue_ipackets = nq;
			o->queue_ipackets = qin[i];
			o->n_queue_opackets = nq;
			o->queue_opackets = qout[i];
		}
		portp[i] = o;
	}
	rp->r.n_ports = 2;
	rp->r.ports = portp;
}

/* ---- one request ---- */

size_t
sw_ctl_handle(struct sw_app *app, const uint8_t *req, size_t len, uint8_t **out)
{
	static struct reply rp;
	Synwall__Dp__V1__DpStatus st;
	Synwall__Dp__V1__DpCounters counters;
	char out_name[RTE_ETH_NAME_MAX_LEN], in_name[RTE_ETH_NAME_MAX_LEN];
	PortRange *storage = NULL;
	DpConfig *cfg_out = NULL;
	DpRequest *rq;
	size_t n;

	memset(&rp, 0, sizeof(rp));
	synwall__dp__v1__dp_response__init(&rp.r);
	rp.r.ok = 1;
	rq = synwall__dp__v1__dp_request__unpack(NULL, len, req);
	if (rq == NULL) {
		refuse(&rp, "", "not a DpRequest message");
	} else {
		switch (rq->req_case) {
		case SYNWALL__DP__V1__DP_REQUEST__REQ_PING:
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_GET_STATUS:
			do_status(app, &st, out_name, in_name);
			rp.r.status = &st;
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_GET_COUNTERS:
			do_counters(app, &counters);
			rp.r.counters = &counters;
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_GET_CONFIG:
			cfg_out = config_to_proto(sw_cfg_get(&app->cfg), &storage);
			if (cfg_out == NULL)
				refuse(&rp, "", "out of memory");
			rp.r.config = cfg_out;
			rp.r.config_version = sw_cfg_get(&app->cfg)->version;
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_APPLY_CONFIG:
			do_config(app, rq->apply_config, 1, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_VALIDATE_CONFIG:
			do_config(app, rq->validate_config, 0, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_SET_KEYS:
			do_set_keys(app, rq->set_keys, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_DUMP_SYNCACHE:
			do_dump(app, rq->dump_syncache, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_FLUSH_SYNCACHE:
			do_flush(app, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_LOAD_SOURCES:
			do_load_sources(app, rq->load_sources, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_TOP_SOURCES:
			do_top_sources(app, rq->top_sources, &rp);
			break;
		case SYNWALL__DP__V1__DP_REQUEST__REQ_GET_PORTS:
			do_ports(app, &rp);
			break;
		default:
			refuse(&rp, "req", "empty or unknown request");
			break;
		}
	}
	n = synwall__dp__v1__dp_response__get_packed_size(&rp.r);
	*out = malloc(n > 0 ? n : 1);
	if (*out != NULL)
		synwall__dp__v1__dp_response__pack(&rp.r, *out);
	else
		n = 0;
	config_proto_free(cfg_out, storage);
	if (rq != NULL)
		synwall__dp__v1__dp_request__free_unpacked(rq, NULL);
	return n;
}
