// SPDX-License-Identifier: MIT
/*
 * pair - frames over an AF_UNIX SOCK_SEQPACKET socket: message boundaries
 * are frame boundaries, and nothing needs privileges, so two hosts in one
 * process or in two processes can be wired together anywhere.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "dev/backends.h"

struct pair_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
};

static int pair_tx_errno(int err)
{
	/* A full queue is congestion, not a fault: the core drops and counts. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)
		return -EAGAIN;
	return -err;
}

static int pair_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct pair_priv *p = dev->priv;

	/* MSG_NOSIGNAL: a vanished peer is -EPIPE, not a dead process. */
	if (send(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return pair_tx_errno(errno);
	return 0;
}

/*
 * recv() returns 0 both for an empty message and for a closed peer;
 * only the second leaves the socket hung up.
 */
static bool pair_peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	if (poll(&pfd, 1, 0) < 0)
		return false;
	return pfd.revents & (POLLHUP | POLLRDHUP);
}

static ssize_t pair_read_one(void *priv, const struct iovec *iov, unsigned cnt,
			     size_t cap, struct rx_meta *meta)
{
	struct pair_priv *p = priv;
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
			      .msg_iovlen = cnt };
	/* MSG_TRUNC: the true length, and the message is consumed. */
	ssize_t n = recvmsg(p->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return -errno;
	if (n == 0) {
		if (pair_peer_gone(p->fd))
			return -EPIPE;
		counter_inc(&p->st.rx_runt);
		return 0;
	}
	return dev_rx_frame(meta, (size_t)n, cap);
}

static ssize_t pair_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			 struct rx_meta *meta)
{
	return dev_fd_recv(dev, buf, cap, meta, pair_read_one);
}

static ssize_t pair_recvv(struct net_device *dev, const struct iovec *iov,
			  unsigned cnt, struct rx_meta *meta)
{
	return dev_fd_recvv(dev, iov, cnt, meta, pair_read_one);
}

DEV_FD_PRIV_CHECK(struct pair_priv);

const struct net_device_ops dev_pair_ops = {
	.xmit = pair_xmit,
	.recv = pair_recv,
	.recvv = pair_recvv,
	.close = dev_fd_close,
};

int dev_pair_init(struct net_device *dev, int fd)
{
	struct pair_priv *p;
	int type;
	socklen_t len = sizeof(type);

	if (fd < 0)
		return -EBADF;
	/* A stream socket would merge frames; a datagram one has no peer. */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = fd;

	dev->ops = &dev_pair_ops;
	dev->priv = p;
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "pair%d", fd);
	dev_mac_generate(dev->mac, "pair", (uint32_t)fd);
	dev->mtu = 1500;
	return fd;
}

int dev_pair_create(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, fds) < 0)
		return -errno;
	return 0;
}
