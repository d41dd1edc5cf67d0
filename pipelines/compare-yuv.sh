#!/usr/bin/env bash
# Compare two raw video files frame by frame, like
#   ffmpeg -s WxH -pix_fmt yuv420p -i DIST -s WxH -pix_fmt yuv420p -i REF -lavfi psnr -f null -
# Usage: pipelines/compare-yuv.sh REF DIST WIDTH HEIGHT [GST_FORMAT (i420)] [STATS_FILE]
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 REF DIST WIDTH HEIGHT [FORMAT] [STATS_FILE]" >&2; exit 2; }
REF=$(realpath "$1") DIST=$(realpath "$2") W=$3 H=$4 FMT=${5:-i420} STATS=/dev/stdout
# not realpath'd when it is stdout: a pipe would resolve to "pipe:[N]"
[ -z "${6:-}" ] || STATS=$(realpath -m "$6")
cd "$(dirname "$0")/.."
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 -q qualitymeter name=q ssim=true stats-file="$STATS" ! fakesink \
  filesrc location="$REF" ! rawvideoparse width="$W" height="$H" format="$FMT" ! q.sink_0 \
  filesrc location="$DIST" ! rawvideoparse width="$W" height="$H" format="$FMT" ! q.sink_1
