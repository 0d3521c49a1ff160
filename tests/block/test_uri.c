// SPDX-License-Identifier: MIT
/* Block-device URIs: the NBD URI spec's rules and aoe://SHELF.SLOT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "block/uri.h"

static void test_nbd_uris(void **state)
{
	struct blk_uri u;
	const char *why = NULL;

	assert_int_equal(blk_uri_parse("nbd://192.0.2.1/disk", &u, &why), 0);
	assert_int_equal(u.kind, BLK_URI_NBD);
	assert_int_equal(u.ip, 0xc0000201);
	assert_int_equal(u.port, 10809);
	assert_string_equal(u.export_name, "disk");

	assert_int_equal(blk_uri_parse("nbd://10.0.0.1:10810", &u, NULL), 0);
	assert_int_equal(u.port, 10810);
	assert_string_equal(u.export_name, ""); /* the default export */
	assert_int_equal(blk_uri_parse("nbd://10.0.0.1/", &u, NULL), 0);
	assert_string_equal(u.export_name, "");
	/* only the one leading slash goes */
	assert_int_equal(blk_uri_parse("nbd://10.0.0.1//disk", &u, NULL), 0);
	assert_string_equal(u.export_name, "/disk");
	assert_int_equal(blk_uri_parse("nbd://10.0.0.1/a%20b%2fc", &u, NULL),
			 0);
	assert_string_equal(u.export_name, "a b/c");
	assert_int_equal(
		blk_uri_parse("nbd://10.0.0.1/x?tls-type=none", &u, NULL), 0);
	assert_string_equal(u.export_name, "x");

	assert_int_equal(blk_uri_parse("nbd://host.example/x", &u, &why),
			 -EINVAL);
	assert_non_null(why);
	assert_int_equal(blk_uri_parse("nbd://[::1]/x", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd://1.2.3.4:0/x", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd://1.2.3.4:99999/x", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nbd://1.2.3.4:/x", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd:///x", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd://1.2.3.4/%zz", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd://1.2.3.4/%00", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nbds://1.2.3.4/", &u, &why), -EINVAL);
	assert_int_equal(blk_uri_parse("nbd+unix:///x?socket=/s", &u, &why),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://1.2.3.4/", &u, NULL), -EINVAL);
}

static void test_nbd_export_length(void **state)
{
	char s[400] = "nbd://1.2.3.4/";
	struct blk_uri u;

	memset(s + 14, 'e', 255);
	assert_int_equal(blk_uri_parse(s, &u, NULL), 0);
	assert_int_equal(strlen(u.export_name), 255);
	s[14 + 255] = 'e';
	assert_int_equal(blk_uri_parse(s, &u, NULL), -EINVAL);
}

static void test_nfs_uris(void **state)
{
	struct blk_uri u;
	const char *why = NULL;

	assert_int_equal(
		blk_uri_parse("nfs://192.0.2.1/export/swapfile", &u, &why), 0);
	assert_int_equal(u.kind, BLK_URI_NFS);
	assert_int_equal(u.ip, 0xc0000201);
	assert_int_equal(u.port, 0); /* the portmapper is asked */
	assert_int_equal(u.mount_port, 0);
	assert_string_equal(u.nfs_export, "/export");
	assert_string_equal(u.nfs_file, "swapfile");
	assert_int_equal(
		blk_uri_parse(
			"nfs://10.0.0.1:2050/srv/nfs/a%20b?mountport=20048&uid=1000&gid=100&version=3&secure=1&sync=1",
			&u, &why),
		0);
	assert_int_equal(u.port, 2050);
	assert_int_equal(u.mount_port, 20048);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 100);
	assert_true(u.secure && u.sync);
	assert_string_equal(u.nfs_export, "/srv/nfs");
	assert_string_equal(u.nfs_file, "a b");
	assert_int_equal(
		blk_uri_parse("nfs://10.0.0.1/f?nfsport=2049", &u, NULL), 0);
	assert_string_equal(u.nfs_export, "/");
	assert_int_equal(u.port, 2049);

	why = NULL;
	assert_int_equal(blk_uri_parse("nfs://10.0.0.1/export/", &u, &why),
			 -EINVAL);
	assert_non_null(why);
	assert_int_equal(blk_uri_parse("nfs://10.0.0.1", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://host/e/f", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4:0/e/f", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/f?version=4", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/f?mountport=70000", &u,
				       NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/f?uid=-1", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/f?bogus=1", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/f?secure", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("nfs://1.2.3.4/e/%zz", &u, NULL),
			 -EINVAL);
}

static void test_aoe_uris(void **state)
{
	struct blk_uri u;

	assert_int_equal(blk_uri_parse("aoe://9.0", &u, NULL), 0);
	assert_int_equal(u.kind, BLK_URI_AOE);
	assert_int_equal(u.shelf, 9);
	assert_int_equal(u.slot, 0);
	assert_int_equal(blk_uri_parse("aoe://65534.254", &u, NULL), 0);
	assert_int_equal(blk_uri_parse("aoe://65535.0", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("aoe://1.255", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("aoe://1", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("aoe://1.2x", &u, NULL), -EINVAL);
	assert_int_equal(blk_uri_parse("aoe://.2", &u, NULL), -EINVAL);
}

static void test_iscsi_uris(void **state)
{
	struct blk_uri u;
	const char *why = NULL;

	assert_int_equal(
		blk_uri_parse("iscsi://192.0.2.1/iqn.2026-01.org.x:tgt/1", &u,
			      &why),
		0);
	assert_int_equal(u.kind, BLK_URI_ISCSI);
	assert_int_equal(u.ip, 0xc0000201);
	assert_int_equal(u.port, 3260);
	assert_string_equal(u.iqn, "iqn.2026-01.org.x:tgt");
	assert_int_equal(u.lun, 1);
	assert_false(u.header_digest || u.data_digest);
	assert_int_equal(
		blk_uri_parse(
			"iscsi://10.0.0.1:3261/iqn.a:b/0?header-digest=crc32c&data-digest=crc32c",
			&u, NULL),
		0);
	assert_int_equal(u.port, 3261);
	assert_int_equal(u.lun, 0);
	assert_true(u.header_digest && u.data_digest);
	assert_int_equal(
		blk_uri_parse("iscsi://10.0.0.1/iqn.a:b/0?data-digest=none", &u,
			      NULL),
		0);
	assert_false(u.data_digest);
	assert_int_equal(blk_uri_parse("iscsi://10.0.0.1/iqn.a:b", &u, &why),
			 -EINVAL);
	assert_non_null(why);
	assert_int_equal(blk_uri_parse("iscsi://10.0.0.1//0", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://10.0.0.1/iqn.a:b/256", &u,
				       NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://10.0.0.1/iqn.a:b/x", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://host/iqn.a:b/0", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://1.2.3.4:0/iqn.a:b/0", &u, NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://1.2.3.4/iqn.a:b/0?md5=1", &u,
				       NULL),
			 -EINVAL);
	assert_string_equal(u.chap_user, "");
	/* CHAP credentials, libiscsi's USER%SECRET@ or the query */
	assert_int_equal(
		blk_uri_parse("iscsi://joe%s3cret@10.0.0.1:3261/iqn.a:b/2", &u,
			      NULL),
		0);
	assert_string_equal(u.chap_user, "joe");
	assert_string_equal(u.chap_secret, "s3cret");
	assert_int_equal(u.ip, 0x0a000001);
	assert_int_equal(u.port, 3261);
	assert_int_equal(u.lun, 2);
	assert_int_equal(
		blk_uri_parse(
			"iscsi://10.0.0.1/iqn.a:b/0?user=ann&password=pw&data-digest=crc32c",
			&u, NULL),
		0);
	assert_string_equal(u.chap_user, "ann");
	assert_string_equal(u.chap_secret, "pw");
	assert_true(u.data_digest);
	assert_int_equal(blk_uri_parse("iscsi://joe@10.0.0.1/iqn.a:b/0", &u,
				       &why),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://%pw@10.0.0.1/iqn.a:b/0", &u,
				       NULL),
			 -EINVAL);
	assert_int_equal(blk_uri_parse("iscsi://10.0.0.1/iqn.a:b/0?user=ann",
				       &u, NULL),
			 -EINVAL);
	assert_int_equal(
		blk_uri_parse(
			"iscsi://10.0.0.1/iqn.a:b/0?user=0123456789012345678901234567890123456789012345678901234567890123&password=x",
			&u, NULL),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nbd_uris),
		cmocka_unit_test(test_nbd_export_length),
		cmocka_unit_test(test_aoe_uris),
		cmocka_unit_test(test_iscsi_uris),
		cmocka_unit_test(test_nfs_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
