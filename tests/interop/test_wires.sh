#!/bin/sh
# lifeboat's storage clients against lifeboat's own servers on each wire
# that joins two processes: NBD, iSCSI and NFS over a UDP tunnel (no
# privileges), over AF_PACKET on a veth pair and over two TAPs on a
# bridge, in a namespace of the test's own (root; a skipped part
# otherwise).  16 MiB written and read
# back byte for byte on each.
# Usage: test_wires.sh LIFEBOAT
LB="$1"
. "$(dirname "$0")/lib.sh"

IQN=iqn.2026-01.org.lifeboat:disk
TMP=$(mktemp -d)
trap cleanup EXIT INT TERM

uri() {
	case "$1" in
	nbd) echo "nbd://10.9.0.1/" ;;
	iscsi) echo "iscsi://10.9.0.1/$IQN/0" ;;
	nfs) echo "nfs://10.9.0.1/export/disk" ;;
	esac
}

# pair WIRE_NAME PROTO SERVER_WIRE CLIENT_WIRE [ns]
pair() {
	name="$1" proto="$2" sw="$3" cw="$4" run="$5"
	log="$TMP/$name-$proto"
	$run "$LB" serve --proto "$proto" --size 32M --wire "$sw" \
		--ip 10.9.0.1/24 --memory 32M >"$log.serve" 2>&1 &
	sp=$!
	PIDS="$PIDS $sp"
	if ! wait_for "$log.serve" "lifeboat serve:" 10; then
		not_ok "$name: $proto: lifeboat serve starts"
		sed 's/^/# /' "$log.serve" | head -20
		return
	fi
	timeout 120 $run "$LB" disk "$(uri "$proto")" --wire "$cw" \
		--ip 10.9.0.2/24 --verify 16M >"$log.disk" 2>&1
	check "$name: $proto: our client verifies 16 MiB on our server" \
		grep -q "every byte matches" "$log.disk"
	grep -q "every byte matches" "$log.disk" ||
		sed 's/^/# /' "$log.disk" | tail -20
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
}

port=$((20000 + $$ % 20000))
for proto in nbd iscsi nfs; do
	pair udp "$proto" "udp:$port@127.0.0.1:$((port + 1))" \
		"udp:$((port + 1))@127.0.0.1:$port"
	port=$((port + 2))
done

if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null &&
	ip netns add "lbt-$$-wires" 2>/dev/null; then
	NS="lbt-$$-wires"
	nsx ip link set lo up
	nsx ip link add v0 type veth peer name v1
	nsx ip link set v0 up
	nsx ip link set v1 up
	for proto in nbd iscsi nfs; do
		pair packet "$proto" packet:v0 packet:v1 "ip netns exec $NS"
	done
	# two TAPs on a bridge: every frame crosses /dev/net/tun twice
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	for t in lbw0 lbw1; do
		nsx ip tuntap add "$t" mode tap
		nsx ip link set "$t" master br0
		nsx ip link set "$t" up
	done
	for proto in nbd iscsi nfs; do
		pair tap "$proto" tap:lbw0 tap:lbw1 "ip netns exec $NS"
	done
else
	skip_part "AF_PACKET on veth and TAP need root and network namespaces"
fi
finish
