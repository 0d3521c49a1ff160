#!/bin/sh
# `lifeboat run` with two devices and `--scenario NAME`, on real processes
# over pair wires (no root): the diskless host (swap on iSCSI, files and a
# shared mapping on NFS, two embedded servers) verifies every page under
# policy accounted and deadlocks under policy none, the watchdog's short
# report naming both devices.  frags8 (the simulator's frags6 world on
# real processes, at 8 MiB: a third process floods fragments once RAM is
# full): accounted verifies every page, mainline (its reserve sized as
# Linux's min_free_kbytes) deadlocks.
# Prints one "ok"/"not ok" line per check and "N passed, N failed".
LB="$1"
pass=0
fail=0
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

check() { # description, then a command that must succeed
	desc="$1"
	shift
	if "$@" >"$TMPD/check.out" 2>&1; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "not ok - $desc"
		tail -20 "$TMPD/check.out" | sed 's/^/#   /'
	fi
}

status_is() { # expected status, command...
	want="$1"
	shift
	"$@" >/dev/null 2>&1
	[ $? -eq "$want" ]
}

check "run --scenario list: one line each" \
	sh -c "'$LB' run --scenario list | grep -q '^diskless ' && '$LB' run --scenario list | grep -q '^frags8 ' && '$LB' run --scenario list | grep -q '^twodev-stall '"
check "run --scenario unknown exits 2" status_is 2 "$LB" run --scenario frob
check "run --storage three times exits 2" status_is 2 "$LB" run \
	--storage nbd://10.0.0.1/a --storage nbd://10.0.0.1/b --storage nbd://10.0.0.1/c
check "run --proto three times exits 2" status_is 2 "$LB" run --proto nbd --proto nbd --proto nbd
check "run --proto nbd --proto aoe exits 2" status_is 2 "$LB" run --proto nbd --proto aoe
check "run --proto with --storage exits 2" status_is 2 "$LB" run --proto nbd \
	--storage nbd://10.0.0.1/a --wire pair:9 --ip 10.0.0.2/24

# The diskless host: no local storage at all.
diskless_ok() {
	"$LB" run --scenario diskless --memory 8M --size 1x --noise off \
		--json "$TMPD/dl.json" >"$TMPD/dl.out" 2>&1 &&
		grep -q "scenario diskless: mixed workload .* noise off" "$TMPD/dl.out" &&
		grep -q "^lifeboat run: storage swap: iscsi0 " "$TMPD/dl.out" &&
		grep -q "^lifeboat run: storage files: nfs0 " "$TMPD/dl.out" &&
		grep -q "completed: every page verified" "$TMPD/dl.out" &&
		grep -q "^pages  *[1-9][0-9]* verified, 0 failed, 0 I/O errors" "$TMPD/dl.out" &&
		grep -q '"devices": "swap=iscsi0 files=nfs0"' "$TMPD/dl.json"
}
# Noise off: with it, two devices and policy accounted starved in some
# runs (README), always under ASan, so the check would be a coin toss.
check "run --scenario diskless --policy accounted: every page verified" diskless_ok

diskless_none() {
	"$LB" run --scenario diskless --memory 8M --size 4x --policy none \
		--watchdog 2 --report "$TMPD/dl-full.txt" >"$TMPD/dln.out" 2>"$TMPD/dln.err"
	rc=$?
	[ $rc -eq 3 ] &&
		grep -q "^lifeboat run: DEADLOCK" "$TMPD/dln.err" &&
		grep -q "^    iscsi0 *swap .* requests in flight" "$TMPD/dln.err" &&
		grep -q "^    nfs0 *data .* requests in flight" "$TMPD/dln.err" &&
		grep -q "vm watchdog: DEADLOCK" "$TMPD/dl-full.txt"
}
check "run --scenario diskless --policy none: deadlock (exit 3), both devices named" diskless_none

frags_accounted() {
	"$LB" run --scenario frags8 --size 1x --watchdog 2 >"$TMPD/f.out" 2>&1 &&
		grep -q "a third process now sends 100000 UDP fragments" "$TMPD/f.out" &&
		grep -q "completed: every page verified" "$TMPD/f.out" &&
		grep -q "^ *ip.frag " "$TMPD/f.out"
}
check "run --scenario frags8 --policy accounted: every page verified" frags_accounted

frags_mainline() {
	"$LB" run --scenario frags8 --policy mainline --watchdog 2 \
		--report "$TMPD/f-full.txt" >"$TMPD/fm.out" 2>"$TMPD/fm.err"
	rc=$?
	[ $rc -eq 3 ] && grep -q "^lifeboat run: DEADLOCK" "$TMPD/fm.err" &&
		grep -q "policy mainline" "$TMPD/fm.err"
}
check "run --scenario frags8 --policy mainline: deadlock (exit 3)" frags_mainline

# Two NBD servers (two of one protocol: nbd0, nbd1), the files one stalling for 3 s after 1 s (serve
# --stall-after/--stall-for): accounted rides it out.  (mainline does too
# on real processes: not asserted, see the README.)
twodev() {
	"$LB" run --scenario twodev-stall --memory 8M --size 1x >"$TMPD/two.out" 2>&1 &&
		grep -q "completed: every page verified" "$TMPD/two.out" &&
		grep -q "^lifeboat run: storage swap: nbd0 (reserve block.nbd0: " "$TMPD/two.out" &&
		grep -q "^lifeboat run: storage files: nbd1 (reserve block.nbd1: " "$TMPD/two.out" &&
		grep -q "^ *block.nbd1 " "$TMPD/two.out"
}
check "run --scenario twodev-stall --policy accounted: every page verified on nbd0 and nbd1" twodev
check "serve --stall-for takes seconds" status_is 2 "$LB" serve --proto nfs \
	--size 1M --stall-for abc --wire pair:9 --ip 10.0.0.1/24

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
