/* SPDX-License-Identifier: MIT */
/*
 * prng.h - seeded pseudo-random numbers (xoshiro256**, seeded by splitmix64).
 *
 * Every random decision of a host draws from a prng derived from the host's
 * seed, so one seed gives one outcome.  prng_fork() derives an independent
 * stream (e.g. for fault injection) so that adding draws to one consumer
 * does not shift another's sequence.
 */
#ifndef LB_CORE_PRNG_H
#define LB_CORE_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct prng {
	uint64_t s[4];
};

void prng_seed(struct prng *p, uint64_t seed);
/* A new stream derived from @p's seed material and @salt; @p is unchanged. */
void prng_fork(const struct prng *p, struct prng *out, uint64_t salt);
uint64_t prng_next(struct prng *p);
/* Uniform in [0, bound), bound > 0, without modulo bias. */
uint64_t prng_below(struct prng *p, uint64_t bound);
/* Uniform in [0, 1). */
double prng_double(struct prng *p);
/* True with probability @p_true (clamped to [0, 1]). */
bool prng_chance(struct prng *p, double p_true);

#endif
