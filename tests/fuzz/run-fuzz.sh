#!/usr/bin/env bash
# Build the dlic decoder fuzz target with clang + libFuzzer (ASan, UBSan)
# and run it for a bounded time.  Exit 0 if no crash, leak or hang was
# found, 1 otherwise, 77 (skip) without clang's libFuzzer.
# Usage: run-fuzz.sh SOURCE_ROOT BUILD_DIR [SECONDS]
set -u
SRC=$1 BUILD=$2 SECS=${3:-60}
OUT=$BUILD/fuzz
command -v clang >/dev/null || { echo "clang not installed: skipping"; exit 77; }
mkdir -p "$OUT/corpus"
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$SRC/core" -I"$SRC/tests/fuzz" \
    "$SRC/tests/fuzz/fuzz-dlic-decode.c" "$SRC/core/dlic-codec.c" "$SRC/core/dlic-bitstream.c" \
    "$SRC/core/dlic-rangecoder.c" "$SRC/core/dlic-weights.c" "$SRC/core/dlic-nn.c" \
    "$SRC/core/dlic-parallel.c" "$SRC/core/dlic-exact.c" "$SRC/core/dlic-resample.c" "$SRC/core/dlic-blas.c" \
    "$SRC/core/dlic-winograd4.c" -ffp-contract=off \
    $(pkg-config --cflags --libs glib-2.0 gmodule-2.0 json-glib-1.0) -lm \
    -o "$OUT/fuzz-dlic-decode" 2> "$OUT/build.log"; then
  if grep -q "fuzzer" "$OUT/build.log"; then
    echo "libFuzzer not available (libclang-rt-14-dev): skipping"; cat "$OUT/build.log"; exit 77
  fi
  cat "$OUT/build.log"; exit 1
fi
FUZZ_WRITE_SEED="$OUT/corpus/seed.dlic" FUZZ_WRITE_SEED_FLAT="$OUT/corpus/seed-flat.dlic" \
  "$OUT/fuzz-dlic-decode" -runs=1 "$OUT/corpus" > /dev/null 2>&1
printf '\xd1' > "$OUT/corpus/payload-seed"
tail -c +53 "$OUT/corpus/seed.dlic" >> "$OUT/corpus/payload-seed"
printf '\xd2' > "$OUT/corpus/payload-seed-half"
tail -c +53 "$OUT/corpus/seed.dlic" >> "$OUT/corpus/payload-seed-half"
printf '\xd3' > "$OUT/corpus/payload-seed-enlarged"
tail -c +53 "$OUT/corpus/seed.dlic" >> "$OUT/corpus/payload-seed-enlarged"
printf '\xd4' > "$OUT/corpus/payload-seed-flat"
tail -c +53 "$OUT/corpus/seed-flat.dlic" >> "$OUT/corpus/payload-seed-flat"
cd "$OUT" || exit 1
./fuzz-dlic-decode -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus > fuzz.log 2>&1
rc=$?
grep -E "^stat::|Done [0-9]+ runs|ERROR|SUMMARY" fuzz.log
if [ $rc -ne 0 ]; then
  echo "fuzzer found a problem (exit $rc); reproducer: $OUT/crash-* / leak-* / timeout-*"
  tail -n 40 fuzz.log
  exit 1
fi
echo "1 passed, 0 failed"
