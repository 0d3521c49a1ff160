/* SPDX-License-Identifier: MIT */
/*
 * xdr.h - RFC 4506 XDR as pure functions over caller-provided buffers.
 *
 * An encoder (struct xdr_out) appends 4-byte big-endian units to a buffer of
 * fixed capacity; a decoder (struct xdr_in) reads them from a byte range.
 * Both keep a sticky error: once a put overflows (-EMSGSIZE) or a get runs
 * past the end or meets a malformed value (-EBADMSG), every later call is a
 * no-op returning zeroes, so a codec checks the error once at the end
 * instead of after every field.  Variable-length opaques are returned as a
 * pointer into the input, never copied, so a READ reply's data can be
 * placed by the caller wherever it belongs.
 *
 * Memory rules: nothing here allocates or touches a socket; the parsers
 * built on it are fuzzed alone.
 */
#ifndef LB_RPC_XDR_H
#define LB_RPC_XDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct xdr_out {
	uint8_t *buf;
	uint32_t pos, cap;
	int err; /* 0 or -EMSGSIZE */
};

struct xdr_in {
	const uint8_t *buf;
	uint32_t pos, len;
	int err; /* 0 or -EBADMSG */
};

static inline uint32_t xdr_pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static inline void xdr_out_init(struct xdr_out *x, uint8_t *buf, uint32_t cap)
{
	x->buf = buf;
	x->pos = 0;
	x->cap = cap;
	x->err = 0;
}

static inline void xdr_in_init(struct xdr_in *x, const uint8_t *buf,
			       uint32_t len)
{
	x->buf = buf;
	x->pos = 0;
	x->len = len;
	x->err = 0;
}

static inline uint32_t xdr_in_left(const struct xdr_in *x)
{
	return x->err ? 0 : x->len - x->pos;
}

void xdr_put_u32(struct xdr_out *x, uint32_t v);
void xdr_put_u64(struct xdr_out *x, uint64_t v);
/* Fixed opaque[n]: the bytes, then zero padding to 4. */
void xdr_put_fixed(struct xdr_out *x, const void *p, uint32_t n);
/* Variable opaque<> / string<>: length, bytes, padding. */
void xdr_put_opaque(struct xdr_out *x, const void *p, uint32_t n);
void xdr_put_string(struct xdr_out *x, const char *s);
/*
 * Reserve @n bytes (plus padding, zeroed) and return where they go, or
 * NULL on overflow: for data the caller fills in place.
 */
uint8_t *xdr_put_space(struct xdr_out *x, uint32_t n);

uint32_t xdr_get_u32(struct xdr_in *x);
uint64_t xdr_get_u64(struct xdr_in *x);
/* A bool must be 0 or 1; anything else is -EBADMSG. */
bool xdr_get_bool(struct xdr_in *x);
/* Fixed opaque[n] copied to @dst. */
void xdr_get_fixed(struct xdr_in *x, void *dst, uint32_t n);
/*
 * Variable opaque<@max>: returns a pointer into the input and its length in
 * @len, or NULL (and *len 0) when longer than @max or truncated.
 */
const uint8_t *xdr_get_opaque(struct xdr_in *x, uint32_t max, uint32_t *len);
/* string<@max> copied with a NUL into @dst (room @max + 1). */
void xdr_get_string(struct xdr_in *x, char *dst, uint32_t max);
/* Skip @n bytes plus padding. */
void xdr_skip(struct xdr_in *x, uint32_t n);

#endif
