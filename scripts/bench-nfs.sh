#!/bin/sh
# `lifeboat disk nfs://… --bench` against nfs-ganesha (VFS) over TAP, next
# to libnfs's nfs-cp against the same export over kernel TCP, in one run.
# Usage: scripts/bench-nfs.sh BUILD_DIR  (needs root, nfs-ganesha with
# rpcbind, nfs-cp).
#
# Layout as scripts/bench-storage.sh: namespace A runs rpcbind and ganesha;
# lifeboat attaches through a TAP `lbn0` in A (192.0.2.1 is the kernel's
# side, lifeboat 192.0.2.2); nfs-cp runs in namespace B and reaches A over
# a veth pair (198.51.100.2 -> .1).  The file is written once first.
#
# BENCH lines: lifeboat's phases (from `lifeboat disk --bench`), nfs-cp's
# write and read in MB/s, the ratios lifeboat/nfs-cp for sequential write
# and read (lifeboat at queue depth 32, 64 KiB requests; nfs-cp has its own
# pipelining), and the reserve lifeboat computed for the mount.
BUILD="${1:-build}"
SECS="${BENCH_SECONDS:-3}"
SIZE_MB=64
LB="$BUILD/lifeboat"

skip() {
	echo "BENCH storage.nfs skipped ($*)"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
for c in ip nfs-cp ganesha.nfsd rpcbind; do
	command -v $c >/dev/null || skip "needs $c"
done
pgrep -x rpcbind >/dev/null && skip "an rpcbind is already running"

A="lbn-$$-a"
B="lbn-$$-b"
TMP=$(mktemp -d)
cleanup() {
	[ -n "$GANESHA" ] && kill "$GANESHA" 2>/dev/null && sleep 1
	[ -n "$RPCBIND" ] && kill "$RPCBIND" 2>/dev/null
	rm -f /run/rpcbind.sock /run/rpcbind.lock
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$A" && ip netns add "$B" || skip "cannot create namespaces"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" tuntap add dev lbn0 mode tap
ip -n "$A" addr add 192.0.2.1/24 dev lbn0
ip -n "$A" link set lbn0 up
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev va
ip -n "$B" addr add 198.51.100.2/24 dev vb
ip -n "$A" link set va up
ip -n "$B" link set vb up

mkdir -p "$TMP/export"
cat >"$TMP/ganesha.conf" <<CONF
NFS_CORE_PARAM { Protocols = 3; NFS_Port = 2049; MNT_Port = 20048;
	Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
EXPORT { Export_Id = 1; Path = $TMP/export; Pseudo = $TMP/export;
	Access_Type = RW; Squash = No_Root_Squash; Protocols = 3;
	Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
CONF
# Wait until an RPC program answers a NULL call over TCP (at most 30 s):
# rpcbind before ganesha starts (ganesha registers its programs with it at
# start-up and goes on without a MOUNT registration when it cannot), then
# MOUNT v3 itself, instead of sleeping a fixed time and hoping.
rpc_wait() { # ns prog vers
	i=0
	while [ $i -lt 300 ]; do
		ip netns exec "$1" rpcinfo -T tcp 127.0.0.1 "$2" "$3" >/dev/null 2>&1 &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
rm -f /run/rpcbind.sock /run/rpcbind.lock
ip netns exec "$A" rpcbind -f -w >/dev/null 2>&1 &
RPCBIND=$!
rpc_wait "$A" 100000 2 || skip "rpcbind does not answer"
ip netns exec "$A" ganesha.nfsd -F -f "$TMP/ganesha.conf" -L "$TMP/g.log" \
	-p "$TMP/g.pid" >/dev/null 2>&1 &
GANESHA=$!
rpc_wait "$A" 100005 3 || skip "ganesha's MOUNT v3 does not answer (see its log)"
rpc_wait "$A" 100003 3 || skip "ganesha's NFSv3 does not answer"
head -c $((SIZE_MB << 20)) /dev/urandom >"$TMP/data.img"

cp_mbs() { # from to -> MB/s
	t0=$(date +%s.%N)
	ip netns exec "$B" nfs-cp "$1" "$2" >/dev/null 2>&1 || { echo 0; return; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk -v mb="$SIZE_MB" '{ printf "%.1f", mb * 1.048576 / ($2 - $1) }'
}

URL="nfs://198.51.100.1$TMP/export"
# nfs-cp will not overwrite: a fresh name each time
cp_mbs "$TMP/data.img" "$URL/warm.img" >/dev/null # first touch
KW=$(cp_mbs "$TMP/data.img" "$URL/cp.img")
KR=$(cp_mbs "$URL/cp.img" "$TMP/back.img")
echo "BENCH storage.nfs.nfs_cp.write $KW MB/s"
echo "BENCH storage.nfs.nfs_cp.read $KR MB/s"

ip netns exec "$A" "$LB" disk "nfs://192.0.2.1$TMP/export/disk.img" \
	--wire tap:lbn0 --ip 192.0.2.2/24 --memory 64M --bench \
	--size "${SIZE_MB}M" --bench-time "$SECS" --max-request 64K \
	>"$TMP/disk.log" 2>&1
grep "^BENCH" "$TMP/disk.log" | sed 's/^BENCH disk\./BENCH storage.nfs.lifeboat./'
grep -q "^BENCH" "$TMP/disk.log" || { echo "# lifeboat disk failed:"; grep -v "^  " "$TMP/disk.log" | grep -iv "reserve" | head -40 | sed 's/^/# /'; exit 1; }
LW=$(awk '/^BENCH disk.seq_write.bs65536.qd32 / { print $3 }' "$TMP/disk.log")
LR=$(awk '/^BENCH disk.seq_read.bs65536.qd32 / { print $3 }' "$TMP/disk.log")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "BENCH storage.nfs.write_lifeboat_vs_nfs_cp $(ratio "$LW" "$KW") ratio"
echo "BENCH storage.nfs.read_lifeboat_vs_nfs_cp $(ratio "$LR" "$KR") ratio"
grep -A8 "^reserves" "$TMP/disk.log" | sed 's/^/# /'
