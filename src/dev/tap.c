// SPDX-License-Identifier: MIT
/*
 * tap - a TAP interface: the kernel's own stack is the peer on the other
 * end of the wire, so lifeboat can talk to unmodified servers.
 *
 * No IFF_VNET_HDR: without it the kernel finishes every checksum and
 * segments every GSO packet before handing frames to us, so what we read
 * is exactly what a real wire would carry.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
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
	ssize_t n = write(p->fd, frame, len);

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

static ssize_t tap_read_one(void *priv, const struct iovec *iov, unsigned cnt,
			    size_t cap, struct rx_meta *meta)
{
	struct tap_priv *p = priv;
	struct iovec v[TAP_IOV_MAX + 1];
	ssize_t n;

	if (cnt > TAP_IOV_MAX)
		return -EINVAL;
	memcpy(v, iov, cnt * sizeof(*iov));
	/* our MSG_TRUNC: what lands in the sink is the overlength */
	v[cnt] = (struct iovec){ .iov_base = p->sink,
				 .iov_len = sizeof(p->sink) };
	n = readv(p->fd, v, (int)cnt + 1);

	if (n < 0)
		return -errno;
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

int dev_tap_init(struct net_device *dev, const char *ifname)
{
	uint8_t kmac[ETH_ALEN] = { 0 };
	unsigned mtu = 1500;
	struct tap_priv *p;
	struct ifreq ifr;
	int fd;

	if (ifname && strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		free(p);
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ifname)
		memcpy(ifr.ifr_name, ifname, strlen(ifname));
	/* Attaches to a persistent TAP of that name, or creates one. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		free(p);
		return err;
	}
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	p->fd = fd;

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
