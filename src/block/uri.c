// SPDX-License-Identifier: MIT
/*
 * uri.c - nbd:// and aoe:// names, and opening the device they name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aoe.h"
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

int blk_uri_parse(const char *s, struct blk_uri *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	if (!strncmp(s, "nbd://", 6))
		return parse_nbd(s + 6, u, why);
	if (!strncmp(s, "aoe://", 6))
		return parse_aoe(s + 6, u, why);
	if (!strncmp(s, "nbds://", 7) || !strncmp(s, "nbds+unix://", 12))
		return fail(why, "NBD over TLS is not supported");
	if (!strncmp(s, "nbd+unix://", 11))
		return fail(
			why,
			"nbd+unix URIs need a kernel socket; lifeboat speaks TCP on its own stack");
	return fail(why, "URI must start with nbd:// or aoe://");
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
	else
		aoe_client_destroy(bd);
}
