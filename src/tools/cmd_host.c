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

static void host_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat host --wire WIRE --ip ADDR/LEN [options]\n"
		"\n"
		"Runs a bare lifeboat host until interrupted: it answers ARP and\n"
		"ICMP echo and serves UDP echo on port 7.  Ctrl-C prints the\n"
		"statistics table and exits 0.\n"
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
	printf("lifeboat host: %s on %s, %s mac %s, %llu MiB, policy %s\n",
	       t.dev->name, o.wire, ip_str(o.ip, ip), mac_str(t.dev->mac, mac),
	       (unsigned long long)(o.memory >> 20), mm_policy_name(o.policy));
	printf("serving ARP, ICMP echo, UDP echo on port %d; Ctrl-C to stop\n",
	       UDP_ECHO_PORT);
	fflush(stdout);
	tool_host_run(&t);
	sock_close(echo);
	printf("\n");
	stats_print_table(&t.host->stats, stdout, "");
	if (json) {
		FILE *f = fopen(json, "w");

		if (f) {
			stats_print_json(&t.host->stats, f, "");
			fclose(f);
		} else {
			perror(json);
		}
	}
	tool_host_stop(&t);
	return 0;
}
