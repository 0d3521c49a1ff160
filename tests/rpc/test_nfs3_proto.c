// SPDX-License-Identifier: MIT
/*
 * MOUNT v3 and NFSv3 codecs: each client encoder against the server's
 * decoder and each server encoder against the client's decoder, byte
 * layouts that RFC 1813 fixes, status mapping, and malformed results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "nfs/nfs3_proto.h"

static const struct nfs_fh3 fh = { .len = 12,
				   .data = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					     12 } };
static const struct nfs_fattr3 attr = { .type = NF3REG,
					.mode = 0644,
					.nlink = 1,
					.size = 1 << 20,
					.fileid = 42,
					.mtime = { 5, 6 } };

static uint8_t buf[4096];
static struct xdr_out o;
static struct xdr_in in;

static void reset(void)
{
	xdr_out_init(&o, buf, sizeof(buf));
}

static struct xdr_in *input(uint32_t len)
{
	xdr_in_init(&in, buf, len);
	return &in;
}

static void test_status(void **state)
{
	assert_int_equal(nfs3_errno(NFS3_OK), 0);
	assert_int_equal(nfs3_errno(NFS3ERR_STALE), -ESTALE);
	assert_int_equal(nfs3_errno(NFS3ERR_JUKEBOX), -EAGAIN);
	assert_int_equal(nfs3_errno(NFS3ERR_NOSPC), -ENOSPC);
	assert_int_equal(nfs3_errno(99999), -EIO);
	assert_string_equal(nfs3_stat_name(NFS3ERR_STALE), "NFS3ERR_STALE");
	assert_string_equal(nfs3_stat_name(NFS3ERR_JUKEBOX), "NFS3ERR_JUKEBOX");
	assert_string_equal(nfs3_stat_name(4), "NFS3ERR_UNKNOWN");
	assert_int_equal(nfs3_stat_from_errno(-ENOENT), NFS3ERR_NOENT);
	assert_int_equal(nfs3_stat_from_errno(-EIO), NFS3ERR_IO);
	assert_int_equal(nfs3_stat_from_errno(-EINVAL), NFS3ERR_INVAL);
	assert_int_equal(nfs3_stat_from_errno(-ENOMEM), NFS3ERR_IO);
	assert_int_equal(mnt3_errno(MNT3ERR_ACCES), -EACCES);
	assert_string_equal(mnt3_stat_name(MNT3ERR_NOENT), "MNT3ERR_NOENT");
	assert_string_equal(nfs3_proc_name(NFSPROC3_COMMIT), "COMMIT");
	assert_string_equal(nfs3_proc_name(22), "UNKNOWN");
	/* JUKEBOX back-off: doubling, capped */
	assert_true(nfs3_jukebox_delay(0, 100, 1000) == 100);
	assert_true(nfs3_jukebox_delay(2, 100, 1000) == 400);
	assert_true(nfs3_jukebox_delay(4, 100, 1000) == 1000);
	assert_true(nfs3_jukebox_delay(200, 100, 1000) == 1000);
}

static void test_layouts(void **state)
{
	struct nfs_sattr3 s = { .set_mode = true, .mode = 0644 };

	/* fattr3 is 84 bytes */
	reset();
	nfs3_put_fattr(&o, &attr);
	assert_int_equal(o.pos, 84);
	/* "mode 0644 only" is 7 words */
	reset();
	nfs3_put_sattr(&o, &s);
	assert_int_equal(o.pos, 28);
	assert_int_equal(buf[3], 1);
	assert_int_equal(buf[6], 0x01);
	assert_int_equal(buf[7], 0xa4);
	/* WRITE header: fh, offset, count, stable, data length */
	reset();
	nfs3_enc_write_hdr(&o, &fh, 4096, 8192, NFS3_UNSTABLE);
	assert_int_equal(o.pos, 4 + 12 + 8 + 4 + 4 + 4);
	assert_int_equal(buf[o.pos - 1], 0x00);
	assert_int_equal(buf[o.pos - 2], 0x20);
}

static void test_args_roundtrip(void **state)
{
	struct nfs_sattr3 s = { .set_mode = true,
				.mode = 0600,
				.set_size = true,
				.size = 1ull << 33,
				.mtime_how = NFS3_TIME_CLIENT,
				.mtime = { 7, 8 } };
	uint8_t verf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct nfs3_args a;
	uint8_t *data;

	reset();
	nfs3_enc_diropargs(&o, &fh, "swapfile");
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_LOOKUP, &a), 0);
	assert_int_equal(a.fh.len, 12);
	assert_memory_equal(a.fh.data, fh.data, 12);
	assert_string_equal(a.name, "swapfile");

	reset();
	nfs3_enc_create(&o, &fh, "f", NFS3_CREATE_GUARDED, &s, NULL);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_CREATE, &a), 0);
	assert_int_equal(a.how, NFS3_CREATE_GUARDED);
	assert_true(a.sattr.set_size && a.sattr.size == 1ull << 33);
	assert_int_equal(a.sattr.mode, 0600);
	assert_int_equal(a.sattr.mtime_how, NFS3_TIME_CLIENT);
	assert_int_equal(a.sattr.mtime.nsec, 8);
	reset();
	nfs3_enc_create(&o, &fh, "f", NFS3_CREATE_EXCLUSIVE, NULL, verf);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_CREATE, &a), 0);
	assert_memory_equal(a.verf, verf, 8);

	reset();
	nfs3_enc_setattr(&o, &fh, &s);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_SETATTR, &a), 0);
	assert_false(a.guard);
	assert_true(a.sattr.size == 1ull << 33);

	reset();
	nfs3_enc_write_hdr(&o, &fh, 1ull << 40, 5, NFS3_FILE_SYNC);
	data = xdr_put_space(&o, 5);
	memcpy(data, "hello", 5);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_WRITE, &a), 0);
	assert_true(a.offset == 1ull << 40);
	assert_int_equal(a.count, 5);
	assert_int_equal(a.stable, NFS3_FILE_SYNC);
	assert_memory_equal(a.data, "hello", 5);
	/* count and data length disagree */
	buf[4 + 12 + 8 + 3] = 4;
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_WRITE, &a),
			 -EBADMSG);
	assert_null(a.data);

	reset();
	nfs3_enc_read(&o, &fh, 8192, 65536);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_READ, &a), 0);
	assert_int_equal(a.count, 65536);
	reset();
	nfs3_enc_readdirplus(&o, &fh, 3, verf, 512, 4096);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_READDIRPLUS, &a),
			 0);
	assert_true(a.cookie == 3 && a.maxcount == 4096);
	reset();
	nfs3_enc_access(&o, &fh, 0x3f);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_ACCESS, &a), 0);
	assert_int_equal(a.access, 0x3f);
	reset();
	mnt3_enc_dirpath(&o, "/export");
	assert_int_equal(mnt3_dec_args(input(o.pos), MOUNTPROC3_MNT, &a), 0);
	assert_string_equal(a.path, "/export");
	assert_int_equal(mnt3_dec_args(input(o.pos), 4, &a), -EOPNOTSUPP);
	assert_int_equal(nfs3_dec_args(input(o.pos), 10, &a), -EOPNOTSUPP);
	/* a handle over 64 bytes */
	reset();
	xdr_put_u32(&o, 65);
	xdr_put_space(&o, 65);
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_GETATTR, &a),
			 -EBADMSG);
	/* sattr3 with a time_how of 3 */
	reset();
	nfs3_enc_setattr(&o, &fh, &s);
	buf[16 + 28 + 3] = 3; /* atime_how */
	assert_int_equal(nfs3_dec_args(input(o.pos), NFSPROC3_SETATTR, &a),
			 -EBADMSG);
}

static void test_results_roundtrip(void **state)
{
	struct nfs3_lookup_res lr = { .fh = fh, .has_obj = true, .obj = attr };
	struct nfs3_write_res wr = { .count = 4096,
				     .committed = NFS3_UNSTABLE,
				     .verf = { 9, 9, 9, 9, 1, 2, 3, 4 } };
	struct nfs3_fsinfo_res fr = { .rtmax = 1 << 20,
				      .wtmax = 65536,
				      .dtpref = 4096,
				      .maxfilesize = UINT64_MAX };
	struct nfs3_create_res cr = { .has_fh = true, .fh = fh };
	struct nfs3_read_res rr = { .count = 3, .eof = true };
	struct mnt3_res mr = { .fh = fh, .auth_sys = true };
	struct nfs3_readdirplus_res dr = { .cookieverf = { 1 } };
	struct nfs3_dirent de = { .fileid = 7,
				  .name = "swap",
				  .cookie = 1,
				  .has_fh = true,
				  .fh = fh };
	struct nfs3_lookup_res l2;
	struct nfs3_write_res w2;
	struct nfs3_commit_res c2;
	struct nfs3_fsinfo_res f2;
	struct nfs3_create_res cr2;
	struct nfs3_read_res r2;
	struct mnt3_res m2;
	struct nfs3_readdirplus_res d2;
	struct nfs3_dirent e2;
	struct nfs3_attr_res ga = { .attr = attr }, ga2;
	bool eof = false;
	uint32_t n;

	reset();
	nfs3_enc_lookup_res(&o, &lr);
	assert_int_equal(nfs3_dec_lookup(input(o.pos), &l2), 0);
	assert_true(l2.has_obj && !l2.has_dir);
	assert_true(l2.obj.size == 1 << 20 && l2.obj.fileid == 42);
	assert_memory_equal(l2.fh.data, fh.data, 12);
	/* a failed LOOKUP carries the directory's attributes */
	lr.status = NFS3ERR_NOENT;
	lr.has_dir = true;
	lr.dir = attr;
	lr.dir.type = NF3DIR;
	reset();
	nfs3_enc_lookup_res(&o, &lr);
	assert_int_equal(nfs3_dec_lookup(input(o.pos), &l2), -ENOENT);
	assert_int_equal(l2.status, NFS3ERR_NOENT);
	assert_true(l2.has_dir && l2.dir.type == NF3DIR);

	reset();
	nfs3_enc_write_res(&o, &wr);
	assert_int_equal(nfs3_dec_write(input(o.pos), 4096, &w2), 0);
	assert_int_equal(w2.count, 4096);
	assert_memory_equal(w2.verf, wr.verf, 8);
	/* more written than sent, or an unknown stable_how */
	assert_int_equal(nfs3_dec_write(input(o.pos), 4095, &w2), -EBADMSG);
	wr.committed = 3;
	reset();
	nfs3_enc_write_res(&o, &wr);
	assert_int_equal(nfs3_dec_write(input(o.pos), 4096, &w2), -EBADMSG);

	reset();
	nfs3_enc_commit_res(&o, &(struct nfs3_commit_res){ .verf = { 5 } });
	assert_int_equal(nfs3_dec_commit(input(o.pos), &c2), 0);
	assert_int_equal(c2.verf[0], 5);
	reset();
	nfs3_enc_commit_res(
		&o, &(struct nfs3_commit_res){ .status = NFS3ERR_JUKEBOX });
	assert_int_equal(nfs3_dec_commit(input(o.pos), &c2), -EAGAIN);

	reset();
	nfs3_enc_fsinfo_res(&o, &fr);
	assert_int_equal(nfs3_dec_fsinfo(input(o.pos), &f2), 0);
	assert_int_equal(f2.rtmax, 1 << 20);
	assert_int_equal(f2.wtmax, 65536);
	assert_true(f2.maxfilesize == UINT64_MAX);

	reset();
	nfs3_enc_create_res(&o, &cr);
	assert_int_equal(nfs3_dec_create(input(o.pos), &cr2), 0);
	assert_true(cr2.has_fh && cr2.fh.len == 12);
	cr.has_fh = false; /* the client must LOOKUP then */
	reset();
	nfs3_enc_create_res(&o, &cr);
	assert_int_equal(nfs3_dec_create(input(o.pos), &cr2), 0);
	assert_false(cr2.has_fh);

	reset();
	nfs3_enc_read_res_hdr(&o, &rr);
	memcpy(xdr_put_space(&o, 3), "abc", 3);
	assert_int_equal(nfs3_dec_read(input(o.pos), 3, &r2), 0);
	assert_true(r2.eof && r2.count == 3);
	assert_memory_equal(r2.data, "abc", 3);
	/* more data than asked for */
	assert_int_equal(nfs3_dec_read(input(o.pos), 2, &r2), -EBADMSG);
	assert_null(r2.data);
	/* count disagreeing with the data length */
	buf[7] = 2;
	assert_int_equal(nfs3_dec_read(input(o.pos), 3, &r2), -EBADMSG);

	reset();
	mnt3_enc_mnt_res(&o, &mr);
	assert_int_equal(mnt3_dec_mnt(input(o.pos), &m2), 0);
	assert_true(m2.auth_sys && !m2.auth_none);
	assert_int_equal(m2.fh.len, 12);
	reset();
	mnt3_enc_mnt_res(&o, &(struct mnt3_res){ .status = MNT3ERR_NOENT });
	assert_int_equal(mnt3_dec_mnt(input(o.pos), &m2), -ENOENT);
	/* a flavour list of a billion entries */
	reset();
	xdr_put_u32(&o, MNT3_OK);
	nfs3_put_fh(&o, &fh);
	xdr_put_u32(&o, 1000000000);
	assert_int_equal(mnt3_dec_mnt(input(o.pos), &m2), -EBADMSG);

	reset();
	nfs3_enc_readdirplus_hdr(&o, &dr);
	nfs3_enc_dirent(&o, &de);
	de.has_fh = false;
	de.fileid = 8;
	strcpy(de.name, "x");
	nfs3_enc_dirent(&o, &de);
	nfs3_enc_dirlist_end(&o, true);
	input(o.pos);
	assert_int_equal(nfs3_dec_readdirplus(&in, &d2), 0);
	assert_int_equal(nfs3_dec_dirent(&in, &e2, &eof), 1);
	assert_string_equal(e2.name, "swap");
	assert_true(e2.has_fh && e2.fileid == 7);
	assert_int_equal(nfs3_dec_dirent(&in, &e2, &eof), 1);
	assert_false(e2.has_fh);
	assert_int_equal(nfs3_dec_dirent(&in, &e2, &eof), 0);
	assert_true(eof);
	assert_int_equal(xdr_in_left(&in), 0);

	/* every truncation of a GETATTR result is malformed */
	reset();
	nfs3_enc_getattr_res(&o, &ga);
	n = o.pos;
	assert_int_equal(nfs3_dec_getattr(input(n), &ga2), 0);
	for (uint32_t k = 0; k < n; k++)
		assert_int_equal(nfs3_dec_getattr(input(k), &ga2), -EBADMSG);
	/* a file type of 0 is not a file type */
	buf[7] = 0;
	assert_int_equal(nfs3_dec_getattr(input(n), &ga2), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_args_roundtrip),
		cmocka_unit_test(test_results_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
