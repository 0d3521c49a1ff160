/* SPDX-License-Identifier: MIT */
/*
 * faults.h - a world's fault schedule, drawn from its seed.
 *
 * Kinds:
 *  loss, dup, reorder, corrupt  a light base rate for the whole run plus
 *                               bursts of a higher one (per frame, on the
 *                               switch); corruption only where a checksum
 *                               can catch it (TCP: NBD worlds; AoE has no
 *                               checksum of its own, the FCS the simulator
 *                               does not model would have dropped it)
 *  latency     spikes of the one-way latency (x10 .. x200)
 *  partition   the switch drops everything, then heals
 *  stall       the server holds every request, then answers
 *  restart     the server crashes and comes back on the same store
 *  flood       an extra UDP and TCP flood at the client starts and stops
 *  alloc       allocations of the client fail at random sites (a window
 *              with a failure probability)
 *
 * Outages (partition, stall, restart) never overlap and are at most
 * FAULT_OUTAGE_MAX_NS long, each followed by a quiet gap, so a device is
 * never declared dead (the clients give up after 60 s): the checker may
 * then require that no I/O fails at all.
 *
 * The schedule is plain data; scenario.c applies it to a world.
 */
#ifndef LB_SIM_FAULTS_H
#define LB_SIM_FAULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum fault_kind {
	FK_LOSS,
	FK_DUP,
	FK_REORDER,
	FK_CORRUPT,
	FK_LATENCY,
	FK_PARTITION,
	FK_STALL,
	FK_RESTART,
	FK_FLOOD,
	FK_ALLOC,
	FK_NR,
};

#define FAULT_ALL ((1u << FK_NR) - 1)
#define FAULT_EVENTS_MAX 24
#define FAULT_OUTAGE_MAX_NS 3000000000ull /* 3 s */

const char *fault_kind_name(enum fault_kind k);
/*
 * "all", "none" or a comma list of kind names into a mask.  0, or -EINVAL
 * with the first bad name copied into @bad (when not NULL).
 */
int faults_parse(const char *list, unsigned *mask, char *bad, size_t badlen);
/* The mask as a comma list ("none" when empty). */
void faults_format(unsigned mask, char *buf, size_t len);

struct fault_event {
	enum fault_kind kind;
	uint64_t at_ns, dur_ns;
	double p; /* loss..corrupt, alloc: the burst's probability */
	unsigned factor; /* latency: the multiplier */
};

struct fault_schedule {
	unsigned mask;
	double base[FK_CORRUPT + 1]; /* per-frame rates for the whole run */
	struct fault_event ev[FAULT_EVENTS_MAX]; /* sorted by at_ns */
	unsigned nr;
	uint64_t outage_ns; /* total time of partitions, stalls and restarts */
	/*
	 * AoE worlds: the target behaves like vblade (one request at a time,
	 * 16 queued and the rest dropped, FLUSH CACHE EXT rejected).  Drawn
	 * last, so the events above are those of the same seed before.
	 */
	bool vblade;
};

/*
 * Draw the schedule of @seed for the kinds in @mask, with events starting
 * within @horizon_ns of virtual time.  Pure: one seed, one schedule.
 */
void fault_schedule_draw(struct fault_schedule *fs, uint64_t seed,
			 unsigned mask, uint64_t horizon_ns);
/*
 * The virtual time the world may take: @clean_ns (the scenario's budget
 * without faults) scaled for the loss it suffers, plus every outage and a
 * recovery allowance per disruptive event.
 */
uint64_t fault_schedule_bound(const struct fault_schedule *fs,
			      uint64_t clean_ns);
/* One line per event, for a failure report. */
void fault_schedule_print(const struct fault_schedule *fs, FILE *out);

#endif
