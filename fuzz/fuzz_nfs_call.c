// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the server's call parser as pure functions.  The input
 * is one RPC record from a client: its CALL header is decoded, then its
 * arguments as the NFSv3 or MOUNT procedure it names (or, when the header
 * names none we serve, as every procedure in turn).
 *
 * Checks: nothing reads outside the record (ASan), a success leaves no
 * error, a WRITE's data lies inside the record with the count it claims,
 * names and paths are NUL-terminated within their bounds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nfs/nfs3_proto.h"
#include "rpc/rpc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_nfs_call: %s\n", what);
		abort();
	}
}

static void fz_args(const uint8_t *data, uint32_t size, uint32_t off,
		    uint32_t prog, uint32_t proc)
{
	struct nfs3_args a;
	struct xdr_in x;
	int err;

	xdr_in_init(&x, data + off, size - off);
	if (prog == MOUNT_PROG)
		err = mnt3_dec_args(&x, proc, &a);
	else
		err = nfs3_dec_args(&x, proc, &a);
	fz_check(err || !x.err, "success with an error");
	fz_check(err != -EBADMSG || x.err, "EBADMSG without an error");
	fz_check(strlen(a.name) <= NFS3_NAMELEN, "name");
	fz_check(strlen(a.path) <= MNT3_PATHLEN, "path");
	fz_check(a.fh.len <= NFS3_FHSIZE, "fh");
	if (!err && proc == NFSPROC3_WRITE && prog == NFS_PROG)
		fz_check(a.data >= data && a.data + a.count <= data + size,
			 "WRITE data outside the record");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_call_hdr c;
	uint32_t auth_stat;
	struct xdr_in x;
	int err;

	if (size > 1 << 20)
		return 0;
	xdr_in_init(&x, data, (uint32_t)size);
	err = rpc_decode_call(&x, &c, &auth_stat);
	fz_check(err || auth_stat == RPC_AUTH_OK, "auth_stat on success");
	fz_check(c.cred.nr_gids <= RPC_AUTH_SYS_MAX_GIDS, "gids");
	fz_check(strlen(c.cred.machine) <= RPC_AUTH_SYS_MAX_NAME, "machine");
	if (err == -EBADMSG)
		return 0;
	if (c.prog == NFS_PROG || c.prog == MOUNT_PROG) {
		fz_args(data, (uint32_t)size, x.pos, c.prog, c.proc);
		return 0;
	}
	for (uint32_t p = 0; p < NFSPROC3_NR; p++)
		fz_args(data, (uint32_t)size, x.pos, NFS_PROG, p);
	fz_args(data, (uint32_t)size, x.pos, MOUNT_PROG, MOUNTPROC3_MNT);
	return 0;
}
