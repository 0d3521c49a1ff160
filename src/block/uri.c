// SPDX-License-Identifier: MIT
/*
 * uri.c - nbd://, aoe://, iscsi:// and nfs:// names, and opening the block devices they name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aoe.h"
#include "iscsi_client.h"
#include "net/net.h"
#include "uri.h"

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode @src (up to @end) into @dst of @cap bytes. */
static int pct_decode(const char *src, const char *end, char *dst, size_t cap,
		      const char **why)
{
	size_t n = 0;

	while (src < end) {
		char c = *src++;

		if (c == '%') {
			int hi, lo;

			if (end - src < 2 || (hi = hexval(src[0])) < 0 ||
			    (lo = hexval(src[1])) < 0)
				return fail(why,
					    "bad percent escape in export");
			c = (char)(hi << 4 | lo);
			src += 2;
			if (!c)
				return fail(why, "NUL in export name");
		}
		if (n + 1 >= cap)
			return fail(why, "export name longer than 255 bytes");
		dst[n++] = c;
	}
	dst[n] = 0;
	return 0;
}

static int parse_nbd(const char *s, struct blk_uri *u, const char **why)
{
	const char *auth = s, *path = strchr(auth, '/'), *q;
	const char *end = auth + strlen(auth), *colon;
	char host[32];
	size_t hlen;

	u->kind = BLK_URI_NBD;
	u->port = NBD_DEFAULT_PORT;
	if (!path)
		path = end;
	q = strchr(path, '?');
	if (q)
		end = q; /* query keys (tls-*) do not apply without TLS */
	colon = memchr(auth, ':', (size_t)(path - auth));
	hlen = (size_t)((colon ? colon : path) - auth);
	if (!hlen)
		return fail(why, "nbd URI needs a host");
	if (hlen >= sizeof(host) || auth[0] == '[')
		return fail(why, "nbd URI host must be an IPv4 address");
	memcpy(host, auth, hlen);
	host[hlen] = 0;
	if (ip_parse(host, &u->ip))
		return fail(why, "nbd URI host must be an IPv4 address");
	u->ip = ntohl(u->ip);
	if (colon) {
		char *e;
		unsigned long p = strtoul(colon + 1, &e, 10);

		if (e != path || colon + 1 == path || !p || p > 65535)
			return fail(why, "bad port in nbd URI");
		u->port = (uint16_t)p;
	}
	if (path < end)
		path++; /* the one leading '/' is not part of the name */
	return pct_decode(path, end, u->export_name, sizeof(u->export_name),
			  why);
}

static int parse_aoe(const char *s, struct blk_uri *u, const char **why)
{
	char *e;
	unsigned long shelf = strtoul(s, &e, 10), slot;

	u->kind = BLK_URI_AOE;
	if (e == s || *e != '.' || shelf >= 0xffff)
		return fail(why, "aoe URI is aoe://SHELF.SLOT, shelf 0-65534");
	s = e + 1;
	slot = strtoul(s, &e, 10);
	if (e == s || *e || slot >= 0xff)
		return fail(why, "aoe URI is aoe://SHELF.SLOT, slot 0-254");
	u->shelf = (uint16_t)shelf;
	u->slot = (uint8_t)slot;
	return 0;
}

/* A CHAP user name or secret: 1 to 63 bytes. */
static int chap_copy(char *dst, const char *src, size_t n)
{
	if (!n || n > ISCSI_CHAP_MAX)
		return -1;
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

/*
 * iscsi://[USER%SECRET@]HOST[:PORT]/IQN/LUN[?header-digest=crc32c&
 * data-digest=crc32c&user=USER&password=SECRET]
 */
static int parse_iscsi(const char *s, struct blk_uri *u, const char **why)
{
	const char *slash = strchr(s, '/'), *colon, *lun, *q, *at;
	char host[32], *e;
	unsigned long v;
	size_t hlen;

	u->kind = BLK_URI_ISCSI;
	u->port = ISCSI_DEFAULT_PORT;
	at = slash ? memchr(s, '@', (size_t)(slash - s)) : NULL;
	if (at) {
		const char *pct = memchr(s, '%', (size_t)(at - s));

		if (!pct || chap_copy(u->chap_user, s, (size_t)(pct - s)) ||
		    chap_copy(u->chap_secret, pct + 1, (size_t)(at - pct - 1)))
			return fail(
				why,
				"iscsi URI credentials are USER%SECRET@, each 1-63 bytes");
		s = at + 1;
	}
	if (!slash)
		return fail(why, "iscsi URI is iscsi://HOST[:PORT]/IQN/LUN");
	colon = memchr(s, ':', (size_t)(slash - s));
	hlen = (size_t)((colon ? colon : slash) - s);
	if (!hlen || hlen >= sizeof(host) || s[0] == '[')
		return fail(why, "iscsi URI host must be an IPv4 address");
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (ip_parse(host, &u->ip))
		return fail(why, "iscsi URI host must be an IPv4 address");
	u->ip = ntohl(u->ip);
	if (colon) {
		v = strtoul(colon + 1, &e, 10);
		if (e != slash || colon + 1 == slash || !v || v > 65535)
			return fail(why, "bad port in iscsi URI");
		u->port = (uint16_t)v;
	}
	lun = strrchr(slash + 1, '/');
	if (!lun || lun == slash + 1)
		return fail(why, "iscsi URI needs /IQN/LUN");
	if ((size_t)(lun - slash - 1) > ISCSI_NAME_MAX)
		return fail(why, "iscsi target name longer than 223 bytes");
	memcpy(u->iqn, slash + 1, (size_t)(lun - slash - 1));
	u->iqn[lun - slash - 1] = 0;
	if (lun[1] < '0' || lun[1] > '9')
		return fail(why, "iscsi URI LUN must be a number 0-255");
	v = strtoul(lun + 1, &e, 10);
	if (v > 255 || (*e && *e != '?'))
		return fail(why, "iscsi URI LUN must be a number 0-255");
	u->lun = (unsigned)v;
	for (q = *e ? e + 1 : e; *q;) {
		size_t n = strcspn(q, "&");

		if (n == 20 && !strncmp(q, "header-digest=crc32c", n))
			u->header_digest = true;
		else if (n == 18 && !strncmp(q, "data-digest=crc32c", n))
			u->data_digest = true;
		else if (n > 5 && !strncmp(q, "user=", 5)) {
			if (chap_copy(u->chap_user, q + 5, n - 5))
				return fail(why,
					    "iscsi URI user= takes 1-63 bytes");
		} else if (n > 9 && !strncmp(q, "password=", 9)) {
			if (chap_copy(u->chap_secret, q + 9, n - 9))
				return fail(
					why,
					"iscsi URI password= takes 1-63 bytes");
		} else if (!(n == 18 && !strncmp(q, "header-digest=none", n)) &&
			   !(n == 16 && !strncmp(q, "data-digest=none", n)))
			return fail(
				why,
				"iscsi URI options: header-digest= and data-digest= crc32c or none, user= and password=");
		q += n + (q[n] == '&');
	}
	if (!u->chap_user[0] != !u->chap_secret[0])
		return fail(why,
			    "iscsi URI CHAP needs both a user and a password");
	return 0;
}

/* A decimal query value in [min, max]. */
static int query_num(const char *v, size_t len, unsigned long max,
		     unsigned long *out)
{
	char buf[16], *e;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = 0;
	*out = strtoul(buf, &e, 10);
	return *e || buf[0] == '-' || *out > max ? -1 : 0;
}

static int parse_nfs_query(const char *q, struct blk_uri *u, const char **why)
{
	while (q && *q) {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q), klen;
		unsigned long v;

		eq = memchr(q, '=', len);
		if (!eq)
			return fail(why, "nfs URI query is KEY=VALUE&...");
		klen = (size_t)(eq - q);
		eq++;
		len -= klen + 1;
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(q, k, klen))
		if (KEY("mountport") || KEY("nfsport")) {
			if (query_num(eq, len, 65535, &v) || !v)
				return fail(why, "bad port in nfs URI query");
			if (KEY("mountport"))
				u->mount_port = (uint16_t)v;
			else
				u->port = (uint16_t)v;
		} else if (KEY("uid") || KEY("gid")) {
			if (query_num(eq, len, UINT32_MAX, &v))
				return fail(why, "bad uid/gid in nfs URI");
			if (KEY("uid"))
				u->uid = (uint32_t)v;
			else
				u->gid = (uint32_t)v;
		} else if (KEY("version")) {
			if (query_num(eq, len, 9, &v) || v != 3)
				return fail(why,
					    "only NFS version 3 is spoken");
		} else if (KEY("secure") || KEY("sync")) {
			if (query_num(eq, len, 1, &v))
				return fail(why, "secure and sync are 0 or 1");
			if (KEY("secure"))
				u->secure = v;
			else
				u->sync = v;
		} else {
			return fail(why, "unknown key in nfs URI query");
		}
#undef KEY
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

static int parse_nfs(const char *auth, struct blk_uri *u, const char **why)
{
	const char *path = strchr(auth, '/'), *q, *slash, *colon;
	char host[32], buf[BLK_URI_NFS_PATH_MAX + 1];
	size_t hlen;
	int err;

	u->kind = BLK_URI_NFS;
	if (!path)
		return fail(why, "nfs URI is nfs://HOST[:PORT]/EXPORT/FILE");
	colon = memchr(auth, ':', (size_t)(path - auth));
	hlen = (size_t)((colon ? colon : path) - auth);
	if (!hlen || hlen >= sizeof(host) || auth[0] == '[')
		return fail(why, "nfs URI host must be an IPv4 address");
	memcpy(host, auth, hlen);
	host[hlen] = 0;
	if (ip_parse(host, &u->ip))
		return fail(why, "nfs URI host must be an IPv4 address");
	u->ip = ntohl(u->ip);
	if (colon) {
		char *e;
		unsigned long p = strtoul(colon + 1, &e, 10);

		if (e != path || colon + 1 == path || !p || p > 65535)
			return fail(why, "bad port in nfs URI");
		u->port = (uint16_t)p;
	}
	q = strchr(path, '?');
	if (q && (err = parse_nfs_query(q + 1, u, why)))
		return err;
	err = pct_decode(path, q ? q : path + strlen(path), buf, sizeof(buf),
			 why);
	if (err)
		return err;
	slash = strrchr(buf, '/');
	if (!slash[1])
		return fail(why, "nfs URI names no file after the export");
	if (strlen(slash + 1) > BLK_URI_NFS_NAME_MAX)
		return fail(why, "nfs URI file name longer than 255 bytes");
	strcpy(u->nfs_file, slash + 1);
	if (slash == buf)
		strcpy(u->nfs_export, "/");
	else
		snprintf(u->nfs_export, sizeof(u->nfs_export), "%.*s",
			 (int)(slash - buf), buf);
	return 0;
}

int blk_uri_parse(const char *s, struct blk_uri *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	if (!strncmp(s, "nfs://", 6))
		return parse_nfs(s + 6, u, why);
	if (!strncmp(s, "nbd://", 6))
		return parse_nbd(s + 6, u, why);
	if (!strncmp(s, "aoe://", 6))
		return parse_aoe(s + 6, u, why);
	if (!strncmp(s, "iscsi://", 8))
		return parse_iscsi(s + 8, u, why);
	if (!strncmp(s, "nbds://", 7) || !strncmp(s, "nbds+unix://", 12))
		return fail(why, "NBD over TLS is not supported");
	if (!strncmp(s, "nbd+unix://", 11))
		return fail(
			why,
			"nbd+unix URIs need a kernel socket; lifeboat speaks TCP on its own stack");
	return fail(why,
		    "URI must start with nbd://, aoe://, iscsi:// or nfs://");
}

int blk_uri_open(struct net *net, const struct blk_uri *u,
		 const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		 struct blkdev **out)
{
	if (u->kind == BLK_URI_NBD) {
		struct nbd_client_config c = {
			.name = o->name,
			.ip = u->ip,
			.port = u->port,
			.export_name = u->export_name,
			.queue_depth = o->queue_depth,
			.max_request = o->max_request,
			.stall_ns = o->stall_ns,
		};
		return nbd_client_create(net, &c, ready, arg, out);
	}
	if (u->kind == BLK_URI_ISCSI) {
		struct iscsi_client_config c = {
			.name = o->name,
			.ip = u->ip,
			.port = u->port,
			.target = u->iqn,
			.lun = u->lun,
			.queue_depth = o->queue_depth,
			.max_request = o->max_request,
			.header_digest = u->header_digest,
			.data_digest = u->data_digest,
			.chap_user = u->chap_user,
			.chap_secret = u->chap_secret,
		};
		return iscsi_client_create(net, &c, ready, arg, out);
	}
	if (u->kind == BLK_URI_NFS)
		return -EPROTONOSUPPORT;
	struct aoe_client_config c = {
		.name = o->name,
		.shelf = u->shelf,
		.slot = u->slot,
		.queue_depth = o->queue_depth,
		.max_request = o->max_request,
	};
	return aoe_client_create(net, &c, ready, arg, out);
}

void blk_uri_close(const struct blk_uri *u, struct blkdev *bd)
{
	if (u->kind == BLK_URI_NBD)
		nbd_client_destroy(bd);
	else if (u->kind == BLK_URI_ISCSI)
		iscsi_client_destroy(bd);
	else
		aoe_client_destroy(bd);
}
