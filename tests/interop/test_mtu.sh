#!/bin/sh
# Jumbo frames against the Linux kernel and unmodified servers: at MTU
# 1500, 4000 and 9000, on each wire that has an MTU (a TAP with plain
# frames, and with offload=on, so the kernel hands over coalesced 64 KiB
# TCP frames; AF_PACKET on a veth pair), every transfer checked byte for
# byte:
#   NBD:  our client writes, reads back and verifies 32 MiB on nbdkit
#   AoE:  our initiator verifies 16 MiB on vblade, with frames carrying
#         as many sectors as the MTU allows (vblade's formula)
#   TCP:  a Linux client echoes 16 MiB through `lifeboat host` and reads
#         16 MiB of its chargen; Linux's MSS must be the MTU's
# and no frame may be dropped by lifeboat's receive path.  Then an NBD
# read whose replies never arrive: `lifeboat disk` must report the stall.
#
#   test_mtu.sh LIFEBOAT
#
# Before lifeboat received frames larger than a page, NBD reads at MTU
# 9000 hung (every full-sized segment dropped, the kernel backing off).
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd timeout python3 nbdkit vblade ethtool nft

MTUS="${LB_MTU_LIST:-1500 4000 9000}"

cat_log() {
	sed 's/^/#   /' "$1"
}

verified() { # log
	grep -q "every byte matches" "$1" || { cat_log "$1"; return 1; }
}

# The receive path kept every frame: no oversize, no-memory or early drop.
no_rx_drops() { # log
	grep -Eq "^dev\.[^ ]*\.rx_frames +[1-9]" "$1" || {
		echo "# no device statistics in $1"
		return 1
	}
	if grep -Eq "^dev\.[^ ]*\.rx_drop_(oversize|no_memory|early) +[1-9]" "$1"; then
		grep -E "^dev\.[^ ]*\.rx_drop" "$1" | sed 's/^/#   /'
		return 1
	fi
	return 0
}

disk() { # log, args...
	log="$1"
	shift
	timeout 120 ip netns exec "$NS" "$LB" disk --memory 32M --seed 7 \
		--stats "$@" >"$log" 2>&1
}

# The Linux end of the TCP checks.
cat >/tmp/lb-mtu-peer-$$.py <<'EOF'
import socket, sys, hashlib, selectors, time

HOST, mtu = "192.0.2.2", int(sys.argv[1])
size = 16 << 20


def pattern(n):
    b = bytes((i * 7 + i // 251) & 0xff for i in range(65536))
    return (b * (n // len(b) + 1))[:n]


def connect(port):
    s = socket.socket()
    s.settimeout(30)
    s.connect((HOST, port))
    return s


def echo():
    data = pattern(size)
    s = connect(7)
    mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got, off, end = bytearray(), 0, time.monotonic() + 60
    while len(got) < size:
        if time.monotonic() > end:
            sys.exit("echo timed out: sent %d, received %d" % (off, len(got)))
        for key, ev in sel.select(1.0):
            if ev & selectors.EVENT_READ:
                try:
                    got += s.recv(1 << 20)
                except BlockingIOError:
                    pass
            if ev & selectors.EVENT_WRITE and off < size:
                try:
                    off += s.send(data[off:off + (1 << 20)])
                except BlockingIOError:
                    pass
        if off == size:
            sel.modify(s, selectors.EVENT_READ)
    s.close()
    if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        sys.exit("echo: the data differs")
    print("echo ok: %d bytes, mss %d" % (size, mss))
    return mss


def chargen():
    s = connect(19)
    got = bytearray()
    while len(got) < size:
        b = s.recv(1 << 20)
        if not b:
            sys.exit("chargen: EOF after %d bytes" % len(got))
        got += b
    s.close()
    got = bytes(got[:size])
    lines = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n"
                     for l in range(size // 74 + 1))[:size]
    if got != lines:
        sys.exit("chargen: the data differs")
    print("chargen ok: %d bytes" % size)


mss = echo()
chargen()
# IPv4 and TCP headers and the timestamp option
if mss != mtu - 52:
    sys.exit("mss %d, expected %d" % (mss, mtu - 52))
EOF
PEER=/tmp/lb-mtu-peer-$$.py

# One wire at one MTU: $1 tap|packet, $2 the MTU.  The kernel's side of the
# wire is KIF (192.0.2.1); lifeboat attaches to WIRE as 192.0.2.2.
run_case() {
	kind="$1" mtu="$2"
	what="$kind mtu $mtu"

	# nbdkit: 32 MiB written, read back, compared
	nsx nbdkit -P "$TMP/nbdkit.pid" -i 192.0.2.1 -p 10809 memory 64M
	sleep 0.3
	NBDKIT=$(cat "$TMP/nbdkit.pid" 2>/dev/null)
	PIDS="$PIDS $NBDKIT"
	disk "$TMP/nbd.log" nbd://192.0.2.1/ --wire "$WIRE" --ip 192.0.2.2/24 \
		--verify 32M
	check "$what: nbd: our client verifies 32 MiB on nbdkit" verified "$TMP/nbd.log"
	check "$what: nbd: no frame dropped on receive" no_rx_drops "$TMP/nbd.log"
	case "$WIRE" in
	*offload=on) check "$what: nbd: read replies came coalesced (GSO)" \
		grep -Eq "^dev\.[^ ]*\.rx_gso_frames +[1-9]" "$TMP/nbd.log"
		check "$what: nbd: writes went out as super-frames (GSO)" \
		grep -Eq "^dev\.[^ ]*\.tx_gso_frames +[1-9]" "$TMP/nbd.log" ;;
	tap:*) check "$what: nbd: no coalesced frame" \
		grep -Eq "^dev\.[^ ]*\.rx_gso_frames +0$" "$TMP/nbd.log" ;;
	esac
	kill "$NBDKIT" 2>/dev/null

	# vblade: frames as large as the MTU allows
	truncate -s 32M "$TMP/aoe.img"
	nsx vblade 3 1 "$KIF" "$TMP/aoe.img" >"$TMP/vblade.log" 2>&1 &
	VBLADE=$!
	PIDS="$PIDS $VBLADE"
	sleep 0.3
	disk "$TMP/aoe.log" aoe://3.1 --wire "$WIRE" --verify 16M
	check "$what: aoe: our initiator verifies 16 MiB on vblade" verified "$TMP/aoe.log"
	sectors=$(((mtu - 36) / 512))
	check "$what: aoe: $sectors sectors a frame" \
		grep -q ", $sectors sectors a frame" "$TMP/aoe.log"
	check "$what: aoe: no frame dropped on receive" no_rx_drops "$TMP/aoe.log"
	kill "$VBLADE" 2>/dev/null
	wait "$VBLADE" 2>/dev/null

	# TCP with Linux: echo both ways and chargen, at the MTU's MSS
	ip netns exec "$NS" "$LB" host --wire "$WIRE" --ip 192.0.2.2/24 \
		--memory 64M --seed 3 >"$TMP/host.log" 2>&1 &
	HOST=$!
	PIDS="$PIDS $HOST"
	sleep 0.5
	timeout 120 ip netns exec "$NS" python3 "$PEER" "$mtu" >"$TMP/peer.log" 2>&1
	rc=$?
	sed 's/^/# /' "$TMP/peer.log"
	check "$what: tcp: Linux echoes 16 MiB and reads 16 MiB of chargen at MSS $((mtu - 52))" \
		[ $rc -eq 0 ]
	kill -TERM "$HOST" 2>/dev/null
	wait "$HOST" 2>/dev/null
	check "$what: tcp: no frame dropped on receive" no_rx_drops "$TMP/host.log"
	case "$WIRE" in
	*offload=on) check "$what: tcp: echo and chargen sent as super-frames" \
		grep -Eq "^dev\.[^ ]*\.tx_gso_frames +[1-9]" "$TMP/host.log" ;;
	tap:*) check "$what: tcp: no super-frame" \
		grep -Eq "^dev\.[^ ]*\.tx_gso_frames +0$" "$TMP/host.log" ;;
	esac
}

for mtu in $MTUS; do
	# ---- TAP: the kernel's side is the TAP interface itself ---------
	setup_ns "mtu$mtu"
	nsx ip tuntap add dev lbtap0 mode tap
	nsx ip link set lbtap0 mtu "$mtu"
	nsx ip addr add 192.0.2.1/24 dev lbtap0
	nsx ip link set lbtap0 up
	KIF=lbtap0 WIRE=tap:lbtap0
	run_case tap "$mtu"
	# the same with the offloads on: coalesced frames
	KIF=lbtap0 WIRE=tap:lbtap0,offload=on
	run_case "tap,offload=on" "$mtu"
	cleanup
	trap - EXIT

	# ---- AF_PACKET on veth: the kernel on v0, lifeboat on v1 --------
	# Without checksum offload there is no TSO either, so every frame
	# the kernel sends over v0 is within the MTU (GSO frames are what
	# lifeboat's receive path rightly drops as oversize).
	setup_ns "mtuv$mtu"
	nsx ip link add v0 type veth peer name v1
	nsx ip link set v0 mtu "$mtu"
	nsx ip link set v1 mtu "$mtu"
	nsx ethtool -K v0 tx off gro off >/dev/null 2>&1
	nsx ethtool -K v1 tx off gro off >/dev/null 2>&1
	nsx ip addr add 192.0.2.1/24 dev v0
	nsx ip link set v0 up
	nsx ip link set v1 up
	KIF=v0 WIRE=packet:v1
	run_case packet "$mtu"
	cleanup
	trap - EXIT
done
rm -f "$PEER"

# ---- no progress is reported, not left hanging silently ----------------------
# nftables drops nbdkit's large segments (read replies) on their way out, so
# the read-back waits for replies that never come; `lifeboat disk` must say
# so (and is then stopped by timeout).
setup_ns stall
nsx ip tuntap add dev lbtap0 mode tap
nsx ip link set lbtap0 mtu 9000
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up
nsx nft -f - <<'NFT'
table inet lbstall {
	chain out {
		type filter hook output priority 0;
		oifname "lbtap0" tcp sport 10809 meta length > 2000 drop
	}
}
NFT
nsx nbdkit -P "$TMP/nbdkit.pid" -i 192.0.2.1 -p 10809 memory 64M
sleep 0.3
PIDS="$PIDS $(cat "$TMP/nbdkit.pid" 2>/dev/null)"
timeout 12 ip netns exec "$NS" "$LB" disk --memory 32M --seed 7 \
	nbd://192.0.2.1/ --wire tap:lbtap0 --ip 192.0.2.2/24 --verify 4M \
	>"$TMP/stall.log" 2>&1
check "stall: lifeboat disk warns that nbd0 gets no reply" \
	grep -q "nbd0: stalled: no reply for 5.0 s with 32 requests outstanding" "$TMP/stall.log"
check "stall: ... and counts it in its summary" grep -q "^stalls: 1 " "$TMP/stall.log"
cleanup
trap - EXIT
finish
