// SPDX-License-Identifier: MIT
/*
 * packet - AF_PACKET on an existing interface (a veth end, a NIC): we are
 * a separate host on that link, with our own MAC, so the socket listens
 * promiscuously and sends frames as they are.
 *
 * What the kernel does to frames on the way to a packet socket, undone
 * here so the core sees the wire:
 *  - frames leaving through the interface (PACKET_OUTGOING: the kernel's
 *    own, or another socket's) are shown to every tap: ignored, they are
 *    not on the wire towards us (ours are never looped to our socket);
 *  - frames from a local sender may carry an unfinished checksum
 *    (TP_STATUS_CSUMNOTREADY): reported as csum_unnecessary, since no wire
 *    will ever corrupt them;
 *  - a stripped VLAN tag travels in the aux data: put back in the frame;
 *  - GRO may merge frames beyond the MTU: reported as oversize.
 *
 * Receive ring (PACKET_MMAP, TPACKET_V2, unless the spec says
 * "IFNAME,ring=off"): the kernel writes each frame into a slot of a ring
 * mapped into our address space and flips the slot's status; recv copies
 * the frame from the slot into the core's buffer, exactly as read() would
 * have stored it, and hands the slot back at once.  A burst then costs no
 * system call per frame: one epoll wake-up, and netdev_poll takes its
 * budget straight from the ring.  The ring is kernel-shared memory mapped
 * at start-up (about 1 MiB), not the arena: no frame the core sees ever
 * lives there, so the memory rules (each frame taken, classified and
 * charged on its own, reserve or drop) are the core's as before.
 * TPACKET_V3 is not used: it shows a block to user space only when the
 * block is full or its retire timer (milliseconds, in jiffies) fires, so
 * a lone reply on a storage connection would wait a timer tick.  When the
 * kernel refuses the ring, recv falls back to recvmsg(); the transmit
 * side stays send() (one frame per call).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/compiler.h"
#include "dev/backends.h"

#define VLAN_HLEN 4
#define ETH_P_8021Q_TAG 0x8100

/* Ring geometry: slots of a power of two, about this much in all. */
#define PACKET_RING_BYTES (1u << 20)
#define PACKET_RING_SLOTS_MIN 64u

struct packet_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
	/* the receive ring, or NULL (recvmsg) */
	uint8_t *ring;
	size_t ring_len;
	unsigned slot_size, nr_slots, next; /* next: the slot to look at */
};

static int packet_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct packet_priv *p = dev->priv;

	/* Bound socket: the interface and protocol come from bind(). */
	if (send(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -EAGAIN;
		return -errno;
	}
	return 0;
}

/* Byte @i of the frame scattered over @iov. */
static uint8_t *iov_byte(const struct iovec *iov, size_t i)
{
	while (i >= iov->iov_len)
		i -= (iov++)->iov_len;
	return (uint8_t *)iov->iov_base + i;
}

/*
 * Re-insert a VLAN tag the driver stripped into the @copied bytes
 * scattered over @iov (room for @cap); returns the new number of bytes.
 * Byte by byte across the buffers: a rare path, kept simple.
 */
static size_t packet_put_vlan(const struct iovec *iov, size_t copied,
			      size_t cap, uint16_t tpid, uint16_t tci)
{
	const uint8_t tag[VLAN_HLEN] = { (uint8_t)(tpid >> 8), (uint8_t)tpid,
					 (uint8_t)(tci >> 8), (uint8_t)tci };
	size_t len = lb_min(copied + VLAN_HLEN, cap);

	if (copied < 2 * ETH_ALEN)
		return copied;
	for (size_t i = len; i-- > 2 * ETH_ALEN + VLAN_HLEN;)
		*iov_byte(iov, i) = *iov_byte(iov, i - VLAN_HLEN);
	for (size_t i = 0; i < VLAN_HLEN && 2 * ETH_ALEN + i < len; i++)
		*iov_byte(iov, 2 * ETH_ALEN + i) = tag[i];
	return len;
}

/*
 * What the kernel said of a frame, wherever it came from (aux data of
 * recvmsg, or a ring slot's header), applied to the @copied of @wire
 * bytes stored over @iov: the checksum flag and a stripped VLAN tag.
 */
static ssize_t packet_finish(const struct iovec *iov, size_t cap, size_t copied,
			     size_t wire, uint32_t status, uint16_t tci,
			     uint16_t tpid_in, struct rx_meta *meta)
{
	if (status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID))
		meta->csum_unnecessary = true;
	if (status & TP_STATUS_VLAN_VALID) {
		uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ?
					tpid_in :
					ETH_P_8021Q_TAG;

		copied = packet_put_vlan(iov, copied, cap, tpid, tci);
		wire += VLAN_HLEN;
	}
	meta->wire_len = (uint32_t)wire;
	return (ssize_t)copied;
}

static ssize_t packet_read_one(void *priv, const struct iovec *iov,
			       unsigned cnt, size_t cap, struct rx_meta *meta)
{
	struct packet_priv *p = priv;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll from;
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = cnt,
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
	};
	const struct tpacket_auxdata *aux = NULL;
	struct cmsghdr *c;
	ssize_t n;

	memset(&from, 0, sizeof(from));
	/* MSG_TRUNC: the true length, and the frame is consumed. */
	n = recvmsg(p->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -errno;
	/* Backstop for kernels without PACKET_IGNORE_OUTGOING. */
	if (from.sll_pkttype == PACKET_OUTGOING) {
		counter_inc(&p->st.rx_outgoing);
		return 0;
	}
	if (n == 0) {
		counter_inc(&p->st.rx_runt);
		return 0;
	}
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_PACKET &&
		    c->cmsg_type == PACKET_AUXDATA &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*aux)))
			aux = (const void *)CMSG_DATA(c);
	if (!aux)
		return packet_finish(iov, cap, lb_min((size_t)n, cap),
				     (size_t)n, 0, 0, 0, meta);
	return packet_finish(iov, cap, lb_min((size_t)n, cap), (size_t)n,
			     aux->tp_status, aux->tp_vlan_tci,
			     aux->tp_vlan_tpid, meta);
}

/* Store @len bytes of @src over @cnt buffers, in order. */
static void packet_copy_out(const struct iovec *iov, unsigned cnt,
			    const uint8_t *src, size_t len)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = lb_min(len, iov[i].iov_len);

		memcpy(iov[i].iov_base, src, k);
		src += k;
		len -= k;
	}
}

/*
 * The next frame from the ring: the same contract as packet_read_one.
 * The slot goes back to the kernel before we return, whatever it held.
 */
static ssize_t packet_ring_one(void *priv, const struct iovec *iov,
			       unsigned cnt, size_t cap, struct rx_meta *meta)
{
	struct packet_priv *p = priv;
	uint8_t *slot = p->ring + (size_t)p->next * p->slot_size;
	struct tpacket2_hdr *h = (void *)slot;
	const struct sockaddr_ll *from =
		(const void *)(slot + TPACKET_ALIGN(sizeof(*h)));
	/* acquire: the frame's bytes are read after the kernel's flip */
	uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
	size_t snap, wire, copied;
	ssize_t ret;

	if (!(status & TP_STATUS_USER))
		return -EAGAIN;
	snap = h->tp_snaplen;
	wire = h->tp_len;
	/* a header the kernel wrote, but checked all the same */
	LB_ASSERT(h->tp_mac + snap <= p->slot_size);
	if (from->sll_pkttype == PACKET_OUTGOING) {
		counter_inc(&p->st.rx_outgoing);
		ret = 0;
	} else if (wire == 0) {
		counter_inc(&p->st.rx_runt);
		ret = 0;
	} else if (snap < wire && snap < cap) {
		/*
		 * Cut by the slot (sized for the MTU), not by the caller:
		 * a GRO-merged frame beyond what we carry, and its tail is
		 * gone.
		 */
		counter_inc(&p->st.rx_oversize);
		ret = 0;
	} else {
		copied = lb_min(snap, cap);
		packet_copy_out(iov, cnt, slot + h->tp_mac, copied);
		ret = packet_finish(iov, cap, copied, wire, status,
				    h->tp_vlan_tci, h->tp_vlan_tpid, meta);
	}
	/* release: our reads of the slot are done before the kernel reuses it */
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	p->next = (p->next + 1) % p->nr_slots;
	return ret;
}

static dev_read_one_fn *packet_reader(const struct net_device *dev)
{
	const struct packet_priv *p = dev->priv;

	return p->ring ? packet_ring_one : packet_read_one;
}

static ssize_t packet_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			   struct rx_meta *meta)
{
	return dev_fd_recv(dev, buf, cap, meta, packet_reader(dev));
}

static ssize_t packet_recvv(struct net_device *dev, const struct iovec *iov,
			    unsigned cnt, struct rx_meta *meta)
{
	return dev_fd_recvv(dev, iov, cnt, meta, packet_reader(dev));
}

static void packet_close(struct net_device *dev)
{
	struct packet_priv *p = dev->priv;

	if (p && p->ring)
		munmap(p->ring, p->ring_len);
	dev_fd_close(dev);
}

bool dev_packet_ring(const struct net_device *dev)
{
	const struct packet_priv *p = dev->priv;

	return dev->ops == &dev_packet_ops && p && p->ring;
}

DEV_FD_PRIV_CHECK(struct packet_priv);

const struct net_device_ops dev_packet_ops = {
	.xmit = packet_xmit,
	.recv = packet_recv,
	.recvv = packet_recvv,
	.close = packet_close,
};

/*
 * Map a TPACKET_V2 receive ring on @fd for frames of up to @mtu bytes of
 * payload; 0 or -errno (the caller then reads with recvmsg).
 */
static int packet_ring_open(struct packet_priv *p, unsigned mtu)
{
	const int v2 = TPACKET_V2;
	/* header, address, and the frame with a VLAN tag put back */
	size_t need = TPACKET_ALIGN(TPACKET2_HDRLEN) + 64 + ETH_HLEN +
		      VLAN_HLEN + mtu;
	struct tpacket_req req = { 0 };
	unsigned slot = 2048;
	void *ring;

	while (slot < need)
		slot *= 2;
	req.tp_frame_size = slot;
	/* a block of one page or one slot, whichever is larger */
	req.tp_block_size = lb_max(slot, 4096u);
	req.tp_frame_nr =
		lb_max(PACKET_RING_BYTES / slot, PACKET_RING_SLOTS_MIN);
	req.tp_block_nr =
		req.tp_frame_nr / (req.tp_block_size / req.tp_frame_size);
	if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) <
		    0 ||
	    setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) <
		    0)
		return -errno;
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		    PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (ring == MAP_FAILED) {
		int err = -errno;
		struct tpacket_req none = { 0 };

		/* back to a plain socket queue */
		setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &none,
			   sizeof(none));
		return err;
	}
	p->ring = ring;
	p->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	p->slot_size = slot;
	p->nr_slots = req.tp_frame_nr;
	p->next = 0;
	return 0;
}

static int packet_open(struct packet_priv *p, int ifindex, unsigned mtu,
		       bool ring)
{
	const int one = 1;
	struct packet_mreq mr = {
		.mr_ifindex = ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	socklen_t len = sizeof(int);
	int fd, err, soerr;

	/*
	 * Protocol 0 receives nothing until bind(): no frame of another
	 * interface can slip into the queue in between.
	 */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		goto fail;
	/* Older kernels lack it; recv checks sll_pkttype as well. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) < 0 &&
	    errno != ENOPROTOOPT)
		goto fail;
	/* before bind: nothing can be queued outside the ring yet */
	p->fd = fd;
	if (ring)
		packet_ring_open(p, mtu);
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) <
	    0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	/*
	 * Binding to an interface that is down leaves ENETDOWN pending; the
	 * socket still hooks in when it comes up, so that is not an error.
	 */
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return fd;
fail:
	err = -errno;
	if (p->ring)
		munmap(p->ring, p->ring_len);
	p->ring = NULL;
	close(fd);
	return err;
}

int dev_packet_init(struct net_device *dev, const char *spec)
{
	uint8_t kmac[ETH_ALEN] = { 0 };
	char ifname[IFNAMSIZ];
	struct packet_priv *p;
	unsigned ifindex, mtu;
	const char *comma;
	bool ring = true;
	size_t len;
	int fd, err;

	if (!spec)
		return -EINVAL;
	comma = strchr(spec, ',');
	len = comma ? (size_t)(comma - spec) : strlen(spec);
	if (comma) {
		if (!strcmp(comma + 1, "ring=off"))
			ring = false;
		else if (strcmp(comma + 1, "ring=on"))
			return -EINVAL;
	}
	if (!len || len >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifname, spec, len);
	ifname[len] = '\0';
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return errno == ENXIO || !errno ? -ENODEV : -errno;
	err = dev_if_query(ifname, &mtu, kmac);
	if (err)
		return err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	fd = packet_open(p, (int)ifindex, mtu, ring);
	if (fd < 0) {
		free(p);
		return fd;
	}
	p->fd = fd;

	dev->ops = &dev_packet_ops;
	dev->priv = p;
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "%s", ifname);
	/* Our own address: the kernel's would make us its twin on the link. */
	dev_mac_generate(dev->mac, ifname, 0x70636b00u /* "pck" */);
	if (!memcmp(dev->mac, kmac, ETH_ALEN))
		dev->mac[ETH_ALEN - 1] ^= 1;
	dev->mtu = mtu;
	return fd;
}
