// SPDX-License-Identifier: MIT
/*
 * iscsi_client_rx.c - what the initiator receives: the login exchange and
 * every Full Feature Phase PDU, parsed by a state machine fed by whatever
 * TCP has (a PDU split anywhere parses the same).
 *
 * A header is checked before its data is read, so read data goes straight
 * to the bio only once the ITT, the DataSN, the offset and the length are
 * known good.  Every check that fails is a protocol error: logged with
 * the offending value, counted, and the connection is dropped (the
 * requests stay and are re-issued after the next login).  A CHECK
 * CONDITION is not a protocol error: it completes, or retries, its task.
 */
#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "iscsi_client_impl.h"

/* ---- login ---------------------------------------------------------------- */

/*
 * Login Request: with CHAP credentials the security stage first (offer,
 * CHAP_A, the response), then the operational stage, then Full Feature;
 * without, straight to the operational stage.
 */
static void login_send(struct iscsi_client *c)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_LOGIN_REQ, .immediate = true };
	uint8_t hdr[ISCSI_BHS_LEN], *t = c->rxbuf;
	char hex[2 * MD5_DIGEST_LEN + 3];
	uint32_t len = 0, padded;
	int err = 0;
	ssize_t n;

	if (!c->names_sent) {
		c->names_sent = true;
		err = iscsi_text_add(t, PAGE_SIZE, &len, "InitiatorName",
				     c->initiator);
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "TargetName",
					     c->target);
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "SessionType",
					     "Normal");
	}
	h.flags = ISCSI_LOGIN_TRANSIT | ISCSI_STAGE_SECURITY << 2 |
		  ISCSI_STAGE_OPERATIONAL;
	switch (c->auth) {
	case ISCSI_AUTH_START:
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "AuthMethod",
					     "CHAP,None");
		break;
	case ISCSI_AUTH_CHAP_A:
		/* no transit until the target has our proof */
		h.flags = ISCSI_STAGE_SECURITY << 2;
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "CHAP_A", "5");
		break;
	case ISCSI_AUTH_CHAP_R:
		iscsi_hex_encode(c->chap_r, sizeof(c->chap_r), hex);
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "CHAP_N",
					     c->chap_user);
		if (!err)
			err = iscsi_text_add(t, PAGE_SIZE, &len, "CHAP_R", hex);
		break;
	default:
		h.flags = ISCSI_LOGIN_TRANSIT | ISCSI_STAGE_OPERATIONAL << 2 |
			  ISCSI_STAGE_FULL;
		if (!err)
			err = iscsi_neg_offer(&c->p, t, PAGE_SIZE, &len);
		break;
	}
	LB_ASSERT(!err); /* a page holds every key with room to spare */
	padded = iscsi_pad4(len);
	memset(t + len, 0, padded - len);
	/* ISID, and TSIH 0: a new session (reinstating ours, if any) */
	for (int i = 0; i < 6; i++)
		h.lun |= (uint64_t)c->isid[i] << (56 - 8 * i);
	h.itt = c->login_itt;
	h.dlen = len;
	h.w[ISCSI_W_CMDSN] = c->cmdsn;
	h.w[ISCSI_W_EXPSTATSN] = c->exp_statsn;
	iscsi_bhs_encode(hdr, &h);
	/* the send buffer is empty at login: all of it goes, or nothing */
	n = tcp_send(c->tp, hdr, sizeof(hdr));
	if (n == (ssize_t)sizeof(hdr))
		n = tcp_send(c->tp, t, padded);
	if (n != (ssize_t)padded && !(padded == 0 && n == ISCSI_BHS_LEN)) {
		iscsi_conn_broken(c, ENOBUFS, "cannot send the Login Request");
		return;
	}
	c->state = ISCSI_C_LOGIN;
}

void iscsi_login_start(struct iscsi_client *c)
{
	iscsi_params_default(&c->p);
	c->p.max_recv_dsl = 262144; /* Data-In lands in bio pages */
	/* no sequence is longer than a bio: the socket buffers follow this */
	c->p.max_burst = iscsi_offer_burst(c);
	c->p.first_burst = lb_min(c->p.first_burst, c->p.max_burst);
	c->p.header_digest = c->want_hdigest;
	c->p.data_digest = c->want_ddigest;
	c->p.immediate_data = !c->no_immediate;
	c->digests_on = false;
	c->login_more = false;
	c->names_sent = false;
	c->auth = c->chap_user[0] ? ISCSI_AUTH_START : ISCSI_AUTH_OFF;
	c->cmdsn = c->exp_cmdsn = c->max_cmdsn = 1;
	c->exp_statsn = 0;
	c->login_itt = ISCSI_ITT_INTERNAL | 0xff00;
	c->rxh_have = 0;
	c->rx_in_data = false;
	login_send(c);
}

static int login_errno(uint8_t cls, uint8_t detail)
{
	if (cls == 3)
		return EAGAIN; /* target busy or out of resources */
	switch (detail) {
	case ISCSI_LOGIN_DETAIL_AUTH:
	case 0x02:
		return EACCES;
	case ISCSI_LOGIN_DETAIL_NOT_FOUND:
	case 0x04:
		return ENOENT;
	default:
		return EPROTO;
	}
}

/*
 * A Login Response in the security stage: the method the target chose,
 * its challenge, or its acceptance of our response.
 */
static void login_security(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	bool transit = b->flags & ISCSI_LOGIN_TRANSIT;
	bool chap = false, none = false, md5 = false, have_id = false;
	uint8_t challenge[1024];
	int clen = 0;
	uint32_t pos = 0;
	uint64_t id = 0;
	struct iscsi_kv kv;
	int r;

	while ((r = iscsi_text_next(c->rxbuf, b->dlen, &pos, &kv)) == 1) {
		if (iscsi_kv_is(&kv, "AuthMethod")) {
			chap = kv.vlen == 4 && !memcmp(kv.val, "CHAP", 4);
			none = kv.vlen == 4 && !memcmp(kv.val, "None", 4);
		} else if (iscsi_kv_is(&kv, "CHAP_A")) {
			md5 = kv.vlen == 1 && kv.val[0] == '5';
		} else if (iscsi_kv_is(&kv, "CHAP_I")) {
			have_id = !iscsi_kv_num(&kv, 0, 255, &id);
		} else if (iscsi_kv_is(&kv, "CHAP_C")) {
			clen = iscsi_hex_decode(kv.val, kv.vlen, challenge,
						sizeof(challenge));
		}
	}
	if (r < 0 || ((b->flags >> 2) & 3) != ISCSI_STAGE_SECURITY) {
		iscsi_proto_error(c, "malformed security stage response");
		return;
	}
	switch (c->auth) {
	case ISCSI_AUTH_START:
		if (chap && !transit) {
			c->auth = ISCSI_AUTH_CHAP_A;
			break;
		}
		if (none && transit &&
		    (b->flags & 3) == ISCSI_STAGE_OPERATIONAL) {
			/* the target wants no proof */
			c->auth = ISCSI_AUTH_DONE;
			break;
		}
		counter_inc(&c->st.login_failures);
		iscsi_conn_broken(c, EACCES,
				  "the target chose no AuthMethod we offered");
		return;
	case ISCSI_AUTH_CHAP_A:
		if (!md5 || !have_id || clen <= 0 || transit) {
			counter_inc(&c->st.login_failures);
			iscsi_conn_broken(
				c, EACCES,
				"CHAP: no MD5 challenge from the target (CHAP_A %s, CHAP_I %s, CHAP_C %d bytes)",
				md5 ? "5" : "other", have_id ? "given" : "none",
				clen);
			return;
		}
		c->chap_id = (uint8_t)id;
		iscsi_chap_response(c->chap_id, c->chap_secret, challenge,
				    (size_t)clen, c->chap_r);
		c->auth = ISCSI_AUTH_CHAP_R;
		break;
	default:
		if (!transit || (b->flags & 3) != ISCSI_STAGE_OPERATIONAL) {
			iscsi_proto_error(
				c,
				"CHAP: the target did not leave the security stage");
			return;
		}
		c->auth = ISCSI_AUTH_DONE;
		break;
	}
	login_send(c);
}

static void login_response(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	uint8_t cls = (uint8_t)(b->w[ISCSI_W_DATASN] >> 24);
	uint8_t detail = (uint8_t)(b->w[ISCSI_W_DATASN] >> 16);
	bool hd_seen = false, dd_seen = false;
	uint32_t pos = 0;
	struct iscsi_kv kv;
	int r;

	if (b->itt != c->login_itt) {
		iscsi_proto_error(c, "Login Response for ITT %#x", b->itt);
		return;
	}
	if (cls) {
		counter_inc(&c->st.login_failures);
		iscsi_conn_broken(c, login_errno(cls, detail),
				  "login rejected: status class %u detail %#x",
				  cls, detail);
		return;
	}
	c->exp_statsn = b->w[ISCSI_W_STATSN] + 1;
	if (c->auth != ISCSI_AUTH_OFF && c->auth != ISCSI_AUTH_DONE) {
		login_security(c);
		return;
	}
	while ((r = iscsi_text_next(c->rxbuf, b->dlen, &pos, &kv)) == 1) {
		enum iscsi_neg_result nr = iscsi_neg_accept(&c->p, &kv);

		if (iscsi_kv_is(&kv, "HeaderDigest"))
			hd_seen = true;
		if (iscsi_kv_is(&kv, "DataDigest"))
			dd_seen = true;
		if (nr == ISCSI_NEG_BAD) {
			counter_inc(&c->st.login_failures);
			iscsi_proto_error(c, "login key %.*s=%.*s is not legal",
					  (int)lb_min(kv.klen, 64u), kv.key,
					  (int)lb_min(kv.vlen, 64u), kv.val);
			return;
		}
	}
	if (r < 0) {
		iscsi_proto_error(c, "malformed login text");
		return;
	}
	/* an unanswered digest offer is not agreed */
	if (!hd_seen)
		c->p.header_digest = false;
	if (!dd_seen)
		c->p.data_digest = false;
	if (!(b->flags & ISCSI_LOGIN_TRANSIT)) {
		/* the target holds the stage: answer with what we now hold */
		if (c->login_more) {
			iscsi_proto_error(c, "login does not converge");
			return;
		}
		c->login_more = true;
		login_send(c);
		return;
	}
	if ((b->flags & 3) != ISCSI_STAGE_FULL || !(b->lun & 0xffff) ||
	    c->p.first_burst > c->p.max_burst) {
		iscsi_proto_error(
			c,
			"login ended without a session (flags %#x, TSIH %#x)",
			b->flags, (unsigned)(b->lun & 0xffff));
		return;
	}
	c->digests_on = true;
	iscsi_logged_in(c);
}

/* ---- Full Feature Phase --------------------------------------------------- */

static void setup_step(struct iscsi_client *c, uint8_t step)
{
	c->setup_step = step;
	c->setup_tries = 0;
	iscsi_setup_next(c);
}

/*
 * MODE SENSE and the VPD pages after the capacity: what the LUN offers.
 * A target that refuses one of them offers that feature not; @ok false.
 */
static void setup_features(struct iscsi_client *c, bool ok)
{
	const uint8_t *b = c->ibuf;
	uint32_t got = c->icmd_got;

	switch (c->setup_step) {
	case ISCSI_SETUP_MODE_SENSE:
		/* the device-specific parameter: DPOFUA */
		c->dpofua = ok && got >= 3 && (b[2] & 0x10);
		if (c->lbpme) {
			setup_step(c, ISCSI_SETUP_VPD_LBP);
			return;
		}
		break;
	case ISCSI_SETUP_VPD_LBP:
		if (ok && got >= 6 && b[1] == 0xb2) {
			c->lbpu = b[5] & 0x80;
			c->lbpws = b[5] & 0x40;
			c->lbprz = b[5] & 0x04;
		}
		if (c->lbpu || c->lbpws) {
			setup_step(c, ISCSI_SETUP_VPD_BL);
			return;
		}
		break;
	default:
		/* no Block Limits page: no UNMAP (its limits are unknown) */
		if (ok && got >= 32 && b[1] == 0xb0) {
			c->unmap_max = nbd_get32(b + 20);
			c->unmap_max_desc = nbd_get32(b + 24);
			c->unmap_gran = nbd_get32(b + 28);
		}
		if (ok && got >= 44 && b[1] == 0xb0)
			c->wsame_max = nbd_get64(b + 36);
		break;
	}
	iscsi_setup_done(c);
}

static void setup_status(struct iscsi_client *c, uint8_t status,
			 const struct scsi_sense *sn, bool have_sense)
{
	uint8_t step = c->setup_step;

	c->icmd_pending = c->icmd_sent = false;
	if (status != SCSI_GOOD) {
		/* a new nexus gets one UNIT ATTENTION; NOT READY may pass */
		if (have_sense &&
		    (sn->key == SCSI_SENSE_UNIT_ATTENTION ||
		     sn->key == SCSI_SENSE_NOT_READY) &&
		    c->setup_tries++ < ISCSI_MAX_RETRIES) {
			if (sn->key == SCSI_SENSE_UNIT_ATTENTION)
				counter_inc(&c->st.unit_attentions);
			iscsi_setup_next(c);
			return;
		}
		if (step == ISCSI_SETUP_RC16) { /* no READ CAPACITY 16: 10 */
			setup_step(c, ISCSI_SETUP_RC10);
			return;
		}
		if (step >= ISCSI_SETUP_MODE_SENSE) {
			setup_features(c, false);
			return;
		}
		counter_inc(&c->st.login_failures);
		iscsi_conn_broken(
			c, EIO, "setup command %#x failed: %s", c->icdb[0],
			have_sense ? scsi_sense_key_name(sn->key) : "no sense");
		return;
	}
	if (step == ISCSI_SETUP_TUR) {
		setup_step(c, ISCSI_SETUP_RC16);
		return;
	}
	if (step >= ISCSI_SETUP_MODE_SENSE) {
		setup_features(c, true);
		return;
	}
	if (c->icmd_got < (step == ISCSI_SETUP_RC16 ? 12u : 8u)) {
		iscsi_proto_error(c, "READ CAPACITY returned %u bytes",
				  c->icmd_got);
		return;
	}
	c->lbpme = false;
	c->dpofua = c->lbpu = c->lbpws = c->lbprz = false;
	c->unmap_max = c->unmap_max_desc = c->unmap_gran = 0;
	c->wsame_max = 0;
	if (step == ISCSI_SETUP_RC16) {
		c->capacity = nbd_get64(c->ibuf) + 1;
		c->block_size = nbd_get32(c->ibuf + 8);
		c->lbpme = c->icmd_got >= 15 && (c->ibuf[14] & 0x80);
	} else {
		if (nbd_get32(c->ibuf) == 0xffffffffu) {
			iscsi_conn_broken(c, EOPNOTSUPP,
					  "LUN too large for READ CAPACITY 10");
			return;
		}
		c->capacity = (uint64_t)nbd_get32(c->ibuf) + 1;
		c->block_size = nbd_get32(c->ibuf + 4);
	}
	if (!c->block_size || c->capacity > UINT64_MAX / c->block_size) {
		iscsi_proto_error(c, "READ CAPACITY: %llu blocks of %u",
				  (unsigned long long)c->capacity,
				  c->block_size);
		return;
	}
	c->capacity *= c->block_size;
	setup_step(c, ISCSI_SETUP_MODE_SENSE);
}

/*
 * A piece of a TRIM or WRITE_ZEROES is done: true if another command
 * follows (the rest of the range, or the SYNCHRONIZE CACHE of a FUA one).
 * It goes as a new task; after a reconnect only the unacknowledged rest is
 * sent again.
 */
static bool range_op_next(struct iscsi_client *c, struct blk_request *rq)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);
	uint32_t total = rq->bio->size >> SECTOR_SHIFT;

	if (!p->sp_cur) /* the final SYNCHRONIZE CACHE */
		return false;
	p->sp_done += p->sp_cur;
	p->sp_cur = 0;
	LB_ASSERT(p->sp_done <= total);
	if (p->sp_done == total && !(rq->bio->flags & BIO_FUA))
		return false;
	p->state = ISCSI_RQ_QUEUED;
	p->r2t_active = false;
	p->sent_before = false;
	p->retries = 0;
	iscsi_tx(c);
	return true;
}

/* Status for @rq: complete it, retry it, or fail it. */
static void task_status(struct iscsi_client *c, struct blk_request *rq,
			uint8_t response, uint8_t status,
			const struct scsi_sense *sn, bool have_sense)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	int err;

	counter_inc(&c->st.responses);
	if (c->tx.busy && c->tx.rq == rq) {
		iscsi_proto_error(
			c, "status for ITT %#x while its data is being sent",
			p->itt);
		return;
	}
	if (!response &&
	    (status == SCSI_BUSY || status == SCSI_TASK_SET_FULL)) {
		/* the target asks us to come back: later, not failed */
		lb_debug(&c->host->log, "iscsi: %s: %s of %u at %llu: %s, held",
			 c->bd.name, bio_op_name(bio->op), bio->size,
			 (unsigned long long)bio->offset,
			 status == SCSI_BUSY ? "BUSY" : "TASK SET FULL");
		iscsi_hold(c, rq, status);
		return;
	}
	/* this task ended at the target: its slot may go to a held one */
	iscsi_release_held(c);
	if (response) {
		lb_warn(&c->host->log,
			"iscsi: %s: %s of %u at %llu: target failure %#x",
			c->bd.name, bio_op_name(bio->op), bio->size,
			(unsigned long long)bio->offset, response);
		iscsi_complete(c, rq, -EIO);
		return;
	}
	if (status == SCSI_GOOD) {
		/* a read that is short of data never completes as good */
		if (bio->op == BIO_READ && p->in_off != bio->size) {
			iscsi_proto_error(
				c, "READ of %u got %u bytes with GOOD status",
				bio->size, p->in_off);
			return;
		}
		if ((bio->op == BIO_TRIM || bio->op == BIO_WRITE_ZEROES) &&
		    range_op_next(c, rq))
			return;
		iscsi_complete(c, rq, 0);
		return;
	}
	counter_inc(&c->st.check_conditions);
	if (status == SCSI_CHECK_CONDITION && have_sense) {
		err = scsi_sense_errno(sn);
		if (sn->key == SCSI_SENSE_UNIT_ATTENTION)
			counter_inc(&c->st.unit_attentions);
		lb_warn(&c->host->log,
			"iscsi: %s: %s of %u at %llu: CHECK CONDITION, %s, ASC/ASCQ %02x/%02x",
			c->bd.name, bio_op_name(bio->op), bio->size,
			(unsigned long long)bio->offset,
			scsi_sense_key_name(sn->key), sn->asc, sn->ascq);
	} else {
		err = -EIO;
		lb_warn(&c->host->log,
			"iscsi: %s: %s of %u at %llu: SCSI status %#x",
			c->bd.name, bio_op_name(bio->op), bio->size,
			(unsigned long long)bio->offset, status);
	}
	if (err == -EAGAIN && p->retries++ < ISCSI_MAX_RETRIES) {
		iscsi_requeue(c, rq);
		return;
	}
	iscsi_complete(c, rq, err == -EAGAIN || !err ? -EIO : err);
}

static void scsi_response(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	struct scsi_sense sn = { 0 };
	bool have_sense = false;
	struct blk_request *rq;

	if (b->dlen >= 2) {
		uint32_t sl = nbd_get16(c->rxbuf);

		if (sl > b->dlen - 2) {
			iscsi_proto_error(c, "sense length %u in %u bytes", sl,
					  b->dlen);
			return;
		}
		have_sense = sl && !scsi_sense_decode(c->rxbuf + 2, sl, &sn);
	}
	if ((b->itt & 0xffff0000u) == ISCSI_ITT_INTERNAL) {
		if (!c->icmd_sent ||
		    b->itt != (ISCSI_ITT_INTERNAL | c->setup_step)) {
			counter_inc(&c->st.bad_itts);
			iscsi_proto_error(
				c, "SCSI Response for unknown ITT %#x", b->itt);
			return;
		}
		counter_inc(&c->st.responses);
		if (b->b2) {
			iscsi_conn_broken(c, EIO,
					  "setup command: target failure");
			return;
		}
		setup_status(c, b->b3, &sn, have_sense);
		return;
	}
	rq = iscsi_rq_by_itt(c, b->itt);
	if (!rq || c->state != ISCSI_C_READY) {
		counter_inc(&c->st.bad_itts);
		iscsi_proto_error(c, "SCSI Response for unknown ITT %#x",
				  b->itt);
		return;
	}
	task_status(c, rq, b->b2, b->b3, &sn, have_sense);
}

/* A Data-In header: where its data goes, checked before it is read. */
static int data_in_header(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	uint32_t off = b->w[ISCSI_W_OFFSET];
	struct blk_request *rq;
	struct iscsi_rq *p;

	counter_inc(&c->st.data_in_pdus);
	if ((b->flags & ISCSI_DATA_STATUS) && !(b->flags & ISCSI_FLAG_FINAL)) {
		iscsi_proto_error(c, "Data-In with status but not final");
		return -1;
	}
	if ((b->itt & 0xffff0000u) == ISCSI_ITT_INTERNAL) {
		if (!c->icmd_sent ||
		    b->itt != (ISCSI_ITT_INTERNAL | c->setup_step) ||
		    off != c->icmd_got || b->dlen > c->icmd_len - off) {
			iscsi_proto_error(
				c,
				"Data-In for ITT %#x at %u, %u bytes: not expected",
				b->itt, off, b->dlen);
			return -1;
		}
		c->rx_rq = NULL;
		return 0;
	}
	rq = iscsi_rq_by_itt(c, b->itt);
	if (!rq) {
		counter_inc(&c->st.bad_itts);
		iscsi_proto_error(c, "Data-In for unknown ITT %#x", b->itt);
		return -1;
	}
	if (rq->bio->op != BIO_READ) {
		iscsi_proto_error(c, "Data-In for a %s",
				  bio_op_name(rq->bio->op));
		return -1;
	}
	p = blk_rq_pdu(rq);
	if (b->w[ISCSI_W_DATASN] != p->in_datasn || off != p->in_off) {
		iscsi_proto_error(
			c, "Data-In DataSN %u offset %u, expected %u and %u",
			b->w[ISCSI_W_DATASN], off, p->in_datasn, p->in_off);
		return -1;
	}
	if (b->dlen > rq->bio->size - off) {
		iscsi_proto_error(
			c, "Data-In of %u bytes at %u beyond the %u expected",
			b->dlen, off, rq->bio->size);
		return -1;
	}
	c->rx_rq = rq;
	return 0;
}

static void data_in_done(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	struct blk_request *rq = c->rx_rq;
	struct iscsi_rq *p;

	c->rx_rq = NULL;
	if (!rq) { /* internal */
		c->icmd_got += b->dlen;
		if (b->flags & ISCSI_DATA_STATUS)
			setup_status(c, b->b3, NULL, false);
		return;
	}
	p = blk_rq_pdu(rq);
	p->in_off += b->dlen;
	p->in_datasn++;
	if (b->flags & ISCSI_DATA_STATUS)
		task_status(c, rq, 0, b->b3, NULL, false);
}

static void r2t(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	struct blk_request *rq = iscsi_rq_by_itt(c, b->itt);
	uint32_t off = b->w[ISCSI_W_OFFSET], len = b->w[ISCSI_W_DDTL];
	struct iscsi_rq *p;
	uint32_t out;

	counter_inc(&c->st.r2ts);
	if (!rq) {
		counter_inc(&c->st.bad_itts);
		iscsi_proto_error(c, "R2T for unknown ITT %#x", b->itt);
		return;
	}
	out = iscsi_rq_out_len(rq);
	if (!out) {
		iscsi_proto_error(c, "R2T for a %s", bio_op_name(rq->bio->op));
		return;
	}
	p = blk_rq_pdu(rq);
	if (p->r2t_active || b->w[ISCSI_W_DATASN] != p->r2tsn ||
	    b->w[ISCSI_W_TTT] == ISCSI_RSVD_TAG || !len ||
	    len > c->p.max_burst || off < p->imm || off > out ||
	    len > out - off) {
		iscsi_proto_error(
			c,
			"R2T R2TSN %u for %u bytes at %u of a %u-byte transfer: not legal",
			b->w[ISCSI_W_DATASN], len, off, out);
		return;
	}
	p->r2tsn++;
	p->r2t_active = true;
	p->r2t_ttt = b->w[ISCSI_W_TTT];
	p->r2t_off = p->r2t_next = off;
	p->r2t_end = off + len;
	p->r2t_datasn = 0;
	iscsi_tx(c);
}

static void nop_in(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;

	counter_inc(&c->st.nop_in);
	if (b->itt == ISCSI_RSVD_TAG) {
		if (b->w[ISCSI_W_TTT] != ISCSI_RSVD_TAG) {
			/* the target pings: echo its TTT and LUN */
			c->nop_reply = true;
			c->nop_ttt = b->w[ISCSI_W_TTT];
			c->nop_lun = b->lun;
			iscsi_tx(c);
		}
		return;
	}
	if ((b->itt & 0xffff0000u) != ISCSI_ITT_PING || !c->ping_out) {
		counter_inc(&c->st.bad_itts);
		iscsi_proto_error(c, "NOP-In for unknown ITT %#x", b->itt);
		return;
	}
	c->ping_out = false;
}

/* StatSN, ExpCmdSN, MaxCmdSN of a PDU in Full Feature Phase: 0 or -1 */
static int track_sns(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	uint32_t exp = b->w[ISCSI_W_EXPCMDSN], max = b->w[ISCSI_W_MAXCMDSN];
	bool status;

	switch (b->op) {
	case ISCSI_OP_SCSI_RSP:
	case ISCSI_OP_ASYNC:
	case ISCSI_OP_REJECT:
		status = true;
		break;
	case ISCSI_OP_DATA_IN:
		status = b->flags & ISCSI_DATA_STATUS;
		break;
	case ISCSI_OP_NOP_IN:
		status = b->itt != ISCSI_RSVD_TAG;
		break;
	default:
		status = false;
		break;
	}
	if (status) {
		if (b->w[ISCSI_W_STATSN] != c->exp_statsn) {
			iscsi_proto_error(c, "StatSN %u, expected %u",
					  b->w[ISCSI_W_STATSN], c->exp_statsn);
			return -1;
		}
		c->exp_statsn++;
	}
	/* RFC 7143 4.2.2.1: ignore a window that is not one */
	if (iscsi_sn_le(exp, max + 1)) {
		if (iscsi_sn_lt(c->max_cmdsn, max))
			c->max_cmdsn = max;
		if (iscsi_sn_lt(c->exp_cmdsn, exp))
			c->exp_cmdsn = exp;
	}
	return 0;
}

static void handle_pdu(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;

	if (c->state == ISCSI_C_LOGIN) {
		if (b->op != ISCSI_OP_LOGIN_RSP) {
			iscsi_proto_error(c, "%s during login",
					  iscsi_op_name(b->op));
			return;
		}
		login_response(c);
		return;
	}
	if (track_sns(c))
		return;
	switch (b->op) {
	case ISCSI_OP_SCSI_RSP:
		scsi_response(c);
		break;
	case ISCSI_OP_DATA_IN:
		data_in_done(c);
		break;
	case ISCSI_OP_R2T:
		r2t(c);
		break;
	case ISCSI_OP_NOP_IN:
		nop_in(c);
		break;
	case ISCSI_OP_ASYNC: {
		uint8_t ev = (uint8_t)(b->w[ISCSI_W_DATASN] >> 24);

		if (ev >= 1 && ev <= 3)
			iscsi_conn_broken(
				c, ECONNRESET,
				"the target asks to log out (event %u)", ev);
		break;
	}
	case ISCSI_OP_REJECT:
		iscsi_proto_error(c, "the target rejected a PDU (reason %#x)",
				  b->b2);
		break;
	default:
		iscsi_proto_error(c, "unexpected %s", iscsi_op_name(b->op));
		break;
	}
	if (!c->broken)
		iscsi_tx(c);
}

/* ---- framing -------------------------------------------------------------- */

static bool hd_on(const struct iscsi_client *c)
{
	return c->digests_on && c->p.header_digest;
}

static bool dd_on(const struct iscsi_client *c)
{
	return c->digests_on && c->p.data_digest;
}

static int rx_header(struct iscsi_client *c)
{
	uint32_t hlen = ISCSI_BHS_LEN + (hd_on(c) ? ISCSI_DIGEST_LEN : 0);

	while (c->rxh_have < hlen) {
		ssize_t n = tcp_recv(c->tp, c->rxh + c->rxh_have,
				     hlen - c->rxh_have);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			iscsi_conn_broken(c, n ? (int)-n : ECONNRESET,
					  "connection closed in a PDU header");
			return -1;
		}
		c->rxh_have += (uint32_t)n;
	}
	c->last_rx = host_now(c->host);
	if (hd_on(c) && iscsi_digest_get(c->rxh + ISCSI_BHS_LEN) !=
				iscsi_crc32c(0, c->rxh, ISCSI_BHS_LEN)) {
		counter_inc(&c->st.digest_errors);
		iscsi_proto_error(c, "header digest mismatch");
		return -1;
	}
	if (iscsi_bhs_decode(c->rxh, true, &c->rb)) {
		iscsi_proto_error(c, "malformed PDU header (opcode byte %#x)",
				  c->rxh[0]);
		return -1;
	}
	if (c->rb.ahs_words) {
		iscsi_proto_error(c, "%s with an AHS", iscsi_op_name(c->rb.op));
		return -1;
	}
	if (c->rb.dlen > c->p.max_recv_dsl) {
		iscsi_proto_error(c, "%s data segment of %u over our %u",
				  iscsi_op_name(c->rb.op), c->rb.dlen,
				  c->p.max_recv_dsl);
		return -1;
	}
	if (c->rb.op == ISCSI_OP_DATA_IN && c->state >= ISCSI_C_SETUP) {
		if (data_in_header(c))
			return -1;
	} else if (c->rb.dlen > PAGE_SIZE) {
		iscsi_proto_error(c, "%s data segment of %u bytes",
				  iscsi_op_name(c->rb.op), c->rb.dlen);
		return -1;
	}
	c->rx_in_data = true;
	c->rx_have = 0;
	c->rx_crc = 0;
	return 1;
}

/* where the next received data byte goes, and how many may go there */
static uint8_t *rx_dest(struct iscsi_client *c, uint32_t *room)
{
	struct iscsi_bhs *b = &c->rb;
	uint32_t at = c->rx_have;

	if (b->op == ISCSI_OP_DATA_IN && c->state >= ISCSI_C_SETUP) {
		if (!c->rx_rq) {
			*room = b->dlen - at;
			return c->ibuf + b->w[ISCSI_W_OFFSET] + at;
		} else {
			struct bio *bio = c->rx_rq->bio;
			uint32_t off = b->w[ISCSI_W_OFFSET] + at;
			const struct bio_vec *v = bio->vec;

			while (off >= v->len) {
				off -= v->len;
				v++;
			}
			*room = lb_min(v->len - off, b->dlen - at);
			return (uint8_t *)page_address(c->mm, v->page) +
			       v->off + off;
		}
	}
	*room = b->dlen - at;
	return c->rxbuf + at;
}

static int rx_data(struct iscsi_client *c)
{
	struct iscsi_bhs *b = &c->rb;
	uint32_t pad = iscsi_pad4(b->dlen) - b->dlen;
	uint32_t trl = pad + (b->dlen && dd_on(c) ? ISCSI_DIGEST_LEN : 0);

	while (c->rx_have < b->dlen + trl) {
		uint32_t room;
		uint8_t *dst;
		ssize_t n;

		if (c->rx_have < b->dlen) {
			dst = rx_dest(c, &room);
		} else {
			dst = c->rx_trl + (c->rx_have - b->dlen);
			room = b->dlen + trl - c->rx_have;
		}
		n = tcp_recv(c->tp, dst, room);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			iscsi_conn_broken(c, n ? (int)-n : ECONNRESET,
					  "connection closed in a PDU's data");
			return -1;
		}
		if (dd_on(c) && c->rx_have < b->dlen)
			c->rx_crc = iscsi_crc32c(c->rx_crc, dst, (size_t)n);
		c->rx_have += (uint32_t)n;
	}
	/* the digest covers the padding too */
	if (b->dlen && dd_on(c) &&
	    iscsi_digest_get(c->rx_trl + pad) !=
		    iscsi_crc32c(c->rx_crc, c->rx_trl, pad)) {
		counter_inc(&c->st.digest_errors);
		iscsi_proto_error(c, "data digest mismatch");
		return -1;
	}
	c->rx_in_data = false;
	c->rxh_have = 0;
	return 1;
}

void iscsi_rx(struct iscsi_client *c)
{
	int r = 1;

	while (r > 0 && c->tp && !c->broken) {
		if (c->state < ISCSI_C_LOGIN || c->state > ISCSI_C_READY)
			return;
		r = c->rx_in_data ? rx_data(c) : rx_header(c);
		if (r > 0 && !c->rx_in_data)
			handle_pdu(c);
	}
}
