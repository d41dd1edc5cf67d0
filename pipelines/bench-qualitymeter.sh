#!/usr/bin/env bash
# Benchmark qualitymeter against FFmpeg's psnr/ssim filters on 1080p I420.
#
# Builds natural-content 1920x1080 I420 frames from the bundled Kodak images
# (each scaled to 2112x1408 and panned slowly under a 1920x1080 crop, a third
# of the frames per image), makes a distorted copy through ffmpeg's mjpeg
# encoder (-q:v 11, about libjpeg/jpegenc quality 30 on this content), and
# times on the same raw files:
#   ffmpeg psnr, ffmpeg psnr+ssim, qualitymeter ssim=false, qualitymeter
#   ssim=true, and both tools just reading the two files (the fixed I/O cost).
# Each command runs --runs times (default 3); the median wall-clock time is
# reported.  The table is printed and written to docs/bench-qualitymeter.md.
#
# Usage: pipelines/bench-qualitymeter.sh [--frames N] [--runs R] [--out FILE]
# Environment: QUALITYMETER_PLUGIN_PATH  directory holding libgstdlic.so
#              (default: build/gst in the repository root)
#              TMPDIR  where the raw files go (2 x N x 3.1 MB)
# Needs only Debian packages: ffmpeg, gstreamer1.0-tools,
# gstreamer1.0-plugins-base, gstreamer1.0-plugins-bad (rawvideoparse),
# coreutils, gawk/mawk.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLUGIN_DIR=${QUALITYMETER_PLUGIN_PATH:-$REPO/build/gst}
FRAMES=90
RUNS=3
OUT_MD=$REPO/docs/bench-qualitymeter.md
W=1920
H=1080
QSCALE=11

usage() {
  sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --frames) FRAMES=$2; shift 2 ;;
    --frames=*) FRAMES=${1#*=}; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --out) OUT_MD=$2; shift 2 ;;
    --out=*) OUT_MD=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$FRAMES" in ''|*[!0-9]*) echo "--frames needs a positive integer" >&2; exit 2 ;; esac
case "$RUNS" in ''|*[!0-9]*) echo "--runs needs a positive integer" >&2; exit 2 ;; esac
[ "$FRAMES" -ge 3 ] || { echo "--frames must be at least 3" >&2; exit 2; }
[ "$RUNS" -ge 1 ] || { echo "--runs must be at least 1" >&2; exit 2; }

for tool in ffmpeg gst-launch-1.0 gst-inspect-1.0 awk; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
export GST_PLUGIN_PATH=$PLUGIN_DIR
gst-inspect-1.0 qualitymeter >/dev/null 2>&1 ||
  { echo "qualitymeter not found in $PLUGIN_DIR (set QUALITYMETER_PLUGIN_PATH)" >&2; exit 1; }
gst-inspect-1.0 rawvideoparse >/dev/null 2>&1 ||
  { echo "rawvideoparse missing (gstreamer1.0-plugins-bad)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-qualitymeter.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
case "$TMP" in *[[:space:]]*) echo "TMPDIR must not contain spaces" >&2; exit 1 ;; esac
REF=$TMP/ref.yuv
DIST=$TMP/dist.yuv
DATA=$REPO/tests/data
FRAME_SIZE=$((W * H * 3 / 2))

# ---------------------------------------------------------------- content
SEG=$(( (FRAMES + 2) / 3 ))
# pan over the whole 192x328 margin during each image's segment
pan() { # $1 image index, $2 x expr, $3 y expr
  echo "[$1:v]scale=2112:1408,crop=$W:$H:$2:$3,trim=end_frame=$SEG[s$1]"
}
echo "generating $FRAMES frames of ${W}x$H I420 in $TMP ..." >&2
ffmpeg -nostdin -v error -y \
  -loop 1 -i "$DATA/kodim05.png" -loop 1 -i "$DATA/kodim15.png" -loop 1 -i "$DATA/kodim23.png" \
  -filter_complex "$(pan 0 "n*191/$SEG" "n*327/$SEG");$(pan 1 "191-n*191/$SEG" "n*327/$SEG");$(pan 2 "n*191/$SEG" "327-n*327/$SEG");[s0][s1][s2]concat=n=3,trim=end_frame=$FRAMES,setpts=N/25/TB,format=yuv420p" \
  -fps_mode passthrough -f rawvideo "$REF"
ffmpeg -nostdin -v error -f rawvideo -pix_fmt yuv420p -s ${W}x$H -i "$REF" \
    -c:v mjpeg -q:v $QSCALE -f mjpeg - |
  ffmpeg -nostdin -v error -f mjpeg -i - -f rawvideo -pix_fmt yuv420p "$DIST"
for f in "$REF" "$DIST"; do
  size=$(stat -c %s "$f")
  [ "$size" -eq $((FRAME_SIZE * FRAMES)) ] ||
    { echo "$f: $size bytes, expected $((FRAME_SIZE * FRAMES))" >&2; exit 1; }
done

# ---------------------------------------------------------------- commands
FFIN="-f rawvideo -pix_fmt yuv420p -s ${W}x$H -framerate 25"
FF="ffmpeg -nostdin -hide_banner -nostats -v info"
PARSE="rawvideoparse width=$W height=$H format=i420 framerate=25/1"
SRC="filesrc blocksize=$FRAME_SIZE"

declare -a NAMES CMDS CHECKS
add() { NAMES+=("$1"); CMDS+=("$2"); CHECKS+=("$3"); }
add "ffmpeg read only" \
  "$FF $FFIN -i $DIST $FFIN -i $REF -map 0:v -map 1:v -f null -" ""
add "ffmpeg psnr" \
  "$FF $FFIN -i $DIST $FFIN -i $REF -lavfi [0:v][1:v]psnr -f null -" "PSNR y:"
add "ffmpeg psnr+ssim" \
  "$FF $FFIN -i $DIST $FFIN -i $REF -lavfi [1:v]split[r0][r1];[0:v][r0]psnr[m];[m][r1]ssim -f null -" \
  "PSNR y:;SSIM Y:"
add "gst read only" \
  "gst-launch-1.0 -q $SRC location=$REF ! $PARSE ! fakesink $SRC location=$DIST ! $PARSE ! fakesink" ""
add "qualitymeter ssim=false" \
  "gst-launch-1.0 -q qualitymeter name=q ssim=false n-threads=0 ! fakesink $SRC location=$REF ! $PARSE ! q.sink_0 $SRC location=$DIST ! $PARSE ! q.sink_1" ""
add "qualitymeter ssim=true" \
  "gst-launch-1.0 -q qualitymeter name=q ssim=true n-threads=0 ! fakesink $SRC location=$REF ! $PARSE ! q.sink_0 $SRC location=$DIST ! $PARSE ! q.sink_1" ""

now_ns() { date +%s%N; }

# Sanity: the qualitymeter commands really measure every frame.
STATS=$TMP/stats.log
# shellcheck disable=SC2086  # $SRC and $PARSE are lists of words
gst-launch-1.0 -q qualitymeter name=q ssim=true stats-file="$STATS" ! fakesink \
  $SRC location="$REF" ! $PARSE ! q.sink_0 $SRC location="$DIST" ! $PARSE ! q.sink_1
[ "$(wc -l < "$STATS")" -eq "$FRAMES" ] ||
  { echo "qualitymeter measured $(wc -l < "$STATS") frames, expected $FRAMES" >&2; exit 1; }
QM_FIRST=$(head -n1 "$STATS")

# warm the page cache
cat "$REF" "$DIST" >/dev/null

declare -a MEDIANS
for i in "${!CMDS[@]}"; do
  times=()
  for ((r = 0; r < RUNS; r++)); do
    t0=$(now_ns)
    # word splitting of the command string is intended (the paths and the
    # filter graphs contain no spaces); set -f keeps [0:v] from globbing
    # shellcheck disable=SC2086
    log=$(set -f; ${CMDS[$i]} 2>&1) || { echo "failed: ${CMDS[$i]}" >&2; echo "$log" >&2; exit 1; }
    t1=$(now_ns)
    # ffmpeg rows: each filter's end-of-stream summary must be in the log
    IFS=';' read -r -a pats <<< "${CHECKS[$i]}"
    for pat in "${pats[@]}"; do
      printf '%s\n' "$log" | grep -q -- "$pat" ||
        { echo "${NAMES[$i]}: expected '$pat' in the log:" >&2; echo "$log" >&2; exit 1; }
    done
    times+=($(( (t1 - t0) / 1000000 )))
  done
  MEDIANS[i]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "${NAMES[$i]}: ${times[*]} ms (median ${MEDIANS[$i]} ms)" >&2
done

# ---------------------------------------------------------------- report
FFMPEG_VERSION=$(ffmpeg -version | head -n1)
GST_VERSION=$(gst-launch-1.0 --version | sed -n 2p)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
NPROC=$(nproc)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# relative speed: each ffmpeg row vs itself (1.00 = ffmpeg), each gst row vs
# the ffmpeg row doing the same work
REL_OF=(0 1 2 0 1 2)
table() {
  echo "| command | frames | median s | fps | s minus read-only | speed vs ffmpeg (same work) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for i in "${!NAMES[@]}"; do
    base=0; [ "$i" -ge 3 ] && base=3
    awk -v n="${NAMES[$i]}" -v f="$FRAMES" -v ms="${MEDIANS[$i]}" \
        -v io="${MEDIANS[$base]}" -v ref="${MEDIANS[${REL_OF[$i]}]}" 'BEGIN {
      s = ms / 1000.0
      printf "| %s | %d | %.2f | %.1f | %.2f | %.2fx |\n", n, f, s, f / s,
        (ms - io) / 1000.0, ref / ms
    }'
  done
}

TABLE=$(table)
echo
echo "$TABLE"

mkdir -p "$(dirname "$OUT_MD")"
{
  echo "# qualitymeter vs FFmpeg psnr/ssim benchmark"
  echo
  echo "Generated by \`pipelines/bench-qualitymeter.sh --frames $FRAMES --runs $RUNS\`"
  echo "on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "* Machine: $NPROC CPUs ($(nproc --all) online), $CPU_MODEL; load average at the end of the run: $LOAD"
  echo "* $FFMPEG_VERSION"
  echo "* $GST_VERSION, qualitymeter from \`$PLUGIN_DIR\`"
  echo "* Content: $FRAMES frames of ${W}x$H I420 (yuv420p), the three Kodak test"
  echo "  images scaled to 2112x1408 with a slow pan of the crop window;"
  echo "  distorted = ffmpeg mjpeg \`-q:v $QSCALE\` (about jpegenc quality=30)."
  echo "  First frame as measured by qualitymeter:"
  echo "  \`$QM_FIRST\`"
  echo "* Wall-clock median of $RUNS runs per command, page cache warm."
  echo "  ffmpeg runs with its default threading (-threads and -filter_threads"
  echo "  auto, i.e. $NPROC threads here; psnr and ssim are slice-threaded);"
  echo "  qualitymeter with n-threads=0 (all $NPROC cores)."
  echo "  \"s minus read-only\" subtracts the tool's own read-only time;"
  echo "  \"speed vs ffmpeg\" is ffmpeg's time for the same work divided by this"
  echo "  row's time (>1 = faster than ffmpeg)."
  echo
  echo "$TABLE"
  echo
  echo "## Commands"
  echo
  echo "\`\$TMP\` is a temporary directory; \`ref.yuv\`/\`dist.yuv\` are raw I420."
  echo
  echo '```sh'
  for i in "${!NAMES[@]}"; do
    echo "# ${NAMES[$i]}"
    echo "${CMDS[$i]//$TMP/\$TMP}"
  done
  echo '```'
} > "$OUT_MD"
echo
echo "written to $OUT_MD" >&2
