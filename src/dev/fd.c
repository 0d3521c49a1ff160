// SPDX-License-Identifier: MIT
/*
 * fd.c - what the descriptor backends (pair, udp, tap, packet) share.
 */
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
