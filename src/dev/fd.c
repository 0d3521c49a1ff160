// SPDX-License-Identifier: MIT
/*
 * fd.c - what the descriptor backends (pair, udp, tap, packet) share.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "backends.h"

void dev_fd_close(struct net_device *dev)
{
	struct dev_fd_priv *p = dev->priv;

	if (!p)
		return;
	/* for AF_PACKET this also drops the promiscuous membership */
	close(p->fd);
	free(p);
	dev->priv = NULL;
}

ssize_t dev_fd_recvv(struct net_device *dev, const struct iovec *iov,
		     unsigned cnt, struct rx_meta *meta,
		     dev_read_one_fn *read_one)
{
	size_t cap = 0;

	*meta = (struct rx_meta){ 0 };
	for (unsigned i = 0; i < cnt; i++)
		cap += iov[i].iov_len;
	if (!cap)
		return -EINVAL;
	/* Bounded: a flood of messages that are not frames for us (empty,
	 * strangers', our own) must not pin the loop here. */
	for (unsigned tries = 0; tries < NETDEV_POLL_BUDGET; tries++) {
		ssize_t n = read_one(dev->priv, iov, cnt, cap, meta);

		if (n > 0)
			return n;
		if (n == 0 || n == -EINTR)
			continue;
		return n == -EAGAIN || n == -EWOULDBLOCK ? 0 : n;
	}
	return 0;
}

ssize_t dev_fd_recv(struct net_device *dev, uint8_t *buf, size_t cap,
		    struct rx_meta *meta, dev_read_one_fn *read_one)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };

	return dev_fd_recvv(dev, &iov, 1, meta, read_one);
}
