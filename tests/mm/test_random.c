// SPDX-License-Identifier: MIT
/*
 * A long seeded mix of allocations and frees across all policies, checking
 * the arena's accounting after every step and each allocation's rules as
 * it happens.
 */
#include <stdlib.h>
#include "mm_fixture.h"
#include "core/prng.h"
#include "mm/mempool.h"
#include "mm/mm_internal.h"
#include "mm/slab.h"

#define NP 256
#define STEPS 20000
#define MAX_LIVE 600

enum kind { K_PAGE, K_OBJ_SMALL, K_OBJ_BIG, K_POOL };

struct item {
	enum kind kind;
	void *ptr;
};

struct world {
	struct fx *f;
	struct mm_reserve rsv[3];
	struct kmem_cache small, big;
	struct mempool pool;
	struct item live[MAX_LIVE];
	unsigned nr_live;
	struct prng rng;
	uint64_t pf_allocs, fails;
};

static void release(struct world *w, unsigned i)
{
	struct item *it = &w->live[i];

	switch (it->kind) {
	case K_PAGE:
		mm_page_put(w->f->mm, virt_to_page(w->f->mm, it->ptr));
		break;
	case K_OBJ_SMALL:
		kmem_cache_free(&w->small, it->ptr);
		break;
	case K_OBJ_BIG:
		kmem_cache_free(&w->big, it->ptr);
		break;
	case K_POOL:
		mempool_free(&w->pool, it->ptr);
		break;
	}
	w->live[i] = w->live[--w->nr_live];
}

static void step(struct world *w)
{
	struct mm *mm = w->f->mm;
	uint64_t r = prng_below(&w->rng, 100);
	struct mm_reserve *rsv = NULL, *charged;
	struct mm_memalloc_ctx ctx = { 0 };
	unsigned flags = MM_NORMAL;
	bool in_ctx = false, memalloc;
	enum kind kind;
	size_t avail_before;
	void *p = NULL;

	if (w->nr_live && (r < 40 || w->nr_live == MAX_LIVE)) {
		release(w, (unsigned)prng_below(&w->rng, w->nr_live));
		return;
	}
	switch (prng_below(&w->rng, 5)) {
	case 0:
		flags = MM_ATOMIC;
		break;
	case 1:
		flags = MM_MEMALLOC;
		break;
	case 2:
		in_ctx = true;
		break;
	case 3:
		flags = MM_MEMALLOC | MM_NOMEMALLOC;
		break;
	}
	if (prng_below(&w->rng, 4))
		rsv = &w->rsv[prng_below(&w->rng, 3)];
	kind = (enum kind)prng_below(&w->rng, 4);
	if (in_ctx)
		ctx = mm_memalloc_save(mm, &w->rsv[0]);
	/* The reserve a memalloc request charges under accounted. */
	charged = rsv ? rsv : in_ctx ? &w->rsv[0] : NULL;
	memalloc = mm_memalloc_allowed(mm, flags);
	avail_before = mm_normal_available(mm);
	switch (kind) {
	case K_PAGE: {
		struct page *pg = mm_page_alloc(mm, flags, rsv);

		p = pg ? page_address(mm, pg) : NULL;
		break;
	}
	case K_OBJ_SMALL:
		p = kmem_cache_alloc(&w->small, flags, rsv);
		break;
	case K_OBJ_BIG:
		p = kmem_cache_alloc(&w->big, flags, rsv);
		break;
	case K_POOL:
		p = mempool_alloc(&w->pool, flags);
		break;
	}
	if (in_ctx)
		mm_memalloc_restore(mm, ctx);

	if (p) {
		struct page *pg = virt_to_page(mm, p);

		if (page_pfmemalloc(pg)) {
			/* Reserve memory only ever reaches memalloc users... */
			assert_true(memalloc);
			assert_int_not_equal(mm->policy, MM_POLICY_NONE);
			/* ...charging the reserve they named. */
			if (mm->policy == MM_POLICY_ACCOUNTED && kind != K_POOL)
				assert_ptr_equal(pg->reserve, charged);
			if (mm->policy == MM_POLICY_MAINLINE)
				assert_ptr_equal(pg->reserve, &mm->root);
			w->pf_allocs++;
		}
		w->live[w->nr_live++] = (struct item){ kind, p };
	} else {
		w->fails++;
		/* A page request fails only when its memory is really gone. */
		if (kind == K_PAGE) {
			assert_int_equal(avail_before, 0);
			if (memalloc && charged &&
			    mm->policy == MM_POLICY_ACCOUNTED)
				assert_int_equal(mm_reserve_room(charged), 0);
		}
	}
	/* A normal request that succeeded did not dig into the reserve. */
	if (p && kind == K_PAGE && !memalloc && mm->policy != MM_POLICY_NONE)
		assert_true(mm->nr_free.v >= (int64_t)mm_floor(mm));
}

static void run_policy(enum mm_policy policy, uint64_t seed)
{
	struct world *w = calloc(1, sizeof(*w));
	struct mm *mm;

	w->f = fx_new(NP, policy);
	mm = w->f->mm;
	prng_seed(&w->rng, seed);
	assert_int_equal(mm_reserve_add(mm, &w->rsv[0], NULL, "a", 8), 0);
	assert_int_equal(mm_reserve_add(mm, &w->rsv[1], NULL, "b", 4), 0);
	assert_int_equal(mm_reserve_add(mm, &w->rsv[2], &w->rsv[1], "b.c", 4),
			 0);
	kmem_cache_init(&w->small, mm, "small", 64, 0);
	kmem_cache_init(&w->big, mm, "big", 1024, 0);
	assert_int_equal(
		mempool_init_slab(&w->pool, &w->big, "pool", 4, &w->rsv[1]), 0);
	for (int i = 0; i < STEPS; i++) {
		step(w);
		mm_check(mm);
	}
	while (w->nr_live)
		release(w, w->nr_live - 1);
	mempool_destroy(&w->pool);
	kmem_cache_destroy(&w->big);
	kmem_cache_destroy(&w->small);
	/* Everything went back: no reserve charge, no page leaked. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(w->rsv[i].used.v, 0);
	assert_int_equal(mm->root.used.v, 0);
	assert_int_equal(mm->nr_free.v, NP);
	/* The run actually reached the reserve and its limits. */
	if (policy != MM_POLICY_NONE)
		assert_true(w->pf_allocs > 0);
	assert_true(w->fails > 0);
	mm_reserve_remove(&w->rsv[2]);
	mm_reserve_remove(&w->rsv[1]);
	mm_reserve_remove(&w->rsv[0]);
	fx_free(w->f);
	free(w);
}

static void test_random_mix_all_policies(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_policies); i++)
		for (uint64_t seed = 1; seed <= 3; seed++)
			run_policy(all_policies[i], seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_mix_all_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
