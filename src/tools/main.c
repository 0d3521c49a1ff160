// SPDX-License-Identifier: MIT
/*
 * main.c - the lifeboat command: global options and the command table.
 */
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "core/compiler.h"

static const struct command commands[] = {
	{ "run", "the main job: page to network storage under memory pressure",
	  cmd_run },
	{ "mm", "exercise the memory manager and show the reserve tree",
	  cmd_mm },
	{ "host", "run a bare host on a wire: ARP, ICMP echo, UDP echo",
	  cmd_host },
	{ "serve", "serve a block device over NBD or AoE from a lifeboat host",
	  cmd_serve },
	{ "disk", "attach a network block device; verify it or benchmark it",
	  cmd_disk },
	{ "sim", "run whole simulated worlds under seeded faults; check them",
	  cmd_sim },
	{ "bench", "run the benchmarks and print BENCH lines", cmd_bench },
};

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat [--help] [--version] <command> [options]\n"
		"\n"
		"Network storage that keeps working when memory runs out.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'lifeboat <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		print_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("lifeboat %s\n", LB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		fprintf(stderr, "lifeboat: unknown option '%s'\n", argv[1]);
	else
		fprintf(stderr, "lifeboat: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "(see 'lifeboat --help')\n");
	return EXIT_USAGE;
}
