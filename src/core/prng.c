// SPDX-License-Identifier: MIT
/*
 * prng.c - xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 */
#include "prng.h"

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * splitmix64 turns any 64-bit seed, including 0 and small consecutive
 * integers, into well-mixed state words; xoshiro must never see an all-zero
 * state.
 */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void seed_from(struct prng *p, uint64_t x)
{
	int i;

	for (i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
	if (!(p->s[0] | p->s[1] | p->s[2] | p->s[3]))
		p->s[0] = 1;
}

void prng_seed(struct prng *p, uint64_t seed)
{
	seed_from(p, seed);
}

void prng_fork(const struct prng *p, struct prng *out, uint64_t salt)
{
	uint64_t x = salt;
	int i;

	/*
	 * Every state word goes through the mixer so that forks with
	 * neighbouring salts, or of neighbouring parent states, share no
	 * visible structure with each other or with the parent's stream.
	 */
	for (i = 0; i < 4; i++) {
		x ^= p->s[i];
		x = splitmix64(&x);
	}
	seed_from(out, x);
}

uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Lemire's multiply-and-reject: unbiased, and rarely draws twice. */
uint64_t prng_below(struct prng *p, uint64_t bound)
{
	unsigned __int128 m;
	uint64_t lo, threshold;

	if (bound <= 1)
		return 0;
	m = (unsigned __int128)prng_next(p) * bound;
	lo = (uint64_t)m;
	if (lo < bound) {
		threshold = -bound % bound;
		while (lo < threshold) {
			m = (unsigned __int128)prng_next(p) * bound;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double prng_double(struct prng *p)
{
	return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

bool prng_chance(struct prng *p, double p_true)
{
	/* Written so that NaN counts as 0: no draw, no surprise. */
	if (!(p_true > 0.0))
		return false;
	if (p_true >= 1.0)
		return true;
	return prng_double(p) < p_true;
}
