// SPDX-License-Identifier: MIT
/*
 * wire.c - from a spec string to a registered, watched device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backends.h"
#include "wire.h"

static void wire_readable(struct io_watch *w, uint32_t revents)
{
	netdev_readable(container_of(w, struct net_device, watch));
}

static void wire_release(struct net_device *dev)
{
	free(dev);
}

int wire_open(struct net *net, const char *spec, struct net_device **out)
{
	struct log *log = &net->host->log;
	struct net_device *dev;
	const char *arg = strchr(spec, ':');
	size_t kind_len = arg ? (size_t)(arg - spec) : strlen(spec);
	int fd, err;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	if (!arg || !arg[1]) {
		fd = -EINVAL;
	} else if (kind_len == 4 && !strncmp(spec, "pair", 4)) {
		char *end;
		long v = strtol(arg + 1, &end, 10);

		fd = (*end || v < 0 || v > INT32_MAX) ?
			     -EINVAL :
			     dev_pair_init(dev, (int)v);
	} else if (kind_len == 3 && !strncmp(spec, "udp", 3)) {
		fd = dev_udp_init(dev, arg + 1);
	} else if (kind_len == 3 && !strncmp(spec, "tap", 3)) {
		fd = dev_tap_init(dev, arg + 1);
	} else if (kind_len == 6 && !strncmp(spec, "packet", 6)) {
		fd = dev_packet_init(dev, arg + 1);
	} else {
		lb_err(log,
		       "wire '%s': unknown kind (pair:FD, udp:LPORT@HOST:PORT, tap:NAME, packet:IFNAME)",
		       spec);
		free(dev);
		return -EINVAL;
	}
	if (fd < 0) {
		lb_err(log, "wire '%s': %s", spec, strerror(-fd));
		free(dev);
		return fd;
	}
	err = netdev_register(net, dev);
	if (!err)
		err = loop_watch(net->host->loop, &dev->watch, fd, LOOP_IN,
				 wire_readable);
	if (err) {
		lb_err(log, "wire '%s': %s", spec, strerror(-err));
		if (dev->net)
			netdev_unregister(dev);
		else if (dev->ops->close)
			dev->ops->close(dev);
		free(dev);
		return err;
	}
	dev->release = wire_release;
	if (dev->rx_max > dev->mtu + ETH_HLEN)
		lb_info(log,
			"wire '%s': offloads on: coalesced frames up to %u bytes received",
			spec, dev->rx_max);
	if (dev_packet_ring(dev))
		lb_info(log, "wire '%s': receive ring (PACKET_MMAP TPACKET_V2)",
			spec);
	*out = dev;
	return 0;
}
