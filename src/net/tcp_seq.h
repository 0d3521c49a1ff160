/* SPDX-License-Identifier: MIT */
/*
 * tcp_seq.h - TCP sequence numbers: 32-bit values compared modulo 2^32
 * (RFC 9293 §3.4).  Every comparison of sequence or acknowledgment numbers
 * goes through these helpers; plain < on them is a bug.
 */
#ifndef LB_NET_TCP_SEQ_H
#define LB_NET_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t tcp_seq_t;

static inline bool seq_lt(tcp_seq_t a, tcp_seq_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_leq(tcp_seq_t a, tcp_seq_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(tcp_seq_t a, tcp_seq_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_geq(tcp_seq_t a, tcp_seq_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* lo <= s < hi */
static inline bool seq_in(tcp_seq_t s, tcp_seq_t lo, tcp_seq_t hi)
{
	return seq_geq(s, lo) && seq_lt(s, hi);
}

static inline tcp_seq_t seq_max(tcp_seq_t a, tcp_seq_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline tcp_seq_t seq_min(tcp_seq_t a, tcp_seq_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
