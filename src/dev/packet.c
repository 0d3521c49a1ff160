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
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "dev/backends.h"

#define VLAN_HLEN 4
#define ETH_P_8021Q_TAG 0x8100

struct packet_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
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
	size_t copied, wire;
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

	wire = (size_t)n;
	copied = lb_min(wire, cap);
	if (aux) {
		if (aux->tp_status &
		    (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID))
			meta->csum_unnecessary = true;
		if (aux->tp_status & TP_STATUS_VLAN_VALID) {
			uint16_t tpid =
				(aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
					aux->tp_vlan_tpid :
					ETH_P_8021Q_TAG;

			copied = packet_put_vlan(iov, copied, cap, tpid,
						 aux->tp_vlan_tci);
			wire += VLAN_HLEN;
		}
	}
	meta->wire_len = (uint32_t)wire;
	return (ssize_t)copied;
}

static ssize_t packet_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			   struct rx_meta *meta)
{
	return dev_fd_recv(dev, buf, cap, meta, packet_read_one);
}

static ssize_t packet_recvv(struct net_device *dev, const struct iovec *iov,
			    unsigned cnt, struct rx_meta *meta)
{
	return dev_fd_recvv(dev, iov, cnt, meta, packet_read_one);
}

DEV_FD_PRIV_CHECK(struct packet_priv);

const struct net_device_ops dev_packet_ops = {
	.xmit = packet_xmit,
	.recv = packet_recv,
	.recvv = packet_recvv,
	.close = dev_fd_close,
};

static int packet_open(int ifindex)
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
	close(fd);
	return err;
}

int dev_packet_init(struct net_device *dev, const char *ifname)
{
	uint8_t kmac[ETH_ALEN] = { 0 };
	struct packet_priv *p;
	unsigned ifindex, mtu;
	int fd, err;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return errno == ENXIO || !errno ? -ENODEV : -errno;
	err = dev_if_query(ifname, &mtu, kmac);
	if (err)
		return err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	fd = packet_open((int)ifindex);
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
