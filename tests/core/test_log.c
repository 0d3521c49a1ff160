// SPDX-License-Identifier: MIT
/*
 * Logging: line format, levels, truncation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/loop.h"

struct sink {
	char *buf;
	size_t len;
};

static void sink_open(struct sink *s, struct log *log)
{
	s->buf = NULL;
	s->len = 0;
	log->out = open_memstream(&s->buf, &s->len);
	assert_non_null(log->out);
}

static char *sink_close(struct sink *s, struct log *log)
{
	assert_int_equal(fclose(log->out), 0);
	log->out = NULL;
	return s->buf;
}

static void test_level_parse_and_name(void **state)
{
	static const char *names[] = { "err", "warn", "info", "debug",
				       "trace" };
	enum log_level l;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(log_level_parse(names[i], &l), 0);
		assert_int_equal(l, (enum log_level)i);
		/* The name parses back to the level. */
		assert_int_equal(log_level_parse(log_level_name(l), &l), 0);
		assert_int_equal(l, (enum log_level)i);
	}
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("loud", &l), -EINVAL);
	assert_int_equal(log_level_parse("", &l), -EINVAL);
	assert_int_equal(log_level_parse(NULL, &l), -EINVAL);
	assert_string_equal(log_level_name(LOG_INFO), "INFO");
}

static void test_line_format_with_clock(void **state)
{
	struct loop l;
	struct log log;
	struct sink s;
	char *out;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	log_init(&log, "client", &l);
	assert_ptr_equal(log.out, stderr);
	assert_int_equal(log.level, LOG_INFO);
	sink_open(&s, &log);
	lb_info(&log, "hello %d", 5);
	l.now = 1500000999ull; /* 1.500000999 s: truncated, not rounded */
	lb_warn(&log, "already terminated\n");
	lb_err(&log, "e");
	lb_debug(&log, "not shown");
	log_msg(&log, LOG_DEBUG, "not shown either");
	l.now = 123 * NSEC_PER_SEC;
	lb_info(&log, "late");
	out = sink_close(&s, &log);
	assert_string_equal(out, "[ 0.000000] client INFO hello 5\n"
				 "[ 1.500000] client WARN already terminated\n"
				 "[ 1.500000] client ERR e\n"
				 "[123.000000] client INFO late\n");
	free(out);
	loop_destroy(&l);
}

static void test_no_clock_and_levels(void **state)
{
	struct log log;
	struct sink s;
	char *out;

	log_init(&log, "h", NULL);
	log.level = LOG_TRACE;
	sink_open(&s, &log);
	lb_debug(&log, "d");
	LB_LOG(&log, LOG_TRACE, "t %s", "x");
	out = sink_close(&s, &log);
	assert_string_equal(out, "h DEBUG d\nh TRACE t x\n");
	free(out);

	log.level = LOG_ERR;
	sink_open(&s, &log);
	lb_warn(&log, "w");
	lb_err(&log, "e");
	out = sink_close(&s, &log);
	assert_string_equal(out, "h ERR e\n");
	free(out);
}

static void test_long_line_truncated(void **state)
{
	char big[4000];
	struct log log;
	struct sink s;
	char *out;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init(&log, "h", NULL);
	sink_open(&s, &log);
	lb_info(&log, "%s", big);
	lb_info(&log, "next");
	out = sink_close(&s, &log);
	/* Cut short, but still one line, and the next starts clean. */
	assert_true(strlen(out) < 1100);
	assert_memory_equal(out, "h INFO aaa", 10);
	assert_non_null(strstr(out, "a\nh INFO next\n"));
	assert_int_equal(strchr(out, '\n') - out + 1 + strlen("h INFO next\n"),
			 strlen(out));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_parse_and_name),
		cmocka_unit_test(test_line_format_with_clock),
		cmocka_unit_test(test_no_clock_and_levels),
		cmocka_unit_test(test_long_line_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
