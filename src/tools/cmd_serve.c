// SPDX-License-Identifier: MIT
/*
 * cmd_serve.c - `lifeboat serve`: a storage server on a lifeboat host.
 * NBD on TCP port 10809 (or --port), or an AoE target SHELF.SLOT on the
 * wire, or an iSCSI target on TCP port 3260, serving RAM or a file until
 * interrupted; or NFSv3 (with MOUNT and a portmapper) from an export of
 * files in RAM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "block/aoe.h"
#include "block/iscsi.h"
#include "block/iscsi_chap.h"
#include "block/iscsi_proto.h"
#include "block/nbd.h"
#include "nfs/nfs.h"
#include "rpc/rpc_proto.h"
#include "commands.h"
#include "hostopts.h"
#include "sim/noise.h"

static void serve_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat serve --proto nbd|aoe|iscsi|nfs (--size SIZE | --file PATH | --dir DIR) --wire WIRE [options]\n"
		"\n"
		"Serves a block device from a lifeboat host until interrupted: NBD\n"
		"(fixed newstyle, simple replies) on TCP, an AoE target on the\n"
		"wire, or an iSCSI target (one LUN) on TCP.  RAM (--size) starts\n"
		"zeroed; a file (--file) is created with --size bytes if missing.\n"
		"NFS serves an export (--export, default /export) of up to --files\n"
		"files of up to --size bytes each, in RAM, or the regular files of\n"
		"the directory --dir (handles stay valid across a restart), with\n"
		"NFSv3, MOUNT v3 and the portmapper's GETPORT on --port (default\n"
		"2049) and on 111.\n"
		"Ctrl-C prints the statistics and exits 0.\n"
		"\n"
		"options:\n" HOSTOPT_HELP
		"  --proto nbd|aoe|iscsi|nfs  the protocol (default nbd)\n"
		"  --size SIZE         device size (RAM, or a new file's size)\n"
		"  --file PATH         serve a file instead of RAM\n"
		"  --dir DIR           NFS: serve the regular files of DIR (not links, not\n"
		"                      subdirectories; --size: the largest a file may grow,\n"
		"                      default 1T)\n"
		"  --export NAME       NBD export name (default \"\", also served as the default);\n"
		"                      NFS export path (default /export)\n"
		"  --files N           NFS: at most N files in the export (default 16, at most 64)\n"
		"  --port N            TCP port (default 10809 NBD, 3260 iSCSI, 2049 NFS)\n"
		"  --iqn NAME          iSCSI target name (default " ISCSI_DEFAULT_IQN
		")\n"
		"  --lun N             iSCSI LUN of the disk (default 0)\n"
		"  --chap-user NAME    iSCSI: logins must pass CHAP (MD5) as NAME\n"
		"  --chap-secret S     ... with this secret (both 1-63 bytes)\n"
		"  --target S.S        AoE shelf.slot (default 1.0)\n"
		"  --buffers N         AoE buffer count advertised (default 16)\n"
		"  --read-only         refuse writes\n"
		"  --secure            NFS: refuse NFS and MOUNT calls from source ports\n"
		"                      >= 1024 (AUTH_TOOWEAK), as knfsd's \"secure\"\n"
		"  --noise-to ADDR     also flood ADDR with unrelated traffic (UDP and\n"
		"                      TCP bulk to ports it never reads), as `lifeboat run` does\n"
		"  --frags-to ADDR     send ADDR UDP fragments whose datagrams never complete\n"
		"  --frag-pps N        ... N a second (default 100000)\n"
		"  --stall-after SECS, --stall-for SECS   SECS after start, hold every request\n"
		"                      for SECS: a server in trouble, TCP still acking\n"
		"  --quiet             no statistics table on exit\n"
		"  --stats-json FILE   also write the statistics as JSON on exit\n");
}

static int parse_target(const char *s, uint16_t *shelf, uint8_t *slot)
{
	unsigned a, b;
	char end;

	if (sscanf(s, "%u.%u%c", &a, &b, &end) != 2 || a >= 0xffff || b >= 0xff)
		return -1;
	*shelf = (uint16_t)a;
	*slot = (uint8_t)b;
	return 0;
}

/* --stall-after/--stall-for: one stall, armed at start. */
static struct {
	struct timer timer;
	struct host *host;
	struct nbd_server *nbd;
	struct iscsi_target *itgt;
	struct aoe_target *aoe;
	struct nfs_server *nfs;
	uint64_t for_ns;
} serve_stall;

static void serve_stall_fire(struct timer *tm)
{
	uint64_t until = host_now(serve_stall.host) + serve_stall.for_ns;

	if (serve_stall.nbd)
		nbd_server_set_stall(serve_stall.nbd, until);
	if (serve_stall.itgt)
		iscsi_target_set_stall(serve_stall.itgt, until);
	if (serve_stall.aoe)
		aoe_target_set_stall(serve_stall.aoe, until);
	if (serve_stall.nfs)
		nfs_server_set_stall(serve_stall.nfs, until);
}

int cmd_serve(int argc, char **argv)
{
	enum {
		OPT_PROTO = 1,
		OPT_SIZE,
		OPT_FILE,
		OPT_EXPORT,
		OPT_PORT,
		OPT_TARGET,
		OPT_BUFFERS,
		OPT_RO,
		OPT_JSON,
		OPT_NOISE,
		OPT_QUIET,
		OPT_IQN,
		OPT_LUN,
		OPT_FILES,
		OPT_CHAP_USER,
		OPT_CHAP_SECRET,
		OPT_DIR,
		OPT_SECURE,
		OPT_FRAGS_TO,
		OPT_FRAG_PPS,
		OPT_STALL_AFTER,
		OPT_STALL_FOR
	};
	static const struct option opts[] = {
		HOSTOPT_LONGOPTS,
		{ "proto", required_argument, NULL, OPT_PROTO },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "buffers", required_argument, NULL, OPT_BUFFERS },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "stats-json", required_argument, NULL, OPT_JSON },
		{ "noise-to", required_argument, NULL, OPT_NOISE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "iqn", required_argument, NULL, OPT_IQN },
		{ "lun", required_argument, NULL, OPT_LUN },
		{ "chap-user", required_argument, NULL, OPT_CHAP_USER },
		{ "chap-secret", required_argument, NULL, OPT_CHAP_SECRET },
		{ "files", required_argument, NULL, OPT_FILES },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "secure", no_argument, NULL, OPT_SECURE },
		{ "frags-to", required_argument, NULL, OPT_FRAGS_TO },
		{ "frag-pps", required_argument, NULL, OPT_FRAG_PPS },
		{ "stall-after", required_argument, NULL, OPT_STALL_AFTER },
		{ "stall-for", required_argument, NULL, OPT_STALL_FOR },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *file = NULL, *export_name = "", *json = NULL, *dir = NULL;
	bool aoe = false, iscsi = false, nfs = false, ro = false, quiet = false;
	bool port_set = false, export_set = false, secure = false;
	const char *iqn = ISCSI_DEFAULT_IQN;
	const char *chap_user = NULL, *chap_secret = NULL;
	unsigned lun = 0, files = 16;
	struct iscsi_target *itgt = NULL;
	struct nfs_export *exp = NULL;
	struct nfs_server *nfs_srv = NULL;
	uint32_t noise_ip = 0, frags_ip = 0, frag_pps = 100000;
	struct noise_source *noise = NULL;
	uint64_t size = 0, v, stall_after = 0;
	double secs;
	uint16_t port = NBD_DEFAULT_PORT, shelf = 1, buffers = 16;
	uint8_t slot = 0;
	struct nbd_server *nbd = NULL;
	struct aoe_target *tgt = NULL;
	struct blk_store st;
	struct host_opts o;
	struct tool_host t;
	int c, rc;

	host_opts_init(&o);
	memset(&serve_stall, 0, sizeof(serve_stall));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			serve_help(stdout);
			return 0;
		case OPT_PROTO:
			if (strcmp(optarg, "nbd") && strcmp(optarg, "aoe") &&
			    strcmp(optarg, "iscsi") && strcmp(optarg, "nfs"))
				return usage_error(
					"serve",
					"--proto is nbd, aoe, iscsi or nfs, not '%s'",
					optarg);
			aoe = !strcmp(optarg, "aoe");
			iscsi = !strcmp(optarg, "iscsi");
			nfs = !strcmp(optarg, "nfs");
			continue;
		case OPT_SIZE:
			if (parse_size(optarg, &size) || !size ||
			    size % SECTOR_SIZE)
				return usage_error(
					"serve",
					"--size takes a size, a multiple of 512, not '%s'",
					optarg);
			continue;
		case OPT_FILE:
			file = optarg;
			continue;
		case OPT_DIR:
			dir = optarg;
			continue;
		case OPT_SECURE:
			secure = true;
			continue;
		case OPT_EXPORT:
			if (strlen(optarg) > NBD_EXPORT_NAME_MAX)
				return usage_error(
					"serve",
					"--export is at most 255 bytes");
			export_name = optarg;
			export_set = true;
			continue;
		case OPT_FILES:
			if (parse_u64(optarg, &v) || !v ||
			    v > NFS_SRV_MAX_FILES)
				return usage_error(
					"serve", "--files takes 1-%u, not '%s'",
					NFS_SRV_MAX_FILES, optarg);
			files = (unsigned)v;
			continue;
		case OPT_PORT:
			if (parse_u64(optarg, &v) || !v || v > 65535)
				return usage_error(
					"serve",
					"--port takes 1-65535, not '%s'",
					optarg);
			port = (uint16_t)v;
			port_set = true;
			continue;
		case OPT_IQN:
			if (!*optarg || strlen(optarg) > ISCSI_NAME_MAX)
				return usage_error(
					"serve",
					"--iqn takes a name of 1-223 bytes");
			iqn = optarg;
			continue;
		case OPT_CHAP_USER:
		case OPT_CHAP_SECRET:
			if (!*optarg || strlen(optarg) > ISCSI_CHAP_MAX)
				return usage_error("serve",
						   "--%s takes 1-63 bytes",
						   c == OPT_CHAP_USER ?
							   "chap-user" :
							   "chap-secret");
			if (c == OPT_CHAP_USER)
				chap_user = optarg;
			else
				chap_secret = optarg;
			continue;
		case OPT_LUN:
			if (parse_u64(optarg, &v) || v > 255)
				return usage_error(
					"serve", "--lun takes 0-255, not '%s'",
					optarg);
			lun = (unsigned)v;
			continue;
		case OPT_TARGET:
			if (parse_target(optarg, &shelf, &slot))
				return usage_error(
					"serve",
					"--target is SHELF.SLOT (shelf < 65535, slot < 255), not '%s'",
					optarg);
			continue;
		case OPT_BUFFERS:
			if (parse_u64(optarg, &v) || !v || v > 1024)
				return usage_error(
					"serve",
					"--buffers takes 1-1024, not '%s'",
					optarg);
			buffers = (uint16_t)v;
			continue;
		case OPT_RO:
			ro = true;
			continue;
		case OPT_JSON:
			json = optarg;
			continue;
		case OPT_NOISE:
			if (ip_parse(optarg, &noise_ip) || !noise_ip)
				return usage_error(
					"serve",
					"--noise-to takes an IPv4 address, not '%s'",
					optarg);
			continue;
		case OPT_QUIET:
			quiet = true;
			continue;
		case OPT_FRAGS_TO:
			if (ip_parse(optarg, &frags_ip) || !frags_ip)
				return usage_error(
					"serve",
					"--frags-to takes an IPv4 address, not '%s'",
					optarg);
			continue;
		case OPT_FRAG_PPS:
			if (parse_u64(optarg, &v) || !v || v > 1000000)
				return usage_error(
					"serve",
					"--frag-pps takes 1-1000000, not '%s'",
					optarg);
			frag_pps = (uint32_t)v;
			continue;
		case OPT_STALL_AFTER:
		case OPT_STALL_FOR:
			if (parse_double(optarg, &secs) || secs < 0 ||
			    secs > 86400)
				return usage_error(
					"serve",
					"--%s takes seconds (0-86400), not '%s'",
					c == OPT_STALL_AFTER ? "stall-after" :
							       "stall-for",
					optarg);
			if (c == OPT_STALL_AFTER)
				stall_after = (uint64_t)(secs * 1e9);
			else
				serve_stall.for_ns = (uint64_t)(secs * 1e9);
			continue;
		}
		rc = host_opts_parse(&o, "serve", c, optarg);
		if (rc == 1)
			return usage_error("serve", "bad arguments");
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("serve", "unexpected argument '%s'",
				   argv[optind]);
	if (nfs && file)
		return usage_error(
			"serve",
			"--proto nfs serves RAM (--size SIZE) or a directory (--dir DIR), not --file");
	if (dir && !nfs)
		return usage_error("serve", "--dir is for --proto nfs");
	if (secure && !nfs)
		return usage_error("serve", "--secure is for --proto nfs");
	if (dir && !size)
		size = 1ull << 40;
	if (nfs && export_set && export_name[0] != '/')
		return usage_error("serve",
				   "an NFS --export is a path starting with /");
	if (!file && !size)
		return usage_error("serve", "say --size SIZE or --file PATH");
	if (!chap_user != !chap_secret || (chap_user && !iscsi))
		return usage_error(
			"serve",
			"--chap-user and --chap-secret go together, with --proto iscsi");
	rc = aoe && o.wire ? 0 : host_opts_check(&o, "serve", true);
	if (rc)
		return rc;
	if (nfs && dir) {
		rc = nfs_export_create_dir(export_set ? export_name : "/export",
					   dir, files, size, &exp);
		if (rc == -EMFILE) {
			fprintf(stderr,
				"lifeboat serve: %s holds more than %u regular files: say --files N (at most %u)\n",
				dir, files, NFS_SRV_MAX_FILES);
			return 1;
		}
		if (!rc)
			rc = store_open_ram(&st, SECTOR_SIZE);
	} else if (nfs) {
		rc = nfs_export_create(export_set ? export_name : "/export",
				       files, size, &exp);
		if (!rc)
			rc = store_open_ram(&st, SECTOR_SIZE);
	} else {
		rc = file ? store_open_file(&st, file, size) :
			    store_open_ram(&st, size);
	}
	if (rc) {
		fprintf(stderr, "lifeboat serve: cannot open %s: %s\n",
			file ? file :
			dir  ? dir :
			       "RAM",
			strerror(-rc));
		return 1;
	}
	if (tool_host_start(&t, &o, "serve")) {
		tool_host_stop(&t);
		store_close(&st);
		nfs_export_destroy(exp);
		return 1;
	}
	if (iscsi) {
		struct iscsi_target_config ic = {
			.port = port_set ? port : ISCSI_DEFAULT_PORT,
			.iqn = iqn,
			.lun = lun,
			.store = &st,
			.read_only = ro,
			.chap_user = chap_user,
			.chap_secret = chap_secret,
		};

		port = ic.port;
		itgt = iscsi_target_create(t.net, &ic);
	} else if (nfs) {
		struct nfs_server_config fc = { .port = port_set ? port :
								   NFS_PORT,
						.pmap_port = PMAP_PORT,
						.exp = exp,
						.read_only = ro,
						.secure = secure };

		nfs_srv = nfs_server_create(t.net, &fc);
		port = fc.port;
	} else if (aoe) {
		struct aoe_target_config tc = { .shelf = shelf,
						.slot = slot,
						.dev = t.dev,
						.store = &st,
						.buffer_count = buffers,
						.read_only = ro };

		tgt = aoe_target_create(t.net, &tc);
	} else {
		struct nbd_server_config sc = { .port = port,
						.export_name = export_name,
						.store = &st,
						.read_only = ro };

		nbd = nbd_server_create(t.net, &sc);
	}
	if (!tgt && !nbd && !itgt && !nfs_srv) {
		fprintf(stderr, "lifeboat serve: cannot start the server\n");
		tool_host_stop(&t);
		store_close(&st);
		nfs_export_destroy(exp);
		return 1;
	}
	if (quiet)
		;
	else if (iscsi)
		printf("lifeboat serve: iSCSI on port %u, target %s LUN %u, %llu bytes%s%s\n",
		       port, iqn, lun, (unsigned long long)st.size,
		       ro ? " read-only" : "", chap_user ? ", CHAP" : "");
	else if (nfs)
		printf("lifeboat serve: NFS on port %u (portmapper on %u), export %s%s%s, %u files of up to %llu bytes%s\n",
		       port, PMAP_PORT, exp->path, dir ? " of " : "",
		       dir ? dir : "", files, (unsigned long long)size,
		       ro ? " read-only" : "");
	else if (aoe)
		printf("lifeboat serve: AoE target e%u.%u on %s, %llu bytes%s, %u buffers\n",
		       shelf, slot, t.dev->name, (unsigned long long)st.size,
		       ro ? " read-only" : "", buffers);
	else
		printf("lifeboat serve: NBD on port %u, export \"%s\", %llu bytes%s\n",
		       port, export_name, (unsigned long long)st.size,
		       ro ? " read-only" : "");
	if (noise_ip && frags_ip && noise_ip != frags_ip)
		fprintf(stderr,
			"lifeboat serve: --frags-to differs from --noise-to: fragments not sent\n");
	if (noise_ip || frags_ip) {
		/* 20k datagrams/s and four bulk senders, as the simulator's noise */
		struct noise_config nc = {
			.dst_ip = noise_ip ? noise_ip : frags_ip,
			.udp_pps = noise_ip ? 20000 : 0,
			.tcp_conns = noise_ip ? 4 : 0,
			.frag_pps = frags_ip && (!noise_ip ||
						 frags_ip == noise_ip) ?
					    frag_pps :
					    0
		};

		noise = noise_source_start(t.net, &nc);
		if (!noise)
			fprintf(stderr,
				"lifeboat serve: cannot start the noise\n");
	}
	if (serve_stall.for_ns) {
		serve_stall.nbd = nbd;
		serve_stall.itgt = itgt;
		serve_stall.aoe = tgt;
		serve_stall.nfs = nfs_srv;
		serve_stall.host = t.host;
		timer_init(&serve_stall.timer, serve_stall_fire);
		timer_arm_in(&t.loop, &serve_stall.timer, stall_after);
	}
	fflush(stdout);
	tool_host_run(&t);
	if (serve_stall.for_ns)
		timer_cancel(&t.loop, &serve_stall.timer);
	if (noise)
		noise_source_stop(noise);
	if (!quiet) {
		printf("\n");
		stats_print_table(&t.host->stats, stdout, "");
	}
	if (json)
		tool_write_stats_json(&t.host->stats, json);
	if (itgt)
		iscsi_target_destroy(itgt);
	if (tgt)
		aoe_target_destroy(tgt);
	if (nbd)
		nbd_server_destroy(nbd);
	if (nfs_srv)
		nfs_server_destroy(nfs_srv);
	tool_host_stop(&t);
	store_close(&st);
	nfs_export_destroy(exp);
	return 0;
}
