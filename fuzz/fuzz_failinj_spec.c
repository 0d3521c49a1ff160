// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the failure-injection spec parser, then a burst of
 * allocations under whatever spec was accepted.  The spec arrives from the
 * command line (lifeboat sim --faults), so it is untrusted input.
 */
#include <stdint.h>
#include <string.h>
#include "core/host.h"
#include "mm/mm.h"
#include "mm/slab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_config hc = { .name = "fuzz",
				  .seed = 1,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = 32, .track_sites = true };
	struct page *pages[40];
	char spec[300];
	struct loop loop;
	struct host *h;
	struct mm *mm;
	size_t n = 0;

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	loop_init(&loop, LOOP_VIRTUAL);
	h = host_create(&loop, &hc);
	mm = mm_create(h, &mc);
	if (mm_failinj_set(mm, spec) == 0) {
		for (int i = 0; i < 40; i++) {
			struct page *p = mm_page_alloc(mm, MM_NORMAL, NULL);

			if (p)
				pages[n++] = p;
		}
		while (n)
			mm_page_put(mm, pages[--n]);
	}
	mm_check(mm);
	mm_destroy(mm);
	host_destroy(h);
	loop_destroy(&loop);
	return 0;
}
