#!/bin/sh
# TCP echo through 3 % loss each way: lifeboat over TAP next to Linux to
# Linux under the same nftables rule.  Usage: scripts/bench-tcploss.sh
# BUILD_DIR  (needs root, nft and python3; else one `skipped` line).
#
# A router namespace forwards between a client namespace (a kernel TCP
# socket, 198.51.100.2) and either
#   net.tap.tcp_echo_loss3          lifeboat host on the TAP lbtap0
#                                   (192.0.2.2, echo on port 7), or
#   net.veth_kernel.tcp_echo_loss3  a kernel echo server (python, one
#                                   connection at a time) behind a veth
#                                   (203.0.113.2, port 7).
# On the router, `numgen random mod 100 < 3 drop` applies to every frame
# forwarded into and out of the peer's interface: 3 % of the client's
# segments and 3 % of the peer's are lost, so both ends must recover.  GRO,
# GSO and TSO are off on the veths: a drop is one segment.
#
# Each run echoes 16 MiB (the client sends and receives at once, checks
# every byte) and is timed from connect to the last echoed byte; MB/s is
# 10^6 bytes echoed per second.  The two paths alternate, BENCH_ROUNDS
# (default 3) each, and the median of each is printed with their ratio
# (`net.tap_vs_kernel.tcp_echo_loss3`).  Namespaces are lbl-PID-*, removed
# on exit.
BUILD="${1:-build}"
ROUNDS="${BENCH_ROUNDS:-3}"
NAME=net.tap.tcp_echo_loss3
SIZE=16777216

if [ "$(id -u)" -ne 0 ]; then
	echo "BENCH $NAME skipped (needs root)"
	exit 0
fi
for c in ip nft python3 timeout; do
	if ! command -v $c >/dev/null; then
		echo "BENCH $NAME skipped (needs $c)"
		exit 0
	fi
done
LB="$BUILD/lifeboat"
if [ ! -x "$LB" ]; then
	echo "bench-tcploss: $LB not found (build first)" >&2
	exit 1
fi

R="lbl-$$-r"
C="lbl-$$-c"
K="lbl-$$-k"
TMP=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for n in "$R" "$C" "$K"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

for n in "$R" "$C" "$K"; do
	ip netns add "$n" || exit 1
	ip -n "$n" link set lo up
done
ip -n "$R" tuntap add dev lbtap0 mode tap
ip -n "$R" addr add 192.0.2.1/24 dev lbtap0
ip -n "$R" link set lbtap0 up
# veth pair $1 (router end, address $3.1) to namespace $2 (address $3.2)
link() {
	ip -n "$R" link add "$1" type veth peer name "${1}p" netns "$2"
	ip -n "$R" addr add "$3.1/24" dev "$1"
	ip -n "$R" link set "$1" up
	ip -n "$2" addr add "$3.2/24" dev "${1}p"
	ip -n "$2" link set "${1}p" up
	ip -n "$2" route add default via "$3.1"
	if command -v ethtool >/dev/null; then
		ip netns exec "$R" ethtool -K "$1" gro off gso off tso off \
			>/dev/null 2>&1
		ip netns exec "$2" ethtool -K "${1}p" gro off gso off tso off \
			>/dev/null 2>&1
	fi
}
link lbc0 "$C" 198.51.100
link lbk0 "$K" 203.0.113
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
RULE='numgen random mod 100 < 3 counter drop'
ip netns exec "$R" nft -f - <<EOF || exit 1
table inet lbloss {
	chain loss {
		type filter hook forward priority 0;
		iifname "lbtap0" $RULE
		oifname "lbtap0" $RULE
		iifname "lbk0" $RULE
		oifname "lbk0" $RULE
	}
}
EOF

cat >"$TMP/echo.py" <<'EOF'
import hashlib, selectors, socket, sys, time

def server(port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("", port))
    l.listen(4)
    print("listening", flush=True)
    while True:
        c, _ = l.accept()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            c.sendall(b)
        c.close()

def client(host, size):
    data = bytes((i * 7 + (i >> 12)) & 0xff for i in range(65536)) * (size // 65536)
    t0 = time.monotonic()
    s = socket.create_connection((host, 7), timeout=30)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got, off, end = bytearray(), 0, t0 + 100
    while len(got) < size:
        if time.monotonic() > end:
            sys.exit("timed out: sent %d, echoed %d" % (off, len(got)))
        for key, ev in sel.select(1.0):
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(1 << 20)
                except BlockingIOError:
                    b = None
                if b == b"":
                    sys.exit("EOF after %d bytes" % len(got))
                if b:
                    got += b
            if ev & selectors.EVENT_WRITE and off < size:
                try:
                    off += s.send(data[off:off + (1 << 20)])
                except BlockingIOError:
                    pass
        if off == size:
            sel.modify(s, selectors.EVENT_READ)
    t = time.monotonic() - t0
    s.close()
    if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        sys.exit("echo differs from what was sent")
    print("%.2f" % (size / t / 1e6))

if sys.argv[1] == "server":
    server(int(sys.argv[2]))
else:
    client(sys.argv[2], int(sys.argv[3]))
EOF

wait_for() { # file, text, seconds
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}

ip netns exec "$R" "$LB" host --wire tap:lbtap0 --ip 192.0.2.2/24 \
	--gw 192.0.2.1 --seed 1 >"$TMP/host.log" 2>&1 &
HOSTPID=$!
PIDS="$PIDS $HOSTPID"
ip netns exec "$K" python3 "$TMP/echo.py" server 7 >"$TMP/server.log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_for "$TMP/host.log" "Ctrl-C to stop" 10 ||
	! wait_for "$TMP/server.log" listening 10; then
	echo "bench-tcploss: lifeboat host or the echo server did not start:" >&2
	cat "$TMP/host.log" "$TMP/server.log" >&2
	exit 1
fi
ip route get 192.0.2.2 >/dev/null 2>&1 # nothing: just warm the tools

run() { # address -> MB/s, or nothing on failure
	timeout 120 ip netns exec "$C" python3 "$TMP/echo.py" client "$1" \
		$SIZE 2>>"$TMP/client.err"
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR) print v[int((NR + 1) / 2)] }'
}

TAP="" KERN=""
i=0
while [ $i -lt "$ROUNDS" ]; do
	TAP="$TAP $(run 192.0.2.2)"
	KERN="$KERN $(run 203.0.113.2)"
	i=$((i + 1))
done
t=$(echo "$TAP" | median)
k=$(echo "$KERN" | median)
drops=$(ip netns exec "$R" nft list table inet lbloss |
	grep -o 'packets [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
echo "# runs: lifeboat$TAP; linux$KERN; $drops frames dropped in all"
[ -s "$TMP/client.err" ] && sed 's/^/# /' "$TMP/client.err"
kill -INT "$HOSTPID" 2>/dev/null
wait "$HOSTPID" 2>/dev/null
for s in tcp.rto_expired tcp.retransmits tcp.sack_recoveries \
	tcp.rack_marked_lost tcp.tlp_probes; do
	v=$(awk -v k="$s" '$1 == k { print $2 }' "$TMP/host.log")
	[ -n "$v" ] && echo "# lifeboat $s $v"
done
if [ -z "$t" ] || [ -z "$k" ]; then
	echo "BENCH $NAME failed (an echo did not complete)"
	exit 1
fi
echo "BENCH $NAME $t MB/s (16 MiB echo, 3% loss each way, median of $ROUNDS)"
echo "BENCH net.veth_kernel.tcp_echo_loss3 $k MB/s (Linux to Linux, same rule)"
echo "BENCH net.tap_vs_kernel.tcp_echo_loss3 $(awk -v a="$t" -v b="$k" \
	'BEGIN { printf "%.3f", a / b }') ratio"
