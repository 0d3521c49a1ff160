// SPDX-License-Identifier: MIT
/*
 * watchdog.c - the pager's forward-progress check and deadlock report.
 */
#include <errno.h>
#include <string.h>
#include "mm/mempool.h"
#include "vm_internal.h"
#include "watchdog.h"

#define WATCHDOG_MAX_WAITERS 16

struct vm_watchdog {
	struct vm *vm;
	struct timer timer;
	uint64_t timeout_ns, period_ns;
	FILE *out;
	vm_watchdog_fn fn;
	void *arg;
	bool fired;
};

static bool work_pending(const struct vm *vm)
{
	return vm->nr_touches || vm_io_in_flight(vm);
}

static void print_waiters(const struct list_head *h, const char *queue,
			  uint64_t now, FILE *out, unsigned *shown)
{
	const struct mm_waiter *w;

	list_for_each_entry(w, h, node) {
		if ((*shown)++ >= WATCHDOG_MAX_WAITERS)
			continue;
		fprintf(out, "  %-18s %-24s parked %.3f s\n", queue,
			w->what ? w->what : "?",
			(double)(now - w->since) / NSEC_PER_SEC);
	}
}

static void print_device(const struct blkdev *bd, const char *role,
			 uint64_t now, FILE *out, unsigned *shown)
{
	fprintf(out,
		"  %-8s %-6s in flight %lld, waiting for a slot %lld (depth %u), bio pool %u/%u, reserve %s %lld/%lld\n",
		bd->name, role, (long long)bd->st.inflight.v,
		(long long)bd->st.waiting.v, bd->lim.queue_depth,
		bd->bio_pool.curr_nr, bd->bio_pool.min_nr, bd->rsv.name,
		(long long)bd->rsv.used.v, (long long)bd->rsv.size.v);
	print_waiters(&bd->bio_pool.waiters, bd->bio_pool.name, now, out,
		      shown);
}

void vm_watchdog_report(const struct vm *vm, FILE *out)
{
	const struct mm *mm = vm->mm;
	const struct host *h = vm->host;
	uint64_t now = host_now(h);
	const struct mm_reserve *r;
	unsigned shown = 0;

	fprintf(out,
		"host %s: no page freed, written back or touched for %.3f s; %u touches pending, %llu pages under I/O\n",
		h->name, (double)(now - vm->last_progress) / NSEC_PER_SEC,
		vm->nr_touches, (unsigned long long)vm_io_in_flight(vm));
	mm_print(mm, out);
	fprintf(out, "parked waiters (%lld):\n", (long long)mm->nr_waiting.v);
	print_waiters(&mm->waiters, "memory", now, out, &shown);
	list_for_each_entry(r, &mm->waiting_rsv, wait_node)
		print_waiters(&r->waiters, r->name, now, out, &shown);
	fprintf(out, "devices:\n");
	if (vm->swap.bd)
		print_device(vm->swap.bd, "swap", now, out, &shown);
	for (unsigned i = 0; i < VM_MAX_REGIONS; i++) {
		const struct vm_region *rg = vm->regions[i];
		bool seen = rg && rg->bd == vm->swap.bd;

		for (unsigned j = 0; rg && !seen && j < i; j++)
			seen = vm->regions[j] && vm->regions[j]->bd == rg->bd;
		if (rg && rg->bd && !seen)
			print_device(rg->bd, "data", now, out, &shown);
	}
	if (shown > WATCHDOG_MAX_WAITERS)
		fprintf(out, "  ... and %u more waiters\n",
			shown - WATCHDOG_MAX_WAITERS);
	vm_print(vm, out);
	if (h->net) {
		fprintf(out, "sockets:\n");
		stats_print_table(&h->stats, out, "sock.");
		stats_print_table(&h->stats, out, "tcp.");
	}
}

/* Waiters grouped by queue and reason, for the short report. */
#define SUMMARY_GROUPS 8

struct waiter_group {
	const char *queue, *what;
	unsigned n;
	uint64_t oldest;
};

static unsigned group_waiters(const struct list_head *h, const char *queue,
			      struct waiter_group *g, unsigned nr,
			      unsigned *other)
{
	const struct mm_waiter *w;

	list_for_each_entry(w, h, node) {
		const char *what = w->what ? w->what : "?";
		unsigned i;

		for (i = 0; i < nr; i++)
			if (g[i].queue == queue && !strcmp(g[i].what, what))
				break;
		if (i == nr) {
			if (nr == SUMMARY_GROUPS) {
				(*other)++;
				continue;
			}
			g[nr++] = (struct waiter_group){ queue, what, 0,
							 w->since };
		}
		g[i].n++;
		if (w->since < g[i].oldest)
			g[i].oldest = w->since;
	}
	return nr;
}

static void summary_device(const struct blkdev *bd, const char *role, FILE *out)
{
	fprintf(out,
		"    %-8s %-5s %lld requests in flight (depth %u), %lld bios waiting for a slot, reserve %s %lld/%lld pages\n",
		bd->name, role, (long long)bd->st.inflight.v,
		bd->lim.queue_depth, (long long)bd->st.waiting.v, bd->rsv.name,
		(long long)bd->rsv.used.v, (long long)bd->rsv.size.v);
}

void vm_watchdog_summary(const struct vm *vm, FILE *out)
{
	const struct mm *mm = vm->mm;
	uint64_t now = host_now(vm->host);
	struct waiter_group g[SUMMARY_GROUPS];
	const struct mm_reserve *r;
	unsigned nr = 0, other = 0;

	fprintf(out,
		"  stuck: %u touches pending and %llu pages under I/O; no page freed, written back or touched for %.1f s\n",
		vm->nr_touches, (unsigned long long)vm_io_in_flight(vm),
		(double)(now - vm->last_progress) / NSEC_PER_SEC);
	fprintf(out,
		"  memory: %lld of %zu pages free (min %lld, low %lld, high %lld), policy %s\n",
		(long long)mm->nr_free.v, mm->nr_pages,
		(long long)mm->wmark_min.v, (long long)mm->wmark_low.v,
		(long long)mm->wmark_high.v, mm_policy_name(mm->policy));
	nr = group_waiters(&mm->waiters, "memory", g, nr, &other);
	list_for_each_entry(r, &mm->waiting_rsv, wait_node)
		nr = group_waiters(&r->waiters, r->name, g, nr, &other);
	if (vm->swap.bd)
		nr = group_waiters(&vm->swap.bd->bio_pool.waiters,
				   vm->swap.bd->bio_pool.name, g, nr, &other);
	fprintf(out, "  waiting (%lld parked on memory):\n",
		(long long)mm->nr_waiting.v);
	if (!nr)
		fprintf(out,
			"    nothing parked: the work waits on I/O that does not complete\n");
	for (unsigned i = 0; i < nr; i++)
		fprintf(out, "    %3u x %-24s on %-18s for %.1f s\n", g[i].n,
			g[i].what, g[i].queue,
			(double)(now - g[i].oldest) / NSEC_PER_SEC);
	if (other)
		fprintf(out, "    %3u more, of other kinds\n", other);
	fprintf(out, "  devices:\n");
	if (vm->swap.bd)
		summary_device(vm->swap.bd, "swap", out);
	for (unsigned i = 0; i < VM_MAX_REGIONS; i++) {
		const struct vm_region *rg = vm->regions[i];
		bool seen = rg && rg->bd == vm->swap.bd;

		for (unsigned j = 0; rg && !seen && j < i; j++)
			seen = vm->regions[j] && vm->regions[j]->bd == rg->bd;
		if (rg && rg->bd && !seen)
			summary_device(rg->bd, "data", out);
	}
	fprintf(out, "  reserves, in pages:\n");
	mm_print_reserves(mm, out);
}

static void watchdog_fire(struct vm_watchdog *wd)
{
	struct vm *vm = wd->vm;

	wd->fired = true;
	host_trace(vm->host, "vm.watchdog",
		   host_now(vm->host) - vm->last_progress, vm->nr_touches,
		   vm_io_in_flight(vm));
	fprintf(wd->out, "host %s: vm watchdog: DEADLOCK\n", vm->host->name);
	vm_watchdog_report(vm, wd->out);
	host_dump(vm->host, wd->out);
	fflush(wd->out);
	if (wd->fn)
		wd->fn(vm, wd->arg);
}

static void watchdog_tick(struct timer *t)
{
	struct vm_watchdog *wd = container_of(t, struct vm_watchdog, timer);
	struct vm *vm = wd->vm;
	uint64_t now = host_now(vm->host);

	if (!work_pending(vm))
		vm->last_progress = now; /* idle is not stuck */
	if (now - vm->last_progress >= wd->timeout_ns) {
		watchdog_fire(wd);
		return;
	}
	timer_arm_in(vm->host->loop, &wd->timer, wd->period_ns);
}

int vm_watchdog_arm(struct vm *vm, uint64_t timeout_ns, FILE *out,
		    vm_watchdog_fn fn, void *arg)
{
	struct vm_watchdog *wd = vm->watchdog;

	if (!timeout_ns)
		return -EINVAL;
	if (!wd) {
		wd = mm_kmalloc(vm->mm, sizeof(*wd), MM_NORMAL | MM_ZERO, NULL);
		if (!wd)
			return -ENOMEM;
		wd->vm = vm;
		timer_init(&wd->timer, watchdog_tick);
		vm->watchdog = wd;
	}
	wd->timeout_ns = timeout_ns;
	wd->period_ns = lb_max(timeout_ns / 4, NSEC_PER_MSEC);
	wd->out = out ? out : stderr;
	wd->fn = fn;
	wd->arg = arg;
	wd->fired = false;
	vm_note_progress(vm);
	timer_arm_in(vm->host->loop, &wd->timer, wd->period_ns);
	return 0;
}

void vm_watchdog_disarm(struct vm *vm)
{
	struct vm_watchdog *wd = vm->watchdog;

	if (!wd)
		return;
	timer_cancel(vm->host->loop, &wd->timer);
	vm->watchdog = NULL;
	mm_kfree(vm->mm, wd);
}

bool vm_watchdog_fired(const struct vm *vm)
{
	return vm->watchdog && vm->watchdog->fired;
}
