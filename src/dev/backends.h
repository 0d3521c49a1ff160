/* SPDX-License-Identifier: MIT */
/*
 * backends.h - the wires that reach the outside world through a file
 * descriptor: pair (AF_UNIX SOCK_SEQPACKET), udp (one frame per datagram),
 * tap (/dev/net/tun) and packet (AF_PACKET on an existing interface).
 *
 * Each init function fills dev->ops, dev->priv, dev->name (when empty),
 * dev->mac and dev->mtu and returns the descriptor the loop must watch for
 * LOOP_IN, or -errno.  The backends know nothing of the network stack: they
 * move whole Ethernet frames (no FCS) between the descriptor and the
 * caller's buffer, so they can be tested on their own.
 *
 * Memory: the private state is calloc()ed by the init function (start-up)
 * and freed, with the descriptor closed, by ops->close.  xmit and recv
 * never allocate and never block.
 *
 * recv contract shared by all four: returns the number of bytes stored in
 * the buffer, 0 when nothing is pending, or -errno.  meta->wire_len is
 * always the frame's true length; a frame longer than @cap is consumed
 * whole, its first @cap bytes are stored, recv returns @cap and
 * meta->wire_len > @cap tells the core to drop it.  @cap must be > 0.
 * Messages that are not frames for us (empty messages, udp datagrams from
 * another source, frames AF_PACKET saw leaving the interface) are consumed
 * and counted in struct dev_backend_stats, never returned.
 * -EPIPE from recv or xmit means the wire is gone for good (pair peer
 * closed); the descriptor then stays readable, so the core must stop
 * watching it.
 *
 * xmit contract: one write of the whole frame; -EAGAIN when the kernel
 * queue is full (EAGAIN, ENOBUFS), other -errno as the kernel said.
 * udp queues instead (see udp.c) and sends at ops->flush, which the core
 * calls at the end of the loop iteration; whoever drives a backend
 * without the core calls it before expecting the frames on the wire.
 */
#ifndef LB_DEV_BACKENDS_H
#define LB_DEV_BACKENDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "core/stats.h"
#include "net/netdev.h"

/*
 * What a backend consumed without handing it to the core.  Embedded first
 * in every backend's private state, so dev_backend_stats() can find it.
 */
struct dev_backend_stats {
	struct counter rx_foreign; /* udp: datagram from another source */
	struct counter rx_runt; /* empty message: not a frame */
	struct counter rx_outgoing; /* packet: leaving, not arriving */
	struct counter rx_oversize; /* udp, packet ring: longer than any frame
				     * we carry, its tail lost */
	struct counter rx_calls, tx_calls; /* udp: recvmmsg, sendmmsg made */
};

/*
 * The head every backend's private state starts with (the same members in
 * the same order), so that closing is shared.
 */
struct dev_fd_priv {
	struct dev_backend_stats st;
	int fd;
};

#define DEV_FD_PRIV_CHECK(type)                                            \
	_Static_assert(offsetof(type, st) ==                               \
				       offsetof(struct dev_fd_priv, st) && \
			       offsetof(type, fd) ==                       \
				       offsetof(struct dev_fd_priv, fd),   \
		       #type " must start like struct dev_fd_priv")

/* ops->close of the descriptor backends: close it, free the state. */
void dev_fd_close(struct net_device *dev);

/*
 * One message read into @cnt buffers of @cap bytes in all: returns the
 * bytes stored for a frame (having set meta->wire_len), 0 for a message
 * that is not a frame for us (counted by it), or -errno (-EAGAIN: nothing
 * pending).
 */
typedef ssize_t dev_read_one_fn(void *priv, const struct iovec *iov,
				unsigned cnt, size_t cap, struct rx_meta *meta);

/*
 * ops->recv and ops->recvv of the descriptor backends, around their
 * @read_one.  These apply the recv contract above: at most
 * NETDEV_POLL_BUDGET messages, EINTR retried.
 */
ssize_t dev_fd_recv(struct net_device *dev, uint8_t *buf, size_t cap,
		    struct rx_meta *meta, dev_read_one_fn *read_one);
ssize_t dev_fd_recvv(struct net_device *dev, const struct iovec *iov,
		     unsigned cnt, struct rx_meta *meta,
		     dev_read_one_fn *read_one);

/* A frame of @wire bytes read into a @cap-byte buffer: what recv returns. */
static inline ssize_t dev_rx_frame(struct rx_meta *meta, size_t wire,
				   size_t cap)
{
	meta->wire_len = (uint32_t)wire;
	return (ssize_t)(wire < cap ? wire : cap);
}

extern const struct net_device_ops dev_pair_ops;
extern const struct net_device_ops dev_udp_ops;
extern const struct net_device_ops dev_tap_ops;
extern const struct net_device_ops dev_packet_ops;

/*
 * An existing SOCK_SEQPACKET descriptor, one frame per message.  Its flags
 * are left alone (every call passes MSG_DONTWAIT).  On success the device
 * owns @fd (ops->close closes it); on failure the caller still does.
 */
int dev_pair_init(struct net_device *dev, int fd);
/* socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_NONBLOCK|SOCK_CLOEXEC). */
int dev_pair_create(int fds[2]);

/*
 * "LOCALPORT@HOST:PORT" (HOST: IPv4, [IPv6] or a name; ports 1..65535):
 * bind the wildcard address of HOST's family to LOCALPORT, send each
 * frame as one datagram to HOST:PORT, drop datagrams from any other
 * source (rx_foreign).  A bad or unresolvable spec is -EINVAL.
 */
int dev_udp_init(struct net_device *dev, const char *arg);

/*
 * Attach to the TAP interface named by @spec, "NAME[,offload=on|off]"
 * (IFF_TAP|IFF_NO_PI; with offload=on also IFF_VNET_HDR and the TCP
 * offloads unless refused, then dev->rx_max is NETDEV_RX_MAX), persistent or created here
 * (then it vanishes on close); NULL or "" lets the kernel choose the
 * name, which is copied into dev->name.
 */
int dev_tap_init(struct net_device *dev, const char *spec);

/*
 * AF_PACKET on the existing interface named by @spec,
 * "IFNAME[,ring=on|off]", all ethertypes, in
 * promiscuous mode: we are a host of our own behind that interface.
 * Frames are received through a mapped ring (see packet.c) unless
 * ring=off or the kernel refuses one; dev_packet_ring() says which.
 * meta->csum_unnecessary is set for frames whose checksum the kernel
 * left unfinished (a local sender) or has verified.  dev->mtu is the
 * interface's MTU.
 */
int dev_packet_init(struct net_device *dev, const char *spec);
bool dev_packet_ring(const struct net_device *dev);

/*
 * MTU (may be NULL) and MAC (may be NULL) of the kernel interface
 * @ifname in the caller's network namespace; 0 or -errno.
 */
int dev_if_query(const char *ifname, unsigned *mtu, uint8_t mac[ETH_ALEN]);

/*
 * A locally administered unicast MAC derived from @tag and @salt, the same
 * on every run, so traces and captures compare across runs.
 */
static inline void dev_mac_generate(uint8_t mac[ETH_ALEN], const char *tag,
				    uint32_t salt)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
	unsigned i;

	for (; *tag; tag++)
		h = (h ^ (uint8_t)*tag) * 0x100000001b3ull;
	for (i = 0; i < 4; i++)
		h = (h ^ ((salt >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & ~0x01u) | 0x02u);
}

/*
 * The counters of a device opened by one of these backends, or NULL for
 * any other kind of device.
 */
static inline struct dev_backend_stats *
dev_backend_stats(const struct net_device *dev)
{
	if (dev->ops != &dev_pair_ops && dev->ops != &dev_udp_ops &&
	    dev->ops != &dev_tap_ops && dev->ops != &dev_packet_ops)
		return NULL;
	return dev->priv;
}

#endif
