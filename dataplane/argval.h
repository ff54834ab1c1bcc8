/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The option values' common parsers, for the files that read options (args.c, argsrc.c):
 * an error is one line `synwall-dp: <option>: <reason>` on stderr and -1.
 */
#ifndef SW_ARGVAL_H
#define SW_ARGVAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>

static inline int __rte_format_printf(2, 3)
bad(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "synwall-dp: %s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* A decimal number in [lo, hi], the whole string. */
static inline int
parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return bad(opt, "'%s' is not a number", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return bad(opt, "'%s' is not a number", s);
	if (errno == ERANGE || v < lo || v > hi)
		return bad(opt, "%s is out of range %" PRIu64 "..%" PRIu64, s, lo, hi);
	*out = v;
	return 0;
}

static inline int
parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;

	if (parse_u64(opt, s, lo, hi, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

#endif
