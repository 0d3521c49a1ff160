#!/bin/sh
# iSCSI against real software, over TAP, every byte verified:
#   our target    <- libiscsi's tools: discovery (iscsi-ls), INQUIRY
#                    (iscsi-inq) and the SCSI families of its conformance
#                    suite (iscsi-test-cu --dataloss) the target claims;
#                    iscsi-inq through CHAP
#   our initiator -> tgtd (Debian tgt): `lifeboat disk --verify 64M`, once
#                    with CRC32C header and data digests, TRIM as UNMAP on
#                    a thin-provisioned LUN, CHAP (incominguser), and
#                    `lifeboat run` paging to it
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd iscsi-ls iscsi-inq iscsi-test-cu tgtd tgtadm

IQN=iqn.2026-01.org.lifeboat:test
TMPDIR_RUN=$(mktemp -d)
setup_ns iscsi
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up

ip netns exec "$NS" "$LB" serve --proto iscsi --size 64M --iqn "$IQN" \
	--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 3 \
	>"$TMP/serve.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
if ! wait_for "$TMP/serve.log" "lifeboat serve: iSCSI" 10; then
	not_ok "iscsi: lifeboat serve starts"
	cat "$TMP/serve.log"
	finish
	exit
fi

nsx timeout 30 iscsi-ls -s iscsi://192.0.2.2 >"$TMP/ls.txt" 2>&1
check "iscsi: iscsi-ls discovers the target (SendTargets)" \
	grep -q "Target:$IQN Portal:192.0.2.2:3260,1" "$TMP/ls.txt"
check "iscsi: iscsi-ls sees LUN 0, a 64 MiB disk" \
	grep -q "Lun:0 *Type:DIRECT_ACCESS (Size:63M)" "$TMP/ls.txt"
nsx timeout 30 iscsi-inq "iscsi://192.0.2.2/$IQN/0" >"$TMP/inq.txt" 2>&1
check "iscsi: iscsi-inq reads the standard INQUIRY" \
	grep -q "Vendor:LIFEBOAT" "$TMP/inq.txt"
nsx timeout 30 iscsi-inq -e 1 -c 0x80 "iscsi://192.0.2.2/$IQN/0" \
	>"$TMP/inq80.txt" 2>&1
check "iscsi: iscsi-inq reads the unit serial number VPD page" \
	grep -qi "serial" "$TMP/inq80.txt"
nsx timeout 30 iscsi-inq "iscsi://192.0.2.2/iqn.2026-01.org.lifeboat:nosuch/0" \
	>"$TMP/inq-bad.txt" 2>&1
check "iscsi: a login to an unknown target name is refused" \
	test $? -ne 0

for fam in Read10 Read16 Write10 Write16 ReadCapacity10 ReadCapacity16 \
	Inquiry TestUnitReady WriteSame10 WriteSame16 Unmap Verify10 Verify16 \
	ModeSense6; do
	nsx timeout 120 iscsi-test-cu --dataloss -t "SCSI.$fam" \
		"iscsi://192.0.2.2/$IQN/0" >"$TMP/cu-$fam.log" 2>&1
	if grep -Eq "^ +tests +[0-9]+ +[0-9]+ +[1-9][0-9]* +0 " \
		"$TMP/cu-$fam.log"; then
		ok "iscsi: iscsi-test-cu SCSI.$fam passes ($(grep -c SKIPPED "$TMP/cu-$fam.log") checks skipped)"
	else
		not_ok "iscsi: iscsi-test-cu SCSI.$fam"
		grep -E "FAIL|tests" "$TMP/cu-$fam.log" | head -20
	fi
done

kill -INT "$SERVEPID"
wait "$SERVEPID"
check "iscsi: the target exits cleanly" test $? -eq 0
check "iscsi: the target counted no protocol errors from libiscsi" \
	grep -Eq "^iscsi\.target\.3260\.proto_errors +0" "$TMP/serve.log"
check "iscsi: the target wrote and read data" \
	grep -Eq "^iscsi\.target\.3260\.bytes_written +[1-9]" "$TMP/serve.log"

# CHAP: libiscsi logs in to our target with the secret, not without it
ip netns exec "$NS" "$LB" serve --proto iscsi --size 16M --iqn "$IQN" \
	--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 32M --seed 4 \
	--chap-user lbuser --chap-secret lb-chap-secret-1 \
	>"$TMP/serve-chap.log" 2>&1 &
SERVEPID=$!
PIDS="$PIDS $SERVEPID"
if wait_for "$TMP/serve-chap.log" "lifeboat serve: iSCSI" 10; then
	nsx timeout 30 iscsi-inq "iscsi://lbuser%lb-chap-secret-1@192.0.2.2/$IQN/0" \
		>"$TMP/inq-chap.txt" 2>&1
	check "iscsi: iscsi-inq passes our target's CHAP with the secret" \
		grep -q "Vendor:LIFEBOAT" "$TMP/inq-chap.txt"
	nsx timeout 30 iscsi-inq "iscsi://lbuser%wrong-secret@192.0.2.2/$IQN/0" \
		>"$TMP/inq-chap-bad.txt" 2>&1
	check "iscsi: ... and is refused with a wrong one" test $? -ne 0
	nsx timeout 30 iscsi-inq "iscsi://192.0.2.2/$IQN/0" \
		>"$TMP/inq-chap-none.txt" 2>&1
	check "iscsi: ... and without one" test $? -ne 0
	kill -INT "$SERVEPID"
	wait "$SERVEPID"
	check "iscsi: the CHAP target counted both refusals" \
		grep -Eq "^iscsi\.target\.3260\.auth_failures +2" "$TMP/serve-chap.log"
else
	not_ok "iscsi: lifeboat serve --chap-user starts"
	cat "$TMP/serve-chap.log"
fi
cleanup
trap - EXIT

# ---- our initiator against tgtd ---------------------------------------------
TIQN=iqn.2026-01.org.example:tgt
setup_ns tgt
nsx ip tuntap add dev lbtap0 mode tap
nsx ip addr add 192.0.2.1/24 dev lbtap0
nsx ip link set lbtap0 up
truncate -s 64M "$TMP/tgt.img"
ip netns exec "$NS" tgtd -f --iscsi portal=192.0.2.1:3260 >"$TMP/tgtd.log" 2>&1 &
TGTPID=$!
PIDS="$PIDS $TGTPID"
i=0
until nsx tgtadm --lld iscsi --op show --mode system >/dev/null 2>&1 ||
	[ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
nsx tgtadm --lld iscsi --op new --mode target --tid 1 -T "$TIQN" &&
	nsx tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 \
		-b "$TMP/tgt.img" &&
	nsx tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
check "iscsi: tgtd serves a 64 MiB LUN" test $? -eq 0

idisk() { # log, URI, args...
	log="$1"
	shift
	timeout 120 ip netns exec "$NS" "$LB" disk --memory 32M --seed 7 \
		--wire tap:lbtap0 --ip 192.0.2.2/24 "$@" >"$log" 2>&1
}

idisk "$TMP/disk.log" "iscsi://192.0.2.1/$TIQN/1" --verify 64M
check "iscsi: our initiator verifies 64 MiB on tgtd" \
	grep -q "every byte matches" "$TMP/disk.log"
check "iscsi: the device registered its reserve" \
	grep -Eq "^  block\.iscsi0 +[1-9]" "$TMP/disk.log"
# tgt declines digests unless the target asks for them
nsx tgtadm --lld iscsi --op update --mode target --tid 1 -n HeaderDigest -v CRC32C
nsx tgtadm --lld iscsi --op update --mode target --tid 1 -n DataDigest -v CRC32C
idisk "$TMP/disk-dig.log" \
	"iscsi://192.0.2.1/$TIQN/1?header-digest=crc32c&data-digest=crc32c" \
	--verify 64M
check "iscsi: ... and with CRC32C header and data digests" \
	grep -q "every byte matches" "$TMP/disk-dig.log"
check "iscsi: ... the digests were negotiated" \
	grep -q "digests CRC32C/CRC32C" "$TMP/disk-dig.log"
idisk "$TMP/disk-qd1.log" "iscsi://192.0.2.1/$TIQN/1" --verify 4M \
	--queue-depth 1 --max-request 4K
check "iscsi: queue depth 1, 4 KiB requests, on tgtd" \
	grep -q "every byte matches" "$TMP/disk-qd1.log"
# thin provisioning: tgtd then offers UNMAP (LBPME, LBPU, Block Limits)
nsx tgtadm --lld iscsi --op update --mode logicalunit --tid 1 --lun 1 \
	--params thin_provisioning=1
idisk "$TMP/disk-trim.log" "iscsi://192.0.2.1/$TIQN/1" --verify 16M --trim
check "iscsi: TRIM as UNMAP on thin-provisioned tgtd, the rest intact" \
	grep -q "trimmed 8388608 bytes; the rest still matches" "$TMP/disk-trim.log"
check "iscsi: ... UNMAP found in tgtd's provisioning and limits pages" \
	grep -q "UNMAP yes" "$TMP/disk-trim.log"
check "iscsi: ... FUA offered by tgtd's MODE SENSE (DPOFUA)" \
	grep -q "FUA yes" "$TMP/disk-trim.log"
# CHAP: tgtd's incominguser
nsx tgtadm --lld iscsi --op new --mode account --user lbuser \
	--password lb-chap-secret-2 &&
	nsx tgtadm --lld iscsi --op bind --mode account --tid 1 --user lbuser
check "iscsi: tgtd asks for CHAP (incominguser)" test $? -eq 0
idisk "$TMP/disk-chap.log" \
	"iscsi://lbuser%lb-chap-secret-2@192.0.2.1/$TIQN/1" --verify 16M
check "iscsi: our initiator passes tgtd's CHAP and verifies 16 MiB" \
	grep -q "every byte matches" "$TMP/disk-chap.log"
idisk "$TMP/disk-chap-q.log" \
	"iscsi://192.0.2.1/$TIQN/1?user=lbuser&password=lb-chap-secret-2" \
	--verify 1M
check "iscsi: ... with the credentials in the query too" \
	grep -q "every byte matches" "$TMP/disk-chap-q.log"
idisk "$TMP/disk-chap-bad.log" \
	"iscsi://lbuser%wrong-secret@192.0.2.1/$TIQN/1" --verify 1M
check "iscsi: ... refused with a wrong secret, and says why" \
	grep -q "cannot attach the device: Permission denied" "$TMP/disk-chap-bad.log"
nsx tgtadm --lld iscsi --op unbind --mode account --tid 1 --user lbuser
idisk "$TMP/disk-bad.log" "iscsi://192.0.2.1/iqn.2026-01.org.example:nosuch/1" \
	--verify 1M
check "iscsi: a name tgtd does not serve fails to attach, and says why" \
	grep -q "cannot attach the device" "$TMP/disk-bad.log"
timeout 120 ip netns exec "$NS" "$LB" run --storage "iscsi://192.0.2.1/$TIQN/1" \
	--wire tap:lbtap0 --ip 192.0.2.2/24 --memory 16M --size 2x \
	--seed 7 >"$TMP/run.log" 2>&1
check "iscsi: lifeboat run pages to tgtd and verifies every page" \
	grep -q "completed: every page verified" "$TMP/run.log"
# tgtd ignores SIGTERM while targets exist
nsx tgtadm --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
nsx tgtadm --lld iscsi --op delete --mode system >/dev/null 2>&1
kill -9 "$TGTPID" 2>/dev/null
cleanup
trap - EXIT

# ---- the embedded target ----------------------------------------------------
timeout 120 "$LB" run --proto iscsi --memory 16M --size 2x --seed 7 \
	>"$TMPDIR_RUN/run-embedded.log" 2>&1
check "iscsi: lifeboat run --proto iscsi verifies every page" \
	grep -q "completed: every page verified" "$TMPDIR_RUN/run-embedded.log"
rm -rf "$TMPDIR_RUN"
finish
