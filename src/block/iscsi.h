/* SPDX-License-Identifier: MIT */
/*
 * iscsi.h - an iSCSI target (RFC 7143) serving a struct blk_store over our
 * TCP, with enough of SPC-4/SBC-3 for an initiator and libiscsi's test
 * suite: TEST UNIT READY, INQUIRY (VPD 0x00 0x80 0x83 0xb0 0xb1 0xb2),
 * READ CAPACITY 10/16, READ/WRITE 10/12/16, WRITE SAME 10/16, VERIFY
 * 10/12/16, UNMAP, SYNCHRONIZE CACHE 10/16, MODE SENSE 6/10 and REPORT
 * LUNS; anything else is answered CHECK CONDITION, ILLEGAL REQUEST.
 *
 * Memory: a connection is one kmalloc'd struct and four pages, taken when
 * it is accepted (MM_ATOMIC, refused when they are not there), nothing
 * after.  Its state is bounded whatever the initiator does: the target
 * declares MaxRecvDataSegmentLength = one page, so a whole PDU's data fits
 * the receive page; its command window (MaxCmdSN) offers only the free
 * slots of 32 in the task page, and the one command at a time whose data
 * cannot stream keeps it in the hold page (another meanwhile gets TASK SET
 * FULL); each write's data is
 * solicited by R2T one burst at a time and goes to the store PDU by PDU;
 * read data is sent one page-sized Data-In PDU at a time as TCP's send
 * buffer drains, and no PDU is read while one is being sent.  ERL 0: a
 * protocol violation drops the connection with a counted, logged reason.
 */
#ifndef LB_BLOCK_ISCSI_H
#define LB_BLOCK_ISCSI_H

#include <stdbool.h>
#include <stdint.h>
#include "store.h"

struct net;
struct iscsi_target;

#define ISCSI_DEFAULT_IQN "iqn.2026-01.org.lifeboat:disk"

struct iscsi_target_config {
	uint32_t ip; /* 0: any local address (host order) */
	uint16_t port; /* 0: 3260 */
	const char *iqn; /* NULL: ISCSI_DEFAULT_IQN */
	unsigned lun; /* the LUN serving the store (< 256) */
	struct blk_store *store;
	bool read_only;
	unsigned max_clients; /* 0: 8 */
	/*
	 * What the LUN advertises (an initiator's tests need targets that
	 * differ): MAXIMUM UNMAP LBA COUNT in blocks (0: 65536); no logical
	 * block provisioning at all (UNMAP refused); no DPOFUA in MODE SENSE.
	 */
	uint32_t max_unmap;
	bool thick, no_dpofua;
	/*
	 * CHAP (one-way, MD5): with a user name, a login must answer the
	 * target's challenge with this secret (both at most 63 bytes).
	 */
	const char *chap_user, *chap_secret;
};

struct iscsi_target *iscsi_target_create(struct net *net,
					 const struct iscsi_target_config *cfg);
/* Closes the listener and every connection. */
void iscsi_target_destroy(struct iscsi_target *t);
/*
 * Hold every PDU (and login step) until host time @until_ns: the
 * simulator's server stall.  Connections stay open; TCP keeps acking.
 */
void iscsi_target_set_stall(struct iscsi_target *t, uint64_t until_ns);

#endif
