#!/usr/bin/env bash
# Build gst-dlic and run the whole test suite (meson test).
# Usage: tests/run.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
BUILD=${BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=debugoptimized
fi
meson compile -C "$BUILD"

status=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@" || status=$?

# one plain closing line for humans and CI
python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $status
