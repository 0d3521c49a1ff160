/* SPDX-License-Identifier: MIT */
/*
 * bench.h - benchmarks of `lifeboat bench` that live in their own file.
 */
#ifndef LB_TOOLS_BENCH_H
#define LB_TOOLS_BENCH_H

/*
 * Write-back goodput through the pager over NBD, on the simulated wire
 * (virtual time) and on a pair wire to a `lifeboat serve` child (real
 * time), with no memory pressure and with free memory held at the
 * reserve; then the reserve's high-water mark per policy.  Prints BENCH
 * lines (bench_writeback.c).
 */
void bench_writeback(void);

#endif
