// SPDX-License-Identifier: MIT
/*
 * nfs_srv.c - the RAM export and the dispatcher of the NFS server.
 *
 * File handles are 16 bytes: a magic, the export's fsid, the slot of the
 * file (ROOT_SLOT for the directory) and the slot's generation, so a
 * handle to a removed file is STALE even after its slot is reused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "core/assert.h"
#include "core/compiler.h"
#include "nfs_srv.h"
#include "rpc/rpc_proto.h"

#define FH_MAGIC 0x4c424e46u /* "LBNF" */
#define ROOT_SLOT 0xffffffffu
#define FH_LEN 16

static struct nfs_export *export_alloc(const char *path, unsigned max_files,
				       uint64_t file_max)
{
	struct nfs_export *exp;

	if (!max_files || max_files > NFS_SRV_MAX_FILES || !file_max ||
	    file_max % 512 || strlen(path) > MNT3_PATHLEN || path[0] != '/')
		return NULL;
	exp = calloc(1, sizeof(*exp));
	if (!exp)
		return NULL;
	strcpy(exp->path, path);
	exp->max_files = max_files;
	exp->file_max = file_max;
	exp->fsid = 0x1b;
	exp->change = 1;
	exp->dirfd = -1;
	for (unsigned i = 0; i < NFS_SRV_MAX_FILES; i++)
		exp->file[i].st.fd = -1;
	return exp;
}

static bool name_ok(const char *n)
{
	return n[0] && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/');
}

/*
 * Open @f's file @name in the export's directory, creating it when
 * @create: never through a symbolic link, never anything but a regular
 * file.  The handle's generation is the inode's (FS_IOC_GETVERSION where
 * the file system has one), so a new file on a reused inode number has
 * another handle.
 */
static int dir_file_open(struct nfs_export *exp, struct nfs_file *f,
			 const char *name, bool create)
{
	struct stat sb;
	int fd, g = 0;

	fd = openat(exp->dirfd, name,
		    O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
			    (create ? O_CREAT | O_EXCL : 0),
		    0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int err = S_ISREG(sb.st_mode) ? -errno : -EINVAL;

		close(fd);
		return err;
	}
	if (ioctl(fd, FS_IOC_GETVERSION, &g) < 0)
		g = 0;
	f->used = true;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->ino = (uint64_t)sb.st_ino;
	f->gen = (uint32_t)g ^ (uint32_t)(sb.st_ino >> 32);
	f->mode = sb.st_mode & 07777;
	f->uid = sb.st_uid;
	f->gid = sb.st_gid;
	f->size = (uint64_t)sb.st_size;
	f->mtime.sec = (uint32_t)sb.st_mtim.tv_sec;
	f->mtime.nsec = (uint32_t)sb.st_mtim.tv_nsec;
	f->ctime.sec = (uint32_t)sb.st_ctim.tv_sec;
	f->ctime.nsec = (uint32_t)sb.st_ctim.tv_nsec;
	memset(&f->st, 0, sizeof(f->st));
	f->st.fd = fd;
	/* a file already larger than file_max can be served whole */
	f->st.size = lb_max(exp->file_max, (f->size + 511) & ~511ull);
	return 0;
}

int nfs_export_create_dir(const char *path, const char *dir, unsigned max_files,
			  uint64_t file_max, struct nfs_export **out)
{
	struct nfs_export *exp = export_alloc(path, max_files, file_max);
	struct dirent *de;
	unsigned n = 0;
	int err = 0, fd;
	DIR *d;

	if (!exp)
		return -EINVAL;
	exp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (exp->dirfd < 0) {
		err = -errno;
		free(exp);
		return err;
	}
	fd = dup(exp->dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		nfs_export_destroy(exp);
		return err;
	}
	while (!err && (de = readdir(d))) {
		struct stat sb;

		if (!name_ok(de->d_name) || strlen(de->d_name) > NFS3_NAMELEN ||
		    fstatat(exp->dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (n == max_files)
			err = -EMFILE;
		else
			err = dir_file_open(exp, &exp->file[n++], de->d_name,
					    false);
	}
	closedir(d);
	if (err) {
		nfs_export_destroy(exp);
		return err;
	}
	*out = exp;
	return 0;
}

int nfs_export_create(const char *path, unsigned max_files, uint64_t file_max,
		      struct nfs_export **out)
{
	struct nfs_export *exp = export_alloc(path, max_files, file_max);

	if (!exp)
		return -EINVAL;
	for (unsigned i = 0; i < max_files; i++) {
		int err = store_open_ram(&exp->file[i].st, file_max);

		if (err) {
			for (unsigned k = 0; k < i; k++)
				store_close(&exp->file[k].st);
			free(exp);
			return err;
		}
	}
	*out = exp;
	return 0;
}

void nfs_export_destroy(struct nfs_export *exp)
{
	if (!exp)
		return;
	for (unsigned i = 0; i < exp->max_files; i++)
		store_close(&exp->file[i].st);
	if (exp->dirfd >= 0)
		close(exp->dirfd);
	free(exp);
}

unsigned nfs_export_crash(struct nfs_export *exp)
{
	unsigned n = exp->nr_unstable;

	for (unsigned i = 0; i < n; i++) {
		struct nfs_unstable *u = &exp->unstable[i];
		struct nfs_file *f = &exp->file[u->slot];

		if (f->used && f->gen == u->gen)
			store_write_zeroes(&f->st, u->off, u->len);
	}
	exp->nr_unstable = 0;
	return n;
}

struct nfs_file *nfs_export_lookup(struct nfs_export *exp, const char *name)
{
	for (unsigned i = 0; i < exp->max_files; i++)
		if (exp->file[i].used && !strcmp(exp->file[i].name, name))
			return &exp->file[i];
	return NULL;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* What a handle names a file by: its slot, or a directory's inode. */
static uint32_t file_id(const struct nfs_export *exp, uint32_t slot)
{
	if (slot == ROOT_SLOT || exp->dirfd < 0)
		return slot;
	return (uint32_t)exp->file[slot].ino;
}

static void make_fh(const struct nfs_export *exp, uint32_t slot,
		    struct nfs_fh3 *fh)
{
	fh->len = FH_LEN;
	put_be32(fh->data, FH_MAGIC);
	put_be32(fh->data + 4, exp->fsid);
	put_be32(fh->data + 8, file_id(exp, slot));
	put_be32(fh->data + 12, slot == ROOT_SLOT ? 0 : exp->file[slot].gen);
}

/* The slot a handle names: ROOT_SLOT, a file's, or -EBADF / -ESTALE. */
static int64_t fh_slot(const struct nfs_export *exp, const struct nfs_fh3 *fh)
{
	uint32_t slot;

	if (fh->len != FH_LEN || get_be32(fh->data) != FH_MAGIC)
		return -EBADF;
	if (get_be32(fh->data + 4) != exp->fsid)
		return -ESTALE;
	slot = get_be32(fh->data + 8);
	if (slot == ROOT_SLOT)
		return get_be32(fh->data + 12) ? (int64_t)-ESTALE :
						 (int64_t)ROOT_SLOT;
	if (exp->dirfd >= 0) {
		/* an inode's: whichever slot it has in this boot */
		for (uint32_t i = 0; i < exp->max_files; i++)
			if (exp->file[i].used &&
			    (uint32_t)exp->file[i].ino == slot &&
			    exp->file[i].gen == get_be32(fh->data + 12))
				return i;
		return -ESTALE;
	}
	if (slot >= exp->max_files || !exp->file[slot].used ||
	    exp->file[slot].gen != get_be32(fh->data + 12))
		return -ESTALE;
	return slot;
}

static uint32_t fh_stat(int64_t err)
{
	return err == -EBADF ? NFS3ERR_BADHANDLE : NFS3ERR_STALE;
}

static void file_attr(const struct nfs_export *exp, uint32_t slot,
		      struct nfs_fattr3 *a)
{
	memset(a, 0, sizeof(*a));
	a->fsid = exp->fsid;
	if (slot == ROOT_SLOT) {
		unsigned n = 0;

		for (unsigned i = 0; i < exp->max_files; i++)
			n += exp->file[i].used;
		a->type = NF3DIR;
		a->mode = 0777;
		a->nlink = 2;
		a->size = 4096;
		a->used = 4096;
		a->fileid = 1;
		a->mtime.sec = a->ctime.sec = a->atime.sec =
			(uint32_t)exp->change;
		(void)n;
		return;
	}
	const struct nfs_file *f = &exp->file[slot];

	a->type = NF3REG;
	a->mode = f->mode;
	a->nlink = 1;
	a->uid = f->uid;
	a->gid = f->gid;
	a->size = f->size;
	a->used = f->size;
	a->fileid = exp->dirfd >= 0 ? f->ino :
				      (uint64_t)f->gen << 32 | (slot + 2);
	a->atime = f->mtime;
	a->mtime = f->mtime;
	a->ctime = f->ctime;
}

static void file_touch(struct nfs_srv *srv, struct nfs_file *f)
{
	srv->exp->change++;
	f->mtime.sec = f->ctime.sec = srv->now_sec;
	f->mtime.nsec = f->ctime.nsec =
		(uint32_t)(srv->exp->change % 1000000000u);
}

static void wcc_of(const struct nfs_export *exp, uint32_t slot,
		   struct nfs_wcc3 *w)
{
	memset(w, 0, sizeof(*w));
	w->has_post = true;
	file_attr(exp, slot, &w->post);
}

/* Zero the bytes between the old size and a larger new one. */
static int file_resize(struct nfs_file *f, uint64_t size, uint64_t max)
{
	if (size > max)
		return -EFBIG;
	if (f->st.fd >= 0) {
		if (ftruncate(f->st.fd, (off_t)size) < 0)
			return -errno;
		f->size = size;
		return 0;
	}
	if (size < f->size)
		store_write_zeroes(&f->st, size, (uint32_t)(f->size - size));
	f->size = size;
	return 0;
}

static void apply_sattr(struct nfs_srv *srv, struct nfs_file *f,
			const struct nfs_sattr3 *s, uint32_t *stat)
{
	if (s->set_size) {
		int err = file_resize(f, s->size, srv->exp->file_max);

		if (err) {
			*stat = err == -EFBIG  ? NFS3ERR_FBIG :
				err == -ENOSPC ? NFS3ERR_NOSPC :
						 NFS3ERR_IO;
			return;
		}
	}
	if (s->set_mode && f->st.fd >= 0 &&
	    fchmod(f->st.fd, s->mode & 07777) < 0) {
		*stat = NFS3ERR_PERM;
		return;
	}
	if (s->set_mode)
		f->mode = s->mode & 07777;
	if (s->set_uid)
		f->uid = s->uid;
	if (s->set_gid)
		f->gid = s->gid;
	file_touch(srv, f);
	if (s->mtime_how == NFS3_TIME_CLIENT)
		f->mtime = s->mtime;
}

/* ---- procedures ---- */

static void nfs_getattr(struct nfs_srv *srv, const struct nfs3_args *a,
			struct xdr_out *x)
{
	struct nfs3_attr_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);

	if (s < 0)
		r.status = fh_stat(s);
	else
		file_attr(srv->exp, (uint32_t)s, &r.attr);
	nfs3_enc_getattr_res(x, &r);
}

static void nfs_setattr(struct nfs_srv *srv, const struct nfs3_args *a,
			struct xdr_out *x)
{
	struct nfs3_wcc_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);

	if (s < 0) {
		r.status = fh_stat(s);
	} else if (s == ROOT_SLOT) {
		r.status = a->sattr.set_size ? NFS3ERR_ISDIR : NFS3_OK;
	} else if (srv->read_only) {
		r.status = NFS3ERR_ROFS;
	} else {
		struct nfs_file *f = &srv->exp->file[s];
		struct nfs_fattr3 pre;

		file_attr(srv->exp, (uint32_t)s, &pre);
		if (a->guard && (pre.ctime.sec != a->guard_ctime.sec ||
				 pre.ctime.nsec != a->guard_ctime.nsec))
			r.status = NFS3ERR_NOT_SYNC;
		else
			apply_sattr(srv, f, &a->sattr, &r.status);
	}
	if (s >= 0)
		wcc_of(srv->exp, (uint32_t)s, &r.wcc);
	nfs3_enc_wcc_res(x, &r);
}

static void nfs_lookup(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_lookup_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);
	struct nfs_file *f;

	if (s < 0) {
		r.status = fh_stat(s);
	} else if (s != ROOT_SLOT) {
		r.status = NFS3ERR_NOTDIR;
	} else if (!strcmp(a->name, ".") || !strcmp(a->name, "..")) {
		make_fh(srv->exp, ROOT_SLOT, &r.fh);
		r.has_obj = true;
		file_attr(srv->exp, ROOT_SLOT, &r.obj);
	} else if (!(f = nfs_export_lookup(srv->exp, a->name))) {
		r.status = NFS3ERR_NOENT;
	} else {
		uint32_t slot = (uint32_t)(f - srv->exp->file);

		make_fh(srv->exp, slot, &r.fh);
		r.has_obj = true;
		file_attr(srv->exp, slot, &r.obj);
	}
	if (s == ROOT_SLOT) {
		r.has_dir = true;
		file_attr(srv->exp, ROOT_SLOT, &r.dir);
	}
	nfs3_enc_lookup_res(x, &r);
}

static void nfs_access(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_access_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);

	if (s < 0) {
		r.status = fh_stat(s);
	} else {
		r.has_attr = true;
		file_attr(srv->exp, (uint32_t)s, &r.attr);
		r.access = a->access;
		if (srv->read_only)
			r.access &= ~(uint32_t)(NFS3_ACCESS_MODIFY |
						NFS3_ACCESS_EXTEND |
						NFS3_ACCESS_DELETE);
	}
	nfs3_enc_access_res(x, &r);
}

static void nfs_read(struct nfs_srv *srv, const struct nfs3_args *a,
		     struct xdr_out *x)
{
	struct nfs3_read_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);
	struct nfs_file *f = NULL;
	uint8_t *data;

	if (s < 0)
		r.status = fh_stat(s);
	else if (s == ROOT_SLOT)
		r.status = NFS3ERR_ISDIR;
	else
		f = &srv->exp->file[s];
	if (f) {
		uint64_t left = a->offset < f->size ? f->size - a->offset : 0;

		r.count = (uint32_t)lb_min(
			(uint64_t)lb_min(a->count, NFS_SRV_MAX_IO), left);
		r.eof = a->offset + r.count >= f->size;
	}
	if (s >= 0) {
		r.has_attr = true;
		file_attr(srv->exp, (uint32_t)s, &r.attr);
	}
	nfs3_enc_read_res_hdr(x, &r);
	if (r.status != NFS3_OK)
		return;
	data = xdr_put_space(x, r.count);
	if (data && r.count && store_read(&f->st, a->offset, data, r.count)) {
		/* the header said OK: re-encode the whole reply as IO */
		x->err = -EIO;
		return;
	}
	counter_inc(&srv->st.reads);
	counter_add(&srv->st.bytes_read, r.count);
}

static void nfs_write(struct nfs_srv *srv, const struct nfs3_args *a,
		      struct xdr_out *x)
{
	struct nfs3_write_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);

	if (s < 0) {
		r.status = fh_stat(s);
	} else if (s == ROOT_SLOT) {
		r.status = NFS3ERR_ISDIR;
	} else if (srv->read_only) {
		r.status = NFS3ERR_ROFS;
	} else if (a->offset > srv->exp->file_max ||
		   a->count > srv->exp->file_max - a->offset) {
		r.status = NFS3ERR_FBIG;
	} else if (a->count > NFS_SRV_MAX_IO) {
		r.status = NFS3ERR_INVAL;
	} else {
		struct nfs_file *f = &srv->exp->file[s];

		if ((a->count &&
		     store_write(&f->st, a->offset, a->data, a->count)) ||
		    (a->stable != NFS3_UNSTABLE && f->st.fd >= 0 &&
		     store_flush(&f->st))) {
			r.status = NFS3ERR_IO;
		} else {
			if (a->offset + a->count > f->size)
				f->size = a->offset + a->count;
			file_touch(srv, f);
			r.count = a->count;
			/* the data is in the store now; only UNSTABLE asks less */
			r.committed = a->stable == NFS3_UNSTABLE ?
					      NFS3_UNSTABLE :
					      NFS3_FILE_SYNC;
			if (r.committed == NFS3_UNSTABLE &&
			    srv->exp->volatile_writes) {
				struct nfs_export *exp = srv->exp;

				if (exp->nr_unstable == NFS_SRV_MAX_UNSTABLE)
					r.committed = NFS3_FILE_SYNC;
				else
					exp->unstable[exp->nr_unstable++] =
						(struct nfs_unstable){
							.slot = (uint32_t)s,
							.gen = f->gen,
							.len = a->count,
							.off = a->offset
						};
			}
			memcpy(r.verf, srv->verf, NFS3_VERFSIZE);
			counter_inc(&srv->st.writes);
			counter_add(&srv->st.bytes_written, a->count);
		}
	}
	if (s >= 0)
		wcc_of(srv->exp, (uint32_t)s, &r.wcc);
	nfs3_enc_write_res(x, &r);
}

static void nfs_commit(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_commit_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);

	if (s < 0) {
		r.status = fh_stat(s);
	} else if (s == ROOT_SLOT) {
		r.status = NFS3ERR_ISDIR;
	} else if (srv->exp->file[s].st.fd >= 0 &&
		   store_flush(&srv->exp->file[s].st)) {
		r.status = NFS3ERR_IO;
	} else {
		memcpy(r.verf, srv->verf, NFS3_VERFSIZE);
		/* the whole export is stable now (COMMIT of any range) */
		srv->exp->nr_unstable = 0;
		counter_inc(&srv->st.commits);
	}
	if (s >= 0)
		wcc_of(srv->exp, (uint32_t)s, &r.wcc);
	nfs3_enc_commit_res(x, &r);
}

static void nfs_create(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_create_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);
	struct nfs_export *exp = srv->exp;
	struct nfs_file *f = NULL;

	if (s < 0)
		r.status = fh_stat(s);
	else if (s != ROOT_SLOT)
		r.status = NFS3ERR_NOTDIR;
	else if (srv->read_only)
		r.status = NFS3ERR_ROFS;
	else if (!name_ok(a->name))
		r.status = NFS3ERR_INVAL;
	if (r.status == NFS3_OK && (f = nfs_export_lookup(exp, a->name))) {
		if (a->how == NFS3_CREATE_GUARDED)
			r.status = NFS3ERR_EXIST;
		/* EXCLUSIVE: the verifier kept in mtime makes a retry succeed */
		else if (a->how == NFS3_CREATE_EXCLUSIVE &&
			 (f->mtime.sec != get_be32(a->verf) ||
			  f->mtime.nsec != get_be32(a->verf + 4)))
			r.status = NFS3ERR_EXIST;
		else if (a->how == NFS3_CREATE_UNCHECKED)
			apply_sattr(srv, f, &a->sattr, &r.status);
	} else if (r.status == NFS3_OK) {
		for (unsigned i = 0; i < exp->max_files && !f; i++)
			if (!exp->file[i].used)
				f = &exp->file[i];
		if (!f) {
			r.status = NFS3ERR_NOSPC;
		} else if (exp->dirfd >= 0) {
			int err = dir_file_open(exp, f, a->name, true);

			r.status = !err			? NFS3_OK :
				   err == -EEXIST	? NFS3ERR_EXIST :
				   err == -ENOSPC	? NFS3ERR_NOSPC :
				   err == -EACCES	? NFS3ERR_ACCES :
				   err == -ENAMETOOLONG ? NFS3ERR_NAMETOOLONG :
							  NFS3ERR_IO;
			if (!err && a->how == NFS3_CREATE_EXCLUSIVE) {
				f->mtime.sec = get_be32(a->verf);
				f->mtime.nsec = get_be32(a->verf + 4);
			} else if (!err) {
				apply_sattr(srv, f, &a->sattr, &r.status);
			}
			if (!err)
				counter_inc(&srv->st.creates);
		} else {
			uint32_t gen = f->gen + 1;

			store_write_zeroes(&f->st, 0,
					   (uint32_t)lb_min(f->size,
							    exp->file_max));
			memset(f, 0, offsetof(struct nfs_file, st));
			f->used = true;
			f->gen = gen;
			strcpy(f->name, a->name);
			f->mode = 0644;
			file_touch(srv, f);
			if (a->how == NFS3_CREATE_EXCLUSIVE) {
				f->mtime.sec = get_be32(a->verf);
				f->mtime.nsec = get_be32(a->verf + 4);
			} else {
				apply_sattr(srv, f, &a->sattr, &r.status);
			}
			counter_inc(&srv->st.creates);
		}
	}
	if (r.status == NFS3_OK) {
		uint32_t slot = (uint32_t)(f - exp->file);

		r.has_fh = r.has_attr = true;
		make_fh(exp, slot, &r.fh);
		file_attr(exp, slot, &r.attr);
	}
	if (s == ROOT_SLOT)
		wcc_of(exp, ROOT_SLOT, &r.dir_wcc);
	nfs3_enc_create_res(x, &r);
}

static void nfs_remove(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_wcc_res r = { 0 };
	int64_t s = fh_slot(srv->exp, &a->fh);
	struct nfs_file *f;

	if (s < 0)
		r.status = fh_stat(s);
	else if (s != ROOT_SLOT)
		r.status = NFS3ERR_NOTDIR;
	else if (srv->read_only)
		r.status = NFS3ERR_ROFS;
	else if (!(f = nfs_export_lookup(srv->exp, a->name)))
		r.status = NFS3ERR_NOENT;
	else if (srv->exp->dirfd >= 0 &&
		 unlinkat(srv->exp->dirfd, f->name, 0) < 0 && errno != ENOENT)
		r.status = errno == EACCES || errno == EPERM ? NFS3ERR_ACCES :
							       NFS3ERR_IO;
	else {
		if (srv->exp->dirfd >= 0)
			store_close(&f->st);
		f->used = false;
		srv->exp->change++;
	}
	if (s == ROOT_SLOT)
		wcc_of(srv->exp, ROOT_SLOT, &r.wcc);
	nfs3_enc_wcc_res(x, &r);
}

/*
 * Cookies are slot + 3 (1 and 2 are "." and ".."); the cookie verifier is
 * the directory's change count, so a client resuming a listing across a
 * change is told BAD_COOKIE instead of missing entries silently.
 */
static void nfs_readdirplus(struct nfs_srv *srv, const struct nfs3_args *a,
			    struct xdr_out *x)
{
	struct nfs3_readdirplus_res r = { 0 };
	struct nfs_export *exp = srv->exp;
	int64_t s = fh_slot(exp, &a->fh);
	static const uint8_t zero[NFS3_VERFSIZE];
	uint32_t limit = lb_min(a->maxcount, NFS_SRV_MAX_IO);
	bool eof = true;

	if (s < 0)
		r.status = fh_stat(s);
	else if (s != ROOT_SLOT)
		r.status = NFS3ERR_NOTDIR;
	if (s >= 0) {
		r.has_attr = true;
		file_attr(exp, (uint32_t)s, &r.attr);
	}
	put_be32(r.cookieverf, (uint32_t)(exp->change >> 32));
	put_be32(r.cookieverf + 4, (uint32_t)exp->change);
	if (r.status == NFS3_OK && a->cookie &&
	    memcmp(a->verf, zero, NFS3_VERFSIZE) &&
	    memcmp(a->verf, r.cookieverf, NFS3_VERFSIZE))
		r.status = NFS3ERR_BAD_COOKIE;
	if (r.status == NFS3_OK && limit < 256)
		r.status = NFS3ERR_TOOSMALL;
	nfs3_enc_readdirplus_hdr(x, &r);
	if (r.status != NFS3_OK)
		return;
	for (uint64_t c = a->cookie + 1; c < exp->max_files + 3ull; c++) {
		struct nfs3_dirent e = { .cookie = c,
					 .has_attr = true,
					 .has_fh = true };
		uint32_t slot = c <= 2 ? ROOT_SLOT : (uint32_t)(c - 3);
		uint32_t before = x->pos;

		if (c > 2 && !exp->file[slot].used)
			continue;
		strcpy(e.name, c == 1 ? "." :
			       c == 2 ? ".." :
					exp->file[slot].name);
		file_attr(exp, slot, &e.attr);
		e.fileid = e.attr.fileid;
		make_fh(exp, slot, &e.fh);
		nfs3_enc_dirent(x, &e);
		/* leave room for the list's end; stop before maxcount */
		if (x->err || x->pos + 8 > limit) {
			x->pos = before;
			x->err = 0;
			eof = false;
			break;
		}
	}
	nfs3_enc_dirlist_end(x, eof);
}

static void nfs_fsstat(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_fsstat_res r = { 0 };
	struct nfs_export *exp = srv->exp;
	int64_t s = fh_slot(exp, &a->fh);
	uint64_t used = 0, files = 0;

	if (s < 0) {
		r.status = fh_stat(s);
	} else {
		r.has_attr = true;
		file_attr(exp, (uint32_t)s, &r.attr);
	}
	for (unsigned i = 0; i < exp->max_files; i++)
		if (exp->file[i].used) {
			used += exp->file[i].size;
			files++;
		}
	r.tbytes = exp->file_max * exp->max_files;
	r.fbytes = r.abytes = r.tbytes - used;
	if (exp->dirfd >= 0) {
		/* the directory's file system says what is free */
		struct statvfs v;

		if (fstatvfs(exp->dirfd, &v) == 0) {
			r.tbytes = (uint64_t)v.f_blocks * v.f_frsize;
			r.fbytes = (uint64_t)v.f_bfree * v.f_frsize;
			r.abytes = (uint64_t)v.f_bavail * v.f_frsize;
		}
	}
	r.tfiles = exp->max_files;
	r.ffiles = r.afiles = exp->max_files - files;
	nfs3_enc_fsstat_res(x, &r);
}

static void nfs_fsinfo(struct nfs_srv *srv, const struct nfs3_args *a,
		       struct xdr_out *x)
{
	struct nfs3_fsinfo_res
		r = { .rtmax = NFS_SRV_MAX_IO,
		      .rtpref = NFS_SRV_MAX_IO,
		      .rtmult = 4096,
		      .wtmax = NFS_SRV_MAX_IO,
		      .wtpref = NFS_SRV_MAX_IO,
		      .wtmult = 4096,
		      .dtpref = 4096,
		      .time_delta = { 0, 1 },
		      .properties = 0x18 /* HOMOGENEOUS, CANSETTIME */ };
	int64_t s = fh_slot(srv->exp, &a->fh);

	r.maxfilesize = srv->exp->file_max;
	if (s < 0) {
		r.status = fh_stat(s);
	} else {
		r.has_attr = true;
		file_attr(srv->exp, (uint32_t)s, &r.attr);
	}
	nfs3_enc_fsinfo_res(x, &r);
}

static void nfs_pathconf(struct nfs_srv *srv, const struct nfs3_args *a,
			 struct xdr_out *x)
{
	int64_t s = fh_slot(srv->exp, &a->fh);
	struct nfs_fattr3 attr;

	xdr_put_u32(x, s < 0 ? fh_stat(s) : NFS3_OK);
	if (s >= 0)
		file_attr(srv->exp, (uint32_t)s, &attr);
	nfs3_put_post_op_attr(x, s >= 0 ? &attr : NULL);
	if (s < 0)
		return;
	xdr_put_u32(x, 1); /* linkmax */
	xdr_put_u32(x, NFS3_NAMELEN); /* name_max */
	xdr_put_u32(x, 1); /* no_trunc */
	xdr_put_u32(x, 1); /* chown_restricted */
	xdr_put_u32(x, 0); /* case_insensitive */
	xdr_put_u32(x, 1); /* case_preserving */
}

static void nfs_call(struct nfs_srv *srv, uint32_t proc,
		     const struct nfs3_args *a, struct xdr_out *x)
{
	switch (proc) {
	case NFSPROC3_NULL:
		return;
	case NFSPROC3_GETATTR:
		nfs_getattr(srv, a, x);
		return;
	case NFSPROC3_SETATTR:
		nfs_setattr(srv, a, x);
		return;
	case NFSPROC3_LOOKUP:
		nfs_lookup(srv, a, x);
		return;
	case NFSPROC3_ACCESS:
		nfs_access(srv, a, x);
		return;
	case NFSPROC3_READ:
		nfs_read(srv, a, x);
		return;
	case NFSPROC3_WRITE:
		nfs_write(srv, a, x);
		return;
	case NFSPROC3_CREATE:
		nfs_create(srv, a, x);
		return;
	case NFSPROC3_REMOVE:
		nfs_remove(srv, a, x);
		return;
	case NFSPROC3_READDIRPLUS:
		nfs_readdirplus(srv, a, x);
		return;
	case NFSPROC3_FSSTAT:
		nfs_fsstat(srv, a, x);
		return;
	case NFSPROC3_FSINFO:
		nfs_fsinfo(srv, a, x);
		return;
	case NFSPROC3_PATHCONF:
		nfs_pathconf(srv, a, x);
		return;
	case NFSPROC3_COMMIT:
		nfs_commit(srv, a, x);
		return;
	}
	LB_ASSERT(
		!"a procedure nfs3_dec_args accepted and nfs_call does not serve");
}

static bool nfs_served(uint32_t proc)
{
	switch (proc) {
	case NFSPROC3_READLINK:
	case NFSPROC3_MKDIR:
	case NFSPROC3_SYMLINK:
	case NFSPROC3_MKNOD:
	case NFSPROC3_RMDIR:
	case NFSPROC3_RENAME:
	case NFSPROC3_LINK:
	case NFSPROC3_READDIR:
		return false;
	}
	return proc < NFSPROC3_NR;
}

static void mnt_call(struct nfs_srv *srv, uint32_t proc,
		     const struct nfs3_args *a, struct xdr_out *x)
{
	struct mnt3_res r = { 0 };
	size_t n = strlen(srv->exp->path);

	if (proc == MOUNTPROC3_EXPORT) {
		mnt3_enc_export_res(x, srv->exp->path);
		return;
	}
	if (proc == MOUNTPROC3_DUMP) {
		xdr_put_u32(x, 0); /* we keep no list of mounts */
		return;
	}
	if (proc != MOUNTPROC3_MNT)
		return; /* NULL, UMNT: void */
	/* the export path, with or without a trailing slash */
	if (strncmp(a->path, srv->exp->path, n) ||
	    (a->path[n] && strcmp(a->path + n, "/"))) {
		r.status = MNT3ERR_NOENT;
	} else {
		make_fh(srv->exp, ROOT_SLOT, &r.fh);
		r.auth_sys = r.auth_none = true;
		counter_inc(&srv->st.mounts);
	}
	mnt3_enc_mnt_res(x, &r);
}

static void refuse(struct nfs_srv *srv, const struct rpc_call_hdr *c,
		   const char *why)
{
	srv->refused = why;
	srv->refused_prog = c->prog;
	srv->refused_vers = c->vers;
	srv->refused_proc = c->proc;
}

uint32_t nfs_srv_dispatch(struct nfs_srv *srv, const uint8_t *rec, uint32_t len,
			  uint8_t *out, uint32_t cap)
{
	struct rpc_call_hdr c;
	struct nfs3_args a;
	struct xdr_in in;
	struct xdr_out x;
	uint32_t auth_stat, results;
	int err;

	LB_ASSERT(cap >= NFS_SRV_MAX_RECORD);
	xdr_in_init(&in, rec, len);
	xdr_out_init(&x, out, cap);
	err = rpc_decode_call(&in, &c, &auth_stat);
	if (err == -EBADMSG) {
		counter_inc(&srv->st.dropped);
		return 0;
	}
	counter_inc(&srv->st.calls);
	if (err == -EPROTONOSUPPORT) {
		refuse(srv, &c, "RPC_MISMATCH");
		rpc_encode_denied_rpcvers(&x, c.xid);
		return x.pos;
	}
	if (err) {
		counter_inc(&srv->st.auth_errors);
		refuse(srv, &c, "AUTH_ERROR");
		rpc_encode_denied_auth(&x, c.xid, auth_stat);
		return x.pos;
	}
	if (c.prog == PMAP_PROG) {
		uint32_t prog, vers, prot;

		if (c.vers != PMAP_VERS) {
			refuse(srv, &c, "PROG_MISMATCH");
			rpc_encode_prog_mismatch(&x, c.xid, PMAP_VERS,
						 PMAP_VERS);
			return x.pos;
		}
		if (c.proc != PMAPPROC_NULL && c.proc != PMAPPROC_GETPORT) {
			counter_inc(&srv->st.proc_unavail);
			refuse(srv, &c, "PROC_UNAVAIL");
			rpc_encode_accepted(&x, c.xid, RPC_PROC_UNAVAIL);
			return x.pos;
		}
		prog = xdr_get_u32(&in);
		vers = xdr_get_u32(&in);
		prot = xdr_get_u32(&in);
		xdr_get_u32(&in);
		if (c.proc == PMAPPROC_GETPORT && in.err) {
			counter_inc(&srv->st.garbage_args);
			rpc_encode_accepted(&x, c.xid, RPC_GARBAGE_ARGS);
			return x.pos;
		}
		rpc_encode_accepted(&x, c.xid, RPC_SUCCESS);
		if (c.proc == PMAPPROC_GETPORT)
			xdr_put_u32(
				&x,
				((prog == NFS_PROG && vers == NFS_V3) ||
				 (prog == MOUNT_PROG && vers == MOUNT_V3)) &&
						prot == PMAP_IPPROTO_TCP ?
					srv->port :
					0);
		return x.pos;
	}
	if (c.prog != NFS_PROG && c.prog != MOUNT_PROG) {
		counter_inc(&srv->st.prog_unavail);
		refuse(srv, &c, "PROG_UNAVAIL");
		rpc_encode_accepted(&x, c.xid, RPC_PROG_UNAVAIL);
		return x.pos;
	}
	if (c.vers != 3) {
		refuse(srv, &c, "PROG_MISMATCH");
		rpc_encode_prog_mismatch(&x, c.xid, 3, 3);
		return x.pos;
	}
	if (srv->secure && srv->peer_port >= 1024 && c.proc != 0) {
		counter_inc(&srv->st.insecure_ports);
		counter_inc(&srv->st.auth_errors);
		refuse(srv, &c, "AUTH_TOOWEAK (a source port >= 1024)");
		rpc_encode_denied_auth(&x, c.xid, RPC_AUTH_TOOWEAK);
		return x.pos;
	}
	err = c.prog == NFS_PROG ?
		      (nfs_served(c.proc) ? nfs3_dec_args(&in, c.proc, &a) :
					    -EOPNOTSUPP) :
		      mnt3_dec_args(&in, c.proc, &a);
	if (err == -EOPNOTSUPP) {
		counter_inc(&srv->st.proc_unavail);
		refuse(srv, &c, "PROC_UNAVAIL");
		rpc_encode_accepted(&x, c.xid, RPC_PROC_UNAVAIL);
		return x.pos;
	}
	if (err) {
		counter_inc(&srv->st.garbage_args);
		refuse(srv, &c, "GARBAGE_ARGS");
		rpc_encode_accepted(&x, c.xid, RPC_GARBAGE_ARGS);
		return x.pos;
	}
	rpc_encode_accepted(&x, c.xid, RPC_SUCCESS);
	results = x.pos;
	if (c.prog == MOUNT_PROG)
		mnt_call(srv, c.proc, &a, &x);
	else
		nfs_call(srv, c.proc, &a, &x);
	if (x.err) {
		/* a reply that did not fit, or a store that failed: IO */
		counter_inc(&srv->st.errors);
		x.err = 0;
		x.pos = results;
		if (c.prog == NFS_PROG && c.proc == NFSPROC3_READ) {
			xdr_put_u32(&x, NFS3ERR_IO);
			xdr_put_u32(&x, 0);
		} else {
			x.pos = 0;
			rpc_encode_accepted(&x, c.xid, RPC_SYSTEM_ERR);
		}
	}
	return x.pos;
}
