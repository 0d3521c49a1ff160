#!/bin/sh
# UDP echo over TAP to `lifeboat host`, next to the same exchange between two
# kernel sockets.  Usage: scripts/bench-net.sh BUILD_DIR  (needs root).
#
# What is compared.  In both paths the client is the same program
# (BUILD_DIR/bench/udpecho client) on a kernel UDP socket in a namespace of
# ours whose interface is 192.0.2.1/24; it sends to 192.0.2.2 port 7 and
# keeps W datagrams of N bytes outstanding, checking each echo's sequence
# number and payload:
#
#   net.tap          the interface is a persistent TAP `lbb0`; behind it
#                    `lifeboat host --wire tap:lbb0` (192.0.2.2, in the same
#                    namespace) echoes: every frame crosses /dev/net/tun
#                    into lifeboat's stack (Ethernet, ARP, IPv4, UDP, one
#                    read and one write per frame) and back.
#   net.veth_kernel  the interface is one end of a veth pair; the other end
#                    (192.0.2.2) sits in a second namespace where a kernel
#                    UDP socket (`udpecho server 7`, recvmmsg/sendmmsg)
#                    echoes: the peer is the kernel's own stack.
#
# So the client's half of the path (socket, IPv4, neighbour, device
# transmit/receive in its namespace) is the same; what differs is the peer
# behind the device: lifeboat in userspace over TAP versus a kernel socket
# over veth.  `net.tap_vs_kernel` is tap / veth_kernel (MB/s, equal to the
# pps ratio): 1.0 means the exchange is as fast with lifeboat as between two
# kernel sockets.  Client, peer and the kernel's softirq work share the
# machine's CPUs, so this compares the cost of the whole exchange, not of
# lifeboat's stack alone.
#
# For sizes 64 and 1400 bytes and windows 1 (latency-bound) and 32
# (throughput), each run is a 0.3 s warm-up (ARP, caches) and BENCH_SECONDS
# (default 3) of measurement.  MB/s counts echoed payload bytes (one
# direction, 10^6 bytes); pps echoed datagrams; rtt_p50 the median round
# trip.  A `#` line follows each pair with the raw client figures (loss,
# late echoes, p99).  Namespaces are named lbb-PID-*, removed on exit (also
# on failure or interruption); no traffic leaves them.
#
# CPUs (BENCH_NET_PIN): `split` (default, with 2+ CPUs) pins the client to
# the first CPU and the peer (lifeboat, or the kernel echo server) to the
# last, as two machines would be; window 1 then mostly measures waking the
# other CPU (about 50 us on a 2-vCPU VM, the same for both paths).  `same`
# pins both to the last CPU: window 1 then measures what one round trip
# costs in CPU.  `none` leaves placement to the scheduler, whose choices
# swing window-1 figures several-fold from run to run.
# BENCH_NET_HOST_LOG=FILE keeps lifeboat's log and statistics table.
BUILD="${1:-build}"
SECS="${BENCH_SECONDS:-3}"
WARMUP=0.3
SIZES="64 1400"
WINDOWS="1 32"
NAME=net.tap.udp_echo
PIN="${BENCH_NET_PIN:-split}"

if [ "$(id -u)" -ne 0 ]; then
	echo "BENCH $NAME skipped (needs root)"
	exit 0
fi
if ! command -v ip >/dev/null; then
	echo "BENCH $NAME skipped (needs iproute2)"
	exit 0
fi
LB="$BUILD/lifeboat"
UE="$BUILD/bench/udpecho"
for f in "$LB" "$UE"; do
	if [ ! -x "$f" ]; then
		echo "bench-net: $f not found (build first)" >&2
		exit 1
	fi
done

# CPU lists for the client and the peer
LAST=$(($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) - 1))
command -v taskset >/dev/null || PIN=none
[ "$LAST" -ge 1 ] || [ "$PIN" = same ] || PIN=none
case "$PIN" in
split) CPU_CLIENT=0 CPU_PEER=$LAST ;;
same) CPU_CLIENT=$LAST CPU_PEER=$LAST ;;
none) ;;
*)
	echo "bench-net: BENCH_NET_PIN is split, same or none" >&2
	exit 2
	;;
esac
on_cpu() { # CPU command... (exec: the pid stays the command's)
	cpu="$1"
	shift
	if [ -n "$cpu" ]; then
		exec taskset -c "$cpu" "$@"
	else
		exec "$@"
	fi
}

NS_TAP="lbb-$$-tap"
NS_TAPO="lbb-$$-tapo"
NS_KC="lbb-$$-kc"
NS_KS="lbb-$$-ks"
NSES=""
PIDS=""
TMP=""
HOSTPID=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	[ -n "$PIDS" ] && sleep 0.2
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for n in $NSES; do
		ip netns del "$n" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
	PIDS="" NSES="" TMP=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

mkns() {
	ip netns add "$1" 2>/dev/null || return 1
	NSES="$NSES $1"
	ip -n "$1" link set lo up
	# no IPv6 ND/MLD chatter on the measured links
	ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	return 0
}

# Wait until FILE contains PATTERN (at most SECONDS).
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if ! mkns "$NS_TAP"; then
	echo "BENCH $NAME skipped (cannot create network namespaces)"
	exit 0
fi
TMP=$(mktemp -d)

# ---- lifeboat over TAP ------------------------------------------------------
ip -n "$NS_TAP" tuntap add dev lbb0 mode tap || exit 1
ip -n "$NS_TAP" addr add 192.0.2.1/24 dev lbb0
ip -n "$NS_TAP" link set lbb0 up
# $! must be the host itself: the subshell, taskset and ip all exec
(on_cpu "$CPU_PEER" ip netns exec "$NS_TAP" "$LB" host --wire tap:lbb0 \
	--ip 192.0.2.2/24 --memory 64M --log warn) >"$TMP/host.log" 2>&1 &
HOSTPID=$!
PIDS="$PIDS $HOSTPID"
if ! wait_for "$TMP/host.log" "Ctrl-C to stop" 10; then
	echo "bench-net: lifeboat host did not start:" >&2
	cat "$TMP/host.log" >&2
	exit 1
fi

# ---- lifeboat over TAP with offloads (TCP bulk only) ------------------------
# The same host on a TAP with offload=on: super-frames both ways (the
# kernel coalesces what it sends, segments what lifeboat sends).
mkns "$NS_TAPO" || exit 1
ip -n "$NS_TAPO" tuntap add dev lbb1 mode tap || exit 1
ip -n "$NS_TAPO" addr add 192.0.2.1/24 dev lbb1
ip -n "$NS_TAPO" link set lbb1 up
(on_cpu "$CPU_PEER" ip netns exec "$NS_TAPO" "$LB" host \
	--wire tap:lbb1,offload=on --ip 192.0.2.2/24 --memory 64M --log warn) \
	>"$TMP/host-offload.log" 2>&1 &
HOSTOPID=$!
PIDS="$PIDS $HOSTOPID"
if ! wait_for "$TMP/host-offload.log" "Ctrl-C to stop" 10; then
	echo "bench-net: lifeboat host (offload=on) did not start:" >&2
	cat "$TMP/host-offload.log" >&2
	exit 1
fi

# ---- two kernel sockets over veth ------------------------------------------
mkns "$NS_KC" && mkns "$NS_KS" || exit 1
ip link add lbbv0 netns "$NS_KC" type veth peer name lbbv1 netns "$NS_KS" ||
	exit 1
ip -n "$NS_KC" addr add 192.0.2.1/24 dev lbbv0
ip -n "$NS_KS" addr add 192.0.2.2/24 dev lbbv1
ip -n "$NS_KC" link set lbbv0 up
ip -n "$NS_KS" link set lbbv1 up
# bounded lifetime: it ends by itself even if this script is killed
(on_cpu "$CPU_PEER" ip netns exec "$NS_KS" "$UE" server 7 --seconds 120) \
	>"$TMP/server.log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_for "$TMP/server.log" "serving on port" 5; then
	echo "bench-net: udpecho server did not start:" >&2
	cat "$TMP/server.log" >&2
	exit 1
fi

# ---- measure ---------------------------------------------------------------
fail=0
if [ "$PIN" = none ]; then
	echo "# cpus: not pinned"
else
	echo "# cpus: client $CPU_CLIENT, peer $CPU_PEER (BENCH_NET_PIN=$PIN)"
fi

# run NS SIZE WINDOW -> the client's line in $OUT, status 0 if any echo
run() {
	OUT=$(on_cpu "$CPU_CLIENT" ip netns exec "$1" "$UE" client 192.0.2.2 7 \
		--size "$2" --window "$3" --seconds "$SECS" --warmup "$WARMUP" \
		2>"$TMP/client.err")
	rc=$?
	[ -n "$OUT" ] || OUT="udpecho: failed ($(head -n 1 "$TMP/client.err"))"
	return $rc
}

field() { # LINE KEY
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

report() { # PREFIX NAME LINE
	echo "BENCH $1.$2 $(field "$3" MBps) MB/s"
	echo "BENCH $1.$2.pps $(field "$3" pps) pps"
	echo "BENCH $1.$2.rtt_p50 $(field "$3" rtt_us_p50) us"
}

for size in $SIZES; do
	for w in $WINDOWS; do
		case_name="$size.w$w"
		run "$NS_TAP" "$size" "$w" || fail=1
		tap="$OUT"
		run "$NS_KC" "$size" "$w" || fail=1
		kern="$OUT"
		report net.tap.udp_echo "$case_name" "$tap"
		report net.veth_kernel.udp_echo "$case_name" "$kern"
		t=$(field "$tap" MBps)
		k=$(field "$kern" MBps)
		echo "BENCH net.tap_vs_kernel.udp_echo.$case_name" \
			"$(awk -v t="${t:-0}" -v k="${k:-0}" \
				'BEGIN { printf "%.3f", (k > 0 ? t / k : 0) }') ratio"
		echo "# tap  $(printf '%s' "$tap" | sed 's/^udpecho: //')"
		echo "# veth $(printf '%s' "$kern" | sed 's/^udpecho: //')"
	done
done

# ---- TCP bulk: Linux to and from lifeboat over TAP, Linux to Linux over veth
# The client is socat on a kernel TCP socket in the client namespace; the
# peer is lifeboat's discard (9) and chargen (19) over TAP, or socat
# serving the same over veth.  TCP_BYTES (default 256 MiB) are timed.
TCP_BYTES=${TCP_BYTES:-268435456}
if command -v socat >/dev/null; then
	(ip netns exec "$NS_KS" timeout 120 socat -u \
		TCP-LISTEN:9,reuseaddr,fork OPEN:/dev/null) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	(ip netns exec "$NS_KS" timeout 120 socat -U \
		TCP-LISTEN:19,reuseaddr,fork OPEN:/dev/zero) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	sleep 0.3
	now() { date +%s.%N; }
	tcp_send() { # NS -> MB/s of TCP_BYTES sent to port 9
		t0=$(now)
		head -c "$TCP_BYTES" /dev/zero |
			ip netns exec "$1" socat -u - TCP:192.0.2.2:9 || return 1
		awk -v a="$t0" -v b="$(now)" -v n="$TCP_BYTES" \
			'BEGIN { printf "%.1f", n / (b - a) / 1e6 }'
	}
	tcp_recv() { # NS -> MB/s of TCP_BYTES received from port 19
		t0=$(now)
		ip netns exec "$1" socat -u TCP:192.0.2.2:19 - 2>/dev/null |
			head -c "$TCP_BYTES" >/dev/null
		awk -v a="$t0" -v b="$(now)" -v n="$TCP_BYTES" \
			'BEGIN { printf "%.1f", n / (b - a) / 1e6 }'
	}
	# interleaved: plain TAP, TAP with offloads, kernel, in each direction
	for dir in send recv; do
		t=$(tcp_$dir "$NS_TAP") || { t=0; fail=1; }
		o=$(tcp_$dir "$NS_TAPO") || { o=0; fail=1; }
		k=$(tcp_$dir "$NS_KC") || { k=0; fail=1; }
		what=$([ $dir = send ] && echo linux_to_lifeboat || echo lifeboat_to_linux)
		echo "BENCH net.tap.tcp_bulk.$what $t MB/s"
		echo "BENCH net.tap_offload.tcp_bulk.$what $o MB/s"
		echo "BENCH net.veth_kernel.tcp_bulk.$what $k MB/s"
		echo "BENCH net.tap_vs_kernel.tcp_bulk.$what" \
			"$(awk -v t="$t" -v k="$k" \
				'BEGIN { printf "%.3f", (k > 0 ? t / k : 0) }') ratio"
		echo "BENCH net.tap_offload_vs_kernel.tcp_bulk.$what" \
			"$(awk -v t="$o" -v k="$k" \
				'BEGIN { printf "%.3f", (k > 0 ? t / k : 0) }') ratio"
	done
else
	echo "BENCH net.tap.tcp_bulk skipped (needs socat)"
fi

# ---- stop lifeboat with Ctrl-C: it must exit 0 ------------------------------
kill -INT "$HOSTPID"
i=0
while kill -0 "$HOSTPID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$HOSTPID" 2>/dev/null; then
	echo "bench-net: lifeboat host ignored SIGINT for 5 s" >&2
	fail=1
else
	wait "$HOSTPID"
	rc=$?
	PIDS=$(echo "$PIDS" | sed "s/ $HOSTPID\b//")
	if [ $rc -ne 0 ]; then
		echo "bench-net: lifeboat host exited with status $rc:" >&2
		tail -n 20 "$TMP/host.log" >&2
		fail=1
	fi
fi
[ -n "$BENCH_NET_HOST_LOG" ] && cp "$TMP/host.log" "$BENCH_NET_HOST_LOG"
exit $fail
