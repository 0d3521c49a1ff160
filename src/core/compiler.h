/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - small language helpers shared by every layer.
 *
 * Nothing here allocates or keeps state.
 */
#ifndef LB_CORE_COMPILER_H
#define LB_CORE_COMPILER_H

#include <stddef.h>
#include <stdint.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#define lb_min(a, b) ((a) < (b) ? (a) : (b))
#define lb_max(a, b) ((a) > (b) ? (a) : (b))

#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))

#define lb_printf_fmt(fmt_idx, arg_idx) \
	__attribute__((format(printf, fmt_idx, arg_idx)))
#define lb_noreturn __attribute__((noreturn))
#define lb_unused __attribute__((unused))

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull

#endif
