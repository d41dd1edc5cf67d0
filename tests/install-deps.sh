#!/usr/bin/env bash
# Install the Debian 12 packages gst-dlic needs to build, test and run its
# demo, if any is missing.  Safe to run again: it does nothing when all are
# present.  Needs root (or sudo).
#   --bench  also what the benchmark scripts in pipelines/ use (reference
#            codecs, numpy/scipy/matplotlib, PyTorch for the speed comparison)
set -euo pipefail

PKGS=(
  # build
  meson ninja-build pkg-config gcc
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  liborc-0.4-dev liborc-0.4-dev-bin libjson-glib-dev libopenblas-dev
  # run, demo and tests
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  ffmpeg python3 libjpeg-turbo-progs
  # fuzzing the decoder
  clang libclang-rt-14-dev
)

if [ "${1:-}" = "--bench" ]; then
  PKGS+=(webp libopenjp2-tools libavif-bin python3-numpy python3-pil python3-scipy
         python3-matplotlib python3-torch)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
