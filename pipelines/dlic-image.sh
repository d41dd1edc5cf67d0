#!/usr/bin/env bash
# Image -> .dlic -> PNG with GStreamer elements, and the size / PSNR.
# Usage: pipelines/dlic-image.sh [IN.png] [QUALITY 0..100] [MODEL.safetensors]
# (MODEL defaults to the built-in model; REFINE=N in the environment sets
# dlicenc refine=N, the slower encoder-side refinement)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IN=$(realpath "${1:-$REPO/tests/data/kodim23.png}") Q=${2:-50} MODEL=${3:+$(realpath "$3")}
cd "$REPO"
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
OUT=${OUT:-/tmp/dlic-image}
mkdir -p "$OUT"
M=${MODEL:+model-file=$MODEL}
REFINE=${REFINE:-0}

gst-launch-1.0 -q filesrc location="$IN" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
  ! dlicenc quality="$Q" refine="$REFINE" $M ! filesink location="$OUT/image.dlic"
gst-launch-1.0 -q filesrc location="$OUT/image.dlic" ! dlicdec $M ! videoconvert \
  ! pngenc ! filesink location="$OUT/image.png"
./build/gst/dlic info "$OUT/image.dlic"
# PSNR of the round trip, measured by qualitymeter on RGB
gst-launch-1.0 -q qualitymeter name=q stats-file=/dev/stdout ! fakesink \
  filesrc location="$IN" ! pngdec ! videoconvert ! video/x-raw,format=RGB ! imagefreeze num-buffers=1 ! q.sink_0 \
  filesrc location="$OUT/image.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB ! imagefreeze num-buffers=1 ! q.sink_1 \
  | grep -Eo 'psnr_avg:[0-9.inf]+'
echo "wrote $OUT/image.dlic and $OUT/image.png"
