#!/usr/bin/env bash
# gst-dlic demo: JPEG quality sweep measured inline by qualitymeter, and
# what casartifact (the fast live model) gains on the decoded JPEG.
#
# Builds the plugin (installing missing Debian packages first), then for
# each bundled image and each JPEG quality runs
#
#   filesrc ! pngdec ! videoconvert ! I420 ! imagefreeze ! tee
#     tee. ! queue ! qualitymeter.sink_0                     (reference)
#     tee. ! queue ! jpegenc quality=Q ! tee
#                      tee. ! queue ! filesink              (to count bytes)
#                      tee. ! queue ! jpegdec ! tee
#                                 tee. ! queue ! qualitymeter.sink_1
#                                 tee. ! queue ! casartifact (finds Q itself) ! qualitymeter.sink_2
#
# and prints a table of bits per pixel, PSNR, RMSE and SSIM per quality
# (mean over the images), all measured by qualitymeter in the pipeline.
#
# Usage: pipelines/demo.sh [quality ...]     (default 10 20 30 50 70 90)
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
BUILD=${BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=debugoptimized >/dev/null
meson compile -C "$BUILD" >/dev/null
export GST_PLUGIN_PATH="$PWD/$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

QUALITIES=("$@")
[ ${#QUALITIES[@]} -gt 0 ] || QUALITIES=(10 20 30 50 70 90)
IMAGES=(tests/data/*.png)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "gst-dlic demo: JPEG (jpegenc) quality sweep on ${#IMAGES[@]} bundled Kodak images,"
echo "measured by qualitymeter (I420, PSNR/SSIM as FFmpeg computes them)"
echo

for q in "${QUALITIES[@]}"; do
  for img in "${IMAGES[@]}"; do
    name=$(basename "$img" .png)
    gst-launch-1.0 -q \
      filesrc location="$img" ! pngdec ! videoconvert ! video/x-raw,format=I420 \
      ! imagefreeze num-buffers=1 ! tee name=src \
      src. ! queue ! meter.sink_0 \
      src. ! queue ! jpegenc quality="$q" ! tee name=jpg \
        jpg. ! queue ! filesink location="$TMP/$name-q$q.jpg" \
        jpg. ! queue ! jpegdec ! tee name=dec \
          dec. ! queue ! meter.sink_1 \
          dec. ! queue ! casartifact ! meter.sink_2 \
      qualitymeter name=meter ssim=true stats-file="$TMP/$name-q$q.log" ! fakesink
    size=$(stat -c %s "$TMP/$name-q$q.jpg")
    # width and height from the PNG header (IHDR)
    dims=$(python3 -c 'import struct,sys; print(*struct.unpack(">II", open(sys.argv[1],"rb").read(24)[16:24]))' "$img")
    while read -r line; do
      echo "$q $size $dims $line" >> "$TMP/all.txt"
    done < "$TMP/$name-q$q.log"
  done
done

awk '
function val(key,   i, kv) {
  for (i = 1; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == key) return kv[2] }
  return "nan"
}
{
  q = $1; bytes = $2; w = $3; h = $4
  if (val("pad") == "sink_2") { casy[q] += val("psnr_y"); next }
  n[q]++; bpp[q] += bytes * 8 / (w * h)
  psnr[q] += val("psnr_avg"); psnry[q] += val("psnr_y")
  rmse[q] += sqrt(val("mse_avg")); ssim[q] += val("ssim_avg")
  if (!(q in seen)) { order[++nq] = q; seen[q] = 1 }
}
END {
  printf "| JPEG quality | bpp   | PSNR (dB) | PSNR-Y (dB) | RMSE  | SSIM   | PSNR-Y + casartifact |\n"
  printf "|-------------:|------:|----------:|------------:|------:|-------:|---------------------:|\n"
  for (i = 1; i <= nq; i++) {
    q = order[i]
    printf "| %12d | %5.3f | %9.2f | %11.2f | %5.2f | %6.4f | %13.2f (%+.2f) |\n", q, bpp[q]/n[q],
      psnr[q]/n[q], psnry[q]/n[q], rmse[q]/n[q], ssim[q]/n[q], casy[q]/n[q], (casy[q] - psnry[q])/n[q]
  }
}' "$TMP/all.txt"
echo
echo "(mean over images; PSNR = 10*log10(255^2/MSE) with MSE area-weighted over Y, U, V;"
echo " last column: luma PSNR after casartifact (fast model) on the decoded JPEG; the"
echo " element reads the JPEG quality off the decoded picture and scales its correction"
echo " to what helps at that quality, none at 95 and above)"
