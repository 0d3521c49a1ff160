// SPDX-License-Identifier: MIT
/* iSCSI codecs: BHS, text, negotiation rules, CRC32C, CDBs and sense. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "block/iscsi_chap.h"
#include "core/compiler.h"
#include "block/iscsi_proto.h"

static void test_crc32c_vectors(void **state)
{
	uint8_t b[32], d[4];

	(void)state;
	assert_int_equal(iscsi_crc32c(0, "123456789", 9), 0xe3069283);
	/* RFC 3720 appendix B.4: 32 zero bytes, then 32 bytes of 0xff */
	memset(b, 0, sizeof(b));
	assert_int_equal(iscsi_crc32c(0, b, 32), 0x8a9136aa);
	iscsi_digest_put(d, iscsi_crc32c(0, b, 32));
	assert_int_equal(d[0], 0xaa);
	assert_int_equal(d[3], 0x8a);
	assert_int_equal(iscsi_digest_get(d), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(iscsi_crc32c(0, b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(iscsi_crc32c(0, b, 32), 0x46dd794e);
	/* chaining over pieces equals one pass */
	assert_int_equal(iscsi_crc32c(iscsi_crc32c(0, b, 13), b + 13, 19),
			 0x46dd794e);
}

static void test_bhs_roundtrip(void **state)
{
	struct iscsi_bhs h = { 0 }, g;
	uint8_t raw[ISCSI_BHS_LEN];

	(void)state;
	h.op = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_FINAL | ISCSI_CMD_WRITE | ISCSI_CMD_ATTR_SIMPLE;
	h.dlen = 0x012345;
	h.lun = iscsi_lun_encode(1);
	h.itt = 0xdeadbeef;
	h.w[ISCSI_W_EDTL] = 8192;
	h.w[ISCSI_W_CMDSN] = 7;
	h.w[ISCSI_W_EXPSTATSN] = 9;
	scsi_cdb_rw(h.cdb, true, 100, 16, false, true);
	iscsi_bhs_encode(raw, &h);
	assert_int_equal(raw[0], 0x01);
	assert_int_equal(raw[5], 0x01);
	assert_int_equal(raw[7], 0x45);
	assert_int_equal(raw[9], 1); /* LUN 1 in byte 9 */
	assert_int_equal(raw[32], SCSI_WRITE_10);
	assert_int_equal(iscsi_bhs_decode(raw, false, &g), 0);
	assert_int_equal(g.op, ISCSI_OP_SCSI_CMD);
	assert_int_equal(g.dlen, 0x012345);
	assert_int_equal(g.itt, 0xdeadbeef);
	assert_int_equal(g.w[ISCSI_W_CMDSN], 7);
	assert_memory_equal(g.cdb, h.cdb, 16);
	assert_int_equal(iscsi_lun_decode(g.lun), 1);
	/* an initiator opcode from a target, and the reverse, are errors */
	assert_int_equal(iscsi_bhs_decode(raw, true, &g), -EPROTO);
	raw[0] = ISCSI_OP_DATA_IN;
	assert_int_equal(iscsi_bhs_decode(raw, false, &g), -EPROTO);
	assert_int_equal(iscsi_bhs_decode(raw, true, &g), 0);
	raw[0] = ISCSI_OP_DATA_IN | ISCSI_OP_IMMEDIATE; /* I from a target */
	assert_int_equal(iscsi_bhs_decode(raw, true, &g), -EPROTO);
	raw[0] = 0x80 | ISCSI_OP_NOP_OUT; /* reserved bit */
	assert_int_equal(iscsi_bhs_decode(raw, false, &g), -EPROTO);
	assert_int_equal(iscsi_lun_decode(iscsi_lun_encode(300)), 300);
	assert_int_equal(iscsi_lun_decode(1), -1);
	assert_int_equal(iscsi_pad4(5), 8);
	assert_true(iscsi_sn_lt(0xffffffff, 0));
	assert_false(iscsi_sn_lt(5, 5));
	assert_true(iscsi_sn_le(5, 5));
}

static void test_text_codec(void **state)
{
	uint8_t buf[64];
	uint32_t len = 0, pos = 0;
	struct iscsi_kv kv;
	uint64_t v;
	static const uint8_t bad1[] = "NoEquals\0";
	static const uint8_t bad2[] = { 'A', '=', 'b' }; /* no NUL */
	static const uint8_t bad3[] = "=x\0";

	(void)state;
	assert_int_equal(iscsi_text_add(buf, sizeof(buf), &len, "A", "bc"), 0);
	assert_int_equal(iscsi_text_add_num(buf, sizeof(buf), &len, "N", 0), 0);
	assert_int_equal(len, 5 + 4);
	assert_int_equal(iscsi_text_next(buf, len, &pos, &kv), 1);
	assert_true(iscsi_kv_is(&kv, "A"));
	assert_int_equal(kv.vlen, 2);
	assert_int_equal(iscsi_text_next(buf, len, &pos, &kv), 1);
	assert_int_equal(iscsi_kv_num(&kv, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(iscsi_text_next(buf, len, &pos, &kv), 0);
	/* room for exactly one more byte fails cleanly */
	len = 60;
	assert_int_equal(iscsi_text_add(buf, sizeof(buf), &len, "AB", "C"),
			 -ENOSPC);
	pos = 0;
	assert_int_equal(iscsi_text_next(bad1, sizeof(bad1), &pos, &kv),
			 -EPROTO);
	pos = 0;
	assert_int_equal(iscsi_text_next(bad2, sizeof(bad2), &pos, &kv),
			 -EPROTO);
	pos = 0;
	assert_int_equal(iscsi_text_next(bad3, sizeof(bad3), &pos, &kv),
			 -EPROTO);
	kv.val = "0x10";
	kv.vlen = 4;
	assert_int_equal(iscsi_kv_num(&kv, 0, 100, &v), 0);
	assert_int_equal(v, 16);
	kv.val = "99999999999999999999999";
	kv.vlen = (uint32_t)strlen(kv.val);
	assert_int_equal(iscsi_kv_num(&kv, 0, UINT64_MAX, &v), -EINVAL);
	kv.val = "12a";
	kv.vlen = 3;
	assert_int_equal(iscsi_kv_num(&kv, 0, 100, &v), -EINVAL);
}

static struct iscsi_kv kv_of(const char *key, const char *val)
{
	return (struct iscsi_kv){ .key = key,
				  .klen = (uint32_t)strlen(key),
				  .val = val,
				  .vlen = (uint32_t)strlen(val) };
}

static void test_negotiation_respond(void **state)
{
	struct iscsi_params p;
	uint8_t r[256];
	uint32_t rl = 0;
	struct iscsi_kv kv;

	(void)state;
	iscsi_params_default(&p);
	p.initial_r2t = true;
	p.immediate_data = true;
	kv = kv_of("MaxBurstLength", "1048576");
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_OK);
	assert_int_equal(p.max_burst, 262144); /* the minimum */
	assert_string_equal((char *)r, "MaxBurstLength=262144");
	kv = kv_of("FirstBurstLength", "4096");
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_int_equal(p.first_burst, 4096);
	kv = kv_of("InitialR2T", "No"); /* OR with our Yes */
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_true(p.initial_r2t);
	kv = kv_of("ImmediateData", "No"); /* AND with our Yes */
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_false(p.immediate_data);
	kv = kv_of("DefaultTime2Wait", "5"); /* the maximum */
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_int_equal(p.time2wait, 5);
	kv = kv_of("HeaderDigest", "CRC32C,None");
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_true(p.header_digest);
	kv = kv_of("DataDigest", "None,CRC32C");
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_false(p.data_digest);
	kv = kv_of("MaxRecvDataSegmentLength", "16384"); /* declarative */
	iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl);
	assert_int_equal(p.max_xmit_dsl, 16384);
	assert_int_equal(p.max_recv_dsl, 8192);
	kv = kv_of("MaxRecvDataSegmentLength", "100"); /* below 512 */
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_BAD);
	kv = kv_of("InitialR2T", "Maybe");
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_BAD);
	kv = kv_of("HeaderDigest", "MD5");
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_BAD);
	kv = kv_of("X-Vendor", "1");
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_UNKNOWN);
	kv = kv_of("ErrorRecoveryLevel", "3");
	assert_int_equal(iscsi_neg_respond(&p, &kv, r, sizeof(r), &rl),
			 ISCSI_NEG_BAD);
}

static void test_negotiation_accept(void **state)
{
	struct iscsi_params p;
	struct iscsi_kv kv;
	uint8_t buf[1024];
	uint32_t len = 0, pos = 0;
	int n = 0;

	(void)state;
	iscsi_params_default(&p);
	p.max_recv_dsl = 262144;
	p.header_digest = true;
	assert_int_equal(iscsi_neg_offer(&p, buf, sizeof(buf), &len), 0);
	while (iscsi_text_next(buf, len, &pos, &kv) == 1) {
		if (iscsi_kv_is(&kv, "MaxRecvDataSegmentLength"))
			assert_int_equal(kv.vlen, 6);
		if (iscsi_kv_is(&kv, "HeaderDigest"))
			assert_int_equal(kv.vlen, 11); /* CRC32C,None */
		if (iscsi_kv_is(&kv, "DataDigest"))
			assert_int_equal(kv.vlen, 4); /* None */
		n++;
	}
	assert_int_equal(n, 14);
	/* a minimum above our offer, or a changed digest, is illegal */
	kv = kv_of("MaxBurstLength", "524288");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	kv = kv_of("MaxBurstLength", "65536");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_OK);
	assert_int_equal(p.max_burst, 65536);
	kv = kv_of("HeaderDigest", "CRC32C,None"); /* a list is no answer */
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	kv = kv_of("HeaderDigest", "CRC32C");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_OK);
	assert_true(p.header_digest);
	/* the target may decline a digest we offered, never add one */
	kv = kv_of("HeaderDigest", "None");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_OK);
	assert_false(p.header_digest);
	kv = kv_of("DataDigest", "CRC32C");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	/* OR: our Yes cannot become No; AND: our No cannot become Yes */
	kv = kv_of("InitialR2T", "No");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	p.immediate_data = false;
	kv = kv_of("ImmediateData", "Yes");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	kv = kv_of("DefaultTime2Wait", "1"); /* a maximum below our offer */
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_BAD);
	kv = kv_of("MaxRecvDataSegmentLength", "8192");
	assert_int_equal(iscsi_neg_accept(&p, &kv), ISCSI_NEG_OK);
	assert_int_equal(p.max_xmit_dsl, 8192);
	assert_int_equal(p.max_recv_dsl, 262144);
}

static void test_cdbs(void **state)
{
	uint8_t cdb[16];

	(void)state;
	assert_int_equal(
		scsi_cdb_rw(cdb, false, 0xffffffff, 0xffff, true, false), 10);
	assert_int_equal(cdb[0], SCSI_READ_10);
	assert_int_equal(cdb[1], SCSI_CDB_FUA);
	assert_int_equal(nbd_get32(cdb + 2), 0xffffffff);
	assert_int_equal(scsi_cdb_rw(cdb, true, 1ull << 32, 8, false, true),
			 16);
	assert_int_equal(cdb[0], SCSI_WRITE_16);
	assert_int_equal(nbd_get64(cdb + 2), 1ull << 32);
	assert_int_equal(nbd_get32(cdb + 10), 8);
	assert_int_equal(scsi_cdb_rw(cdb, true, 0, 0x10000, false, false),
			 -ERANGE);
	scsi_cdb_read_capacity16(cdb, 32);
	assert_int_equal(cdb[0], 0x9e);
	assert_int_equal(cdb[1], 0x10);
	assert_int_equal(cdb[13], 32);
	scsi_cdb_inquiry(cdb, true, 0x83, 255);
	assert_int_equal(cdb[1], 1);
	assert_int_equal(cdb[2], 0x83);
	assert_int_equal(cdb[4], 255);
	scsi_cdb_report_luns(cdb, 4096);
	assert_int_equal(nbd_get32(cdb + 6), 4096);
}

static void test_sense(void **state)
{
	uint8_t s[18];
	struct scsi_sense sn;
	static const uint8_t desc[] = { 0x72, 0x03, 0x11, 0x00, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(scsi_sense_build(s, SCSI_SENSE_ILLEGAL_REQUEST,
					  SCSI_ASC_LBA_OUT_OF_RANGE),
			 18);
	assert_int_equal(scsi_sense_decode(s, 18, &sn), 0);
	assert_int_equal(sn.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(sn.asc, 0x21);
	assert_int_equal(scsi_sense_errno(&sn), -ENOSPC);
	assert_string_equal(scsi_sense_key_name(sn.key), "ILLEGAL REQUEST");
	assert_int_equal(scsi_sense_decode(desc, sizeof(desc), &sn), 0);
	assert_int_equal(sn.key, SCSI_SENSE_MEDIUM_ERROR);
	assert_int_equal(scsi_sense_errno(&sn), -EIO);
	sn.key = SCSI_SENSE_UNIT_ATTENTION;
	assert_int_equal(scsi_sense_errno(&sn), -EAGAIN);
	assert_int_equal(scsi_sense_decode(desc, 2, &sn), -EPROTO);
	assert_int_equal(scsi_sense_decode(s, 0, &sn), -EPROTO);
	s[0] = 0x10;
	assert_int_equal(scsi_sense_decode(s, 18, &sn), -EPROTO);
}

static void md5_hex(const void *p, size_t len, char *out)
{
	struct md5_ctx m;
	uint8_t d[MD5_DIGEST_LEN];

	md5_init(&m);
	md5_update(&m, p, len);
	md5_final(&m, d);
	iscsi_hex_encode(d, sizeof(d), out);
}

/* RFC 1321 appendix A.5's test suite, a long input fed piecewise, CHAP. */
static void test_md5_chap(void **state)
{
	static const struct {
		const char *in, *md5;
	} v[] = {
		{ "", "0xd41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0x0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "0x900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "0xf96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "0xc3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "0xd174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890123456789012345678901234"
		  "5678901234567890",
		  "0x57edf4a22be3c955ac49da2e2107b67a" },
	};
	char hex[2 * MD5_DIGEST_LEN + 3];
	uint8_t buf[1000], d[MD5_DIGEST_LEN], ch[16], back[16];
	struct md5_ctx m;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		md5_hex(v[i].in, strlen(v[i].in), hex);
		assert_string_equal(hex, v[i].md5);
	}
	memset(buf, 'a', sizeof(buf));
	md5_init(&m);
	for (size_t i = 0; i < sizeof(buf); i += 7)
		md5_update(&m, buf + i, lb_min(sizeof(buf) - i, (size_t)7));
	md5_final(&m, d);
	iscsi_hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "0xcabe45dcc9ae5b66ba86600cca6b8ba8");
	for (int i = 0; i < 16; i++)
		ch[i] = (uint8_t)i;
	iscsi_chap_response(0x2a, "lifeboat-secret", ch, sizeof(ch), d);
	iscsi_hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "0x62b3440a28e6f7193c0f31214df9d48f");
	/* hex: both cases, and nothing malformed */
	assert_int_equal(iscsi_hex_decode("0X0aFf", 6, back, 16), 2);
	assert_int_equal(back[0], 0x0a);
	assert_int_equal(back[1], 0xff);
	assert_int_equal(iscsi_hex_decode("0x0", 3, back, 16), -EINVAL);
	assert_int_equal(iscsi_hex_decode("0x", 2, back, 16), -EINVAL);
	assert_int_equal(iscsi_hex_decode("0xzz", 4, back, 16), -EINVAL);
	assert_int_equal(iscsi_hex_decode("abcd", 4, back, 16), -EINVAL);
	assert_int_equal(iscsi_hex_decode("0x00112233", 10, back, 3), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_bhs_roundtrip),
		cmocka_unit_test(test_text_codec),
		cmocka_unit_test(test_negotiation_respond),
		cmocka_unit_test(test_negotiation_accept),
		cmocka_unit_test(test_cdbs),
		cmocka_unit_test(test_sense),
		cmocka_unit_test(test_md5_chap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
