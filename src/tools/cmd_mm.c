// SPDX-License-Identifier: MIT
/*
 * cmd_mm.c - `lifeboat mm`: the emergency the project exists for, played
 * on the memory manager alone, under each policy.
 *
 * An application fills normal memory; a flood of unrelated frames is then
 * received into the reserve (memalloc, charging net.rx, as the receive
 * path must before it knows the socket); finally write-back needs its
 * pages (memalloc, charging block.<dev>) to free memory.  Under `none` and
 * `mainline` the flood can leave write-back nothing; under `accounted` it
 * can exhaust only net.rx.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "core/host.h"
#include "mm/mm.h"

struct mm_demo {
	size_t app, flood, writeback;
	size_t wb_needed;
	bool survived;
};

/* Allocate pages until failure, chaining them through page->private. */
static size_t grab(struct mm *mm, unsigned flags, struct mm_reserve *rsv,
		   size_t max, struct page **chain)
{
	size_t n = 0;

	while (n < max) {
		struct page *p = mm_page_alloc(mm, flags, rsv);

		if (!p)
			break;
		p->private = (uint64_t)(uintptr_t)*chain;
		*chain = p;
		n++;
	}
	return n;
}

static void release(struct mm *mm, struct page *chain)
{
	while (chain) {
		struct page *next = (struct page *)(uintptr_t)chain->private;

		mm_page_put(mm, chain);
		chain = next;
	}
}

enum stats_format { STATS_NONE, STATS_TABLE, STATS_JSON };

static int run_policy(enum mm_policy policy, uint64_t pages, uint64_t seed,
		      bool verbose, enum stats_format stats, struct mm_demo *d)
{
	struct host_config hc = { .name = "mm",
				  .seed = seed,
				  .log_level = LOG_WARN };
	struct mm_config mc = { .nr_pages = pages, .policy = policy };
	struct mm_reserve rx, wb;
	struct page *chain = NULL;
	struct mm_memalloc_ctx ctx;
	struct loop loop;
	struct host *h;
	struct mm *mm;
	int err = 1;

	memset(d, 0, sizeof(*d));
	if (loop_init(&loop, LOOP_VIRTUAL))
		return 1;
	h = host_create(&loop, &hc);
	mm = h ? mm_create(h, &mc) : NULL;
	if (!mm)
		goto out;
	/* Sizes a real run computes from the wire and the queue depth. */
	d->wb_needed = lb_max(pages / 64, (uint64_t)4);
	if (mm_reserve_add(mm, &rx, NULL, "net.rx", d->wb_needed * 2) ||
	    mm_reserve_add(mm, &wb, NULL, "block.demo", d->wb_needed))
		goto out_mm;

	d->app = grab(mm, MM_NORMAL, NULL, SIZE_MAX, &chain);
	ctx = mm_memalloc_save(mm, &rx);
	d->flood = grab(mm, MM_ATOMIC, NULL, SIZE_MAX, &chain);
	mm_memalloc_restore(mm, ctx);
	ctx = mm_memalloc_save(mm, &wb);
	d->writeback = grab(mm, MM_ATOMIC, NULL, d->wb_needed, &chain);
	mm_memalloc_restore(mm, ctx);
	d->survived = d->writeback == d->wb_needed;
	mm_check(mm);
	if (verbose) {
		printf("\n-- policy %s, at the moment write-back asked --\n",
		       mm_policy_name(policy));
		mm_print(mm, stdout);
	}
	if (stats == STATS_TABLE)
		stats_print_table(&h->stats, stdout, "mm.");
	else if (stats == STATS_JSON)
		stats_print_json(&h->stats, stdout, "mm.");
	release(mm, chain);
	mm_check(mm);
	mm_reserve_remove(&wb);
	mm_reserve_remove(&rx);
	err = 0;
out_mm:
	mm_destroy(mm);
out:
	host_destroy(h);
	loop_destroy(&loop);
	return err;
}

static void mm_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat mm [--memory SIZE] [--policy none|mainline|accounted|all]\n"
		"                   [--seed N] [--verbose] [--stats table|json]\n"
		"\n"
		"Plays the network-storage emergency on the memory manager alone:\n"
		"an application fills normal memory, a flood of unrelated frames is\n"
		"received into the reserve, then write-back asks for the pages it\n"
		"needs to free memory.  Prints, per policy, who got what;\n"
		"--stats also prints the host's mm statistics at that moment.\n"
		"Default: --memory 16M --policy all.\n");
}

int cmd_mm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const enum mm_policy order[] = { MM_POLICY_NONE,
						MM_POLICY_MAINLINE,
						MM_POLICY_ACCOUNTED };
	uint64_t bytes = 16 << 20, seed = 1;
	enum mm_policy only = MM_POLICY_ACCOUNTED;
	bool all = true, verbose = false;
	enum stats_format stats = STATS_NONE;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_size(optarg, &bytes) ||
			    bytes < 64 * PAGE_SIZE)
				return usage_error(
					"mm",
					"--memory needs a size of at least 256K, not '%s'",
					optarg);
			break;
		case 'p':
			all = !strcmp(optarg, "all");
			if (!all && mm_policy_parse(optarg, &only))
				return usage_error(
					"mm",
					"--policy takes none, mainline, accounted or all, not '%s'",
					optarg);
			break;
		case 's':
			if (parse_u64(optarg, &seed))
				return usage_error("mm", "bad --seed '%s'",
						   optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			if (!strcmp(optarg, "table"))
				stats = STATS_TABLE;
			else if (!strcmp(optarg, "json"))
				stats = STATS_JSON;
			else
				return usage_error(
					"mm",
					"--stats takes table or json, not '%s'",
					optarg);
			break;
		case 'h':
			mm_help(stdout);
			return 0;
		default:
			return usage_error("mm", "bad arguments");
		}
	}
	if (optind < argc)
		return usage_error("mm", "unexpected argument '%s'",
				   argv[optind]);

	printf("%-10s %10s %12s %16s  %s\n", "policy", "app pages",
	       "flood pages", "write-back got", "outcome");
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum mm_policy p = order[i];
		struct mm_demo d;

		if (!all && p != only)
			continue;
		if (run_policy(p, bytes / PAGE_SIZE, seed, verbose, stats, &d))
			return 1;
		printf("%-10s %10zu %12zu %10zu/%-5zu  %s\n", mm_policy_name(p),
		       d.app, d.flood, d.writeback, d.wb_needed,
		       d.survived ? "write-back proceeds" :
				    "write-back starved: deadlock");
	}
	return 0;
}
