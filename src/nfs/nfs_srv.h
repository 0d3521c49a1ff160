/* SPDX-License-Identifier: MIT */
/*
 * nfs_srv.h - an NFSv3 export in RAM and the server's call dispatcher.
 *
 * The export is one flat directory of at most max_files regular files,
 * each backed by a RAM store of file_max bytes (an anonymous mapping made
 * when the export is created: the server's disk, not its host's memory).
 * It outlives the servers that serve it, so a restarted server finds the
 * files where they were, with a new write verifier.
 *
 * nfs_srv_dispatch() turns one RPC record from a client into the reply
 * record, for the portmapper (GETPORT answers our own port for MOUNT v3
 * and NFSv3 over TCP), MOUNT v3 (MNT, UMNT, NULL) and NFSv3 (NULL, GETATTR,
 * SETATTR, LOOKUP, ACCESS, READ, WRITE, CREATE, REMOVE, READDIRPLUS,
 * FSSTAT, FSINFO, PATHCONF, COMMIT; other procedures PROC_UNAVAIL).
 * Malformed calls get GARBAGE_ARGS or an RPC error reply, never a crash;
 * records that are not calls are dropped and counted.  WRITEs go to the
 * store at once and are answered UNSTABLE unless FILE_SYNC was asked; the
 * verifier of a boot is what makes COMMIT meaningful to clients.
 *
 * Memory rules: the export and its stores are made with libc/mmap at
 * creation; dispatch allocates nothing (it writes into the caller's
 * reply buffer).
 */
#ifndef LB_NFS_NFS_SRV_H
#define LB_NFS_NFS_SRV_H

#include <stdbool.h>
#include <stdint.h>
#include "block/store.h"
#include "core/stats.h"
#include "nfs3_proto.h"

#define NFS_SRV_MAX_FILES 64
/* Largest READ/WRITE payload we offer (FSINFO rtmax/wtmax). */
#define NFS_SRV_MAX_IO (64u * 1024)
/* Largest call record accepted, and largest reply: payload plus headers. */
#define NFS_SRV_MAX_RECORD (NFS_SRV_MAX_IO + 1024)

struct nfs_file {
	bool used;
	char name[NFS3_NAMELEN + 1];
	uint32_t gen, mode, uid, gid;
	uint64_t ino; /* a directory export's: the file's inode number */
	uint64_t size;
	struct nfs_time3 mtime, ctime;
	struct blk_store st;
};

/* UNSTABLE writes remembered until a COMMIT, to be lost in a crash. */
#define NFS_SRV_MAX_UNSTABLE 256

struct nfs_unstable {
	uint32_t slot, gen, len;
	uint64_t off;
};

struct nfs_export {
	char path[MNT3_PATHLEN + 1];
	unsigned max_files;
	uint64_t file_max;
	/*
	 * A directory export's directory (-1: RAM).  Its regular files are
	 * the export's files, opened with O_NOFOLLOW relative to it; handles
	 * carry the inode number and generation, so they stay valid across
	 * a restart of the server on the same directory.
	 */
	int dirfd;
	uint32_t fsid;
	uint64_t change; /* bumps on every change: times and the dir cookie */
	struct nfs_file file[NFS_SRV_MAX_FILES];
	/*
	 * With volatile_writes, what was written UNSTABLE and not yet
	 * committed is lost by nfs_export_crash(), as a server's page cache
	 * is when it loses power.  When the list is full, WRITEs are made
	 * stable (answered FILE_SYNC) instead.
	 */
	bool volatile_writes;
	unsigned nr_unstable;
	struct nfs_unstable unstable[NFS_SRV_MAX_UNSTABLE];
};

// clang-format off
#define NFS_SRV_STATS(X) \
	X(calls) \
	X(dropped) \
	X(garbage_args) \
	X(auth_errors) \
	X(insecure_ports) \
	X(prog_unavail) \
	X(proc_unavail) \
	X(mounts) \
	X(reads) \
	X(writes) \
	X(commits) \
	X(creates) \
	X(errors) \
	X(bytes_read) \
	X(bytes_written)
// clang-format on

#define NFS_SRV_STAT_FIELD(name) struct counter name;
struct nfs_srv_stats {
	NFS_SRV_STATS(NFS_SRV_STAT_FIELD)
};
#undef NFS_SRV_STAT_FIELD

struct nfs_srv {
	struct nfs_export *exp;
	uint8_t verf[NFS3_VERFSIZE]; /* this boot's write verifier */
	uint16_t port; /* what GETPORT answers */
	bool read_only;
	/*
	 * Like knfsd's "secure": NFS and MOUNT calls (but NULL) from a
	 * source port >= 1024 are denied with AUTH_TOOWEAK.  peer_port is
	 * the current call's source port, set by the caller of dispatch.
	 */
	bool secure;
	uint16_t peer_port;
	uint32_t now_sec; /* for times, from the host clock */
	/* the last call refused at the RPC level, for the caller to log */
	const char *refused; /* "PROC_UNAVAIL", ...; NULL: none */
	uint32_t refused_prog, refused_vers, refused_proc;
	struct nfs_srv_stats st;
};

/* An export at @path with room for @max_files files of @file_max bytes. */
int nfs_export_create(const char *path, unsigned max_files, uint64_t file_max,
		      struct nfs_export **out);
/*
 * An export at @path of the regular files in the directory @dir (what
 * else is there, symbolic links and directories included, is not
 * served), at most @max_files of them, each growing to at most @file_max
 * bytes; CREATE and REMOVE create and unlink files in @dir, COMMIT and
 * FILE_SYNC writes fdatasync.  -EMFILE when @dir holds more than
 * @max_files regular files.
 */
int nfs_export_create_dir(const char *path, const char *dir, unsigned max_files,
			  uint64_t file_max, struct nfs_export **out);
void nfs_export_destroy(struct nfs_export *exp);
/*
 * A crash: with volatile_writes, the data of every UNSTABLE write not yet
 * committed reads as zeroes afterwards.  Returns how many writes were lost.
 */
unsigned nfs_export_crash(struct nfs_export *exp);
/* The file named @name, or NULL. */
struct nfs_file *nfs_export_lookup(struct nfs_export *exp, const char *name);

/*
 * Answer the call in @rec (@len bytes) into @out (room @cap, at least
 * NFS_SRV_MAX_RECORD).  Returns the reply's length, or 0 when nothing is
 * to be sent (not a call: dropped and counted).
 */
uint32_t nfs_srv_dispatch(struct nfs_srv *srv, const uint8_t *rec, uint32_t len,
			  uint8_t *out, uint32_t cap);

#endif
