#!/bin/sh
# Our AoE initiator against vblade with 5 % of the AoE frames dropped in
# each direction: 64 MiB written, flushed, read back and compared.
#
# Where the drops happen matters.  vblade treats a failed write() on its
# packet socket as fatal (it exits), and a frame that an nftables egress
# hook drops in the sender's own namespace is reported to the sender as
# ENOBUFS: dropping vblade's answers that way kills vblade at the first
# drop, and the initiator then rightly declares the target dead.  Here
# vblade runs in a second namespace behind a bridge, and both directions
# are dropped in ingress hooks (lifeboat's TAP for requests, the bridge's
# veth port for answers), where no sender hears of it: a loss on the wire.
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd vblade nft

LOSS=5
SIZE=64M

setup_ns aoel
NS2="lbt-$$-aoel2"
ip netns add "$NS2" || exit 1
ip -n "$NS2" link set lo up
nsx ip tuntap add dev lbtap0 mode tap
nsx ip link add br0 type bridge
nsx ip link add lbv0 type veth peer name lbv1 netns "$NS2"
nsx ip link set lbtap0 master br0
nsx ip link set lbv0 master br0
for i in lbtap0 lbv0 br0; do nsx ip link set "$i" up; done
ip -n "$NS2" link set lbv1 up

nsx nft -f - <<NFT || skip_all "nftables netdev ingress hooks unavailable"
table netdev lbaoeloss {
	chain answers {
		type filter hook ingress device lbv0 priority 0;
		ether type 0x88a2 numgen random mod 100 < $LOSS counter drop
	}
	chain requests {
		type filter hook ingress device lbtap0 priority 0;
		ether type 0x88a2 numgen random mod 100 < $LOSS counter drop
	}
}
NFT

truncate -s 128M "$TMP/vblade.img"
ip netns exec "$NS2" vblade 3 1 lbv1 "$TMP/vblade.img" >"$TMP/vblade.log" 2>&1 &
VBPID=$!
PIDS="$PIDS $VBPID"
wait_for "$TMP/vblade.log" "e3.1" 10 || { cat "$TMP/vblade.log"; skip_all "vblade does not start"; }

timeout 150 ip netns exec "$NS" "$LB" disk --memory 32M --seed 7 aoe://3.1 \
	--wire tap:lbtap0 --verify $SIZE --stats >"$TMP/disk.log" 2>&1
rc=$?
grep -E "MB/s|verified|VERIFY|aoe\.aoe0\.(tx|retransmits|timeouts|dup|errors|fenced) " \
	"$TMP/disk.log" | sed 's/^/# /'
dropped=$(nsx nft list table netdev lbaoeloss | grep -o 'counter packets [0-9]*' |
	awk '{print $3}' | tr '\n' ' ')
echo "# dropped (answers, requests): $dropped"

check "aoe loss: 64 MiB verified on vblade with ${LOSS}% dropped each way" \
	grep -q "every byte matches" "$TMP/disk.log"
check "aoe loss: exit status 0" [ $rc -eq 0 ]
check "aoe loss: no I/O error" grep -q "^device errors: 0" "$TMP/disk.log"
check "aoe loss: frames were dropped both ways" \
	sh -c "echo '$dropped' | awk '{ exit !(\$1 > 0 && \$2 > 0) }'"
check "aoe loss: vblade is still serving" kill -0 "$VBPID"
[ $rc -eq 0 ] || cat "$TMP/disk.log" "$TMP/vblade.log"
kill "$VBPID" 2>/dev/null
ip netns del "$NS2"
NS2=""
finish
