// SPDX-License-Identifier: MIT
/*
 * pcapng writer: every block read back field by field by a small reader of
 * our own, then (when installed) by tshark, which must find the comments,
 * lengths and directions and no malformed packet or bad checksum.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "../lb_skip.h"

#include "core/compiler.h"
#include "net/pcap.h"

/* A timestamp with both 32-bit halves non-zero and a sub-second part. */
#define T0 1700000000123456789ull

enum kind { UDP, ARP };

struct sample {
	int iface; /* index into if_names */
	enum pcap_dir dir;
	uint64_t ts;
	enum kind kind;
	size_t payload; /* UDP payload bytes: varies the EPB padding */
	unsigned nsegs; /* 1, or 3 (as a netbuf: headers, more, fragment) */
	const char *comment;
};

static const char *const if_names[] = { "sim0", "tap-lifeboat1" };

static const struct sample samples[] = {
	{ 0, PCAP_DIR_IN, T0, UDP, 13, 1, NULL },
	{ 0, PCAP_DIR_OUT, T0 + 1000, ARP, 0, 1, NULL },
	/* 41 bytes: the comment needs 3 bytes of padding. */
	{ 1, PCAP_DIR_IN, T0 + 2500, UDP, 14, 3,
	  "received into reserve net.rx (pfmemalloc)" },
	/* 28 bytes: no padding. */
	{ 1, PCAP_DIR_IN, T0 + 3000, UDP, 15, 1,
	  "dropped: udp_drop_pfmemalloc" },
	{ 0, PCAP_DIR_OUT, T0 + 4000000007ull, UDP, 16, 3,
	  "sent from reserve net.tx.nbd0" },
	{ 1, PCAP_DIR_OUT, T0 + (1ull << 32), ARP, 0, 3, "x" },
};

#define NR_SAMPLES ARRAY_SIZE(samples)

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t ip_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip_b[4] = { 10, 0, 0, 2 };

/* ---- frames ---------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t build_udp(uint8_t *f, size_t payload, unsigned seq)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *data = udp + 8;
	uint8_t pseudo[12];
	uint16_t udp_len = (uint16_t)(8 + payload), sum;
	size_t i;

	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	put16(f + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + udp_len));
	put16(ip + 4, (uint16_t)(0x1000 + seq));
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put16(ip + 10, 0);
	memcpy(ip + 12, ip_a, 4);
	memcpy(ip + 16, ip_b, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	/* High ports no dissector claims: the payload stays plain data. */
	put16(udp, 40001);
	put16(udp + 2, 40002);
	put16(udp + 4, udp_len);
	put16(udp + 6, 0);
	for (i = 0; i < payload; i++)
		data[i] = (uint8_t)('a' + (i + seq) % 26);
	memcpy(pseudo, ip_a, 4);
	memcpy(pseudo + 4, ip_b, 4);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put16(pseudo + 10, udp_len);
	sum = csum_fold(csum_add(csum_add(0, pseudo, 12), udp, udp_len));
	/* 0 means "no checksum" in UDP; the one's complement twin is 0xffff. */
	put16(udp + 6, sum ? sum : 0xffff);
	return 14 + 20 + udp_len;
}

static size_t build_arp(uint8_t *f)
{
	uint8_t *arp = f + 14;

	memset(f, 0xff, 6);
	memcpy(f + 6, mac_a, 6);
	put16(f + 12, 0x0806);
	put16(arp, 1); /* Ethernet */
	put16(arp + 2, 0x0800);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, 1); /* request */
	memcpy(arp + 8, mac_a, 6);
	memcpy(arp + 14, ip_a, 4);
	memset(arp + 18, 0, 6);
	memcpy(arp + 24, ip_b, 4);
	return 14 + 28;
}

static size_t build_frame(const struct sample *s, unsigned seq, uint8_t *f)
{
	return s->kind == UDP ? build_udp(f, s->payload, seq) : build_arp(f);
}

/* ---- writing --------------------------------------------------------- */

static void temp_path(char *buf, size_t size)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(buf, size, "%s/lb_pcap_XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	close(fd);
}

static void write_samples(const char *path)
{
	struct pcap_writer *w;
	int ids[ARRAY_SIZE(if_names)];
	unsigned i;

	w = pcap_open(path);
	assert_non_null(w);
	for (i = 0; i < ARRAY_SIZE(if_names); i++) {
		ids[i] = pcap_add_interface(w, if_names[i]);
		assert_int_equal(ids[i], i);
	}
	for (i = 0; i < NR_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		uint8_t f[128];
		size_t len = build_frame(s, i, f);
		struct pcap_seg segs[3];

		if (s->nsegs == 1) {
			segs[0] = (struct pcap_seg){ f, len };
		} else {
			/* Odd cuts: segments are not 4-byte multiples. */
			segs[0] = (struct pcap_seg){ f, 14 };
			segs[1] = (struct pcap_seg){ f + 14, 11 };
			segs[2] = (struct pcap_seg){ f + 25, len - 25 };
		}
		assert_int_equal(pcap_write(w, ids[s->iface], s->ts, segs,
					    s->nsegs, (uint32_t)len, s->dir,
					    s->comment),
				 0);
	}
	assert_int_equal(pcap_close(w), 0);
}

/* ---- a small pcapng reader ------------------------------------------- */

struct file {
	uint8_t *p;
	size_t len;
	size_t off; /* next block */
};

struct block {
	uint32_t type;
	uint32_t len;
	const uint8_t *body; /* after type and length */
	size_t body_len; /* up to the trailing length */
};

struct opt {
	uint16_t code;
	uint16_t len;
	const uint8_t *val;
};

static void read_file(const char *path, struct file *f)
{
	FILE *in = fopen(path, "rb");
	long n;

	assert_non_null(in);
	assert_int_equal(fseek(in, 0, SEEK_END), 0);
	n = ftell(in);
	assert_true(n > 0);
	rewind(in);
	f->p = malloc((size_t)n);
	assert_non_null(f->p);
	assert_int_equal(fread(f->p, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	f->len = (size_t)n;
	f->off = 0;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Next block, its framing checked; false at the end of the file. */
static bool next_block(struct file *f, struct block *b)
{
	const uint8_t *p = f->p + f->off;

	if (f->off == f->len)
		return false;
	assert_true(f->len - f->off >= 12);
	b->type = get32(p);
	b->len = get32(p + 4);
	assert_int_equal(b->len % 4, 0);
	assert_true(b->len >= 12 && b->len <= f->len - f->off);
	/* The trailing copy of the length lets readers walk backwards. */
	assert_int_equal(get32(p + b->len - 4), b->len);
	b->body = p + 8;
	b->body_len = b->len - 12;
	f->off += b->len;
	return true;
}

/*
 * Parse the options in @p[0..len): every value padded with zeros to 32
 * bits, opt_endofopt last and ending exactly at the block's end.
 */
static unsigned parse_opts(const uint8_t *p, size_t len, struct opt *opts,
			   unsigned max)
{
	size_t off = 0;
	unsigned n = 0;

	for (;;) {
		struct opt o;
		size_t i, padded;

		assert_true(len - off >= 4);
		o.code = get16(p + off);
		o.len = get16(p + off + 2);
		o.val = p + off + 4;
		off += 4;
		if (o.code == 0) {
			assert_int_equal(o.len, 0);
			assert_int_equal(off, len);
			return n;
		}
		padded = ALIGN_UP((size_t)o.len, 4);
		assert_true(len - off >= padded);
		for (i = o.len; i < padded; i++)
			assert_int_equal(o.val[i], 0);
		off += padded;
		assert_true(n < max);
		opts[n++] = o;
	}
}

static const struct opt *find_opt(const struct opt *opts, unsigned n,
				  uint16_t code)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (opts[i].code == code)
			return &opts[i];
	return NULL;
}

static void check_str_opt(const struct opt *o, const char *want)
{
	assert_non_null(o);
	assert_int_equal(o->len, strlen(want));
	assert_memory_equal(o->val, want, o->len);
}

static void check_shb(struct file *f)
{
	struct block b;
	struct opt opts[8];
	unsigned n;
	int64_t section_len;

	assert_true(next_block(f, &b));
	assert_int_equal(b.type, 0x0a0d0d0a);
	assert_int_equal(get32(b.body), 0x1a2b3c4d);
	assert_int_equal(get16(b.body + 4), 1);
	assert_int_equal(get16(b.body + 6), 0);
	memcpy(&section_len, b.body + 8, sizeof(section_len));
	assert_int_equal(section_len, -1);
	n = parse_opts(b.body + 16, b.body_len - 16, opts, ARRAY_SIZE(opts));
	assert_int_equal(n, 1);
	assert_int_equal(opts[0].code, 4); /* shb_userappl */
	check_str_opt(&opts[0], "lifeboat");
}

static void check_idb(struct file *f, const char *name)
{
	struct block b;
	struct opt opts[8];
	const struct opt *o;
	unsigned n;

	assert_true(next_block(f, &b));
	assert_int_equal(b.type, 1);
	assert_int_equal(get16(b.body), 1); /* LINKTYPE_ETHERNET */
	assert_int_equal(get16(b.body + 2), 0);
	assert_int_equal(get32(b.body + 4), PCAP_SNAPLEN);
	n = parse_opts(b.body + 8, b.body_len - 8, opts, ARRAY_SIZE(opts));
	assert_int_equal(n, 2);
	check_str_opt(find_opt(opts, n, 2), name); /* if_name */
	o = find_opt(opts, n, 9); /* if_tsresol */
	assert_non_null(o);
	assert_int_equal(o->len, 1);
	assert_int_equal(o->val[0], 9);
}

struct epb {
	uint32_t ifid;
	uint64_t ts;
	uint32_t caplen, origlen;
	const uint8_t *data;
	struct opt opts[8];
	unsigned nopts;
};

static void read_epb(struct file *f, struct epb *e)
{
	struct block b;
	size_t i, padded;

	assert_true(next_block(f, &b));
	assert_int_equal(b.type, 6);
	e->ifid = get32(b.body);
	e->ts = (uint64_t)get32(b.body + 4) << 32 | get32(b.body + 8);
	e->caplen = get32(b.body + 12);
	e->origlen = get32(b.body + 16);
	e->data = b.body + 20;
	padded = ALIGN_UP((size_t)e->caplen, 4);
	assert_true(b.body_len - 20 >= padded);
	for (i = e->caplen; i < padded; i++)
		assert_int_equal(e->data[i], 0);
	e->nopts = parse_opts(e->data + padded, b.body_len - 20 - padded,
			      e->opts, ARRAY_SIZE(e->opts));
}

static void check_epb_flags(const struct epb *e, enum pcap_dir dir)
{
	const struct opt *o = find_opt(e->opts, e->nopts, 2);

	assert_non_null(o);
	assert_int_equal(o->len, 4);
	assert_int_equal(get32(o->val), dir == PCAP_DIR_IN ? 1 : 2);
}

/* ---- tests ----------------------------------------------------------- */

static void test_blocks_read_back(void **state)
{
	char path[256];
	struct file f;
	unsigned i;

	temp_path(path, sizeof(path));
	write_samples(path);
	read_file(path, &f);

	check_shb(&f);
	for (i = 0; i < ARRAY_SIZE(if_names); i++)
		check_idb(&f, if_names[i]);
	for (i = 0; i < NR_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		uint8_t want[128];
		size_t len = build_frame(s, i, want);
		struct epb e;

		read_epb(&f, &e);
		assert_int_equal(e.ifid, s->iface);
		assert_int_equal(e.ts, s->ts);
		assert_int_equal(e.caplen, len);
		assert_int_equal(e.origlen, len);
		assert_memory_equal(e.data, want, len);
		check_epb_flags(&e, s->dir);
		if (s->comment) {
			assert_int_equal(e.nopts, 2);
			/* Comment first: some readers stop at the first. */
			assert_int_equal(e.opts[0].code, 1);
			check_str_opt(&e.opts[0], s->comment);
		} else {
			assert_int_equal(e.nopts, 1);
		}
	}
	assert_int_equal(f.off, f.len);

	free(f.p);
	unlink(path);
}

/* Sizes a frame from the arena never reaches, but a writer must survive. */
static uint8_t big[PCAP_SNAPLEN + 100];
static char long_comment[0x10000 + 8];

static void test_truncation(void **state)
{
	char path[256];
	struct pcap_writer *w;
	struct pcap_seg seg = { big, sizeof(big) };
	struct file f;
	struct epb e;
	size_t n = 0xffff - 1;

	/* 65534 'a' then a 2-byte UTF-8 character straddling the limit. */
	memset(long_comment, 'a', n);
	memcpy(long_comment + n, "\xc3\xa9", 3);
	memset(big, 0x5a, sizeof(big));

	temp_path(path, sizeof(path));
	w = pcap_open(path);
	assert_non_null(w);
	assert_int_equal(pcap_add_interface(w, NULL), 0);
	assert_int_equal(pcap_write(w, 0, 42, &seg, 1, sizeof(big) + 1000,
				    PCAP_DIR_IN, long_comment),
			 0);
	assert_int_equal(pcap_close(w), 0);

	read_file(path, &f);
	check_shb(&f);
	{
		struct block b;
		struct opt opts[4];
		unsigned nopts;

		/* No name: only if_tsresol. */
		assert_true(next_block(&f, &b));
		assert_int_equal(b.type, 1);
		nopts = parse_opts(b.body + 8, b.body_len - 8, opts,
				   ARRAY_SIZE(opts));
		assert_int_equal(nopts, 1);
		assert_int_equal(opts[0].code, 9);
	}
	read_epb(&f, &e);
	assert_int_equal(e.ts, 42);
	assert_int_equal(e.caplen, PCAP_SNAPLEN);
	assert_int_equal(e.origlen, sizeof(big) + 1000);
	assert_int_equal(e.data[PCAP_SNAPLEN - 1], 0x5a);
	assert_int_equal(e.nopts, 2);
	/* The whole character goes, not half of it. */
	assert_int_equal(e.opts[0].len, n);
	assert_int_equal(e.opts[0].val[n - 1], 'a');
	assert_int_equal(f.off, f.len);

	free(f.p);
	unlink(path);
}

static void test_bad_arguments(void **state)
{
	char path[256];
	struct pcap_writer *w;
	uint8_t frame[60] = { 0 };
	struct pcap_seg seg = { frame, sizeof(frame) };
	struct file f;
	struct block b;

	errno = 0;
	assert_null(pcap_open("/nonexistent-lifeboat-dir/x.pcapng"));
	assert_int_equal(errno, ENOENT);

	temp_path(path, sizeof(path));
	w = pcap_open(path);
	assert_non_null(w);
	/* No interface yet. */
	assert_int_equal(pcap_write(w, 0, 0, &seg, 1, 60, PCAP_DIR_IN, NULL),
			 -EINVAL);
	assert_int_equal(pcap_add_interface(w, "eth0"), 0);
	assert_int_equal(pcap_write(w, 1, 0, &seg, 1, 60, PCAP_DIR_IN, NULL),
			 -EINVAL);
	assert_int_equal(pcap_write(w, -1, 0, &seg, 1, 60, PCAP_DIR_IN, NULL),
			 -EINVAL);
	/* More bytes than the wire carried. */
	assert_int_equal(pcap_write(w, 0, 0, &seg, 1, 59, PCAP_DIR_IN, NULL),
			 -EINVAL);
	assert_int_equal(pcap_write(w, 0, 0, &seg, 1, 60, (enum pcap_dir)7,
				    NULL),
			 -EINVAL);
	/* Rejected calls leave the writer usable and write nothing. */
	assert_int_equal(pcap_write(w, 0, 0, &seg, 1, 60, PCAP_DIR_OUT, ""), 0);
	assert_int_equal(pcap_close(w), 0);
	assert_int_equal(pcap_close(NULL), 0);

	read_file(path, &f);
	check_shb(&f);
	check_idb(&f, "eth0");
	{
		struct epb e;

		read_epb(&f, &e);
		/* An empty comment is left out. */
		assert_int_equal(e.nopts, 1);
		check_epb_flags(&e, PCAP_DIR_OUT);
	}
	assert_false(next_block(&f, &b));
	free(f.p);
	unlink(path);
}

/* A device that is always full: the error comes back from pcap_open(). */
static void test_write_error(void **state)
{
	if (access("/dev/full", W_OK))
		lb_skip("/dev/full not writable");
	errno = 0;
	assert_null(pcap_open("/dev/full"));
	assert_int_equal(errno, ENOSPC);
}

/* Capturing runs on the data path: after pcap_open(), no malloc. */
static void test_no_allocation(void **state)
{
	char path[256];
	struct pcap_writer *w;
	struct mallinfo2 before, after;
	uint8_t f[128];
	size_t len = build_udp(f, 13, 0);
	struct pcap_seg seg = { f, len };
	int i, id;

	temp_path(path, sizeof(path));
	w = pcap_open(path);
	assert_non_null(w);
	before = mallinfo2();
	id = pcap_add_interface(w, "eth0");
	/* Enough to fill the stdio buffer many times over. */
	for (i = 0; i < 5000; i++)
		if (pcap_write(w, id, (uint64_t)i, &seg, 1, (uint32_t)len,
			       PCAP_DIR_IN, "dropped: udp_drop_pfmemalloc"))
			break;
	pcap_flush(w);
	after = mallinfo2();
	assert_int_equal(i, 5000);
	assert_int_equal(after.uordblks, before.uordblks);
	assert_int_equal(after.hblkhd, before.hblkhd);
	assert_int_equal(pcap_close(w), 0);
	unlink(path);
}

/* ---- tshark ---------------------------------------------------------- */

/* Run @cmd with sh; its stdout (NUL-terminated, malloc'd) and exit code. */
static int run(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096, n;
	char *buf = malloc(cap);
	int status;

	assert_non_null(p);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 1024) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	status = pclose(p);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* tshark >= 3.6 calls the packet comment frame.comment, before pkt_comment. */
static const char *comment_field(void)
{
	if (system("tshark -G fields 2>/dev/null | cut -f3 | "
		   "grep -qx frame.comment") == 0)
		return "frame.comment";
	return "pkt_comment";
}

static void test_tshark_fields(void **state)
{
	char path[256], cmd[1024];
	char *out, *line, *save = NULL;
	unsigned i = 0;

	if (!have_tshark())
		lb_skip("tshark not installed (apt-get install tshark)");
	temp_path(path, sizeof(path));
	write_samples(path);

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -E separator=/t "
		 "-e frame.interface_id -e frame.packet_flags_direction "
		 "-e frame.len -e frame.time_epoch -e %s 2>/dev/null",
		 path, comment_field());
	assert_int_equal(run(cmd, &out), 0);

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		const struct sample *s;
		uint8_t f[128];
		char want[512];

		assert_true(i < NR_SAMPLES);
		s = &samples[i];
		/* Direction prints as hex; epoch time to the nanosecond. */
		snprintf(want, sizeof(want),
			 "%d\t0x%08x\t%zu\t%" PRIu64 ".%09" PRIu64 "\t%s",
			 s->iface, s->dir == PCAP_DIR_IN ? 1 : 2,
			 build_frame(s, i, f), (uint64_t)(s->ts / NSEC_PER_SEC),
			 (uint64_t)(s->ts % NSEC_PER_SEC),
			 s->comment ? s->comment : "");
		assert_string_equal(line, want);
	}
	assert_int_equal(i, NR_SAMPLES);

	free(out);
	unlink(path);
}

static void test_tshark_no_warnings(void **state)
{
	char path[256], cmd[1024];
	char *out;
	const char *p;
	unsigned i, good = 0, udp = 0;

	if (!have_tshark())
		lb_skip("tshark not installed (apt-get install tshark)");
	temp_path(path, sizeof(path));
	write_samples(path);

	/* Checksum checks are off by default; without them nothing is seen. */
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -V -o ip.check_checksum:TRUE "
		 "-o udp.check_checksum:TRUE -z expert 2>&1",
		 path);
	assert_int_equal(run(cmd, &out), 0);
	if (strcasestr(out, "malformed") || strcasestr(out, "incorrect") ||
	    strcasestr(out, "bad checksum") || strstr(out, "Warnings (") ||
	    strstr(out, "Errors (") || strcasestr(out, "corrupt") ||
	    strcasestr(out, "damaged"))
		fail_msg("tshark complains:\n%s", out);
	/* Both checksums of every UDP frame were checked and found good. */
	for (p = out; (p = strcasestr(p, "checksum status: Good")); p++)
		good++;
	for (i = 0; i < NR_SAMPLES; i++)
		udp += samples[i].kind == UDP;
	assert_int_equal(good, 2 * udp);
	/* Every comment shows up in the dissection. */
	for (i = 0; i < NR_SAMPLES; i++)
		if (samples[i].comment)
			assert_non_null(strstr(out, samples[i].comment));

	free(out);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_read_back),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_tshark_fields),
		cmocka_unit_test(test_tshark_no_warnings),
	};

	return lb_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
