/* SPDX-License-Identifier: MIT */
/*
 * pattern.h - self-describing page contents for data-integrity checks.
 *
 * A page written by a workload holds a header (magic, region, index,
 * version, checksum of the body) and a body generated deterministically
 * from (region, index, version).  Reading it back and checking it against
 * the version the workload expects tells a lost write (stale version), a
 * misdirected one (another page's content) and a corrupted one (checksum
 * or body) apart.  Version 0 means never written: an all-zero page.
 *
 * No memory: both functions work on the caller's 4 KiB.
 */
#ifndef LB_VM_PATTERN_H
#define LB_VM_PATTERN_H

#include <stdint.h>

enum vm_pattern_result {
	VM_PATTERN_OK,
	VM_PATTERN_STALE, /* this page, another version */
	VM_PATTERN_MISPLACED, /* another page's content */
	VM_PATTERN_CORRUPT, /* bad header, checksum or body */
	VM_PATTERN_NOT_ZERO, /* version 0 expected, something written */
};

const char *vm_pattern_result_name(enum vm_pattern_result r);

void vm_pattern_fill(void *page, uint32_t region, uint64_t index,
		     uint32_t version);
/* On STALE or MISPLACED, *found_version is what the page holds. */
enum vm_pattern_result vm_pattern_check(const void *page, uint32_t region,
					uint64_t index, uint32_t version,
					uint32_t *found_version);

#endif
