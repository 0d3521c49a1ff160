// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: arbitrary AoE frames into a host that runs an AoE
 * initiator with requests outstanding (a read, a write and a flush) and
 * an AoE target, on one device.  Frames with R set reach the initiator's
 * response parser and matcher, the others the target's request handling.
 *
 * Each input gets a fresh initiator, discovered and identified by frames
 * this harness forges, so a device the last input killed does not mask
 * the next.  The target and its store live across inputs.
 *
 * Input: byte 0 is control, the rest frames, each a 2-byte big-endian
 * length and that many bytes of AoE (the Ethernet header is added).
 *   bit 0   exhaust normal memory while the frames are received
 *   bit 1   give each frame the tag of one the initiator sent (picked by
 *           the frame's own tag modulo the number sent), so the matching
 *           code is reached, not only the stray path
 *   bit 2   frames come from a stranger's MAC instead of the target's
 *
 * After each input: every bio has ended, nothing is charged to any
 * reserve, every page is back, and mm_check passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "block/aoe.h"
#include "block/aoe_proto.h"
#include "core/host.h"
#include "mm/hog.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "net/net.h"
#include "net/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PAGES 1024
#define FZ_MAX_OBJS 16384
#define FZ_TAGS 64
#define FZ_SHELF 1
#define FZ_SLOT 2

#define CTL_EXHAUST 0x01
#define CTL_MATCH_TAGS 0x02
#define CTL_STRANGER 0x04

static const uint8_t tgt_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t our_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t stranger_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x03 };

static struct fz {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
	struct blk_store store;
	struct aoe_target *tgt;
	struct blkdev *bd;
	int ready_err;
	bool ready;
	int64_t free_pages;

	/* tags of the requests the initiator sent, newest last */
	uint32_t tags[FZ_TAGS];
	unsigned nr_tags;

	/* the one frame being received */
	const uint8_t *frame;
	size_t frame_len;

	struct page *data[4];
	struct bio bios[3];
	unsigned ended;

	struct page *pages[FZ_PAGES];
	void *objs[FZ_MAX_OBJS];
	struct mm_hog hog;
	uint8_t buf[NETDEV_MAX_MTU + ETH_HLEN];
} * fz;

/* ---- the device ----------------------------------------------------------- */

static int fz_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	if (len >= ETH_HLEN + AOE_HDR_LEN && frame[12] == 0x88 &&
	    frame[13] == 0xa2 && !(frame[ETH_HLEN] & AOE_FL_RSP)) {
		const uint8_t *t = frame + ETH_HLEN + 6;

		if (fz->nr_tags == FZ_TAGS) {
			memmove(fz->tags, fz->tags + 1,
				(FZ_TAGS - 1) * sizeof(fz->tags[0]));
			fz->nr_tags--;
		}
		fz->tags[fz->nr_tags++] = (uint32_t)t[0] << 24 |
					  (uint32_t)t[1] << 16 |
					  (uint32_t)t[2] << 8 | t[3];
	}
	return 0;
}

static ssize_t fz_recv(struct net_device *dev, uint8_t *buf, size_t cap,
		       struct rx_meta *meta)
{
	size_t len = fz->frame_len;

	if (!len)
		return 0;
	fz->frame_len = 0;
	meta->wire_len = (uint32_t)len;
	meta->csum_unnecessary = false;
	if (len > cap)
		len = cap;
	memcpy(buf, fz->frame, len);
	return (ssize_t)len;
}

static const struct net_device_ops fz_ops = {
	.xmit = fz_xmit,
	.recv = fz_recv,
};

/* Receive @len bytes of AoE from @src now. */
static void fz_feed(const uint8_t *src, const uint8_t *aoe, size_t len)
{
	struct eth_hdr *eh = (struct eth_hdr *)fz->buf;

	len = lb_min(len, sizeof(fz->buf) - ETH_HLEN);
	memcpy(eh->dst, our_mac, ETH_ALEN);
	memcpy(eh->src, src, ETH_ALEN);
	eh->type = htons(ETH_P_AOE);
	memcpy(fz->buf + ETH_HLEN, aoe, len);
	fz->frame = fz->buf;
	fz->frame_len = ETH_HLEN + len;
	netdev_poll(&fz->dev);
}

/* ---- bringing an initiator up --------------------------------------------- */

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	fz->ready = true;
	fz->ready_err = err;
}

static void on_end_io(struct bio *bio)
{
	fz->ended++;
}

static uint32_t last_tag(void)
{
	LB_ASSERT(fz->nr_tags);
	return fz->tags[fz->nr_tags - 1];
}

/* Create the initiator and answer its Query Config and IDENTIFY. */
static void client_up(void)
{
	struct aoe_client_config cc = { .shelf = FZ_SHELF,
					.slot = FZ_SLOT,
					.queue_depth = 4,
					.dead_ns = NSEC_PER_SEC };
	uint8_t f[AOE_HDR_LEN + AOE_ATA_LEN + AOE_IDENTIFY_LEN] = { 0 };

	fz->ready = false;
	fz->nr_tags = 0;
	LB_ASSERT(aoe_client_create(fz->net, &cc, on_ready, NULL, &fz->bd) ==
		  0);
	aoe_put_hdr(f, AOE_FL_RSP, 0, FZ_SHELF, FZ_SLOT, AOE_CMD_CFG,
		    last_tag());
	aoe_put_cfg(f + AOE_HDR_LEN, 16, AOE_FWVER, 2, AOE_CCMD_READ, 0);
	fz_feed(tgt_mac, f, AOE_HDR_LEN + AOE_CFG_LEN);
	aoe_put_hdr(f, AOE_FL_RSP, 0, FZ_SHELF, FZ_SLOT, AOE_CMD_ATA,
		    last_tag());
	aoe_put_ata(f + AOE_HDR_LEN, 0, 0, 0, ATA_ST_DRDY, 0);
	aoe_identify_build(f + AOE_ATA_DATA_OFF, 2048, "fuzz", "fuzz");
	fz_feed(tgt_mac, f, sizeof(f));
	LB_ASSERT(fz->ready && fz->ready_err == 0);
}

/* A read, a write and a flush, sent before the input arrives. */
static void submit_bios(void)
{
	fz->ended = 0;
	bio_init(&fz->bios[0], fz->bd, BIO_READ);
	bio_init(&fz->bios[1], fz->bd, BIO_WRITE);
	bio_init(&fz->bios[2], fz->bd, BIO_FLUSH);
	fz->bios[0].offset = 4096;
	fz->bios[1].offset = 65536;
	/* pieces that do not align with frames or pages */
	bio_add_page(&fz->bios[0], fz->data[0], 512, 3584);
	bio_add_page(&fz->bios[0], fz->data[1], 0, 512);
	bio_add_page(&fz->bios[1], fz->data[2], 1024, 1536);
	bio_add_page(&fz->bios[1], fz->data[3], 0, 2560);
	for (int i = 0; i < 3; i++) {
		fz->bios[i].end_io = on_end_io;
		LB_ASSERT(blk_submit(&fz->bios[i]) == 0);
	}
	loop_run_until(&fz->loop, loop_now(&fz->loop)); /* dispatch */
}

/* ---- set-up and exhaustion ------------------------------------------------ */

static void setup(void)
{
	struct host_config hc = { .name = "fuzz",
				  .seed = 1,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = FZ_PAGES };
	struct aoe_target_config tc = { .shelf = FZ_SHELF,
					.slot = FZ_SLOT,
					.store = NULL };

	fz = calloc(1, sizeof(*fz));
	LB_ASSERT(fz);
	LB_ASSERT(loop_init(&fz->loop, LOOP_VIRTUAL) == 0);
	fz->host = host_create(&fz->loop, &hc);
	LB_ASSERT(fz->host);
	/* a dead initiator per input is the point, not news */
	fz->host->log.out = fopen("/dev/null", "w");
	LB_ASSERT(fz->host->log.out);
	fz->mm = mm_create(fz->host, &mc);
	LB_ASSERT(fz->mm);
	fz->net = net_create(fz->host, NULL);
	LB_ASSERT(fz->net);
	fz->dev.ops = &fz_ops;
	fz->dev.mtu = 1500;
	memcpy(fz->dev.mac, our_mac, ETH_ALEN);
	snprintf(fz->dev.name, sizeof(fz->dev.name), "fz0");
	LB_ASSERT(netdev_register(fz->net, &fz->dev) == 0);
	LB_ASSERT(store_open_ram(&fz->store, 1 << 20) == 0);
	tc.store = &fz->store;
	fz->tgt = aoe_target_create(fz->net, &tc);
	LB_ASSERT(fz->tgt);
	for (int i = 0; i < 4; i++) {
		fz->data[i] = mm_page_alloc(fz->mm, MM_NORMAL, NULL);
		LB_ASSERT(fz->data[i]);
	}
	mm_hog_init(&fz->hog, fz->mm, fz->pages, FZ_PAGES, fz->objs,
		    FZ_MAX_OBJS);
	fz->free_pages = fz->mm->nr_free.v;
}

/* Take every normal page and every free object of the stack's caches. */
static void exhaust(void)
{
	struct kmem_cache *const caches[] = { &fz->net->netbuf_cache };

	mm_hog_take(&fz->hog, caches, ARRAY_SIZE(caches));
}

static void release(void)
{
	mm_hog_release(&fz->hog);
}

static void shrink_caches(void)
{
	kmem_cache_shrink(&fz->net->netbuf_cache);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(fz->mm->kmalloc[i]);
}

/* ---- one input ------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[NETDEV_MAX_MTU];
	uint8_t ctl;

	if (!size)
		return 0;
	if (!fz)
		setup();
	ctl = data[0];
	client_up();
	submit_bios();
	if (ctl & CTL_EXHAUST)
		exhaust();
	for (size_t i = 1; i + 2 <= size;) {
		size_t len = (size_t)data[i] << 8 | data[i + 1];
		bool match = (ctl & CTL_MATCH_TAGS) && fz->nr_tags;

		i += 2;
		len = lb_min(len, lb_min(size - i, sizeof(frame)));
		memcpy(frame, data + i, len);
		i += len;
		if (match && len >= AOE_HDR_LEN) {
			uint32_t pick = (uint32_t)frame[6] << 24 |
					(uint32_t)frame[7] << 16 |
					(uint32_t)frame[8] << 8 | frame[9];
			uint32_t tag = fz->tags[pick % fz->nr_tags];

			frame[6] = (uint8_t)(tag >> 24);
			frame[7] = (uint8_t)(tag >> 16);
			frame[8] = (uint8_t)(tag >> 8);
			frame[9] = (uint8_t)tag;
		}
		fz_feed(ctl & CTL_STRANGER ? stranger_mac : tgt_mac, frame,
			len);
	}
	LB_ASSERT(fz->net->rsv_rx.used.v == 0);
	release();
	/* Retransmissions, then death: every bio ends. */
	loop_run_until(&fz->loop, loop_now(&fz->loop) + 3 * NSEC_PER_SEC);
	LB_ASSERTF(fz->ended == 3, "%u of 3 bios ended", fz->ended);
	aoe_client_destroy(fz->bd);
	fz->bd = NULL;
	shrink_caches();
	mm_check(fz->mm);
	LB_ASSERTF(fz->mm->root.used.v == 0, "reserves still hold %lld pages",
		   (long long)fz->mm->root.used.v);
	LB_ASSERTF(fz->mm->nr_free.v == fz->free_pages,
		   "%lld pages free after the input, %lld before",
		   (long long)fz->mm->nr_free.v, (long long)fz->free_pages);
	return 0;
}
