// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include "mm/slab.h"
#include "net_fixture.h"

struct nf *nf_new(const struct sim_link_config *cfg, uint64_t seed)
{
	struct nf *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(loop_init(&w->loop, LOOP_VIRTUAL), 0);
	sim_link_init(&w->link, &w->loop, seed, cfg);
	return w;
}

struct nf_host *nf_add_host(struct nf *w, size_t pages, enum mm_policy policy)
{
	return nf_add_host_mtu(w, pages, policy, 0);
}

struct nf_host *nf_add_host_mtu(struct nf *w, size_t pages,
				enum mm_policy policy, unsigned mtu)
{
	struct nf_host *h = &w->h[w->nr];
	struct host_config hc = { .seed = 100 + w->nr, .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = pages, .policy = policy };
	char name[16];

	assert_true(w->nr < NF_MAX_HOSTS);
	snprintf(name, sizeof(name), "h%u", w->nr);
	hc.name = name;
	h->host = host_create(&w->loop, &hc);
	assert_non_null(h->host);
	h->mm = mm_create(h->host, &mc);
	assert_non_null(h->mm);
	h->net = net_create(h->host, NULL);
	assert_non_null(h->net);
	h->dev.mtu = mtu;
	assert_int_equal(dev_sim_init(&h->dev, &w->link), 0);
	assert_int_equal(netdev_register(h->net, &h->dev), 0);
	h->ip = htonl(0xc0000201u + w->nr); /* 192.0.2.(n+1) */
	h->dev.ip = h->ip;
	h->dev.netmask = htonl(0xffffff00u);
	w->nr++;
	return h;
}

void nf_free(struct nf *w)
{
	for (unsigned i = 0; i < w->nr; i++) {
		struct nf_host *h = &w->h[i];

		nf_release_objects(h);
		net_destroy(h->net);
		mm_check(h->mm);
		mm_destroy(h->mm);
		host_destroy(h->host);
	}
	sim_link_destroy(&w->link);
	loop_destroy(&w->loop);
	free(w);
}

void nf_run_for(struct nf *w, uint64_t ns)
{
	loop_run_until(&w->loop, loop_now(&w->loop) + ns);
}

static void drain_cache(struct nf_host *h, struct kmem_cache *c)
{
	void *o;

	while ((o = kmem_cache_alloc(c, MM_ATOMIC | MM_NOMEMALLOC, NULL))) {
		h->objs = realloc(h->objs, (h->nr_objs + 1) * sizeof(void *));
		h->objs[h->nr_objs++] = o;
	}
}

size_t nf_exhaust(struct nf_host *h, struct page **hold, size_t max)
{
	size_t n = 0;

	while (n < max) {
		struct page *p = mm_page_alloc(h->mm, MM_ATOMIC, NULL);

		if (!p)
			break;
		hold[n++] = p;
	}
	drain_cache(h, &h->net->netbuf_cache);
	drain_cache(h, &h->net->sock_cache);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		drain_cache(h, h->mm->kmalloc[i]);
	return n;
}

void nf_release_objects(struct nf_host *h)
{
	while (h->nr_objs) {
		void *o = h->objs[--h->nr_objs];

		kmem_cache_free(kmem_obj_cache(h->mm, o), o);
	}
	free(h->objs);
	h->objs = NULL;
}

void nf_release(struct nf_host *h, struct page **hold, size_t *held, size_t n)
{
	while (n-- && *held)
		mm_page_put(h->mm, hold[--*held]);
}

int64_t nf_stat(struct nf_host *h, const char *name)
{
	int64_t v = -1;

	if (stats_get(&h->host->stats, name, &v))
		fail_msg("no statistic %s", name);
	return v;
}

/* ---- counters ------------------------------------------------------------ */

static const char *const nf_stat_names[] = {
#define STAT_NAME(name) #name,
	NET_STATS(STAT_NAME)
#undef STAT_NAME
};

_Static_assert(ARRAY_SIZE(nf_stat_names) == NF_NET_STATS, "one name a counter");

void nf_snap(struct nf_host *h, uint64_t *v)
{
	const struct counter *c = (const struct counter *)&h->net->st;

	for (size_t i = 0; i < NF_NET_STATS; i++)
		v[i] = c[i].v;
}

void nf_expect_moved(struct nf_host *h, const uint64_t *before,
		     const char *const *names, const char *what)
{
	uint64_t now[NF_NET_STATS];

	nf_snap(h, now);
	for (size_t i = 0; i < NF_NET_STATS; i++) {
		uint64_t want = 0;

		for (const char *const *n = names; *n; n++)
			want += !strcmp(*n, nf_stat_names[i]);
		if (now[i] - before[i] != want)
			fail_msg("%s: net.%s moved by %llu, expected %llu",
				 what, nf_stat_names[i],
				 (unsigned long long)(now[i] - before[i]),
				 (unsigned long long)want);
	}
}
