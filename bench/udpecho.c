// SPDX-License-Identifier: MIT
/*
 * udpecho - a UDP echo server and a windowed echo client on kernel sockets,
 * for `scripts/bench-net.sh`.  A benchmark tool, not part of the library:
 * plain libc, no arena.
 *
 *   udpecho server PORT [--bind ADDR] [--seconds S]
 *   udpecho client HOST PORT [--size N] [--window W] [--seconds S]
 *                  [--warmup S] [--timeout-ms T] [--count C]
 *
 * The client keeps W datagrams of N >= 20 bytes outstanding (default 64
 * bytes, window 1, 3 s, timeout 200 ms).  Each carries a sequence number,
 * its send time and a pattern derived from the sequence number; an echo
 * counts as received only if it is N bytes long, names a datagram still
 * outstanding and carries the pattern intact (else `bad`; one whose
 * datagram already timed out is `late`).  A datagram not echoed within
 * the timeout is counted lost and its slot sends a new one, so a loss never
 * stalls the window.  After the warm-up (not counted) and S seconds it
 * prints one line:
 *
 *   udpecho: size=N window=W sent=.. received=.. lost=.. bad=.. late=..
 *            inflight=.. seconds=.. pps=.. MBps=.. rtt_us_p50=.. rtt_us_p99=..
 *
 * (one line), where pps counts echoed datagrams per second and MBps their
 * payload bytes (one direction, 10^6 bytes) per second; inflight were
 * still outstanding at the end.  It exits 0 when at least one echo came
 * back, 1 otherwise, and always by the deadline plus 2 s (a timer ends it
 * with status 3 whatever happens).  The server echoes every datagram to
 * its sender until SIGINT/SIGTERM or --seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x6c626563u /* "lbec" */
#define HDR_LEN 20 /* magic, seq, send time */
#define MAX_SIZE 65507
#define MAX_WINDOW 4096
#define BATCH 64
#define HIST_FINE 100000 /* 0.1 us buckets up to 10 ms */
#define HIST_COARSE 10000 /* then 1 ms buckets up to 10 s */

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "udpecho: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double parse_num(const char *s, const char *what, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		die("bad %s '%s' (%g..%g)", what, s, lo, hi);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t pattern(uint64_t seq, size_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

/* Writes the datagram for @seq sent at @t (size >= HDR_LEN). */
static void fill(uint8_t *buf, size_t size, uint64_t seq, uint64_t t)
{
	size_t i;

	put32(buf, MAGIC);
	put64(buf + 4, seq);
	put64(buf + 12, t);
	for (i = HDR_LEN; i < size; i++)
		buf[i] = pattern(seq, i);
}

static bool intact(const uint8_t *buf, size_t size, uint64_t seq)
{
	size_t i;

	for (i = HDR_LEN; i < size; i++)
		if (buf[i] != pattern(seq, i))
			return false;
	return true;
}

/* ---- server ------------------------------------------------------------ */

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int run_server(int argc, char **argv)
{
	static uint8_t bufs[BATCH][MAX_SIZE + 1];
	struct sockaddr_storage from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	struct sockaddr_in sin;
	const char *bind_addr = NULL;
	double seconds = 0;
	unsigned long long echoed = 0;
	uint64_t deadline = 0;
	struct timeval tick = { .tv_sec = 0, .tv_usec = 100000 };
	int fd, port, i, one = 1;

	if (argc < 1)
		die("usage: udpecho server PORT [--bind ADDR] [--seconds S]");
	port = (int)parse_num(argv[0], "port", 1, 65535);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_addr = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = parse_num(argv[++i], "seconds", 0, 86400);
		else
			die("server: unknown argument '%s'", argv[i]);
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (seconds > 0)
		deadline = now_ns() + (uint64_t)(seconds * 1e9);

	/*
	 * Blocking receive with a timeout, so the stop flag and the deadline
	 * are looked at every 100 ms: one recvmmsg and one sendmmsg per
	 * batch, no poll in between.
	 */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind_addr && inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1)
		die("bad address '%s'", bind_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind port %d: %s", port, strerror(errno));
	printf("udpecho: serving on port %d\n", port);
	fflush(stdout);

	while (!stop_flag && (!deadline || now_ns() < deadline)) {
		int n, sent;

		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		/* An echo the socket cannot take now is dropped, as by a wire. */
		for (sent = 0; sent < n;) {
			int k = sendmmsg(fd, msgs + sent, (unsigned)(n - sent),
					 MSG_DONTWAIT);

			if (k <= 0)
				break;
			sent += k;
		}
		echoed += (unsigned long long)sent;
	}
	fprintf(stderr, "udpecho: server echoed %llu datagrams\n", echoed);
	close(fd);
	return 0;
}

/* ---- client ------------------------------------------------------------ */

struct slot {
	uint64_t gen;
	uint64_t seq;
	uint64_t sent_ns;
	bool busy;
	bool counted; /* sent after the warm-up */
};

struct client {
	int fd;
	size_t size;
	unsigned window;
	uint64_t timeout_ns;
	uint64_t issued;
	uint64_t max_count; /* datagrams to send at most, 0: no limit */
	struct slot *slots;
	/* counted after the warm-up */
	bool counting;
	bool send_failed; /* back off for a millisecond */
	unsigned long long sent, received, lost, bad, late, send_errors;
	unsigned long long recv_errors;
	uint32_t *hist_fine;
	uint32_t *hist_coarse;
	unsigned long long hist_n;
};

static void hist_add(struct client *c, uint64_t ns)
{
	uint64_t b = ns / 100;

	if (b < HIST_FINE) {
		c->hist_fine[b]++;
	} else {
		b = ns / 1000000;
		c->hist_coarse[b < HIST_COARSE ? b : HIST_COARSE - 1]++;
	}
	c->hist_n++;
}

/* The q-quantile of the round-trip times, in microseconds. */
static double hist_quantile(const struct client *c, double q)
{
	unsigned long long rank, seen = 0;
	size_t i;

	if (!c->hist_n)
		return 0;
	rank = (unsigned long long)(q * (double)(c->hist_n - 1)) + 1;
	for (i = 0; i < HIST_FINE; i++) {
		seen += c->hist_fine[i];
		if (seen >= rank)
			return ((double)i + 0.5) / 10.0;
	}
	for (i = 0; i < HIST_COARSE; i++) {
		seen += c->hist_coarse[i];
		if (seen >= rank)
			return ((double)i + 0.5) * 1000.0;
	}
	return (double)HIST_COARSE * 1000.0;
}

/* Sends @n prepared datagrams; frees the slots of those not taken. */
static bool flush(struct client *c, struct mmsghdr *msgs, const unsigned *idx,
		  unsigned n)
{
	int k = sendmmsg(c->fd, msgs, n, MSG_DONTWAIT);
	unsigned j;

	if (k < 0) {
		/* a hard error (e.g. no route): do not spin on POLLOUT */
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS) {
			c->send_failed = true;
			if (c->counting)
				c->send_errors++;
		}
		k = 0;
	}
	if (c->counting)
		c->sent += (unsigned)k;
	for (j = (unsigned)k; j < n; j++)
		c->slots[idx[j]].busy = false;
	return (unsigned)k == n;
}

/*
 * Sends a fresh datagram from every free slot, in batches.  Slot i sends
 * sequence numbers gen * window + i, so an echo finds its slot as
 * seq % window and a stale echo is told by its sequence number.  Returns
 * false when the socket would not take them all (poll for POLLOUT).
 */
static bool fill_window(struct client *c, uint8_t *txbuf)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned idx[BATCH];
	unsigned i, n = 0;
	uint64_t t = now_ns();

	for (i = 0; i < c->window; i++) {
		struct slot *s = &c->slots[i];

		if (s->busy)
			continue;
		if (c->max_count && c->issued >= c->max_count)
			break;
		c->issued++;
		s->seq = s->gen++ * c->window + i;
		s->sent_ns = t;
		s->busy = true;
		s->counted = c->counting;
		idx[n] = i;
		iov[n].iov_base = txbuf + (size_t)n * c->size;
		iov[n].iov_len = c->size;
		fill(iov[n].iov_base, c->size, s->seq, t);
		memset(&msgs[n], 0, sizeof(msgs[n]));
		msgs[n].msg_hdr.msg_iov = &iov[n];
		msgs[n].msg_hdr.msg_iovlen = 1;
		if (++n == BATCH) {
			if (!flush(c, msgs, idx, n))
				return false;
			n = 0;
			t = now_ns();
		}
	}
	return n ? flush(c, msgs, idx, n) : true;
}

/* Reads every echo waiting and matches it with its slot. */
static void drain(struct client *c, uint8_t (*rxbufs)[MAX_SIZE + 1])
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t t;
	int i, n;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = rxbufs[i];
			iov[i].iov_len = MAX_SIZE + 1;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(c->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* e.g. ECONNREFUSED from an ICMP error: keep going */
			if (c->counting)
				c->recv_errors++;
			return;
		}
		if (n == 0)
			return;
		t = now_ns();

		for (i = 0; i < n; i++) {
			const uint8_t *b = rxbufs[i];
			size_t len = msgs[i].msg_len;
			uint64_t seq;
			struct slot *s;

			if (len != c->size || len < HDR_LEN ||
			    get32(b) != MAGIC) {
				if (c->counting)
					c->bad++;
				continue;
			}
			seq = get64(b + 4);
			s = &c->slots[seq % c->window];
			if (!s->busy || s->seq != seq) {
				/* echoed after its timeout, or a duplicate */
				if (c->counting)
					c->late++;
				continue;
			}
			if (!intact(b, len, seq) ||
			    get64(b + 12) != s->sent_ns) {
				if (c->counting)
					c->bad++;
				continue;
			}
			s->busy = false;
			if (s->counted) {
				c->received++;
				hist_add(c, t - s->sent_ns);
			}
		}
		if (n < BATCH)
			return;
	}
}

/* Frees the slots whose datagram timed out; returns the next expiry. */
static uint64_t expire(struct client *c, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned i;

	for (i = 0; i < c->window; i++) {
		struct slot *s = &c->slots[i];

		if (!s->busy)
			continue;
		if (now >= s->sent_ns + c->timeout_ns) {
			s->busy = false;
			if (s->counted)
				c->lost++;
		} else if (s->sent_ns + c->timeout_ns < next) {
			next = s->sent_ns + c->timeout_ns;
		}
	}
	return next;
}

static void on_alarm(int sig)
{
	static const char msg[] = "udpecho: deadline passed, giving up\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

static int run_client(int argc, char **argv)
{
	static uint8_t rxbufs[BATCH][MAX_SIZE + 1];
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_DGRAM };
	struct itimerval limit = { 0 };
	struct addrinfo *ai;
	struct client c;
	double seconds = 3, warmup = 0, elapsed, limit_s;
	uint64_t start, counting_at, deadline;
	unsigned inflight = 0;
	uint8_t *txbuf;
	int i, err, bufsz;

	if (argc < 2)
		die("usage: udpecho client HOST PORT [--size N] [--window W] "
		    "[--seconds S] [--warmup S] [--timeout-ms T] [--count C]");
	memset(&c, 0, sizeof(c));
	c.size = 64;
	c.window = 1;
	c.timeout_ns = 200 * 1000000ull;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (i + 1 >= argc)
			die("client: '%s' needs a value", a);
		if (!strcmp(a, "--size"))
			c.size = (size_t)parse_num(argv[++i], "size", 1,
						   MAX_SIZE);
		else if (!strcmp(a, "--window"))
			c.window = (unsigned)parse_num(argv[++i], "window", 1,
						       MAX_WINDOW);
		else if (!strcmp(a, "--seconds"))
			seconds = parse_num(argv[++i], "seconds", 0.01, 3600);
		else if (!strcmp(a, "--warmup"))
			warmup = parse_num(argv[++i], "warmup", 0, 60);
		else if (!strcmp(a, "--timeout-ms"))
			c.timeout_ns =
				(uint64_t)(parse_num(argv[++i], "timeout", 1,
						     10000) *
					   1e6);
		else if (!strcmp(a, "--count"))
			c.max_count = (uint64_t)parse_num(argv[++i], "count", 1,
							  1e15);
		else
			die("client: unknown argument '%s'", a);
	}
	if (c.size < HDR_LEN)
		die("size must be at least %d (sequence number and time)",
		    HDR_LEN);

	/* Whatever happens below, we are gone by the deadline + 2 s. */
	signal(SIGALRM, on_alarm);
	limit_s = warmup + seconds + 2;
	limit.it_value.tv_sec = (time_t)limit_s;
	limit.it_value.tv_usec =
		(suseconds_t)((limit_s - (double)limit.it_value.tv_sec) * 1e6);
	setitimer(ITIMER_REAL, &limit, NULL);

	err = getaddrinfo(argv[0], argv[1], &hints, &ai);
	if (err)
		die("%s:%s: %s", argv[0], argv[1], gai_strerror(err));
	c.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c.fd < 0)
		die("socket: %s", strerror(errno));
	/* room for a whole window each way, at least the default */
	bufsz = (int)(c.window * (c.size + 512) * 2);
	if (bufsz > 256 * 1024) {
		setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	}
	if (connect(c.fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect: %s", strerror(errno));
	freeaddrinfo(ai);

	c.slots = calloc(c.window, sizeof(*c.slots));
	c.hist_fine = calloc(HIST_FINE, sizeof(*c.hist_fine));
	c.hist_coarse = calloc(HIST_COARSE, sizeof(*c.hist_coarse));
	txbuf = malloc((size_t)BATCH * c.size);
	if (!c.slots || !c.hist_fine || !c.hist_coarse || !txbuf)
		die("out of memory");

	start = now_ns();
	counting_at = start + (uint64_t)(warmup * 1e9);
	deadline = counting_at + (uint64_t)(seconds * 1e9);
	c.counting = warmup <= 0;
	for (;;) {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
		uint64_t now = now_ns(), next, wake;
		struct timespec ts;

		if (!c.counting && now >= counting_at)
			c.counting = true;
		if (now >= deadline)
			break;
		expire(&c, now);
		c.send_failed = false;
		if (!fill_window(&c, txbuf) && !c.send_failed)
			pfd.events |= POLLOUT;
		/* all sent (--count) and none outstanding: done early */
		if (c.max_count && c.issued >= c.max_count) {
			unsigned j, busy = 0;

			for (j = 0; j < c.window; j++)
				busy += c.slots[j].busy;
			if (!busy)
				break;
		}
		next = expire(&c, now);
		wake = next < deadline ? next : deadline;
		if (!c.counting && counting_at < wake)
			wake = counting_at;
		if (c.send_failed && now + 1000000 < wake)
			wake = now + 1000000;
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = (time_t)(wake / 1000000000u);
		ts.tv_nsec = (long)(wake % 1000000000u);
		if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd.revents & (POLLIN | POLLERR))
			drain(&c, rxbufs);
	}
	elapsed = (double)(now_ns() - counting_at) / 1e9;
	if (elapsed <= 0)
		elapsed = 1e-9;
	for (i = 0; i < (int)c.window; i++)
		inflight += c.slots[i].busy && c.slots[i].counted;

	printf("udpecho: size=%zu window=%u sent=%llu received=%llu "
	       "lost=%llu bad=%llu late=%llu inflight=%u seconds=%.3f "
	       "pps=%.0f MBps=%.3f rtt_us_p50=%.1f rtt_us_p99=%.1f\n",
	       c.size, c.window, c.sent, c.received, c.lost, c.bad, c.late,
	       inflight, elapsed, (double)c.received / elapsed,
	       (double)c.received * (double)c.size / elapsed / 1e6,
	       hist_quantile(&c, 0.50), hist_quantile(&c, 0.99));
	if (c.send_errors || c.recv_errors)
		fprintf(stderr, "udpecho: %llu send and %llu receive errors\n",
			c.send_errors, c.recv_errors);
	fflush(stdout);
	close(c.fd);
	free(c.slots);
	free(c.hist_fine);
	free(c.hist_coarse);
	free(txbuf);
	if (!c.received) {
		fprintf(stderr, "udpecho: no echo came back\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return run_server(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return run_client(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: udpecho server PORT [--bind ADDR] [--seconds S]\n"
		"       udpecho client HOST PORT [--size N] [--window W] "
		"[--seconds S]\n"
		"                      [--warmup S] [--timeout-ms T] "
		"[--count C]\n");
	return 2;
}
