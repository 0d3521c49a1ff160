// SPDX-License-Identifier: MIT
/*
 * xdr.c - XDR primitives.  Padding bytes are written as zero; on input they
 * are skipped without checking, as RFC 4506 asks readers to be lenient.
 */
#include <errno.h>
#include "xdr.h"

static uint8_t *xdr_out_take(struct xdr_out *x, uint32_t n)
{
	uint8_t *p;

	if (x->err)
		return NULL;
	if (n > x->cap - x->pos) {
		x->err = -EMSGSIZE;
		return NULL;
	}
	p = x->buf + x->pos;
	x->pos += n;
	return p;
}

void xdr_put_u32(struct xdr_out *x, uint32_t v)
{
	uint8_t *p = xdr_out_take(x, 4);

	if (!p)
		return;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void xdr_put_u64(struct xdr_out *x, uint64_t v)
{
	xdr_put_u32(x, (uint32_t)(v >> 32));
	xdr_put_u32(x, (uint32_t)v);
}

uint8_t *xdr_put_space(struct xdr_out *x, uint32_t n)
{
	uint32_t padded = xdr_pad4(n);
	uint8_t *p;

	if (padded < n) { /* wrapped */
		x->err = x->err ? x->err : -EMSGSIZE;
		return NULL;
	}
	p = xdr_out_take(x, padded);
	if (p && padded > n)
		memset(p + n, 0, padded - n);
	return p;
}

void xdr_put_fixed(struct xdr_out *x, const void *src, uint32_t n)
{
	uint8_t *p = xdr_put_space(x, n);

	if (p && n)
		memcpy(p, src, n);
}

void xdr_put_opaque(struct xdr_out *x, const void *src, uint32_t n)
{
	xdr_put_u32(x, n);
	xdr_put_fixed(x, src, n);
}

void xdr_put_string(struct xdr_out *x, const char *s)
{
	xdr_put_opaque(x, s, (uint32_t)strlen(s));
}

static const uint8_t *xdr_in_take(struct xdr_in *x, uint32_t n)
{
	const uint8_t *p;

	if (x->err)
		return NULL;
	if (n > x->len - x->pos) {
		x->err = -EBADMSG;
		return NULL;
	}
	p = x->buf + x->pos;
	x->pos += n;
	return p;
}

uint32_t xdr_get_u32(struct xdr_in *x)
{
	const uint8_t *p = xdr_in_take(x, 4);

	if (!p)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t xdr_get_u64(struct xdr_in *x)
{
	uint64_t hi = xdr_get_u32(x);

	return hi << 32 | xdr_get_u32(x);
}

bool xdr_get_bool(struct xdr_in *x)
{
	uint32_t v = xdr_get_u32(x);

	if (v > 1) {
		x->err = -EBADMSG;
		return false;
	}
	return v;
}

void xdr_skip(struct xdr_in *x, uint32_t n)
{
	uint32_t padded = xdr_pad4(n);

	if (padded < n) {
		x->err = -EBADMSG;
		return;
	}
	xdr_in_take(x, padded);
}

void xdr_get_fixed(struct xdr_in *x, void *dst, uint32_t n)
{
	const uint8_t *p;

	if (xdr_pad4(n) < n) {
		x->err = -EBADMSG;
		return;
	}
	p = xdr_in_take(x, xdr_pad4(n));
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

const uint8_t *xdr_get_opaque(struct xdr_in *x, uint32_t max, uint32_t *len)
{
	uint32_t n = xdr_get_u32(x);
	const uint8_t *p;

	*len = 0;
	if (x->err)
		return NULL;
	if (n > max || xdr_pad4(n) < n) {
		x->err = -EBADMSG;
		return NULL;
	}
	p = xdr_in_take(x, xdr_pad4(n));
	if (p)
		*len = n;
	return p;
}

void xdr_get_string(struct xdr_in *x, char *dst, uint32_t max)
{
	uint32_t n;
	const uint8_t *p = xdr_get_opaque(x, max, &n);

	if (p)
		memcpy(dst, p, n);
	dst[p ? n : 0] = '\0';
	/* an embedded NUL would make the name mean something else */
	if (p && memchr(p, 0, n)) {
		x->err = -EBADMSG;
		dst[0] = '\0';
	}
}
