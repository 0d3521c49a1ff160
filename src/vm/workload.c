// SPDX-License-Identifier: MIT
/*
 * workload.c - the swap, mmap, write and mixed generators and their checks.
 *
 * A pump keeps `concurrency` touches in flight: each completion checks the
 * page, writes its new version if it was a write, and issues the next op
 * of the phase.  A phase ends when it has nothing left to issue and
 * nothing in flight; the final pass reads every page of every region.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pattern.h"
#include "vm_internal.h"
#include "workload.h"

#define WL_MAX_REPORTS 8

struct wl_region {
	struct vm_region *r;
	uint32_t *version; /* what each page must hold */
	uint64_t cursor; /* sequential writes */
};

enum { WL_ANON, WL_SHARED, WL_FILE, WL_NR };

struct vm_workload {
	struct vm *vm;
	struct vm_workload_config cfg;
	struct prng prng;
	struct wl_region rg[WL_NR];
	struct vm_touch *touches;
	struct vm_touch **idle;
	unsigned nr_idle, inflight;
	enum vm_workload_phase phase;
	uint64_t issued, completed, total; /* current phase */
	unsigned cur_rg; /* populate and verify: region and page cursor */
	uint64_t cur_idx;
	uint64_t ops_done, verified, verify_total;
	uint64_t verify_ok, verify_fail, io_errors, reports;
	uint64_t started, finished;
	vm_workload_done_fn done;
	void *arg;
	struct task done_task;
};

static const char *const wl_names[] = {
	[VM_WL_SWAP] = "swap",
	[VM_WL_MMAP] = "mmap",
	[VM_WL_WRITE] = "write",
	[VM_WL_MIXED] = "mixed",
};

const char *vm_workload_name(enum vm_workload_kind k)
{
	return k < ARRAY_SIZE(wl_names) ? wl_names[k] : "?";
}

int vm_workload_parse(const char *s, enum vm_workload_kind *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(wl_names); i++) {
		if (s && !strcmp(s, wl_names[i])) {
			*out = (enum vm_workload_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool wl_uses(const struct vm_workload_config *c, unsigned k)
{
	switch (k) {
	case WL_ANON:
		return c->kind == VM_WL_SWAP || c->kind == VM_WL_MIXED;
	case WL_SHARED:
		return c->kind == VM_WL_MMAP || c->kind == VM_WL_MIXED;
	default:
		return c->kind == VM_WL_WRITE || c->kind == VM_WL_MIXED;
	}
}

static int wl_map(struct vm_workload *w)
{
	const struct vm_workload_config *c = &w->cfg;
	int err = 0;

	for (unsigned k = 0; k < WL_NR && !err; k++) {
		struct wl_region *wr = &w->rg[k];

		if (!wl_uses(c, k))
			continue;
		if (k == WL_ANON)
			err = c->anon_pages ?
				      vm_map_anon(w->vm, "wl.anon",
						  c->anon_pages, &wr->r) :
				      -EINVAL;
		else if (k == WL_SHARED)
			err = c->shared_bd && c->shared_pages ?
				      vm_map_shared(w->vm, "wl.shared",
						    c->shared_bd,
						    c->shared_offset,
						    c->shared_pages, &wr->r) :
				      -EINVAL;
		else
			err = c->file_bd && c->file_pages ?
				      vm_map_file(w->vm, "wl.file", c->file_bd,
						  c->file_offset, c->file_pages,
						  &wr->r) :
				      -EINVAL;
		if (err)
			break;
		wr->version = calloc(wr->r->nr_pages, sizeof(*wr->version));
		if (!wr->version)
			err = -ENOMEM;
		else
			w->verify_total += wr->r->nr_pages;
	}
	return err;
}

static void wl_free(struct vm_workload *w)
{
	for (unsigned k = 0; k < WL_NR; k++) {
		if (w->rg[k].r)
			LB_ASSERT(vm_unmap(w->rg[k].r) == 0);
		free(w->rg[k].version);
	}
	free(w->touches);
	free(w->idle);
	free(w);
}

static void wl_done_fn(struct task *t);

int vm_workload_create(struct vm *vm, const struct vm_workload_config *cfg,
		       struct vm_workload **out)
{
	struct vm_workload *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->vm = vm;
	w->cfg = *cfg;
	if (cfg->kind > VM_WL_MIXED || cfg->write_pct > 100) {
		free(w);
		return -EINVAL;
	}
	if (!w->cfg.concurrency)
		w->cfg.concurrency = 16;
	if (!w->cfg.write_pct)
		w->cfg.write_pct = 50;
	prng_fork(&vm->host->prng, &w->prng, 0x776f726b6c6f6164ull);
	task_init(&w->done_task, wl_done_fn);
	err = wl_map(w);
	w->touches = calloc(w->cfg.concurrency, sizeof(*w->touches));
	w->idle = calloc(w->cfg.concurrency, sizeof(*w->idle));
	if (!err && (!w->touches || !w->idle))
		err = -ENOMEM;
	if (err) {
		wl_free(w);
		return err;
	}
	if (!w->cfg.ops)
		w->cfg.ops = w->cfg.kind == VM_WL_WRITE ? w->verify_total :
							  2 * w->verify_total;
	for (unsigned i = 0; i < w->cfg.concurrency; i++) {
		w->touches[i].private = w;
		w->idle[w->nr_idle++] = &w->touches[i];
	}
	*out = w;
	return 0;
}

int vm_workload_destroy(struct vm_workload *w)
{
	if (!w)
		return 0;
	if (w->inflight)
		return -EBUSY;
	for (unsigned k = 0; k < WL_NR; k++) {
		struct vm_region *r = w->rg[k].r;

		for (uint64_t i = 0; r && i < r->nr_pages; i++)
			if (r->pages[i] &&
			    (r->pages[i]->flags & (PG_WRITEBACK | PG_LOCKED)))
				return -EBUSY;
	}
	task_cancel(w->vm->host->loop, &w->done_task);
	wl_free(w);
	return 0;
}

static struct wl_region *wl_region_of(struct vm_workload *w,
				      const struct vm_region *r)
{
	for (unsigned k = 0; k < WL_NR; k++)
		if (w->rg[k].r == r)
			return &w->rg[k];
	LB_ASSERT(0);
	return NULL;
}

static void wl_check(struct vm_workload *w, struct wl_region *wr, uint64_t idx,
		     const void *data)
{
	struct vm *vm = w->vm;
	uint32_t found;
	enum vm_pattern_result res = vm_pattern_check(data, wr->r->id, idx,
						      wr->version[idx], &found);

	if (res == VM_PATTERN_OK) {
		w->verify_ok++;
		counter_inc(&vm->st.verify_ok);
		return;
	}
	w->verify_fail++;
	counter_inc(&vm->st.verify_fail);
	host_trace(vm->host, "vm.verify_fail", wr->r->id, idx, res);
	if (w->reports++ < WL_MAX_REPORTS)
		lb_err(&vm->host->log,
		       "vm: verify %s page %llu: %s (expected version %u, found %u)",
		       wr->r->name, (unsigned long long)idx,
		       vm_pattern_result_name(res), wr->version[idx], found);
}

static void wl_touch_done(struct vm_touch *t, void *data, int err);

static void wl_issue(struct vm_workload *w, struct wl_region *wr, uint64_t idx,
		     unsigned flags)
{
	struct vm_touch *t = w->idle[--w->nr_idle];

	t->region = wr->r;
	t->index = idx;
	t->flags = flags;
	t->fn = wl_touch_done;
	w->inflight++;
	w->issued++;
	LB_ASSERT(vm_touch(t) == 0);
}

/* Sequential cursor over the used regions (populate: not anon). */
static bool wl_next_seq(struct vm_workload *w, bool skip_anon,
			struct wl_region **wr, uint64_t *idx)
{
	while (w->cur_rg < WL_NR) {
		struct wl_region *r = &w->rg[w->cur_rg];

		if (r->r && !(skip_anon && w->cur_rg == WL_ANON) &&
		    w->cur_idx < r->r->nr_pages) {
			*wr = r;
			*idx = w->cur_idx++;
			return true;
		}
		w->cur_rg++;
		w->cur_idx = 0;
	}
	return false;
}

static void wl_issue_random(struct vm_workload *w)
{
	unsigned k;
	struct wl_region *wr;
	bool write;

	switch (w->cfg.kind) {
	case VM_WL_SWAP:
		k = WL_ANON;
		break;
	case VM_WL_MMAP:
		k = WL_SHARED;
		break;
	case VM_WL_WRITE:
		k = WL_FILE;
		break;
	default:
		k = (unsigned)prng_below(&w->prng, WL_NR);
		break;
	}
	wr = &w->rg[k];
	if (k == WL_FILE) {
		/* buffered sequential writes of whole pages */
		wl_issue(w, wr, wr->cursor++ % wr->r->nr_pages,
			 VM_TOUCH_WRITE | VM_TOUCH_OVERWRITE);
		return;
	}
	write = prng_below(&w->prng, 100) < w->cfg.write_pct;
	wl_issue(w, wr, prng_below(&w->prng, wr->r->nr_pages),
		 write ? VM_TOUCH_WRITE : 0);
}

/* Issue one op of the current phase; false when it has none left. */
static bool wl_issue_next(struct vm_workload *w)
{
	struct wl_region *wr;
	uint64_t idx;

	switch (w->phase) {
	case VM_WL_POPULATE:
		/* write's own run phase writes every page first */
		if (w->cfg.kind == VM_WL_WRITE ||
		    !wl_next_seq(w, true, &wr, &idx))
			return false;
		wl_issue(w, wr, idx, VM_TOUCH_WRITE | VM_TOUCH_OVERWRITE);
		return true;
	case VM_WL_RUN:
		if (w->issued >= w->cfg.ops)
			return false;
		wl_issue_random(w);
		return true;
	case VM_WL_VERIFY:
		if (!wl_next_seq(w, false, &wr, &idx))
			return false;
		wl_issue(w, wr, idx, 0);
		return true;
	default:
		return false;
	}
}

static void wl_enter(struct vm_workload *w, enum vm_workload_phase phase)
{
	w->phase = phase;
	w->issued = w->completed = 0;
	w->cur_rg = 0;
	w->cur_idx = 0;
	switch (phase) {
	case VM_WL_POPULATE:
		w->total = w->cfg.kind == VM_WL_WRITE ?
				   0 :
				   w->verify_total -
					   (w->rg[WL_ANON].r ?
						    w->rg[WL_ANON].r->nr_pages :
						    0);
		break;
	case VM_WL_RUN:
		w->total = w->cfg.ops;
		break;
	case VM_WL_VERIFY:
		w->total = w->verify_total;
		break;
	default:
		w->total = 0;
		break;
	}
	host_trace(w->vm->host, "vm.wl.phase", phase, w->total, 0);
}

static void wl_pump(struct vm_workload *w)
{
	for (;;) {
		while (w->nr_idle && wl_issue_next(w))
			;
		if (w->inflight || w->phase == VM_WL_DONE)
			return;
		/* phase over: nothing left to issue, nothing in flight */
		if (w->phase == VM_WL_VERIFY) {
			wl_enter(w, VM_WL_DONE);
			w->finished = host_now(w->vm->host);
			task_queue(w->vm->host->loop, &w->done_task);
			return;
		}
		wl_enter(w, w->phase + 1);
	}
}

static void wl_touch_done(struct vm_touch *t, void *data, int err)
{
	struct vm_workload *w = t->private;
	struct wl_region *wr = wl_region_of(w, t->region);
	uint64_t idx = t->index;

	w->inflight--;
	w->completed++;
	if (w->phase == VM_WL_RUN)
		w->ops_done++;
	else if (w->phase == VM_WL_VERIFY)
		w->verified++;
	if (err) {
		w->io_errors++;
		lb_err(&w->vm->host->log, "vm: touch of %s page %llu: %d",
		       wr->r->name, (unsigned long long)idx, err);
	} else {
		if (!(t->flags & VM_TOUCH_OVERWRITE))
			wl_check(w, wr, idx, data);
		if (t->flags & VM_TOUCH_WRITE)
			vm_pattern_fill(data, wr->r->id, idx,
					++wr->version[idx]);
	}
	w->idle[w->nr_idle++] = t;
	wl_pump(w);
}

static void wl_done_fn(struct task *t)
{
	struct vm_workload *w = container_of(t, struct vm_workload, done_task);

	lb_info(&w->vm->host->log,
		"vm: workload %s done in %.3f s: %llu ops, %llu pages verified, %llu failed",
		vm_workload_name(w->cfg.kind),
		(double)(w->finished - w->started) / NSEC_PER_SEC,
		(unsigned long long)w->ops_done,
		(unsigned long long)w->verify_ok,
		(unsigned long long)w->verify_fail);
	if (w->done)
		w->done(w, w->arg);
}

int vm_workload_start(struct vm_workload *w, vm_workload_done_fn done,
		      void *arg)
{
	if (w->phase != VM_WL_IDLE)
		return -EBUSY;
	w->done = done;
	w->arg = arg;
	w->started = host_now(w->vm->host);
	wl_enter(w, VM_WL_POPULATE);
	wl_pump(w);
	return 0;
}

bool vm_workload_finished(const struct vm_workload *w)
{
	return w->phase == VM_WL_DONE;
}

struct vm_region *vm_workload_region(const struct vm_workload *w,
				     enum vm_region_kind kind)
{
	return w->rg[kind == VM_ANON   ? WL_ANON :
		     kind == VM_SHARED ? WL_SHARED :
					 WL_FILE]
		.r;
}

void vm_workload_progress(const struct vm_workload *w, struct vm_progress *p)
{
	static const char *const phases[] = {
		[VM_WL_IDLE] = "idle", [VM_WL_POPULATE] = "populate",
		[VM_WL_RUN] = "run",   [VM_WL_VERIFY] = "verify",
		[VM_WL_DONE] = "done",
	};
	const struct vm *vm = w->vm;
	uint64_t now = w->phase == VM_WL_DONE ? w->finished :
						host_now(vm->host);

	memset(p, 0, sizeof(*p));
	p->phase = w->phase;
	p->phase_name = phases[w->phase];
	p->done = w->completed;
	p->total = w->total;
	p->ops_done = w->ops_done;
	p->ops_total = w->cfg.ops;
	p->verified = w->verified;
	p->verify_total = w->verify_total;
	p->verify_ok = w->verify_ok;
	p->verify_fail = w->verify_fail;
	p->io_errors = w->io_errors;
	p->inflight = w->inflight;
	p->elapsed_ns = w->phase == VM_WL_IDLE ? 0 : now - w->started;
	p->free_pages = vm->mm->nr_free.v;
	p->dirty = vm->st.dirty.v;
	p->writeback = vm->st.writeback.v;
	p->faults = vm->st.faults.v;
	p->swap_in = vm->st.swap_in.v;
	p->swap_out = vm->st.swap_out.v;
	p->written_back = vm->st.written_back.v;
	p->mb_written_back = vm->st.wb_bytes.v >> 20;
	p->throttled = vm->st.throttled.v;
	p->direct_reclaims = vm->st.direct_runs.v;
	p->reclaimed = vm->st.reclaimed.v;
}
