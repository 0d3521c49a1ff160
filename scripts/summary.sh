#!/bin/sh
# Print one closing line for the test runs in the given build directories:
#   "check: N passed, N failed, N skipped"
# from Meson's machine-readable test logs.  Exits non-zero if any failed.
exec python3 - "$@" <<'PY'
import json, os, sys
passed = failed = skipped = 0
for build in sys.argv[1:]:
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        print(f"summary: no test log in {build}", file=sys.stderr)
        failed += 1
        continue
    with open(path) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"check: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
