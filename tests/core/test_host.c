// SPDX-License-Identifier: MIT
/*
 * Host lifecycle, dumps, and the panic path (in forked children).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/host.h"

static void test_create_destroy(void **state)
{
	struct host_config cfg = {
		.name = "client",
		.seed = 7,
		.log_level = LOG_DEBUG,
	};
	struct prng ref;
	struct host *h;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	h = host_create(&l, &cfg);
	assert_non_null(h);
	assert_string_equal(h->name, "client");
	assert_int_equal(h->seed, 7);
	assert_ptr_equal(h->loop, &l);
	assert_int_equal(h->stats.cap, 4096);
	assert_int_equal(h->stats.nr, 0);
	assert_int_equal(h->trace.cap, 4096);
	assert_int_equal(h->log.level, LOG_DEBUG);
	assert_ptr_equal(h->log.clock, &l);
	assert_string_equal(h->log.name, "client");
	assert_null(h->mm);
	assert_null(h->net);
	assert_null(h->vm);
	prng_seed(&ref, 7);
	assert_int_equal(prng_next(&h->prng), prng_next(&ref));

	l.now = 77;
	host_trace(h, "x", 1, 2, 3);
	assert_int_equal(h->trace.head, 1);
	assert_int_equal(h->trace.ring[0].time, 77);
	host_destroy(h);
	host_destroy(NULL);
	loop_destroy(&l);
}

static void test_create_variants(void **state)
{
	struct host_config cfg = {
		.name = NULL,
		.stats_capacity = 10,
		.trace_capacity = 100,
	};
	char longname[100];
	struct host *h;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	h = host_create(&l, &cfg);
	assert_non_null(h);
	assert_string_equal(h->name, "host");
	assert_int_equal(h->stats.cap, 10);
	assert_int_equal(h->trace.cap, 128);
	host_destroy(h);

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cfg.name = longname;
	h = host_create(&l, &cfg);
	assert_non_null(h);
	assert_int_equal(strlen(h->name), sizeof(h->name) - 1);
	host_destroy(h);

	h = host_create(&l, NULL);
	assert_non_null(h);
	assert_string_equal(h->name, "host");
	host_destroy(h);

	errno = 0;
	assert_null(host_create(NULL, &cfg));
	assert_int_equal(errno, EINVAL);
	loop_destroy(&l);
}

/* Hosts on one loop are independent values. */
static void test_two_hosts_one_loop(void **state)
{
	struct host_config ca = { .name = "a", .seed = 1 };
	struct host_config cb = { .name = "b", .seed = 2 };
	struct host *a, *b, *a2;
	struct counter c = { 0 };
	struct loop l;
	int64_t v;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	a = host_create(&l, &ca);
	b = host_create(&l, &cb);
	a2 = host_create(&l, &ca);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(a2);
	assert_int_not_equal(prng_next(&a->prng), prng_next(&b->prng));
	prng_next(&a2->prng);
	assert_int_equal(prng_next(&a->prng), prng_next(&a2->prng));
	assert_int_equal(stats_add_counter(&a->stats, &c, "only.in.a"), 0);
	assert_int_equal(stats_get(&b->stats, "only.in.a", &v), -ENOENT);
	host_destroy(a2);
	host_destroy(b);
	host_destroy(a);
	loop_destroy(&l);
}

/* More hosts than hook slots: creation still works, the extras go undumped. */
static void test_many_hosts(void **state)
{
	struct host_config cfg = { .stats_capacity = 1, .trace_capacity = 1 };
	struct host *h[LB_PANIC_HOOKS_MAX + 6];
	struct loop l;
	size_t i;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	for (i = 0; i < ARRAY_SIZE(h); i++) {
		h[i] = host_create(&l, &cfg);
		assert_non_null(h[i]);
	}
	for (i = 0; i < ARRAY_SIZE(h); i++)
		host_destroy(h[i]);
	loop_destroy(&l);
}

static void test_host_dump(void **state)
{
	struct host_config cfg = { .name = "srv" };
	struct counter c = { 12 };
	char *buf = NULL;
	size_t len = 0;
	struct host *h;
	struct loop l;
	FILE *f;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	h = host_create(&l, &cfg);
	assert_non_null(h);
	assert_int_equal(stats_add_counter(&h->stats, &c, "srv.requests"), 0);
	l.now = 2 * NSEC_PER_SEC + 5;
	host_trace(h, "nbd.reply", 4, 5, 6);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	host_dump(h, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "host srv"));
	assert_non_null(strstr(buf, "trace: 1 events recorded"));
	assert_non_null(strstr(buf, "[ 2.000000005] nbd.reply 4 5 6\n"));
	assert_non_null(strstr(buf, "srv.requests 12\n"));
	free(buf);
	host_destroy(h);
	loop_destroy(&l);
}

/* Run @fn in a child with stderr captured; return its output. */
static char *run_child(void (*fn)(void), int *status)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	int fds[2];
	ssize_t n;
	pid_t pid;

	assert_non_null(out);
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return out;
}

static void child_assert(void)
{
	struct host_config cfg = { .name = "victim" };
	static struct counter c = { 3 };
	volatile int two = 2;
	struct loop l;
	struct host *h;
	int i;

	loop_init(&l, LOOP_VIRTUAL);
	h = host_create(&l, &cfg);
	if (!h)
		_exit(2);
	stats_add_counter(&h->stats, &c, "victim.count");
	/* More events than the panic dump shows. */
	for (i = 0; i < 100; i++)
		host_trace(h, "my.event", (uint64_t)i, 0, 0);
	LB_ASSERT(two + 1 == 4);
}

static void test_assert_aborts_with_dump(void **state)
{
	int status;
	char *out = run_child(child_assert, &status);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(out, "lifeboat: PANIC at "));
	assert_non_null(strstr(out, "test_host.c:"));
	assert_non_null(strstr(out, "assertion 'two + 1 == 4' failed"));
	assert_non_null(strstr(out, "host victim: trace ring"));
	assert_non_null(strstr(out, "trace: 100 events recorded"));
	/* The last 64 events, newest last. */
	assert_non_null(strstr(out, "] my.event 99 0 0\n"));
	assert_non_null(strstr(out, "] my.event 36 0 0\n"));
	assert_null(strstr(out, "] my.event 35 0 0\n"));
	assert_true(strstr(out, "] my.event 36 ") <
		    strstr(out, "] my.event 99 "));
	assert_non_null(strstr(out, "victim.count 3\n"));
	/* The message comes before the dump. */
	assert_true(strstr(out, "PANIC") < strstr(out, "host victim"));
	free(out);
}

static void child_hook_order(void)
{
	struct host_config cfg = { 0 };
	struct host *a, *b, *c;
	struct loop l;

	loop_init(&l, LOOP_VIRTUAL);
	cfg.name = "alpha";
	a = host_create(&l, &cfg);
	cfg.name = "bravo";
	b = host_create(&l, &cfg);
	cfg.name = "charlie";
	c = host_create(&l, &cfg);
	if (!a || !b || !c)
		_exit(2);
	host_destroy(b);
	LB_ASSERTF(a == c, "hosts %s and %s", a->name, c->name);
}

static void test_hooks_newest_first(void **state)
{
	int status;
	char *out = run_child(child_hook_order, &status);
	char *pa, *pc;

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(out,
			       "assertion 'a == c' failed: hosts alpha and "
			       "charlie"));
	pa = strstr(out, "host alpha: trace ring");
	pc = strstr(out, "host charlie: trace ring");
	assert_non_null(pa);
	assert_non_null(pc);
	assert_true(pc < pa);
	/* Destroyed hosts are no longer dumped. */
	assert_null(strstr(out, "bravo"));
	free(out);
}

static void bad_hook_fn(struct panic_hook *hook, FILE *out)
{
	fputs("bad hook ran\n", out);
	LB_BUG();
}

static void child_panic_in_hook(void)
{
	static struct panic_hook bad = { .fn = bad_hook_fn };
	struct host_config cfg = { .name = "older" };
	struct loop l;

	loop_init(&l, LOOP_VIRTUAL);
	if (!host_create(&l, &cfg))
		_exit(2);
	lb_panic_hook_add(&bad);
	lb_panic(__FILE__, __LINE__, "first %d", 1);
}

static void test_panic_in_hook_aborts(void **state)
{
	int status;
	char *out = run_child(child_panic_in_hook, &status);
	char *first, *second;

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	first = strstr(out, "lifeboat: PANIC at ");
	assert_non_null(first);
	assert_non_null(strstr(first, ": first 1\n"));
	assert_non_null(strstr(out, "bad hook ran\n"));
	second = strstr(first + 1, "lifeboat: PANIC at ");
	assert_non_null(second);
	assert_non_null(strstr(second, ": BUG\n"));
	/* No third message, and the dump did not start over. */
	assert_null(strstr(second + 1, "lifeboat: PANIC"));
	assert_null(strstr(out, "host older"));
	assert_null(strstr(strstr(out, "bad hook ran") + 1, "bad hook ran"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy),
		cmocka_unit_test(test_create_variants),
		cmocka_unit_test(test_two_hosts_one_loop),
		cmocka_unit_test(test_many_hosts),
		cmocka_unit_test(test_host_dump),
		cmocka_unit_test(test_assert_aborts_with_dump),
		cmocka_unit_test(test_hooks_newest_first),
		cmocka_unit_test(test_panic_in_hook_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
