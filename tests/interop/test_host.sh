#!/bin/sh
# The Linux kernel talks to `lifeboat host`: ping and UDP echo, over TAP
# in a namespace of our own, and over AF_PACKET on a veth pair; tshark
# reads the capture the host wrote.
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ping socat

run_host() { # wire, log file, extra args...
	wire="$1" log="$2"
	shift 2
	# not through nsx: $! must be the host itself (ip execs it)
	ip netns exec "$NS" "$LB" host --wire "$wire" --ip 192.0.2.2/24 \
		--memory 16M --seed 1 "$@" >"$log" 2>&1 &
	PIDS="$PIDS $!"
	HOSTPID=$!
	wait_for "$log" "Ctrl-C to stop" 10
}

stop_host() { # log
	kill -INT "$HOSTPID"
	i=0
	while kill -0 "$HOSTPID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$HOSTPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q "^net.icmp_echo_replies" "$1"
}

udp_echo() { # payload -> prints the echo
	printf '%s' "$1" | nsx socat -t 2 - UDP:192.0.2.2:7
}

exchange() { # label
	check "$1: the kernel pings lifeboat" nsx ping -q -c 3 -i 0.2 -W 2 192.0.2.2
	check "$1: UDP echo round-trips" [ "$(udp_echo "hello lifeboat")" = "hello lifeboat" ]
	big=$(head -c 1400 /dev/zero | tr '\0' 'x')
	check "$1: a 1400-byte datagram round-trips" [ "$(udp_echo "$big")" = "$big" ]
	# 4000 bytes: the kernel fragments it, we reassemble, and our reply
	# (which we do not fragment) cannot be sent: counted, not crashed.
	big4k=$(head -c 4000 /dev/zero | tr '\0' 'y')
	udp_echo "$big4k" >/dev/null
	check "$1: still answering after an oversized datagram" nsx ping -q -c 1 -W 2 192.0.2.2
}

# ---- TAP -------------------------------------------------------------------
setup_ns tap
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up
if run_host tap:lbtap0 "$TMP/tap.log" --pcap "$TMP/tap.pcapng"; then
	ok "tap: lifeboat host starts"
	exchange tap
	check "tap: Ctrl-C prints the stats and exits 0" stop_host "$TMP/tap.log"
	check "tap: the replies were counted" grep -Eq "^net.icmp_echo_replies +[4-9]" "$TMP/tap.log"
	check "tap: the reassembled datagram was counted" grep -Eq "^net.ipfrag_reassembled +1" "$TMP/tap.log"
	if command -v tshark >/dev/null; then
		tshark -r "$TMP/tap.pcapng" -o ip.check_checksum:TRUE \
			-o udp.check_checksum:TRUE -V -z expert >"$TMP/tshark.txt" 2>&1
		check "tap: tshark reads the capture" [ $? -eq 0 ]
		check "tap: the capture has the ICMP echoes" grep -q "Echo (ping) reply" "$TMP/tshark.txt"
		check "tap: no malformed packet" sh -c "! grep -qi malformed '$TMP/tshark.txt'"
		check "tap: no bad checksum" sh -c "! grep -qiE 'incorrect|Checksum Status: Bad' '$TMP/tshark.txt'"
	else
		skip_part "tshark not installed: capture checks"
	fi
else
	not_ok "tap: lifeboat host starts"
	cat "$TMP/tap.log"
fi
cleanup
trap - EXIT

# ---- AF_PACKET on veth ------------------------------------------------------
setup_ns veth
nsx ip link add v0 type veth peer name v1
nsx ip addr add 192.0.2.1/24 dev v0
nsx ip link set v0 up
nsx ip link set v1 up
command -v ethtool >/dev/null && nsx ethtool -K v0 tx off gro off >/dev/null 2>&1
if run_host packet:v1 "$TMP/veth.log"; then
	ok "packet: lifeboat host starts"
	exchange packet
	check "packet: Ctrl-C prints the stats and exits 0" stop_host "$TMP/veth.log"
else
	not_ok "packet: lifeboat host starts"
	cat "$TMP/veth.log"
fi
finish
