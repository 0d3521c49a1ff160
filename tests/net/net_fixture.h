/* SPDX-License-Identifier: MIT */
/* net_fixture.h - hosts with stacks on a simulated switch, for tests. */
#ifndef LB_TESTS_NET_FIXTURE_H
#define LB_TESTS_NET_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/host.h"
#include "dev/sim.h"
#include "mm/mm.h"
#include "net/net.h"
#include "net/sock.h"

#define NF_MAX_HOSTS 4

struct nf_host {
	void **objs; /* cache objects held by nf_exhaust */
	size_t nr_objs;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
	uint32_t ip;
};

struct nf {
	struct loop loop;
	struct sim_link link;
	struct nf_host h[NF_MAX_HOSTS];
	unsigned nr;
};

/* A world on one virtual loop with @cfg for the link (NULL: defaults). */
struct nf *nf_new(const struct sim_link_config *cfg, uint64_t seed);
/* Host 192.0.2.(n+1)/24 with @pages of RAM under @policy. */
struct nf_host *nf_add_host(struct nf *w, size_t pages, enum mm_policy policy);
/* The same with a wire MTU of @mtu (0: the sim wire's default, 1500). */
struct nf_host *nf_add_host_mtu(struct nf *w, size_t pages,
				enum mm_policy policy, unsigned mtu);
void nf_free(struct nf *w);
/* Run virtual time forward by @ns. */
void nf_run_for(struct nf *w, uint64_t ns);
/*
 * Take every normal page of @h and every free object of its caches, so
 * that no normal allocation can succeed (returns the pages taken); and
 * give back @n pages (nf_release) or everything (nf_release_all).
 */
size_t nf_exhaust(struct nf_host *h, struct page **hold, size_t max);
/* Give back the last @n of the *@held pages in @hold. */
void nf_release(struct nf_host *h, struct page **hold, size_t *held, size_t n);
void nf_release_objects(struct nf_host *h);
int64_t nf_stat(struct nf_host *h, const char *name);

/* The net.* counters of @h, all at once; and checking which moved. */
#define NF_NET_STATS (sizeof(struct net_stats) / sizeof(struct counter))
void nf_snap(struct nf_host *h, uint64_t *v);
/*
 * Since @before, exactly the counters named in @names (NULL-terminated; a
 * name may repeat) moved, each by how often it is named.
 */
void nf_expect_moved(struct nf_host *h, const uint64_t *before,
		     const char *const *names, const char *what);

#endif
