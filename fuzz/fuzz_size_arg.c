// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the command-line number parsers (--memory 64M,
 * --seed N, --loss 0.03).  Whatever they accept must round-trip sanely.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "core/assert.h"
#include "tools/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], back[32];
	uint64_t v, again;
	double d;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (parse_u64(s, &v) == 0) {
		/* Only digits are accepted, and the value round-trips. */
		LB_ASSERT(strspn(s, "0123456789") == strlen(s));
		snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
		LB_ASSERT(parse_u64(back, &again) == 0 && again == v);
	}
	if (parse_size(s, &v) == 0)
		LB_ASSERT(s[0] >= '0' && s[0] <= '9');
	parse_double(s, &d);
	return 0;
}
