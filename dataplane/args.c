/* SPDX-License-Identifier: BSD-3-Clause */
/* The application's own options (after EAL's "--"). Every value is checked; the first bad
 * one is reported on one line naming the option. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ethdev.h>

#include "app.h"
#include "argval.h"

enum {
	OPT_OUTSIDE = 256, OPT_INSIDE, OPT_PROTECT, OPT_HASHSIZE, OPT_BUCKETLIMIT,
	OPT_CACHELIMIT, OPT_REXMTLIMIT, OPT_SYNCOOKIES, OPT_SYNCOOKIES_ONLY, OPT_MSS,
	OPT_WSCALE, OPT_FLOWS, OPT_KEY, OPT_MASTER, OPT_EPOCH, OPT_ROTATE, OPT_MBUFS,
	OPT_CTL, OPT_STATS_JSON, OPT_SERVER_RETRIES, OPT_ADOPT_WINDOW, OPT_IDLE_TIMEOUT, OPT_UNPARSED, OPT_PROFILE,
	OPT_PRELOAD_FLOWS, OPT_SIPHASH, OPT_IDLE_EXIT, OPT_IDLE_SLEEP, OPT_HELP,
	OPT_SOURCE_PREFIX, OPT_SOURCE_FLOWS, OPT_SOURCE_HALFOPEN, OPT_COOKIE_CHECK_RATE, OPT_STATE,
	OPT_SOURCES, OPT_SOURCE_TABLE, OPT_SYN_RATE, OPT_SYN_BURST, OPT_REFLECT_RATE,
	OPT_REFLECT_BURST,
};

#define SW_MAX_PROFILE_OPTS 64

static const struct option long_opts[] = {
	{ "outside", required_argument, NULL, OPT_OUTSIDE },
	{ "inside", required_argument, NULL, OPT_INSIDE },
	{ "protect", required_argument, NULL, OPT_PROTECT },
	{ "hashsize", required_argument, NULL, OPT_HASHSIZE },
	{ "bucketlimit", required_argument, NULL, OPT_BUCKETLIMIT },
	{ "cachelimit", required_argument, NULL, OPT_CACHELIMIT },
	{ "rexmtlimit", required_argument, NULL, OPT_REXMTLIMIT },
	{ "syncookies", required_argument, NULL, OPT_SYNCOOKIES },
	{ "syncookies-only", required_argument, NULL, OPT_SYNCOOKIES_ONLY },
	{ "mss", required_argument, NULL, OPT_MSS },
	{ "wscale", required_argument, NULL, OPT_WSCALE },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "master", required_argument, NULL, OPT_MASTER },
	{ "epoch", required_argument, NULL, OPT_EPOCH },
	{ "rotate", required_argument, NULL, OPT_ROTATE },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "server-retries", required_argument, NULL, OPT_SERVER_RETRIES },
	{ "cookie-check-rate", required_argument, NULL, OPT_COOKIE_CHECK_RATE },
	{ "adopt-window", required_argument, NULL, OPT_ADOPT_WINDOW },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "unparsed", required_argument, NULL, OPT_UNPARSED },
	{ "preload-flows", required_argument, NULL, OPT_PRELOAD_FLOWS },
	{ "source-prefix", required_argument, NULL, OPT_SOURCE_PREFIX },
	{ "source-flows", required_argument, NULL, OPT_SOURCE_FLOWS },
	{ "source-halfopen", required_argument, NULL, OPT_SOURCE_HALFOPEN },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "source-table", required_argument, NULL, OPT_SOURCE_TABLE },
	{ "syn-rate", required_argument, NULL, OPT_SYN_RATE },
	{ "syn-burst", required_argument, NULL, OPT_SYN_BURST },
	{ "reflect-rate", required_argument, NULL, OPT_REFLECT_RATE },
	{ "reflect-burst", required_argument, NULL, OPT_REFLECT_BURST },
	{ "siphash", required_argument, NULL, OPT_SIPHASH },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
	{ "idle-sleep", required_argument, NULL, OPT_IDLE_SLEEP },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* --state: a file in a directory that exists and that we may write (the file is opened
 * once EAL says how many workers there are: a bad path is said here, before EAL starts). */
static int
state_path_ok(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (path[0] == '\0')
		return bad("--state", "an empty path");
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return bad("--state", "a path of %zu characters", strlen(path));
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (slash != NULL && slash[1] == '\0')
		return bad("--state", "'%s' is a directory, not a file", path);
	if (access(dir, W_OK | X_OK) != 0)
		return bad("--state", "%s: %s", dir, strerror(errno));
	return 0;
}

/* --sources FILE: read and parsed whole (srclist.h's text form) before EAL starts. */
static int
read_sources(struct sw_args *a, const char *path)
{
	char why[300];
	long n;

	free(a->src_rules);
	free(a->src_ranges);
	n = sw_src_read(path, &a->src_rules, &a->src_ranges, &a->n_src_ranges, why, sizeof(why));
	if (n < 0)
		return bad("--sources", "%s", why);
	a->n_src_rules = n;
	a->sources_path = path;
	return 0;
}

static const char usage[] =
	"usage: synwall-dp [EAL options] -- [--outside ID] [--inside ID] [--protect SPEC]\n"
	"    [--hashsize N] [--bucketlimit N] [--cachelimit N] [--rexmtlimit N]\n"
	"    [--syncookies 0|1] [--syncookies-only 0|1] [--mss N] [--wscale N] [--flows N]\n"
	"    [--server-retries N] [--profile PORTS@mss=N,ws=N|none,sack=0|1,ts=0|1]...\n"
	"    [--cookie-check-rate N] (cookie checks a second of ACKs without timestamps)\n"
	"    [--adopt-window SEC]  (a port that becomes protected adopts open connections)\n"
	"    [--idle-timeout SEC]  (an established flow with no segment this long ends)\n"
	"    [--unparsed drop|pass] (frames whose TCP the parser cannot see)\n"
	"    [--source-prefix V4LEN,V6LEN] [--source-flows N] [--source-halfopen N]\n"
	"                          (per lcore, a source prefix holds at most N of each table)\n"
	"    [--source-table N]    (source prefixes kept per lcore for limits and top talkers)\n"
	"    [--syn-rate N] [--syn-burst N] (SYNs a second one source prefix may send)\n"
	"    [--reflect-rate N] [--reflect-burst N] (SYN-ACKs a second towards one prefix)\n"
	"    [--preload-flows N]   (benchmarks: N established flows per worker at start)\n"
	"    [--siphash auto|scalar|avx2|avx512]\n"
	"    [--key HEX | --master HEX [--epoch N]] [--rotate SEC] [--mbufs N] [--ctl PATH]\n"
	"    [--state FILE]        (the tables live there, for the next synwall-dp to take over)\n"
	"    [--sources FILE]      (lines deny|allow PREFIX [PORTS], limit PREFIX RATE [BURST])\n"
	"    [--idle-sleep US]     (a worker whose ports are empty sleeps up to US each round:\n"
	"                          for virtual ports whose kernel half shares its CPU)\n"
	"    [--stats-json FILE] [--idle-exit MS]\n"
	"  SPEC: comma list of PORT[:MODE] or LO-HI[:MODE], MODE proxy|cookie|drop|pass\n";

/* A port id, or a device name (PCI address, vdev name) looked up once EAL has probed. */
static int
parse_port_ref(const char *opt, const char *s, uint16_t *id, const char **name)
{
	uint32_t v = 0;

	if (*s == '\0')
		return bad(opt, "empty port");
	if (isdigit((unsigned char)*s) && strspn(s, "0123456789") == strlen(s)) {
		if (parse_u32(opt, s, 0, RTE_MAX_ETHPORTS - 1, &v) < 0)
			return -1;
		*id = (uint16_t)v;
		*name = NULL;
		return 0;
	}
	if (strlen(s) >= RTE_ETH_NAME_MAX_LEN)
		return bad(opt, "device name longer than %d characters", RTE_ETH_NAME_MAX_LEN - 1);
	*name = s;
	return 0;
}

static int
parse_key(const char *opt, const char *s, struct sw_sipkey *key)
{
	uint8_t bytes[16];
	unsigned int i;

	if (strlen(s) != 32)
		return bad(opt, "a key is 32 hex digits (128 bits), got %zu characters",
			   strlen(s));
	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)s[i]))
			return bad(opt, "'%c' is not a hex digit", s[i]);
	for (i = 0; i < 16; i++) {
		char pair[3] = { s[2 * i], s[2 * i + 1], '\0' };

		bytes[i] = (uint8_t)strtoul(pair, NULL, 16);
	}
	sw_sipkey_from_bytes(key, bytes);
	return 0;
}

static int
parse_mode(const char *opt, const char *s, uint8_t *mode)
{
	if (strcmp(s, "proxy") == 0)
		*mode = SW_MODE_PROXY;
	else if (strcmp(s, "cookie") == 0)
		*mode = SW_MODE_COOKIE;
	else if (strcmp(s, "drop") == 0)
		*mode = SW_MODE_DROP;
	else if (strcmp(s, "pass") == 0)
		*mode = SW_MODE_PASS;
	else
		return bad(opt, "unknown mode '%s' (proxy, cookie, drop or pass)", s);
	return 0;
}

/* strtok_r would skip empty items: "80,,443" and "80," are typos, not lists. */
static bool
has_empty_item(const char *list)
{
	size_t n = strlen(list);

	return n == 0 || list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,") != NULL;
}

/* "80" or "8000-8080" into [lo, hi]. */
static int
parse_port_range(const char *opt, char *item, uint32_t *lo, uint32_t *hi)
{
	char *dash = strchr(item, '-');

	if (dash != NULL) {
		*dash = '\0';
		if (parse_u32(opt, item, 1, 65535, lo) < 0 ||
		    parse_u32(opt, dash + 1, 1, 65535, hi) < 0)
			return -1;
		if (*lo > *hi)
			return bad(opt, "range %u-%u is backwards", *lo, *hi);
		return 0;
	}
	if (parse_u32(opt, item, 1, 65535, lo) < 0)
		return -1;
	*hi = *lo;
	return 0;
}

/* "PORTS@mss=1400,ws=8,sack=1,ts=0": a server profile for a port list. All or nothing. */
static int
parse_profile(const char *opt, const char *spec, struct sw_profile *profiles)
{
	char *copy = strdup(spec);
	char *at, *save = NULL, *item;
	struct sw_profile *tmp = NULL;
	uint8_t set_mss = 0, set_ws = 0, set_sack = 0, set_ts = 0;
	struct sw_profile p = { 0, 0, 0 };
	uint32_t v, lo, hi, port;
	int rc = -1;

	if (copy == NULL)
		return bad(opt, "out of memory");
	at = strchr(copy, '@');
	if (at == NULL) {
		bad(opt, "expected PORTS@key=value,... (keys mss, ws, sack, ts)");
		goto out;
	}
	*at = '\0';
	if (has_empty_item(copy) || has_empty_item(at + 1)) {
		bad(opt, "empty item in '%s'", spec);
		goto out;
	}
	for (item = strtok_r(at + 1, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL) {
			bad(opt, "'%s' is not key=value", item);
			goto out;
		}
		*eq++ = '\0';
		if (strcmp(item, "mss") == 0) {
			if (parse_u32(opt, eq, SW_MSS_MIN, SW_MSS_MAX, &v) < 0)
				goto out;
			p.mss = (uint16_t)v;
			set_mss = 1;
		} else if (strcmp(item, "ws") == 0) {
			if (strcmp(eq, "none") == 0) {
				p.flags &= (uint8_t)~SW_PROF_WS;
			} else {
				if (parse_u32(opt, eq, 0, SW_WSCALE_MAX, &v) < 0)
					goto out;
				p.wscale = (uint8_t)v;
				p.flags |= SW_PROF_WS;
			}
			set_ws = 1;
		} else if (strcmp(item, "sack") == 0 || strcmp(item, "ts") == 0) {
			uint8_t bit = item[0] == 's' ? SW_PROF_SACK : SW_PROF_TS;

			if (parse_u32(opt, eq, 0, 1, &v) < 0)
				goto out;
			p.flags = (uint8_t)(v ? (p.flags | bit) : (p.flags & ~bit));
			if (bit == SW_PROF_SACK)
				set_sack = 1;
			else
				set_ts = 1;
		} else {
			bad(opt, "unknown key '%s' (mss, ws, sack, ts)", item);
			goto out;
		}
	}
	tmp = malloc(65536 * sizeof(*tmp));
	if (tmp == NULL) {
		bad(opt, "out of memory");
		goto out;
	}
	memcpy(tmp, profiles, 65536 * sizeof(*tmp));
	save = NULL;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (parse_port_range(opt, item, &lo, &hi) < 0)
			goto out;
		for (port = lo; port <= hi; port++) {
			struct sw_profile *t = &tmp[port];

			if (set_mss)
				t->mss = p.mss;
			if (set_ws)
				t->flags = (uint8_t)((t->flags & ~SW_PROF_WS) | (p.flags & SW_PROF_WS));
			if (set_ws && (p.flags & SW_PROF_WS))
				t->wscale = p.wscale;
			if (set_sack)
				t->flags = (uint8_t)((t->flags & ~SW_PROF_SACK) |
						     (p.flags & SW_PROF_SACK));
			if (set_ts)
				t->flags = (uint8_t)((t->flags & ~SW_PROF_TS) | (p.flags & SW_PROF_TS));
		}
	}
	memcpy(profiles, tmp, 65536 * sizeof(*tmp));
	rc = 0;
out:
	free(tmp);
	free(copy);
	return rc;
}

/* "80,443:cookie,8000-8080:drop" into the port table; all or nothing. */
static int
parse_protect(const char *opt, const char *spec, uint8_t *port_mode)
{
	uint8_t *tmp = malloc(65536);
	char *copy = strdup(spec);
	char *save = NULL, *item;
	int rc = 0;

	if (tmp == NULL || copy == NULL) {
		free(tmp);
		free(copy);
		return bad(opt, "out of memory");
	}
	memcpy(tmp, port_mode, 65536);
	if (has_empty_item(spec))
		rc = bad(opt, "empty item in port list '%s'", spec);
	for (item = strtok_r(copy, ",", &save); rc == 0 && item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');
		uint8_t mode = SW_MODE_PROXY;
		uint32_t lo, hi, p;

		if (colon != NULL) {
			*colon = '\0';
			if (parse_mode(opt, colon + 1, &mode) < 0) {
				rc = -1;
				break;
			}
		}
		if (parse_port_range(opt, item, &lo, &hi) < 0) {
			rc = -1;
			break;
		}
		for (p = lo; p <= hi; p++)
			tmp[p] = mode;
	}
	if (rc == 0)
		memcpy(port_mode, tmp, 65536);
	free(tmp);
	free(copy);
	return rc;
}

int
sw_args_parse(struct sw_args *a, int argc, char **argv)
{
	struct sw_config *cfg = sw_cfg_new_default();
	bool have_cachelimit = false;
	uint64_t v64 = 0;
	const char *profile_specs[SW_MAX_PROFILE_OPTS];
	unsigned int nprofiles = 0, i;
	const char *field;
	char why[160];
	uint32_t v32;
	int opt;

	if (cfg == NULL)
		return bad("synwall-dp", "out of memory");
	memset(a, 0, sizeof(*a));
	a->outside_port = 0;
	a->inside_port = 1;
	a->hashsize = 4096;
	a->bucketlimit = 30;
	a->flows = 65536;
	a->mbufs = SW_DEFAULT_MBUFS;
	a->rotate_s = 15;
	a->siphash = -1;
	a->source_v4_len = SW_SRCQ_V4_DEFAULT;
	a->source_v6_len = SW_SRCQ_V6_DEFAULT;
	a->source_flows = SW_ARGS_UNSET;
	a->source_halfopen = SW_ARGS_UNSET;
	a->source_table = SW_SRCT_DEFAULT;
	a->cfg = cfg;

	opterr = 0;     /* errors are ours to print, on one line */
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		int rc = 0;

		switch (opt) {
		case OPT_OUTSIDE:
			rc = parse_port_ref("--outside", optarg, &a->outside_port, &a->outside_name);
			break;
		case OPT_INSIDE:
			rc = parse_port_ref("--inside", optarg, &a->inside_port, &a->inside_name);
			break;
		case OPT_PROTECT:
			rc = parse_protect("--protect", optarg, cfg->port_mode);
			break;
		case OPT_HASHSIZE:
			rc = parse_u32("--hashsize", optarg, 1, 1u << 20, &a->hashsize);
			if (rc == 0 && !rte_is_power_of_2(a->hashsize))
				rc = bad("--hashsize", "%u is not a power of 2", a->hashsize);
			break;
		case OPT_BUCKETLIMIT:
			rc = parse_u32("--bucketlimit", optarg, 1, 255, &a->bucketlimit);
			break;
		case OPT_CACHELIMIT:
			rc = parse_u32("--cachelimit", optarg, 1, UINT32_MAX, &cfg->lim.cachelimit);
			have_cachelimit = true;
			break;
		case OPT_REXMTLIMIT:
			rc = parse_u32("--rexmtlimit", optarg, 0, SW_REXMTLIMIT_MAX,
				       &cfg->lim.rexmtlimit);
			break;
		case OPT_SYNCOOKIES:
			rc = parse_u32("--syncookies", optarg, 0, 1, &cfg->lim.syncookies);
			break;
		case OPT_SYNCOOKIES_ONLY:
			rc = parse_u32("--syncookies-only", optarg, 0, 1,
				       &cfg->lim.syncookies_only);
			break;
		case OPT_MSS:
			rc = parse_u32("--mss", optarg, SW_MSS_MIN, SW_MSS_MAX, &cfg->lim.mss);
			break;
		case OPT_WSCALE:
			rc = parse_u32("--wscale", optarg, 0, SW_WSCALE_MAX, &cfg->lim.wscale);
			break;
		case OPT_ADOPT_WINDOW:
			rc = parse_u32("--adopt-window", optarg, 0, SW_ADOPT_WINDOW_MAX_S,
				       &cfg->adopt_window_s);
			break;
		case OPT_IDLE_TIMEOUT:
			rc = parse_u32("--idle-timeout", optarg, 1, SW_FLOW_IDLE_MAX_S, &v32);
			if (rc == 0)
				sw_cfg_set_idle_default(cfg, v32);
			break;
		case OPT_UNPARSED:
			if (strcmp(optarg, "drop") == 0 || strcmp(optarg, "pass") == 0)
				cfg->unparsed_pass = optarg[0] == 'p';
			else
				rc = bad("--unparsed", "'%s' is not drop or pass", optarg);
			break;
		case OPT_SERVER_RETRIES:
			rc = parse_u32("--server-retries", optarg, 0, SW_SERVER_RETRIES_MAX,
				       &cfg->lim.server_retries);
			break;
		case OPT_COOKIE_CHECK_RATE:
			rc = parse_u32("--cookie-check-rate", optarg, 0, SW_COOKIE_CHECK_RATE_MAX,
				       &cfg->lim.cookie_check_rate);
			break;
		case OPT_SOURCE_TABLE:
			rc = sw_args_source_table(a, optarg);
			break;
		case OPT_SYN_RATE:
			rc = parse_u32("--syn-rate", optarg, 0, SW_SOURCE_RATE_MAX,
				       &cfg->lim.syn_rate);
			break;
		case OPT_SYN_BURST:
			rc = parse_u32("--syn-burst", optarg, 0, SW_SOURCE_RATE_MAX,
				       &cfg->lim.syn_burst);
			break;
		case OPT_REFLECT_RATE:
			rc = parse_u32("--reflect-rate", optarg, 0, SW_SOURCE_RATE_MAX,
				       &cfg->lim.reflect_rate);
			break;
		case OPT_REFLECT_BURST:
			rc = parse_u32("--reflect-burst", optarg, 0, SW_SOURCE_RATE_MAX,
				       &cfg->lim.reflect_burst);
			break;
		case OPT_PROFILE:
			if (nprofiles == SW_MAX_PROFILE_OPTS)
				rc = bad("--profile", "at most %u --profile options",
					 SW_MAX_PROFILE_OPTS);
			else
				profile_specs[nprofiles++] = optarg;
			break;
		case OPT_SIPHASH:
			if (strcmp(optarg, "auto") == 0)
				a->siphash = -1;
			else if (strcmp(optarg, "scalar") == 0)
				a->siphash = SW_SIPHASH_SCALAR;
			else if (strcmp(optarg, "avx2") == 0)
				a->siphash = SW_SIPHASH_AVX2;
			else if (strcmp(optarg, "avx512") == 0)
				a->siphash = SW_SIPHASH_AVX512;
			else
				rc = bad("--siphash", "'%s' is not auto, scalar, avx2 or avx512",
					 optarg);
			if (rc == 0 && a->siphash >= 0 && a->siphash > (int)sw_siphash_best_impl())
				rc = bad("--siphash", "this CPU cannot run %s", optarg);
			break;
		case OPT_PRELOAD_FLOWS:
			rc = parse_u32("--preload-flows", optarg, 0, 1u << 24, &a->preload_flows);
			break;
		case OPT_FLOWS:
			rc = parse_u32("--flows", optarg, 64, 1u << 24, &a->flows);
			break;
		case OPT_SOURCE_PREFIX:
			rc = sw_args_source_prefix(a, optarg);
			break;
		case OPT_SOURCE_FLOWS:
			rc = sw_args_source_flows(a, optarg);
			break;
		case OPT_SOURCE_HALFOPEN:
			rc = sw_args_source_halfopen(a, optarg);
			break;
		case OPT_KEY:
			rc = parse_key("--key", optarg, &a->key);
			a->have_key = true;
			break;
		case OPT_MASTER:
			rc = parse_key("--master", optarg, &a->master);
			a->have_master = true;
			break;
		case OPT_EPOCH:
			rc = parse_u64("--epoch", optarg, 1, UINT64_MAX >> 1, &a->epoch);
			a->have_epoch = true;
			break;
		case OPT_ROTATE:
			rc = parse_u32("--rotate", optarg, 1, 86400, &a->rotate_s);
			break;
		case OPT_MBUFS:
			rc = parse_u32("--mbufs", optarg, 1024, 1u << 24, &a->mbufs);
			break;
		case OPT_STATE:
			rc = state_path_ok(optarg);
			a->state_path = optarg;
			break;
		case OPT_SOURCES:
			rc = read_sources(a, optarg);
			break;
		case OPT_CTL:
			if (*optarg == '\0' || strlen(optarg) >= 108)
				rc = bad("--ctl", "a socket path is 1..107 characters");
			a->ctl_path = optarg;
			break;
		case OPT_STATS_JSON:
			if (*optarg == '\0')
				rc = bad("--stats-json", "empty file name");
			a->stats_json = optarg;
			break;
		case OPT_IDLE_EXIT:
			rc = parse_u64("--idle-exit", optarg, 1, 86400000, &v64);
			a->idle_exit_ms = v64;
			break;
		case OPT_IDLE_SLEEP:
			rc = parse_u32("--idle-sleep", optarg, 0, SW_IDLE_SLEEP_MAX_US, &v32);
			a->idle_sleep_us = v32;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			exit(0);
		case ':':
			rc = bad(name, "needs a value");
			break;
		default:
			rc = bad(name, "unknown option (see --help)");
			break;
		}
		if (rc < 0)
			goto fail;
	}
	if (optind < argc) {
		bad(argv[optind], "unexpected argument");
		goto fail;
	}

	if (a->have_key && a->have_master) {
		bad("--key", "give either --key or --master, not both");
		goto fail;
	}
	if (a->have_epoch && !a->have_master) {
		bad("--epoch", "needs --master");
		goto fail;
	}
	if (a->outside_name == NULL && a->inside_name == NULL &&
	    a->outside_port == a->inside_port) {
		bad("--inside", "the inside port must differ from the outside port");
		goto fail;
	}
	if (!cfg->lim.syncookies && cfg->lim.syncookies_only) {
		bad("--syncookies-only", "needs --syncookies 1");
		goto fail;
	}
	/* Profiles last: they start from --mss and --wscale wherever those came. */
	sw_cfg_default_profiles(cfg);
	for (i = 0; i < nprofiles; i++)
		if (parse_profile("--profile", profile_specs[i], cfg->port_profile) < 0)
			goto fail;
	if (a->preload_flows > a->flows) {
		bad("--preload-flows", "%u flows do not fit a table of --flows %u",
		    a->preload_flows, a->flows);
		goto fail;
	}
	if (!have_cachelimit)
		cfg->lim.cachelimit = a->hashsize * a->bucketlimit;
	/* Each value was range-checked as it was parsed; what is left is how they fit
	 * together (the cachelimit in the table). */
	field = sw_limits_validate(&cfg->lim, a->hashsize, a->bucketlimit, why, sizeof(why));
	if (field != NULL) {
		char opt_name[32];
		size_t k;

		snprintf(opt_name, sizeof(opt_name), "--%s", field);
		for (k = 2; opt_name[k] != '\0'; k++)
			if (opt_name[k] == '_')
				opt_name[k] = '-';
		bad(opt_name, "%s", why);
		goto fail;
	}
	if (sw_args_source_finish(a, cfg->lim.cachelimit) < 0)
		goto fail;
	return 0;
fail:
	free(cfg);
	a->cfg = NULL;
	return -1;
}
