// SPDX-License-Identifier: MIT
/*
 * XDR primitives, RPC call/reply headers, record marking, the call table
 * (XID matching and retransmission) and portmapper GETPORT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "rpc/rpc_calls.h"
#include "rpc/rpc_proto.h"
#include "rpc/xdr.h"

static void test_xdr_roundtrip(void **state)
{
	uint8_t buf[64], fixed[3];
	struct xdr_out o;
	struct xdr_in in;
	const uint8_t *p;
	uint32_t len;
	char s[8];

	xdr_out_init(&o, buf, sizeof(buf));
	xdr_put_u32(&o, 0xdeadbeef);
	xdr_put_u64(&o, 0x0102030405060708ull);
	xdr_put_fixed(&o, "abc", 3);
	xdr_put_opaque(&o, "hello", 5);
	xdr_put_string(&o, "name");
	xdr_put_u32(&o, 1);
	assert_int_equal(o.err, 0);
	assert_int_equal(o.pos, 4 + 8 + 4 + 4 + 8 + 4 + 4 + 4);
	/* padding is zero, the u64 high word first */
	assert_int_equal(buf[4], 0x01);
	assert_int_equal(buf[11], 0x08);
	assert_int_equal(buf[15], 0);
	assert_int_equal(buf[25], 0);

	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(xdr_get_u32(&in), 0xdeadbeef);
	assert_true(xdr_get_u64(&in) == 0x0102030405060708ull);
	xdr_get_fixed(&in, fixed, 3);
	assert_memory_equal(fixed, "abc", 3);
	p = xdr_get_opaque(&in, 5, &len);
	assert_non_null(p);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	xdr_get_string(&in, s, 7);
	assert_string_equal(s, "name");
	assert_true(xdr_get_bool(&in));
	assert_int_equal(in.err, 0);
	assert_int_equal(xdr_in_left(&in), 0);
	/* past the end: sticky error, zeroes */
	assert_int_equal(xdr_get_u32(&in), 0);
	assert_int_equal(in.err, -EBADMSG);
	assert_int_equal(xdr_in_left(&in), 0);
}

static void test_xdr_errors(void **state)
{
	uint8_t buf[8];
	static const uint8_t two[] = { 0, 0, 0, 2 };
	static const uint8_t big[] = { 0, 0, 0, 9, 'a', 'b' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t nul[] = { 0, 0, 0, 2, 'a', 0, 0, 0 };
	struct xdr_out o;
	struct xdr_in in;
	uint32_t len;
	char s[16];

	xdr_out_init(&o, buf, sizeof(buf));
	xdr_put_opaque(&o, "abcde", 5); /* 4 + 8 > 8 */
	assert_int_equal(o.err, -EMSGSIZE);
	xdr_put_u32(&o, 1); /* sticky */
	assert_int_equal(o.err, -EMSGSIZE);

	xdr_in_init(&in, two, sizeof(two));
	assert_false(xdr_get_bool(&in));
	assert_int_equal(in.err, -EBADMSG);

	xdr_in_init(&in, big, sizeof(big)); /* truncated */
	assert_null(xdr_get_opaque(&in, 64, &len));
	assert_int_equal(len, 0);
	assert_int_equal(in.err, -EBADMSG);

	xdr_in_init(&in, big, sizeof(big)); /* over its bound */
	assert_null(xdr_get_opaque(&in, 8, &len));
	assert_int_equal(in.err, -EBADMSG);

	xdr_in_init(&in, huge, sizeof(huge)); /* length wraps when padded */
	assert_null(xdr_get_opaque(&in, UINT32_MAX, &len));
	assert_int_equal(in.err, -EBADMSG);

	xdr_in_init(&in, nul, sizeof(nul));
	xdr_get_string(&in, s, 15);
	assert_int_equal(in.err, -EBADMSG);
	assert_string_equal(s, "");
}

static void test_auth_sys_encoding(void **state)
{
	struct rpc_auth a = { .flavor = RPC_AUTH_SYS,
			      .stamp = 7,
			      .machine = "client",
			      .uid = 1000,
			      .gid = 100 };
	uint8_t buf[512];
	struct xdr_out o;
	struct xdr_in in;
	struct rpc_call_hdr c;
	uint32_t auth_stat;

	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_call(&o, 0x11223344, 100003, 3, 1, &a);
	assert_int_equal(o.err, 0);
	/* 24 bytes of header, cred flavor 1 with a 28-byte body, null verf */
	assert_int_equal(o.pos, 24 + 8 + 28 + 8);
	assert_int_equal(buf[27], RPC_AUTH_SYS);
	assert_int_equal(buf[31], 28);

	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), 0);
	assert_int_equal(c.xid, 0x11223344);
	assert_int_equal(c.prog, 100003);
	assert_int_equal(c.vers, 3);
	assert_int_equal(c.proc, 1);
	assert_int_equal(c.cred.flavor, RPC_AUTH_SYS);
	assert_int_equal(c.cred.uid, 1000);
	assert_int_equal(c.cred.gid, 100);
	assert_string_equal(c.cred.machine, "client");
	assert_int_equal(xdr_in_left(&in), 0);

	/* groups round-trip */
	a.nr_gids = 2;
	a.gids[0] = 5;
	a.gids[1] = 6;
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_call(&o, 1, 100005, 3, 1, &a);
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), 0);
	assert_int_equal(c.cred.nr_gids, 2);
	assert_int_equal(c.cred.gids[1], 6);

	/* AUTH_NONE: eight zero bytes of credential */
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_call(&o, 2, 100000, 2, 3, NULL);
	assert_int_equal(o.pos, 24 + 8 + 8);
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), 0);
	assert_int_equal(c.cred.flavor, RPC_AUTH_NONE);
}

static void test_call_decode_errors(void **state)
{
	struct rpc_auth a = { .flavor = RPC_AUTH_SYS, .machine = "m" };
	uint8_t buf[512];
	struct xdr_out o;
	struct xdr_in in;
	struct rpc_call_hdr c;
	uint32_t auth_stat;

	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_call(&o, 9, 100003, 3, 0, &a);
	/* every truncation is -EBADMSG, never a crash */
	for (uint32_t n = 0; n < o.pos; n++) {
		xdr_in_init(&in, buf, n);
		assert_int_equal(rpc_decode_call(&in, &c, &auth_stat),
				 -EBADMSG);
	}
	/* rpcvers 3 */
	buf[11] = 3;
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat),
			 -EPROTONOSUPPORT);
	assert_int_equal(c.xid, 9);
	buf[11] = 2;
	/* 17 groups inside a body claiming them */
	buf[24 + 8 + 20 + 3] = 17;
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), -EACCES);
	assert_int_equal(auth_stat, RPC_AUTH_BADCRED);
	buf[24 + 8 + 20 + 3] = 0;
	/* an unknown flavour */
	buf[27] = 6;
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), -EACCES);
	assert_int_equal(auth_stat, RPC_AUTH_REJECTEDCRED);
	/* a reply is not a call */
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_accepted(&o, 9, RPC_SUCCESS);
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_call(&in, &c, &auth_stat), -EBADMSG);
}

static int decode_reply_buf(const uint8_t *buf, uint32_t len,
			    struct rpc_reply_hdr *r)
{
	struct xdr_in in;

	xdr_in_init(&in, buf, len);
	return rpc_decode_reply(&in, r);
}

static void test_reply_decode(void **state)
{
	uint8_t buf[64];
	struct xdr_out o;
	struct xdr_in in;
	struct rpc_reply_hdr r;
	static const struct {
		uint32_t stat;
		int err;
		const char *name;
	} acc[] = {
		{ RPC_PROG_UNAVAIL, -EPROTONOSUPPORT, "PROG_UNAVAIL" },
		{ RPC_PROC_UNAVAIL, -EOPNOTSUPP, "PROC_UNAVAIL" },
		{ RPC_GARBAGE_ARGS, -EINVAL, "GARBAGE_ARGS" },
		{ RPC_SYSTEM_ERR, -EIO, "SYSTEM_ERR" },
	};

	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_accepted(&o, 42, RPC_SUCCESS);
	xdr_put_u32(&o, 0x55);
	assert_int_equal(o.pos, 28);
	xdr_in_init(&in, buf, o.pos);
	assert_int_equal(rpc_decode_reply(&in, &r), 0);
	assert_int_equal(r.xid, 42);
	assert_int_equal(xdr_get_u32(&in), 0x55); /* results follow */
	assert_string_equal(rpc_reply_name(&r), "SUCCESS");

	for (unsigned i = 0; i < sizeof(acc) / sizeof(acc[0]); i++) {
		xdr_out_init(&o, buf, sizeof(buf));
		rpc_encode_accepted(&o, 1, acc[i].stat);
		assert_int_equal(decode_reply_buf(buf, o.pos, &r), acc[i].err);
		assert_string_equal(rpc_reply_name(&r), acc[i].name);
	}
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_prog_mismatch(&o, 1, 2, 3);
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EPROTONOSUPPORT);
	assert_int_equal(r.low, 2);
	assert_int_equal(r.high, 3);
	assert_int_equal(decode_reply_buf(buf, o.pos - 4, &r), -EBADMSG);

	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_denied_auth(&o, 5, RPC_AUTH_TOOWEAK);
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EACCES);
	assert_string_equal(rpc_reply_name(&r), "AUTH_TOOWEAK");
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_denied_rpcvers(&o, 5);
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EPROTONOSUPPORT);
	assert_string_equal(rpc_reply_name(&r), "RPC_MISMATCH");

	/* a call is not a reply; unknown stats; truncation */
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_call(&o, 1, 1, 1, 1, NULL);
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EBADMSG);
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_accepted(&o, 1, 77);
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EBADMSG);
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_denied_auth(&o, 1, 1);
	buf[15] = 9; /* reject_stat 9 */
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EBADMSG);
	xdr_out_init(&o, buf, sizeof(buf));
	rpc_encode_accepted(&o, 1, RPC_SUCCESS);
	for (uint32_t n = 0; n < o.pos; n++)
		assert_int_equal(decode_reply_buf(buf, n, &r), -EBADMSG);
	/* a verifier body longer than 400 bytes */
	buf[16] = 0x01;
	assert_int_equal(decode_reply_buf(buf, o.pos, &r), -EBADMSG);
}

/* Feed @n bytes in pieces of @step and collect the records. */
static int rec_feed(struct rpc_rec_rx *rx, const uint8_t *in, size_t n,
		    size_t step, uint8_t *out, uint32_t *ends, unsigned *nr_end)
{
	size_t pos = 0;
	uint32_t total = 0;

	*nr_end = 0;
	while (pos < n) {
		size_t chunk = n - pos < step ? n - pos : step;
		size_t cpos = 0;

		while (cpos < chunk) {
			struct rpc_rec_span sp;
			int used = rpc_rec_next(rx, in + pos + cpos,
						chunk - cpos, &sp);

			if (used < 0)
				return used;
			assert_true(used > 0);
			if (sp.data) {
				memcpy(out + total, sp.data, sp.len);
				total += sp.len;
			}
			if (sp.rec_end)
				ends[(*nr_end)++] = total;
			cpos += (size_t)used;
		}
		pos += chunk;
	}
	return (int)total;
}

static void test_record_marking(void **state)
{
	uint8_t stream[64], out[64];
	uint32_t ends[4];
	unsigned nr_end;
	struct rpc_rec_rx rx;
	size_t n = 0;

	/* record 1: "abcdef" as fragments "ab" + "cdef"; record 2: "xyz" */
	rpc_rec_mark(stream + n, 2, false);
	memcpy(stream + n + 4, "ab", 2);
	n += 6;
	rpc_rec_mark(stream + n, 4, true);
	memcpy(stream + n + 4, "cdef", 4);
	n += 8;
	rpc_rec_mark(stream + n, 3, true);
	memcpy(stream + n + 4, "xyz", 3);
	n += 7;
	for (size_t step = 1; step <= n; step++) {
		rpc_rec_init(&rx, 16);
		assert_int_equal(
			rec_feed(&rx, stream, n, step, out, ends, &nr_end), 9);
		assert_int_equal(nr_end, 2);
		assert_int_equal(ends[0], 6);
		assert_int_equal(ends[1], 9);
		assert_memory_equal(out, "abcdefxyz", 9);
	}
	/* the bound counts the whole record, not one fragment */
	rpc_rec_init(&rx, 5);
	assert_int_equal(rec_feed(&rx, stream, n, n, out, ends, &nr_end),
			 -EMSGSIZE);
	rpc_rec_init(&rx, 6);
	assert_int_equal(rec_feed(&rx, stream, n, n, out, ends, &nr_end), 9);
	/* a 2 GiB mark is refused before any data */
	rpc_rec_mark(stream, RPC_REC_LEN_MASK, true);
	rpc_rec_init(&rx, 1 << 20);
	assert_int_equal(rec_feed(&rx, stream, 4, 4, out, ends, &nr_end),
			 -EMSGSIZE);
}

static void test_calls_any_order(void **state)
{
	struct rpc_slot slots[4];
	struct rpc_calls c;
	int idx[4];

	rpc_calls_init(&c, slots, 4, 1000, 100, 800, 0);
	for (int i = 0; i < 4; i++) {
		idx[i] = rpc_call_start(&c);
		assert_true(idx[i] >= 0);
		rpc_call_sent(&c, (unsigned)idx[i], 0);
	}
	assert_int_equal(rpc_call_start(&c), -EBUSY);
	/* replies in reverse order each find their own call */
	for (int i = 3; i >= 0; i--) {
		int k = rpc_call_find(&c, 1000 + (uint32_t)i);

		assert_int_equal(k, idx[i]);
		rpc_call_done(&c, (unsigned)k);
		/* a duplicate reply finds nothing */
		assert_int_equal(rpc_call_find(&c, 1000 + (uint32_t)i),
				 -ENOENT);
	}
	assert_int_equal(rpc_call_find(&c, 77), -ENOENT);
	assert_int_equal(c.busy, 0);
	/* new XIDs never collide with a busy one, even across wrap */
	rpc_calls_init(&c, slots, 4, UINT32_MAX, 100, 800, 0);
	idx[0] = rpc_call_start(&c);
	idx[1] = rpc_call_start(&c);
	assert_int_equal(slots[idx[0]].xid, UINT32_MAX);
	assert_int_equal(slots[idx[1]].xid, 0);
	c.next_xid = UINT32_MAX;
	idx[2] = rpc_call_start(&c);
	assert_int_equal(slots[idx[2]].xid, 1);
}

static void test_calls_retransmit(void **state)
{
	struct rpc_slot slots[2];
	struct rpc_calls c;
	unsigned k;
	uint32_t xid;
	int i;

	rpc_calls_init(&c, slots, 2, 1, 100, 300, 0);
	i = rpc_call_start(&c);
	xid = slots[i].xid;
	assert_int_equal(rpc_calls_next_resend(&c), i); /* not sent yet */
	rpc_call_sent(&c, (unsigned)i, 0);
	assert_int_equal(rpc_calls_next_resend(&c), -ENOENT);
	assert_true(rpc_calls_next_deadline(&c) == 100);
	assert_int_equal(rpc_calls_expire(&c, 99, &k), -ENOENT);
	assert_int_equal(rpc_calls_expire(&c, 100, &k), 0);
	assert_int_equal(k, i);
	assert_int_equal(rpc_calls_next_resend(&c), i);
	rpc_call_sent(&c, k, 100);
	/* same XID, doubled timeout, then capped */
	assert_int_equal(slots[i].xid, xid);
	assert_true(rpc_calls_next_deadline(&c) == 300);
	assert_int_equal(rpc_calls_expire(&c, 300, &k), 0);
	rpc_call_sent(&c, k, 300);
	assert_true(rpc_calls_next_deadline(&c) == 600);
	assert_int_equal(rpc_calls_expire(&c, 600, &k), 0);
	rpc_call_sent(&c, k, 600);
	assert_true(rpc_calls_next_deadline(&c) == 900);
	assert_int_equal(slots[i].tries, 4);
	/* hard: never gives up */
	/* reconnect: every busy call again, XIDs kept */
	rpc_calls_reconnected(&c);
	assert_int_equal(rpc_calls_next_resend(&c), i);
	assert_int_equal(slots[i].xid, xid);
	assert_true(rpc_calls_next_deadline(&c) == UINT64_MAX);

	/* soft: two tries then -ETIMEDOUT */
	rpc_calls_init(&c, slots, 2, 1, 100, 300, 2);
	i = rpc_call_start(&c);
	rpc_call_sent(&c, (unsigned)i, 0);
	assert_int_equal(rpc_calls_expire(&c, 100, &k), 0);
	rpc_call_sent(&c, k, 100);
	assert_int_equal(rpc_calls_expire(&c, 300, &k), -ETIMEDOUT);
	assert_int_equal(k, i);
	rpc_call_done(&c, k);
	assert_int_equal(rpc_calls_expire(&c, 1000, &k), -ENOENT);
}

static void test_pmap(void **state)
{
	uint8_t buf[32];
	struct xdr_out o;
	struct xdr_in in;

	xdr_out_init(&o, buf, sizeof(buf));
	pmap_encode_getport(&o, 100005, 3, PMAP_IPPROTO_TCP);
	assert_int_equal(o.pos, 16);
	assert_int_equal(buf[3], 0xa5); /* 100005 = 0x186a5 */
	assert_int_equal(buf[11], 6);
	assert_int_equal(buf[15], 0);

	xdr_out_init(&o, buf, sizeof(buf));
	xdr_put_u32(&o, 20048);
	xdr_put_u32(&o, 0);
	xdr_put_u32(&o, 70000);
	xdr_in_init(&in, buf, 12);
	assert_int_equal(pmap_decode_getport(&in), 20048);
	assert_int_equal(pmap_decode_getport(&in), -EPROTONOSUPPORT);
	assert_int_equal(pmap_decode_getport(&in), -EBADMSG);
	assert_int_equal(pmap_decode_getport(&in), -EBADMSG); /* truncated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdr_roundtrip),
		cmocka_unit_test(test_xdr_errors),
		cmocka_unit_test(test_auth_sys_encoding),
		cmocka_unit_test(test_call_decode_errors),
		cmocka_unit_test(test_reply_decode),
		cmocka_unit_test(test_record_marking),
		cmocka_unit_test(test_calls_any_order),
		cmocka_unit_test(test_calls_retransmit),
		cmocka_unit_test(test_pmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
