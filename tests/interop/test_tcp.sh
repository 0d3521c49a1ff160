#!/bin/sh
# TCP between lifeboat and the Linux kernel, over a TAP in a namespace of
# our own: Linux clients against `lifeboat host`'s echo (7), discard (9)
# and chargen (19); tcp_peer (a lifeboat host that is one end of a
# connection) against Linux servers and clients; Linux's TCP options
# turned off one at a time; and 3% loss made by nftables.
#
#   test_tcp.sh LIFEBOAT TCP_PEER
#
# LB_INTEROP_PCAP_DIR=DIR keeps a pcapng of every lifeboat run there.
LB="$1"
PEER="$2"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd python3 timeout

MiB=1048576
PCAPDIR="${LB_INTEROP_PCAP_DIR:-}"

setup_ns tcp
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up

# ---- the Linux end, in python ------------------------------------------------
cat >"$TMP/peer.py" <<'EOF'
# The Linux end of the TCP interop checks: python3 peer.py MODE [args]
import array, hashlib, selectors, socket, struct, sys, time

HOST = "192.0.2.2"
BASE = 0x6C69666500000000  # tcp_peer.c's PATTERN_BASE
MiB = 1 << 20


def pattern(n):
    """tcp_peer's pattern: little-endian words BASE + offset."""
    words = array.array("Q", range(BASE, BASE + ((n + 7) & ~7), 8))
    if sys.byteorder != "little":
        words.byteswap()
    return words.tobytes()[:n]


def chargen(n):
    """lifeboat's RFC 864 stream: 72-character lines + CRLF."""
    lines = []
    for line in range((n + 73) // 74):
        lines.append(bytes(32 + (line + col) % 95 for col in range(72)) + b"\r\n")
    return b"".join(lines)[:n]


def die(msg):
    print("peer.py: " + msg, flush=True)
    sys.exit(1)


def connect(port, rcvbuf=None, timeout=30):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def pump(s, data, want, half_close=False, stop_after=None, deadline=60):
    """Send @data and receive @want bytes at once (non-blocking); returns
    what was received.  @half_close: SHUT_WR once everything is sent.
    @stop_after: return as soon as that many bytes came back."""
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got = bytearray()
    off = 0
    shut = False
    end = time.monotonic() + deadline
    while len(got) < want:
        if stop_after is not None and len(got) >= stop_after:
            break
        if time.monotonic() > end:
            die("timed out: sent %d of %d, received %d of %d"
                % (off, len(data), len(got), want))
        for key, ev in sel.select(1.0):
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(1 << 20)
                except BlockingIOError:
                    b = None
                if b == b"":
                    die("EOF after receiving %d of %d bytes" % (len(got), want))
                if b:
                    got += b
            if ev & selectors.EVENT_WRITE and off < len(data):
                try:
                    off += s.send(data[off:off + (1 << 20)])
                except BlockingIOError:
                    pass
        if off == len(data) and not shut:
            if half_close:
                s.shutdown(socket.SHUT_WR)
            sel.modify(s, selectors.EVENT_READ)
            shut = True
    s.setblocking(True)
    return bytes(got)


def expect_eof(s, timeout=10):
    s.settimeout(timeout)
    try:
        b = s.recv(65536)
    except socket.timeout:
        die("no EOF within %d s" % timeout)
    if b != b"":
        die("%d more bytes instead of EOF" % len(b))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def echo(size, half_close=False, port=7):
    data = pattern(size)
    s = connect(port)
    got = pump(s, data, size, half_close=half_close)
    if sha(got) != sha(data):
        bad = next(i for i in range(size) if got[i] != data[i])
        die("echo differs from what was sent, first at offset %d" % bad)
    if half_close:
        expect_eof(s)
    s.close()
    print("echo ok: %d bytes, sha256 %s" % (size, sha(got)[:16]))


def discard(size):
    s = connect(9)
    s.sendall(pattern(size))
    s.shutdown(socket.SHUT_WR)
    expect_eof(s, 30)
    s.close()
    print("discard ok: %d bytes" % size)


def read_exact(s, n, deadline=30):
    got = bytearray()
    end = time.monotonic() + deadline
    while len(got) < n:
        if time.monotonic() > end:
            die("timed out after receiving %d of %d" % (len(got), n))
        b = s.recv(min(1 << 20, n - len(got)))
        if not b:
            die("EOF after receiving %d of %d" % (len(got), n))
        got += b
    return bytes(got)


def chargen_check(size):
    s = connect(19)
    got = read_exact(s, size)
    s.close()
    want = chargen(size)
    if got != want:
        bad = next(i for i in range(size) if got[i] != want[i])
        die("chargen differs from RFC 864 at offset %d" % bad)
    print("chargen ok: %d bytes" % size)


def refused(port):
    try:
        connect(port, timeout=5)
    except ConnectionRefusedError:
        print("refused ok")
        return
    except OSError as e:
        die("expected ConnectionRefusedError, got %r" % e)
    die("connected to a closed port")


def reset(size):
    """Abort (RST, SO_LINGER 0) mid-transfer."""
    s = connect(7)
    pump(s, pattern(size), size, stop_after=size // 4)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset sent after a quarter of %d bytes" % size)


def zero_window(size, pause):
    """Read chargen, stop reading for @pause s (window closes), resume."""
    s = connect(19, rcvbuf=32768)
    first = read_exact(s, size // 2)
    time.sleep(pause)
    rest = read_exact(s, size - size // 2)
    s.close()
    if first + rest != chargen(size):
        die("chargen data wrong across the zero window")
    print("zero window ok: %d bytes, %g s paused" % (size, pause))


def stall(seconds):
    """Fill the echo service until nothing moves (lifeboat then holds
    unread data), and keep the connection open for @seconds."""
    s = connect(7)
    s.setblocking(False)
    sent, idle = 0, 0
    while idle < 20:
        try:
            sent += s.send(b"x" * 65536)
            idle = 0
        except BlockingIOError:
            idle += 1
            time.sleep(0.05)
    print("stalled after %d bytes" % sent, flush=True)
    time.sleep(seconds)
    s.close()


def echo_server(port, count):
    """Echo @count connections, one at a time (for tcp_peer --connect)."""
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("", port))
    l.listen(4)
    print("listening", flush=True)
    for _ in range(count):
        c, _ = l.accept()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
        c.close()


def send_to(port, size):
    """Send @size bytes of the pattern to tcp_peer --listen, then close."""
    s = connect(port)
    s.sendall(pattern(size))
    s.shutdown(socket.SHUT_WR)
    expect_eof(s, 30)
    s.close()
    print("sent %d bytes" % size)


if __name__ == "__main__":
    mode, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {
        "echo": lambda: echo(args[0]),
        "halfclose": lambda: echo(args[0], half_close=True),
        "discard": lambda: discard(args[0]),
        "chargen": lambda: chargen_check(args[0]),
        "refused": lambda: refused(args[0]),
        "reset": lambda: reset(args[0]),
        "zerowin": lambda: zero_window(args[0], args[1]),
        "stall": lambda: stall(args[0]),
        "echo-server": lambda: echo_server(args[0], args[1]),
        "send": lambda: send_to(args[0], args[1]),
    }[mode]()
EOF

# Run peer.py in the namespace; its output is shown as comments.
py() {
	out=$(timeout 120 ip netns exec "$NS" python3 "$TMP/peer.py" "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	return $rc
}

pcap_args() { # name
	[ -n "$PCAPDIR" ] && echo "--pcap $PCAPDIR/$1.pcapng"
}

# ---- lifeboat host -------------------------------------------------------------
run_host() { # name, extra args...
	name="$1"
	shift
	HOSTLOG="$TMP/host-$name.log"
	# not through nsx: $! must be the host itself (ip execs it)
	# shellcheck disable=SC2046
	ip netns exec "$NS" "$LB" host --wire tap:lbtap0 --ip 192.0.2.2/24 \
		--seed 1 $(pcap_args "host-$name") "$@" >"$HOSTLOG" 2>&1 &
	HOSTPID=$!
	PIDS="$PIDS $HOSTPID"
	if wait_for "$HOSTLOG" "Ctrl-C to stop" 10; then
		ok "$name: lifeboat host starts"
		return 0
	fi
	not_ok "$name: lifeboat host starts"
	sed 's/^/# /' "$HOSTLOG"
	return 1
}

stop_host() { # Ctrl-C; the host prints its stats and exits 0
	kill -INT "$HOSTPID"
	i=0
	while kill -0 "$HOSTPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$HOSTPID" 2>/dev/null; then
		echo "# lifeboat host still running 10 s after SIGINT: killed"
		kill -KILL "$HOSTPID"
		wait "$HOSTPID"
		return 1
	fi
	wait "$HOSTPID"
	rc=$?
	[ $rc -ne 0 ] && echo "# lifeboat host exited with status $rc" &&
		tail -5 "$HOSTLOG" | sed 's/^/# /'
	[ $rc -eq 0 ] && grep -q "^tcp.rx_segs" "$HOSTLOG"
}

stat_of() { # name -> value from the host's stats table
	awk -v k="$1" '$1 == k { print $2 }' "$HOSTLOG"
}

stat_gt() { # name, n
	v=$(stat_of "$1")
	echo "# $1 = ${v:-missing}"
	[ -n "$v" ] && [ "$v" -gt "$2" ]
}

# Linux's own count of a TcpExt statistic in the namespace.
tcpext() {
	nsx awk -v k="$1" '/^TcpExt:/ {
		if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 }
		else for (i = 2; i <= NF; i++) if (n[i] == k) v = $i }
		END { print v + 0 }' /proc/net/netstat
}

# Zero-window probes Linux received.  lifeboat's probes carry one byte
# (tcp_send_probe), which Linux drops and counts: 6.18 as BeyondWindow,
# older kernels as TCPZeroWindowDrop.
zwin_probes() {
	echo $(($(tcpext BeyondWindow) + $(tcpext TCPZeroWindowDrop)))
}

reset_then_serve() {
	py reset $((4 * MiB)) && py echo $MiB
}

zero_window() {
	before=$(zwin_probes)
	py zerowin $((2 * MiB)) 3 || return 1
	ZWIN_PROBES=$(($(zwin_probes) - before))
	return 0
}

probed() {
	echo "# Linux received $ZWIN_PROBES zero-window probes in 3 s"
	[ "${ZWIN_PROBES:-0}" -ge 2 ]
}

# ---- Linux connects to lifeboat ------------------------------------------------
if run_host serve; then
	check "echo: 8 MiB round-trip (sha256)" py echo $((8 * MiB))
	check "discard: 64 MiB, then lifeboat closes" py discard $((64 * MiB))
	check "chargen: the first 1 MiB is RFC 864's pattern" py chargen $MiB
	check "a closed port refuses (RST)" py refused 1234
	check "half-close: SHUT_WR after 2 MiB, full echo, then EOF" py halfclose $((2 * MiB))
	check "RST from Linux mid-transfer; the next connection is served" reset_then_serve
	ZWIN_PROBES=0
	check "zero window: chargen reader pauses 3 s, data stays right" zero_window
	# RFC 9293 §3.8.6.1: the sender keeps probing a zero window
	check "zero window: lifeboat probed it more than once in 3 s" probed
	# The stack goes away under a live connection that holds unread
	# data: the owner is told, closes it, and nothing is touched after.
	ip netns exec "$NS" python3 "$TMP/peer.py" stall 20 >"$TMP/stall.log" 2>&1 &
	stallpid=$!
	PIDS="$PIDS $stallpid"
	wait_for "$TMP/stall.log" stalled 15 && sed 's/^/# /' "$TMP/stall.log"
	check "serve: Ctrl-C (a connection holds unread data) prints the stats, exits 0" stop_host
	kill "$stallpid" 2>/dev/null
	check "serve: tcp.persist_probes > 0" stat_gt tcp.persist_probes 0
	check "serve: tcp.rst_received > 0" stat_gt tcp.rst_received 0
fi

# ---- lifeboat connects to Linux ---------------------------------------------------
peer() { # log, args...
	log="$1"
	shift
	# shellcheck disable=SC2046
	timeout 120 ip netns exec "$NS" "$PEER" --wire tap:lbtap0 \
		--ip 192.0.2.2/24 --seed 2 "$@" >"$log" 2>&1
}

peer_to_linux_echo() {
	ip netns exec "$NS" python3 "$TMP/peer.py" echo-server 7001 1 \
		>"$TMP/echo-server.log" 2>&1 &
	spid=$!
	PIDS="$PIDS $spid"
	wait_for "$TMP/echo-server.log" listening 10 || return 1
	# shellcheck disable=SC2046
	peer "$TMP/peer-connect.log" --connect 192.0.2.1:7001 \
		--send $((8 * MiB)) --expect-echo --timeout 60 \
		$(pcap_args peer-connect)
	rc=$?
	sed 's/^/# /' "$TMP/peer-connect.log"
	kill "$spid" 2>/dev/null
	return $rc
}

peer_from_linux() {
	# shellcheck disable=SC2046
	ip netns exec "$NS" "$PEER" --wire tap:lbtap0 --ip 192.0.2.2/24 \
		--seed 2 --listen 7002 --expect $((16 * MiB)) --timeout 60 \
		$(pcap_args peer-listen) >"$TMP/peer-listen.log" 2>&1 &
	ppid=$!
	PIDS="$PIDS $ppid"
	wait_for "$TMP/peer-listen.log" "listening on port" 10 || return 1
	py send 7002 $((16 * MiB))
	src=$?
	wait "$ppid"
	rc=$?
	sed 's/^/# /' "$TMP/peer-listen.log"
	[ $src -eq 0 ] && [ $rc -eq 0 ]
}

check "tcp_peer: 8 MiB to a Linux echo server and back" peer_to_linux_echo
check "tcp_peer --listen: 16 MiB from a Linux client" peer_from_linux

# ---- Linux's TCP options off (and ECN asked for), one at a time --------------------
option_set() { # sysctl=value
	name="${1%%=*}"
	old=$(nsx sysctl -n "net.ipv4.$name")
	nsx sysctl -qw "net.ipv4.$1"
	py echo $((8 * MiB))
	rc=$?
	nsx sysctl -qw "net.ipv4.$name=$old"
	return $rc
}

if run_host options; then
	for opt in tcp_window_scaling=0 tcp_timestamps=0 tcp_sack=0 tcp_ecn=1; do
		check "echo 8 MiB with $opt" option_set $opt
	done
	check "options: Ctrl-C prints the stats and exits 0" stop_host
fi

# ---- what lifeboat puts on the wire, read by tshark -------------------------------
# Linux advertises MSS 536 (route advmss): lifeboat's segments must fit it.
capture_ok() { # pcap
	bad=$(tshark -r "$1" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-Y '_ws.malformed || _ws.expert.severity == error || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad"' \
		2>/dev/null | wc -l)
	echo "# $bad malformed frames or bad checksums"
	[ "$bad" -eq 0 ]
}

largest_segment() { # pcap -> lifeboat's largest TCP payload
	tshark -r "$1" -Y 'ip.src == 192.0.2.2 && tcp' -T fields -e tcp.len \
		2>/dev/null | sort -n | tail -1
}

mss_536() { # pcap
	max=$(largest_segment "$1")
	echo "# largest segment from lifeboat: ${max:-none} bytes (MSS 536 less 12 for timestamps)"
	[ -n "$max" ] && [ "$max" -le 524 ]
}

if ! command -v tshark >/dev/null; then
	skip_part "tshark not installed: capture checks"
elif run_host capture --pcap "$TMP/capture.pcapng"; then
	nsx ip route change 192.0.2.0/24 dev lbtap0 advmss 536
	check "capture: 1 MiB echo to a Linux advertising MSS 536" py echo $MiB
	nsx ip route change 192.0.2.0/24 dev lbtap0
	check "capture: Ctrl-C prints the stats and exits 0" stop_host
	check "capture: no malformed frame, no bad checksum" capture_ok "$TMP/capture.pcapng"
	check "capture: lifeboat's segments fit MSS 536" mss_536 "$TMP/capture.pcapng"
fi

# ---- loss ----------------------------------------------------------------------
# 3% of the frames on the TAP, both directions, dropped by nftables.
LOSS_RULE='numgen random mod 100 < 3 counter drop'

loss_echo() { # table, then the echo runs from namespace $2 (default $NS)
	ns="${2:-$NS}"
	out=$(timeout 180 ip netns exec "$ns" python3 "$TMP/peer.py" echo $((8 * MiB)) 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	nsx nft list table inet "$1" | grep -o 'counter packets [0-9]*' |
		sed 's/^/# dropped: /'
	return $rc
}

# Real loss both ways: a Linux client in a second namespace whose
# segments are forwarded to the TAP, so a drop there is a loss Linux's TCP
# must recover from too (and lifeboat receives out of order).  Output-chain
# drops in the TAP's own namespace are not that: they are reported to the
# sending socket, and Linux resends at once.
setup_ns2() {
	NS2="lbt-$$-tcp2"
	ip netns add "$NS2" || return 1
	ip -n "$NS2" link set lo up
	nsx ip link add lbv0 type veth peer name lbv1 netns "$NS2"
	nsx ip addr add 198.51.100.1/24 dev lbv0
	nsx ip link set lbv0 up
	ip -n "$NS2" addr add 198.51.100.2/24 dev lbv1
	ip -n "$NS2" link set lbv1 up
	ip -n "$NS2" route add default via 198.51.100.1
	nsx sysctl -qw net.ipv4.ip_forward=1
	if command -v ethtool >/dev/null; then
		# one frame per packet: a drop is one segment, not a GSO burst
		nsx ethtool -K lbv0 gro off tso off gso off >/dev/null 2>&1
		ip netns exec "$NS2" ethtool -K lbv1 gro off tso off gso off >/dev/null 2>&1
	fi
}

peer_loss_echo() {
	ip netns exec "$NS2" python3 "$TMP/peer.py" echo-server 7001 1 \
		>"$TMP/echo-server2.log" 2>&1 &
	spid=$!
	PIDS="$PIDS $spid"
	wait_for "$TMP/echo-server2.log" listening 10 || return 1
	# shellcheck disable=SC2046
	peer "$TMP/peer-loss.log" --gw 192.0.2.1 --connect 198.51.100.2:7001 \
		--send $((4 * MiB)) --expect-echo --timeout 60 \
		$(pcap_args peer-loss)
	rc=$?
	sed 's/^/# /' "$TMP/peer-loss.log"
	nsx nft list table inet lbfwd | grep -o 'counter packets [0-9]*' |
		sed 's/^/# dropped: /'
	kill "$spid" 2>/dev/null
	return $rc
}

if ! command -v nft >/dev/null; then
	skip_part "nft not installed (package nftables): loss checks"
elif run_host loss --gw 192.0.2.1; then
	# The TAP's input and output chains (environment.md's recipe): this
	# loses lifeboat's segments and Linux's pure ACKs, not Linux's data.
	nsx nft -f - <<EOF
table inet lbloss {
	chain in { type filter hook input priority 0; iifname "lbtap0" $LOSS_RULE; }
	chain out { type filter hook output priority 0; oifname "lbtap0" $LOSS_RULE; }
}
EOF
	check "loss: 8 MiB echo with 3% dropped in input/output" loss_echo lbloss
	nsx nft delete table inet lbloss

	setup_ns2
	nsx nft -f - <<EOF
table inet lbfwd {
	chain loss { type filter hook forward priority 0; iifname "lbtap0" $LOSS_RULE; oifname "lbtap0" $LOSS_RULE; }
}
EOF
	check "loss: 8 MiB echo with 3% dropped both ways (forwarded)" loss_echo lbfwd "$NS2"
	# Without SACK the recovery leans on go-back-N and on every ACK
	# being heard: lifeboat's ACKs and the acceptability of Linux's.
	ip netns exec "$NS2" sysctl -qw net.ipv4.tcp_sack=0
	check "loss: the same with Linux's SACK off" loss_echo lbfwd "$NS2"
	ip netns exec "$NS2" sysctl -qw net.ipv4.tcp_sack=1
	check "loss: Ctrl-C prints the stats and exits 0" stop_host
	for s in tcp.retransmits tcp.fast_retransmits tcp.rto_expired \
		tcp.rx_ofo_queued tcp.rx_drop_ofo_full tcp.rx_out_of_window; do
		echo "# $s $(stat_of $s)"
	done
	check "loss: tcp_peer 4 MiB to a Linux echo server, 3% dropped both ways" peer_loss_echo
fi
finish
