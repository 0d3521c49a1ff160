// SPDX-License-Identifier: MIT
/*
 * tcp_options.c - MSS, window scale, timestamps, SACK-permitted and SACK
 * blocks: parsing with every length checked against the header, and
 * emitting.
 */
#include <string.h>
#include "tcp_impl.h"

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5
#define OPT_TS 8

/* -1 on a malformed option list (the segment is then dropped). */
int tcp_parse_options(const uint8_t *p, unsigned len, struct tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (len) {
		uint8_t kind = p[0], olen;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			p++;
			len--;
			continue;
		}
		if (len < 2)
			return -1;
		olen = p[1];
		if (olen < 2 || olen > len)
			return -1;
		switch (kind) {
		case OPT_MSS:
			if (olen != 4)
				return -1;
			o->mss_ok = true;
			o->mss = (uint16_t)(p[2] << 8 | p[3]);
			break;
		case OPT_WS:
			if (olen != 3)
				return -1;
			o->ws_ok = true;
			o->ws = p[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : p[2];
			break;
		case OPT_TS:
			if (olen != 10)
				return -1;
			o->ts_ok = true;
			o->tsval = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
				   (uint32_t)p[4] << 8 | p[5];
			o->tsecr = (uint32_t)p[6] << 24 | (uint32_t)p[7] << 16 |
				   (uint32_t)p[8] << 8 | p[9];
			break;
		case OPT_SACK_PERM:
			if (olen != 2)
				return -1;
			o->sack_ok = true;
			break;
		case OPT_SACK:
			if (olen < 10 || (olen - 2) % 8)
				return -1;
			for (unsigned i = 0;
			     i < (olen - 2u) / 8 && o->nr_sacks < TCP_MAX_SACKS;
			     i++) {
				const uint8_t *b = p + 2 + 8 * i;
				struct tcp_sack_block *sb =
					&o->sacks[o->nr_sacks++];

				sb->start = (uint32_t)b[0] << 24 |
					    (uint32_t)b[1] << 16 |
					    (uint32_t)b[2] << 8 | b[3];
				sb->end = (uint32_t)b[4] << 24 |
					  (uint32_t)b[5] << 16 |
					  (uint32_t)b[6] << 8 | b[7];
			}
			break;
		default:
			break; /* unknown options are skipped */
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

unsigned tcp_options_size(const struct tcp_opts *o)
{
	unsigned n = 0;

	if (o->mss_ok)
		n += 4;
	if (o->ws_ok)
		n += 4; /* NOP + 3 */
	if (o->ts_ok)
		n += 12; /* NOP NOP + 10 */
	if (o->sack_ok)
		n += 4; /* NOP NOP + 2 */
	if (o->nr_sacks)
		n += 4 + 8 * o->nr_sacks; /* NOP NOP + 2 + 8n */
	return n;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

void tcp_write_options(uint8_t *p, const struct tcp_opts *o)
{
	if (o->mss_ok) {
		*p++ = OPT_MSS;
		*p++ = 4;
		*p++ = (uint8_t)(o->mss >> 8);
		*p++ = (uint8_t)o->mss;
	}
	if (o->ws_ok) {
		*p++ = OPT_NOP;
		*p++ = OPT_WS;
		*p++ = 3;
		*p++ = o->ws;
	}
	if (o->ts_ok) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_TS;
		*p++ = 10;
		p = put32(p, o->tsval);
		p = put32(p, o->tsecr);
	}
	if (o->sack_ok) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK_PERM;
		*p++ = 2;
	}
	if (o->nr_sacks) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK;
		*p++ = (uint8_t)(2 + 8 * o->nr_sacks);
		for (unsigned i = 0; i < o->nr_sacks; i++) {
			p = put32(p, o->sacks[i].start);
			p = put32(p, o->sacks[i].end);
		}
	}
}
