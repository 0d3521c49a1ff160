#!/bin/sh
# The lifeboat command line: help, version, errors exit 2, and the mm
# demonstration reaches the outcome each policy must reach.
# Prints one "ok"/"not ok" line per check and "N passed, N failed".
LB="$1"
pass=0
fail=0

check() { # description, then a command that must succeed
	desc="$1"
	shift
	if "$@" >/dev/null 2>&1; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "not ok - $desc"
	fi
}

status_is() { # expected status, command...
	want="$1"
	shift
	"$@" >/dev/null 2>&1
	[ $? -eq "$want" ]
}

out_has() { # pattern, command...
	pat="$1"
	shift
	"$@" 2>&1 | grep -q -- "$pat"
}

check "--help exits 0" status_is 0 "$LB" --help
check "--help lists mm" out_has "^  mm " "$LB" --help
check "--version names the program" out_has "^lifeboat [0-9]" "$LB" --version
check "no command exits 2" status_is 2 "$LB"
check "unknown command exits 2" status_is 2 "$LB" frobnicate
check "unknown command is named" out_has "unknown command 'frobnicate'" "$LB" frobnicate
check "unknown global option exits 2" status_is 2 "$LB" --frob
check "mm --help exits 0" status_is 0 "$LB" mm --help
check "mm bad size exits 2" status_is 2 "$LB" mm --memory 12Q
check "mm bad size is explained" out_has "--memory needs a size" "$LB" mm --memory 12Q
check "mm too small exits 2" status_is 2 "$LB" mm --memory 4K
check "mm bad policy exits 2" status_is 2 "$LB" mm --policy linux
check "mm stray argument exits 2" status_is 2 "$LB" mm extra
check "mm unknown option exits 2" status_is 2 "$LB" mm --frob
check "bench bad iters exits 2" status_is 2 "$LB" bench --iters 0
check "bench bad --only exits 2" status_is 2 "$LB" bench --only disk
check "disk --help exits 0" status_is 0 "$LB" disk --help
check "disk without a URI exits 2" status_is 2 "$LB" disk --verify 1M
check "disk bad URI exits 2" status_is 2 "$LB" disk http://x --verify 1M --wire pair:3 --ip 10.0.0.1/24
check "disk bad URI is explained" out_has "must start with nbd://, aoe://, iscsi:// or nfs://" "$LB" disk http://x --verify 1M
check "disk NBD host must be IPv4" out_has "IPv4 address" "$LB" disk nbd://example.com/x --verify 1M
check "disk bad AoE address exits 2" status_is 2 "$LB" disk aoe://1.255 --verify 1M --wire pair:3
check "disk needs a mode" out_has "say --verify SIZE or --bench" "$LB" disk nbd://10.0.0.1/ --wire pair:3 --ip 10.0.0.2/24
check "disk --verify and --bench exclusive" status_is 2 "$LB" disk nbd://10.0.0.1/ --verify 1M --bench
check "disk bad --verify size exits 2" status_is 2 "$LB" disk nbd://10.0.0.1/ --verify 1000
check "disk bad queue depth exits 2" status_is 2 "$LB" disk nbd://10.0.0.1/ --bench --queue-depth 0
check "disk NBD needs --ip" out_has "--ip is required" "$LB" disk nbd://10.0.0.1/ --bench --wire pair:3
check "disk --trim needs --verify" out_has "--trim goes with --verify" "$LB" disk nbd://10.0.0.1/ --bench --trim --wire pair:3 --ip 10.0.0.2/24
check "serve --chap-user needs --chap-secret and iscsi" out_has "go together, with --proto iscsi" "$LB" serve --proto nbd --size 1M --chap-user x --wire pair:3 --ip 10.0.0.1/24
check "serve --help exits 0" status_is 0 "$LB" serve --help
check "serve bad proto exits 2" status_is 2 "$LB" serve --proto bogus --size 1M
check "serve needs a size or file" out_has "say --size SIZE or --file PATH" "$LB" serve --proto nbd --wire pair:3 --ip 10.0.0.1/24
check "serve bad target exits 2" status_is 2 "$LB" serve --proto aoe --size 1M --target 1.255
check "serve bad port exits 2" status_is 2 "$LB" serve --port 70000 --size 1M
check "run --help exits 0" status_is 0 "$LB" run --help
check "run bad workload exits 2" status_is 2 "$LB" run --workload frob
check "run bad size exits 2" status_is 2 "$LB" run --size 0x
check "run bad policy exits 2" status_is 2 "$LB" run --policy linux
check "run bad noise exits 2" status_is 2 "$LB" run --noise maybe
check "run --wire needs --storage" out_has "the embedded server has its own" "$LB" run --wire tap:x
check "run bad storage URI exits 2" status_is 2 "$LB" run --storage http://x
TMPD=$(mktemp -d)
check "run: a small job verifies every page" out_has "completed: every page verified" \
	"$LB" run --memory 16M --size 2x --json "$TMPD/run.json" --plot "$TMPD/run.svg"
check "run --json writes the summary" grep -q '"outcome": "completed: every page verified"' "$TMPD/run.json"
check "run --plot writes an SVG" grep -q "<polyline" "$TMPD/run.svg"
check "run over AoE verifies every page" out_has "completed: every page verified" \
	"$LB" run --memory 16M --size 2x --proto aoe --workload swap
rm -rf "$TMPD"
check "accounted: write-back proceeds" \
	out_has "^accounted .*write-back proceeds" "$LB" mm --memory 4M
check "mainline: the flood starves write-back" \
	out_has "^mainline .*write-back starved" "$LB" mm --memory 4M
check "none: write-back starves" \
	out_has "^none .*write-back starved" "$LB" mm --memory 4M
check "mm --stats json is one object" \
	out_has '^{"mm.alloc.fail": ' "$LB" mm --policy accounted --stats json
check "bench prints BENCH lines" \
	out_has "^BENCH mm.page_alloc_free [0-9.]* ns/op" "$LB" bench --only mm --iters 20000
check "sim --help exits 0" status_is 0 "$LB" sim --help
check "sim bad scenario exits 2" status_is 2 "$LB" sim --scenario nosuch
check "sim bad fault kind exits 2" status_is 2 "$LB" sim --faults loss,bogus
check "sim bad fault kind is named" out_has "unknown fault kind 'bogus'" "$LB" sim --faults loss,bogus
check "sim --seed and --seeds exclusive" status_is 2 "$LB" sim --seed 1 --seeds 3
check "sim bad --seeds exits 2" status_is 2 "$LB" sim --seeds 0
check "sim --sites needs one scenario" status_is 2 "$LB" sim --sites
check "sim --matrix takes no other option" status_is 2 "$LB" sim --matrix --seeds 3
check "sim clean seed passes" out_has "^1 passed, 0 failed" "$LB" sim --scenario write-nbd --seed 1 --faults none

# A deadlock's report: short on stderr, in full in the --report file.
TMPD=$(mktemp -d)
NONE="run --policy none --memory 16M --size 4x --workload swap --watchdog 2"
short_report() { # the short report names what is stuck and the file
	TMPDIR="$TMPD" "$LB" $NONE --report "$TMPD/full.txt" >"$TMPD/none.out" 2>"$TMPD/none.err"
	rc=$?
	grep -v -e "^ *[0-9.]*s " -e " WARN " "$TMPD/none.err" >"$TMPD/none.short"
	[ $rc -eq 3 ] &&
		grep -q "^lifeboat run: DEADLOCK" "$TMPD/none.short" &&
		grep -q "^  stuck: .* pages under I/O" "$TMPD/none.short" &&
		grep -q "^    nbd0 .* requests in flight" "$TMPD/none.short" &&
		grep -q "^  block.nbd0 " "$TMPD/none.short" &&
		grep -q "full report .*: $TMPD/full.txt" "$TMPD/none.short" &&
		[ "$(wc -l <"$TMPD/none.short")" -le 40 ] &&
		! grep -q "events recorded" "$TMPD/none.err"
}
check "run --policy none: exit 3 and a short report on stderr" short_report
check "run --policy none: the full report is in the --report file" \
	sh -c "grep -q 'vm watchdog: DEADLOCK' '$TMPD/full.txt' && grep -q 'events recorded' '$TMPD/full.txt' && [ \$(wc -l <'$TMPD/full.txt') -gt 200 ]"
check "run --verbose prints the full report too" \
	out_has "events recorded" "$LB" $NONE --verbose --report "$TMPD/full2.txt"
check "run: no deadlock leaves no default report file" \
	sh -c "TMPDIR='$TMPD/rep' && mkdir -p \$TMPDIR && export TMPDIR && '$LB' run --memory 16M --size 2x >/dev/null 2>&1 && [ -z \"\$(ls \$TMPDIR)\" ]"
check "run --report to an unwritable place exits 2" \
	status_is 2 "$LB" run --memory 16M --size 2x --report /nonexistent/dir/r.txt
rm -rf "$TMPD"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
