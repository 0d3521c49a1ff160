// SPDX-License-Identifier: MIT
/*
 * hostopts.c - shared options and building a real host from them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "args.h"
#include "dev/wire.h"
#include "hostopts.h"

void host_opts_init(struct host_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->memory = 64ull << 20;
	o->policy = MM_POLICY_ACCOUNTED;
	o->log = LOG_INFO;
}

static int parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32], *slash;
	uint64_t len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (ip_parse(buf, ip) || parse_u64(slash + 1, &len) || len < 1 ||
	    len > 32)
		return -EINVAL;
	*mask = htonl((uint32_t)(0xffffffffull << (32 - len)));
	return 0;
}

int host_opts_parse(struct host_opts *o, const char *cmd, int c,
		    const char *arg)
{
	switch (c) {
	case HOSTOPT_WIRE:
		o->wire = arg;
		return 0;
	case HOSTOPT_IP:
		if (parse_cidr(arg, &o->ip, &o->netmask))
			return usage_error(
				cmd,
				"--ip takes ADDR/LEN (e.g. 192.0.2.2/24), not '%s'",
				arg);
		o->have_ip = true;
		return 0;
	case HOSTOPT_GW:
		if (ip_parse(arg, &o->gw))
			return usage_error(
				cmd, "--gw takes an IPv4 address, not '%s'",
				arg);
		return 0;
	case HOSTOPT_MAC:
		if (mac_parse(arg, o->mac) || (o->mac[0] & 1))
			return usage_error(
				cmd,
				"--mac takes a unicast MAC like 02:00:00:00:00:01, not '%s'",
				arg);
		o->have_mac = true;
		return 0;
	case HOSTOPT_MEMORY:
		if (parse_size(arg, &o->memory) || o->memory < (1u << 20) ||
		    o->memory > (64ull << 30))
			return usage_error(
				cmd,
				"--memory takes a size from 1M to 64G, not '%s'",
				arg);
		return 0;
	case HOSTOPT_POLICY:
		if (mm_policy_parse(arg, &o->policy))
			return usage_error(
				cmd,
				"--policy takes none, mainline or accounted, not '%s'",
				arg);
		return 0;
	case HOSTOPT_SEED:
		if (parse_u64(arg, &o->seed))
			return usage_error(
				cmd, "--seed takes a number, not '%s'", arg);
		o->have_seed = true;
		return 0;
	case HOSTOPT_PCAP:
		o->pcap = arg;
		return 0;
	case HOSTOPT_LOG:
		if (log_level_parse(arg, &o->log))
			return usage_error(
				cmd,
				"--log takes err, warn, info, debug or trace, not '%s'",
				arg);
		return 0;
	case HOSTOPT_MLOCK:
		o->mlock = true;
		return 0;
	}
	return 1;
}

int host_opts_check(const struct host_opts *o, const char *cmd, bool need_wire)
{
	if (need_wire && !o->wire)
		return usage_error(cmd, "--wire is required");
	if (need_wire && !o->have_ip)
		return usage_error(cmd, "--ip is required");
	return 0;
}

static void on_signal(struct io_watch *w, uint32_t revents)
{
	struct tool_host *t = container_of(w, struct tool_host, sigwatch);
	struct signalfd_siginfo si;

	if (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		t->interrupted = true;
		loop_stop(&t->loop);
	}
}

static int watch_signals(struct tool_host *t)
{
	sigset_t set;

	/*
	 * A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is discarded even when blocked: take it back first.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	t->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->sigfd < 0)
		return -errno;
	return loop_watch(&t->loop, &t->sigwatch, t->sigfd, LOOP_IN, on_signal);
}

int tool_host_start(struct tool_host *t, const struct host_opts *o,
		    const char *name)
{
	struct host_config hc = { .name = name, .log_level = o->log };
	struct mm_config mc = { .nr_pages = o->memory / PAGE_SIZE,
				.policy = o->policy,
				.mlock = o->mlock,
				.mainline_min = o->mainline_min };
	int err;

	memset(t, 0, sizeof(*t));
	t->sigfd = -1;
	hc.seed = o->seed;
	if (!o->have_seed &&
	    getrandom(&hc.seed, sizeof(hc.seed), 0) != (ssize_t)sizeof(hc.seed))
		hc.seed = (uint64_t)getpid();
	err = loop_init(&t->loop, LOOP_REAL);
	if (err)
		return err;
	t->host = host_create(&t->loop, &hc);
	if (!t->host)
		return -ENOMEM;
	t->mm = mm_create(t->host, &mc);
	if (!t->mm)
		return -ENOMEM;
	t->net = net_create(t->host, NULL);
	if (!t->net)
		return -ENOMEM;
	if (o->wire) {
		err = wire_open(t->net, o->wire, &t->dev);
		if (err)
			return err;
		if (o->have_mac)
			memcpy(t->dev->mac, o->mac, 6);
		t->dev->ip = o->ip;
		t->dev->netmask = o->netmask;
		t->dev->gateway = o->gw;
	}
	if (o->pcap) {
		err = net_capture_open(t->net, o->pcap);
		if (err) {
			lb_err(&t->host->log, "--pcap %s: %s", o->pcap,
			       strerror(-err));
			return err;
		}
	}
	return watch_signals(t);
}

void tool_host_run(struct tool_host *t)
{
	loop_run(&t->loop);
}

void tool_host_stop(struct tool_host *t)
{
	if (t->sigfd >= 0) {
		loop_unwatch(&t->loop, &t->sigwatch);
		close(t->sigfd);
	}
	if (t->net)
		net_destroy(t->net);
	if (t->mm) {
		mm_check(t->mm);
		mm_destroy(t->mm);
	}
	if (t->host)
		host_destroy(t->host);
	loop_destroy(&t->loop);
}

int tool_write_stats_json(const struct stats *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || (stats_print_json(s, f, ""), fclose(f))) {
		int err = -errno;

		perror(path);
		return err;
	}
	return 0;
}

#define SPAWN_MAX_ARGS 32

pid_t tool_spawn_serve(const char *const *args, char *wire, size_t wire_len)
{
	char self[4096], fdarg[32];
	char *argv[SPAWN_MAX_ARGS];
	unsigned n = 0;
	ssize_t len;
	int sv[2];
	pid_t pid;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return -errno;
	self[len] = 0;
	argv[n++] = self;
	argv[n++] = "serve";
	for (; *args && n < SPAWN_MAX_ARGS - 3; args++)
		argv[n++] = (char *)*args;
	if (*args)
		return -E2BIG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -errno;
	snprintf(fdarg, sizeof(fdarg), "pair:%d", sv[1]);
	argv[n++] = "--wire";
	argv[n++] = fdarg;
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		/* the server goes with us, however we end */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(sv[0]);
		execv(self, argv);
		_exit(127);
	}
	close(sv[1]);
	snprintf(wire, wire_len, "pair:%d", sv[0]);
	return pid;
}

void tool_reap(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}
