#!/bin/sh
# lifeboat's storage clients against unmodified servers, and real clients
# against lifeboat's servers, every byte verified:
#   NBD client  -> nbdkit (memory plugin) and nbd-server, over TAP
#   NBD server  <- nbdinfo and nbdcopy (libnbd), over TAP
#   AoE client  -> vblade, over AF_PACKET on veth
#   AoE target  <- our own initiator, over AF_PACKET on veth
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root

have() { command -v "$1" >/dev/null; }

start_bg() { # log, command...: start in the namespace, remember the pid
	log="$1"
	shift
	ip netns exec "$NS" "$@" >"$log" 2>&1 &
	PIDS="$PIDS $!"
	BGPID=$!
}

stop_bg() { # pid
	kill -INT "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$1" 2>/dev/null
}

disk() { # log, args...: run `lifeboat disk` in the namespace
	log="$1"
	shift
	timeout 120 ip netns exec "$NS" "$LB" disk --memory 32M --seed 7 "$@" \
		>"$log" 2>&1
}

verified() { # log
	grep -q "every byte matches" "$1" || { cat "$1"; return 1; }
}

# ---- NBD over TAP -----------------------------------------------------------
setup_ns nbd
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up

if have nbdkit; then
	nsx nbdkit -P "$TMP/nbdkit.pid" -i 192.0.2.1 -p 10809 memory 64M
	sleep 0.3
	PIDS="$PIDS $(cat "$TMP/nbdkit.pid" 2>/dev/null)"
	disk "$TMP/nbdkit.log" nbd://192.0.2.1/ --wire tap:lbtap0 \
		--ip 192.0.2.2/24 --verify 32M
	check "nbd: our client verifies 32 MiB on nbdkit" verified "$TMP/nbdkit.log"
	check "nbd: the device registered its reserve" grep -Eq "^  block\.nbd0 +[1-9]" "$TMP/nbdkit.log"
	disk "$TMP/nbdkit-qd1.log" nbd://192.0.2.1 --wire tap:lbtap0 \
		--ip 192.0.2.2/24 --verify 4M --queue-depth 1 --max-request 4K
	check "nbd: queue depth 1, 4 KiB requests, on nbdkit" verified "$TMP/nbdkit-qd1.log"
	# the TAP's offloads: super-frames out, coalesced frames in
	disk "$TMP/nbdkit-offload.log" nbd://192.0.2.1/ \
		--wire tap:lbtap0,offload=on --ip 192.0.2.2/24 --verify 32M --stats
	check "nbd: offload=on: our client verifies 32 MiB on nbdkit" \
		verified "$TMP/nbdkit-offload.log"
	check "nbd: offload=on: super-frames sent, coalesced frames received" \
		sh -c "grep -Eq '^dev\.[^ ]*\.tx_gso_frames +[1-9]' '$TMP/nbdkit-offload.log' &&
			grep -Eq '^dev\.[^ ]*\.rx_gso_frames +[1-9]' '$TMP/nbdkit-offload.log'"
	timeout 120 ip netns exec "$NS" "$LB" run --storage nbd://192.0.2.1/ \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 16M --size 2x \
		--seed 7 >"$TMP/run-nbdkit.log" 2>&1
	check "nbd: lifeboat run pages to nbdkit and verifies every page" \
		grep -q "completed: every page verified" "$TMP/run-nbdkit.log"
	kill "$(cat "$TMP/nbdkit.pid")"
else
	skip_part "nbdkit not installed"
fi

if have nbd-server; then
	truncate -s 32M "$TMP/export.img"
	cat >"$TMP/nbd-server.conf" <<CONF
[generic]
listenaddr = 192.0.2.1
port = 10810
[disk]
exportname = $TMP/export.img
flush = true
fua = true
trim = true
CONF
	nsx nbd-server -C "$TMP/nbd-server.conf" -p "$TMP/nbd-server.pid"
	sleep 0.3
	PIDS="$PIDS $(cat "$TMP/nbd-server.pid" 2>/dev/null)"
	disk "$TMP/nbd-server.log" nbd://192.0.2.1:10810/disk --wire tap:lbtap0 \
		--ip 192.0.2.2/24 --verify 16M
	check "nbd: our client verifies 16 MiB on nbd-server" verified "$TMP/nbd-server.log"
	disk "$TMP/nbd-server-offload.log" nbd://192.0.2.1:10810/disk \
		--wire tap:lbtap0,offload=on --ip 192.0.2.2/24 --verify 16M
	check "nbd: offload=on: our client verifies 16 MiB on nbd-server" \
		verified "$TMP/nbd-server-offload.log"
	disk "$TMP/nbd-server-bad.log" nbd://192.0.2.1:10810/nosuch \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --verify 1M
	rc=$?
	check "nbd: an unknown export fails with exit 1" [ $rc -eq 1 ]
	check "nbd: ... and says why" grep -qi "cannot attach" "$TMP/nbd-server-bad.log"
	kill "$(cat "$TMP/nbd-server.pid")" 2>/dev/null
else
	skip_part "nbd-server not installed"
fi

if have nbdinfo && have nbdcopy; then
	start_bg "$TMP/serve.log" "$LB" serve --proto nbd --size 16M \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 3
	SERVEPID=$BGPID
	if wait_for "$TMP/serve.log" "lifeboat serve: NBD" 10; then
		nsx nbdinfo nbd://192.0.2.2/ >"$TMP/nbdinfo.txt" 2>&1
		check "nbd: nbdinfo reads our server's export size" grep -q "export-size: 16777216" "$TMP/nbdinfo.txt"
		head -c 16777216 /dev/urandom >"$TMP/in.img"
		nsx nbdcopy "$TMP/in.img" nbd://192.0.2.2/ &&
			nsx nbdcopy nbd://192.0.2.2/ "$TMP/out.img"
		check "nbd: nbdcopy writes 16 MiB to our server and reads it back" cmp -s "$TMP/in.img" "$TMP/out.img"
		stop_bg "$SERVEPID"
		check "nbd: our server served the requests" grep -Eq "^nbd\..*writes? +[1-9]" "$TMP/serve.log"
	else
		not_ok "nbd: lifeboat serve starts"
		cat "$TMP/serve.log"
	fi
else
	skip_part "libnbd tools (nbdinfo, nbdcopy) not installed"
fi
cleanup
trap - EXIT

# ---- AoE over AF_PACKET on veth ---------------------------------------------
setup_ns aoe
nsx ip link add v0 type veth peer name v1
nsx ip link set v0 up
nsx ip link set v1 up
have ethtool && nsx ethtool -K v0 tx off gro off >/dev/null 2>&1
have ethtool && nsx ethtool -K v1 tx off gro off >/dev/null 2>&1

if have vblade; then
	truncate -s 32M "$TMP/aoe.img"
	start_bg "$TMP/vblade.log" vblade 3 1 v0 "$TMP/aoe.img"
	sleep 0.3
	disk "$TMP/vblade-disk.log" aoe://3.1 --wire packet:v1 --verify 8M
	check "aoe: our initiator verifies 8 MiB on vblade" verified "$TMP/vblade-disk.log"
	timeout 120 ip netns exec "$NS" "$LB" run --storage aoe://3.1 \
		--wire packet:v1 --memory 8M --size 2x --workload swap \
		--seed 7 >"$TMP/run-vblade.log" 2>&1
	check "aoe: lifeboat run swaps to vblade and verifies every page" \
		grep -q "completed: every page verified" "$TMP/run-vblade.log"
	kill "$BGPID"
else
	skip_part "vblade not installed"
fi

start_bg "$TMP/aoe-serve.log" "$LB" serve --proto aoe --size 16M --target 4.2 \
	--wire packet:v0 --memory 32M --seed 5
SERVEPID=$BGPID
if wait_for "$TMP/aoe-serve.log" "lifeboat serve: AoE" 10; then
	disk "$TMP/aoe-disk.log" aoe://4.2 --wire packet:v1 --verify 8M
	check "aoe: our initiator verifies 8 MiB on our target" verified "$TMP/aoe-disk.log"
	stop_bg "$SERVEPID"
else
	not_ok "aoe: lifeboat serve starts"
	cat "$TMP/aoe-serve.log"
fi
finish
