#!/usr/bin/env bash
# A video round trip through dlicenc / dlicdec measured inline: the source
# is split with tee, one branch is encoded and decoded, and qualitymeter
# compares it with the untouched branch frame by frame.
# Usage: pipelines/dlic-video.sh [FRAMES] [TARGET_BPP] [MODEL.safetensors]
set -euo pipefail
N=${1:-30} BPP=${2:-0.5} MODEL=${3:+$(realpath "$3")}
cd "$(dirname "$0")/.."
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
M=${MODEL:+model-file=$MODEL}

gst-launch-1.0 -m videotestsrc num-buffers="$N" pattern=ball \
  ! video/x-raw,format=RGB,width=320,height=240,framerate=30/1 ! tee name=t \
  t. ! queue ! q.sink_0 \
  t. ! queue ! dlicenc target-bpp="$BPP" $M ! dlicdec $M ! q.sink_1 \
  qualitymeter name=q ssim=true ! fakesink \
  | grep -E 'qualitymeter-summary' | grep -Eo 'frames=\(guint64\)[0-9]+|psnr-average=\(double\)[0-9.]+|ssim-mean=\(double\)[0-9.]+'
