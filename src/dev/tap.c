// SPDX-License-Identifier: MIT
/*
 * tap - a TAP interface: the kernel's own stack is the peer on the other
 * end of the wire, so lifeboat can talk to unmodified servers.
 *
 * Offloads (when the spec says tap:NAME,offload=on): IFF_VNET_HDR
 * puts a virtio-net header before every frame in both directions, and
 * TUNSETOFFLOAD(CSUM|TSO4|TSO6) lets the kernel hand us TCP segments
 * coalesced up to 64 KiB (GSO) with their checksum left partial (we trust
 * the local kernel: csum_unnecessary), one read() for what would be ~44
 * frames of 1500 bytes.  In the other direction TCP hands us super-frames
 * of up to 64 KiB (tx_gso_max) which the kernel segments at the MSS and
 * checksums (GSO TCPV4 with NEEDS_CSUM); every other frame goes plain,
 * checksums done, the header all zero.  When the kernel refuses the
 * header or the offloads, the wire falls back to plain frames: rx_max
 * and tx_gso_max tell the core which (dev.<if>.offload_gso_rx and
 * offload_gso_tx in the statistics), and a log line says.
 * Each read offers room for a 64 KiB frame: the device's receive ring
 * (net/rx_ring.h) keeps those pages between reads, so a small frame
 * costs no page (before the ring, a read allocated sixteen and freed the
 * unused ones, and bench-storage.sh's write_offload_vs_plain was 0.40).
 * Without IFF_VNET_HDR the kernel finishes every checksum and segments
 * every GSO packet before handing frames to us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/compiler.h"
#include "dev/backends.h"

/*
 * Largest frame tun can hand us without vnet headers: the largest MTU
 * plus an Ethernet and a VLAN header.
 */
#define TAP_FRAME_MAX (65535 + 14 + 4)
/* A netbuf's linear part and its fragments, at most. */
#define TAP_IOV_MAX 32

struct tap_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
	bool vnet; /* every frame is preceded by a struct virtio_net_hdr */
	struct virtio_net_hdr rxh; /* where the header of a read lands */
	/*
	 * Where the tail of a frame longer than the caller's buffer goes.
	 * read() on a tun descriptor consumes the frame but returns only
	 * what fit, so without this an oversize frame would pass as a
	 * normal one, cut short.
	 */
	uint8_t sink[TAP_FRAME_MAX];
};

static int tap_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct tap_priv *p = dev->priv;
	/* a plain frame: no GSO, its checksums complete */
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)frame, len } };
	ssize_t n = p->vnet ? writev(p->fd, iov, 2) - (ssize_t)sizeof(h) :
			      write(p->fd, frame, len);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -EAGAIN;
		return -errno;
	}
	/* tun takes a frame whole or not at all; anything else is a bug. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/*
 * A TCP super-frame for the kernel to cut into segments of g->gso_size
 * and checksum (the virtio-net header's GSO and NEEDS_CSUM).  The kernel
 * checks the header against the frame: -EINVAL means it will not take
 * such frames, which the core hears as -EOPNOTSUPP.
 */
static int tap_xmit_gso(struct net_device *dev, const struct iovec *iov,
			unsigned cnt, size_t len, const struct tx_gso *g)
{
	struct tap_priv *p = dev->priv;
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = g->hdr_len,
		.gso_size = g->gso_size,
		.csum_start = g->csum_start,
		.csum_offset = g->csum_offset,
	};
	struct iovec v[TAP_IOV_MAX + 1];
	ssize_t n;

	if (!p->vnet || cnt > TAP_IOV_MAX)
		return -EOPNOTSUPP;
	v[0] = (struct iovec){ &h, sizeof(h) };
	memcpy(v + 1, iov, cnt * sizeof(*iov));
	n = writev(p->fd, v, (int)cnt + 1);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -EAGAIN;
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	}
	if ((size_t)n != len + sizeof(h))
		return -EIO;
	return 0;
}

static ssize_t tap_read_one(void *priv, const struct iovec *iov, unsigned cnt,
			    size_t cap, struct rx_meta *meta)
{
	struct tap_priv *p = priv;
	struct iovec v[TAP_IOV_MAX + 2];
	unsigned k = 0;
	ssize_t n;

	if (cnt > TAP_IOV_MAX)
		return -EINVAL;
	if (p->vnet)
		v[k++] = (struct iovec){ &p->rxh, sizeof(p->rxh) };
	memcpy(v + k, iov, cnt * sizeof(*iov));
	k += cnt;
	/* our MSG_TRUNC: what lands in the sink is the overlength */
	v[k++] = (struct iovec){ .iov_base = p->sink,
				 .iov_len = sizeof(p->sink) };
	n = readv(p->fd, v, (int)k);

	if (n < 0)
		return -errno;
	if (p->vnet) {
		if (n < (ssize_t)sizeof(p->rxh)) {
			counter_inc(&p->st.rx_runt);
			return 0;
		}
		n -= (ssize_t)sizeof(p->rxh);
		/* partial checksum from the local kernel, or one it checked */
		if (p->rxh.flags &
		    (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
			meta->csum_unnecessary = true;
		if (p->rxh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			meta->csum_partial = true;
			meta->csum_start = p->rxh.csum_start;
			meta->csum_offset = p->rxh.csum_offset;
		}
		meta->gso = p->rxh.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	}
	if (n == 0) {
		counter_inc(&p->st.rx_runt);
		return 0;
	}
	return dev_rx_frame(meta, (size_t)n, cap);
}

static ssize_t tap_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			struct rx_meta *meta)
{
	return dev_fd_recv(dev, buf, cap, meta, tap_read_one);
}

static ssize_t tap_recvv(struct net_device *dev, const struct iovec *iov,
			 unsigned cnt, struct rx_meta *meta)
{
	return dev_fd_recvv(dev, iov, cnt, meta, tap_read_one);
}

DEV_FD_PRIV_CHECK(struct tap_priv);

const struct net_device_ops dev_tap_ops = {
	.xmit = tap_xmit,
	.recv = tap_recv,
	.recvv = tap_recvv,
	.xmit_gso = tap_xmit_gso,
	.close = dev_fd_close,
};

int dev_if_query(const char *ifname, unsigned *mtu, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;
	int fd, err = 0;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	/* Any socket reaches the interface ioctls of its namespace. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (mtu) {
		if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
			err = -errno;
			goto out;
		}
		*mtu = (unsigned)ifr.ifr_mtu;
	}
	if (mac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			err = -errno;
			goto out;
		}
		if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
			err = -EPROTONOSUPPORT;
			goto out;
		}
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	}
out:
	close(fd);
	return err;
}

/*
 * Ask for the virtio-net header and the offloads on @fd (after TUNSETIFF
 * with IFF_VNET_HDR).  Returns true when large coalesced frames may come.
 */
static bool tap_offloads(int fd)
{
	int hdr = sizeof(struct virtio_net_hdr);

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return false;
	return ioctl(fd, TUNSETOFFLOAD,
		     (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) ==
	       0;
}

int dev_tap_init(struct net_device *dev, const char *spec)
{
	uint8_t kmac[ETH_ALEN] = { 0 };
	char name[IFNAMSIZ];
	const char *ifname = NULL, *opt;
	bool want_offload = false;
	unsigned mtu = 1500;
	struct tap_priv *p;
	struct ifreq ifr;
	int fd, err;

	/* NAME[,offload=on|off] */
	if (spec) {
		size_t len = strcspn(spec, ",");

		if (len >= IFNAMSIZ)
			return -EINVAL;
		memcpy(name, spec, len);
		name[len] = '\0';
		ifname = name;
		opt = spec[len] ? spec + len + 1 : NULL;
		if (opt && !strcmp(opt, "offload=on"))
			want_offload = true;
		else if (opt && strcmp(opt, "offload=off"))
			return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(p);
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (want_offload ? IFF_VNET_HDR : 0);
	if (ifname)
		memcpy(ifr.ifr_name, ifname, strlen(ifname));
	/* Attaches to a persistent TAP of that name, or creates one. */
	err = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	if (err && want_offload) {
		/* no virtio-net header here: plain frames */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		want_offload = false;
		err = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	}
	if (err) {
		close(fd);
		free(p);
		return err;
	}
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	p->fd = fd;
	p->vnet = want_offload;
	/* header but no offloads: still plain frames, only framed */
	if (want_offload && tap_offloads(fd)) {
		dev->rx_max = NETDEV_RX_MAX;
		/* the same offloads let the kernel segment what we send */
		dev->tx_gso_max = NETDEV_RX_MAX;
	} else if (!want_offload)
		/*
		 * A persistent TAP keeps the offloads an earlier user set, and
		 * without the header the kernel would hand us its GSO frames
		 * raw: clear them (an old kernel that cannot is no worse).
		 */
		ioctl(fd, TUNSETOFFLOAD, 0ul);

	/* Best effort: without them the defaults still make a working wire. */
	dev_if_query(ifr.ifr_name, &mtu, NULL);
	dev_if_query(ifr.ifr_name, NULL, kmac);

	dev->ops = &dev_tap_ops;
	dev->priv = p;
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "%s", ifr.ifr_name);
	/* We are the host behind the wire, not the kernel's interface. */
	dev_mac_generate(dev->mac, ifr.ifr_name, 0x74617000u /* "tap" */);
	if (!memcmp(dev->mac, kmac, ETH_ALEN))
		dev->mac[ETH_ALEN - 1] ^= 1;
	dev->mtu = mtu;
	return fd;
}
