#!/bin/sh
# lifeboat's iSCSI target against libiscsi's own client tools, over TAP:
# discovery (iscsi-ls), INQUIRY (iscsi-inq) and the SCSI families of
# libiscsi's conformance suite (iscsi-test-cu --dataloss) that the target
# claims; every family must pass.
LB="$1"
. "$(dirname "$0")/lib.sh"
need_root
need_cmd iscsi-ls iscsi-inq iscsi-test-cu

IQN=iqn.2026-01.org.lifeboat:test
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
cleanup
trap - EXIT
finish
