#!/usr/bin/env bash
# Measure what casartifact gains, inline: a bundled image is compressed to
# JPEG at quality Q; qualitymeter compares the plain decode (sink_1) and the
# restored decode (sink_2) with the original (sink_0), luma only.
# Usage: pipelines/casartifact-gain.sh [IMAGE.png] [QUALITY] [fast|cascnn]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMG=$(realpath "${1:-$REPO/tests/data/kodim23.png}") Q=${2:-10} MODEL=${3:-fast}
cd "$REPO"
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 -m \
  filesrc location="$IMG" ! pngdec ! videoconvert ! video/x-raw,format=GRAY8 \
  ! imagefreeze num-buffers=1 ! tee name=t \
  t. ! queue ! q.sink_0 \
  t. ! queue ! jpegenc quality="$Q" ! jpegdec ! tee name=j \
    j. ! queue ! q.sink_1 \
    j. ! queue ! casartifact model="$MODEL" ! q.sink_2 \
  qualitymeter name=q ssim=true ! fakesink \
  | awk -v q="$Q" -v m="$MODEL" '/qualitymeter-summary/ {
      match($0, /pad=\(string\)sink_[0-9]/); pad = substr($0, RSTART + 12, 6)
      match($0, /psnr-average=\(double\)([0-9.]+|inf)/); psnr = substr($0, RSTART + 21, RLENGTH - 21)
      match($0, /ssim-mean=\(double\)[0-9.]+/); ssim = substr($0, RSTART + 18, RLENGTH - 18)
      name = (pad == "sink_1") ? "JPEG q" q : "JPEG q" q " + casartifact " m
      if (psnr != "inf") psnr = sprintf ("%.2f", psnr)
      printf "%-32s PSNR %s dB  SSIM %.4f\n", name, psnr, ssim }'
