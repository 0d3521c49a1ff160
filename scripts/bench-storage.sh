#!/bin/sh
# `lifeboat disk --bench` against nbdkit (memory plugin) over TAP, next to
# libnbd's nbdcopy against the same server over kernel TCP, in one run.
# Usage: scripts/bench-storage.sh BUILD_DIR  (needs root, nbdkit, nbdcopy).
#
# Layout: namespace A runs `nbdkit memory`, listening on every address of
# A.  lifeboat attaches through a TAP `lbs0` in A (192.0.2.1 is the
# kernel's side, lifeboat is 192.0.2.2): every frame crosses /dev/net/tun
# into lifeboat's own TCP.  nbdcopy runs in namespace B and reaches A over a
# veth pair (198.51.100.2 -> .1): the kernel's TCP on both ends.  Both
# clients use one connection, 64 KiB requests and 32 in flight.  The export
# is written once first (nbdkit's first touch is slow).
#
# lifeboat runs twice, with plain frames and with the TAP's offloads
# (offload=on: virtio-net header, coalesced frames received, TCP
# super-frames sent for the kernel to segment).
#
# Timed alike, set-up excluded: `lifeboat disk --bench` times each phase
# after the connection is up; nbdcopy's time is its whole run less the
# time of the same copy of 64 KiB against a second, 64 KiB nbdkit
# (process start, connection, handshake), measured just before.  nbdcopy
# runs before and after the lifeboat runs, and its figure is the mean of
# the two (interleaved, so a change of load hits both sides).
# BENCH lines: lifeboat's phases (from `lifeboat disk --bench`), nbdcopy's
# write and read in MB/s, and the ratios lifeboat/nbdcopy for sequential
# write and read at queue depth 32.  Namespaces lbs-PID-* are removed on
# exit.
BUILD="${1:-build}"
SECS="${BENCH_SECONDS:-3}"
SIZE_MB=256
# the MTU of the TAP and of the veth pair (BENCH_MTU, default 1500)
MTU="${BENCH_MTU:-1500}"
LB="$BUILD/lifeboat"

skip() {
	echo "BENCH storage.nbd skipped ($*)"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
for c in ip nbdkit nbdcopy; do
	command -v $c >/dev/null || skip "needs $c"
done

A="lbs-$$-a"
B="lbs-$$-b"
TMP=$(mktemp -d)
cleanup() {
	[ -f "$TMP/nbdkit.pid" ] && kill "$(cat "$TMP/nbdkit.pid")" 2>/dev/null
	[ -f "$TMP/nbdkit-small.pid" ] &&
		kill "$(cat "$TMP/nbdkit-small.pid")" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$A" && ip netns add "$B" || skip "cannot create namespaces"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" tuntap add dev lbs0 mode tap
ip -n "$A" addr add 192.0.2.1/24 dev lbs0
ip -n "$A" link set lbs0 up
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev va
ip -n "$B" addr add 198.51.100.2/24 dev vb
ip -n "$A" link set lbs0 mtu "$MTU"
ip -n "$A" link set va mtu "$MTU"
ip -n "$B" link set vb mtu "$MTU"
ip -n "$A" link set va up
ip -n "$B" link set vb up
echo "# mtu $MTU"

ip netns exec "$A" nbdkit -P "$TMP/nbdkit.pid" -p 10809 memory "${SIZE_MB}M" ||
	skip "nbdkit did not start"
ip netns exec "$A" nbdkit -P "$TMP/nbdkit-small.pid" -p 10810 memory 64K ||
	skip "nbdkit did not start"
sleep 0.3
head -c $((SIZE_MB << 20)) /dev/urandom >"$TMP/data.img"
head -c 65536 "$TMP/data.img" >"$TMP/small.img"

secs() { # from to -> seconds nbdcopy took
	t0=$(date +%s.%N)
	ip netns exec "$B" nbdcopy -C 1 --requests=32 --request-size=65536 \
		"$1" "$2" >/dev/null 2>&1 || { echo 0; return; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.6f", $2 - $1 }'
}

copy_mbs() { # from to small-from small-to -> MB/s, set-up excluded
	s=$(secs "$3" "$4")
	t=$(secs "$1" "$2")
	echo "$t $s" | awk -v mb="$SIZE_MB" \
		'{ if ($1 > $2) printf "%.1f", mb * 1.048576 / ($1 - $2); else print 0 }'
}

URI=nbd://198.51.100.1/
SMALL=nbd://198.51.100.1:10810/
copy_mbs "$TMP/data.img" "$URI" "$TMP/small.img" "$SMALL" >/dev/null # first touch
KW1=$(copy_mbs "$TMP/data.img" "$URI" "$TMP/small.img" "$SMALL")
KR1=$(copy_mbs "$URI" null: "$SMALL" null:)

ip netns exec "$A" "$LB" disk nbd://192.0.2.1/ --wire tap:lbs0 \
	--ip 192.0.2.2/24 --memory 64M --bench --size "${SIZE_MB}M" \
	--bench-time "$SECS" --max-request 64K >"$TMP/disk.log" 2>&1
grep "^BENCH" "$TMP/disk.log" | sed 's/^BENCH disk\./BENCH storage.nbd.lifeboat./'
grep -q "^BENCH" "$TMP/disk.log" || { echo "# lifeboat disk failed:"; sed 's/^/# /' "$TMP/disk.log"; exit 1; }
LW=$(awk '/^BENCH disk.seq_write.bs65536.qd32 / { print $3 }' "$TMP/disk.log")
LR=$(awk '/^BENCH disk.seq_read.bs65536.qd32 / { print $3 }' "$TMP/disk.log")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
grep -A6 "^reserves" "$TMP/disk.log" | sed 's/^/# /'

# The same with the TAP's offloads on (coalesced 64 KiB frames received);
# the run above is plain frames, one per read()/write() on /dev/net/tun.
ip netns exec "$A" "$LB" disk nbd://192.0.2.1/ --wire tap:lbs0,offload=on \
	--ip 192.0.2.2/24 --memory 64M --bench --size "${SIZE_MB}M" \
	--bench-time "$SECS" --max-request 64K >"$TMP/disk-offload.log" 2>&1
grep "^BENCH" "$TMP/disk-offload.log" |
	sed 's/^BENCH disk\./BENCH storage.nbd.lifeboat_offload./'
PW=$(awk '/^BENCH disk.seq_write.bs65536.qd32 / { print $3 }' "$TMP/disk-offload.log")
PR=$(awk '/^BENCH disk.seq_read.bs65536.qd32 / { print $3 }' "$TMP/disk-offload.log")
echo "BENCH storage.nbd.write_offload_vs_plain $(ratio "$PW" "$LW") ratio"
echo "BENCH storage.nbd.read_offload_vs_plain $(ratio "$PR" "$LR") ratio"

# nbdcopy again, and its mean: the lifeboat runs sat between its two
KW2=$(copy_mbs "$TMP/data.img" "$URI" "$TMP/small.img" "$SMALL")
KR2=$(copy_mbs "$URI" null: "$SMALL" null:)
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a + b) / 2 }'; }
KW=$(mean "$KW1" "$KW2")
KR=$(mean "$KR1" "$KR2")
echo "# nbdcopy write $KW1 then $KW2 MB/s, read $KR1 then $KR2 MB/s"
echo "BENCH storage.nbd.nbdcopy.write $KW MB/s"
echo "BENCH storage.nbd.nbdcopy.read $KR MB/s"
echo "BENCH storage.nbd.write_lifeboat_vs_nbdcopy $(ratio "$LW" "$KW") ratio"
echo "BENCH storage.nbd.read_lifeboat_vs_nbdcopy $(ratio "$LR" "$KR") ratio"
echo "BENCH storage.nbd.write_lifeboat_offload_vs_nbdcopy $(ratio "$PW" "$KW") ratio"
echo "BENCH storage.nbd.read_lifeboat_offload_vs_nbdcopy $(ratio "$PR" "$KR") ratio"
