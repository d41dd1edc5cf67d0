#!/usr/bin/env bash
# Restore a JPEG image with casartifact and write a PNG.
# Usage: pipelines/jpeg-restore.sh IN.jpg OUT.png [fast|cascnn]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 IN.jpg OUT.png [fast|cascnn]" >&2; exit 2; }
IN=$(realpath "$1") OUT=$(realpath -m "$2") MODEL=${3:-cascnn}
cd "$(dirname "$0")/.."
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 -q filesrc location="$IN" ! jpegdec idct-method=islow ! casartifact model="$MODEL" \
  ! videoconvert ! pngenc ! filesink location="$OUT"
echo "wrote $OUT"
