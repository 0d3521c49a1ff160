// SPDX-License-Identifier: MIT
/*
 * The NFS server: its dispatcher driven call by call with the client's
 * codecs, then the server on our TCP over a simulated wire, fed by a raw
 * test client (records split into fragments and odd chunks, garbage,
 * oversized record marks), and a restart that changes the verifier.
 */
#include "net_fixture.h"
#include <errno.h>
#include <string.h>
#include "net/tcp.h"
#include "nfs/nfs.h"
#include "rpc/rpc_proto.h"

static struct rpc_auth auth = { .flavor = RPC_AUTH_SYS,
				.machine = "test",
				.uid = 0,
				.gid = 0 };

static uint8_t callbuf[NFS_SRV_MAX_RECORD], replybuf[NFS_SRV_MAX_RECORD];
static struct xdr_out co;
static struct xdr_in ri;
static uint32_t xid = 100;

static void call_start(uint32_t prog, uint32_t vers, uint32_t proc)
{
	xdr_out_init(&co, callbuf, sizeof(callbuf));
	rpc_encode_call(&co, ++xid, prog, vers, proc, &auth);
}

/* Dispatch the call built in co; returns the reply's RPC-level errno. */
static int call_end(struct nfs_srv *srv)
{
	struct rpc_reply_hdr h;
	uint32_t n;

	assert_int_equal(co.err, 0);
	n = nfs_srv_dispatch(srv, callbuf, co.pos, replybuf, sizeof(replybuf));
	assert_true(n > 0);
	xdr_in_init(&ri, replybuf, n);
	int err = rpc_decode_reply(&ri, &h);

	assert_int_equal(h.xid, xid);
	return err;
}

static void mount_root(struct nfs_srv *srv, struct nfs_fh3 *root)
{
	struct mnt3_res m;

	call_start(MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT);
	mnt3_enc_dirpath(&co, "/export");
	assert_int_equal(call_end(srv), 0);
	assert_int_equal(mnt3_dec_mnt(&ri, &m), 0);
	assert_true(m.auth_sys);
	*root = m.fh;
}

static void test_dispatch(void **state)
{
	struct nfs_export *exp;
	struct nfs_srv srv = { .port = 2049,
			       .verf = { 1, 2, 3, 4, 5, 6, 7, 8 } };
	struct nfs_sattr3 sa = {
		.set_mode = true, .mode = 0600, .set_size = true, .size = 8192
	};
	struct nfs_fh3 root, fh;
	struct nfs3_create_res cr;
	struct nfs3_write_res wr;
	struct nfs3_commit_res cm;
	struct nfs3_read_res rd;
	struct nfs3_lookup_res lk;
	struct nfs3_attr_res ga;
	struct nfs3_fsinfo_res fi;
	struct nfs3_wcc_res wc;
	struct nfs3_readdirplus_res dr;
	struct nfs3_dirent de;
	struct mnt3_res m;
	static const uint8_t zero[8];
	bool eof = false;
	unsigned names = 0;
	uint8_t *p;

	assert_int_equal(nfs_export_create("/export", 4, 1 << 20, &exp), 0);
	srv.exp = exp;
	mount_root(&srv, &root);

	/* EXPORT lists the one export, open to all (libnfs asks first) */
	call_start(MOUNT_PROG, MOUNT_V3, MOUNTPROC3_EXPORT);
	assert_int_equal(call_end(&srv), 0);
	{
		char path[64];

		assert_true(xdr_get_bool(&ri));
		xdr_get_string(&ri, path, 63);
		assert_string_equal(path, "/export");
		assert_false(xdr_get_bool(&ri)); /* no groups */
		assert_false(xdr_get_bool(&ri)); /* no more exports */
		assert_int_equal(ri.err, 0);
		assert_int_equal(xdr_in_left(&ri), 0);
	}

	call_start(MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT);
	mnt3_enc_dirpath(&co, "/other");
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(mnt3_dec_mnt(&ri, &m), -ENOENT);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_FSINFO);
	nfs3_enc_fh_args(&co, &root);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_fsinfo(&ri, &fi), 0);
	assert_int_equal(fi.wtmax, NFS_SRV_MAX_IO);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_CREATE);
	nfs3_enc_create(&co, &root, "swapfile", NFS3_CREATE_GUARDED, &sa, NULL);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_create(&ri, &cr), 0);
	assert_true(cr.has_fh && cr.has_attr);
	assert_true(cr.attr.size == 8192 && cr.attr.mode == 0600);
	fh = cr.fh;
	/* GUARDED again: EXIST */
	call_start(NFS_PROG, NFS_V3, NFSPROC3_CREATE);
	nfs3_enc_create(&co, &root, "swapfile", NFS3_CREATE_GUARDED, &sa, NULL);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_create(&ri, &cr), -EEXIST);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_WRITE);
	nfs3_enc_write_hdr(&co, &fh, 4096, 5, NFS3_UNSTABLE);
	p = xdr_put_space(&co, 5);
	memcpy(p, "hello", 5);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_write(&ri, 5, &wr), 0);
	assert_int_equal(wr.committed, NFS3_UNSTABLE);
	assert_memory_equal(wr.verf, srv.verf, 8);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_COMMIT);
	nfs3_enc_commit(&co, &fh, 0, 0);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_commit(&ri, &cm), 0);
	assert_memory_equal(cm.verf, srv.verf, 8);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_READ);
	nfs3_enc_read(&co, &fh, 4094, 100);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_read(&ri, 100, &rd), 0);
	assert_int_equal(rd.count, 100);
	assert_memory_equal(rd.data, "\0\0hello\0", 8);
	/* at the end of the file: short, eof */
	call_start(NFS_PROG, NFS_V3, NFSPROC3_READ);
	nfs3_enc_read(&co, &fh, 8000, 4096);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_read(&ri, 4096, &rd), 0);
	assert_int_equal(rd.count, 192);
	assert_true(rd.eof);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_LOOKUP);
	nfs3_enc_diropargs(&co, &root, "swapfile");
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_lookup(&ri, &lk), 0);
	assert_memory_equal(lk.fh.data, fh.data, fh.len);
	call_start(NFS_PROG, NFS_V3, NFSPROC3_LOOKUP);
	nfs3_enc_diropargs(&co, &root, "nosuch");
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_lookup(&ri, &lk), -ENOENT);

	call_start(NFS_PROG, NFS_V3, NFSPROC3_READDIRPLUS);
	nfs3_enc_readdirplus(&co, &root, 0, zero, 4096, 8192);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_readdirplus(&ri, &dr), 0);
	while (nfs3_dec_dirent(&ri, &de, &eof) == 1)
		names += !strcmp(de.name, "swapfile") ||
			 !strcmp(de.name, ".") || !strcmp(de.name, "..");
	assert_int_equal(names, 3);
	assert_true(eof);

	/* REMOVE, then the old handle is STALE */
	call_start(NFS_PROG, NFS_V3, NFSPROC3_REMOVE);
	nfs3_enc_diropargs(&co, &root, "swapfile");
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_wcc_res(&ri, &wc), 0);
	call_start(NFS_PROG, NFS_V3, NFSPROC3_GETATTR);
	nfs3_enc_fh_args(&co, &fh);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_getattr(&ri, &ga), -ESTALE);
	/* a handle that is not ours */
	fh.data[0] ^= 1;
	call_start(NFS_PROG, NFS_V3, NFSPROC3_GETATTR);
	nfs3_enc_fh_args(&co, &fh);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(nfs3_dec_getattr(&ri, &ga), -EBADF);
	assert_int_equal(ga.status, NFS3ERR_BADHANDLE);

	/* RPC-level refusals */
	call_start(NFS_PROG, NFS_V3, NFSPROC3_GETATTR); /* no arguments */
	assert_int_equal(call_end(&srv), -EINVAL);
	call_start(NFS_PROG, NFS_V3, NFSPROC3_RENAME);
	assert_int_equal(call_end(&srv), -EOPNOTSUPP);
	call_start(NFS_PROG, 4, NFSPROC3_NULL);
	assert_int_equal(call_end(&srv), -EPROTONOSUPPORT);
	call_start(100021, 4, 0); /* NLM */
	assert_int_equal(call_end(&srv), -EPROTONOSUPPORT);
	auth.flavor = 6; /* RPCSEC_GSS */
	call_start(NFS_PROG, NFS_V3, NFSPROC3_NULL);
	auth.flavor = RPC_AUTH_SYS;
	/* rpc_encode_call sent AUTH_NONE for an unknown flavour: patch it */
	callbuf[27] = 6;
	assert_int_equal(call_end(&srv), -EACCES);

	call_start(PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT);
	pmap_encode_getport(&co, MOUNT_PROG, MOUNT_V3, PMAP_IPPROTO_TCP);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(pmap_decode_getport(&ri), 2049);
	call_start(PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT);
	pmap_encode_getport(&co, MOUNT_PROG, MOUNT_V3, PMAP_IPPROTO_UDP);
	assert_int_equal(call_end(&srv), 0);
	assert_int_equal(pmap_decode_getport(&ri), -EPROTONOSUPPORT);

	/* a reply sent to the server is dropped, counted */
	assert_int_equal(nfs_srv_dispatch(&srv, replybuf, 24, callbuf,
					  sizeof(callbuf)),
			 0);
	assert_int_equal(srv.st.dropped.v, 1);
	nfs_export_destroy(exp);
}

/* ---- over TCP ---------------------------------------------------------- */

struct raw {
	struct tcp_sock *tp;
	struct rpc_rec_rx rx;
	uint8_t rec[NFS_SRV_MAX_RECORD];
	uint32_t have, records;
	bool closed;
};

static void raw_readable(struct sock *sk)
{
	struct raw *r = sk->user;
	uint8_t buf[1024];
	ssize_t n;

	while ((n = tcp_recv(r->tp, buf, sizeof(buf))) > 0) {
		size_t pos = 0;

		while (pos < (size_t)n) {
			struct rpc_rec_span sp;
			int used = rpc_rec_next(&r->rx, buf + pos,
						(size_t)n - pos, &sp);

			assert_true(used > 0);
			pos += (size_t)used;
			if (sp.rec_start)
				r->have = 0;
			memcpy(r->rec + r->have, sp.data, sp.len);
			r->have += sp.len;
			if (sp.rec_end)
				r->records++;
		}
	}
	if (n == 0)
		r->closed = true;
}

static void raw_error(struct sock *sk, int err)
{
	struct raw *r = sk->user;

	r->closed = true;
}

static const struct sock_ops raw_ops = { .readable = raw_readable,
					 .error = raw_error };

static void raw_connect(struct nf *w, struct raw *r, uint16_t port)
{
	struct sock_addr peer = { .ip = w->h[1].dev.ip, .port = port };

	memset(r, 0, sizeof(*r));
	rpc_rec_init(&r->rx, sizeof(r->rec));
	r->tp = tcp_socket(w->h[0].net, &raw_ops, r);
	assert_non_null(r->tp);
	assert_int_equal(tcp_connect(r->tp, &peer), 0);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
}

/* Send the call in co as two fragments, in chunks of @chunk bytes. */
static void raw_send_call(struct nf *w, struct raw *r, size_t chunk)
{
	static uint8_t wire[NFS_SRV_MAX_RECORD + 8];
	uint32_t half = co.pos / 2;

	rpc_rec_mark(wire, half, false);
	memcpy(wire + 4, callbuf, half);
	rpc_rec_mark(wire + 4 + half, co.pos - half, true);
	memcpy(wire + 8 + half, callbuf + half, co.pos - half);
	for (size_t off = 0; off < co.pos + 8; off += chunk) {
		size_t n = lb_min(chunk, co.pos + 8 - off);

		assert_int_equal(tcp_send(r->tp, wire + off, n), (ssize_t)n);
		nf_run_for(w, NSEC_PER_MSEC);
	}
	nf_run_for(w, 20 * NSEC_PER_MSEC);
}

static int raw_reply(struct raw *r, unsigned expect_records)
{
	struct rpc_reply_hdr h;

	assert_int_equal(r->records, expect_records);
	xdr_in_init(&ri, r->rec, r->have);
	int err = rpc_decode_reply(&ri, &h);

	assert_int_equal(h.xid, xid);
	return err;
}

static void test_server_tcp(void **state)
{
	struct nf *w = nf_new(NULL, 5);
	struct nfs_export *exp;
	struct nfs_server_config sc = { .pmap_port = PMAP_PORT };
	struct nfs_server *srv;
	struct nfs_fh3 root;
	struct mnt3_res m;
	struct nfs3_commit_res cm;
	struct raw r;
	uint8_t verf[8];

	nf_add_host(w, 1024, MM_POLICY_ACCOUNTED);
	nf_add_host(w, 1024, MM_POLICY_ACCOUNTED);
	assert_int_equal(nfs_export_create("/export", 4, 1 << 20, &exp), 0);
	sc.exp = exp;
	srv = nfs_server_create(w->h[1].net, &sc);
	assert_non_null(srv);
	memcpy(verf, nfs_server_verifier(srv), 8);

	/* the portmapper's port sends us to 2049 */
	raw_connect(w, &r, PMAP_PORT);
	call_start(PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT);
	pmap_encode_getport(&co, NFS_PROG, NFS_V3, PMAP_IPPROTO_TCP);
	raw_send_call(w, &r, 3);
	assert_int_equal(raw_reply(&r, 1), 0);
	assert_int_equal(pmap_decode_getport(&ri), NFS_PORT);
	tcp_close(r.tp);

	raw_connect(w, &r, NFS_PORT);
	call_start(MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT);
	mnt3_enc_dirpath(&co, "/export/");
	raw_send_call(w, &r, 7);
	assert_int_equal(raw_reply(&r, 1), 0);
	assert_int_equal(mnt3_dec_mnt(&ri, &m), 0);
	root = m.fh;
	/* a garbage record is dropped; the connection lives on */
	{
		static const uint8_t junk[] = { 0x80, 0, 0, 4, 1, 2, 3, 4 };

		tcp_send(r.tp, junk, sizeof(junk));
		nf_run_for(w, 20 * NSEC_PER_MSEC);
	}
	call_start(NFS_PROG, NFS_V3, NFSPROC3_COMMIT);
	nfs3_enc_commit(&co, &root, 0, 0);
	raw_send_call(w, &r, 1000);
	assert_int_equal(raw_reply(&r, 2), 0);
	assert_int_equal(nfs3_dec_commit(&ri, &cm), -EISDIR);
	assert_false(r.closed);
	assert_int_equal(nf_stat(&w->h[1], "nfs.server.2049.dropped"), 1);
	/* an oversized record mark ends the connection, counted */
	{
		uint8_t mark[4];

		rpc_rec_mark(mark, NFS_SRV_MAX_RECORD + 1, true);
		tcp_send(r.tp, mark, 4);
		nf_run_for(w, 50 * NSEC_PER_MSEC);
	}
	assert_true(r.closed);
	assert_int_equal(nf_stat(&w->h[1], "nfs.server.2049.oversized_records"),
			 1);
	tcp_close(r.tp);

	/* a restart on the same export: same files, a new verifier */
	nfs_server_destroy(srv);
	srv = nfs_server_create(w->h[1].net, &sc);
	assert_non_null(srv);
	assert_memory_not_equal(verf, nfs_server_verifier(srv), 8);
	nfs_server_destroy(srv);
	nf_run_for(w, 2 * TCP_TIME_WAIT_NS);
	nfs_export_destroy(exp);
	nf_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_server_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
