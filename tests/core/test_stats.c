// SPDX-License-Identifier: MIT
/*
 * Stats registry: registration rules, lookup, removal, table and JSON.
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

#include "core/stats.h"

/* Capture what a print function writes. */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static char *capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

static void test_add_get(void **state)
{
	struct counter c = { 0 };
	struct gauge g = { 0 };
	struct stats s;
	int64_t v = 0;

	assert_int_equal(stats_init(&s, 8), 0);
	assert_int_equal(stats_add_counter(&s, &c, "mm.alloc.%s", "fail"), 0);
	assert_int_equal(stats_add_gauge(&s, &g, "mm.free.%d", 3), 0);
	counter_add(&c, 41);
	counter_inc(&c);
	gauge_set(&g, -7);
	assert_int_equal(stats_get(&s, "mm.alloc.fail", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(stats_get(&s, "mm.free.3", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(stats_get(&s, "mm.free", &v), -ENOENT);
	assert_int_equal(stats_get(&s, "mm.free.30", &v), -ENOENT);
	assert_int_equal(stats_get(&s, "", &v), -ENOENT);
	assert_int_equal(s.nr, 2);
	stats_destroy(&s);
}

static void test_duplicate_full_and_bad_names(void **state)
{
	struct counter c[5] = { { 0 } };
	char longname[STAT_NAME_MAX + 1];
	struct stats s;
	int64_t v;

	assert_int_equal(stats_init(&s, 3), 0);
	assert_int_equal(stats_add_counter(&s, &c[0], "a"), 0);
	assert_int_equal(stats_add_counter(&s, &c[1], "a"), -EEXIST);
	assert_int_equal(stats_add_counter(&s, &c[1], "b"), 0);
	assert_int_equal(stats_add_counter(&s, &c[2], "c"), 0);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(stats_add_counter(&s, &c[3], "d"), -ENOSPC);
	assert_int_equal(stats_add_counter(&s, &c[4], "e"), -ENOSPC);
	assert_int_equal(s.dropped, 2);
	assert_int_equal(s.nr, 3);
	assert_int_equal(stats_get(&s, "d", &v), -ENOENT);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(stats_remove(&s, &c[2]), 1);
	assert_int_equal(stats_add_counter(&s, &c[3], "%s", longname),
			 -ENAMETOOLONG);
	/* Exactly STAT_NAME_MAX - 1 characters still fits. */
	longname[STAT_NAME_MAX - 1] = '\0';
	assert_int_equal(stats_add_counter(&s, &c[3], "%s", longname), 0);
	assert_int_equal(stats_get(&s, longname, &v), 0);
	assert_int_equal(stats_add_counter(&s, &c[3], "%s", ""), -EINVAL);
	assert_int_equal(stats_add_counter(&s, NULL, "z"), -EINVAL);
	stats_destroy(&s);

	/* A table of capacity 0 refuses everything. */
	assert_int_equal(stats_init(&s, 0), 0);
	assert_int_equal(stats_add_counter(&s, &c[0], "a"), -ENOSPC);
	assert_int_equal(s.dropped, 1);
	stats_destroy(&s);
}

static void test_remove(void **state)
{
	struct counter a = { 1 }, b = { 2 };
	struct gauge g = { 3 };
	struct stats s;
	int64_t v;

	assert_int_equal(stats_init(&s, 8), 0);
	assert_int_equal(stats_add_counter(&s, &a, "x.a"), 0);
	assert_int_equal(stats_add_counter(&s, &b, "x.b"), 0);
	/* One value under two names. */
	assert_int_equal(stats_add_counter(&s, &a, "y.a"), 0);
	assert_int_equal(stats_add_gauge(&s, &g, "x.g"), 0);
	assert_int_equal(stats_remove(&s, &a), 2);
	assert_int_equal(stats_remove(&s, &a), 0);
	assert_int_equal(s.nr, 2);
	assert_int_equal(stats_get(&s, "x.a", &v), -ENOENT);
	assert_int_equal(stats_get(&s, "y.a", &v), -ENOENT);
	assert_int_equal(stats_get(&s, "x.b", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(stats_get(&s, "x.g", &v), 0);
	assert_int_equal(v, 3);
	/* The name is free again. */
	assert_int_equal(stats_add_counter(&s, &b, "x.a"), 0);
	assert_int_equal(stats_get(&s, "x.a", &v), 0);
	assert_int_equal(v, 2);
	stats_destroy(&s);
}

static void test_table_sorted_aligned(void **state)
{
	struct counter c1 = { 10 }, c2 = { 2000 }, c3 = { 3 };
	struct gauge g = { -5 };
	struct capture cap;
	struct stats s;
	char *out, *line, *save = NULL;
	const char *want[] = { "a.long.name", "b", "mm.x", "zz" };
	const char *vals[] = { "2000", "3", "-5", "10" };
	int i = 0, col = -1;

	assert_int_equal(stats_init(&s, 8), 0);
	assert_int_equal(stats_add_counter(&s, &c1, "zz"), 0);
	assert_int_equal(stats_add_counter(&s, &c2, "a.long.name"), 0);
	assert_int_equal(stats_add_gauge(&s, &g, "mm.x"), 0);
	assert_int_equal(stats_add_counter(&s, &c3, "b"), 0);

	capture_open(&cap);
	stats_print_table(&s, cap.f, "");
	out = capture_close(&cap);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		char *value = strrchr(line, ' ') + 1;

		assert_true(i < 4);
		assert_memory_equal(line, want[i], strlen(want[i]));
		assert_string_equal(value, vals[i]);
		/* Every value starts in the same column. */
		if (col < 0)
			col = (int)(value - line);
		assert_int_equal(value - line, col);
	}
	assert_int_equal(i, 4);
	assert_int_equal(col, (int)strlen("a.long.name") + 1);
	free(out);

	/* Prefix filter. */
	capture_open(&cap);
	stats_print_table(&s, cap.f, "mm.");
	out = capture_close(&cap);
	assert_string_equal(out, "mm.x -5\n");
	free(out);

	capture_open(&cap);
	stats_print_table(&s, cap.f, "nothing");
	out = capture_close(&cap);
	assert_string_equal(out, "");
	free(out);
	stats_destroy(&s);
}

static void test_json(void **state)
{
	struct counter c1 = { 5 }, c2 = { 18446744073709551615ull };
	struct gauge g = { -12 };
	struct capture cap;
	struct stats s;
	char *out;
	size_t len;

	assert_int_equal(stats_init(&s, 8), 0);
	assert_int_equal(stats_add_counter(&s, &c1, "net.rx"), 0);
	assert_int_equal(stats_add_counter(&s, &c2, "net.big"), 0);
	assert_int_equal(stats_add_gauge(&s, &g, "mm.level"), 0);
	assert_int_equal(stats_add_gauge(&s, &g, "we\"ird\\\tname"), 0);

	capture_open(&cap);
	stats_print_json(&s, cap.f, "");
	out = capture_close(&cap);
	len = strlen(out);
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	assert_true(len > 2);
	assert_int_equal(out[0], '{');
	assert_int_equal(out[len - 1], '}');
	assert_non_null(strstr(out, "\"net.rx\": 5"));
	assert_non_null(strstr(out, "\"net.big\": 18446744073709551615"));
	assert_non_null(strstr(out, "\"mm.level\": -12"));
	assert_non_null(strstr(out, "\"we\\\"ird\\\\\\u0009name\": -12"));
	/* Sorted, comma separated, no trailing comma. */
	assert_true(strstr(out, "mm.level") < strstr(out, "net.big"));
	assert_true(strstr(out, "net.big") < strstr(out, "net.rx"));
	assert_null(strstr(out, ",}"));
	assert_null(strstr(out, ", }"));
	free(out);

	capture_open(&cap);
	stats_print_json(&s, cap.f, "net.");
	out = capture_close(&cap);
	assert_string_equal(out, "{\"net.big\": 18446744073709551615, "
				 "\"net.rx\": 5}\n");
	free(out);

	capture_open(&cap);
	stats_print_json(&s, cap.f, "none");
	out = capture_close(&cap);
	assert_string_equal(out, "{}\n");
	free(out);
	stats_destroy(&s);
}

static void test_many_sorted(void **state)
{
	enum { M = 500 };
	struct counter *c = calloc(M, sizeof(*c));
	struct stats s;
	int64_t v;
	unsigned i, k;

	assert_non_null(c);
	assert_int_equal(stats_init(&s, M), 0);
	/* A scrambled registration order. */
	for (i = 0; i < M; i++) {
		k = (i * 7919u) % M;
		c[k].v = k;
		assert_int_equal(stats_add_counter(&s, &c[k], "c.%05u", k), 0);
	}
	for (i = 1; i < M; i++)
		assert_true(strcmp(s.entries[i - 1].name, s.entries[i].name) <
			    0);
	for (i = 0; i < M; i += 37) {
		char name[16];

		snprintf(name, sizeof(name), "c.%05u", i);
		assert_int_equal(stats_get(&s, name, &v), 0);
		assert_int_equal(v, i);
	}
	stats_destroy(&s);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get),
		cmocka_unit_test(test_duplicate_full_and_bad_names),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_table_sorted_aligned),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_many_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
