// SPDX-License-Identifier: MIT
/*
 * iscsi_target.c - the iSCSI half of the target: listener, connections,
 * login and text negotiation, PDU framing with optional CRC32C digests,
 * and the flow of each task (immediate data, R2T and Data-Out, Data-In,
 * status).  What a CDB does is iscsi_target_scsi.c's business.
 *
 * A connection alternates strictly between sending one PDU and reading
 * one: a PDU is read whole (header, then data into the receive page) and
 * handled, and nothing more is read until every PDU that handling queued
 * is with TCP.  So an initiator that never reads stalls only itself.
 *
 * Up to TGT_WINDOW commands are in flight per connection (MaxCmdSN offers
 * only free task slots), each with its own R2T/Data-Out or Data-In state.
 * The slots live in a page taken at accept, so the state per connection
 * is fixed: the struct, its receive and send pages, the task page and one
 * hold page for the data of a command that cannot stream (INQUIRY, MODE
 * SENSE, UNMAP, WRITE SAME...); a second such command while the hold page
 * is taken gets TASK SET FULL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "core/prng.h"
#include "iscsi.h"
#include "iscsi_chap.h"
#include "iscsi_proto.h"
#include "iscsi_target_impl.h"
#include "net/tcp.h"

#define TGT_DEFAULT_CLIENTS 8
#define TGT_MRDSL TSCSI_BUF /* what we accept per PDU: one page */
#define TGT_TPGT 1
#define TGT_WINDOW 32u /* commands in flight per connection */

// clang-format off
#define ISCSI_TARGET_STATS(X) \
	X(connections) \
	X(refused) \
	X(logins) \
	X(login_rejects) \
	X(auth_failures) \
	X(discoveries) \
	X(commands) \
	X(tasks_overlapped) \
	X(task_set_full) \
	X(check_conditions) \
	X(r2ts) \
	X(data_in_pdus) \
	X(data_out_pdus) \
	X(nops) \
	X(tmfs) \
	X(logouts) \
	X(rejects) \
	X(proto_errors) \
	X(digest_errors) \
	X(bytes_read) \
	X(bytes_written) \
	X(stalls)
// clang-format on

#define TGT_STAT_FIELD(name) struct counter name;
struct iscsi_target_stats {
	ISCSI_TARGET_STATS(TGT_STAT_FIELD)
};
#undef TGT_STAT_FIELD

static const char *const tgt_stat_names[] = {
#define TGT_STAT_NAME(name) #name,
	ISCSI_TARGET_STATS(TGT_STAT_NAME)
#undef TGT_STAT_NAME
};

struct iscsi_target {
	struct net *net;
	struct host *host;
	struct mm *mm;
	struct tcp_sock *listener;
	char iqn[ISCSI_NAME_MAX + 1];
	/* CHAP: a login must answer a challenge with these (user "": none) */
	char chap_user[ISCSI_CHAP_MAX + 1], chap_secret[ISCSI_CHAP_MAX + 1];
	struct tscsi_lu lu;
	uint32_t ip;
	uint16_t port;
	uint16_t next_tsih;
	unsigned max_clients, nr_conns;
	struct list_head conns, reap;
	uint64_t stall_until;
	struct timer stall_timer;
	struct task reap_task, accept_task;
	struct iscsi_target_stats st;
};

enum tconn_auth {
	AUTH_NONE, /* nothing asked yet */
	AUTH_CHAP, /* AuthMethod=CHAP agreed: CHAP_A next */
	AUTH_CHALLENGED, /* CHAP_I and CHAP_C sent: CHAP_N and CHAP_R next */
	AUTH_DONE, /* the initiator proved it knows the secret */
};

enum tconn_task {
	TASK_NONE,
	TASK_DATA_IN, /* Data-In PDUs to send, then status */
	TASK_R2T, /* an R2T to send */
	TASK_DATA_OUT, /* waiting for Data-Out of the current burst */
	TASK_STATUS, /* the SCSI Response to send */
};

struct tgt_task {
	enum tconn_task state;
	bool held; /* its data is in the hold page */
	struct tscsi_task t;
	uint32_t itt, edtl, got, sent, datasn, r2tsn, ttt;
	uint32_t burst_end; /* the current R2T's end offset */
};

_Static_assert(TGT_WINDOW * sizeof(struct tgt_task) <= TSCSI_BUF &&
		       TGT_WINDOW <= 32,
	       "the task slots fit the task page and the busy mask");

struct iscsi_tconn {
	struct list_head node;
	struct iscsi_target *tgt;
	struct tcp_sock *tp;
	bool dead, abort, closing;
	bool full_feature, discovery, logged_in_name, declared;
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t exp_cmdsn, stat_sn;
	/* CHAP: where the security stage is (enum tconn_auth), the challenge */
	uint8_t auth, chap_id;
	uint8_t chap_c[ISCSI_CHAP_CHALLENGE];
	struct iscsi_params p;
	bool digests_on; /* p's digests apply from Full Feature Phase on */

	/* receiving: one PDU */
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint32_t have; /* bytes of hdr, then of the padded data + digest */
	bool in_data;
	uint8_t ddig[ISCSI_DIGEST_LEN];
	struct iscsi_bhs bhs;

	/* sending: one PDU, header, data, then padding and data digest */
	uint8_t tx_hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint8_t tx_trl[3 + ISCSI_DIGEST_LEN];
	const uint8_t *tx_data;
	uint32_t tx_hdr_len, tx_data_len, tx_trl_len, tx_sent;
	bool tx_busy;

	/* the tasks: TGT_WINDOW slots in the task page */
	struct tgt_task *tasks;
	uint32_t busy_mask; /* slots in use */
	unsigned nr_tasks, next_run; /* next_run: round robin among them */
	bool hold_busy;
	uint32_t next_ttt;

	struct page *rx_page, *tx_page, *task_page, *hold_page;
	uint8_t *rx, *tx, *hold; /* one page each */
};

_Static_assert(sizeof(struct iscsi_tconn) <= 2048 &&
		       sizeof(struct iscsi_target) <= 2048,
	       "connection and target state come from kmalloc");

static void conn_run(struct iscsi_tconn *c);

/* ---- connection lifetime ------------------------------------------------- */

static void conn_kill(struct iscsi_tconn *c, bool abort)
{
	struct iscsi_target *tgt = c->tgt;

	if (c->dead)
		return;
	c->dead = true;
	c->abort = abort;
	c->tp->sk.ops = NULL;
	list_del(&c->node);
	list_add_tail(&c->node, &tgt->reap);
	task_queue(tgt->host->loop, &tgt->reap_task);
}

static void conn_free(struct iscsi_tconn *c)
{
	struct iscsi_target *tgt = c->tgt;

	list_del(&c->node);
	c->tp->sk.ops = NULL;
	c->tp->sk.user = NULL;
	if (c->abort)
		tcp_abort(c->tp);
	else
		tcp_close(c->tp);
	mm_page_put(tgt->mm, c->rx_page);
	mm_page_put(tgt->mm, c->tx_page);
	mm_page_put(tgt->mm, c->task_page);
	mm_page_put(tgt->mm, c->hold_page);
	mm_kfree(tgt->mm, c);
	tgt->nr_conns--;
}

static void tgt_reap(struct task *t)
{
	struct iscsi_target *tgt =
		container_of(t, struct iscsi_target, reap_task);

	while (!list_empty(&tgt->reap))
		conn_free(
			list_first_entry(&tgt->reap, struct iscsi_tconn, node));
}

static void conn_malformed(struct iscsi_tconn *c, const char *what)
{
	counter_inc(&c->tgt->st.proto_errors);
	lb_warn(&c->tgt->host->log,
		"iscsi-target: %u: %s: dropping the connection", c->tgt->port,
		what);
	conn_kill(c, true);
}

/* ---- sending -------------------------------------------------------------- */

/*
 * Queue one PDU: @h's header with @dlen bytes of @data (which must stay
 * put until sent: the tx page, the rx page or the connection).  StatSN,
 * ExpCmdSN and MaxCmdSN are the caller's; digests are added here.
 */
static void tx_pdu(struct iscsi_tconn *c, struct iscsi_bhs *h,
		   const uint8_t *data, uint32_t dlen)
{
	uint32_t pad = iscsi_pad4(dlen) - dlen;
	static const uint8_t zero[3];

	LB_ASSERT(!c->tx_busy);
	LB_ASSERT(dlen <= c->p.max_xmit_dsl || !c->full_feature);
	h->dlen = dlen;
	iscsi_bhs_encode(c->tx_hdr, h);
	c->tx_hdr_len = ISCSI_BHS_LEN;
	if (c->digests_on && c->p.header_digest) {
		iscsi_digest_put(c->tx_hdr + ISCSI_BHS_LEN,
				 iscsi_crc32c(0, c->tx_hdr, ISCSI_BHS_LEN));
		c->tx_hdr_len += ISCSI_DIGEST_LEN;
	}
	c->tx_data = data;
	c->tx_data_len = dlen;
	memset(c->tx_trl, 0, pad);
	c->tx_trl_len = pad;
	if (dlen && c->digests_on && c->p.data_digest) {
		uint32_t crc = iscsi_crc32c(0, data, dlen);

		crc = iscsi_crc32c(crc, zero, pad);
		iscsi_digest_put(c->tx_trl + pad, crc);
		c->tx_trl_len += ISCSI_DIGEST_LEN;
	}
	c->tx_sent = 0;
	c->tx_busy = true;
}

/* one piece of the PDU being sent: 1 all of it sent, 0 later, -1 dead */
static int tx_piece(struct iscsi_tconn *c, const uint8_t *p, uint32_t len,
		    uint32_t *done)
{
	while (*done < len) {
		ssize_t n = tcp_send(c->tp, p + *done, len - *done);

		if (n == -EAGAIN || n == -ENOMEM)
			return 0;
		if (n < 0) {
			conn_kill(c, true);
			return -1;
		}
		*done += (uint32_t)n;
		c->tx_sent += (uint32_t)n;
	}
	return 1;
}

/* true when nothing is left to send */
static bool tx_flush(struct iscsi_tconn *c)
{
	uint32_t s, done;

	if (!c->tx_busy)
		return true;
	s = c->tx_sent;
	if (s < c->tx_hdr_len) {
		done = s;
		if (tx_piece(c, c->tx_hdr, c->tx_hdr_len, &done) <= 0)
			return false;
		s = c->tx_sent;
	}
	if (s < c->tx_hdr_len + c->tx_data_len) {
		done = s - c->tx_hdr_len;
		if (tx_piece(c, c->tx_data, c->tx_data_len, &done) <= 0)
			return false;
		s = c->tx_sent;
	}
	done = s - c->tx_hdr_len - c->tx_data_len;
	if (tx_piece(c, c->tx_trl, c->tx_trl_len, &done) <= 0)
		return false;
	c->tx_busy = false;
	return true;
}

/* the sequence numbers every target PDU carries */
static void rsp_sns(struct iscsi_tconn *c, struct iscsi_bhs *h, bool status)
{
	h->w[ISCSI_W_STATSN] = status ? c->stat_sn++ : c->stat_sn;
	h->w[ISCSI_W_EXPCMDSN] = c->exp_cmdsn;
	/* the window is the free task slots; it never shrinks, as a
	 * command arriving takes one slot and moves ExpCmdSN by one */
	LB_ASSERT(c->nr_tasks <= TGT_WINDOW);
	h->w[ISCSI_W_MAXCMDSN] = c->exp_cmdsn + (TGT_WINDOW - c->nr_tasks) - 1;
}

static void tx_reject(struct iscsi_tconn *c, uint8_t reason)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_REJECT,
			       .flags = ISCSI_FLAG_FINAL,
			       .b2 = reason,
			       .itt = ISCSI_RSVD_TAG };

	counter_inc(&c->tgt->st.rejects);
	rsp_sns(c, &h, true);
	/* the data is the rejected header, still in hdr[] */
	memcpy(c->tx, c->hdr, ISCSI_BHS_LEN);
	tx_pdu(c, &h, c->tx, ISCSI_BHS_LEN);
}

/* ---- login and text ------------------------------------------------------- */

static void login_fail(struct iscsi_tconn *c, uint8_t cls, uint8_t detail,
		       const char *why)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_LOGIN_RSP,
			       .itt = c->bhs.itt,
			       .lun = c->bhs.lun };

	counter_inc(&c->tgt->st.login_rejects);
	lb_warn(&c->tgt->host->log, "iscsi-target: %u: login refused: %s",
		c->tgt->port, why);
	h.w[ISCSI_W_STATSN] = c->stat_sn;
	h.w[ISCSI_W_EXPCMDSN] = c->exp_cmdsn;
	h.w[ISCSI_W_MAXCMDSN] = c->exp_cmdsn;
	h.w[ISCSI_W_DATASN] = (uint32_t)cls << 24 | (uint32_t)detail << 16;
	tx_pdu(c, &h, NULL, 0);
	c->closing = true;
}

static bool kv_eq(const struct iscsi_kv *kv, const char *s)
{
	return strlen(s) == kv->vlen && !memcmp(kv->val, s, kv->vlen);
}

static bool kv_has(const struct iscsi_kv *kv, const char *item)
{
	size_t n = strlen(item);

	for (uint32_t i = 0; i <= kv->vlen;) {
		uint32_t j = i;

		while (j < kv->vlen && kv->val[j] != ',')
			j++;
		if (j - i == n && !memcmp(kv->val + i, item, n))
			return true;
		i = j + 1;
	}
	return false;
}

static int add(struct iscsi_tconn *c, uint32_t *len, const char *k,
	       const char *v)
{
	return iscsi_text_add(c->tx, TSCSI_BUF, len, k, v);
}

/* CHAP_A=5 agreed: send CHAP_A, CHAP_I and a fresh CHAP_C. */
static int chap_challenge(struct iscsi_tconn *c, uint32_t *len)
{
	char hex[2 * ISCSI_CHAP_CHALLENGE + 3];
	uint64_t r = prng_next(&c->tgt->host->prng);
	int err;

	c->chap_id = (uint8_t)r;
	for (int i = 0; i < ISCSI_CHAP_CHALLENGE; i += 8) {
		r = prng_next(&c->tgt->host->prng);
		memcpy(c->chap_c + i, &r, 8);
	}
	c->auth = AUTH_CHALLENGED;
	err = add(c, len, "CHAP_A", "5");
	if (!err)
		err = iscsi_text_add_num(c->tx, TSCSI_BUF, len, "CHAP_I",
					 c->chap_id);
	iscsi_hex_encode(c->chap_c, sizeof(c->chap_c), hex);
	if (!err)
		err = add(c, len, "CHAP_C", hex);
	return err;
}

/* CHAP_R: MD5(CHAP_I, secret, CHAP_C), sent after the challenge. */
static bool chap_check(struct iscsi_tconn *c, const struct iscsi_kv *kv)
{
	uint8_t want[MD5_DIGEST_LEN], got[MD5_DIGEST_LEN];

	if (c->auth != AUTH_CHALLENGED ||
	    iscsi_hex_decode(kv->val, kv->vlen, got, sizeof(got)) !=
		    (int)sizeof(got))
		return false;
	iscsi_chap_response(c->chap_id, c->tgt->chap_secret, c->chap_c,
			    sizeof(c->chap_c), want);
	return !memcmp(want, got, sizeof(want));
}

static void handle_login(struct iscsi_tconn *c)
{
	struct iscsi_target *tgt = c->tgt;
	struct iscsi_bhs *b = &c->bhs, h = { .op = ISCSI_OP_LOGIN_RSP };
	uint8_t csg = (b->flags >> 2) & 3, nsg = b->flags & 3;
	bool transit = b->flags & ISCSI_LOGIN_TRANSIT;
	bool first = !c->logged_in_name, target_ok = false;
	bool chap = tgt->chap_user[0], chap_n = false, chap_r = false;
	uint32_t pos = 0, len = 0;
	struct iscsi_kv kv;
	int r, err = 0;

	if (c->full_feature) {
		conn_malformed(c, "Login Request in Full Feature Phase");
		return;
	}
	if (b->flags & ISCSI_LOGIN_CONTINUE) {
		login_fail(c, ISCSI_LOGIN_TARGET_ERR,
			   ISCSI_LOGIN_DETAIL_NO_RESOURCES,
			   "continued login text is not supported");
		return;
	}
	if (first) {
		memcpy(c->isid, c->hdr + 8, 6);
		c->exp_cmdsn = b->w[ISCSI_W_CMDSN];
		c->stat_sn = 1;
	}
	if (b->b3 > 0 || csg == 2 || (transit && (nsg == 2 || nsg <= csg))) {
		login_fail(c, ISCSI_LOGIN_INIT_ERR,
			   b->b3 > 0 ? ISCSI_LOGIN_DETAIL_VERSION :
				       ISCSI_LOGIN_DETAIL_INIT_ERROR,
			   "bad version or stage");
		return;
	}
	if (nbd_get16(c->hdr + 14)) {
		login_fail(c, ISCSI_LOGIN_INIT_ERR, 0x0a,
			   "session reinstatement by TSIH is not supported");
		return;
	}
	while ((r = iscsi_text_next(c->rx, b->dlen, &pos, &kv)) == 1) {
		if (iscsi_kv_is(&kv, "InitiatorName")) {
			c->logged_in_name = true;
		} else if (iscsi_kv_is(&kv, "SessionType")) {
			if (kv_eq(&kv, "Discovery"))
				c->discovery = true;
			else if (!kv_eq(&kv, "Normal"))
				err = -EINVAL;
		} else if (iscsi_kv_is(&kv, "TargetName")) {
			if (!kv_eq(&kv, tgt->iqn)) {
				login_fail(c, ISCSI_LOGIN_INIT_ERR,
					   ISCSI_LOGIN_DETAIL_NOT_FOUND,
					   "no such target");
				return;
			}
			target_ok = true;
		} else if (iscsi_kv_is(&kv, "AuthMethod")) {
			const char *m = chap ? "CHAP" : "None";

			if ((chap && csg != ISCSI_STAGE_SECURITY) ||
			    !kv_has(&kv, m)) {
				login_fail(
					c, ISCSI_LOGIN_INIT_ERR,
					ISCSI_LOGIN_DETAIL_AUTH,
					chap ? "CHAP is required" :
					       "only AuthMethod=None is offered");
				return;
			}
			if (chap && c->auth == AUTH_NONE)
				c->auth = AUTH_CHAP;
			err = add(c, &len, "AuthMethod", m);
		} else if (chap && iscsi_kv_is(&kv, "CHAP_A")) {
			if (c->auth != AUTH_CHAP || !kv_has(&kv, "5")) {
				login_fail(c, ISCSI_LOGIN_INIT_ERR,
					   ISCSI_LOGIN_DETAIL_AUTH,
					   "CHAP_A without MD5 (5)");
				return;
			}
			err = chap_challenge(c, &len);
		} else if (chap && iscsi_kv_is(&kv, "CHAP_N")) {
			chap_n = kv_eq(&kv, tgt->chap_user);
		} else if (chap && iscsi_kv_is(&kv, "CHAP_R")) {
			chap_r = chap_check(c, &kv);
		} else if (iscsi_kv_is(&kv, "InitiatorAlias") ||
			   iscsi_kv_is(&kv, "TargetAlias")) {
			continue;
		} else {
			enum iscsi_neg_result nr = iscsi_neg_respond(
				&c->p, &kv, c->tx, TSCSI_BUF, &len);
			char key[64];

			if (nr == ISCSI_NEG_BAD) {
				login_fail(c, ISCSI_LOGIN_INIT_ERR,
					   ISCSI_LOGIN_DETAIL_INIT_ERROR,
					   "an illegal key value");
				return;
			}
			if (nr == ISCSI_NEG_UNKNOWN) {
				snprintf(key, sizeof(key), "%.*s",
					 (int)(kv.klen < 63 ? kv.klen : 63),
					 kv.key);
				err = add(c, &len, key, "NotUnderstood");
			}
		}
		if (err)
			break;
	}
	if (r < 0 || err) {
		login_fail(c, ISCSI_LOGIN_INIT_ERR,
			   ISCSI_LOGIN_DETAIL_INIT_ERROR,
			   "malformed login text");
		return;
	}
	if (first && (!c->logged_in_name || (!c->discovery && !target_ok))) {
		login_fail(c, ISCSI_LOGIN_INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING,
			   "InitiatorName or TargetName missing");
		return;
	}
	if (chap && c->auth == AUTH_CHALLENGED && (chap_n || chap_r)) {
		if (!chap_n || !chap_r) {
			counter_inc(&tgt->st.auth_failures);
			login_fail(c, ISCSI_LOGIN_INIT_ERR,
				   ISCSI_LOGIN_DETAIL_AUTH,
				   "CHAP: wrong user name or response");
			return;
		}
		c->auth = AUTH_DONE;
	}
	if (chap && c->auth != AUTH_DONE) {
		/* nothing past the security stage before the proof */
		if (csg != ISCSI_STAGE_SECURITY) {
			counter_inc(&tgt->st.auth_failures);
			login_fail(c, ISCSI_LOGIN_INIT_ERR,
				   ISCSI_LOGIN_DETAIL_AUTH, "CHAP is required");
			return;
		}
		transit = false;
	}
	if (first && !c->discovery)
		err = iscsi_text_add_num(c->tx, TSCSI_BUF, &len,
					 "TargetPortalGroupTag", TGT_TPGT);
	/* ours is declared once, by the time Full Feature Phase starts */
	if (!err && !c->declared &&
	    (csg == ISCSI_STAGE_OPERATIONAL || (transit && nsg == 3))) {
		c->declared = true;
		err = iscsi_text_add_num(c->tx, TSCSI_BUF, &len,
					 "MaxRecvDataSegmentLength",
					 c->p.max_recv_dsl);
	}
	if (err) {
		login_fail(c, ISCSI_LOGIN_TARGET_ERR,
			   ISCSI_LOGIN_DETAIL_NO_RESOURCES,
			   "login reply too long");
		return;
	}
	if (transit && nsg == ISCSI_STAGE_FULL) {
		if (c->p.first_burst > c->p.max_burst) {
			login_fail(c, ISCSI_LOGIN_INIT_ERR,
				   ISCSI_LOGIN_DETAIL_INIT_ERROR,
				   "FirstBurstLength above MaxBurstLength");
			return;
		}
		if (!++tgt->next_tsih)
			tgt->next_tsih = 1;
		c->tsih = tgt->next_tsih;
		counter_inc(c->discovery ? &tgt->st.discoveries :
					   &tgt->st.logins);
	}
	h.flags = transit ? (uint8_t)(ISCSI_LOGIN_TRANSIT | csg << 2 | nsg) :
			    (uint8_t)(csg << 2);
	h.lun = b->lun & ~0xffffull; /* ISID echoed */
	h.lun |= c->tsih;
	h.itt = b->itt;
	rsp_sns(c, &h, true);
	tx_pdu(c, &h, c->tx, len);
	if (transit && nsg == ISCSI_STAGE_FULL) {
		c->full_feature = true;
		c->digests_on = true;
	}
}

static void handle_text(struct iscsi_tconn *c)
{
	struct iscsi_target *tgt = c->tgt;
	struct iscsi_bhs *b = &c->bhs, h = { .op = ISCSI_OP_TEXT_RSP };
	uint32_t pos = 0, len = 0;
	struct iscsi_kv kv;
	char addr[16], portal[40];
	int r, err = 0;

	if (!b->immediate) {
		if (b->w[ISCSI_W_CMDSN] != c->exp_cmdsn) {
			conn_malformed(c, "Text Request outside the window");
			return;
		}
		c->exp_cmdsn++;
	}
	if (b->flags & ISCSI_TEXT_CONTINUE) {
		tx_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		return;
	}
	while ((r = iscsi_text_next(c->rx, b->dlen, &pos, &kv)) == 1 && !err) {
		if (iscsi_kv_is(&kv, "SendTargets")) {
			/* All, or our own name; this portal only */
			if (!kv_eq(&kv, "All") && !kv_eq(&kv, tgt->iqn) &&
			    kv.vlen)
				continue;
			ip_str(c->tp->sk.local.ip, addr);
			snprintf(portal, sizeof(portal), "%s:%u,%u", addr,
				 tgt->port, TGT_TPGT);
			err = add(c, &len, "TargetName", tgt->iqn);
			if (!err)
				err = add(c, &len, "TargetAddress", portal);
		} else {
			char key[64];

			snprintf(key, sizeof(key), "%.*s",
				 (int)(kv.klen < 63 ? kv.klen : 63), kv.key);
			err = add(c, &len, key, "NotUnderstood");
		}
	}
	if (r < 0 || err || len > c->p.max_xmit_dsl) {
		tx_reject(c, ISCSI_REJECT_INVALID_FIELD);
		return;
	}
	h.flags = ISCSI_FLAG_FINAL;
	h.itt = b->itt;
	h.lun = b->lun;
	h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
	rsp_sns(c, &h, true);
	tx_pdu(c, &h, c->tx, len);
}

/* ---- tasks ---------------------------------------------------------------- */

static unsigned task_index(struct iscsi_tconn *c, struct tgt_task *k)
{
	return (unsigned)(k - c->tasks);
}

static struct tgt_task *task_get(struct iscsi_tconn *c)
{
	for (unsigned i = 0; i < TGT_WINDOW; i++) {
		if (!(c->busy_mask & (1u << i))) {
			struct tgt_task *k = &c->tasks[i];

			memset(k, 0, sizeof(*k));
			c->busy_mask |= 1u << i;
			c->nr_tasks++;
			return k;
		}
	}
	return NULL;
}

/* the task is over: its slot (and the hold page, if it had it) are free */
static void task_put(struct iscsi_tconn *c, struct tgt_task *k)
{
	unsigned i = task_index(c, k);

	LB_ASSERT(c->busy_mask & (1u << i));
	LB_ASSERT(c->nr_tasks > 0);
	if (k->held) {
		LB_ASSERT(c->hold_busy);
		c->hold_busy = false;
	}
	k->state = TASK_NONE;
	c->busy_mask &= ~(1u << i);
	c->nr_tasks--;
}

static struct tgt_task *task_by_itt(struct iscsi_tconn *c, uint32_t itt)
{
	for (unsigned i = 0; i < TGT_WINDOW; i++)
		if ((c->busy_mask & (1u << i)) && c->tasks[i].itt == itt)
			return &c->tasks[i];
	return NULL;
}

static void task_status(struct iscsi_tconn *c, struct tgt_task *k)
{
	struct tscsi_task *t = &k->t;
	struct iscsi_bhs h = { .op = ISCSI_OP_SCSI_RSP,
			       .flags = ISCSI_FLAG_FINAL,
			       .itt = k->itt };
	uint32_t len = 0, moved = t->xfer;

	h.b3 = t->status;
	if (t->status == SCSI_CHECK_CONDITION) {
		counter_inc(&c->tgt->st.check_conditions);
		nbd_put16(c->tx, 18);
		len = 2 + scsi_sense_build(c->tx + 2, t->sense_key, t->asc);
		moved = 0;
	}
	if (t->status == SCSI_TASK_SET_FULL)
		moved = 0;
	/* a residual is how the EDTL compares with what the CDB moved */
	if (t->status == SCSI_GOOD && moved != k->edtl) {
		h.flags |= moved < k->edtl ? ISCSI_FLAG_UNDER : ISCSI_FLAG_OVER;
		h.w[ISCSI_W_RESIDUAL] = moved < k->edtl ? k->edtl - moved :
							  moved - k->edtl;
	}
	/* ExpDataSN: the R2Ts of a write, the Data-In PDUs of a read */
	h.w[ISCSI_W_DATASN] = k->r2tsn ? k->r2tsn : k->datasn;
	task_put(c, k);
	rsp_sns(c, &h, true);
	tx_pdu(c, &h, c->tx, len);
}

/* the next Data-In PDU; the last carries GOOD status */
static void task_data_in(struct iscsi_tconn *c, struct tgt_task *k)
{
	struct iscsi_target *tgt = c->tgt;
	struct tscsi_task *t = &k->t;
	uint32_t total = t->xfer < k->edtl ? t->xfer : k->edtl;
	uint32_t n = total - k->sent, cap = c->p.max_xmit_dsl;
	struct iscsi_bhs h = { .op = ISCSI_OP_DATA_IN, .itt = k->itt };
	const uint8_t *data;

	if (cap > TSCSI_BUF)
		cap = TSCSI_BUF;
	if (n > cap)
		n = cap;
	if (t->kind == TSCSI_READ) {
		if (store_read(tgt->lu.store, t->off + k->sent, c->tx, n)) {
			/* before any data went out this is a clean error */
			if (!k->sent) {
				tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
					    SCSI_ASC_UNRECOVERED_READ);
				task_status(c, k);
				return;
			}
			conn_malformed(c, "store read failed mid-transfer");
			return;
		}
		counter_add(&tgt->st.bytes_read, n);
		data = c->tx;
	} else {
		/* TSCSI_DONE data waits in the hold page from offset 0 */
		LB_ASSERT(k->held);
		data = c->hold + k->sent;
	}
	h.lun = iscsi_lun_encode(tgt->lu.lun);
	h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
	h.w[ISCSI_W_DATASN] = k->datasn++;
	h.w[ISCSI_W_OFFSET] = k->sent;
	counter_inc(&tgt->st.data_in_pdus);
	k->sent += n;
	if (k->sent == total) {
		h.flags = ISCSI_FLAG_FINAL | ISCSI_DATA_STATUS;
		h.b3 = SCSI_GOOD;
		if (t->xfer != k->edtl) {
			h.flags |= t->xfer < k->edtl ? ISCSI_FLAG_UNDER :
						       ISCSI_FLAG_OVER;
			h.w[ISCSI_W_RESIDUAL] = t->xfer < k->edtl ?
							k->edtl - t->xfer :
							t->xfer - k->edtl;
		}
		/* the hold page stays put until this PDU is sent: nothing
		 * is read (so nothing prepared) before tx_flush is done */
		task_put(c, k);
		rsp_sns(c, &h, true);
	} else {
		rsp_sns(c, &h, false);
	}
	tx_pdu(c, &h, data, n);
}

static void task_r2t(struct iscsi_tconn *c, struct tgt_task *k)
{
	uint32_t want = k->edtl - k->got;
	struct iscsi_bhs h = { .op = ISCSI_OP_R2T,
			       .flags = ISCSI_FLAG_FINAL,
			       .itt = k->itt };

	if (want > c->p.max_burst)
		want = c->p.max_burst;
	k->ttt = ++c->next_ttt == ISCSI_RSVD_TAG ? ++c->next_ttt : c->next_ttt;
	k->burst_end = k->got + want;
	k->datasn = 0;
	h.lun = iscsi_lun_encode(c->tgt->lu.lun);
	h.w[ISCSI_W_TTT] = k->ttt;
	h.w[ISCSI_W_DATASN] = k->r2tsn++;
	h.w[ISCSI_W_OFFSET] = k->got;
	h.w[ISCSI_W_DDTL] = want;
	rsp_sns(c, &h, false);
	counter_inc(&c->tgt->st.r2ts);
	tx_pdu(c, &h, NULL, 0);
	k->state = TASK_DATA_OUT;
}

/* every solicited byte is in: finish and answer */
static void task_data_done(struct iscsi_tconn *c, struct tgt_task *k)
{
	struct iscsi_target *tgt = c->tgt;

	if (k->t.kind == TSCSI_WRITE && k->t.status == SCSI_GOOD)
		counter_add(&tgt->st.bytes_written,
			    k->t.xfer < k->edtl ? k->t.xfer : k->edtl);
	tscsi_finish(&tgt->lu, &k->t, k->held ? c->hold : c->tx);
	k->state = TASK_STATUS;
}

/*
 * Commands whose data streams straight between the PDUs and the store
 * (or that move none) need no buffer of their own; the rest (INQUIRY,
 * MODE SENSE, UNMAP, WRITE SAME...) keep their data in the one hold page.
 */
static bool cdb_streams(uint8_t op)
{
	switch (op) {
	case SCSI_TEST_UNIT_READY:
	case SCSI_READ_10:
	case SCSI_READ_12:
	case SCSI_READ_16:
	case SCSI_WRITE_10:
	case SCSI_WRITE_12:
	case SCSI_WRITE_16:
	case SCSI_VERIFY_10:
	case SCSI_VERIFY_12:
	case SCSI_VERIFY_16:
	case SCSI_SYNC_CACHE_10:
	case SCSI_SYNC_CACHE_16:
		return true;
	default:
		return false;
	}
}

static void handle_scsi_cmd(struct iscsi_tconn *c)
{
	struct iscsi_target *tgt = c->tgt;
	struct iscsi_bhs *b = &c->bhs;
	struct tgt_task *k;
	struct tscsi_task *t;
	int lun = iscsi_lun_decode(b->lun);
	bool want_out, streams = cdb_streams(b->cdb[0]);
	uint8_t *buf;

	if (c->discovery) {
		conn_malformed(c, "SCSI command in a discovery session");
		return;
	}
	if (b->immediate || b->w[ISCSI_W_CMDSN] != c->exp_cmdsn) {
		conn_malformed(c, "SCSI command out of CmdSN order");
		return;
	}
	if (task_by_itt(c, b->itt)) {
		conn_malformed(c, "SCSI command reuses a task's ITT");
		return;
	}
	/* MaxCmdSN only ever offered free slots: none left is a violation */
	k = task_get(c);
	if (!k) {
		conn_malformed(c, "SCSI command beyond MaxCmdSN");
		return;
	}
	t = &k->t;
	if (c->nr_tasks > 1)
		counter_inc(&tgt->st.tasks_overlapped);
	if (!(b->flags & ISCSI_FLAG_FINAL)) {
		/* InitialR2T=Yes always: unsolicited Data-Out is illegal */
		conn_malformed(c, "unsolicited Data-Out announced");
		return;
	}
	c->exp_cmdsn++;
	counter_inc(&tgt->st.commands);
	k->itt = b->itt;
	k->edtl = b->w[ISCSI_W_EDTL];
	memcpy(t->cdb, b->cdb, 16);
	if (!streams && c->hold_busy) {
		/* another buffered command holds the page: retry later */
		t->status = SCSI_TASK_SET_FULL;
		counter_inc(&tgt->st.task_set_full);
		k->state = TASK_STATUS;
		return;
	}
	if (!streams) {
		k->held = true;
		c->hold_busy = true;
	}
	/* a streaming command writes nothing to buf; tx is idle here */
	buf = k->held ? c->hold : c->tx;
	tscsi_prepare(lun == (int)tgt->lu.lun ? &tgt->lu : NULL, t, buf);
	want_out = t->kind == TSCSI_WRITE || t->kind == TSCSI_VERIFY ||
		   t->kind == TSCSI_PARAM;
	if (b->dlen) {
		/* immediate data: only for a write, within FirstBurstLength */
		if (!(b->flags & ISCSI_CMD_WRITE) || !c->p.immediate_data ||
		    b->dlen > c->p.first_burst || b->dlen > k->edtl) {
			conn_malformed(c, "bad immediate data");
			return;
		}
		if (want_out)
			tscsi_data_out(&tgt->lu, t, 0, c->rx, b->dlen, buf,
				       c->tx);
		k->got = b->dlen;
	}
	if (want_out && t->status == SCSI_GOOD) {
		uint32_t need = t->xfer < k->edtl ? t->xfer : k->edtl;

		if (!(b->flags & ISCSI_CMD_WRITE) && need) {
			tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
				    SCSI_ASC_INVALID_FIELD_IN_CDB);
			k->state = TASK_STATUS;
			return;
		}
		/* solicit the whole EDTL so the initiator's view is done */
		if (k->got < k->edtl)
			k->state = TASK_R2T;
		else
			task_data_done(c, k);
		return;
	}
	if (t->status == SCSI_GOOD && (t->kind == TSCSI_READ || t->in_len) &&
	    t->xfer && k->edtl && (b->flags & ISCSI_CMD_READ)) {
		k->state = TASK_DATA_IN;
		return;
	}
	k->state = TASK_STATUS;
}

static void handle_data_out(struct iscsi_tconn *c)
{
	struct iscsi_bhs *b = &c->bhs;
	uint32_t off = b->w[ISCSI_W_OFFSET];
	struct tgt_task *k = task_by_itt(c, b->itt);

	counter_inc(&c->tgt->st.data_out_pdus);
	if (!k || k->state != TASK_DATA_OUT || b->w[ISCSI_W_TTT] != k->ttt) {
		conn_malformed(c, "Data-Out for no outstanding R2T");
		return;
	}
	if (b->w[ISCSI_W_DATASN] != k->datasn || off != k->got ||
	    b->dlen > k->burst_end - k->got) {
		conn_malformed(c, "Data-Out out of order or beyond the R2T");
		return;
	}
	k->datasn++;
	tscsi_data_out(&c->tgt->lu, &k->t, off, c->rx, b->dlen,
		       k->held ? c->hold : c->tx, c->tx);
	k->got += b->dlen;
	if (b->flags & ISCSI_FLAG_FINAL) {
		if (k->got != k->burst_end) {
			conn_malformed(c, "Data-Out burst ended short");
			return;
		}
		if (k->got == k->edtl)
			task_data_done(c, k);
		else
			k->state = TASK_R2T;
	}
}

static void handle_nop_out(struct iscsi_tconn *c)
{
	struct iscsi_bhs *b = &c->bhs, h = { .op = ISCSI_OP_NOP_IN };
	uint32_t len;

	counter_inc(&c->tgt->st.nops);
	if (b->itt == ISCSI_RSVD_TAG)
		return; /* an answer to a ping of ours (we send none) */
	if (!b->immediate) {
		if (b->w[ISCSI_W_CMDSN] != c->exp_cmdsn) {
			conn_malformed(c, "NOP-Out outside the window");
			return;
		}
		c->exp_cmdsn++;
	}
	h.flags = ISCSI_FLAG_FINAL;
	h.itt = b->itt;
	h.lun = b->lun;
	h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
	rsp_sns(c, &h, true);
	/* the ping data comes back, as much as the initiator takes */
	len = b->dlen < c->p.max_xmit_dsl ? b->dlen : c->p.max_xmit_dsl;
	memcpy(c->tx, c->rx, len);
	tx_pdu(c, &h, c->tx, len);
}

static void handle_tmf(struct iscsi_tconn *c)
{
	struct iscsi_bhs *b = &c->bhs, h = { .op = ISCSI_OP_TMF_RSP };
	uint8_t fn = b->flags & 0x7f;
	struct tgt_task *k;

	counter_inc(&c->tgt->st.tmfs);
	if (!b->immediate) {
		if (b->w[ISCSI_W_CMDSN] != c->exp_cmdsn) {
			conn_malformed(c, "TMF outside the window");
			return;
		}
		c->exp_cmdsn++;
	}
	h.flags = ISCSI_FLAG_FINAL;
	h.itt = b->itt;
	switch (fn) {
	case 1: /* ABORT TASK: the task is ours while it is in a slot */
		k = task_by_itt(c, b->w[ISCSI_W_TTT]);
		if (k) {
			task_put(c, k);
			h.b2 = 0;
		} else {
			h.b2 = 1; /* task does not exist */
		}
		break;
	case 2: /* ABORT TASK SET, CLEAR TASK SET, LU and target resets */
	case 3:
	case 5:
	case 6:
		for (unsigned i = 0; i < TGT_WINDOW; i++)
			if (c->busy_mask & (1u << i))
				task_put(c, &c->tasks[i]);
		h.b2 = 0;
		break;
	default:
		h.b2 = 5; /* function not supported */
		break;
	}
	rsp_sns(c, &h, true);
	tx_pdu(c, &h, NULL, 0);
}

static void handle_logout(struct iscsi_tconn *c)
{
	struct iscsi_bhs *b = &c->bhs, h = { .op = ISCSI_OP_LOGOUT_RSP };

	counter_inc(&c->tgt->st.logouts);
	if (!b->immediate) {
		if (b->w[ISCSI_W_CMDSN] != c->exp_cmdsn) {
			conn_malformed(c, "Logout outside the window");
			return;
		}
		c->exp_cmdsn++;
	}
	h.flags = ISCSI_FLAG_FINAL;
	h.itt = b->itt;
	rsp_sns(c, &h, true);
	tx_pdu(c, &h, NULL, 0);
	c->closing = true;
}

static void handle_pdu(struct iscsi_tconn *c)
{
	struct iscsi_bhs *b = &c->bhs;

	if (!c->full_feature && b->op != ISCSI_OP_LOGIN_REQ) {
		conn_malformed(c, "a PDU before login");
		return;
	}
	switch (b->op) {
	case ISCSI_OP_LOGIN_REQ:
		handle_login(c);
		return;
	case ISCSI_OP_TEXT_REQ:
		handle_text(c);
		return;
	case ISCSI_OP_SCSI_CMD:
		handle_scsi_cmd(c);
		return;
	case ISCSI_OP_DATA_OUT:
		handle_data_out(c);
		return;
	case ISCSI_OP_NOP_OUT:
		handle_nop_out(c);
		return;
	case ISCSI_OP_TMF_REQ:
		handle_tmf(c);
		return;
	case ISCSI_OP_LOGOUT_REQ:
		handle_logout(c);
		return;
	default: /* SNACK at ERL 0, and opcodes we do not know */
		tx_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		return;
	}
}

/* ---- receiving ------------------------------------------------------------ */

/* 1 a whole PDU is in, 0 more needed, -1 the connection is gone */
static int rx_pdu(struct iscsi_tconn *c)
{
	bool hd = c->digests_on && c->p.header_digest;
	bool dd = c->digests_on && c->p.data_digest;
	uint32_t hlen = ISCSI_BHS_LEN + (hd ? ISCSI_DIGEST_LEN : 0);
	uint32_t dlen, plen;
	ssize_t n;

	while (!c->in_data) {
		n = tcp_recv(c->tp, c->hdr + c->have, hlen - c->have);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			conn_kill(c, n < 0);
			return -1;
		}
		c->have += (uint32_t)n;
		if (c->have < hlen)
			continue;
		if (hd && iscsi_digest_get(c->hdr + ISCSI_BHS_LEN) !=
				  iscsi_crc32c(0, c->hdr, ISCSI_BHS_LEN)) {
			counter_inc(&c->tgt->st.digest_errors);
			conn_malformed(c, "header digest mismatch");
			return -1;
		}
		if (iscsi_bhs_decode(c->hdr, false, &c->bhs)) {
			conn_malformed(c, "malformed PDU header");
			return -1;
		}
		if (c->bhs.ahs_words) {
			conn_malformed(c, "additional header segments");
			return -1;
		}
		if (c->bhs.dlen > TGT_MRDSL) {
			conn_malformed(c, "data segment over our limit");
			return -1;
		}
		c->in_data = true;
		c->have = 0;
	}
	dlen = c->bhs.dlen;
	plen = iscsi_pad4(dlen);
	if (!dlen)
		dd = false;
	while (c->have < plen + (dd ? ISCSI_DIGEST_LEN : 0)) {
		uint8_t *dst = c->have < plen ? c->rx + c->have :
						c->ddig + (c->have - plen);
		uint32_t want = c->have < plen ?
					plen - c->have :
					plen + ISCSI_DIGEST_LEN - c->have;

		n = tcp_recv(c->tp, dst, want);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			conn_kill(c, n < 0);
			return -1;
		}
		c->have += (uint32_t)n;
	}
	if (dd && iscsi_digest_get(c->ddig) != iscsi_crc32c(0, c->rx, plen)) {
		/* ERL 0 knows no recovery: drop, as for a header */
		counter_inc(&c->tgt->st.digest_errors);
		conn_malformed(c, "data digest mismatch");
		return -1;
	}
	c->in_data = false;
	c->have = 0;
	return 1;
}

static bool tgt_stalled(struct iscsi_target *tgt)
{
	if (host_now(tgt->host) >= tgt->stall_until)
		return false;
	if (!timer_armed(&tgt->stall_timer))
		timer_arm(tgt->host->loop, &tgt->stall_timer, tgt->stall_until);
	return true;
}

/* queue the next PDU some task has to send, round robin: false if none */
static bool conn_send_one(struct iscsi_tconn *c)
{
	for (unsigned n = 0; n < TGT_WINDOW && c->busy_mask; n++) {
		unsigned i = (c->next_run + n) % TGT_WINDOW;
		struct tgt_task *k = &c->tasks[i];

		if (!(c->busy_mask & (1u << i)))
			continue;
		c->next_run = (i + 1) % TGT_WINDOW;
		switch (k->state) {
		case TASK_DATA_IN:
			task_data_in(c, k);
			return true;
		case TASK_R2T:
			task_r2t(c, k);
			return true;
		case TASK_STATUS:
			task_status(c, k);
			return true;
		case TASK_NONE:
		case TASK_DATA_OUT:
			break;
		}
	}
	return false;
}

static void conn_run(struct iscsi_tconn *c)
{
	while (!c->dead) {
		if (!tx_flush(c))
			return;
		if (c->closing) {
			conn_kill(c, false);
			return;
		}
		if (tgt_stalled(c->tgt))
			return;
		if (conn_send_one(c))
			continue;
		if (rx_pdu(c) <= 0)
			return;
		handle_pdu(c);
	}
}

/* ---- sockets -------------------------------------------------------------- */

static void conn_readable(struct sock *sk)
{
	struct iscsi_tconn *c = sk->user;

	if (c && !c->dead)
		conn_run(c);
}

static void conn_error(struct sock *sk, int err)
{
	struct iscsi_tconn *c = sk->user;

	(void)err;
	if (c)
		conn_kill(c, false);
}

static const struct sock_ops conn_ops = {
	.readable = conn_readable,
	.writable = conn_readable,
	.error = conn_error,
};

static void tgt_accept(struct task *task)
{
	struct iscsi_target *tgt =
		container_of(task, struct iscsi_target, accept_task);
	struct tcp_sock *tp;

	while ((tp = tcp_accept(tgt->listener))) {
		struct iscsi_tconn *c = NULL;
		struct page *pg[4] = { NULL };
		unsigned np = 0;

		if (tgt->nr_conns < tgt->max_clients) {
			c = mm_kmalloc(tgt->mm, sizeof(*c), MM_ATOMIC | MM_ZERO,
				       NULL);
			/* rx, tx, the task slots and the hold page */
			while (c && np < 4 &&
			       (pg[np] = mm_page_alloc(tgt->mm, MM_ATOMIC,
						       NULL)))
				np++;
		}
		if (np < 4) {
			while (np)
				mm_page_put(tgt->mm, pg[--np]);
			if (c)
				mm_kfree(tgt->mm, c);
			counter_inc(&tgt->st.refused);
			lb_warn(&tgt->host->log,
				"iscsi-target: %u: refusing a connection (%u connected, limit %u, or no memory)",
				tgt->port, tgt->nr_conns, tgt->max_clients);
			tp->sk.ops = NULL;
			tcp_abort(tp);
			continue;
		}
		c->tgt = tgt;
		c->tp = tp;
		c->rx_page = pg[0];
		c->tx_page = pg[1];
		c->task_page = pg[2];
		c->hold_page = pg[3];
		c->rx = page_address(tgt->mm, pg[0]);
		c->tx = page_address(tgt->mm, pg[1]);
		c->tasks = page_address(tgt->mm, pg[2]);
		c->hold = page_address(tgt->mm, pg[3]);
		iscsi_params_default(&c->p);
		c->p.max_recv_dsl = TGT_MRDSL;
		list_add_tail(&c->node, &tgt->conns);
		tgt->nr_conns++;
		counter_inc(&tgt->st.connections);
		tp->sk.ops = &conn_ops;
		tp->sk.user = c;
		tcp_set_nodelay(tp, true);
		conn_run(c);
	}
}

static void tgt_listen_readable(struct sock *sk)
{
	struct iscsi_target *tgt = sk->user;

	task_queue(tgt->host->loop, &tgt->accept_task);
}

static const struct sock_ops tgt_listen_ops = { .readable =
							tgt_listen_readable };

static void tgt_unstall(struct timer *t)
{
	struct iscsi_target *tgt =
		container_of(t, struct iscsi_target, stall_timer);
	struct iscsi_tconn *c, *tmp;

	list_for_each_entry_safe(c, tmp, &tgt->conns, node)
		conn_run(c);
}

void iscsi_target_set_stall(struct iscsi_target *tgt, uint64_t until_ns)
{
	uint64_t now = host_now(tgt->host);

	tgt->stall_until = until_ns;
	timer_cancel(tgt->host->loop, &tgt->stall_timer);
	if (until_ns > now)
		counter_inc(&tgt->st.stalls);
	/* ending a stall early also resumes what it held */
	timer_arm(tgt->host->loop, &tgt->stall_timer,
		  until_ns > now ? until_ns : now);
}

static void tgt_stats(struct iscsi_target *tgt, bool add)
{
	struct stats *s = &tgt->host->stats;
	struct counter *v = (struct counter *)&tgt->st;

	for (size_t i = 0; i < ARRAY_SIZE(tgt_stat_names); i++) {
		if (add)
			stats_add_counter(s, &v[i], "iscsi.target.%u.%s",
					  tgt->port, tgt_stat_names[i]);
		else
			stats_remove(s, &v[i]);
	}
}

struct iscsi_target *iscsi_target_create(struct net *net,
					 const struct iscsi_target_config *cfg)
{
	const char *iqn = cfg->iqn ? cfg->iqn : ISCSI_DEFAULT_IQN;
	struct iscsi_target *tgt;
	int err;

	if (!cfg->store || !*iqn || strlen(iqn) > ISCSI_NAME_MAX ||
	    cfg->lun > 255 || cfg->store->size < TSCSI_BLOCK)
		return NULL;
	/* a CHAP user needs a secret; neither may be longer than we keep */
	if (cfg->chap_user && *cfg->chap_user &&
	    (strlen(cfg->chap_user) > ISCSI_CHAP_MAX || !cfg->chap_secret ||
	     !*cfg->chap_secret || strlen(cfg->chap_secret) > ISCSI_CHAP_MAX))
		return NULL;
	tgt = mm_kmalloc(net->mm, sizeof(*tgt), MM_NORMAL | MM_ZERO, NULL);
	if (!tgt)
		return NULL;
	tgt->net = net;
	tgt->host = net->host;
	tgt->mm = net->mm;
	snprintf(tgt->iqn, sizeof(tgt->iqn), "%s", iqn);
	if (cfg->chap_user && *cfg->chap_user) {
		snprintf(tgt->chap_user, sizeof(tgt->chap_user), "%s",
			 cfg->chap_user);
		snprintf(tgt->chap_secret, sizeof(tgt->chap_secret), "%s",
			 cfg->chap_secret);
	}
	tgt->lu = (struct tscsi_lu){ .store = cfg->store,
				     .lun = cfg->lun,
				     .read_only = cfg->read_only,
				     .iqn = tgt->iqn,
				     .max_unmap = cfg->max_unmap ?
							  cfg->max_unmap :
							  TSCSI_MAX_UNMAP,
				     .thick = cfg->thick,
				     .no_dpofua = cfg->no_dpofua };
	tgt->ip = cfg->ip;
	tgt->port = cfg->port ? cfg->port : ISCSI_DEFAULT_PORT;
	tgt->max_clients = cfg->max_clients ? cfg->max_clients :
					      TGT_DEFAULT_CLIENTS;
	list_init(&tgt->conns);
	list_init(&tgt->reap);
	timer_init(&tgt->stall_timer, tgt_unstall);
	task_init(&tgt->reap_task, tgt_reap);
	task_init(&tgt->accept_task, tgt_accept);
	tgt->listener = tcp_socket(net, &tgt_listen_ops, tgt);
	if (!tgt->listener) {
		mm_kfree(net->mm, tgt);
		return NULL;
	}
	err = tcp_bind(tgt->listener, htonl(cfg->ip), tgt->port);
	if (!err)
		err = tcp_listen(tgt->listener, tgt->max_clients);
	if (err) {
		lb_err(&net->host->log, "iscsi-target: cannot listen on %u: %s",
		       tgt->port, strerror(-err));
		tcp_close(tgt->listener);
		mm_kfree(net->mm, tgt);
		return NULL;
	}
	tgt_stats(tgt, true);
	lb_info(&net->host->log,
		"iscsi-target: serving %s LUN %u (%llu bytes%s) on port %u",
		tgt->iqn, cfg->lun, (unsigned long long)cfg->store->size,
		cfg->read_only ? ", read-only" : "", tgt->port);
	return tgt;
}

void iscsi_target_destroy(struct iscsi_target *tgt)
{
	struct loop *l = tgt->host->loop;

	timer_cancel(l, &tgt->stall_timer);
	task_cancel(l, &tgt->reap_task);
	task_cancel(l, &tgt->accept_task);
	tcp_close(tgt->listener);
	while (!list_empty(&tgt->conns)) {
		struct iscsi_tconn *c =
			list_first_entry(&tgt->conns, struct iscsi_tconn, node);

		c->abort = true;
		conn_free(c);
	}
	while (!list_empty(&tgt->reap))
		conn_free(
			list_first_entry(&tgt->reap, struct iscsi_tconn, node));
	tgt_stats(tgt, false);
	mm_kfree(tgt->mm, tgt);
}
