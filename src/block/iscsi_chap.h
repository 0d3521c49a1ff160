/* SPDX-License-Identifier: MIT */
/*
 * iscsi_chap.h - CHAP for iSCSI logins (RFC 7143 section 12.1.3, RFC
 * 1994): MD5 (RFC 1321, CHAP_A=5, the one algorithm both sides use), the
 * response MD5(identifier || secret || challenge), and the hex form
 * ("0x...") challenges and responses travel in.
 *
 * Memory: everything works in the caller's buffers and on the stack; login
 * happens at connection set-up, but nothing here allocates anyway.
 */
#ifndef LB_BLOCK_ISCSI_CHAP_H
#define LB_BLOCK_ISCSI_CHAP_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16
#define ISCSI_CHAP_MAX 63 /* user name and secret bytes we keep */
#define ISCSI_CHAP_CHALLENGE 16 /* bytes of challenge a target sends */

struct md5_ctx {
	uint32_t h[4];
	uint64_t len; /* bytes hashed */
	uint8_t buf[64];
};

void md5_init(struct md5_ctx *m);
void md5_update(struct md5_ctx *m, const void *data, size_t len);
void md5_final(struct md5_ctx *m, uint8_t out[MD5_DIGEST_LEN]);

/* MD5(@id || @secret || @challenge): the CHAP response. */
void iscsi_chap_response(uint8_t id, const char *secret,
			 const uint8_t *challenge, size_t clen,
			 uint8_t out[MD5_DIGEST_LEN]);

/* "0x" and lower-case hex of @len bytes into @out (2 * len + 3 bytes). */
void iscsi_hex_encode(const uint8_t *in, size_t len, char *out);
/*
 * A "0x..." (or "0X...") hex value of @slen characters into @out, at most
 * @max bytes: the byte count, or -EINVAL (not hex, odd, empty, too long).
 */
int iscsi_hex_decode(const char *s, size_t slen, uint8_t *out, size_t max);

#endif
