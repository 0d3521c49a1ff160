// SPDX-License-Identifier: MIT
/*
 * iscsi_proto.c - iSCSI PDU, text and negotiation codecs, CRC32C, and the
 * SCSI CDB and sense helpers.  Pure functions; see iscsi_proto.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/assert.h"
#include "iscsi_proto.h"

/* ---- BHS ------------------------------------------------------------------ */

void iscsi_bhs_encode(uint8_t out[ISCSI_BHS_LEN], const struct iscsi_bhs *h)
{
	memset(out, 0, ISCSI_BHS_LEN);
	out[0] = (uint8_t)((h->op & 0x3f) |
			   (h->immediate ? ISCSI_OP_IMMEDIATE : 0));
	out[1] = h->flags;
	out[2] = h->b2;
	out[3] = h->b3;
	out[4] = h->ahs_words;
	out[5] = (uint8_t)(h->dlen >> 16);
	out[6] = (uint8_t)(h->dlen >> 8);
	out[7] = (uint8_t)h->dlen;
	nbd_put64(out + 8, h->lun);
	nbd_put32(out + 16, h->itt);
	for (int i = 0; i < 7; i++)
		nbd_put32(out + 20 + 4 * i, h->w[i]);
	if (h->op == ISCSI_OP_SCSI_CMD)
		memcpy(out + 32, h->cdb, 16);
}

int iscsi_bhs_decode(const uint8_t in[ISCSI_BHS_LEN], bool from_target,
		     struct iscsi_bhs *h)
{
	memset(h, 0, sizeof(*h));
	if (in[0] & 0x80)
		return -EPROTO;
	h->op = in[0] & 0x3f;
	h->immediate = in[0] & ISCSI_OP_IMMEDIATE;
	/* a target never sets I; the opcode ranges are disjoint by side */
	if (from_target ? (h->op < 0x20 || h->immediate) : h->op >= 0x20)
		return -EPROTO;
	h->flags = in[1];
	h->b2 = in[2];
	h->b3 = in[3];
	h->ahs_words = in[4];
	h->dlen = (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->lun = nbd_get64(in + 8);
	h->itt = nbd_get32(in + 16);
	for (int i = 0; i < 7; i++)
		h->w[i] = nbd_get32(in + 20 + 4 * i);
	if (h->op == ISCSI_OP_SCSI_CMD)
		memcpy(h->cdb, in + 32, 16);
	return 0;
}

uint64_t iscsi_lun_encode(unsigned lun)
{
	if (lun < 256)
		return (uint64_t)lun << 48;
	/* flat space addressing, method 01b */
	return (uint64_t)(0x4000 | (lun & 0x3fff)) << 48;
}

int iscsi_lun_decode(uint64_t wire)
{
	unsigned top = (unsigned)(wire >> 48);

	if (wire & 0x0000ffffffffffffull)
		return -1;
	switch (top >> 14) {
	case 0: /* peripheral device addressing, bus 0 */
		return top >> 8 ? -1 : (int)(top & 0xff);
	case 1: /* flat space */
		return (int)(top & 0x3fff);
	default:
		return -1;
	}
}

/* ---- CRC32C --------------------------------------------------------------- */

/* reflected polynomial 0x82f63b78, one byte at a time */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t iscsi_crc32c(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* the least significant byte goes first (RFC 3720 appendix B.4) */
void iscsi_digest_put(uint8_t out[4], uint32_t crc)
{
	out[0] = (uint8_t)crc;
	out[1] = (uint8_t)(crc >> 8);
	out[2] = (uint8_t)(crc >> 16);
	out[3] = (uint8_t)(crc >> 24);
}

uint32_t iscsi_digest_get(const uint8_t in[4])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}

/* ---- text ----------------------------------------------------------------- */

int iscsi_text_next(const uint8_t *buf, uint32_t len, uint32_t *pos,
		    struct iscsi_kv *kv)
{
	uint32_t p = *pos, end, eq;

	/* padding and doubled NULs between pairs are tolerated */
	while (p < len && !buf[p])
		p++;
	if (p >= len) {
		*pos = len;
		return 0;
	}
	for (end = p; end < len && buf[end]; end++)
		;
	if (end == len)
		return -EPROTO;
	for (eq = p; eq < end && buf[eq] != '='; eq++)
		;
	if (eq == end || eq == p)
		return -EPROTO;
	kv->key = (const char *)buf + p;
	kv->klen = eq - p;
	kv->val = (const char *)buf + eq + 1;
	kv->vlen = end - eq - 1;
	*pos = end + 1;
	return 1;
}

int iscsi_text_add(uint8_t *buf, uint32_t cap, uint32_t *len, const char *key,
		   const char *val)
{
	size_t k = strlen(key), v = strlen(val);

	if (*len > cap || k + v + 2 > cap - *len)
		return -ENOSPC;
	memcpy(buf + *len, key, k);
	buf[*len + k] = '=';
	memcpy(buf + *len + k + 1, val, v);
	buf[*len + k + 1 + v] = 0;
	*len += (uint32_t)(k + v + 2);
	return 0;
}

int iscsi_text_add_num(uint8_t *buf, uint32_t cap, uint32_t *len,
		       const char *key, uint64_t val)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)val);
	return iscsi_text_add(buf, cap, len, key, s);
}

bool iscsi_kv_is(const struct iscsi_kv *kv, const char *key)
{
	return strlen(key) == kv->klen && !memcmp(kv->key, key, kv->klen);
}

static bool kv_val_is(const struct iscsi_kv *kv, const char *val)
{
	return strlen(val) == kv->vlen && !memcmp(kv->val, val, kv->vlen);
}

int iscsi_kv_num(const struct iscsi_kv *kv, uint64_t lo, uint64_t hi,
		 uint64_t *out)
{
	uint64_t v = 0;
	uint32_t i = 0, base = 10;

	if (kv->vlen > 2 && kv->val[0] == '0' &&
	    (kv->val[1] == 'x' || kv->val[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == kv->vlen || kv->vlen - i > 16)
		return -EINVAL;
	for (; i < kv->vlen; i++) {
		char c = kv->val[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- negotiation ---------------------------------------------------------- */

enum neg_kind {
	NEG_DIGEST, /* list, first common value */
	NEG_DECLARE, /* MaxRecvDataSegmentLength: each side its own */
	NEG_MIN,
	NEG_MAX,
	NEG_OR,
	NEG_AND,
};

struct neg_rule {
	const char *name;
	enum neg_kind kind;
	uint32_t lo, hi;
	size_t off;
};

#define P_OFF(f) offsetof(struct iscsi_params, f)

static const struct neg_rule neg_rules[] = {
	{ "HeaderDigest", NEG_DIGEST, 0, 0, P_OFF(header_digest) },
	{ "DataDigest", NEG_DIGEST, 0, 0, P_OFF(data_digest) },
	{ "MaxRecvDataSegmentLength", NEG_DECLARE, 512, 0xffffff,
	  P_OFF(max_xmit_dsl) },
	{ "InitialR2T", NEG_OR, 0, 0, P_OFF(initial_r2t) },
	{ "ImmediateData", NEG_AND, 0, 0, P_OFF(immediate_data) },
	{ "FirstBurstLength", NEG_MIN, 512, 0xffffff, P_OFF(first_burst) },
	{ "MaxBurstLength", NEG_MIN, 512, 0xffffff, P_OFF(max_burst) },
	{ "MaxOutstandingR2T", NEG_MIN, 1, 65535, P_OFF(max_outstanding_r2t) },
	{ "DataPDUInOrder", NEG_OR, 0, 0, P_OFF(data_pdu_in_order) },
	{ "DataSequenceInOrder", NEG_OR, 0, 0, P_OFF(data_seq_in_order) },
	{ "ErrorRecoveryLevel", NEG_MIN, 0, 2, P_OFF(erl) },
	{ "MaxConnections", NEG_MIN, 1, 65535, P_OFF(max_connections) },
	{ "DefaultTime2Wait", NEG_MAX, 0, 3600, P_OFF(time2wait) },
	{ "DefaultTime2Retain", NEG_MIN, 0, 3600, P_OFF(time2retain) },
};

void iscsi_params_default(struct iscsi_params *p)
{
	*p = (struct iscsi_params){
		.max_recv_dsl = 8192,
		.max_xmit_dsl = 8192,
		.first_burst = 65536,
		.max_burst = 262144,
		.initial_r2t = true,
		.immediate_data = true,
		.data_pdu_in_order = true,
		.data_seq_in_order = true,
		.max_outstanding_r2t = 1,
		.erl = 0,
		.max_connections = 1,
		.time2wait = 2,
		.time2retain = 20,
	};
}

static const struct neg_rule *neg_find(const struct iscsi_kv *kv)
{
	for (size_t i = 0; i < sizeof(neg_rules) / sizeof(neg_rules[0]); i++)
		if (iscsi_kv_is(kv, neg_rules[i].name))
			return &neg_rules[i];
	return NULL;
}

static int kv_bool(const struct iscsi_kv *kv, bool *out)
{
	if (kv_val_is(kv, "Yes"))
		*out = true;
	else if (kv_val_is(kv, "No"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* Walks a comma list for the first of None/CRC32C: 0 None, 1 CRC32C, -1. */
static int kv_digest_first(const struct iscsi_kv *kv)
{
	uint32_t i = 0;

	while (i <= kv->vlen) {
		uint32_t j = i;

		while (j < kv->vlen && kv->val[j] != ',')
			j++;
		if (j - i == 4 && !memcmp(kv->val + i, "None", 4))
			return 0;
		if (j - i == 6 && !memcmp(kv->val + i, "CRC32C", 6))
			return 1;
		i = j + 1;
	}
	return -1;
}

static bool *p_bool(struct iscsi_params *p, const struct neg_rule *r)
{
	return (bool *)((char *)p + r->off);
}

static uint32_t *p_u32(struct iscsi_params *p, const struct neg_rule *r)
{
	return (uint32_t *)((char *)p + r->off);
}

enum iscsi_neg_result iscsi_neg_respond(struct iscsi_params *p,
					const struct iscsi_kv *kv,
					uint8_t *reply, uint32_t cap,
					uint32_t *rlen)
{
	const struct neg_rule *r = neg_find(kv);
	uint64_t v;
	bool b;
	int d;

	if (!r)
		return ISCSI_NEG_UNKNOWN;
	switch (r->kind) {
	case NEG_DIGEST:
		d = kv_digest_first(kv);
		if (d < 0)
			return ISCSI_NEG_BAD;
		*p_bool(p, r) = d;
		return iscsi_text_add(reply, cap, rlen, r->name,
				      d ? "CRC32C" : "None") ?
			       ISCSI_NEG_BAD :
			       ISCSI_NEG_OK;
	case NEG_DECLARE:
		if (iscsi_kv_num(kv, r->lo, r->hi, &v))
			return ISCSI_NEG_BAD;
		*p_u32(p, r) = (uint32_t)v;
		return ISCSI_NEG_OK; /* ours goes out once, by the caller */
	case NEG_MIN:
	case NEG_MAX:
		if (iscsi_kv_num(kv, r->lo, r->hi, &v))
			return ISCSI_NEG_BAD;
		if (r->kind == NEG_MIN ? v < *p_u32(p, r) : v > *p_u32(p, r))
			*p_u32(p, r) = (uint32_t)v;
		return iscsi_text_add_num(reply, cap, rlen, r->name,
					  *p_u32(p, r)) ?
			       ISCSI_NEG_BAD :
			       ISCSI_NEG_OK;
	case NEG_OR:
	case NEG_AND:
		if (kv_bool(kv, &b))
			return ISCSI_NEG_BAD;
		*p_bool(p, r) = r->kind == NEG_OR ? (*p_bool(p, r) || b) :
						    (*p_bool(p, r) && b);
		return iscsi_text_add(reply, cap, rlen, r->name,
				      *p_bool(p, r) ? "Yes" : "No") ?
			       ISCSI_NEG_BAD :
			       ISCSI_NEG_OK;
	}
	return ISCSI_NEG_BAD;
}

enum iscsi_neg_result iscsi_neg_accept(struct iscsi_params *p,
				       const struct iscsi_kv *kv)
{
	const struct neg_rule *r = neg_find(kv);
	uint64_t v;
	bool b;
	int d;

	if (!r)
		return ISCSI_NEG_UNKNOWN;
	switch (r->kind) {
	case NEG_DIGEST:
		/*
		 * One value, and one we offered: we offer "CRC32C,None" when
		 * we want digests (the target may decline), else "None".
		 */
		d = kv_digest_first(kv);
		if (d < 0 || (d && !*p_bool(p, r)) || kv->vlen != (d ? 6u : 4u))
			return ISCSI_NEG_BAD;
		*p_bool(p, r) = d;
		return ISCSI_NEG_OK;
	case NEG_DECLARE:
		if (iscsi_kv_num(kv, r->lo, r->hi, &v))
			return ISCSI_NEG_BAD;
		*p_u32(p, r) = (uint32_t)v;
		return ISCSI_NEG_OK;
	case NEG_MIN:
	case NEG_MAX:
		if (iscsi_kv_num(kv, r->lo, r->hi, &v) ||
		    (r->kind == NEG_MIN ? v > *p_u32(p, r) : v < *p_u32(p, r)))
			return ISCSI_NEG_BAD;
		*p_u32(p, r) = (uint32_t)v;
		return ISCSI_NEG_OK;
	case NEG_OR:
	case NEG_AND:
		if (kv_bool(kv, &b))
			return ISCSI_NEG_BAD;
		/* OR can only turn our No into Yes, AND our Yes into No */
		if (r->kind == NEG_OR ? (*p_bool(p, r) && !b) :
					(!*p_bool(p, r) && b))
			return ISCSI_NEG_BAD;
		*p_bool(p, r) = b;
		return ISCSI_NEG_OK;
	}
	return ISCSI_NEG_BAD;
}

int iscsi_neg_offer(const struct iscsi_params *p, uint8_t *buf, uint32_t cap,
		    uint32_t *len)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(neg_rules) / sizeof(neg_rules[0]); i++) {
		const struct neg_rule *r = &neg_rules[i];
		const char *s;
		uint32_t v;

		switch (r->kind) {
		case NEG_DIGEST:
			s = *(const bool *)((const char *)p + r->off) ?
				    "CRC32C,None" :
				    "None";
			err = iscsi_text_add(buf, cap, len, r->name, s);
			break;
		case NEG_DECLARE:
			err = iscsi_text_add_num(buf, cap, len, r->name,
						 p->max_recv_dsl);
			break;
		case NEG_MIN:
		case NEG_MAX:
			v = *(const uint32_t *)((const char *)p + r->off);
			err = iscsi_text_add_num(buf, cap, len, r->name, v);
			break;
		case NEG_OR:
		case NEG_AND:
			s = *(const bool *)((const char *)p + r->off) ? "Yes" :
									"No";
			err = iscsi_text_add(buf, cap, len, r->name, s);
			break;
		}
		if (err)
			return err;
	}
	return 0;
}

/* ---- SCSI ----------------------------------------------------------------- */

int scsi_cdb_rw(uint8_t cdb[16], bool write, uint64_t lba, uint32_t nblocks,
		bool fua, bool allow16)
{
	memset(cdb, 0, 16);
	if (lba <= 0xffffffffull && nblocks <= 0xffff) {
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		cdb[1] = fua ? SCSI_CDB_FUA : 0;
		nbd_put32(cdb + 2, (uint32_t)lba);
		nbd_put16(cdb + 7, (uint16_t)nblocks);
		return 10;
	}
	if (!allow16)
		return -ERANGE;
	cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
	cdb[1] = fua ? SCSI_CDB_FUA : 0;
	nbd_put64(cdb + 2, lba);
	nbd_put32(cdb + 10, nblocks);
	return 16;
}

void scsi_cdb_test_unit_ready(uint8_t cdb[16])
{
	memset(cdb, 0, 16);
}

void scsi_cdb_inquiry(uint8_t cdb[16], bool evpd, uint8_t page, uint16_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_INQUIRY;
	cdb[1] = evpd ? 1 : 0;
	cdb[2] = evpd ? page : 0;
	nbd_put16(cdb + 3, alloc);
}

void scsi_cdb_read_capacity10(uint8_t cdb[16])
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_READ_CAPACITY_10;
}

void scsi_cdb_read_capacity16(uint8_t cdb[16], uint32_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_SERVICE_ACTION_IN_16;
	cdb[1] = SCSI_SAI_READ_CAPACITY_16;
	nbd_put32(cdb + 10, alloc);
}

void scsi_cdb_sync_cache(uint8_t cdb[16], bool use16)
{
	memset(cdb, 0, 16);
	cdb[0] = use16 ? SCSI_SYNC_CACHE_16 : SCSI_SYNC_CACHE_10;
}

void scsi_cdb_report_luns(uint8_t cdb[16], uint32_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_REPORT_LUNS;
	nbd_put32(cdb + 6, alloc);
}

void scsi_cdb_mode_sense6(uint8_t cdb[16], uint8_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_MODE_SENSE_6;
	cdb[1] = 0x08; /* DBD */
	cdb[2] = 0x3f; /* current values, all pages */
	cdb[4] = alloc;
}

void scsi_cdb_unmap(uint8_t cdb[16], uint8_t param[SCSI_UNMAP_PARAM_LEN],
		    uint64_t lba, uint32_t nblocks)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_UNMAP;
	nbd_put16(cdb + 7, SCSI_UNMAP_PARAM_LEN);
	memset(param, 0, SCSI_UNMAP_PARAM_LEN);
	nbd_put16(param, SCSI_UNMAP_PARAM_LEN - 2); /* UNMAP DATA LENGTH */
	nbd_put16(param + 2, 16); /* BLOCK DESCRIPTOR DATA LENGTH */
	nbd_put64(param + 8, lba);
	nbd_put32(param + 16, nblocks);
}

void scsi_cdb_write_same16(uint8_t cdb[16], uint64_t lba, uint32_t nblocks,
			   bool unmap)
{
	memset(cdb, 0, 16);
	cdb[0] = SCSI_WRITE_SAME_16;
	cdb[1] = unmap ? 0x08 : 0;
	nbd_put64(cdb + 2, lba);
	nbd_put32(cdb + 10, nblocks);
}

int scsi_sense_decode(const uint8_t *s, uint32_t len, struct scsi_sense *out)
{
	if (len < 1)
		return -EPROTO;
	switch (s[0] & 0x7f) {
	case 0x70:
	case 0x71:
		if (len < 3)
			return -EPROTO;
		out->key = s[2] & 0x0f;
		/* ASC/ASCQ are optional in a short fixed sense */
		out->asc = len > 12 ? s[12] : 0;
		out->ascq = len > 13 ? s[13] : 0;
		return 0;
	case 0x72:
	case 0x73:
		if (len < 4)
			return -EPROTO;
		out->key = s[1] & 0x0f;
		out->asc = s[2];
		out->ascq = s[3];
		return 0;
	default:
		return -EPROTO;
	}
}

uint32_t scsi_sense_build(uint8_t out[18], uint8_t key, uint16_t asc_ascq)
{
	memset(out, 0, 18);
	out[0] = 0x70; /* current error, fixed format */
	out[2] = key & 0x0f;
	out[7] = 10; /* additional sense length */
	out[12] = (uint8_t)(asc_ascq >> 8);
	out[13] = (uint8_t)asc_ascq;
	return 18;
}

const char *scsi_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE",	   "RECOVERED ERROR", "NOT READY",
		"MEDIUM ERROR",	   "HARDWARE ERROR",  "ILLEGAL REQUEST",
		"UNIT ATTENTION",  "DATA PROTECT",    "BLANK CHECK",
		"VENDOR SPECIFIC", "COPY ABORTED",    "ABORTED COMMAND",
		"RESERVED",	   "VOLUME OVERFLOW", "MISCOMPARE",
		"COMPLETED",
	};

	return names[key & 0x0f];
}

int scsi_sense_errno(const struct scsi_sense *s)
{
	switch (s->key) {
	case SCSI_SENSE_NO_SENSE:
	case SCSI_SENSE_RECOVERED:
		return 0;
	case SCSI_SENSE_NOT_READY:
	case SCSI_SENSE_UNIT_ATTENTION:
	case SCSI_SENSE_ABORTED_COMMAND:
		return -EAGAIN; /* worth retrying */
	case SCSI_SENSE_ILLEGAL_REQUEST:
		return (s->asc << 8 | s->ascq) == SCSI_ASC_LBA_OUT_OF_RANGE ?
			       -ENOSPC :
			       -EINVAL;
	case SCSI_SENSE_DATA_PROTECT:
		return -EPERM;
	case SCSI_SENSE_MISCOMPARE:
		return -EILSEQ;
	default:
		return -EIO;
	}
}

const char *iscsi_op_name(uint8_t op)
{
	switch (op & 0x3f) {
	case ISCSI_OP_NOP_OUT:
		return "NOP-Out";
	case ISCSI_OP_SCSI_CMD:
		return "SCSI Command";
	case ISCSI_OP_TMF_REQ:
		return "Task Management Request";
	case ISCSI_OP_LOGIN_REQ:
		return "Login Request";
	case ISCSI_OP_TEXT_REQ:
		return "Text Request";
	case ISCSI_OP_DATA_OUT:
		return "Data-Out";
	case ISCSI_OP_LOGOUT_REQ:
		return "Logout Request";
	case ISCSI_OP_SNACK:
		return "SNACK";
	case ISCSI_OP_NOP_IN:
		return "NOP-In";
	case ISCSI_OP_SCSI_RSP:
		return "SCSI Response";
	case ISCSI_OP_TMF_RSP:
		return "Task Management Response";
	case ISCSI_OP_LOGIN_RSP:
		return "Login Response";
	case ISCSI_OP_TEXT_RSP:
		return "Text Response";
	case ISCSI_OP_DATA_IN:
		return "Data-In";
	case ISCSI_OP_LOGOUT_RSP:
		return "Logout Response";
	case ISCSI_OP_R2T:
		return "R2T";
	case ISCSI_OP_ASYNC:
		return "Async Message";
	case ISCSI_OP_REJECT:
		return "Reject";
	default:
		return "unknown";
	}
}
