#!/usr/bin/env bash
# The dlic command: encode / info / decode round trip, rate control, and the
# exit status and message of every kind of bad input.
# Usage: test_dlic_cli.sh BUILD_DIR DATA_DIR
set -u
BUILD=$1 DATA=$2
DLIC=$BUILD/gst/dlic
export GST_PLUGIN_PATH=$BUILD/gst
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() {  # check NAME EXPECTED_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || grep -qE "$pat" <<<"$out"; }; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name (rc $rc, want $want): $out"
  fi
}

"$BUILD/tests/make-tiny-codec" "$T/m.safetensors" 1
"$BUILD/tests/make-tiny-codec" "$T/other.safetensors" 2
IMG=$DATA/kodim23.png

check "encode" 0 "" -- "$DLIC" encode "$IMG" "$T/a.dlic" --model "$T/m.safetensors" --quality 80
check "info" 0 "768x512 RGB(, flat-block layer)?, [0-9]+ bytes .* crc [0-9a-f]+ ok" -- "$DLIC" info "$T/a.dlic"
check "decode" 0 "" -- "$DLIC" decode "$T/a.dlic" "$T/a.png" --model "$T/m.safetensors"
check "decoded png" 0 "" -- test -s "$T/a.png"
check "target-bpp" 0 "" -- "$DLIC" encode "$IMG" "$T/b.dlic" --model "$T/m.safetensors" --target-bpp 0.05
bpp=$("$DLIC" info "$T/b.dlic" | grep -Eo '\(([0-9.]+) bpp' | tr -d '(' | cut -d' ' -f1)
check "target-bpp within 5%" 0 "" -- awk -v b="$bpp" 'BEGIN { exit !(b > 0.0475 && b < 0.0525) }'
check "unreachable target warns" 0 "target-bpp 20 is out of reach .* at the highest rate" -- "$DLIC" encode "$IMG" "$T/big.dlic" --model "$T/m.safetensors" --target-bpp 20
check "wrong model" 1 "made with model" -- "$DLIC" decode "$T/a.dlic" "$T/x.png" --model "$T/other.safetensors"
head -c 100 "$T/a.dlic" > "$T/trunc.dlic"
check "truncated" 1 "truncated" -- "$DLIC" info "$T/trunc.dlic"
check "truncated decode" 1 "Truncated" -- "$DLIC" decode "$T/trunc.dlic" "$T/x.png" --model "$T/m.safetensors"
cp "$T/a.dlic" "$T/flip.dlic"; printf '\x55' | dd of="$T/flip.dlic" bs=1 seek=70 conv=notrunc 2>/dev/null
check "corrupt" 1 "checksum" -- "$DLIC" decode "$T/flip.dlic" "$T/x.png" --model "$T/m.safetensors"
check "not dlic" 1 "bad magic" -- "$DLIC" info "$IMG"
: > "$T/empty.dlic"
check "empty decode" 1 "empty file" -- "$DLIC" decode "$T/empty.dlic" "$T/e.png" --model "$T/m.safetensors"
check "empty decode writes nothing" 1 "" -- test -e "$T/e.png"
check "empty encode" 1 "no data" -- "$DLIC" encode "$T/empty.dlic" "$T/e.dlic" --model "$T/m.safetensors"
check "decode to a pipe" 0 "" -- sh -c '"$1" decode "$2" /dev/stdout --model "$3" | cmp - "$4"' _ "$DLIC" "$T/a.dlic" "$T/m.safetensors" "$T/a.png"
check "missing input" 1 "no such file" -- "$DLIC" encode "$T/none.png" "$T/x.dlic" --model "$T/m.safetensors"
check "missing model" 1 "cannot read model" -- "$DLIC" encode "$IMG" "$T/x.dlic" --model "$T/none.safetensors"
check "no partial output" 1 "" -- test -e "$T/x.dlic"
check "bad quality" 2 "quality" -- "$DLIC" encode "$IMG" "$T/x.dlic" --quality 101
check "empty quality" 2 "quality" -- "$DLIC" encode "$IMG" "$T/x.dlic" --quality ""
check "bad threads" 2 "threads needs" -- "$DLIC" encode "$IMG" "$T/x.dlic" --threads x
check "bad decode threads" 2 "threads needs" -- "$DLIC" decode "$T/a.dlic" "$T/x.png" --threads 300
check "threads 1" 0 "" -- "$DLIC" decode "$T/a.dlic" "$T/t1.png" --model "$T/m.safetensors" --threads 1
check "same bytes on 1 thread" 0 "" -- cmp "$T/a.png" "$T/t1.png"
check "refine" 0 "" -- "$DLIC" encode "$IMG" "$T/r.dlic" --model "$T/m.safetensors" --quality 50 --refine 2
check "refine progress" 0 "frame 0: refinement step 2/2, cost [0-9.]+ \(best [0-9.]+\)" -- "$DLIC" encode "$IMG" "$T/r2.dlic" --model "$T/m.safetensors" --refine 2 --progress
check "verbose summary" 0 "r3.dlic: 768x512, 1 frame, [0-9]+ bytes \([0-9.]+ bpp\), rate [0-9.]+, model " -- "$DLIC" encode "$IMG" "$T/r3.dlic" --model "$T/m.safetensors" -v
check "half size" 0 "r5.dlic: 768x512 \(coded at half size\), 1 frame" -- "$DLIC" encode "$IMG" "$T/r5.dlic" --model "$T/m.safetensors" --quality 20 -v
check "half size info" 0 "768x512 RGB \(coded at half size\)" -- "$DLIC" info "$T/r5.dlic"
check "half size decode" 0 "" -- "$DLIC" decode "$T/r5.dlic" "$T/r5.png" --model "$T/m.safetensors"
check "half size png" 0 "" -- sh -c '[ "$(od -An -tx1 -j16 -N8 "$1" | tr -d " \n")" = 0000030000000200 ]' _ "$T/r5.png"  # IHDR 768 x 512
check "forced size" 0 "768x512 RGB \(coded at 3/4 size\)" -- sh -c '"$1" encode "$2" "$3" --model "$4" --size 3/4 && "$1" info "$3"' _ "$DLIC" "$IMG" "$T/r6.dlic" "$T/m.safetensors"
check "enlarged size" 0 "768x512 RGB \(coded at 5/4 size\)" -- sh -c '"$1" encode "$2" "$3" --model "$4" --quality 90 && "$1" info "$3"' _ "$DLIC" "$IMG" "$T/r7.dlic" "$T/m.safetensors"
check "enlarged decode" 0 "" -- sh -c '"$1" decode "$2" "$3" --model "$4" && [ "$(od -An -tx1 -j16 -N8 "$3" | tr -d " \n")" = 0000030000000200 ]' _ "$DLIC" "$T/r7.dlic" "$T/r7.png" "$T/m.safetensors"
check "bad size" 2 "size needs auto" -- "$DLIC" encode "$IMG" "$T/x.dlic" --size 2/3
check "size by the element's name" 0 "768x512 RGB \(coded at half size\)" -- sh -c '"$1" encode "$2" "$3" --model "$4" --size half && "$1" info "$3"' _ "$DLIC" "$IMG" "$T/r7.dlic" "$T/m.safetensors"
check "single-dash option" 2 "unknown option -q" -- "$DLIC" encode "$IMG" "$T/x.dlic" -q 50
cp "$IMG" "$T/same.png"
check "encode onto its input" 2 "output is the input" -- "$DLIC" encode "$T/same.png" "$T/same.png" --model "$T/m.safetensors"
check "input kept" 0 "" -- cmp "$IMG" "$T/same.png"
cp "$T/a.dlic" "$T/same.dlic"; ln -s same.dlic "$T/link.png"
check "decode onto its input (a link)" 2 "output is the input" -- "$DLIC" decode "$T/same.dlic" "$T/link.png" --model "$T/m.safetensors"
check "dlic input kept" 0 "" -- cmp "$T/a.dlic" "$T/same.dlic"
cp "$T/a.dlic" "$T/shot-0003.png"
check "frame pattern naming its input" 2 "output pattern names the input" -- "$DLIC" decode "$T/shot-0003.png" "$T/shot-%04d.png" --model "$T/m.safetensors"
check "patterned input kept" 0 "" -- cmp "$T/a.dlic" "$T/shot-0003.png"
cp "$IMG" "$T/-dash.png"
check "dash name refused, with the way out" 2 "after --" -- bash -c 'cd "$1" && "$2" encode -dash.png x.dlic' _ "$T" "$DLIC"
(cd "$T" && "$DLIC" encode --model m.safetensors -- -dash.png -dash.dlic >/dev/null 2>&1); rc=$?
check "names after --" 0 "" -- test "$rc" -eq 0 -a -s "$T/-dash.dlic"
check "quiet by default" 0 "^$" -- "$DLIC" encode "$IMG" "$T/r4.dlic" --model "$T/m.safetensors" --refine 2
check "encode-only flags" 2 "options of encode" -- "$DLIC" decode "$T/r4.dlic" "$T/x.png" -v
check "refined decodes" 0 "" -- "$DLIC" decode "$T/r.dlic" "$T/r.png" --model "$T/m.safetensors"
check "bad refine" 2 "refine" -- "$DLIC" encode "$IMG" "$T/x.dlic" --refine -1
check "both rate options" 2 "not both" -- "$DLIC" encode "$IMG" "$T/x.dlic" --quality 5 --target-bpp 1
check "usage" 2 "usage" -- "$DLIC" frobnicate
check "rate flags on decode" 2 "options of encode" -- "$DLIC" decode "$T/a.dlic" "$T/x.png" --quality 5
check "flags on info" 2 "info takes no options" -- "$DLIC" info "$T/a.dlic" --threads 2
check "directory input" 1 "is a directory" -- "$DLIC" decode "$T" "$T/x.png"
echo hello > "$T/text.png"
check "not a picture names it" 1 "text.png: " -- "$DLIC" encode "$T/text.png" "$T/x.dlic" --model "$T/m.safetensors"
check "unknown output format" 2 "unknown output format" -- "$DLIC" decode "$T/a.dlic" "$T/x.bmp" --model "$T/m.safetensors"
check "output format in any case" 0 "" -- sh -c '"$1" decode "$2" "$3" --model "$4" && [ "$(od -An -tx1 -N2 "$3" | tr -d " \n")" = ffd8 ]' _ "$DLIC" "$T/a.dlic" "$T/up.JPG" "$T/m.safetensors"
cat "$T/a.dlic" "$T/r5.dlic" "$T/a.dlic" > "$T/three.dlic"
check "several pictures, one output" 1 "more than one picture" -- "$DLIC" decode "$T/three.dlic" "$T/three.png" --model "$T/m.safetensors"
check "several pictures, nothing left" 1 "" -- test -e "$T/three.png"
check "frame-number pattern" 0 "" -- sh -c '"$1" decode "$2" "$3/f-%02d.png" --model "$4" && cmp "$3/f-00.png" "$3/a.png" && cmp "$3/f-01.png" "$3/r5.png" && cmp "$3/f-02.png" "$3/a.png"' _ "$DLIC" "$T/three.dlic" "$T" "$T/m.safetensors"
check "bad pattern" 2 "one frame number" -- "$DLIC" decode "$T/three.dlic" "$T/f-%s.png" --model "$T/m.safetensors"

# PNG output is written by the command itself (gst/dlic-png.c): libpng
# (pngdec) must read it back as the same pixels as the PPM output, also
# for a width whose RGB rows are padded (37 * 3 bytes, stride 112)
png_is_ppm() {  # png_is_ppm DLIC_FILE NAME
  "$DLIC" decode "$1" "$T/$2.png" --model "$T/m.safetensors" &&
  "$DLIC" decode "$1" "$T/$2.ppm" --model "$T/m.safetensors" &&
  gst-launch-1.0 -q filesrc location="$T/$2.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB ! pnmenc ! filesink location="$T/$2-back.ppm" &&
  cmp "$T/$2.ppm" "$T/$2-back.ppm"
}
check "png reads back as the ppm" 0 "" -- png_is_ppm "$T/a.dlic" p768
gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,format=RGB,width=37,height=23 ! pnmenc ! filesink location="$T/odd.ppm"
check "odd size encode" 0 "" -- "$DLIC" encode "$T/odd.ppm" "$T/odd.dlic" --model "$T/m.safetensors"
check "odd size png reads back as the ppm" 0 "" -- png_is_ppm "$T/odd.dlic" p37
check "png into a missing directory" 1 "Could not open file .*/none/x.png" -- "$DLIC" decode "$T/a.dlic" "$T/none/x.png" --model "$T/m.safetensors"

# a picture above DLIC_CODEC_BAND_MIN_PIXELS (8 MP): the networks run
# in bands; the refinement, which keeps the whole picture, refuses it
gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=1 ! video/x-raw,format=RGB,width=4200,height=4100 ! pngenc ! filesink location="$T/large.png"
check "large picture encode" 0 "" -- "$DLIC" encode "$T/large.png" "$T/large.dlic" --model "$T/m.safetensors" --quality 60
check "large picture info" 0 "4200x4100 RGB" -- "$DLIC" info "$T/large.dlic"
check "large picture encode progress" 0 "frame 0: encoder network, band 3/3" -- "$DLIC" encode "$T/large.png" "$T/large-p.dlic" --model "$T/m.safetensors" --quality 75 --size full --progress
check "large picture decode progress" 0 "frame 0: decoder network, band 3/3" -- "$DLIC" decode "$T/large-p.dlic" "$T/large-p.ppm" --model "$T/m.safetensors" --progress
check "progress is not an option of info" 2 "option of encode and decode" -- "$DLIC" info "$T/large.dlic" --progress
check "large picture decode" 0 "" -- sh -c '"$1" decode "$2" "$3" --model "$4" && [ "$(od -An -tx1 -j16 -N8 "$3" | tr -d " \n")" = 0000106800001004 ]' _ "$DLIC" "$T/large.dlic" "$T/large-out.png" "$T/m.safetensors"
check "large picture png is the ppm" 0 "" -- sh -c '"$1" decode "$2" "$3/large-out.ppm" --model "$4" && gst-launch-1.0 -q filesrc location="$3/large-out.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB ! pnmenc ! filesink location="$3/large-back.ppm" && cmp "$3/large-out.ppm" "$3/large-back.ppm"' _ "$DLIC" "$T/large.dlic" "$T" "$T/m.safetensors"
check "large picture refine refused" 1 "refinement works on the whole picture" -- "$DLIC" encode "$T/large.png" "$T/x.dlic" --model "$T/m.safetensors" --quality 75 --refine 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
