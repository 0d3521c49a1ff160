// SPDX-License-Identifier: MIT
/*
 * nfs3_proto.c - MOUNT v3 and NFSv3 codecs.
 *
 * Every result union begins with the status; the arm that follows is
 * chosen by it, so the decoders read the status first, then whatever the
 * failure arm carries too (post_op_attr or wcc_data), so that a failed
 * result is still checked for being well formed before it is believed.
 */
#include <errno.h>
#include <string.h>
#include "nfs3_proto.h"
#include "rpc/rpc_proto.h"

static const struct {
	uint32_t stat;
	int err;
	const char *name;
} nfs3_stats[] = {
	{ NFS3_OK, 0, "NFS3_OK" },
	{ NFS3ERR_PERM, -EPERM, "NFS3ERR_PERM" },
	{ NFS3ERR_NOENT, -ENOENT, "NFS3ERR_NOENT" },
	{ NFS3ERR_IO, -EIO, "NFS3ERR_IO" },
	{ NFS3ERR_NXIO, -ENXIO, "NFS3ERR_NXIO" },
	{ NFS3ERR_ACCES, -EACCES, "NFS3ERR_ACCES" },
	{ NFS3ERR_EXIST, -EEXIST, "NFS3ERR_EXIST" },
	{ NFS3ERR_XDEV, -EXDEV, "NFS3ERR_XDEV" },
	{ NFS3ERR_NODEV, -ENODEV, "NFS3ERR_NODEV" },
	{ NFS3ERR_NOTDIR, -ENOTDIR, "NFS3ERR_NOTDIR" },
	{ NFS3ERR_ISDIR, -EISDIR, "NFS3ERR_ISDIR" },
	{ NFS3ERR_INVAL, -EINVAL, "NFS3ERR_INVAL" },
	{ NFS3ERR_FBIG, -EFBIG, "NFS3ERR_FBIG" },
	{ NFS3ERR_NOSPC, -ENOSPC, "NFS3ERR_NOSPC" },
	{ NFS3ERR_ROFS, -EROFS, "NFS3ERR_ROFS" },
	{ NFS3ERR_MLINK, -EMLINK, "NFS3ERR_MLINK" },
	{ NFS3ERR_NAMETOOLONG, -ENAMETOOLONG, "NFS3ERR_NAMETOOLONG" },
	{ NFS3ERR_NOTEMPTY, -ENOTEMPTY, "NFS3ERR_NOTEMPTY" },
	{ NFS3ERR_DQUOT, -EDQUOT, "NFS3ERR_DQUOT" },
	{ NFS3ERR_STALE, -ESTALE, "NFS3ERR_STALE" },
	{ NFS3ERR_REMOTE, -EREMOTE, "NFS3ERR_REMOTE" },
	{ NFS3ERR_BADHANDLE, -EBADF, "NFS3ERR_BADHANDLE" },
	{ NFS3ERR_NOT_SYNC, -EIO, "NFS3ERR_NOT_SYNC" },
	{ NFS3ERR_BAD_COOKIE, -EBADE, "NFS3ERR_BAD_COOKIE" },
	{ NFS3ERR_NOTSUPP, -EOPNOTSUPP, "NFS3ERR_NOTSUPP" },
	{ NFS3ERR_TOOSMALL, -EOVERFLOW, "NFS3ERR_TOOSMALL" },
	{ NFS3ERR_SERVERFAULT, -EREMOTEIO, "NFS3ERR_SERVERFAULT" },
	{ NFS3ERR_BADTYPE, -EINVAL, "NFS3ERR_BADTYPE" },
	{ NFS3ERR_JUKEBOX, -EAGAIN, "NFS3ERR_JUKEBOX" },
};

#define NR_NFS3_STATS (sizeof(nfs3_stats) / sizeof(nfs3_stats[0]))

int nfs3_errno(uint32_t status)
{
	for (unsigned i = 0; i < NR_NFS3_STATS; i++)
		if (nfs3_stats[i].stat == status)
			return nfs3_stats[i].err;
	return -EIO;
}

const char *nfs3_stat_name(uint32_t status)
{
	for (unsigned i = 0; i < NR_NFS3_STATS; i++)
		if (nfs3_stats[i].stat == status)
			return nfs3_stats[i].name;
	return "NFS3ERR_UNKNOWN";
}

uint32_t nfs3_stat_from_errno(int err)
{
	if (!err)
		return NFS3_OK;
	/* the first entry for an errno is its canonical status */
	for (unsigned i = 1; i < NR_NFS3_STATS; i++)
		if (nfs3_stats[i].err == err)
			return nfs3_stats[i].stat;
	return NFS3ERR_IO;
}

int mnt3_errno(uint32_t status)
{
	/* mountstat3 values are errno numbers where they overlap nfsstat3 */
	return status == MNT3_OK ? 0 : nfs3_errno(status);
}

const char *mnt3_stat_name(uint32_t status)
{
	switch (status) {
	case MNT3_OK:
		return "MNT3_OK";
	case MNT3ERR_PERM:
		return "MNT3ERR_PERM";
	case MNT3ERR_NOENT:
		return "MNT3ERR_NOENT";
	case MNT3ERR_IO:
		return "MNT3ERR_IO";
	case MNT3ERR_ACCES:
		return "MNT3ERR_ACCES";
	case MNT3ERR_NOTDIR:
		return "MNT3ERR_NOTDIR";
	case MNT3ERR_INVAL:
		return "MNT3ERR_INVAL";
	case MNT3ERR_NAMETOOLONG:
		return "MNT3ERR_NAMETOOLONG";
	case MNT3ERR_NOTSUPP:
		return "MNT3ERR_NOTSUPP";
	case MNT3ERR_SERVERFAULT:
		return "MNT3ERR_SERVERFAULT";
	}
	return "MNT3ERR_UNKNOWN";
}

static const char *const nfs3_proc_names[NFSPROC3_NR] = {
	"NULL",	  "GETATTR", "SETATTR",	 "LOOKUP", "ACCESS",  "READLINK",
	"READ",	  "WRITE",   "CREATE",	 "MKDIR",  "SYMLINK", "MKNOD",
	"REMOVE", "RMDIR",   "RENAME",	 "LINK",   "READDIR", "READDIRPLUS",
	"FSSTAT", "FSINFO",  "PATHCONF", "COMMIT",
};

const char *nfs3_proc_name(uint32_t proc)
{
	return proc < NFSPROC3_NR ? nfs3_proc_names[proc] : "UNKNOWN";
}

uint64_t nfs3_jukebox_delay(unsigned tries, uint64_t base, uint64_t cap)
{
	uint64_t d = base;

	for (unsigned i = 0; i < tries && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

/* ---- sub-codecs ---- */

void nfs3_put_fh(struct xdr_out *x, const struct nfs_fh3 *fh)
{
	xdr_put_opaque(x, fh->data, fh->len);
}

void nfs3_get_fh(struct xdr_in *x, struct nfs_fh3 *fh)
{
	const uint8_t *p = xdr_get_opaque(x, NFS3_FHSIZE, &fh->len);

	if (p)
		memcpy(fh->data, p, fh->len);
	else
		fh->len = 0;
}

static void nfs3_put_time(struct xdr_out *x, const struct nfs_time3 *t)
{
	xdr_put_u32(x, t->sec);
	xdr_put_u32(x, t->nsec);
}

static void nfs3_get_time(struct xdr_in *x, struct nfs_time3 *t)
{
	t->sec = xdr_get_u32(x);
	t->nsec = xdr_get_u32(x);
}

void nfs3_put_fattr(struct xdr_out *x, const struct nfs_fattr3 *a)
{
	xdr_put_u32(x, a->type);
	xdr_put_u32(x, a->mode);
	xdr_put_u32(x, a->nlink);
	xdr_put_u32(x, a->uid);
	xdr_put_u32(x, a->gid);
	xdr_put_u64(x, a->size);
	xdr_put_u64(x, a->used);
	xdr_put_u32(x, a->rdev[0]);
	xdr_put_u32(x, a->rdev[1]);
	xdr_put_u64(x, a->fsid);
	xdr_put_u64(x, a->fileid);
	nfs3_put_time(x, &a->atime);
	nfs3_put_time(x, &a->mtime);
	nfs3_put_time(x, &a->ctime);
}

void nfs3_get_fattr(struct xdr_in *x, struct nfs_fattr3 *a)
{
	a->type = xdr_get_u32(x);
	a->mode = xdr_get_u32(x);
	a->nlink = xdr_get_u32(x);
	a->uid = xdr_get_u32(x);
	a->gid = xdr_get_u32(x);
	a->size = xdr_get_u64(x);
	a->used = xdr_get_u64(x);
	a->rdev[0] = xdr_get_u32(x);
	a->rdev[1] = xdr_get_u32(x);
	a->fsid = xdr_get_u64(x);
	a->fileid = xdr_get_u64(x);
	nfs3_get_time(x, &a->atime);
	nfs3_get_time(x, &a->mtime);
	nfs3_get_time(x, &a->ctime);
	if (!x->err && (a->type < NF3REG || a->type > NF3FIFO))
		x->err = -EBADMSG;
}

void nfs3_put_post_op_attr(struct xdr_out *x, const struct nfs_fattr3 *a)
{
	xdr_put_u32(x, a ? 1 : 0);
	if (a)
		nfs3_put_fattr(x, a);
}

bool nfs3_get_post_op_attr(struct xdr_in *x, struct nfs_fattr3 *a)
{
	bool has = xdr_get_bool(x);

	if (has)
		nfs3_get_fattr(x, a);
	return has && !x->err;
}

static void nfs3_put_set_time(struct xdr_out *x, uint32_t how,
			      const struct nfs_time3 *t)
{
	xdr_put_u32(x, how);
	if (how == NFS3_TIME_CLIENT)
		nfs3_put_time(x, t);
}

static void nfs3_get_set_time(struct xdr_in *x, uint32_t *how,
			      struct nfs_time3 *t)
{
	*how = xdr_get_u32(x);
	if (*how == NFS3_TIME_CLIENT)
		nfs3_get_time(x, t);
	else if (*how > NFS3_TIME_CLIENT && !x->err)
		x->err = -EBADMSG;
}

void nfs3_put_sattr(struct xdr_out *x, const struct nfs_sattr3 *s)
{
	xdr_put_u32(x, s->set_mode);
	if (s->set_mode)
		xdr_put_u32(x, s->mode);
	xdr_put_u32(x, s->set_uid);
	if (s->set_uid)
		xdr_put_u32(x, s->uid);
	xdr_put_u32(x, s->set_gid);
	if (s->set_gid)
		xdr_put_u32(x, s->gid);
	xdr_put_u32(x, s->set_size);
	if (s->set_size)
		xdr_put_u64(x, s->size);
	nfs3_put_set_time(x, s->atime_how, &s->atime);
	nfs3_put_set_time(x, s->mtime_how, &s->mtime);
}

void nfs3_get_sattr(struct xdr_in *x, struct nfs_sattr3 *s)
{
	memset(s, 0, sizeof(*s));
	if ((s->set_mode = xdr_get_bool(x)))
		s->mode = xdr_get_u32(x);
	if ((s->set_uid = xdr_get_bool(x)))
		s->uid = xdr_get_u32(x);
	if ((s->set_gid = xdr_get_bool(x)))
		s->gid = xdr_get_u32(x);
	if ((s->set_size = xdr_get_bool(x)))
		s->size = xdr_get_u64(x);
	nfs3_get_set_time(x, &s->atime_how, &s->atime);
	nfs3_get_set_time(x, &s->mtime_how, &s->mtime);
}

void nfs3_put_wcc(struct xdr_out *x, const struct nfs_wcc3 *w)
{
	xdr_put_u32(x, w->has_pre);
	if (w->has_pre) {
		xdr_put_u64(x, w->pre_size);
		nfs3_put_time(x, &w->pre_mtime);
		nfs3_put_time(x, &w->pre_ctime);
	}
	nfs3_put_post_op_attr(x, w->has_post ? &w->post : NULL);
}

void nfs3_get_wcc(struct xdr_in *x, struct nfs_wcc3 *w)
{
	if ((w->has_pre = xdr_get_bool(x))) {
		w->pre_size = xdr_get_u64(x);
		nfs3_get_time(x, &w->pre_mtime);
		nfs3_get_time(x, &w->pre_ctime);
	}
	w->has_post = nfs3_get_post_op_attr(x, &w->post);
}

/* ---- client: arguments ---- */

void nfs3_enc_fh_args(struct xdr_out *x, const struct nfs_fh3 *fh)
{
	nfs3_put_fh(x, fh);
}

void nfs3_enc_diropargs(struct xdr_out *x, const struct nfs_fh3 *dir,
			const char *name)
{
	nfs3_put_fh(x, dir);
	xdr_put_string(x, name);
}

void nfs3_enc_setattr(struct xdr_out *x, const struct nfs_fh3 *fh,
		      const struct nfs_sattr3 *s)
{
	nfs3_put_fh(x, fh);
	nfs3_put_sattr(x, s);
	xdr_put_u32(x, 0); /* no guard */
}

void nfs3_enc_access(struct xdr_out *x, const struct nfs_fh3 *fh,
		     uint32_t access)
{
	nfs3_put_fh(x, fh);
	xdr_put_u32(x, access);
}

void nfs3_enc_read(struct xdr_out *x, const struct nfs_fh3 *fh, uint64_t off,
		   uint32_t count)
{
	nfs3_put_fh(x, fh);
	xdr_put_u64(x, off);
	xdr_put_u32(x, count);
}

void nfs3_enc_write_hdr(struct xdr_out *x, const struct nfs_fh3 *fh,
			uint64_t off, uint32_t count, uint32_t stable)
{
	nfs3_put_fh(x, fh);
	xdr_put_u64(x, off);
	xdr_put_u32(x, count);
	xdr_put_u32(x, stable);
	xdr_put_u32(x, count);
}

void nfs3_enc_commit(struct xdr_out *x, const struct nfs_fh3 *fh, uint64_t off,
		     uint32_t count)
{
	nfs3_enc_read(x, fh, off, count);
}

void nfs3_enc_create(struct xdr_out *x, const struct nfs_fh3 *dir,
		     const char *name, uint32_t mode,
		     const struct nfs_sattr3 *s,
		     const uint8_t verf[NFS3_VERFSIZE])
{
	nfs3_enc_diropargs(x, dir, name);
	xdr_put_u32(x, mode);
	if (mode == NFS3_CREATE_EXCLUSIVE)
		xdr_put_fixed(x, verf, NFS3_VERFSIZE);
	else
		nfs3_put_sattr(x, s);
}

void nfs3_enc_mkdir(struct xdr_out *x, const struct nfs_fh3 *dir,
		    const char *name, const struct nfs_sattr3 *s)
{
	nfs3_enc_diropargs(x, dir, name);
	nfs3_put_sattr(x, s);
}

void nfs3_enc_readdirplus(struct xdr_out *x, const struct nfs_fh3 *dir,
			  uint64_t cookie,
			  const uint8_t cookieverf[NFS3_VERFSIZE],
			  uint32_t dircount, uint32_t maxcount)
{
	nfs3_put_fh(x, dir);
	xdr_put_u64(x, cookie);
	xdr_put_fixed(x, cookieverf, NFS3_VERFSIZE);
	xdr_put_u32(x, dircount);
	xdr_put_u32(x, maxcount);
}

void mnt3_enc_dirpath(struct xdr_out *x, const char *path)
{
	xdr_put_string(x, path);
}

/* ---- client: results ---- */

/* The status word, then 0 / the errno / -EBADMSG from the rest. */
static int nfs3_res_end(struct xdr_in *x, uint32_t status)
{
	if (x->err)
		return -EBADMSG;
	return nfs3_errno(status);
}

int nfs3_dec_getattr(struct xdr_in *x, struct nfs3_attr_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	if (r->status == NFS3_OK)
		nfs3_get_fattr(x, &r->attr);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_lookup(struct xdr_in *x, struct nfs3_lookup_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	if (r->status == NFS3_OK) {
		nfs3_get_fh(x, &r->fh);
		r->has_obj = nfs3_get_post_op_attr(x, &r->obj);
	}
	r->has_dir = nfs3_get_post_op_attr(x, &r->dir);
	if (!x->err && r->status == NFS3_OK && !r->fh.len)
		x->err = -EBADMSG;
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_access(struct xdr_in *x, struct nfs3_access_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	if (r->status == NFS3_OK)
		r->access = xdr_get_u32(x);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_read(struct xdr_in *x, uint32_t asked, struct nfs3_read_res *r)
{
	uint32_t len;

	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	if (r->status == NFS3_OK) {
		r->count = xdr_get_u32(x);
		r->eof = xdr_get_bool(x);
		r->data = xdr_get_opaque(x, asked, &len);
		/* a reply with more than asked for, or count != length */
		if (!x->err && len != r->count)
			x->err = -EBADMSG;
		if (x->err)
			r->data = NULL;
	}
	return nfs3_res_end(x, r->status);
}

/* XDR sizes of a READ reply's head: RPC reply up to the verifier body */
#define NFS3_RH_RPC 20
#define NFS3_RH_FATTR 84

static uint32_t nfs3_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int nfs3_read_reply_head(const uint8_t *buf, uint32_t len, uint32_t *head,
			 struct nfs3_read_res *r)
{
	struct rpc_reply_hdr h;
	struct xdr_in x;
	uint32_t off, follow, need, dlen;

	if (len < NFS3_RH_RPC)
		return NFS3_RH_RPC;
	if (nfs3_be32(buf + 4) != RPC_REPLY ||
	    nfs3_be32(buf + 8) != RPC_MSG_ACCEPTED ||
	    nfs3_be32(buf + 16) > RPC_AUTH_MAX_BODY)
		return -ENOENT;
	/* accept_stat, nfsstat3, attributes_follow */
	off = NFS3_RH_RPC + xdr_pad4(nfs3_be32(buf + 16));
	if (len < off + 12)
		return (int)(off + 12);
	follow = nfs3_be32(buf + off + 8);
	if (nfs3_be32(buf + off) != RPC_SUCCESS ||
	    nfs3_be32(buf + off + 4) != NFS3_OK || follow > 1)
		return -ENOENT;
	/* then count, eof and the data's length */
	need = off + 12 + (follow ? NFS3_RH_FATTR : 0) + 12;
	if (len < need)
		return (int)need;
	xdr_in_init(&x, buf, need);
	memset(r, 0, sizeof(*r));
	if (rpc_decode_reply(&x, &h))
		return -ENOENT;
	r->status = xdr_get_u32(&x);
	r->has_attr = nfs3_get_post_op_attr(&x, &r->attr);
	r->count = xdr_get_u32(&x);
	r->eof = xdr_get_bool(&x);
	dlen = xdr_get_u32(&x);
	if (x.err || x.pos != need || dlen != r->count)
		return -ENOENT;
	*head = need;
	return 0;
}

int nfs3_dec_write(struct xdr_in *x, uint32_t sent, struct nfs3_write_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	nfs3_get_wcc(x, &r->wcc);
	if (r->status == NFS3_OK) {
		r->count = xdr_get_u32(x);
		r->committed = xdr_get_u32(x);
		xdr_get_fixed(x, r->verf, NFS3_VERFSIZE);
		if (!x->err &&
		    (r->count > sent || r->committed > NFS3_FILE_SYNC))
			x->err = -EBADMSG;
	}
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_commit(struct xdr_in *x, struct nfs3_commit_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	nfs3_get_wcc(x, &r->wcc);
	if (r->status == NFS3_OK)
		xdr_get_fixed(x, r->verf, NFS3_VERFSIZE);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_create(struct xdr_in *x, struct nfs3_create_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	if (r->status == NFS3_OK) {
		if ((r->has_fh = xdr_get_bool(x)))
			nfs3_get_fh(x, &r->fh);
		r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	}
	nfs3_get_wcc(x, &r->dir_wcc);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_wcc_res(struct xdr_in *x, struct nfs3_wcc_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	nfs3_get_wcc(x, &r->wcc);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_fsinfo(struct xdr_in *x, struct nfs3_fsinfo_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	if (r->status == NFS3_OK) {
		r->rtmax = xdr_get_u32(x);
		r->rtpref = xdr_get_u32(x);
		r->rtmult = xdr_get_u32(x);
		r->wtmax = xdr_get_u32(x);
		r->wtpref = xdr_get_u32(x);
		r->wtmult = xdr_get_u32(x);
		r->dtpref = xdr_get_u32(x);
		r->maxfilesize = xdr_get_u64(x);
		nfs3_get_time(x, &r->time_delta);
		r->properties = xdr_get_u32(x);
	}
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_fsstat(struct xdr_in *x, struct nfs3_fsstat_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	if (r->status == NFS3_OK) {
		r->tbytes = xdr_get_u64(x);
		r->fbytes = xdr_get_u64(x);
		r->abytes = xdr_get_u64(x);
		r->tfiles = xdr_get_u64(x);
		r->ffiles = xdr_get_u64(x);
		r->afiles = xdr_get_u64(x);
		r->invarsec = xdr_get_u32(x);
	}
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_readdirplus(struct xdr_in *x, struct nfs3_readdirplus_res *r)
{
	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	r->has_attr = nfs3_get_post_op_attr(x, &r->attr);
	if (r->status == NFS3_OK)
		xdr_get_fixed(x, r->cookieverf, NFS3_VERFSIZE);
	return nfs3_res_end(x, r->status);
}

int nfs3_dec_dirent(struct xdr_in *x, struct nfs3_dirent *e, bool *eof)
{
	memset(e, 0, sizeof(*e));
	if (!xdr_get_bool(x)) {
		*eof = xdr_get_bool(x);
		return x->err ? -EBADMSG : 0;
	}
	e->fileid = xdr_get_u64(x);
	xdr_get_string(x, e->name, NFS3_NAMELEN);
	e->cookie = xdr_get_u64(x);
	e->has_attr = nfs3_get_post_op_attr(x, &e->attr);
	if ((e->has_fh = xdr_get_bool(x)))
		nfs3_get_fh(x, &e->fh);
	return x->err ? -EBADMSG : 1;
}

/* More flavours than this in one MNT reply is not a real server. */
#define MNT3_MAX_FLAVORS 32

int mnt3_dec_mnt(struct xdr_in *x, struct mnt3_res *r)
{
	uint32_t n;

	memset(r, 0, sizeof(*r));
	r->status = xdr_get_u32(x);
	if (r->status == MNT3_OK) {
		nfs3_get_fh(x, &r->fh);
		n = xdr_get_u32(x);
		if (n > MNT3_MAX_FLAVORS)
			x->err = -EBADMSG;
		for (uint32_t i = 0; i < n && !x->err; i++) {
			uint32_t f = xdr_get_u32(x);

			r->auth_sys |= f == 1;
			r->auth_none |= f == 0;
		}
		if (!x->err && !r->fh.len)
			x->err = -EBADMSG;
	}
	if (x->err)
		return -EBADMSG;
	return mnt3_errno(r->status);
}

/* ---- server: arguments ---- */

static void nfs3_get_diropargs(struct xdr_in *x, struct nfs3_args *a)
{
	nfs3_get_fh(x, &a->fh);
	xdr_get_string(x, a->name, NFS3_NAMELEN);
}

int nfs3_dec_args(struct xdr_in *x, uint32_t proc, struct nfs3_args *a)
{
	uint32_t len;

	memset(a, 0, sizeof(*a));
	switch (proc) {
	case NFSPROC3_NULL:
		break;
	case NFSPROC3_GETATTR:
	case NFSPROC3_FSSTAT:
	case NFSPROC3_FSINFO:
	case NFSPROC3_PATHCONF:
	case NFSPROC3_READLINK:
		nfs3_get_fh(x, &a->fh);
		break;
	case NFSPROC3_SETATTR:
		nfs3_get_fh(x, &a->fh);
		nfs3_get_sattr(x, &a->sattr);
		if ((a->guard = xdr_get_bool(x)))
			nfs3_get_time(x, &a->guard_ctime);
		break;
	case NFSPROC3_LOOKUP:
	case NFSPROC3_REMOVE:
	case NFSPROC3_RMDIR:
		nfs3_get_diropargs(x, a);
		break;
	case NFSPROC3_ACCESS:
		nfs3_get_fh(x, &a->fh);
		a->access = xdr_get_u32(x);
		break;
	case NFSPROC3_READ:
	case NFSPROC3_COMMIT:
		nfs3_get_fh(x, &a->fh);
		a->offset = xdr_get_u64(x);
		a->count = xdr_get_u32(x);
		break;
	case NFSPROC3_WRITE:
		nfs3_get_fh(x, &a->fh);
		a->offset = xdr_get_u64(x);
		a->count = xdr_get_u32(x);
		a->stable = xdr_get_u32(x);
		a->data = xdr_get_opaque(x, a->count, &len);
		if (!x->err && (len != a->count || a->stable > NFS3_FILE_SYNC))
			x->err = -EBADMSG;
		break;
	case NFSPROC3_CREATE:
		nfs3_get_diropargs(x, a);
		a->how = xdr_get_u32(x);
		if (a->how == NFS3_CREATE_EXCLUSIVE)
			xdr_get_fixed(x, a->verf, NFS3_VERFSIZE);
		else if (a->how <= NFS3_CREATE_GUARDED)
			nfs3_get_sattr(x, &a->sattr);
		else
			x->err = -EBADMSG;
		break;
	case NFSPROC3_MKDIR:
		nfs3_get_diropargs(x, a);
		nfs3_get_sattr(x, &a->sattr);
		break;
	case NFSPROC3_READDIRPLUS:
		nfs3_get_fh(x, &a->fh);
		a->cookie = xdr_get_u64(x);
		xdr_get_fixed(x, a->verf, NFS3_VERFSIZE);
		a->dircount = xdr_get_u32(x);
		a->maxcount = xdr_get_u32(x);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (x->err) {
		a->data = NULL;
		return -EBADMSG;
	}
	return 0;
}

int mnt3_dec_args(struct xdr_in *x, uint32_t proc, struct nfs3_args *a)
{
	memset(a, 0, sizeof(*a));
	switch (proc) {
	case MOUNTPROC3_NULL:
	case MOUNTPROC3_DUMP:
	case MOUNTPROC3_EXPORT:
		break;
	case MOUNTPROC3_MNT:
	case MOUNTPROC3_UMNT:
		xdr_get_string(x, a->path, MNT3_PATHLEN);
		break;
	default:
		return -EOPNOTSUPP;
	}
	return x->err ? -EBADMSG : 0;
}

/* ---- server: results ---- */

void nfs3_enc_getattr_res(struct xdr_out *x, const struct nfs3_attr_res *r)
{
	xdr_put_u32(x, r->status);
	if (r->status == NFS3_OK)
		nfs3_put_fattr(x, &r->attr);
}

void nfs3_enc_lookup_res(struct xdr_out *x, const struct nfs3_lookup_res *r)
{
	xdr_put_u32(x, r->status);
	if (r->status == NFS3_OK) {
		nfs3_put_fh(x, &r->fh);
		nfs3_put_post_op_attr(x, r->has_obj ? &r->obj : NULL);
	}
	nfs3_put_post_op_attr(x, r->has_dir ? &r->dir : NULL);
}

void nfs3_enc_access_res(struct xdr_out *x, const struct nfs3_access_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	if (r->status == NFS3_OK)
		xdr_put_u32(x, r->access);
}

void nfs3_enc_read_res_hdr(struct xdr_out *x, const struct nfs3_read_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	if (r->status == NFS3_OK) {
		xdr_put_u32(x, r->count);
		xdr_put_u32(x, r->eof);
		xdr_put_u32(x, r->count);
	}
}

void nfs3_enc_write_res(struct xdr_out *x, const struct nfs3_write_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_wcc(x, &r->wcc);
	if (r->status == NFS3_OK) {
		xdr_put_u32(x, r->count);
		xdr_put_u32(x, r->committed);
		xdr_put_fixed(x, r->verf, NFS3_VERFSIZE);
	}
}

void nfs3_enc_commit_res(struct xdr_out *x, const struct nfs3_commit_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_wcc(x, &r->wcc);
	if (r->status == NFS3_OK)
		xdr_put_fixed(x, r->verf, NFS3_VERFSIZE);
}

void nfs3_enc_create_res(struct xdr_out *x, const struct nfs3_create_res *r)
{
	xdr_put_u32(x, r->status);
	if (r->status == NFS3_OK) {
		xdr_put_u32(x, r->has_fh);
		if (r->has_fh)
			nfs3_put_fh(x, &r->fh);
		nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	}
	nfs3_put_wcc(x, &r->dir_wcc);
}

void nfs3_enc_wcc_res(struct xdr_out *x, const struct nfs3_wcc_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_wcc(x, &r->wcc);
}

void nfs3_enc_fsinfo_res(struct xdr_out *x, const struct nfs3_fsinfo_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u32(x, r->rtmax);
	xdr_put_u32(x, r->rtpref);
	xdr_put_u32(x, r->rtmult);
	xdr_put_u32(x, r->wtmax);
	xdr_put_u32(x, r->wtpref);
	xdr_put_u32(x, r->wtmult);
	xdr_put_u32(x, r->dtpref);
	xdr_put_u64(x, r->maxfilesize);
	nfs3_put_time(x, &r->time_delta);
	xdr_put_u32(x, r->properties);
}

void nfs3_enc_fsstat_res(struct xdr_out *x, const struct nfs3_fsstat_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u64(x, r->tbytes);
	xdr_put_u64(x, r->fbytes);
	xdr_put_u64(x, r->abytes);
	xdr_put_u64(x, r->tfiles);
	xdr_put_u64(x, r->ffiles);
	xdr_put_u64(x, r->afiles);
	xdr_put_u32(x, r->invarsec);
}

void nfs3_enc_readdirplus_hdr(struct xdr_out *x,
			      const struct nfs3_readdirplus_res *r)
{
	xdr_put_u32(x, r->status);
	nfs3_put_post_op_attr(x, r->has_attr ? &r->attr : NULL);
	if (r->status == NFS3_OK)
		xdr_put_fixed(x, r->cookieverf, NFS3_VERFSIZE);
}

void nfs3_enc_dirent(struct xdr_out *x, const struct nfs3_dirent *e)
{
	xdr_put_u32(x, 1);
	xdr_put_u64(x, e->fileid);
	xdr_put_string(x, e->name);
	xdr_put_u64(x, e->cookie);
	nfs3_put_post_op_attr(x, e->has_attr ? &e->attr : NULL);
	xdr_put_u32(x, e->has_fh);
	if (e->has_fh)
		nfs3_put_fh(x, &e->fh);
}

void nfs3_enc_dirlist_end(struct xdr_out *x, bool eof)
{
	xdr_put_u32(x, 0);
	xdr_put_u32(x, eof);
}

void mnt3_enc_mnt_res(struct xdr_out *x, const struct mnt3_res *r)
{
	xdr_put_u32(x, r->status);
	if (r->status != MNT3_OK)
		return;
	nfs3_put_fh(x, &r->fh);
	xdr_put_u32(x, (uint32_t)r->auth_sys + r->auth_none);
	if (r->auth_sys)
		xdr_put_u32(x, 1);
	if (r->auth_none)
		xdr_put_u32(x, 0);
}

void mnt3_enc_export_res(struct xdr_out *x, const char *path)
{
	xdr_put_u32(x, 1); /* an entry follows */
	xdr_put_string(x, path);
	xdr_put_u32(x, 0); /* no groups */
	xdr_put_u32(x, 0); /* no more entries */
}
