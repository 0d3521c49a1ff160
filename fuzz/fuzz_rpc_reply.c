// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the NFS client's reply path as pure parsers.  The
 * input is a TCP byte stream from a server: it is cut into records by the
 * bounded record-marking reassembler (fed in pieces whose sizes come from
 * byte 0), each record's RPC reply header is decoded, and its results are
 * decoded as every NFSv3, MOUNT and portmapper result type in turn.
 *
 * Checks: no decoder reads outside its record (ASan), a decoder that
 * reports success consumed no more than the record and left no error, a
 * READ's data lies inside the record and is no longer than asked, a
 * WRITE's count is no more than sent, and a record never exceeds the
 * reassembler's bound.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nfs/nfs3_proto.h"
#include "rpc/rpc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_RECORD 8192

static void fz_check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_rpc_reply: %s\n", what);
		abort();
	}
}

static void fz_results(const uint8_t *rec, uint32_t len, uint32_t off)
{
	struct nfs3_attr_res ga;
	struct nfs3_lookup_res lr;
	struct nfs3_access_res ar;
	struct nfs3_read_res rr;
	struct nfs3_write_res wr;
	struct nfs3_commit_res cr;
	struct nfs3_create_res kr;
	struct nfs3_wcc_res wc;
	struct nfs3_fsinfo_res fi;
	struct nfs3_fsstat_res fs;
	struct nfs3_readdirplus_res dr;
	struct nfs3_dirent de;
	struct mnt3_res mr;
	struct xdr_in x;
	bool eof;
	int err;

#define FZ_DEC(call)                                                     \
	do {                                                             \
		xdr_in_init(&x, rec + off, len - off);                   \
		err = call;                                              \
		fz_check(err != 0 || (!x.err && x.pos <= x.len),         \
			 "success with an error or past the record");    \
		fz_check(err != -EBADMSG || x.err, "EBADMSG, no error"); \
	} while (0)

	FZ_DEC(nfs3_dec_getattr(&x, &ga));
	FZ_DEC(nfs3_dec_lookup(&x, &lr));
	FZ_DEC(nfs3_dec_access(&x, &ar));
	FZ_DEC(nfs3_dec_read(&x, 4096, &rr));
	if (!err) {
		fz_check(rr.count <= 4096, "READ longer than asked");
		fz_check(rr.data >= rec && rr.data + rr.count <= rec + len,
			 "READ data outside the record");
	}
	FZ_DEC(nfs3_dec_write(&x, 4096, &wr));
	if (!err)
		fz_check(wr.count <= 4096 && wr.committed <= NFS3_FILE_SYNC,
			 "WRITE result out of range");
	FZ_DEC(nfs3_dec_commit(&x, &cr));
	FZ_DEC(nfs3_dec_create(&x, &kr));
	FZ_DEC(nfs3_dec_wcc_res(&x, &wc));
	FZ_DEC(nfs3_dec_fsinfo(&x, &fi));
	FZ_DEC(nfs3_dec_fsstat(&x, &fs));
	FZ_DEC(mnt3_dec_mnt(&x, &mr));
	if (!err)
		fz_check(mr.fh.len > 0 && mr.fh.len <= NFS3_FHSIZE, "MNT fh");
	FZ_DEC(nfs3_dec_readdirplus(&x, &dr));
	/* each entry consumes at least 4 bytes: this ends */
	while (!err && (err = nfs3_dec_dirent(&x, &de, &eof)) == 1)
		fz_check(strlen(de.name) <= NFS3_NAMELEN, "name");
	xdr_in_init(&x, rec + off, len - off);
	err = pmap_decode_getport(&x);
	fz_check(err != 0, "port 0 returned as a port");
#undef FZ_DEC
}

/*
 * The client's READ head peek agrees with the whole-record decoders: a
 * head it accepts is one rpc_decode_reply() + nfs3_dec_read() accept with
 * the same count and the data right after it, and a prefix never decides
 * differently from the whole record.
 */
static void fz_read_head(const uint8_t *rec, uint32_t len)
{
	struct nfs3_read_res r, r2, rd;
	struct rpc_reply_hdr h;
	struct xdr_in x;
	uint32_t head = 0, head2 = 0;
	int got = nfs3_read_reply_head(rec, len, &head, &r);
	int part = nfs3_read_reply_head(rec, len / 2, &head2, &r2);

	fz_check(got <= 0 || (uint32_t)got > len, "more wanted than held");
	fz_check(part <= 0 || (uint32_t)part > len / 2, "prefix: wanted");
	if (part == 0)
		fz_check(got == 0 && head2 == head, "prefix decided otherwise");
	if (part < 0)
		fz_check(got < 0, "prefix refused, whole accepted");
	if (got != 0)
		return;
	fz_check(head <= len && r.status == NFS3_OK, "head");
	if (head + xdr_pad4(r.count) != len || xdr_pad4(r.count) < r.count)
		return;
	xdr_in_init(&x, rec, len);
	fz_check(!rpc_decode_reply(&x, &h), "head of a reply refused");
	fz_check(!nfs3_dec_read(&x, r.count, &rd) && rd.count == r.count &&
			 rd.data == rec + head && rd.eof == r.eof,
		 "head and whole record disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rec[FZ_MAX_RECORD];
	struct rpc_rec_rx rx;
	struct rpc_rec_span sp;
	struct rpc_reply_hdr h;
	struct xdr_in x;
	size_t pos = 1, step;
	uint32_t have = 0;

	if (!size)
		return 0;
	step = data[0] % 64 + 1;
	rpc_rec_init(&rx, FZ_MAX_RECORD);
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step;
		int used = rpc_rec_next(&rx, data + pos, n, &sp);

		if (used < 0) /* the connection would be dropped */
			return 0;
		fz_check(used > 0 && (size_t)used <= n, "consumed");
		pos += (size_t)used;
		if (sp.rec_start)
			have = 0;
		fz_check(sp.off == have, "span offset");
		fz_check(have + sp.len <= FZ_MAX_RECORD, "record over bound");
		if (sp.len)
			memcpy(rec + have, sp.data, sp.len);
		have += sp.len;
		if (!sp.rec_end)
			continue;
		fz_read_head(rec, have);
		xdr_in_init(&x, rec, have);
		if (!rpc_decode_reply(&x, &h))
			fz_results(rec, have, x.pos);
		fz_check(rpc_reply_name(&h) != NULL, "name");
		have = 0;
	}
	return 0;
}
