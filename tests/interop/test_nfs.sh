#!/bin/sh
# NFS over TAP, every byte verified:
#   our client -> nfs-ganesha (VFS) with rpcbind: lifeboat disk --verify 64M
#                 and lifeboat run --storage (swapping to a file there)
#   our server <- libnfs's tools (Debian libnfs-utils): nfs-cp in and out,
#                 nfs-ls and nfs-cat; they find MOUNT and NFS through our
#                 portmapper on port 111
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd nfs-cp nfs-ls nfs-cat

setup_ns nfs
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up

# ---- our client against nfs-ganesha ------------------------------------------
if command -v ganesha.nfsd >/dev/null && command -v rpcbind >/dev/null &&
	command -v rpcinfo >/dev/null &&
	[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] &&
	! pgrep -x rpcbind >/dev/null; then
	mkdir -p "$TMP/export" "$TMP/secure"
	cat >"$TMP/ganesha.conf" <<CONF
NFS_CORE_PARAM { Protocols = 3; NFS_Port = 2049; MNT_Port = 20048;
	Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
EXPORT { Export_Id = 1; Path = $TMP/export; Pseudo = $TMP/export;
	Access_Type = RW; Squash = No_Root_Squash; Protocols = 3;
	Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
EXPORT { Export_Id = 2; Path = $TMP/secure; Pseudo = $TMP/secure;
	Access_Type = RW; Squash = No_Root_Squash; Protocols = 3;
	Transports = TCP; SecType = sys; PrivilegedPort = true;
	FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
CONF
	# ganesha registers with rpcbind at start-up: wait until rpcbind
	# answers, then until MOUNT v3 and NFSv3 answer a NULL call over TCP
	# (a fixed sleep sometimes left the MOUNT port silent)
	rpc_wait() { # prog vers
		i=0
		while [ $i -lt 300 ]; do
			ip netns exec "$NS" rpcinfo -T tcp 127.0.0.1 "$1" "$2" \
				>/dev/null 2>&1 && return 0
			sleep 0.1
			i=$((i + 1))
		done
		return 1
	}
	rm -f /run/rpcbind.sock /run/rpcbind.lock
	ip netns exec "$NS" rpcbind -f -w >"$TMP/rpcbind.log" 2>&1 &
	RPCBIND=$!
	PIDS="$PIDS $RPCBIND"
	check "nfs: rpcbind answers" rpc_wait 100000 2
	ip netns exec "$NS" ganesha.nfsd -F -f "$TMP/ganesha.conf" \
		-L "$TMP/ganesha.log" -p "$TMP/ganesha.pid" >/dev/null 2>&1 &
	GANESHA=$!
	PIDS="$PIDS $GANESHA"
	if rpc_wait 100005 3 && rpc_wait 100003 3; then
		ok "nfs: ganesha's MOUNT v3 and NFSv3 answer"
	else
		not_ok "nfs: ganesha's MOUNT v3 and NFSv3 answer within 30 s"
		cat "$TMP/ganesha.log"
	fi
	GURL="nfs://192.0.2.1$TMP/export"
	timeout 120 ip netns exec "$NS" "$LB" disk "$GURL/disk.img" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 64M >"$TMP/g-disk.log" 2>&1
	check "nfs: our client verifies 64 MiB in a file on nfs-ganesha" \
		grep -q "every byte matches" "$TMP/g-disk.log"
	check "nfs: ... the file was created there, 64 MiB" \
		[ "$(stat -c %s "$TMP/export/disk.img" 2>/dev/null)" = 67108864 ]
	check "nfs: ... with the portmapper finding MOUNT, and a reserve" \
		grep -Eq "^  block\.nfs0 +[1-9]" "$TMP/g-disk.log"
	timeout 120 ip netns exec "$NS" "$LB" run \
		--storage "$GURL/swapfile?mountport=20048&nfsport=2049" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 16M --size 2x \
		--seed 7 >"$TMP/g-run.log" 2>&1
	check "nfs: lifeboat run pages to a file on nfs-ganesha, every page verified" \
		grep -q "completed: every page verified" "$TMP/g-run.log"
	# set-up checks a user meets: FSSTAT, SETATTR, ACCESS
	timeout 60 ip netns exec "$NS" "$LB" disk "$GURL/huge.img" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 64T >"$TMP/g-huge.log" 2>&1
	check "nfs: a file larger than ganesha's free space is refused (FSSTAT), saying both" \
		sh -c "grep -q 'needs 70368744177664 more bytes, the export has [0-9]* bytes free' '$TMP/g-huge.log' && [ ! -e '$TMP/export/huge.img' ]"
	truncate -s 1M "$TMP/export/small.img"
	timeout 60 ip netns exec "$NS" "$LB" disk "$GURL/small.img" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 4M >"$TMP/g-grow.log" 2>&1
	check "nfs: a smaller file on ganesha is grown (SETATTR) and verified" \
		sh -c "grep -q 'every byte matches' '$TMP/g-grow.log' && [ \"\$(stat -c %s '$TMP/export/small.img')\" = 4194304 ]"
	timeout 60 ip netns exec "$NS" "$LB" disk "$GURL/small.img?uid=4321&gid=4321" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 4M >"$TMP/g-access.log" 2>&1
	check "nfs: a file we may not write on ganesha is refused at set-up (ACCESS)" \
		grep -q "no permission to write small.img (uid 4321" "$TMP/g-access.log"
	# an export with PrivilegedPort = true: refused, then served with ?secure=1
	SURL="nfs://192.0.2.1$TMP/secure/disk.img"
	timeout 60 ip netns exec "$NS" "$LB" disk "$SURL" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 4M >"$TMP/g-insecure.log" 2>&1
	check "nfs: ganesha's PrivilegedPort export refuses an ordinary source port" \
		sh -c "! grep -q 'every byte matches' '$TMP/g-insecure.log' && [ ! -e '$TMP/secure/disk.img' ]"
	timeout 60 ip netns exec "$NS" "$LB" disk "$SURL?secure=1" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 4M >"$TMP/g-secure.log" 2>&1
	check "nfs: ... and serves our client from a port < 1024 (?secure=1)" \
		grep -q "every byte matches" "$TMP/g-secure.log"
	timeout 60 ip netns exec "$NS" "$LB" disk "$GURL/rm.img" \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 7 \
		--verify 1M --remove >"$TMP/g-rm.log" 2>&1
	check "nfs: lifeboat disk --remove removes its file from ganesha (REMOVE)" \
		sh -c "grep -q 'removed rm.img' '$TMP/g-rm.log' && [ ! -e '$TMP/export/rm.img' ]"
	kill "$GANESHA" 2>/dev/null
	i=0
	while kill -0 "$GANESHA" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$RPCBIND" 2>/dev/null
	wait "$RPCBIND" 2>/dev/null
	rm -f /run/rpcbind.sock /run/rpcbind.lock
else
	skip_part "nfs-ganesha (nfs-ganesha, nfs-ganesha-vfs, rpcbind with rpcinfo) not installed, or an rpcbind is already running"
fi

# ---- libnfs's tools against our server ------------------------------------------

ip netns exec "$NS" "$LB" serve --proto nfs --size 32M --files 8 \
	--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 3 \
	>"$TMP/serve.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
if ! wait_for "$TMP/serve.log" "lifeboat serve: NFS" 10; then
	not_ok "nfs: lifeboat serve starts"
	cat "$TMP/serve.log"
	finish
	exit 1
fi
URL=nfs://192.0.2.2/export

# 5 MiB and a bit: not a multiple of the 64 KiB transfer size
head -c 5243000 /dev/urandom >"$TMP/in.bin"
head -c 1000 /dev/urandom >"$TMP/small.bin"
timeout 60 ip netns exec "$NS" nfs-cp "$TMP/in.bin" "$URL/in.bin" \
	>"$TMP/cp-in.log" 2>&1
check "nfs: nfs-cp writes 5 MiB to our server" grep -q "copied 5243000 bytes" "$TMP/cp-in.log"
timeout 60 ip netns exec "$NS" nfs-cp "$TMP/small.bin" "$URL/small.bin" \
	>/dev/null 2>&1
timeout 60 ip netns exec "$NS" nfs-ls "$URL" >"$TMP/ls.txt" 2>&1
check "nfs: nfs-ls lists both files" sh -c "grep -q 'in.bin' '$TMP/ls.txt' && grep -q 'small.bin' '$TMP/ls.txt'"
check "nfs: nfs-ls shows the size" grep -q "5243000" "$TMP/ls.txt"
timeout 60 ip netns exec "$NS" nfs-cp "$URL/in.bin" "$TMP/out.bin" \
	>/dev/null 2>&1
check "nfs: nfs-cp reads it back byte for byte" cmp -s "$TMP/in.bin" "$TMP/out.bin"
timeout 60 ip netns exec "$NS" nfs-cat "$URL/small.bin" >"$TMP/cat.bin" 2>/dev/null
check "nfs: nfs-cat reads the small file byte for byte" cmp -s "$TMP/small.bin" "$TMP/cat.bin"
timeout 60 ip netns exec "$NS" nfs-cat "$URL/nosuch" >/dev/null 2>&1
check "nfs: a missing file is an error" [ $? -ne 0 ]
timeout 60 ip netns exec "$NS" nfs-ls nfs://192.0.2.2/other >/dev/null 2>&1
check "nfs: an unknown export is an error" [ $? -ne 0 ]

kill -INT "$SERVEPID"
i=0
while kill -0 "$SERVEPID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "nfs: our server counted the writes and reads" sh -c "grep -Eq '^nfs\.server\.2049\.writes +[1-9]' '$TMP/serve.log' && grep -Eq '^nfs\.server\.2049\.reads +[1-9]' '$TMP/serve.log'"
check "nfs: nothing was dropped as malformed" grep -Eq "^nfs\.server\.2049\.dropped +0$" "$TMP/serve.log"

# ---- a directory as the export: serve --dir ----------------------------------

mkdir -p "$TMP/srv"
head -c 300000 /dev/urandom >"$TMP/srv/pre.bin"
ln -s /etc/hostname "$TMP/srv/link"
mkdir "$TMP/srv/sub"
serve_dir() {
	ip netns exec "$NS" "$LB" serve --proto nfs --dir "$TMP/srv" --files 8 \
		--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed "$1" \
		>"$TMP/serve-dir$1.log" 2>&1 &
	SERVEPID=$!
	PIDS="$PIDS $SERVEPID"
	wait_for "$TMP/serve-dir$1.log" "lifeboat serve: NFS" 10
}
stop_serve() {
	kill -INT "$SERVEPID"
	i=0
	while kill -0 "$SERVEPID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
check "nfs: lifeboat serve --dir starts" serve_dir 4
timeout 60 ip netns exec "$NS" nfs-cp "$TMP/in.bin" "$URL/in.bin" >/dev/null 2>&1
check "nfs: nfs-cp into --dir lands in the directory byte for byte" cmp -s "$TMP/in.bin" "$TMP/srv/in.bin"
timeout 60 ip netns exec "$NS" nfs-cp "$URL/pre.bin" "$TMP/pre-out.bin" >/dev/null 2>&1
check "nfs: nfs-cp reads a file that was in the directory" cmp -s "$TMP/srv/pre.bin" "$TMP/pre-out.bin"
timeout 60 ip netns exec "$NS" nfs-ls "$URL" >"$TMP/ls-dir.txt" 2>&1
check "nfs: nfs-ls lists the regular files, not the link or the subdirectory" \
	sh -c "grep -q 'pre.bin' '$TMP/ls-dir.txt' && ! grep -q 'link' '$TMP/ls-dir.txt' && ! grep -q 'sub' '$TMP/ls-dir.txt'"
stop_serve
serve_dir 5
timeout 60 ip netns exec "$NS" nfs-cp "$URL/in.bin" "$TMP/out2.bin" >/dev/null 2>&1
check "nfs: after a restart on the same directory the data is there" cmp -s "$TMP/in.bin" "$TMP/out2.bin"
stop_serve

# our client against our --dir server over a UDP-encapsulated wire,
# the server restarted while the client writes and reads
ip netns exec "$NS" "$LB" serve --proto nfs --dir "$TMP/srv" --files 8 \
	--wire udp:7001@127.0.0.1:7002 --ip 10.9.0.2/24 --memory 32M \
	--seed 6 >"$TMP/serve-udp1.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
wait_for "$TMP/serve-udp1.log" "lifeboat serve: NFS" 10
timeout 180 ip netns exec "$NS" "$LB" disk nfs://10.9.0.2/export/disk.img \
	--wire udp:7002@127.0.0.1:7001 --ip 10.9.0.1/24 --memory 32M --seed 8 \
	--verify 32M >"$TMP/dir-disk.log" 2>&1 &
DISKPID=$!
PIDS="$PIDS $DISKPID"
# written (and committed) the whole file: restart while it reads back
wait_for "$TMP/dir-disk.log" "^write " 60
stop_serve
ip netns exec "$NS" "$LB" serve --proto nfs --dir "$TMP/srv" --files 8 \
	--wire udp:7001@127.0.0.1:7002 --ip 10.9.0.2/24 --memory 32M \
	--seed 7 >"$TMP/serve-udp2.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
wait "$DISKPID"
check "nfs: our client verifies 32 MiB on our --dir server restarted in the middle" \
	grep -q "every byte matches" "$TMP/dir-disk.log"
check "nfs: ... and it did reconnect to the restarted server" \
	grep -q "reconnected; sending" "$TMP/dir-disk.log"
check "nfs: ... the file is in the directory, 32 MiB" \
	[ "$(stat -c %s "$TMP/srv/disk.img" 2>/dev/null)" = 33554432 ]
stop_serve

# our server with --secure: an ordinary source port is refused with
# AUTH_TOOWEAK (and the client says what to do), ?secure=1 is served
ip netns exec "$NS" "$LB" serve --proto nfs --dir "$TMP/srv" --files 8 \
	--secure --wire udp:7001@127.0.0.1:7002 --ip 10.9.0.2/24 \
	--memory 32M --seed 9 >"$TMP/serve-secure.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
wait_for "$TMP/serve-secure.log" "lifeboat serve: NFS" 10
timeout 60 ip netns exec "$NS" "$LB" disk nfs://10.9.0.2/export/sec.img \
	--wire udp:7002@127.0.0.1:7001 --ip 10.9.0.1/24 --memory 32M --seed 8 \
	--verify 4M >"$TMP/sec-no.log" 2>&1
check "nfs: our --secure server refuses an ordinary port; the client says ?secure=1" \
	grep -q "wants a privileged source port: add ?secure=1" "$TMP/sec-no.log"
timeout 60 ip netns exec "$NS" "$LB" disk "nfs://10.9.0.2/export/sec.img?secure=1" \
	--wire udp:7002@127.0.0.1:7001 --ip 10.9.0.1/24 --memory 32M --seed 8 \
	--verify 4M >"$TMP/sec-yes.log" 2>&1
check "nfs: ... and serves ?secure=1, every byte verified" \
	grep -q "every byte matches" "$TMP/sec-yes.log"
check "nfs: ... and the file is there" [ -e "$TMP/srv/sec.img" ]
timeout 60 ip netns exec "$NS" "$LB" disk "nfs://10.9.0.2/export/sec.img?secure=1" \
	--wire udp:7002@127.0.0.1:7001 --ip 10.9.0.1/24 --memory 32M --seed 8 \
	--verify 1M --remove >"$TMP/sec-rm.log" 2>&1
check "nfs: lifeboat disk --remove removes the file after verifying (REMOVE)" \
	sh -c "grep -q 'removed sec.img' '$TMP/sec-rm.log' && [ ! -e '$TMP/srv/sec.img' ]"
stop_serve
check "nfs: ... counting the refused calls" \
	grep -Eq "^nfs\.server\.2049\.insecure_ports +[1-9]" "$TMP/serve-secure.log"
finish
