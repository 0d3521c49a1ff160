// SPDX-License-Identifier: MIT
/*
 * pattern.c - generating and checking workload page contents.
 */
#include <string.h>
#include "mm/mm.h"
#include "pattern.h"

#define VM_PATTERN_MAGIC 0x6c696665626f6174ull /* "lifeboat" */

struct vm_pattern_hdr {
	uint64_t magic;
	uint32_t region, version;
	uint64_t index;
	uint64_t checksum;
};

#define BODY_WORDS ((PAGE_SIZE - sizeof(struct vm_pattern_hdr)) / 8)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t seed_of(uint32_t region, uint64_t index, uint32_t version)
{
	return mix(mix(((uint64_t)region << 32) | version) ^ index);
}

const char *vm_pattern_result_name(enum vm_pattern_result r)
{
	static const char *const names[] = {
		[VM_PATTERN_OK] = "ok",
		[VM_PATTERN_STALE] = "stale",
		[VM_PATTERN_MISPLACED] = "misplaced",
		[VM_PATTERN_CORRUPT] = "corrupt",
		[VM_PATTERN_NOT_ZERO] = "not zero",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

void vm_pattern_fill(void *page, uint32_t region, uint64_t index,
		     uint32_t version)
{
	struct vm_pattern_hdr *h = page;
	uint64_t *body = (uint64_t *)(h + 1),
		 x = seed_of(region, index, version);
	uint64_t sum = 0;

	for (size_t i = 0; i < BODY_WORDS; i++) {
		x += 0x9e3779b97f4a7c15ull;
		body[i] = mix(x);
		sum = mix(sum ^ body[i]);
	}
	h->magic = VM_PATTERN_MAGIC;
	h->region = region;
	h->version = version;
	h->index = index;
	h->checksum = sum;
}

static enum vm_pattern_result check_zero(const void *page)
{
	const uint64_t *w = page;

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i])
			return VM_PATTERN_NOT_ZERO;
	return VM_PATTERN_OK;
}

enum vm_pattern_result vm_pattern_check(const void *page, uint32_t region,
					uint64_t index, uint32_t version,
					uint32_t *found_version)
{
	const struct vm_pattern_hdr *h = page;
	const uint64_t *body = (const uint64_t *)(h + 1);
	uint64_t x, sum = 0;
	bool body_ok = true;

	*found_version = h->magic == VM_PATTERN_MAGIC ? h->version : 0;
	if (!version)
		return check_zero(page);
	if (h->magic != VM_PATTERN_MAGIC)
		return VM_PATTERN_CORRUPT;
	for (size_t i = 0; i < BODY_WORDS; i++)
		sum = mix(sum ^ body[i]);
	if (sum != h->checksum)
		return VM_PATTERN_CORRUPT;
	if (h->region != region || h->index != index)
		return VM_PATTERN_MISPLACED;
	if (h->version != version)
		return VM_PATTERN_STALE;
	x = seed_of(region, index, version);
	for (size_t i = 0; i < BODY_WORDS && body_ok; i++) {
		x += 0x9e3779b97f4a7c15ull;
		body_ok = body[i] == mix(x);
	}
	return body_ok ? VM_PATTERN_OK : VM_PATTERN_CORRUPT;
}
