// SPDX-License-Identifier: MIT
/*
 * log.c - formatting of log lines.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "log.h"
#include "loop.h"

#define LOG_LINE_MAX 1024

static const char *const level_names[] = {
	[LOG_ERR] = "ERR",     [LOG_WARN] = "WARN",   [LOG_INFO] = "INFO",
	[LOG_DEBUG] = "DEBUG", [LOG_TRACE] = "TRACE",
};

void log_init(struct log *log, const char *name, const struct loop *clock)
{
	log->level = LOG_INFO;
	log->out = stderr;
	log->name = name ? name : "lifeboat";
	log->clock = clock;
}

int log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level l)
{
	if ((unsigned)l >= ARRAY_SIZE(level_names))
		return "?";
	return level_names[l];
}

void log_vmsg(const struct log *log, enum log_level level, const char *fmt,
	      va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t len = 0;
	int n;

	if (!log_enabled(log, level))
		return;
	if (log->clock) {
		uint64_t now = loop_now(log->clock);

		/*
		 * Integer arithmetic, not "%9.6f": the same width, but the
		 * time is truncated rather than rounded into the future.
		 */
		n = snprintf(buf, sizeof(buf), "[%2llu.%06llu] ",
			     (unsigned long long)(now / NSEC_PER_SEC),
			     (unsigned long long)(now % NSEC_PER_SEC /
						  NSEC_PER_USEC));
		if (n > 0)
			len = lb_min((size_t)n, sizeof(buf) - 1);
	}
	n = snprintf(buf + len, sizeof(buf) - len, "%s %s ", log->name,
		     log_level_name(level));
	if (n > 0)
		len = lb_min(len + (size_t)n, sizeof(buf) - 1);
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n > 0)
		len = lb_min(len + (size_t)n, sizeof(buf) - 1);

	/* A truncated line still ends the line, so the next one starts clean. */
	if (len == 0 || buf[len - 1] != '\n') {
		if (len == sizeof(buf) - 1)
			len--;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	/* One write per line keeps lines whole when hosts share a sink. */
	fwrite(buf, 1, len, log->out ? log->out : stderr);
}

void log_msg(const struct log *log, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log, level, fmt, ap);
	va_end(ap);
}
