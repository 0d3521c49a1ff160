/* SPDX-License-Identifier: MIT */
/*
 * hostopts.h - the options every network command shares (--wire, --ip,
 * --gw, --mac, --memory, --policy, --seed, --pcap, --log, --mlock) and
 * building a real-time host from them.
 *
 * The host runs until SIGINT or SIGTERM, taken through a signalfd on its
 * loop (no handler, no global flag).
 */
#ifndef LB_TOOLS_HOSTOPTS_H
#define LB_TOOLS_HOSTOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/host.h"
#include "mm/mm.h"
#include "net/net.h"

#define HOSTOPT_BASE 0x1000
enum {
	HOSTOPT_WIRE = HOSTOPT_BASE,
	HOSTOPT_IP,
	HOSTOPT_GW,
	HOSTOPT_MAC,
	HOSTOPT_MEMORY,
	HOSTOPT_POLICY,
	HOSTOPT_SEED,
	HOSTOPT_PCAP,
	HOSTOPT_LOG,
	HOSTOPT_MLOCK,
};

#define HOSTOPT_LONGOPTS                                               \
	{ "wire", required_argument, NULL, HOSTOPT_WIRE },             \
		{ "ip", required_argument, NULL, HOSTOPT_IP },         \
		{ "gw", required_argument, NULL, HOSTOPT_GW },         \
		{ "mac", required_argument, NULL, HOSTOPT_MAC },       \
		{ "memory", required_argument, NULL, HOSTOPT_MEMORY }, \
		{ "policy", required_argument, NULL, HOSTOPT_POLICY }, \
		{ "seed", required_argument, NULL, HOSTOPT_SEED },     \
		{ "pcap", required_argument, NULL, HOSTOPT_PCAP },     \
		{ "log", required_argument, NULL, HOSTOPT_LOG },       \
	{                                                              \
		"mlock", no_argument, NULL, HOSTOPT_MLOCK              \
	}

#define HOSTOPT_HELP                                                                       \
	"  --wire WIRE         pair:FD | udp:LPORT@HOST:PORT | tap:NAME | packet:IFNAME\n" \
	"  --ip ADDR/LEN       the host's IPv4 address and prefix length\n"                \
	"  --gw ADDR           default gateway\n"                                          \
	"  --mac MAC           the host's MAC (default: derived from the wire)\n"          \
	"  --memory SIZE       the host's RAM (default 64M)\n"                             \
	"  --policy P          none | mainline | accounted (default)\n"                    \
	"  --seed N            seed of the host's PRNG (default: from getrandom)\n"        \
	"  --pcap FILE         write every frame, reserve and dropped ones too\n"          \
	"  --log LEVEL         err | warn | info (default) | debug | trace\n"              \
	"  --mlock             lock the arena in RAM\n"

struct host_opts {
	const char *wire, *pcap;
	uint32_t ip, netmask, gw; /* network order */
	uint8_t mac[6];
	bool have_ip, have_mac, have_seed, mlock;
	uint64_t memory, seed;
	enum mm_policy policy;
	enum log_level log;
	size_t mainline_min; /* see struct mm_config; 0: the reserve tree's */
};

struct tool_host {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device *dev;
	int sigfd;
	struct io_watch sigwatch;
	bool interrupted;
};

void host_opts_init(struct host_opts *o);
/*
 * Parse one shared option (getopt code @c, argument @arg); returns 0, 1
 * when @c is not a shared option, or EXIT_USAGE after printing why.
 */
int host_opts_parse(struct host_opts *o, const char *cmd, int c,
		    const char *arg);
/* Check what the command needs (@need_wire): EXIT_USAGE or 0. */
int host_opts_check(const struct host_opts *o, const char *cmd, bool need_wire);

/* Build loop, host, arena, stack and wire; 0 or -errno (reported). */
int tool_host_start(struct tool_host *t, const struct host_opts *o,
		    const char *name);
/* Run until SIGINT/SIGTERM or loop_stop(). */
void tool_host_run(struct tool_host *t);
void tool_host_stop(struct tool_host *t);

/* Write @s as JSON to @path; 0, or -errno after saying why on stderr. */
int tool_write_stats_json(const struct stats *s, const char *path);

/*
 * Start `lifeboat serve` with @args (NULL-terminated, everything after
 * "serve" but the wire) in a child joined to us by a SOCK_SEQPACKET pair
 * wire; the child dies with us.  Returns its pid and our end in @wire
 * ("pair:FD"), or -errno.
 */
pid_t tool_spawn_serve(const char *const *args, char *wire, size_t wire_len);
/* SIGTERM the child and reap it; nothing for pid <= 0. */
void tool_reap(pid_t pid);

#endif
