/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-lcore log ring: rate-limited lines from a worker, printed by the control thread. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "lcore.h"
#include "sw_const.h"

static void
fmt_endpoint(char *buf, size_t len, const uint8_t *addr, uint16_t port, int v6)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (v6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void
sw_log(struct sw_lcore *lc, const char *fmt, ...)
{
	struct sw_logq *q = &lc->log;
	uint32_t head = q->head;
	uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	char *line;
	va_list ap;
	int n;

	if (lc->now_ms < lc->log_next_ms || head - tail >= SW_LOGQ_SIZE) {
		lc->log_suppressed++;
		return;
	}
	lc->log_next_ms = lc->now_ms + SW_LOG_INTERVAL_MS;
	line = q->line[head & (SW_LOGQ_SIZE - 1)];
	va_start(ap, fmt);
	n = vsnprintf(line, SW_LOG_LEN, fmt, ap);
	va_end(ap);
	if (lc->log_suppressed > 0 && n > 0 && n < SW_LOG_LEN)
		snprintf(line + n, SW_LOG_LEN - n, " (%u similar events not logged)",
			 lc->log_suppressed);
	lc->log_suppressed = 0;
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
}

void
sw_log_segment(struct sw_lcore *lc, const struct sw_pkt *pkt, const char *what)
{
	char from[64], to[64];

	/* Format only when a line will really be queued. */
	if (lc->now_ms < lc->log_next_ms) {
		lc->log_suppressed++;
		return;
	}
	fmt_endpoint(from, sizeof(from), pkt->t.src, pkt->t.sport, pkt->t.v6);
	fmt_endpoint(to, sizeof(to), pkt->t.dst, pkt->t.dport, pkt->t.v6);
	sw_log(lc, "ACK from %s to %s %s", from, to, what);
}

void
sw_log_drain(struct sw_lcore *lc, FILE *f)
{
	struct sw_logq *q = &lc->log;
	uint32_t tail = q->tail;
	uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

	while (tail != head) {
		fprintf(f, "synwall-dp: lcore %u: %s\n", lc->lcore_id,
			q->line[tail & (SW_LOGQ_SIZE - 1)]);
		tail++;
	}
	fflush(f);
	__atomic_store_n(&q->tail, tail, __ATOMIC_RELEASE);
}
