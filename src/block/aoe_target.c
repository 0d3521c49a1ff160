// SPDX-License-Identifier: MIT
/*
 * aoe_target.c - an AoE target serving a struct blk_store.
 *
 * Like vblade, it is stateless per request: each frame is executed when it
 * is received and answered at once, a duplicate is simply executed again
 * (whole-sector reads and writes are idempotent).  With serial_ns it
 * behaves as vblade does on a real wire: ATA requests wait in a queue of
 * buffer_count frames (vblade's socket buffer) and are served one at a
 * time, serial_ns each; a frame arriving at a full queue is dropped
 * (drop_queue_full).  The queue is made at create; it holds the received
 * netbufs (normal memory of the target's host) until served.  A reply is allocated
 * from normal memory only; without memory the request is dropped and
 * counted, and the initiator's retransmission asks again.  The target is
 * not memory-critical: it drops frames that reached it in reserve memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aoe.h"
#include "aoe_proto.h"
#include "core/log.h"
#include "net/net.h"
#include "net/netbuf.h"

// clang-format off
#define AOE_TGT_STATS(X) \
	X(rx) \
	X(tx) \
	X(reads) \
	X(writes) \
	X(flushes) \
	X(identify) \
	X(config) \
	X(ata_errors) \
	X(aoe_errors) \
	X(drop_no_memory) \
	X(drop_stalled) \
	X(drop_pfmemalloc) \
	X(drop_queue_full) \
	X(config_silent)
// clang-format on

#define AOE_TGT_FIELD(name) struct counter name;
struct aoe_target_stats {
	AOE_TGT_STATS(AOE_TGT_FIELD)
};
#undef AOE_TGT_FIELD

/* A request waiting for a serial target. */
struct aoe_tq {
	struct netbuf *nb;
	struct aoe_msg m;
};

struct aoe_target {
	struct aoe_endpoint ep;
	struct net *net;
	struct net_device *dev;
	struct blk_store *store;
	uint16_t shelf;
	uint8_t slot;
	uint16_t bufcnt;
	bool read_only, no_flush_ext;
	unsigned max_sectors; /* per frame, from the MTU */
	uint64_t stall_until;
	uint64_t bad_lba, bad_count; /* a medium error: these sectors fail */
	char serial[24];
	uint16_t cslen;
	uint8_t cstr[AOE_CFG_STR_MAX];
	struct aoe_target_stats st;
	uint64_t serial_ns;
	struct aoe_tq *q; /* buffer_count entries with serial_ns */
	unsigned q_head, q_len;
	struct timer serve;
	/* one frame's data, between the netbuf and the store */
	uint8_t buf[255 * SECTOR_SIZE];
};

/* A reply to @m carrying @arglen bytes of argument and @datalen of data. */
static struct netbuf *reply_alloc(struct aoe_target *t, uint32_t arglen,
				  uint32_t datalen)
{
	struct netbuf *r = netbuf_alloc_paged(t->net,
					      AOE_HDR_LEN + arglen + datalen,
					      MM_ATOMIC | MM_NOMEMALLOC, NULL);

	if (!r)
		counter_inc(&t->st.drop_no_memory);
	return r;
}

static void reply_send(struct aoe_target *t, struct netbuf *r,
		       const struct aoe_msg *m, uint8_t flags, uint8_t error)
{
	uint8_t h[AOE_HDR_LEN];

	aoe_put_hdr(h, AOE_FL_RSP | flags, error, t->shelf, t->slot, m->cmd,
		    m->tag);
	netbuf_store_bits(r, 0, h, sizeof(h));
	if (eth_output(t->dev, r, m->src, ETH_P_AOE) == 0)
		counter_inc(&t->st.tx);
}

/* An AoE-level error: the header alone, with E and the error code. */
static void reply_error(struct aoe_target *t, const struct aoe_msg *m,
			uint8_t error)
{
	struct netbuf *r = reply_alloc(t, 0, 0);

	counter_inc(&t->st.aoe_errors);
	if (r)
		reply_send(t, r, m, AOE_FL_ERR, error);
}

/* ---- ATA ----------------------------------------------------------------- */

struct ata_result {
	uint8_t status, error, scnt;
	uint32_t datalen; /* bytes of t->buf to send back */
};

static void ata_fail(struct aoe_target *t, struct ata_result *res,
		     uint8_t error)
{
	counter_inc(&t->st.ata_errors);
	res->status = ATA_ST_DRDY | ATA_ST_ERR;
	res->error = error;
}

static void ata_rw(struct aoe_target *t, struct netbuf *nb,
		   const struct aoe_msg *m, bool ext, bool wr,
		   struct ata_result *res)
{
	uint64_t lba = m->ata.lba & (ext ? AOE_LBA48_MAX - 1 : 0x0fffffff);
	uint32_t len = (uint32_t)m->ata.scnt * SECTOR_SIZE;
	uint64_t sectors = t->store->size / SECTOR_SIZE;
	int err;

	if (lba > sectors || m->ata.scnt > sectors - lba) {
		ata_fail(t, res, ATA_ER_IDNF);
		return;
	}
	if (lba < t->bad_lba + t->bad_count && t->bad_lba < lba + m->ata.scnt) {
		ata_fail(t, res, wr ? ATA_ER_ABRT : ATA_ER_UNC);
		return;
	}
	if (wr) {
		if (t->read_only) {
			ata_fail(t, res, ATA_ER_ABRT);
			return;
		}
		netbuf_copy_bits(nb, AOE_ATA_DATA_OFF, t->buf, len);
		err = store_write(t->store, lba * SECTOR_SIZE, t->buf, len);
		counter_inc(&t->st.writes);
	} else {
		err = store_read(t->store, lba * SECTOR_SIZE, t->buf, len);
		counter_inc(&t->st.reads);
		res->datalen = len;
	}
	if (err) {
		res->datalen = 0;
		ata_fail(t, res, wr ? ATA_ER_ABRT : ATA_ER_UNC);
	}
}

static void ata_identify(struct aoe_target *t, struct ata_result *res)
{
	counter_inc(&t->st.identify);
	aoe_identify_build(t->buf, t->store->size / SECTOR_SIZE, t->serial,
			   "lifeboat AoE target");
	res->datalen = AOE_IDENTIFY_LEN;
}

static void handle_ata(struct aoe_target *t, struct netbuf *nb,
		       const struct aoe_msg *m)
{
	struct ata_result res = { .status = ATA_ST_DRDY };
	uint8_t cmd = m->ata.cmd_status;
	bool rw = cmd == ATA_CMD_READ || cmd == ATA_CMD_READ_EXT ||
		  cmd == ATA_CMD_WRITE || cmd == ATA_CMD_WRITE_EXT;
	bool wr = cmd == ATA_CMD_WRITE || cmd == ATA_CMD_WRITE_EXT;
	uint8_t arg[AOE_ATA_LEN];
	struct netbuf *r;

	/* vblade's rules: no more than a frame can carry, no short write */
	if (rw && (m->ata.scnt > t->max_sectors ||
		   (wr && m->len - AOE_ATA_LEN <
				  (uint32_t)m->ata.scnt * SECTOR_SIZE))) {
		reply_error(t, m, AOE_ERR_BADARG);
		return;
	}
	switch (cmd) {
	case ATA_CMD_READ:
	case ATA_CMD_WRITE:
	case ATA_CMD_READ_EXT:
	case ATA_CMD_WRITE_EXT:
		ata_rw(t, nb, m,
		       cmd == ATA_CMD_READ_EXT || cmd == ATA_CMD_WRITE_EXT, wr,
		       &res);
		break;
	case ATA_CMD_IDENTIFY:
		ata_identify(t, &res);
		break;
	case ATA_CMD_FLUSH_EXT:
		if (t->no_flush_ext) {
			ata_fail(t, &res, ATA_ER_ABRT);
			break;
		}
		/* fall through */
	case ATA_CMD_FLUSH:
		counter_inc(&t->st.flushes);
		if (store_flush(t->store))
			ata_fail(t, &res, ATA_ER_ABRT);
		break;
	case ATA_CMD_CHECK_POWER:
		res.scnt = 0xff; /* active or idle */
		break;
	default:
		ata_fail(t, &res, ATA_ER_ABRT);
		break;
	}
	r = reply_alloc(t, AOE_ATA_LEN, res.datalen);
	if (!r)
		return;
	aoe_put_ata(arg, m->ata.aflags, res.error, res.scnt, res.status,
		    m->ata.lba);
	netbuf_store_bits(r, AOE_HDR_LEN, arg, sizeof(arg));
	if (res.datalen)
		netbuf_store_bits(r, AOE_ATA_DATA_OFF, t->buf, res.datalen);
	reply_send(t, r, m, 0, 0);
}

/* ---- Query Config -------------------------------------------------------- */

static void handle_cfg(struct aoe_target *t, struct netbuf *nb,
		       const struct aoe_msg *m)
{
	uint16_t n = m->cfg.cslen;
	uint8_t arg[AOE_CFG_LEN];
	struct netbuf *r;

	counter_inc(&t->st.config);
	netbuf_copy_bits(nb, AOE_CFG_STR_OFF, t->buf, n);
	switch (m->cfg.ccmd) {
	case AOE_CCMD_READ:
		break;
	case AOE_CCMD_TEST:
		if (n != t->cslen || memcmp(t->buf, t->cstr, n)) {
			counter_inc(&t->st.config_silent);
			return;
		}
		break;
	case AOE_CCMD_PREFIX:
		if (n > t->cslen || memcmp(t->buf, t->cstr, n)) {
			counter_inc(&t->st.config_silent);
			return;
		}
		break;
	case AOE_CCMD_SET:
		if (t->cslen && (n != t->cslen || memcmp(t->buf, t->cstr, n))) {
			reply_error(t, m, AOE_ERR_CFG_SET);
			return;
		}
		/* fall through */
	case AOE_CCMD_FORCE_SET:
		memcpy(t->cstr, t->buf, n);
		t->cslen = n;
		break;
	default:
		reply_error(t, m, AOE_ERR_BADARG);
		return;
	}
	r = reply_alloc(t, AOE_CFG_LEN, t->cslen);
	if (!r)
		return;
	aoe_put_cfg(arg, t->bufcnt, AOE_FWVER, (uint8_t)t->max_sectors,
		    m->cfg.ccmd, t->cslen);
	netbuf_store_bits(r, AOE_HDR_LEN, arg, sizeof(arg));
	if (t->cslen)
		netbuf_store_bits(r, AOE_CFG_STR_OFF, t->cstr, t->cslen);
	reply_send(t, r, m, 0, 0);
}

/* ---- receive ------------------------------------------------------------- */

/* The request at the queue's head has had its service time. */
static void serve_next(struct timer *tm)
{
	struct aoe_target *t = container_of(tm, struct aoe_target, serve);
	struct aoe_tq *e = &t->q[t->q_head];

	LB_ASSERT(t->q_len > 0 && t->q_len <= t->bufcnt);
	t->q_head = (t->q_head + 1) % t->bufcnt;
	t->q_len--;
	handle_ata(t, e->nb, &e->m);
	netbuf_free(e->nb);
	e->nb = NULL;
	if (t->q_len)
		timer_arm_in(t->net->host->loop, &t->serve, t->serial_ns);
}

/* Queue @nb for a serial target; false when the queue is full. */
static bool enqueue(struct aoe_target *t, struct netbuf *nb,
		    const struct aoe_msg *m)
{
	struct aoe_tq *e;

	if (t->q_len == t->bufcnt) {
		counter_inc(&t->st.drop_queue_full);
		return false;
	}
	e = &t->q[(t->q_head + t->q_len++) % t->bufcnt];
	e->nb = nb;
	e->m = *m;
	if (!timer_armed(&t->serve))
		timer_arm_in(t->net->host->loop, &t->serve, t->serial_ns);
	return true;
}

static enum aoe_rx tgt_rcv(struct aoe_endpoint *ep, struct net_device *dev,
			   struct netbuf *nb, const struct aoe_msg *m)
{
	struct aoe_target *t = container_of(ep, struct aoe_target, ep);
	bool bcast = m->shelf == AOE_SHELF_ANY || m->slot == AOE_SLOT_ANY;

	if ((m->flags & AOE_FL_RSP) || dev != t->dev ||
	    (m->shelf != t->shelf && m->shelf != AOE_SHELF_ANY) ||
	    (m->slot != t->slot && m->slot != AOE_SLOT_ANY))
		return AOE_RX_PASS;
	counter_inc(&t->st.rx);
	if (nb->pfmemalloc)
		counter_inc(&t->st.drop_pfmemalloc);
	else if (host_now(t->net->host) < t->stall_until)
		counter_inc(&t->st.drop_stalled);
	else if (m->cmd == AOE_CMD_ATA && t->serial_ns && !bcast &&
		 enqueue(t, nb, m))
		return AOE_RX_TAKEN; /* the queue holds it */
	else if (m->cmd == AOE_CMD_ATA && t->serial_ns && !bcast)
		; /* dropped at a full queue, counted */
	else if (m->cmd == AOE_CMD_ATA)
		handle_ata(t, nb, m);
	else if (m->cmd == AOE_CMD_CFG)
		handle_cfg(t, nb, m);
	else
		reply_error(t, m, AOE_ERR_BADCMD);
	if (bcast)
		return AOE_RX_SEEN;
	netbuf_free(nb);
	return AOE_RX_TAKEN;
}

static void tgt_stats(struct aoe_target *t, bool add)
{
	struct stats *s = &t->net->host->stats;

#define AOE_TGT_REG(name)                                                     \
	if (add)                                                              \
		stats_add_counter(s, &t->st.name, "aoe_target.e%u.%u." #name, \
				  t->shelf, t->slot);                         \
	else                                                                  \
		stats_remove(s, &t->st.name);
	AOE_TGT_STATS(AOE_TGT_REG)
#undef AOE_TGT_REG
}

struct aoe_target *aoe_target_create(struct net *net,
				     const struct aoe_target_config *cfg)
{
	struct net_device *dev = cfg->dev;
	struct aoe_target *t;

	if (!dev && !list_empty(&net->devices))
		dev = list_first_entry(&net->devices, struct net_device, node);
	if (!dev || !cfg->store || cfg->shelf == AOE_SHELF_ANY ||
	    cfg->slot == AOE_SLOT_ANY || cfg->store->size % SECTOR_SIZE ||
	    cfg->store->size / SECTOR_SIZE >= AOE_LBA48_MAX ||
	    !aoe_mtu_sectors(dev->mtu)) {
		lb_err(&net->host->log, "aoe: target e%u.%u: bad configuration",
		       cfg->shelf, cfg->slot);
		return NULL;
	}
	/* Control state made once, like the host itself; never on the
	 * data path. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->net = net;
	t->dev = dev;
	t->store = cfg->store;
	t->shelf = cfg->shelf;
	t->slot = cfg->slot;
	t->bufcnt = cfg->buffer_count ? cfg->buffer_count : 16;
	t->read_only = cfg->read_only;
	t->no_flush_ext = cfg->no_flush_ext;
	t->max_sectors = aoe_mtu_sectors(dev->mtu);
	t->serial_ns = cfg->serial_ns;
	timer_init(&t->serve, serve_next);
	if (t->serial_ns) {
		t->q = calloc(t->bufcnt, sizeof(*t->q));
		if (!t->q) {
			free(t);
			return NULL;
		}
	}
	snprintf(t->serial, sizeof(t->serial), "%u.%u:lifeboat", t->shelf,
		 t->slot);
	t->ep.rcv = tgt_rcv;
	if (aoe_port_join(net, &t->ep)) {
		free(t->q);
		free(t);
		return NULL;
	}
	tgt_stats(t, true);
	lb_info(&net->host->log,
		"aoe: target e%u.%u on %s: %llu sectors, buffer count %u, %u sectors a frame",
		t->shelf, t->slot, dev->name,
		(unsigned long long)(t->store->size / SECTOR_SIZE), t->bufcnt,
		t->max_sectors);
	return t;
}

void aoe_target_destroy(struct aoe_target *t)
{
	if (!t)
		return;
	aoe_port_leave(t->net, &t->ep);
	tgt_stats(t, false);
	timer_cancel(t->net->host->loop, &t->serve);
	for (; t->q_len; t->q_len--, t->q_head = (t->q_head + 1) % t->bufcnt)
		netbuf_free(t->q[t->q_head].nb);
	free(t->q);
	free(t);
}

void aoe_target_set_stall(struct aoe_target *t, uint64_t until_ns)
{
	t->stall_until = until_ns;
}

void aoe_target_set_bad(struct aoe_target *t, uint64_t lba, uint64_t count)
{
	t->bad_lba = lba;
	t->bad_count = count;
}
