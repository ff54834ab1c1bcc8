/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "app.h"
#include "stats.h"

const char *const sw_counter_names[] = {
#define SW_X(field, name) name,
	SW_COUNTERS(SW_X)
#undef SW_X
};

void
sw_stats_total(const struct sw_app *app, struct sw_counters *out)
{
	uint64_t *o = (uint64_t *)out;
	unsigned int q, i;

	memset(out, 0, sizeof(*out));
	for (q = 0; q < app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(app, q);

		if (w == NULL)
			continue;
		for (i = 0; i < SW_NCOUNTERS; i++)
			o[i] += sw_counter_at(&w->lc.cnt, i);
	}
}

static void
write_counters(FILE *f, const struct sw_counters *c)
{
	unsigned int i;

	fputc('{', f);
	for (i = 0; i < SW_NCOUNTERS; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", sw_counter_names[i],
			sw_counter_at(c, i));
	fputc('}', f);
}

void
sw_stats_write_json(const struct sw_app *app, FILE *f)
{
	struct sw_counters total;
	unsigned int q;

	sw_stats_total(app, &total);
	fputs("{\"total\": ", f);
	write_counters(f, &total);
	fputs(", \"lcores\": [", f);
	for (q = 0; q < app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(app, q);

		if (w == NULL)
			continue;
		fprintf(f, "%s{\"lcore\": %u, \"queue\": %u, \"counters\": ", q ? ", " : "",
			w->lc.lcore_id, w->queue);
		write_counters(f, &w->lc.cnt);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

int
sw_stats_write_file(const struct sw_app *app, const char *path)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	FILE *f;
	int rc = 0;

	if (tmp == NULL)
		return -ENOMEM;
	/* Write then rename: a reader never sees half a file. */
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	f = fopen(tmp, "w");
	if (f == NULL) {
		free(tmp);
		return -errno;
	}
	sw_stats_write_json(app, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		rc = -errno;
	free(tmp);
	return rc;
}

/* ---- DPDK telemetry: /synwall/stats and /synwall/lcore_stats,<lcore id> ---- */

static struct sw_app *tel_app;

/*
 * Telemetry names allow no '.', so "syncache.added" is served as {"syncache": {"added": ..}}:
 * the same names, one level deeper. Counters of a group are contiguous in SW_COUNTERS.
 */
static void
tel_fill(struct rte_tel_data *d, const struct sw_counters *c)
{
	struct rte_tel_data *group = NULL;
	char gname[32] = "";
	unsigned int i;

	rte_tel_data_start_dict(d);
	for (i = 0; i < SW_NCOUNTERS; i++) {
		const char *name = sw_counter_names[i];
		const char *dot = strchr(name, '.');
		size_t glen = (size_t)(dot - name);

		if (group == NULL || strncmp(gname, name, glen) != 0 || gname[glen] != '\0') {
			if (group != NULL)
				rte_tel_data_add_dict_container(d, gname, group, 0);
			group = rte_tel_data_alloc();
			if (group == NULL)
				return;
			rte_tel_data_start_dict(group);
			snprintf(gname, sizeof(gname), "%.*s", (int)glen, name);
		}
		rte_tel_data_add_dict_u64(group, dot + 1, sw_counter_at(c, i));
	}
	if (group != NULL)
		rte_tel_data_add_dict_container(d, gname, group, 0);
}

static int
tel_stats(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	struct sw_counters total;

	sw_stats_total(tel_app, &total);
	tel_fill(d, &total);
	return 0;
}

static int
tel_lcore_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	unsigned long id;
	unsigned int q;
	char *end;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	errno = 0;
	id = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	for (q = 0; q < tel_app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(tel_app, q);

		if (w != NULL && w->lc.lcore_id == id) {
			tel_fill(d, &w->lc.cnt);
			return 0;
		}
	}
	return -EINVAL;
}

static int
tel_lcores(const char *cmd __rte_unused, const char *params __rte_unused,
	   struct rte_tel_data *d)
{
	unsigned int q;

	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (q = 0; q < tel_app->nb_workers; q++) {
		const struct sw_worker *w = sw_app_worker(tel_app, q);

		if (w != NULL)
			rte_tel_data_add_array_int(d, (int)w->lc.lcore_id);
	}
	return 0;
}

int
sw_stats_telemetry_register(struct sw_app *app)
{
	tel_app = app;
	if (rte_telemetry_register_cmd("/synwall/stats", tel_stats,
				       "synwall counters summed over lcores. No parameters") ||
	    rte_telemetry_register_cmd("/synwall/lcore_stats", tel_lcore_stats,
				       "synwall counters of one worker. Parameter: lcore id") ||
	    rte_telemetry_register_cmd("/synwall/lcores", tel_lcores,
				       "synwall worker lcore ids. No parameters"))
		return -1;
	return 0;
}
