// SPDX-License-Identifier: MIT
/*
 * pcap.c - pcapng blocks (draft-ietf-opsawg-pcapng), written with stdio.
 *
 * Each block is written field by field straight into the FILE's buffer:
 * headers from the stack, packet bytes from the caller's segments, padding
 * from a static array of zeros, so no frame is ever copied into a block
 * buffer of our own and nothing is allocated after pcap_open().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/compiler.h"
#include "pcap.h"

#define PCAPNG_BT_SHB 0x0a0d0d0au
#define PCAPNG_BT_IDB 0x00000001u
#define PCAPNG_BT_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du

#define PCAPNG_OPT_ENDOFOPT 0
#define PCAPNG_OPT_COMMENT 1
#define PCAPNG_SHB_USERAPPL 4
#define PCAPNG_IF_NAME 2
#define PCAPNG_IF_TSRESOL 9
#define PCAPNG_EPB_FLAGS 2

#define PCAPNG_EPB_FLAG_INBOUND 1u
#define PCAPNG_EPB_FLAG_OUTBOUND 2u

#define LINKTYPE_ETHERNET 1
/* Decimal exponent: 10^-9 s, so EPB timestamps are plain nanoseconds. */
#define PCAP_TSRESOL_NS 9

/* An option's value length is 16 bits. */
#define PCAPNG_OPT_MAX 0xffffu

/* Large enough that a busy host flushes rarely, small enough to not matter. */
#define PCAP_BUFSZ (64 * 1024)

struct pcap_writer {
	FILE *f;
	char *buf; /* the FILE's buffer, ours so stdio never mallocs one */
	int nr_ifaces;
	int err; /* sticky -errno: after a short write the file is garbage */
};

static const uint8_t pcap_zeros[4];

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

/* Bytes an option with an @len-byte value takes, header and padding. */
static size_t opt_size(size_t len)
{
	return 4 + len + pad4(len);
}

static int put(struct pcap_writer *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if (!n)
		return 0;
	errno = 0;
	if (fwrite(p, 1, n, w->f) != n)
		w->err = errno > 0 ? -errno : -EIO;
	return w->err;
}

static int put_u32(struct pcap_writer *w, uint32_t v)
{
	return put(w, &v, sizeof(v));
}

static int put_pad(struct pcap_writer *w, size_t n)
{
	return put(w, pcap_zeros, pad4(n));
}

static int put_opt(struct pcap_writer *w, uint16_t code, const void *val,
		   size_t len)
{
	uint16_t hdr[2] = { code, (uint16_t)len };

	put(w, hdr, sizeof(hdr));
	put(w, val, len);
	return put_pad(w, len);
}

static int put_endofopt(struct pcap_writer *w)
{
	return put_u32(w, PCAPNG_OPT_ENDOFOPT);
}

/*
 * Cut @s at no more than @max bytes without splitting a UTF-8 sequence:
 * option strings are UTF-8 and readers may reject a broken one.
 */
static size_t utf8_clamp(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (s[n] == '\0')
		return n;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static int write_shb(struct pcap_writer *w)
{
	static const char appl[] = "lifeboat";
	const size_t appl_len = sizeof(appl) - 1;
	const uint16_t version[2] = { 1, 0 };
	const int64_t section_len = -1; /* unknown: we stream */
	uint32_t total = 4 + 4 + 4 + 4 + 8 + opt_size(appl_len) + 4 + 4;

	put_u32(w, PCAPNG_BT_SHB);
	put_u32(w, total);
	put_u32(w, PCAPNG_BYTE_ORDER_MAGIC);
	put(w, version, sizeof(version));
	put(w, &section_len, sizeof(section_len));
	put_opt(w, PCAPNG_SHB_USERAPPL, appl, appl_len);
	put_endofopt(w);
	return put_u32(w, total);
}

struct pcap_writer *pcap_open(const char *path)
{
	struct pcap_writer *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->buf = malloc(PCAP_BUFSZ);
	if (!w->buf) {
		free(w);
		return NULL;
	}
	w->f = fopen(path, "wb");
	if (!w->f) {
		err = errno;
		free(w->buf);
		free(w);
		errno = err;
		return NULL;
	}
	/* Before any I/O, or glibc allocates its own buffer on first write. */
	err = setvbuf(w->f, w->buf, _IOFBF, PCAP_BUFSZ) ? -EIO : 0;
	if (!err)
		err = write_shb(w);
	/* Out now, so a bad FILE fails here and an idle host's file is valid. */
	if (!err)
		err = pcap_flush(w);
	if (err) {
		pcap_close(w);
		errno = -err;
		return NULL;
	}
	return w;
}

int pcap_add_interface(struct pcap_writer *w, const char *name)
{
	const uint16_t link[2] = { LINKTYPE_ETHERNET, 0 };
	const uint8_t tsresol = PCAP_TSRESOL_NS;
	size_t name_len = name ? utf8_clamp(name, PCAPNG_OPT_MAX) : 0;
	size_t total;
	int err;

	if (w->err)
		return w->err;
	total = 4 + 4 + 4 + 4 + opt_size(sizeof(tsresol)) + 4 + 4;
	if (name_len)
		total += opt_size(name_len);

	put_u32(w, PCAPNG_BT_IDB);
	put_u32(w, (uint32_t)total);
	put(w, link, sizeof(link));
	put_u32(w, PCAP_SNAPLEN);
	if (name_len)
		put_opt(w, PCAPNG_IF_NAME, name, name_len);
	put_opt(w, PCAPNG_IF_TSRESOL, &tsresol, sizeof(tsresol));
	put_endofopt(w);
	err = put_u32(w, (uint32_t)total);
	if (err)
		return err;
	return w->nr_ifaces++;
}

int pcap_write(struct pcap_writer *w, int ifid, uint64_t ts_ns,
	       const struct pcap_seg *segs, unsigned nsegs, uint32_t orig_len,
	       enum pcap_dir dir, const char *comment)
{
	uint32_t flags;
	uint32_t hdr[7];
	size_t len = 0, caplen, left, clen, total;
	unsigned i;

	if (w->err)
		return w->err;
	if (ifid < 0 || ifid >= w->nr_ifaces)
		return -EINVAL;
	if (dir == PCAP_DIR_IN)
		flags = PCAPNG_EPB_FLAG_INBOUND;
	else if (dir == PCAP_DIR_OUT)
		flags = PCAPNG_EPB_FLAG_OUTBOUND;
	else
		return -EINVAL;
	for (i = 0; i < nsegs; i++) {
		if (segs[i].len > SIZE_MAX - len)
			return -EINVAL;
		len += segs[i].len;
	}
	/* More bytes than the wire carried means the caller mixed frames up. */
	if (len > orig_len)
		return -EINVAL;
	caplen = lb_min(len, (size_t)PCAP_SNAPLEN);
	clen = comment ? utf8_clamp(comment, PCAPNG_OPT_MAX) : 0;

	total = sizeof(hdr) + caplen + pad4(caplen) + opt_size(sizeof(flags)) +
		4 + 4;
	if (clen)
		total += opt_size(clen);

	hdr[0] = PCAPNG_BT_EPB;
	hdr[1] = (uint32_t)total;
	hdr[2] = (uint32_t)ifid;
	hdr[3] = (uint32_t)(ts_ns >> 32);
	hdr[4] = (uint32_t)ts_ns;
	hdr[5] = (uint32_t)caplen;
	hdr[6] = orig_len;
	put(w, hdr, sizeof(hdr));
	for (i = 0, left = caplen; i < nsegs && left; i++) {
		size_t n = lb_min(segs[i].len, left);

		put(w, segs[i].data, n);
		left -= n;
	}
	put_pad(w, caplen);
	if (clen)
		put_opt(w, PCAPNG_OPT_COMMENT, comment, clen);
	put_opt(w, PCAPNG_EPB_FLAGS, &flags, sizeof(flags));
	put_endofopt(w);
	return put_u32(w, (uint32_t)total);
}

int pcap_flush(struct pcap_writer *w)
{
	if (w->err)
		return w->err;
	errno = 0;
	if (fflush(w->f))
		w->err = errno > 0 ? -errno : -EIO;
	return w->err;
}

int pcap_close(struct pcap_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = pcap_flush(w);
	errno = 0;
	if (fclose(w->f) && !err)
		err = errno > 0 ? -errno : -EIO;
	/* Only now: stdio used the buffer until fclose() returned. */
	free(w->buf);
	free(w);
	return err;
}
