#!/usr/bin/env bash
# A live MJPEG-like pipeline measured inline: the camera-like source is
# split with tee, one branch goes through JPEG at quality 20 and is shown,
# qualitymeter compares it with the untouched branch and logs every frame.
# Usage: pipelines/inline-live.sh [SECONDS]   (uses fakesink without a display)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
SINK="videoconvert ! autovideosink"
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || SINK="fakesink sync=true"
LOG=${LOG:-/tmp/qualitymeter-live.log}

gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=ball num-buffers=$((SECS * 30)) \
  ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ! tee name=t \
  t. ! queue ! q.sink_0 \
  t. ! queue ! jpegenc quality=20 ! jpegdec ! q.sink_1 \
  qualitymeter name=q ssim=true stats-file="$LOG" ! $SINK
echo "per-frame stats in $LOG:"
tail -n 3 "$LOG"
