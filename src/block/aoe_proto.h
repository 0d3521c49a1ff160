/* SPDX-License-Identifier: MIT */
/*
 * aoe_proto.h - the AoEr11 wire format, shared by the initiator and the
 * target: constants, the header layouts, parsing of a received header and
 * building of one to send, the ATA IDENTIFY block, and the per-net port
 * that lets several initiators and targets share the AoE ethertype.
 *
 * Everything multi-byte in an AoE header is big-endian except the LBA,
 * which is sent least significant byte first; IDENTIFY words are
 * little-endian with strings byte-swapped inside each word.
 *
 * Memory rules: the parse and build helpers work on caller-owned bytes and
 * never allocate.  The port is one small object from the host's mm, made
 * when the first endpoint joins and freed when the last leaves; receiving
 * through it allocates nothing.
 */
#ifndef LB_BLOCK_AOE_PROTO_H
#define LB_BLOCK_AOE_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"
#include "net/netdev.h"

struct net;
struct netbuf;

#define AOE_VERSION 1
#define AOE_FL_RSP 0x08 /* R: a response */
#define AOE_FL_ERR 0x04 /* E: the Error field is valid */

#define AOE_CMD_ATA 0
#define AOE_CMD_CFG 1

#define AOE_ERR_BADCMD 1
#define AOE_ERR_BADARG 2
#define AOE_ERR_DEVUNAVAIL 3
#define AOE_ERR_CFG_SET 4
#define AOE_ERR_BADVER 5

#define AOE_SHELF_ANY 0xffff
#define AOE_SLOT_ANY 0xff

/* ATA argument flags */
#define AOE_AFL_EXT 0x40 /* LBA48 */
#define AOE_AFL_DEV 0x10
#define AOE_AFL_ASYNC 0x02
#define AOE_AFL_WRITE 0x01

#define ATA_CMD_READ 0x20
#define ATA_CMD_READ_EXT 0x24
#define ATA_CMD_WRITE 0x30
#define ATA_CMD_WRITE_EXT 0x34
#define ATA_CMD_CHECK_POWER 0xe5
#define ATA_CMD_FLUSH 0xe7
#define ATA_CMD_FLUSH_EXT 0xea
#define ATA_CMD_IDENTIFY 0xec

#define ATA_ST_BSY 0x80
#define ATA_ST_DRDY 0x40
#define ATA_ST_DF 0x20
#define ATA_ST_DRQ 0x08
#define ATA_ST_ERR 0x01
#define ATA_ST_BAD 0xa9 /* BSY|DF|DRQ|ERR: the Linux initiator's test */

#define ATA_ER_UNC 0x40
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04

/* Config commands (CCmd) */
#define AOE_CCMD_READ 0
#define AOE_CCMD_TEST 1
#define AOE_CCMD_PREFIX 2
#define AOE_CCMD_SET 3
#define AOE_CCMD_FORCE_SET 4

#define AOE_CFG_STR_MAX 1024
#define AOE_FWVER 0x4019

/* Bytes after the Ethernet header. */
#define AOE_HDR_LEN 10
#define AOE_ATA_LEN 12
#define AOE_CFG_LEN 8
/* Ethernet + AoE + ATA headers: what an ATA frame spends before its data. */
#define AOE_ATA_OVERHEAD (ETH_HLEN + AOE_HDR_LEN + AOE_ATA_LEN)

#define AOE_IDENTIFY_LEN 512
#define AOE_LBA28_MAX (1ull << 28)
#define AOE_LBA48_MAX (1ull << 48)

struct aoe_hdr {
	uint8_t ver_flags;
	uint8_t error;
	uint16_t major; /* shelf, big-endian */
	uint8_t minor; /* slot */
	uint8_t cmd;
	uint32_t tag; /* big-endian, opaque to the target */
} __attribute__((packed));

struct aoe_ata {
	uint8_t aflags;
	uint8_t err_feature;
	uint8_t scnt;
	uint8_t cmd_status;
	uint8_t lba[6]; /* least significant first */
	uint8_t res[2];
} __attribute__((packed));

struct aoe_cfg {
	uint16_t bufcnt; /* big-endian */
	uint16_t fwver; /* big-endian */
	uint8_t scnt;
	uint8_t ver_ccmd;
	uint16_t cslen; /* big-endian */
} __attribute__((packed));

_Static_assert(sizeof(struct aoe_hdr) == AOE_HDR_LEN, "AoE header");
_Static_assert(sizeof(struct aoe_ata) == AOE_ATA_LEN, "ATA argument");
_Static_assert(sizeof(struct aoe_cfg) == AOE_CFG_LEN, "config argument");

/* A received AoE message, its header fields in host order. */
struct aoe_msg {
	uint8_t src[ETH_ALEN], dst[ETH_ALEN];
	uint8_t flags; /* low nibble of the first byte */
	uint8_t error;
	uint16_t shelf;
	uint8_t slot;
	uint8_t cmd;
	uint32_t tag;
	uint32_t len; /* bytes after the AoE header */
	union {
		struct {
			uint8_t aflags, err_feature, scnt, cmd_status;
			uint64_t lba; /* all 48 bits as sent */
		} ata;
		struct {
			uint16_t bufcnt, fwver;
			uint8_t scnt, ccmd;
			uint16_t cslen;
		} cfg;
	};
};

/*
 * Parse the AoE frame in @nb (data at the AoE header, as Ethernet hands it
 * on).  Fills @m and returns 0; -EPROTO for a version other than 1,
 * -EINVAL when the frame is too short for its header or its command's
 * argument (a config string longer than the frame counts as too short).
 * Commands other than ATA and Query Config parse as a bare header: a target
 * answers them with Error 1.
 */
int aoe_parse(const struct netbuf *nb, struct aoe_msg *m);

/* Offset, from the AoE header, of an ATA frame's data. */
#define AOE_ATA_DATA_OFF (AOE_HDR_LEN + AOE_ATA_LEN)
#define AOE_CFG_STR_OFF (AOE_HDR_LEN + AOE_CFG_LEN)

static inline void aoe_put_hdr(uint8_t *p, uint8_t flags, uint8_t error,
			       uint16_t shelf, uint8_t slot, uint8_t cmd,
			       uint32_t tag)
{
	p[0] = (uint8_t)(AOE_VERSION << 4 | (flags & 0x0f));
	p[1] = error;
	p[2] = (uint8_t)(shelf >> 8);
	p[3] = (uint8_t)shelf;
	p[4] = slot;
	p[5] = cmd;
	p[6] = (uint8_t)(tag >> 24);
	p[7] = (uint8_t)(tag >> 16);
	p[8] = (uint8_t)(tag >> 8);
	p[9] = (uint8_t)tag;
}

static inline void aoe_put_ata(uint8_t *p, uint8_t aflags, uint8_t feature,
			       uint8_t scnt, uint8_t cmd, uint64_t lba)
{
	p[0] = aflags;
	p[1] = feature;
	p[2] = scnt;
	p[3] = cmd;
	for (int i = 0; i < 6; i++)
		p[4 + i] = (uint8_t)(lba >> (8 * i));
	p[10] = p[11] = 0;
}

static inline void aoe_put_cfg(uint8_t *p, uint16_t bufcnt, uint16_t fwver,
			       uint8_t scnt, uint8_t ccmd, uint16_t cslen)
{
	p[0] = (uint8_t)(bufcnt >> 8);
	p[1] = (uint8_t)bufcnt;
	p[2] = (uint8_t)(fwver >> 8);
	p[3] = (uint8_t)fwver;
	p[4] = scnt;
	p[5] = (uint8_t)(AOE_VERSION << 4 | (ccmd & 0x0f));
	p[6] = (uint8_t)(cslen >> 8);
	p[7] = (uint8_t)cslen;
}

/* Sectors one ATA frame carries on a device of @mtu (vblade's formula). */
static inline unsigned aoe_mtu_sectors(unsigned mtu)
{
	unsigned n = mtu > AOE_ATA_OVERHEAD ? (mtu - AOE_ATA_OVERHEAD) / 512 :
					      0;

	return n > 255 ? 255 : n;
}

/* A config Sector Count of 0 is the legacy "2". */
static inline unsigned aoe_cfg_sectors(uint8_t scnt)
{
	return scnt ? scnt : 2;
}

/* The 512-byte IDENTIFY DEVICE block of a disk of @sectors. */
void aoe_identify_build(uint8_t id[AOE_IDENTIFY_LEN], uint64_t sectors,
			const char *serial, const char *model);
/*
 * Capacity (in sectors) and LBA48 support from an IDENTIFY block: the
 * LBA48 count of words 100-103 when word 83 or 86 has bit 10, else the
 * LBA28 count of words 60-61.
 */
void aoe_identify_parse(const uint8_t id[AOE_IDENTIFY_LEN], uint64_t *sectors,
			bool *lba48);

/*
 * The port: one handler for the AoE ethertype per net, offering each frame
 * to the endpoints (initiators, targets) in turn until one takes it.  The
 * ethertype is memory-critical while any endpoint says it is.
 */
enum aoe_rx {
	AOE_RX_PASS, /* not for this endpoint */
	AOE_RX_SEEN, /* handled (a broadcast); offer it to the others too */
	AOE_RX_TAKEN, /* handled and freed by the endpoint */
};

struct aoe_endpoint {
	struct list_head node;
	enum aoe_rx (*rcv)(struct aoe_endpoint *ep, struct net_device *dev,
			   struct netbuf *nb, const struct aoe_msg *m);
	bool critical;
};

/* 0, -ENOMEM, or the error of registering the ethertype. */
int aoe_port_join(struct net *net, struct aoe_endpoint *ep);
void aoe_port_leave(struct net *net, struct aoe_endpoint *ep);
void aoe_port_set_critical(struct net *net, struct aoe_endpoint *ep, bool on);

#endif
