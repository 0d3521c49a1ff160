// SPDX-License-Identifier: MIT
/*
 * udp - each Ethernet frame is one UDP datagram to a fixed peer: a wire
 * between hosts (or processes) that needs no privileges and crosses any
 * IP network.
 *
 * The socket is not connect()ed: a connected UDP socket would filter
 * strangers silently and report ICMP errors from recv, and we want the
 * first counted and the second ignored (a wire that loses a frame is
 * normal).
 *
 * Batching: one recvmmsg() takes up to UDP_RX_BATCH datagrams into slots
 * of the private state, and recv hands them to the core one at a time,
 * copied into the core's buffer as a single read would have stored them:
 * the core still takes, classifies and charges each frame on its own
 * (the emergency rules hold per frame), and a budget that ends with
 * slots still full leaves them for the next poll, which netdev_poll has
 * queued.  xmit copies each frame into a transmit slot and the core's
 * flush (end of the loop iteration) sends the queue with one sendmmsg();
 * a full queue is sent at once.  A frame larger than a transmit slot is
 * sent on its own, after the queue, so order is kept.
 *
 * Memory: the slots are part of the private state, calloc()ed at init
 * (start-up) like the rest: about UDP_RX_BATCH * 9 KiB + UDP_TX_BATCH *
 * 2 KiB per wire.  They are not arena memory and never hold a frame the
 * core has been told about: a frame reaches the core only as a copy.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/compiler.h"
#include "dev/backends.h"

#define UDP_SPEC_MAX 512
#define UDP_RX_BATCH 16
/* the largest frame of any MTU the stack supports */
#define UDP_RX_SLOT NETDEV_SCRATCH
#define UDP_TX_BATCH 32
/* an MTU-1500 frame with a VLAN tag, and then some */
#define UDP_TX_SLOT 2048

struct udp_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
	socklen_t peer_len;
	struct sockaddr_storage peer;

	/* received by the last recvmmsg: slots rx_next..rx_count-1 */
	unsigned rx_next, rx_count;
	struct mmsghdr rxm[UDP_RX_BATCH];
	struct iovec rxiov[UDP_RX_BATCH];
	struct sockaddr_storage rxfrom[UDP_RX_BATCH];
	uint8_t rxbuf[UDP_RX_BATCH][UDP_RX_SLOT];

	/* queued for the next sendmmsg */
	unsigned tx_count;
	unsigned tx_dropped; /* since the last flush */
	struct mmsghdr txm[UDP_TX_BATCH];
	struct iovec txiov[UDP_TX_BATCH];
	uint8_t txbuf[UDP_TX_BATCH][UDP_TX_SLOT];
};

static int udp_tx_errno(int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)
		return -EAGAIN;
	return -err;
}

/* Send the queue: one sendmmsg() when the kernel takes it all. */
static void udp_tx_send(struct udp_priv *p)
{
	unsigned i = 0;

	while (i < p->tx_count) {
		int n = sendmmsg(p->fd, p->txm + i, p->tx_count - i,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		counter_inc(&p->st.tx_calls);

		if (n > 0) {
			i += (unsigned)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (udp_tx_errno(errno) == -EAGAIN) {
			/* the socket's queue is full: the rest is lost */
			p->tx_dropped += p->tx_count - i;
			break;
		}
		/* this datagram was refused; the ones after it may not be */
		p->tx_dropped++;
		i++;
	}
	LB_ASSERT(i <= p->tx_count);
	p->tx_count = 0;
}

static unsigned udp_flush(struct net_device *dev)
{
	struct udp_priv *p = dev->priv;
	unsigned dropped;

	udp_tx_send(p);
	dropped = p->tx_dropped;
	p->tx_dropped = 0;
	return dropped;
}

static int udp_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct udp_priv *p = dev->priv;
	unsigned i;

	if (len > UDP_TX_SLOT) {
		/* after what was queued before it */
		udp_tx_send(p);
		if (sendto(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&p->peer, p->peer_len) < 0)
			return udp_tx_errno(errno);
		return 0;
	}
	if (p->tx_count == UDP_TX_BATCH)
		udp_tx_send(p);
	i = p->tx_count++;
	memcpy(p->txbuf[i], frame, len);
	p->txiov[i].iov_len = len;
	return 0;
}

static bool udp_from_peer(const struct udp_priv *p,
			  const struct sockaddr_storage *from)
{
	if (from->ss_family != p->peer.ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from;
		const struct sockaddr_in *b = (const void *)&p->peer;

		return a->sin_port == b->sin_port &&
		       a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)from;
		const struct sockaddr_in6 *b = (const void *)&p->peer;

		return a->sin6_port == b->sin6_port &&
		       !memcmp(&a->sin6_addr, &b->sin6_addr,
			       sizeof(a->sin6_addr)) &&
		       (!b->sin6_scope_id ||
			a->sin6_scope_id == b->sin6_scope_id);
	}
	return false;
}

/* Take what the socket holds into the slots: their count, or -errno. */
static int udp_rx_refill(struct udp_priv *p)
{
	int n;

	for (unsigned i = 0; i < UDP_RX_BATCH; i++) {
		/* the kernel wrote the lengths of the last batch here */
		p->rxm[i].msg_hdr.msg_namelen = sizeof(p->rxfrom[i]);
		p->rxm[i].msg_hdr.msg_flags = 0;
	}
	do {
		/* MSG_TRUNC: each true length, and the datagrams consumed */
		n = recvmmsg(p->fd, p->rxm, UDP_RX_BATCH,
			     MSG_DONTWAIT | MSG_TRUNC, NULL);
		counter_inc(&p->st.rx_calls);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	LB_ASSERT(n <= UDP_RX_BATCH);
	p->rx_next = 0;
	p->rx_count = (unsigned)n;
	return n;
}

/* Store @len bytes of @src over @cnt buffers, in order. */
static void udp_copy_out(const struct iovec *iov, unsigned cnt,
			 const uint8_t *src, size_t len)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = lb_min(len, iov[i].iov_len);

		memcpy(iov[i].iov_base, src, k);
		src += k;
		len -= k;
	}
}

static ssize_t udp_recvv(struct net_device *dev, const struct iovec *iov,
			 unsigned cnt, struct rx_meta *meta)
{
	struct udp_priv *p = dev->priv;
	size_t cap = 0;

	*meta = (struct rx_meta){ 0 };
	for (unsigned i = 0; i < cnt; i++)
		cap += iov[i].iov_len;
	if (!cap)
		return -EINVAL;
	/*
	 * Bounded: a flood of datagrams that are not frames for us must
	 * not pin the loop here.
	 */
	for (unsigned tries = 0; tries < NETDEV_POLL_BUDGET; tries++) {
		struct mmsghdr *m;
		size_t len;

		if (p->rx_next == p->rx_count) {
			int n = udp_rx_refill(p);

			if (n == 0 || n == -EAGAIN || n == -EWOULDBLOCK)
				return 0;
			if (n < 0)
				return n;
		}
		m = &p->rxm[p->rx_next];
		len = m->msg_len;
		if (!udp_from_peer(p, &p->rxfrom[p->rx_next])) {
			p->rx_next++;
			counter_inc(&p->st.rx_foreign);
			continue;
		}
		if (len == 0) {
			p->rx_next++;
			counter_inc(&p->st.rx_runt);
			continue;
		}
		/*
		 * Longer than a slot and than the caller's buffer: the
		 * core sees it as oversize, as with a single read.  Longer
		 * than a slot only: no frame we could carry, and we no
		 * longer have its tail.
		 */
		if (len > UDP_RX_SLOT && cap > UDP_RX_SLOT) {
			p->rx_next++;
			counter_inc(&p->st.rx_oversize);
			continue;
		}
		udp_copy_out(iov, cnt, p->rxbuf[p->rx_next], lb_min(len, cap));
		p->rx_next++;
		return dev_rx_frame(meta, len, cap);
	}
	return 0;
}

static ssize_t udp_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			struct rx_meta *meta)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };

	return udp_recvv(dev, &iov, 1, meta);
}

static void udp_close(struct net_device *dev)
{
	if (dev->priv)
		udp_flush(dev);
	dev_fd_close(dev);
}

DEV_FD_PRIV_CHECK(struct udp_priv);

const struct net_device_ops dev_udp_ops = {
	.xmit = udp_xmit,
	.recv = udp_recv,
	.recvv = udp_recvv,
	.flush = udp_flush,
	.close = udp_close,
};

/* Decimal 1..65535, nothing else (no sign, no space, no "0x"). */
static int udp_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Split "LOCALPORT@HOST:PORT" in place; HOST may be "[v6]".  0 or -EINVAL.
 */
static int udp_parse_spec(char *s, uint16_t *lport, char **host, char **rport)
{
	char *at = strchr(s, '@'), *colon, *h;
	uint16_t unused;

	if (!at)
		return -EINVAL;
	*at = '\0';
	if (udp_parse_port(s, lport))
		return -EINVAL;
	h = at + 1;
	if (*h == '[') {
		char *end = strchr(h, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		h++;
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
	}
	*colon = '\0';
	if (!*h || udp_parse_port(colon + 1, &unused))
		return -EINVAL;
	*host = h;
	*rport = colon + 1;
	return 0;
}

static int udp_open(struct udp_priv *p, uint16_t lport)
{
	struct sockaddr_storage local;
	socklen_t len;
	int fd;

	memset(&local, 0, sizeof(local));
	local.ss_family = p->peer.ss_family;
	if (local.ss_family == AF_INET) {
		struct sockaddr_in *sin = (void *)&local;

		sin->sin_port = htons(lport);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&local;

		sin6->sin6_port = htons(lport);
		sin6->sin6_addr = in6addr_any;
		len = sizeof(*sin6);
	}

	fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&local, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int dev_udp_init(struct net_device *dev, const char *arg)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		/* No AI_ADDRCONFIG: it hides 127.0.0.1 in a bare namespace. */
		.ai_flags = AI_NUMERICSERV,
	};
	char spec[UDP_SPEC_MAX], *host, *rport;
	struct addrinfo *res;
	struct udp_priv *p;
	uint16_t lport;
	int fd;

	if (!arg || strlen(arg) >= sizeof(spec))
		return -EINVAL;
	strcpy(spec, arg);
	if (udp_parse_spec(spec, &lport, &host, &rport))
		return -EINVAL;
	if (getaddrinfo(host, rport, &hints, &res) || !res)
		return -EINVAL;
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(p->peer)) {
		freeaddrinfo(res);
		return -EINVAL;
	}

	p = calloc(1, sizeof(*p));
	if (!p) {
		freeaddrinfo(res);
		return -ENOMEM;
	}
	memcpy(&p->peer, res->ai_addr, res->ai_addrlen);
	p->peer_len = res->ai_addrlen;
	freeaddrinfo(res);
	for (unsigned i = 0; i < UDP_RX_BATCH; i++) {
		p->rxiov[i] = (struct iovec){ p->rxbuf[i], UDP_RX_SLOT };
		p->rxm[i].msg_hdr = (struct msghdr){
			.msg_name = &p->rxfrom[i],
			.msg_namelen = sizeof(p->rxfrom[i]),
			.msg_iov = &p->rxiov[i],
			.msg_iovlen = 1,
		};
	}
	for (unsigned i = 0; i < UDP_TX_BATCH; i++) {
		p->txiov[i] = (struct iovec){ p->txbuf[i], 0 };
		p->txm[i].msg_hdr = (struct msghdr){
			.msg_name = &p->peer,
			.msg_namelen = p->peer_len,
			.msg_iov = &p->txiov[i],
			.msg_iovlen = 1,
		};
	}

	fd = udp_open(p, lport);
	if (fd < 0) {
		free(p);
		return fd;
	}
	p->fd = fd;

	dev->ops = &dev_udp_ops;
	dev->priv = p;
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "udp%u", lport);
	dev_mac_generate(dev->mac, "udp", lport);
	dev->mtu = 1500;
	return fd;
}
