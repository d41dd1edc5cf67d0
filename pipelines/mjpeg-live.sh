#!/usr/bin/env bash
# A live MJPEG-like stream (720p, JPEG quality 20) cleaned by the fast model
# and shown; without a display it runs into fakesink and prints the frame
# rate reached.
# Usage: pipelines/mjpeg-live.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
SINK="videoconvert ! autovideosink"
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || SINK="fpsdisplaysink video-sink=fakesink text-overlay=false sync=true"

gst-launch-1.0 -v videotestsrc is-live=true pattern=smpte num-buffers=$((SECS * 30)) \
  ! video/x-raw,width=1280,height=720,framerate=30/1 \
  ! jpegenc quality=20 ! queue ! jpegdec ! queue ! casartifact model=fast ! $SINK \
  2>&1 | grep -E "rendered|dropped|ERROR" | tail -n 3
