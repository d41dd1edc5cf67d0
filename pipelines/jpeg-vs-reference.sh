#!/usr/bin/env bash
# JPEG at quality Q (default 30) against its reference, one image.
# Usage: pipelines/jpeg-vs-reference.sh [IMAGE.png] [QUALITY]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMG=$(realpath "${1:-$REPO/tests/data/kodim23.png}")
Q=${2:-30}
cd "$REPO"
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 -m \
  filesrc location="$IMG" ! pngdec ! videoconvert ! video/x-raw,format=I420 \
  ! imagefreeze num-buffers=1 ! tee name=t \
  t. ! queue ! q.sink_0 \
  t. ! queue ! jpegenc quality="$Q" ! jpegdec ! q.sink_1 \
  qualitymeter name=q ssim=true ! fakesink \
  | grep -E '^Got message .*qualitymeter'
