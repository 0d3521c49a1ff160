#!/bin/sh
# A SYN flood against `lifeboat host` while Linux connects to it: spoofed
# SYNs from a raw socket in our namespace fill the echo listener's SYN
# queue (16), and a Linux client must still connect, on a SYN cookie, and
# get 1 MiB echoed back, during the flood and after it.
#
#   test_synflood.sh LIFEBOAT
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd python3 timeout

setup_ns synflood
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up

cat >"$TMP/flood.py" <<'PYEOF'
# python3 flood.py SECONDS: spoofed SYNs to 192.0.2.2:7 until time is up.
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

dst = socket.inet_aton("192.0.2.2")
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
end = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < end:
    # on the subnet (ARP never answers) and beyond it (no route back)
    src = socket.inet_aton("198.51.100.%d" % (n % 250 + 2) if n & 1
                           else "192.0.2.%d" % (n % 200 + 50))
    sport = 1024 + n % 60000
    opts = struct.pack("!BBH", 2, 4, 1460)
    tcp = struct.pack("!HHIIBBHHH", sport, 7, (n * 2654435761) & 0xffffffff,
                      0, 6 << 4, 0x02, 65535, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), n & 0xffff, 0,
                     64, 6, 0, src, dst)
    raw.sendto(ip + tcp, ("192.0.2.2", 0))
    n += 1
    if n % 200 == 0:
        time.sleep(0.01)  # about 20,000 a second: a flood, not a CPU burner
print("flood: %d spoofed SYNs" % n, flush=True)
PYEOF

cat >"$TMP/echo.py" <<'PYEOF'
# python3 echo.py SIZE: SIZE bytes through the echo service, checked.
import os, socket, sys
size = int(sys.argv[1])
data = os.urandom(size)
s = socket.create_connection(("192.0.2.2", 7), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    got += b
if bytes(got) != data:
    sys.exit("echo: %d bytes back, differing" % len(got))
print("echo ok: %d bytes" % size, flush=True)
PYEOF

HOSTLOG="$TMP/host.log"
ip netns exec "$NS" "$LB" host --wire tap:lbtap0 --ip 192.0.2.2/24 \
	--seed 1 >"$HOSTLOG" 2>&1 &
HOSTPID=$!
PIDS="$PIDS $HOSTPID"
if ! wait_for "$HOSTLOG" "Ctrl-C to stop" 10; then
	not_ok "lifeboat host starts"
	sed 's/^/# /' "$HOSTLOG"
	finish
	exit 1
fi
ok "lifeboat host starts"

py() {
	out=$(timeout 60 ip netns exec "$NS" python3 "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	return $rc
}

ip netns exec "$NS" python3 "$TMP/flood.py" 6 >"$TMP/flood.log" 2>&1 &
FLOODPID=$!
PIDS="$PIDS $FLOODPID"
sleep 1
check "Linux connects and echoes 1 MiB during the flood" \
	py "$TMP/echo.py" 1048576
wait "$FLOODPID"
sed 's/^/# /' "$TMP/flood.log"
# the flood's half-open connections keep the SYN queue full for minutes
check "Linux connects and echoes 1 MiB after the flood" \
	py "$TMP/echo.py" 1048576

kill -INT "$HOSTPID"
wait "$HOSTPID"
stat_of() {
	v=$(awk -v k="$1" '$1 == k { print $2 }' "$HOSTLOG")
	echo "${v:-0}"
}
for k in tcp.syn_queue_full tcp.syncookies_sent tcp.syncookies_validated \
	tcp.syncookies_failed; do
	echo "# $k = $(stat_of "$k")"
done
check "the SYN queue overflowed" [ "$(stat_of tcp.syn_queue_full)" -gt 1000 ]
check "cookies were sent" [ "$(stat_of tcp.syncookies_sent)" -gt 1000 ]
check "both connections came in on cookies" \
	[ "$(stat_of tcp.syncookies_validated)" -ge 2 ]
finish
