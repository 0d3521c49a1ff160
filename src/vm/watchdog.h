/* SPDX-License-Identifier: MIT */
/*
 * watchdog.h - declaring a deadlock when the pager stops moving.
 *
 * Progress is a page freed, written back or touched.  When none happens for
 * the timeout (on the loop's clock: virtual in simulations and tests, real
 * otherwise) while touches are pending or I/O is in flight, the watchdog
 * fires once: it prints why (free pages and watermarks, every reserve's
 * size, use and high-water mark, each parked waiter and what it waits for,
 * the requests in flight per device, the socket counters when the host has
 * a network stack), dumps the trace ring and the stats (host_dump), records
 * the event and calls the owner back.  The `lifeboat` tool exits 3 there.
 *
 * While armed it keeps a timer (a check every quarter of the timeout), so
 * a virtual loop never runs dry: disarm it when the work is done.
 *
 * Memory: the watchdog is a few words from the arena taken when it is
 * armed (start-up); checking and reporting allocate nothing.
 */
#ifndef LB_VM_WATCHDOG_H
#define LB_VM_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "vm.h"

typedef void (*vm_watchdog_fn)(struct vm *vm, void *arg);

/*
 * Arm (or re-arm with new settings) the watchdog of @vm: fire after
 * @timeout_ns without progress; report to @out (stderr if NULL), then call
 * @fn(@vm, @arg) if set.  0, -EINVAL, -ENOMEM.
 */
int vm_watchdog_arm(struct vm *vm, uint64_t timeout_ns, FILE *out,
		    vm_watchdog_fn fn, void *arg);
void vm_watchdog_disarm(struct vm *vm);
/* True once the armed watchdog has fired (until disarmed). */
bool vm_watchdog_fired(const struct vm *vm);
/* The deadlock report without the trace dump: on request, or when firing. */
void vm_watchdog_report(const struct vm *vm, FILE *out);
/*
 * The same in a few lines a person reads: what is stuck and for how long,
 * free memory against the watermarks, the parked waiters grouped by queue
 * and reason, one line per device, and the reserve tree.  Allocates
 * nothing (the groups are on the stack; a few kinds at most).
 */
void vm_watchdog_summary(const struct vm *vm, FILE *out);

#endif
