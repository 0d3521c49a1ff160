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
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "dev/backends.h"

#define UDP_SPEC_MAX 512

struct udp_priv {
	struct dev_backend_stats st; /* first: see dev_backend_stats() */
	int fd;
	socklen_t peer_len;
	struct sockaddr_storage peer;
};

static int udp_tx_errno(int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)
		return -EAGAIN;
	return -err;
}

static int udp_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct udp_priv *p = dev->priv;

	if (sendto(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&p->peer, p->peer_len) < 0)
		return udp_tx_errno(errno);
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

static ssize_t udp_read_one(void *priv, const struct iovec *iov, unsigned cnt,
			    size_t cap, struct rx_meta *meta)
{
	struct udp_priv *p = priv;
	struct sockaddr_storage from;
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = cnt,
	};
	ssize_t n;

	memset(&from, 0, sizeof(from));
	/* MSG_TRUNC: the true length, and the datagram is consumed. */
	n = recvmsg(p->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -errno;
	if (!udp_from_peer(p, &from)) {
		counter_inc(&p->st.rx_foreign);
		return 0;
	}
	if (n == 0) {
		counter_inc(&p->st.rx_runt);
		return 0;
	}
	return dev_rx_frame(meta, (size_t)n, cap);
}

static ssize_t udp_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			struct rx_meta *meta)
{
	return dev_fd_recv(dev, buf, cap, meta, udp_read_one);
}

static ssize_t udp_recvv(struct net_device *dev, const struct iovec *iov,
			 unsigned cnt, struct rx_meta *meta)
{
	return dev_fd_recvv(dev, iov, cnt, meta, udp_read_one);
}

DEV_FD_PRIV_CHECK(struct udp_priv);

const struct net_device_ops dev_udp_ops = {
	.xmit = udp_xmit,
	.recv = udp_recv,
	.recvv = udp_recvv,
	.close = dev_fd_close,
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
