// SPDX-License-Identifier: MIT
/*
 * host.c - creation, destruction and dumping of a host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define HOST_STATS_DEFAULT 4096
#define HOST_TRACE_DEFAULT 4096
/* Enough history to explain a failure without burying the message. */
#define HOST_PANIC_TRACE_MAX 64

static void host_panic(struct panic_hook *hook, FILE *out)
{
	struct host *h = container_of(hook, struct host, panic);

	fprintf(out, "host %s: trace ring\n", h->name);
	trace_dump(&h->trace, out, HOST_PANIC_TRACE_MAX);
	fprintf(out, "host %s: stats\n", h->name);
	stats_print_table(&h->stats, out, "");
}

struct host *host_create(struct loop *loop, const struct host_config *cfg)
{
	static const struct host_config defaults = { .log_level = LOG_INFO };
	struct host *h;
	int ret;

	if (!loop) {
		errno = EINVAL;
		return NULL;
	}
	if (!cfg)
		cfg = &defaults;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;

	snprintf(h->name, sizeof(h->name), "%s",
		 cfg->name ? cfg->name : "host");
	h->seed = cfg->seed;
	h->loop = loop;
	prng_seed(&h->prng, cfg->seed);
	log_init(&h->log, h->name, loop);
	h->log.level = cfg->log_level;

	ret = stats_init(&h->stats, cfg->stats_capacity ? cfg->stats_capacity :
							  HOST_STATS_DEFAULT);
	if (ret)
		goto err_free;
	ret = trace_init(&h->trace, cfg->trace_capacity ? cfg->trace_capacity :
							  HOST_TRACE_DEFAULT);
	if (ret)
		goto err_stats;

	h->panic.fn = host_panic;
	lb_panic_hook_add(&h->panic);
	return h;

err_stats:
	stats_destroy(&h->stats);
err_free:
	free(h);
	errno = -ret;
	return NULL;
}

void host_destroy(struct host *h)
{
	if (!h)
		return;
	lb_panic_hook_del(&h->panic);
	trace_destroy(&h->trace);
	stats_destroy(&h->stats);
	free(h);
}

void host_dump(const struct host *h, FILE *out)
{
	uint64_t now = host_now(h);

	fprintf(out, "host %s at %llu.%09llu: trace ring\n", h->name,
		(unsigned long long)(now / NSEC_PER_SEC),
		(unsigned long long)(now % NSEC_PER_SEC));
	trace_dump(&h->trace, out, 0);
	fprintf(out, "host %s: stats\n", h->name);
	stats_print_table(&h->stats, out, "");
}
