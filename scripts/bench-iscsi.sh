#!/bin/sh
# `lifeboat disk --bench` against tgtd over TAP, next to libiscsi's
# iscsi-perf against the same tgtd over kernel TCP, in one run, and the
# reserve one iSCSI device needs at queue depth 32.
# Usage: scripts/bench-iscsi.sh BUILD_DIR  (needs root, tgtd, iscsi-perf).
#
# Layout: namespace A runs tgtd with a 256 MiB LUN in /dev/shm (RAM, so the
# disk is not what is measured), its portal on every address of A.
# lifeboat attaches through a TAP `lbi0` in A (192.0.2.1 is the kernel's
# side, lifeboat 192.0.2.2); iscsi-perf runs in namespace B and reaches A
# over a veth pair (198.51.100.2 -> .1).  Both use one connection, 64 KiB
# requests and 32 in flight.  iscsi-perf only reads (sequentially), so the
# ratio is for sequential reads.
#
# BENCH lines: lifeboat's phases, iscsi-perf's read MB/s, the ratio, and
# the reserve in bytes (block.<dev> plus the connection's socket reserves).
BUILD="${1:-build}"
SECS="${BENCH_SECONDS:-3}"
SIZE_MB=256
LB="$BUILD/lifeboat"
IQN=iqn.2026-01.org.lifeboat:bench

skip() {
	echo "BENCH storage.iscsi skipped ($*)"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
for c in ip tgtd tgtadm iscsi-perf; do
	command -v $c >/dev/null || skip "needs $c"
done

A="lbi-$$-a"
B="lbi-$$-b"
IMG=/dev/shm/lbi-$$.img
cleanup() {
	ip netns exec "$A" tgtadm --lld iscsi --op delete --mode target --tid 1 \
		--force >/dev/null 2>&1
	ip netns exec "$A" tgtadm --lld iscsi --op delete --mode system \
		>/dev/null 2>&1
	[ -n "$TGTPID" ] && kill -9 "$TGTPID" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -f "$IMG" "$LOG" "$PERF"
}
trap cleanup EXIT INT TERM
LOG=$(mktemp)
PERF=$(mktemp)

ip netns add "$A" && ip netns add "$B" || skip "cannot create namespaces"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" tuntap add dev lbi0 mode tap
ip -n "$A" addr add 192.0.2.1/24 dev lbi0
ip -n "$A" link set lbi0 up
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev va
ip -n "$B" addr add 198.51.100.2/24 dev vb
ip -n "$A" link set va up
ip -n "$B" link set vb up

truncate -s "${SIZE_MB}M" "$IMG"
ip netns exec "$A" tgtd -f --iscsi portal=0.0.0.0:3260 >/dev/null 2>&1 &
TGTPID=$!
i=0
until ip netns exec "$A" tgtadm --lld iscsi --op show --mode system \
	>/dev/null 2>&1 || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip netns exec "$A" tgtadm --lld iscsi --op new --mode target --tid 1 -T "$IQN" &&
	ip netns exec "$A" tgtadm --lld iscsi --op new --mode logicalunit \
		--tid 1 --lun 1 -b "$IMG" &&
	ip netns exec "$A" tgtadm --lld iscsi --op bind --mode target --tid 1 \
		-I ALL || skip "tgtd did not start"

# iscsi-perf runs until interrupted; its last line has the average
timeout -s INT "$((SECS + 1))" ip netns exec "$B" iscsi-perf -m 32 -b 128 \
	"iscsi://198.51.100.1/$IQN/1" >"$PERF" 2>&1
KR=$(tr '\r' '\n' <"$PERF" | sed -n 's/.*iops average [0-9]* (\([0-9.]*\) MB\/s).*/\1/p' | tail -n 1)
[ -n "$KR" ] || KR=0
echo "BENCH storage.iscsi.iscsi_perf.seq_read $KR MB/s"

ip netns exec "$A" "$LB" disk "iscsi://192.0.2.1/$IQN/1" --wire tap:lbi0 \
	--ip 192.0.2.2/24 --memory 64M --bench --size "${SIZE_MB}M" \
	--bench-time "$SECS" --max-request 64K >"$LOG" 2>&1
grep "^BENCH" "$LOG" | sed 's/^BENCH disk\./BENCH storage.iscsi.lifeboat./'
grep -q "^BENCH" "$LOG" || { echo "# lifeboat disk failed:"; sed 's/^/# /' "$LOG"; exit 1; }
LR=$(awk '/^BENCH disk.seq_read.bs65536.qd32 / { print $3 }' "$LOG")
echo "BENCH storage.iscsi.read_lifeboat_vs_iscsi_perf $(awk -v a="$LR" -v b="$KR" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') ratio"
# block.iscsi0 and the connection's net.tx/net.rxq, in pages
PAGES=$(awk '$1 == "block.iscsi0" || $1 ~ /^net\.(tx|rxq)\.[0-9]+$/ { s += $2 } END { print s + 0 }' "$LOG")
echo "BENCH storage.iscsi.reserve_qd32 $((PAGES * 4096)) bytes"
grep -A8 "^reserves" "$LOG" | sed 's/^/# /'
