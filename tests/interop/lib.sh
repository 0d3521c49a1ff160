# Shared by the interop tests: a network namespace of the test's own,
# removed on exit (also on failure), and TAP-style reporting.
# Exit status 77 tells Meson the test was skipped.
#
# The rule for a script whose part cannot run (a server or tool missing):
# the part says "# SKIP why" (skip_part) and counts; finish() then exits 1
# if anything failed, else 77 if any part was skipped (Meson reports SKIP,
# and `make check` counts it as skipped, not passed), else 0.  A script
# therefore passes only when every part of it ran and passed.

pass=0
fail=0
skipped=0
NS=""
PIDS=""

skip_all() {
	echo "SKIPPED: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, TAP)"
	command -v ip >/dev/null || skip_all "needs iproute2"
	ip netns add "lbprobe-$$" 2>/dev/null || skip_all "cannot create network namespaces here"
	ip netns del "lbprobe-$$"
}

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null || skip_all "needs $c"
	done
}

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$NS2" ] && ip netns del "$NS2" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}

setup_ns() {
	NS="lbt-$$-$1"
	ip netns add "$NS" || exit 1
	trap cleanup EXIT INT TERM
	ip -n "$NS" link set lo up
	TMP=$(mktemp -d)
}

nsx() {
	ip netns exec "$NS" "$@"
}

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

check() {
	desc="$1"
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Wait until FILE contains PATTERN (at most SECONDS).
wait_for() {
	file="$1" pat="$2" secs="${3:-10}"
	i=0
	while [ $i -lt $((secs * 10)) ]; do
		grep -q -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

skip_part() {
	skipped=$((skipped + 1))
	echo "# SKIP $*"
}

finish() {
	echo "$pass passed, $fail failed, $skipped skipped"
	[ "$fail" -eq 0 ] || exit 1
	if [ "$skipped" -ne 0 ]; then
		echo "SKIPPED: $skipped part(s) did not run (see '# SKIP' above)"
		exit 77
	fi
	exit 0
}
