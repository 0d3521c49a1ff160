/* SPDX-License-Identifier: MIT */
/*
 * log.h - levelled logging, per host.
 *
 * A log line is "[ time] host LEVEL message" on the host's sink (stderr by
 * default).  Formatting happens into a stack buffer: logging never allocates.
 */
#ifndef LB_CORE_LOG_H
#define LB_CORE_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include "compiler.h"

enum log_level {
	LOG_ERR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

struct loop;

struct log {
	enum log_level level;
	FILE *out;
	const char *name; /* who is speaking, usually the host name */
	const struct loop *clock; /* for timestamps; may be NULL */
};

void log_init(struct log *log, const char *name, const struct loop *clock);
/* Parse "err|warn|info|debug|trace"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

void log_msg(const struct log *log, enum log_level level, const char *fmt, ...)
	lb_printf_fmt(3, 4);
void log_vmsg(const struct log *log, enum log_level level, const char *fmt,
	      va_list ap) lb_printf_fmt(3, 0);

#define log_enabled(log, lvl) ((lvl) <= (log)->level)

#define LB_LOG(log, lvl, ...)                           \
	do {                                            \
		if (log_enabled(log, lvl))              \
			log_msg(log, lvl, __VA_ARGS__); \
	} while (0)

#define lb_err(log, ...) LB_LOG(log, LOG_ERR, __VA_ARGS__)
#define lb_warn(log, ...) LB_LOG(log, LOG_WARN, __VA_ARGS__)
#define lb_info(log, ...) LB_LOG(log, LOG_INFO, __VA_ARGS__)
#define lb_debug(log, ...) LB_LOG(log, LOG_DEBUG, __VA_ARGS__)

#endif
