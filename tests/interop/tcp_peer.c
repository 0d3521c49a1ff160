// SPDX-License-Identifier: MIT
/*
 * tcp_peer.c - a lifeboat host on a real wire that is one end of a TCP
 * connection with the Linux kernel, for the interop tests.
 *
 *   tcp_peer --wire tap:NAME --ip 192.0.2.2/24 --connect 192.0.2.1:PORT
 *            --send BYTES [--expect-echo] [--timeout S]
 *     connects, sends BYTES of the pattern below, half-closes, and waits
 *     for the peer's FIN; with --expect-echo every byte read back must be
 *     the pattern and exactly BYTES must come back.
 *
 *   tcp_peer --wire ... --listen PORT --expect BYTES [--timeout S]
 *     accepts one connection, checks that exactly BYTES of the pattern
 *     arrive and then the peer's FIN, and closes (sending nothing).
 *
 * The pattern: byte o of the stream is byte (o % 8) of the little-endian
 * 64-bit word PATTERN_BASE + (o & ~7), so every 8-byte word of the stream
 * says where it belongs (python: array('Q', range(BASE, BASE + n, 8))).
 *
 * Prints one line "tcp_peer: sent N received M bad K retransmits R" and,
 * on failure, why on stderr; exits 0 only on full success (1 on failure,
 * 2 on bad arguments).
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/args.h"
#include "tools/hostopts.h"
#include "net/sock.h"
#include "net/tcp.h"

#define PATTERN_BASE 0x6c69666500000000ull
#define CHUNK 16384

struct peer {
	struct tool_host t;
	struct tcp_sock *listener, *tp;
	bool listen_mode, expect_echo, stats;
	uint64_t to_send, expect;
	uint64_t sent, received, bad, first_bad;
	bool shut, eof, failed, done;
	int err;
	char why[160];
};

static uint8_t pattern_byte(uint64_t off)
{
	uint64_t w = PATTERN_BASE + (off & ~7ull);

	return (uint8_t)(w >> (8 * (off & 7)));
}

static void pattern_fill(uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

static void fail(struct peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->failed = true;
	p->done = true;
}

static void check_bytes(struct peer *p, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t off = p->received + i;

		if (buf[i] != pattern_byte(off)) {
			if (!p->bad)
				p->first_bad = off;
			p->bad++;
		}
	}
}

static void pump(struct peer *p)
{
	struct tcp_sock *tp = p->tp;
	uint8_t buf[CHUNK];
	ssize_t n;

	if (!tp || p->done)
		return;
	/* send */
	while (p->sent < p->to_send) {
		size_t room = tcp_send_space(tp);
		size_t len = (size_t)lb_min((uint64_t)lb_min(room, sizeof(buf)),
					    p->to_send - p->sent);

		if (!len)
			break;
		pattern_fill(buf, p->sent, len);
		n = tcp_send(tp, buf, len);
		if (n == -ENOMEM) {
			sock_wait_memory(&tp->sk);
			break;
		}
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			fail(p, "send failed after %llu bytes: %s",
			     (unsigned long long)p->sent, strerror((int)-n));
			return;
		}
		p->sent += (uint64_t)n;
	}
	/* half-close: the client once everything is queued, the listener
	 * once the peer has finished */
	if (!p->shut && ((!p->listen_mode && p->sent == p->to_send) ||
			 (p->listen_mode && p->eof))) {
		int err = tcp_shutdown(tp);

		if (!err)
			p->shut = true;
		else if (err == -ENOMEM)
			sock_wait_memory(&tp->sk);
		else if (tp->state != TCP_CLOSED)
			fail(p, "shutdown failed in state %s: %s",
			     tcp_state_name(tp->state), strerror(-err));
	}
	/* receive */
	while (!p->eof) {
		n = tcp_recv(tp, buf, sizeof(buf));
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			p->err = (int)-n;
			break;
		}
		if (n == 0) {
			p->eof = true;
			/* the listener answers the FIN now */
			if (p->listen_mode && !p->shut) {
				pump(p);
				return;
			}
			break;
		}
		if (p->expect_echo || p->listen_mode)
			check_bytes(p, buf, (size_t)n);
		p->received += (uint64_t)n;
	}
	if (p->err && !p->done) {
		fail(p, "connection failed in state %s: %s",
		     tcp_state_name(tp->state), strerror(p->err));
		return;
	}
	/* both FINs exchanged (and ours acknowledged in LAST-ACK) */
	if (p->eof && p->shut &&
	    (tp->state == TCP_TIME_WAIT || tp->state == TCP_CLOSED))
		p->done = true;
}

static void on_readable(struct sock *sk);

static void on_writable(struct sock *sk)
{
	struct peer *p = sk->user;

	if (sk == &p->tp->sk)
		pump(p);
}

static void on_error(struct sock *sk, int err)
{
	struct peer *p = sk->user;

	if (!p->tp || sk != &p->tp->sk)
		return;
	p->err = err;
	fail(p, "%s (after sending %llu and receiving %llu bytes)",
	     err == ECONNRESET	 ? "connection reset (RST)" :
	     err == ECONNREFUSED ? "connection refused" :
	     err == ETIMEDOUT	 ? "connection timed out" :
				   strerror(err),
	     (unsigned long long)p->sent, (unsigned long long)p->received);
}

static const struct sock_ops peer_ops = {
	.readable = on_readable,
	.writable = on_writable,
	.error = on_error,
};

static void on_readable(struct sock *sk)
{
	struct peer *p = sk->user;
	struct tcp_sock *child;

	if (p->listener) {
		while ((child = tcp_accept(p->listener))) {
			if (p->tp) { /* one connection only */
				tcp_abort(child);
				continue;
			}
			p->tp = child;
			child->sk.ops = &peer_ops;
			child->sk.user = p;
			tcp_set_nodelay(child, true);
		}
		if (sk == &p->listener->sk) {
			pump(p);
			return;
		}
	}
	if (p->tp && sk == &p->tp->sk)
		pump(p);
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: tcp_peer --wire WIRE --ip ADDR/LEN\n"
		"                (--connect IP:PORT --send BYTES [--expect-echo]\n"
		"                 | --listen PORT --expect BYTES)\n"
		"                [--timeout S] [--stats] [host options]\n"
		"\n"
		"A lifeboat host that is one end of a TCP connection: sends or\n"
		"checks a deterministic pattern, then closes cleanly.\n"
		"\n"
		"options:\n" HOSTOPT_HELP
		"  --connect IP:PORT   connect to a server and send --send BYTES\n"
		"  --expect-echo       the server echoes: check every byte\n"
		"  --listen PORT       accept one connection, check --expect BYTES\n"
		"  --timeout S         give up after S seconds (default 60)\n"
		"  --stats             print the host's statistics at the end\n");
}

enum {
	OPT_CONNECT = 0x2000,
	OPT_SEND,
	OPT_ECHO,
	OPT_LISTEN,
	OPT_EXPECT,
	OPT_TIMEOUT,
	OPT_STATS,
};

static int parse_endpoint(const char *s, struct sock_addr *a)
{
	char buf[32], *colon;
	uint64_t port;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (ip_parse(buf, &a->ip) || parse_u64(colon + 1, &port) || !port ||
	    port > 65535)
		return -EINVAL;
	a->port = (uint16_t)port;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		HOSTOPT_LONGOPTS,
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "send", required_argument, NULL, OPT_SEND },
		{ "expect-echo", no_argument, NULL, OPT_ECHO },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct peer p; /* large (the tool host): not on the stack */
	struct host_opts o;
	struct sock_addr peer_addr = { 0 };
	uint64_t listen_port = 0, timeout = 60, deadline;
	bool have_connect = false, have_send = false, have_expect = false;
	int64_t retrans = 0;
	int c, rc;

	host_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help(stdout);
			return 0;
		case OPT_CONNECT:
			if (parse_endpoint(optarg, &peer_addr))
				return usage_error(
					"tcp_peer",
					"--connect takes IP:PORT, not '%s'",
					optarg);
			have_connect = true;
			continue;
		case OPT_SEND:
			if (parse_size(optarg, &p.to_send))
				return usage_error(
					"tcp_peer",
					"--send takes a size, not '%s'",
					optarg);
			have_send = true;
			continue;
		case OPT_ECHO:
			p.expect_echo = true;
			continue;
		case OPT_LISTEN:
			if (parse_u64(optarg, &listen_port) || !listen_port ||
			    listen_port > 65535)
				return usage_error(
					"tcp_peer",
					"--listen takes a port, not '%s'",
					optarg);
			p.listen_mode = true;
			continue;
		case OPT_EXPECT:
			if (parse_size(optarg, &p.expect))
				return usage_error(
					"tcp_peer",
					"--expect takes a size, not '%s'",
					optarg);
			have_expect = true;
			continue;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, &timeout) || !timeout)
				return usage_error(
					"tcp_peer",
					"--timeout takes seconds, not '%s'",
					optarg);
			continue;
		case OPT_STATS:
			p.stats = true;
			continue;
		default:
			break;
		}
		rc = host_opts_parse(&o, "tcp_peer", c, optarg);
		if (rc == 1)
			return usage_error("tcp_peer", "bad arguments");
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("tcp_peer", "unexpected argument '%s'",
				   argv[optind]);
	rc = host_opts_check(&o, "tcp_peer", true);
	if (rc)
		return rc;
	if (have_connect == p.listen_mode)
		return usage_error(
			"tcp_peer",
			"give exactly one of --connect and --listen");
	if (have_connect && !have_send)
		return usage_error("tcp_peer", "--connect needs --send BYTES");
	if (p.listen_mode && !have_expect)
		return usage_error("tcp_peer", "--listen needs --expect BYTES");
	if (p.listen_mode && (have_send || p.expect_echo))
		return usage_error(
			"tcp_peer",
			"--listen sends nothing: no --send/--expect-echo");
	if (p.expect_echo)
		p.expect = p.to_send;

	if (tool_host_start(&p.t, &o, "tcp_peer")) {
		tool_host_stop(&p.t);
		return 1;
	}
	if (p.listen_mode) {
		p.listener = tcp_socket(p.t.net, &peer_ops, &p);
		if (!p.listener ||
		    tcp_bind(p.listener, 0, (uint16_t)listen_port) ||
		    tcp_listen(p.listener, 4)) {
			fprintf(stderr, "tcp_peer: cannot listen on %llu\n",
				(unsigned long long)listen_port);
			tool_host_stop(&p.t);
			return 1;
		}
		printf("tcp_peer: listening on port %llu\n",
		       (unsigned long long)listen_port);
	} else {
		p.tp = tcp_socket(p.t.net, &peer_ops, &p);
		if (!p.tp) {
			fprintf(stderr, "tcp_peer: no memory for a socket\n");
			tool_host_stop(&p.t);
			return 1;
		}
		tcp_set_nodelay(p.tp, true);
		rc = tcp_connect(p.tp, &peer_addr);
		if (rc) {
			fprintf(stderr, "tcp_peer: connect: %s\n",
				strerror(-rc));
			tcp_close(p.tp);
			tool_host_stop(&p.t);
			return 1;
		}
		printf("tcp_peer: connecting\n");
	}
	fflush(stdout);

	deadline = loop_now(&p.t.loop) + timeout * NSEC_PER_SEC;
	while (!p.done && !p.t.interrupted) {
		if (loop_now(&p.t.loop) >= deadline) {
			fail(&p,
			     "timed out after %llu s in state %s (sent %llu/%llu, received %llu%s%s)",
			     (unsigned long long)timeout,
			     p.tp ? tcp_state_name(p.tp->state) :
				    "LISTEN (nothing accepted)",
			     (unsigned long long)p.sent,
			     (unsigned long long)p.to_send,
			     (unsigned long long)p.received,
			     p.eof ? ", got FIN" : "",
			     p.shut ? ", sent FIN" : "");
			break;
		}
		loop_run_once(&p.t.loop, 100 * NSEC_PER_MSEC);
	}
	if (p.t.interrupted)
		fail(&p, "interrupted");
	if (!p.failed) {
		if (p.bad)
			fail(&p,
			     "%llu bytes differ from the pattern, the first at offset %llu",
			     (unsigned long long)p.bad,
			     (unsigned long long)p.first_bad);
		else if ((p.expect_echo || p.listen_mode) &&
			 p.received != p.expect)
			fail(&p, "received %llu bytes, expected %llu",
			     (unsigned long long)p.received,
			     (unsigned long long)p.expect);
		else if (p.sent != p.to_send)
			fail(&p, "sent %llu bytes of %llu",
			     (unsigned long long)p.sent,
			     (unsigned long long)p.to_send);
	}
	stats_get(&p.t.host->stats, "tcp.retransmits", &retrans);
	printf("tcp_peer: sent %llu received %llu bad %llu retransmits %lld\n",
	       (unsigned long long)p.sent, (unsigned long long)p.received,
	       (unsigned long long)p.bad, (long long)retrans);
	if (p.stats)
		stats_print_table(&p.t.host->stats, stdout, "");
	fflush(stdout);
	if (p.failed)
		fprintf(stderr, "tcp_peer: FAILED: %s\n", p.why);
	if (p.tp)
		tcp_close(p.tp);
	if (p.listener)
		tcp_close(p.listener);
	tool_host_stop(&p.t);
	return p.failed ? 1 : 0;
}
