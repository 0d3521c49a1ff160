/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the subcommands of the lifeboat binary, one table.
 *
 * A command gets argv starting at its own name and returns the process
 * exit status: 0 success, 2 usage error, others as documented per command.
 */
#ifndef LB_TOOLS_COMMANDS_H
#define LB_TOOLS_COMMANDS_H

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

int cmd_bench(int argc, char **argv);
int cmd_mm(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sim(int argc, char **argv);

#endif
