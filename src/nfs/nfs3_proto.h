/* SPDX-License-Identifier: MIT */
/*
 * nfs3_proto.h - MOUNT v3 and NFSv3 (RFC 1813) argument and result codecs,
 * and the mapping of their status codes to errno and to names.
 *
 * Both directions are here, shared by the client and the server: the
 * client encodes arguments and decodes results, the server decodes
 * arguments and encodes results, with the same sub-codecs (file handles,
 * fattr3, sattr3, wcc_data).  A decoder returns 0 for an NFS3_OK result,
 * the status as a negative errno for a well-formed failure (the status
 * itself in ->status, for the log), or -EBADMSG when the bytes are not a
 * well-formed result of that procedure.  READ and WRITE data are never
 * copied: a decoder returns a pointer into the record, an encoder leaves
 * room (or takes the bytes) so the caller can send pages by reference.
 *
 * Memory rules: pure functions over caller buffers, nothing allocates;
 * the parsers are fuzzed alone (fuzz/fuzz_rpc_reply.c, fuzz_nfs_call.c).
 */
#ifndef LB_NFS_NFS3_PROTO_H
#define LB_NFS_NFS3_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include "rpc/xdr.h"

#define NFS_PROG 100003
#define NFS_V3 3
#define NFS_PORT 2049
#define MOUNT_PROG 100005
#define MOUNT_V3 3

enum nfs3_proc {
	NFSPROC3_NULL = 0,
	NFSPROC3_GETATTR = 1,
	NFSPROC3_SETATTR = 2,
	NFSPROC3_LOOKUP = 3,
	NFSPROC3_ACCESS = 4,
	NFSPROC3_READLINK = 5,
	NFSPROC3_READ = 6,
	NFSPROC3_WRITE = 7,
	NFSPROC3_CREATE = 8,
	NFSPROC3_MKDIR = 9,
	NFSPROC3_SYMLINK = 10,
	NFSPROC3_MKNOD = 11,
	NFSPROC3_REMOVE = 12,
	NFSPROC3_RMDIR = 13,
	NFSPROC3_RENAME = 14,
	NFSPROC3_LINK = 15,
	NFSPROC3_READDIR = 16,
	NFSPROC3_READDIRPLUS = 17,
	NFSPROC3_FSSTAT = 18,
	NFSPROC3_FSINFO = 19,
	NFSPROC3_PATHCONF = 20,
	NFSPROC3_COMMIT = 21,
	NFSPROC3_NR,
};

#define MOUNTPROC3_NULL 0
#define MOUNTPROC3_MNT 1
#define MOUNTPROC3_DUMP 2
#define MOUNTPROC3_UMNT 3
#define MOUNTPROC3_EXPORT 5

/* nfsstat3 */
#define NFS3_OK 0
#define NFS3ERR_PERM 1
#define NFS3ERR_NOENT 2
#define NFS3ERR_IO 5
#define NFS3ERR_NXIO 6
#define NFS3ERR_ACCES 13
#define NFS3ERR_EXIST 17
#define NFS3ERR_XDEV 18
#define NFS3ERR_NODEV 19
#define NFS3ERR_NOTDIR 20
#define NFS3ERR_ISDIR 21
#define NFS3ERR_INVAL 22
#define NFS3ERR_FBIG 27
#define NFS3ERR_NOSPC 28
#define NFS3ERR_ROFS 30
#define NFS3ERR_MLINK 31
#define NFS3ERR_NAMETOOLONG 63
#define NFS3ERR_NOTEMPTY 66
#define NFS3ERR_DQUOT 69
#define NFS3ERR_STALE 70
#define NFS3ERR_REMOTE 71
#define NFS3ERR_BADHANDLE 10001
#define NFS3ERR_NOT_SYNC 10002
#define NFS3ERR_BAD_COOKIE 10003
#define NFS3ERR_NOTSUPP 10004
#define NFS3ERR_TOOSMALL 10005
#define NFS3ERR_SERVERFAULT 10006
#define NFS3ERR_BADTYPE 10007
#define NFS3ERR_JUKEBOX 10008

/* mountstat3 */
#define MNT3_OK 0
#define MNT3ERR_PERM 1
#define MNT3ERR_NOENT 2
#define MNT3ERR_IO 5
#define MNT3ERR_ACCES 13
#define MNT3ERR_NOTDIR 20
#define MNT3ERR_INVAL 22
#define MNT3ERR_NAMETOOLONG 63
#define MNT3ERR_NOTSUPP 10004
#define MNT3ERR_SERVERFAULT 10006

#define NFS3_FHSIZE 64
#define NFS3_VERFSIZE 8
#define MNT3_PATHLEN 1024
#define NFS3_NAMELEN 255

enum nfs3_stable {
	NFS3_UNSTABLE = 0,
	NFS3_DATA_SYNC = 1,
	NFS3_FILE_SYNC = 2,
};

enum nfs3_ftype {
	NF3REG = 1,
	NF3DIR = 2,
	NF3BLK = 3,
	NF3CHR = 4,
	NF3LNK = 5,
	NF3SOCK = 6,
	NF3FIFO = 7,
};

enum nfs3_createmode {
	NFS3_CREATE_UNCHECKED = 0,
	NFS3_CREATE_GUARDED = 1,
	NFS3_CREATE_EXCLUSIVE = 2,
};

#define NFS3_TIME_DONT_CHANGE 0
#define NFS3_TIME_SERVER 1
#define NFS3_TIME_CLIENT 2

#define NFS3_ACCESS_READ 0x01
#define NFS3_ACCESS_LOOKUP 0x02
#define NFS3_ACCESS_MODIFY 0x04
#define NFS3_ACCESS_EXTEND 0x08
#define NFS3_ACCESS_DELETE 0x10
#define NFS3_ACCESS_EXECUTE 0x20

struct nfs_fh3 {
	uint32_t len;
	uint8_t data[NFS3_FHSIZE];
};

struct nfs_time3 {
	uint32_t sec, nsec;
};

struct nfs_fattr3 {
	uint32_t type, mode, nlink, uid, gid;
	uint64_t size, used;
	uint32_t rdev[2];
	uint64_t fsid, fileid;
	struct nfs_time3 atime, mtime, ctime;
};

struct nfs_sattr3 {
	bool set_mode, set_uid, set_gid, set_size;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint32_t atime_how, mtime_how; /* NFS3_TIME_* */
	struct nfs_time3 atime, mtime;
};

struct nfs_wcc3 {
	bool has_pre, has_post;
	uint64_t pre_size;
	struct nfs_time3 pre_mtime, pre_ctime;
	struct nfs_fattr3 post;
};

/* ---- results, as the client decodes them and the server encodes them ---- */

struct nfs3_attr_res { /* GETATTR */
	uint32_t status;
	struct nfs_fattr3 attr;
};

struct nfs3_lookup_res {
	uint32_t status;
	struct nfs_fh3 fh;
	bool has_obj, has_dir;
	struct nfs_fattr3 obj, dir;
};

struct nfs3_access_res {
	uint32_t status;
	bool has_attr;
	struct nfs_fattr3 attr;
	uint32_t access;
};

struct nfs3_read_res {
	uint32_t status;
	bool has_attr, eof;
	struct nfs_fattr3 attr;
	uint32_t count;
	const uint8_t *data; /* into the record; count bytes */
};

struct nfs3_write_res {
	uint32_t status;
	struct nfs_wcc3 wcc;
	uint32_t count, committed;
	uint8_t verf[NFS3_VERFSIZE];
};

struct nfs3_commit_res {
	uint32_t status;
	struct nfs_wcc3 wcc;
	uint8_t verf[NFS3_VERFSIZE];
};

struct nfs3_create_res { /* CREATE, MKDIR */
	uint32_t status;
	bool has_fh, has_attr;
	struct nfs_fh3 fh;
	struct nfs_fattr3 attr;
	struct nfs_wcc3 dir_wcc;
};

struct nfs3_wcc_res { /* SETATTR, REMOVE */
	uint32_t status;
	struct nfs_wcc3 wcc;
};

struct nfs3_fsinfo_res {
	uint32_t status;
	bool has_attr;
	struct nfs_fattr3 attr;
	uint32_t rtmax, rtpref, rtmult, wtmax, wtpref, wtmult, dtpref;
	uint64_t maxfilesize;
	struct nfs_time3 time_delta;
	uint32_t properties;
};

struct nfs3_fsstat_res {
	uint32_t status;
	bool has_attr;
	struct nfs_fattr3 attr;
	uint64_t tbytes, fbytes, abytes, tfiles, ffiles, afiles;
	uint32_t invarsec;
};

/* READDIRPLUS: the header, then entries read one by one. */
struct nfs3_readdirplus_res {
	uint32_t status;
	bool has_attr;
	struct nfs_fattr3 attr;
	uint8_t cookieverf[NFS3_VERFSIZE];
};

struct nfs3_dirent {
	uint64_t fileid, cookie;
	char name[NFS3_NAMELEN + 1];
	bool has_attr, has_fh;
	struct nfs_fattr3 attr;
	struct nfs_fh3 fh;
};

struct mnt3_res {
	uint32_t status;
	struct nfs_fh3 fh;
	bool auth_sys, auth_none; /* among the flavours offered */
};

/* ---- status codes ---- */

/* An nfsstat3 as a negative errno (unknown: -EIO); NFS3_OK is 0. */
int nfs3_errno(uint32_t status);
/* "NFS3ERR_STALE", ...; unknown values "NFS3ERR_UNKNOWN". */
const char *nfs3_stat_name(uint32_t status);
/* A negative errno as the nfsstat3 a server sends (unlisted: IO). */
uint32_t nfs3_stat_from_errno(int err);
int mnt3_errno(uint32_t status);
const char *mnt3_stat_name(uint32_t status);
const char *nfs3_proc_name(uint32_t proc);
/*
 * How long to wait before retrying a call answered NFS3ERR_JUKEBOX for
 * the @tries-th time: @base doubled each time, capped at @cap.
 */
uint64_t nfs3_jukebox_delay(unsigned tries, uint64_t base, uint64_t cap);

/* ---- sub-codecs ---- */

void nfs3_put_fh(struct xdr_out *x, const struct nfs_fh3 *fh);
void nfs3_get_fh(struct xdr_in *x, struct nfs_fh3 *fh);
void nfs3_put_fattr(struct xdr_out *x, const struct nfs_fattr3 *a);
void nfs3_get_fattr(struct xdr_in *x, struct nfs_fattr3 *a);
void nfs3_put_post_op_attr(struct xdr_out *x, const struct nfs_fattr3 *a);
bool nfs3_get_post_op_attr(struct xdr_in *x, struct nfs_fattr3 *a);
void nfs3_put_sattr(struct xdr_out *x, const struct nfs_sattr3 *s);
void nfs3_get_sattr(struct xdr_in *x, struct nfs_sattr3 *s);
void nfs3_put_wcc(struct xdr_out *x, const struct nfs_wcc3 *w);
void nfs3_get_wcc(struct xdr_in *x, struct nfs_wcc3 *w);

/* ---- client: arguments ---- */

/* GETATTR, FSSTAT, FSINFO, PATHCONF, READLINK: just the handle. */
void nfs3_enc_fh_args(struct xdr_out *x, const struct nfs_fh3 *fh);
/* LOOKUP, REMOVE, RMDIR */
void nfs3_enc_diropargs(struct xdr_out *x, const struct nfs_fh3 *dir,
			const char *name);
void nfs3_enc_setattr(struct xdr_out *x, const struct nfs_fh3 *fh,
		      const struct nfs_sattr3 *s);
void nfs3_enc_access(struct xdr_out *x, const struct nfs_fh3 *fh,
		     uint32_t access);
void nfs3_enc_read(struct xdr_out *x, const struct nfs_fh3 *fh, uint64_t off,
		   uint32_t count);
/*
 * WRITE up to and including the data's length word: the @count data
 * bytes and xdr_pad4(count) - count zero bytes follow, sent by reference.
 */
void nfs3_enc_write_hdr(struct xdr_out *x, const struct nfs_fh3 *fh,
			uint64_t off, uint32_t count, uint32_t stable);
void nfs3_enc_commit(struct xdr_out *x, const struct nfs_fh3 *fh, uint64_t off,
		     uint32_t count);
/* UNCHECKED or GUARDED with @s; EXCLUSIVE with @verf. */
void nfs3_enc_create(struct xdr_out *x, const struct nfs_fh3 *dir,
		     const char *name, uint32_t mode,
		     const struct nfs_sattr3 *s,
		     const uint8_t verf[NFS3_VERFSIZE]);
void nfs3_enc_mkdir(struct xdr_out *x, const struct nfs_fh3 *dir,
		    const char *name, const struct nfs_sattr3 *s);
void nfs3_enc_readdirplus(struct xdr_out *x, const struct nfs_fh3 *dir,
			  uint64_t cookie,
			  const uint8_t cookieverf[NFS3_VERFSIZE],
			  uint32_t dircount, uint32_t maxcount);
void mnt3_enc_dirpath(struct xdr_out *x, const char *path);

/* ---- client: results ---- */

int nfs3_dec_getattr(struct xdr_in *x, struct nfs3_attr_res *r);
int nfs3_dec_lookup(struct xdr_in *x, struct nfs3_lookup_res *r);
int nfs3_dec_access(struct xdr_in *x, struct nfs3_access_res *r);
/* -EBADMSG also when the data is longer than @asked or count disagrees. */
int nfs3_dec_read(struct xdr_in *x, uint32_t asked, struct nfs3_read_res *r);
/*
 * The head of a record that may be a successful READ reply: everything
 * before its data, so that the data can be received straight into the
 * pages it belongs in.  @buf holds the record's first @len bytes.  Returns
 * 0 when the head is complete (*@head: its length; @r: status, attributes,
 * count and eof; data NULL), the record length needed to tell more
 * (> @len), or -ENOENT when the record is not a successful READ reply
 * whose data follows (an RPC or NFS error, malformed, count disagreeing
 * with the data's length): the caller then takes the whole record and
 * decodes it with rpc_decode_reply() and nfs3_dec_read().
 */
int nfs3_read_reply_head(const uint8_t *buf, uint32_t len, uint32_t *head,
			 struct nfs3_read_res *r);
/* -EBADMSG also when count exceeds @sent or committed is not a stable_how. */
int nfs3_dec_write(struct xdr_in *x, uint32_t sent, struct nfs3_write_res *r);
int nfs3_dec_commit(struct xdr_in *x, struct nfs3_commit_res *r);
int nfs3_dec_create(struct xdr_in *x, struct nfs3_create_res *r);
int nfs3_dec_wcc_res(struct xdr_in *x, struct nfs3_wcc_res *r);
int nfs3_dec_fsinfo(struct xdr_in *x, struct nfs3_fsinfo_res *r);
int nfs3_dec_fsstat(struct xdr_in *x, struct nfs3_fsstat_res *r);
int nfs3_dec_readdirplus(struct xdr_in *x, struct nfs3_readdirplus_res *r);
/*
 * The next entry after nfs3_dec_readdirplus(): 1 with @e filled, 0 at the
 * end of the list (*eof set from the reply), -EBADMSG.
 */
int nfs3_dec_dirent(struct xdr_in *x, struct nfs3_dirent *e, bool *eof);
int mnt3_dec_mnt(struct xdr_in *x, struct mnt3_res *r);

/* ---- server: arguments (0 or -EBADMSG: answer GARBAGE_ARGS) ---- */

struct nfs3_args {
	struct nfs_fh3 fh; /* the object, or the directory */
	char name[NFS3_NAMELEN + 1]; /* diropargs */
	uint64_t offset, cookie;
	uint32_t count, stable, access, how;
	uint32_t dircount, maxcount;
	struct nfs_sattr3 sattr;
	bool guard; /* SETATTR: guard given (ctime in guard_ctime) */
	struct nfs_time3 guard_ctime;
	uint8_t verf[NFS3_VERFSIZE]; /* CREATE EXCLUSIVE, READDIRPLUS */
	const uint8_t *data; /* WRITE: count bytes into the record */
	char path[MNT3_PATHLEN + 1]; /* MOUNT */
};

/* The arguments of @proc (an NFSv3 procedure), or -EOPNOTSUPP. */
int nfs3_dec_args(struct xdr_in *x, uint32_t proc, struct nfs3_args *a);
int mnt3_dec_args(struct xdr_in *x, uint32_t proc, struct nfs3_args *a);

/* ---- server: results ---- */

void nfs3_enc_getattr_res(struct xdr_out *x, const struct nfs3_attr_res *r);
void nfs3_enc_lookup_res(struct xdr_out *x, const struct nfs3_lookup_res *r);
void nfs3_enc_access_res(struct xdr_out *x, const struct nfs3_access_res *r);
/* Up to the data length: the data and its padding follow. */
void nfs3_enc_read_res_hdr(struct xdr_out *x, const struct nfs3_read_res *r);
void nfs3_enc_write_res(struct xdr_out *x, const struct nfs3_write_res *r);
void nfs3_enc_commit_res(struct xdr_out *x, const struct nfs3_commit_res *r);
void nfs3_enc_create_res(struct xdr_out *x, const struct nfs3_create_res *r);
void nfs3_enc_wcc_res(struct xdr_out *x, const struct nfs3_wcc_res *r);
void nfs3_enc_fsinfo_res(struct xdr_out *x, const struct nfs3_fsinfo_res *r);
void nfs3_enc_fsstat_res(struct xdr_out *x, const struct nfs3_fsstat_res *r);
void nfs3_enc_readdirplus_hdr(struct xdr_out *x,
			      const struct nfs3_readdirplus_res *r);
void nfs3_enc_dirent(struct xdr_out *x, const struct nfs3_dirent *e);
/* After the entries: no more entries, then eof. */
void nfs3_enc_dirlist_end(struct xdr_out *x, bool eof);
void mnt3_enc_mnt_res(struct xdr_out *x, const struct mnt3_res *r);
/* EXPORT: one export, @path, open to every client (no group list). */
void mnt3_enc_export_res(struct xdr_out *x, const char *path);

#endif
