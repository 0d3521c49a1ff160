// SPDX-License-Identifier: MIT
/*
 * cmd_host.c - `lifeboat host`: a bare host on a real wire.  It answers ARP
 * and ICMP echo and serves UDP echo (RFC 862) on port 7 until interrupted,
 * then prints its statistics.
 */
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "hostopts.h"
#include "net/sock.h"
#include "net/tcp.h"

#define UDP_ECHO_PORT 7

static void echo_readable(struct sock *sk)
{
	uint8_t buf[UDP_MAX_PAYLOAD];
	struct sock_addr from;
	ssize_t n;

	while ((n = sock_recvfrom(sk, buf, sizeof(buf), &from)) >= 0)
		sock_sendto(sk, buf, (size_t)n, &from);
}

static const struct sock_ops echo_ops = { .readable = echo_readable };

/* ---- TCP echo (7), discard (9), chargen (19) --------------------------- */

enum tcp_service { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN };

/* A connection's service and, for chargen, where the pattern is. */
struct svc_conn {
	enum tcp_service svc;
	uint64_t pos;
};

static const uint16_t svc_ports[] = { 7, 9, 19 };

static void svc_close(struct tcp_sock *tp)
{
	struct svc_conn *c = tp->sk.user;

	mm_kfree(tp->sk.net->mm, c);
	tcp_close(tp);
}

/* RFC 864: 72-character lines, each starting one character later. */
static size_t chargen_fill(uint64_t pos, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++, pos++) {
		uint64_t line = pos / 74, col = pos % 74;

		buf[i] = col == 72 ? '\r' :
			 col == 73 ? '\n' :
				     (uint8_t)(' ' + (line + col) % 95);
	}
	return len;
}

static void svc_run(struct tcp_sock *tp)
{
	struct svc_conn *c = tp->sk.user;
	uint8_t buf[16384];
	ssize_t n;

	for (;;) {
		size_t room = tcp_send_space(tp);

		if (c->svc == SVC_CHARGEN) {
			if (!room)
				return;
			n = tcp_send(tp, buf,
				     chargen_fill(c->pos, buf,
						  lb_min(room, sizeof(buf))));
			if (n <= 0)
				return;
			c->pos += (uint64_t)n;
			/* chargen ignores what it is sent */
			while (tcp_recv(tp, buf, sizeof(buf)) > 0)
				;
			continue;
		}
		/* echo reads only what it can send back: no buffering */
		if (c->svc == SVC_ECHO && !room)
			return;
		n = tcp_recv(tp, buf,
			     c->svc == SVC_ECHO ? lb_min(room, sizeof(buf)) :
						  sizeof(buf));
		if (n == 0) {
			svc_close(tp);
			return;
		}
		if (n < 0)
			return;
		if (c->svc == SVC_ECHO)
			tcp_send(tp, buf, (size_t)n);
	}
}

static void svc_readable(struct sock *sk)
{
	svc_run(tcp_sk(sk));
}

static void svc_error(struct sock *sk, int err)
{
	svc_close(tcp_sk(sk));
}

static const struct sock_ops svc_ops = { .readable = svc_readable,
					 .writable = svc_readable,
					 .error = svc_error };

static void svc_accept(struct sock *sk)
{
	struct tcp_sock *l = tcp_sk(sk), *tp;

	while ((tp = tcp_accept(l))) {
		struct svc_conn *c =
			mm_kmalloc(sk->net->mm, sizeof(*c), MM_ATOMIC, NULL);

		if (!c) {
			tcp_abort(tp);
			continue;
		}
		c->svc = (enum tcp_service)(uintptr_t)sk->user;
		c->pos = 0;
		tp->sk.ops = &svc_ops;
		tp->sk.user = c;
		tcp_set_nodelay(tp, true);
		svc_run(tp);
	}
}

static const struct sock_ops listen_ops = { .readable = svc_accept };

static void host_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat host --wire WIRE --ip ADDR/LEN [options]\n"
		"\n"
		"Runs a bare lifeboat host until interrupted: it answers ARP and\n"
		"ICMP echo, serves UDP echo on port 7, and TCP echo (7), discard (9)\n"
		"and chargen (19).  Ctrl-C prints the statistics table and exits 0.\n"
		"\n"
		"options:\n" HOSTOPT_HELP
		"  --stats-json FILE   also write the statistics as JSON on exit\n");
}

int cmd_host(int argc, char **argv)
{
	static const struct option opts[] = {
		HOSTOPT_LONGOPTS,
		{ "stats-json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *json = NULL;
	struct host_opts o;
	struct tool_host t;
	struct tcp_sock *listeners[ARRAY_SIZE(svc_ports)] = { 0 };
	struct sock *echo;
	char ip[16], mac[18];
	int c, rc;

	host_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			host_help(stdout);
			return 0;
		}
		if (c == 'j') {
			json = optarg;
			continue;
		}
		rc = host_opts_parse(&o, "host", c, optarg);
		if (rc == 1)
			return usage_error("host", "bad arguments");
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("host", "unexpected argument '%s'",
				   argv[optind]);
	rc = host_opts_check(&o, "host", true);
	if (rc)
		return rc;
	if (tool_host_start(&t, &o, "host")) {
		tool_host_stop(&t);
		return 1;
	}
	echo = udp_socket(t.net, &echo_ops, NULL);
	if (!echo || sock_bind(echo, 0, UDP_ECHO_PORT)) {
		fprintf(stderr, "lifeboat host: cannot open UDP echo\n");
		tool_host_stop(&t);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(svc_ports); i++) {
		listeners[i] =
			tcp_socket(t.net, &listen_ops, (void *)(uintptr_t)i);
		if (!listeners[i] || tcp_bind(listeners[i], 0, svc_ports[i]) ||
		    tcp_listen(listeners[i], 16)) {
			fprintf(stderr,
				"lifeboat host: cannot listen on TCP %u\n",
				svc_ports[i]);
			tool_host_stop(&t);
			return 1;
		}
	}
	printf("lifeboat host: %s on %s, %s mac %s, %llu MiB, policy %s\n",
	       t.dev->name, o.wire, ip_str(o.ip, ip), mac_str(t.dev->mac, mac),
	       (unsigned long long)(o.memory >> 20), mm_policy_name(o.policy));
	printf("serving ARP, ICMP echo, UDP echo on port %d, TCP echo 7, discard 9, chargen 19; Ctrl-C to stop\n",
	       UDP_ECHO_PORT);
	fflush(stdout);
	tool_host_run(&t);
	sock_close(echo);
	for (size_t i = 0; i < ARRAY_SIZE(svc_ports); i++)
		tcp_close(listeners[i]);
	printf("\n");
	stats_print_table(&t.host->stats, stdout, "");
	if (json)
		tool_write_stats_json(&t.host->stats, json);
	tool_host_stop(&t);
	return 0;
}
