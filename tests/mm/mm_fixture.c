// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mm_fixture.h"

struct fx *fx_new_cfg(const struct mm_config *cfg, uint64_t seed)
{
	struct host_config hc = { .name = "test",
				  .seed = seed,
				  .log_level = LOG_ERR };
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(loop_init(&f->loop, LOOP_VIRTUAL), 0);
	f->host = host_create(&f->loop, &hc);
	assert_non_null(f->host);
	f->mm = mm_create(f->host, cfg);
	assert_non_null(f->mm);
	return f;
}

struct fx *fx_new(size_t nr_pages, enum mm_policy policy)
{
	struct mm_config cfg = { .nr_pages = nr_pages, .policy = policy };

	return fx_new_cfg(&cfg, 42);
}

void fx_free(struct fx *f)
{
	mm_check(f->mm);
	mm_destroy(f->mm);
	host_destroy(f->host);
	loop_destroy(&f->loop);
	free(f);
}

size_t fx_fill(struct fx *f, unsigned flags, struct mm_reserve *rsv,
	       struct page **out, size_t max)
{
	size_t n = 0;

	while (n < max) {
		struct page *p = mm_page_alloc(f->mm, flags, rsv);

		if (!p)
			break;
		out[n++] = p;
	}
	return n;
}

void fx_put_all(struct fx *f, struct page **pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mm_page_put(f->mm, pages[i]);
}

void fx_run(struct fx *f)
{
	while (loop_run_once(&f->loop, 0))
		;
}

static int run_child(void (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The panic report is expected: keep the test log readable. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

bool fx_panics(void (*fn)(void *arg), void *arg)
{
	int status = run_child(fn, arg);

	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

bool fx_dies(void (*fn)(void *arg), void *arg)
{
	int status = run_child(fn, arg);

	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int64_t fx_stat(struct fx *f, const char *name)
{
	int64_t v = -1;

	assert_int_equal(stats_get(&f->host->stats, name, &v), 0);
	return v;
}
