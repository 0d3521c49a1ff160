/* SPDX-License-Identifier: MIT */
/*
 * iscsi_client_impl.h - the iSCSI initiator's state, shared by
 * iscsi_client.c (lifetime, connection, reconnection, sending) and
 * iscsi_client_rx.c (login and the PDU parser).
 *
 * Memory.  The client lives in one arena page, and one more page receives
 * the data segments that are not read data (login text, sense, reject);
 * both are taken at creation.  Per request it keeps a struct iscsi_rq in
 * the block request's pdu, from the device's request mempool (min_nr =
 * queue depth): ITT, CmdSN, how far the command and its data went, and
 * the task's one R2T (MaxOutstandingR2T is 1), so R2T state needs no
 * allocation however many tasks have one.  Only one PDU is being handed to
 * TCP at a time; its header is built in the client and copied into the
 * socket's send queue (net.tx.<id>), write data is queued by page
 * reference, read data (Data-In) is received straight into the bio's
 * pages.  A reconnect needs a tcp_sock (charged to block.<dev> when normal
 * memory is gone) and the socket reserves, whose pages block.<dev> holds
 * while there is no connection, exactly as the NBD client does.
 */
#ifndef LB_BLOCK_ISCSI_CLIENT_IMPL_H
#define LB_BLOCK_ISCSI_CLIENT_IMPL_H

#include "iscsi_chap.h"
#include "iscsi_client.h"
#include "iscsi_proto.h"
#include "net/tcp.h"

// clang-format off
#define ISCSI_CLIENT_STATS(X) \
	X(connects) \
	X(disconnects) \
	X(reconnects) \
	X(connect_failures) \
	X(login_failures) \
	X(proto_errors) \
	X(digest_errors) \
	X(bad_itts) \
	X(commands_sent) \
	X(data_out_pdus) \
	X(data_in_pdus) \
	X(r2ts) \
	X(responses) \
	X(check_conditions) \
	X(unit_attentions) \
	X(retries) \
	X(resent) \
	X(nop_out) \
	X(nop_in) \
	X(timeouts) \
	X(window_stalls) \
	X(task_set_full) \
	X(busy) \
	X(busy_giveups) \
	X(unmaps) \
	X(write_sames) \
	X(failed_dead)
// clang-format on

#define ISCSI_STAT_FIELD(name) struct counter name;
struct iscsi_client_stats {
	ISCSI_CLIENT_STATS(ISCSI_STAT_FIELD)
};
#undef ISCSI_STAT_FIELD

enum iscsi_cstate {
	ISCSI_C_CONNECTING, /* SYN sent */
	ISCSI_C_LOGIN, /* Login Request sent, waiting for the response */
	ISCSI_C_SETUP, /* logged in: TEST UNIT READY, READ CAPACITY */
	ISCSI_C_READY, /* Full Feature Phase, bios flow */
	ISCSI_C_DOWN, /* no connection; the retry timer runs */
	ISCSI_C_FAILED, /* the first connection failed: only destroy remains */
};

/* The security stage when a CHAP user is set (RFC 7143 12.1.3). */
enum iscsi_auth {
	ISCSI_AUTH_OFF, /* no credentials: straight to the operational stage */
	ISCSI_AUTH_START, /* AuthMethod=CHAP,None offered */
	ISCSI_AUTH_CHAP_A, /* CHAP_A=5 sent: waiting for the challenge */
	ISCSI_AUTH_CHAP_R, /* CHAP_N and CHAP_R sent */
	ISCSI_AUTH_DONE, /* the operational stage */
};

enum iscsi_rq_state {
	ISCSI_RQ_QUEUED, /* not (or no longer) on the connection */
	ISCSI_RQ_SENT, /* the command PDU is with TCP */
	ISCSI_RQ_HELD, /* refused with TASK SET FULL or BUSY: waits */
};

/* Per request, in blk_request.pdu. */
struct iscsi_rq {
	uint32_t itt, cmdsn;
	uint8_t state; /* enum iscsi_rq_state */
	bool sent_before;
	bool cmd_in_tx; /* the command PDU is the one being sent */
	uint8_t retries; /* UNIT ATTENTION, NOT READY and the like */
	uint8_t busy_waits; /* held, sent again by the back-off timer */
	uint32_t imm; /* immediate data bytes */
	/* read: Data-In progress */
	uint32_t in_off, in_datasn;
	/* write: the one R2T being answered */
	bool r2t_active;
	uint32_t r2t_ttt, r2t_off, r2t_end, r2t_next, r2t_datasn;
	uint32_t r2tsn; /* R2Ts seen for the task */
	/*
	 * TRIM and WRITE_ZEROES go as UNMAP / WRITE SAME commands of at most
	 * the target's limits, one after the other: blocks acknowledged, and
	 * in the command being sent.  A FUA one ends with SYNCHRONIZE CACHE.
	 */
	uint32_t sp_done, sp_cur;
	uint8_t param[SCSI_UNMAP_PARAM_LEN]; /* UNMAP's parameter list */
};

/* The PDU being handed to TCP: header, data by reference, trailer. */
struct iscsi_txpdu {
	bool busy;
	struct blk_request *rq; /* whose data it carries, or NULL */
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint8_t trl[3 + ISCSI_DIGEST_LEN];
	uint32_t hlen, dlen, trl_len, done;
	uint32_t data_off; /* in the bio (or in c->out for control data) */
	const uint8_t *flat; /* control data, not a bio's */
};

/* Internal commands (setup): ITT in this range, data into ibuf. */
#define ISCSI_ITT_INTERNAL 0xfffe0000u
#define ISCSI_ITT_PING 0xfffd0000u
#define ISCSI_IBUF 64
/* UNIT ATTENTION, NOT READY: tries before -EIO */
#define ISCSI_MAX_RETRIES 8
/*
 * TASK SET FULL and BUSY hold the task until another of ours ends at the
 * target (its slot is free then) or, with none ending, for a back-off that
 * doubles from ISCSI_BUSY_MIN_NS; a task that waited out
 * ISCSI_MAX_BUSY_WAITS back-offs without any progress fails with EIO.
 */
#define ISCSI_BUSY_MIN_NS (10 * NSEC_PER_MSEC)
#define ISCSI_BUSY_MAX_NS (1 * NSEC_PER_SEC)
#define ISCSI_MAX_BUSY_WAITS 12

/* Setup commands after login, in order (the ITT's low bits). */
enum iscsi_setup_step {
	ISCSI_SETUP_TUR,
	ISCSI_SETUP_RC16,
	ISCSI_SETUP_RC10,
	ISCSI_SETUP_MODE_SENSE, /* DPOFUA: may FUA be asked for */
	ISCSI_SETUP_VPD_LBP, /* 0xb2: LBPU, LBPWS, LBPRZ (if LBPME) */
	ISCSI_SETUP_VPD_BL, /* 0xb0: the UNMAP and WRITE SAME limits */
};

struct iscsi_client {
	struct blkdev bd;
	struct net *net;
	struct host *host;
	struct mm *mm;
	char target[ISCSI_NAME_MAX + 1];
	char initiator[ISCSI_NAME_MAX + 1];
	char chap_user[ISCSI_CHAP_MAX + 1], chap_secret[ISCSI_CHAP_MAX + 1];
	struct sock_addr peer;
	unsigned lun;
	unsigned queue_depth;
	uint32_t cfg_max_request;
	bool want_hdigest, want_ddigest, no_immediate;
	uint64_t reconnect_ns, backoff_ns, dead_ns, task_timeout_ns;
	uint64_t ping_ns;
	blk_ready_fn ready;
	void *ready_arg;

	struct tcp_sock *tp;
	enum iscsi_cstate state;
	bool broken, dead, destroying;
	int err;
	uint64_t down_since;
	size_t moved_pages;
	uint16_t gen; /* ITT generation: a stale response misses */
	uint8_t isid[6];

	/* session */
	struct iscsi_params p;
	bool digests_on;
	uint32_t cmdsn, exp_cmdsn, max_cmdsn, exp_statsn;
	uint32_t login_itt;
	bool login_more; /* a second Login Request (T=0 answer) */
	bool names_sent; /* InitiatorName etc. go in the first request only */
	uint8_t auth; /* enum iscsi_auth */
	uint8_t chap_id;
	uint8_t chap_r[MD5_DIGEST_LEN];
	uint64_t last_rx;
	bool ping_due, ping_out; /* a ping to send; one sent, unanswered */
	bool nop_reply; /* a NOP-Out answering a target ping is due */
	uint32_t nop_ttt;
	uint64_t nop_lun;

	/* setup: one internal command at a time */
	uint8_t setup_step, setup_tries;
	bool icmd_pending, icmd_sent;
	uint8_t icdb[16];
	uint32_t icmd_len, icmd_got;
	uint8_t ibuf[ISCSI_IBUF];
	uint64_t capacity;
	uint32_t block_size;
	/* what the LUN offers, from READ CAPACITY 16, MODE SENSE, VPD */
	bool lbpme, dpofua, lbpu, lbpws, lbprz;
	uint32_t unmap_max, unmap_gran; /* blocks per UNMAP command */
	uint32_t unmap_max_desc;
	uint64_t wsame_max; /* blocks per WRITE SAME; 0: no limit given */

	/* receiving */
	uint8_t rxh[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint32_t rxh_have;
	bool rx_in_data;
	struct iscsi_bhs rb;
	uint32_t rx_have; /* of the padded data segment + digest */
	uint32_t rx_crc;
	uint8_t rx_trl[3 + ISCSI_DIGEST_LEN];
	struct blk_request *rx_rq; /* a Data-In whose data is arriving */
	struct page *rxbuf_page;
	uint8_t *rxbuf; /* a page: data segments that are not read data */

	struct iscsi_txpdu tx;
	struct list_head rqs; /* struct blk_request.node, dispatch order */
	unsigned nr_held; /* of them ISCSI_RQ_HELD */
	uint64_t busy_ns; /* the next back-off of a held task */
	struct timer retry_timer, dead_timer, tick_timer, busy_timer;
	struct task down_task, ready_task;
	struct iscsi_client_stats st;
};

static inline struct iscsi_client *iscsi_client(struct blkdev *bd)
{
	return bd->driver;
}

/* iscsi_client.c */
void iscsi_conn_broken(struct iscsi_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void iscsi_proto_error(struct iscsi_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void iscsi_tx(struct iscsi_client *c);
void iscsi_complete(struct iscsi_client *c, struct blk_request *rq, int err);
/* Put @rq back to be sent again (a retry after UNIT ATTENTION etc.). */
void iscsi_requeue(struct iscsi_client *c, struct blk_request *rq);
/* The target refused @rq for now (TASK SET FULL, BUSY): hold it. */
void iscsi_hold(struct iscsi_client *c, struct blk_request *rq, uint8_t status);
/* A task of ours ended at the target: the oldest held one may go. */
void iscsi_release_held(struct iscsi_client *c);
struct blk_request *iscsi_rq_by_itt(struct iscsi_client *c, uint32_t itt);
/* Bytes of data-out the command being sent for @rq carries. */
uint32_t iscsi_rq_out_len(const struct blk_request *rq);
/* Login succeeded: start the setup commands. */
void iscsi_logged_in(struct iscsi_client *c);
/* Setup finished (capacity known): attach, or check and re-send. */
void iscsi_setup_done(struct iscsi_client *c);
void iscsi_setup_next(struct iscsi_client *c);

/*
 * The MaxBurstLength (and cap of FirstBurstLength) offered at login: the
 * largest request the device will take.
 */
static inline uint32_t iscsi_offer_burst(const struct iscsi_client *c)
{
	uint32_t b = lb_min(c->cfg_max_request,
			    (uint32_t)(BIO_MAX_VECS * PAGE_SIZE));

	return lb_max(b - b % SECTOR_SIZE, (uint32_t)SECTOR_SIZE);
}

/* iscsi_client_rx.c */
void iscsi_login_start(struct iscsi_client *c);
void iscsi_rx(struct iscsi_client *c);

#endif
