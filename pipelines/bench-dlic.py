#!/usr/bin/python3
"""Rate-distortion and speed benchmark of the dlic learned image codec against classical codecs
on Kodak (24 PNG images, 768x512).

  pipelines/bench-dlic.py                          # full run: docs/dlic-bench.md, docs/img/dlic-rd.png
  pipelines/bench-dlic.py --quick                  # 4 images, writes to /tmp (see --out / --plot)
  pipelines/bench-dlic.py --codecs jpeg,webp,jpeg2000    # classical codecs only (no model needed)
  pipelines/bench-dlic.py --model /tmp/probe.safetensors --codecs jpeg,dlic --quick
  pipelines/bench-dlic.py --json /tmp/k.json          # keep per-image results; a later run with
  pipelines/bench-dlic.py --reuse /tmp/k.json         # --reuse skips the classical codecs (AVIF
                                                      # alone is ~6 min of one core on Kodak)

Protocol (the one behind the reference table in shared/notes/design-facts.md, section 1):
  PSNR on RGB: 8-bit, MAX 255, MSE over all three channels of the decoded image against the
  original PNG, per image; the curve point of a quality setting is (mean bpp, mean PSNR) over the
  images.  bpp = whole compressed file bytes * 8 / (width * height).
  PSNR at 0.25 / 0.5 / 0.75 / 1.0 bpp: linear in log(bpp) between the two neighbouring curve points
  (no extrapolation: '-' when a rate lies outside the curve).
  BD-rate vs JPEG 4:2:0 (Bjoentegaard): log-rate as a function of PSNR, monotone piecewise-cubic
  interpolation (scipy PchipInterpolator), integrated over the common PSNR range of the two curves;
  NaN when the ranges do not overlap.
Codecs and settings (Debian 12 tools):
  jpeg      cjpeg -optimize -quality Q (libjpeg-turbo; default 4:2:0 sampling, islow DCT) on a PPM
            of the image; djpeg -ppm.
  webp      cwebp -m 6 -q Q; dwebp -ppm.
  jpeg2000  opj_compress -I -r RATIO (9/7 irreversible DWT + ICT, otherwise OpenJPEG defaults:
            6 resolutions, 64x64 code-blocks, one tile; ratio = 24 / target bpp), .j2k codestream;
            opj_decompress to PPM.  -I is what reproduces the reference table (to 0.01 dB);
            without it (--j2k-reversible: 5/3 DWT + RCT) PSNR is 0.4-0.7 dB lower.
  avif      avifenc -c aom -s 4 -j 1 -y 444 -d 8 --min Q --max Q -a tune=psnr (libaom; fixed
            quantizer Q, 0..63); avifdec -j 1 --png-compress 0 to PNG.
  dlic      dlic encode IN.png OUT.dlic --quality Q --model M (or --target-bpp B with
            --dlic-target-bpp); dlic decode OUT.dlic DEC.png --model M.  Default model:
            core/models/dlic-codec.safetensors when it exists, else --model is required.
Speed: every encode/decode in the sweep is timed as a whole command (wall clock, process start
and file I/O included); reported is the median over images at the quality setting whose mean
bpp is closest to 0.65 (preferring 0.5..0.75).  For dlic the command includes process start,
GStreamer init (registry), model load, PNG decode/encode and videoconvert; the time of a
GStreamer pipeline that does only the PNG read + RGB conversion + PNG write without the codec
is measured too ("gst overhead"), so the codec's own share can be judged.  Timings are only
meaningful with --jobs 1 on an otherwise idle machine; the load average is recorded.

Needs: cjpeg/djpeg (libjpeg-turbo-progs), cwebp/dwebp (webp), opj_compress/opj_decompress
(libopenjp2-tools), avifenc/avifdec (libavif-bin), gst-launch-1.0, the built dlic command
(build/gst/dlic + plugin); python3 with numpy, PIL, scipy, matplotlib.
"""
import argparse
import concurrent.futures
import datetime
import glob
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from PIL import Image
from scipy.interpolate import PchipInterpolator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(REPO, "core", "models", "dlic-codec.safetensors")
RATES = [0.25, 0.5, 0.75, 1.0]
SPEED_BPP = 0.65           # the reference table's speed point
SPEED_RANGE = (0.5, 0.75)  # preferred window for the speed point
QUICK_IMAGES = ["kodim01.png", "kodim05.png", "kodim15.png", "kodim23.png"]

# design-facts.md section 1: PSNR (dB) at 0.25/0.5/0.75/1.0 bpp, BD-rate vs JPEG 4:2:0 (%),
# encode/decode ms per Kodak image at ~0.65 bpp on one core.
REFERENCE = {
    "jpeg": ([26.53, 29.61, 31.46, 32.88], 0.0, (4, 3)),
    "webp": ([28.59, 31.47, 33.60, 35.26], -35.7, (60, 6)),
    "jpeg2000": ([29.27, 32.19, 34.32, 36.00], -45.0, (76, 16)),
    "avif": ([30.26, 33.37, 35.58, 37.31], -54.9, (1060, 18)),
}
REFERENCE_OTHER = [  # not run here, shown for context
    ("JPEG XL (cjxl -e 7, 0.7)", [27.94, 30.95, 33.21, 34.88], -28.3),
    ("HEIF 4:4:4 (x265 slow, tune=psnr)", [29.61, 32.64, 34.81, 36.56], -50.4),
]
PUBLISHED_LEARNED = [  # CompressAI on Kodak (design-facts.md section 1)
    ("factorized prior (Balle 2018), CompressAI", [29.15, 31.83, 33.84, 35.58]),
    ("scale hyperprior (Balle 2018), CompressAI", [29.95, 33.06, 35.28, 37.14]),
]
# Targets from the issue: BD-rate vs JPEG 4:2:0, and seconds per Kodak image on 2 cores.
TARGET_WEBP = -35.7
TARGET_J2K = -45.0
TARGET_SECONDS = 0.5

CODEC_ORDER = ["jpeg", "webp", "jpeg2000", "avif", "dlic", "dlicr"]
LABELS = {
    "jpeg": "JPEG 4:2:0",
    "webp": "WebP",
    "jpeg2000": "JPEG 2000",
    "avif": "AVIF 4:4:4",
    "dlic": "dlic",
    "dlicr": "dlic --refine N",   # N set from --dlic-refine
}
COLORS = {"jpeg": "tab:gray", "webp": "tab:blue", "jpeg2000": "tab:green",
          "avif": "tab:purple", "dlic": "tab:red", "dlicr": "tab:orange"}
# Quality grids, chosen so that every curve spans about 0.1..2 bpp on Kodak (mean).
GRID = {
    "jpeg": [3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80, 85, 90],
    "webp": [0, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 93],
    # target bpp for opj_compress -r (ratio = 24 / bpp)
    "jpeg2000": [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0],
    "avif": [60, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16],
    "dlic": [0, 10, 20, 30, 40, 50, 60, 70, 80, 85, 90, 95, 100],
    "dlicr": [0, 20, 40, 60, 80, 90, 100],
}
QUICK_GRID = {
    "jpeg": [5, 10, 15, 25, 40, 60, 75, 85, 90],
    "webp": [0, 10, 30, 50, 70, 80, 90],
    "jpeg2000": [0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0],
    "avif": [60, 52, 44, 36, 28, 20],
    "dlic": [0, 20, 40, 60, 80, 100],
    "dlicr": [0, 50, 100],
}
DLIC_BPP_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 2.0]

_print_lock = threading.Lock()


def log(msg):
    with _print_lock:
        print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None):
    """Run a command; return its wall time in seconds.  Raise with its output on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("command failed (rc %d): %s\n%s" % (
            p.returncode, " ".join(cmd), p.stdout.decode(errors="replace")[-2000:]))
    return dt


def read_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def psnr(ref, dec):
    if ref.shape != dec.shape:
        raise RuntimeError("decoded size %s != original %s" % (dec.shape, ref.shape))
    mse = np.mean((ref - dec) ** 2)
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


# ---------------------------------------------------------------------------- codecs

class Ctx:
    def __init__(self, args):
        self.args = args
        self.dlic = os.path.join(args.build, "gst", "dlic")
        self.env = dict(os.environ)
        self.env["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst")


def codec_commands(ctx, codec, q, png, ppm, work):
    """Return (encode cmd, compressed path, decode cmd, decoded path)."""
    a = ctx.args
    if codec == "jpeg":
        c, d = os.path.join(work, "c.jpg"), os.path.join(work, "d.ppm")
        return (["cjpeg", "-optimize", "-quality", str(q), "-outfile", c, ppm], c,
                ["djpeg", "-ppm", "-outfile", d, c], d)
    if codec == "webp":
        c, d = os.path.join(work, "c.webp"), os.path.join(work, "d.ppm")
        return (["cwebp", "-quiet", "-m", "6", "-q", str(q), png, "-o", c], c,
                ["dwebp", "-quiet", c, "-ppm", "-o", d], d)
    if codec == "jpeg2000":
        c, d = os.path.join(work, "c.j2k"), os.path.join(work, "d.ppm")
        ratio = "24/Q" if isinstance(q, str) else "%g" % (24.0 / q)
        enc = ["opj_compress", "-i", png, "-o", c, "-r", ratio]
        if not a.j2k_reversible:
            enc.append("-I")
        return enc, c, ["opj_decompress", "-quiet", "-i", c, "-o", d], d
    if codec == "avif":
        c, d = os.path.join(work, "c.avif"), os.path.join(work, "d.png")
        return (["avifenc", "-c", "aom", "-s", "4", "-j", "1", "-y", "444", "-d", "8",
                 "--min", str(q), "--max", str(q), "-a", "tune=psnr", png, c], c,
                ["avifdec", "-j", "1", "--png-compress", "0", c, d], d)
    if codec in ("dlic", "dlicr"):
        c, d = os.path.join(work, "c.dlic"), os.path.join(work, "d.png")
        enc = [ctx.dlic, "encode", png, c, "--model", a.model]
        enc += ["--target-bpp" if a.dlic_target_bpp else "--quality", str(q)]
        if codec == "dlicr":
            enc += ["--refine", str(a.dlic_refine)]
        dec = [ctx.dlic, "decode", c, d, "--model", a.model]
        if a.dlic_threads:
            enc += ["--threads", str(a.dlic_threads)]
            dec += ["--threads", str(a.dlic_threads)]
        return enc, c, dec, d
    raise ValueError(codec)


def codec_settings(ctx, codec, grid):
    """A string that identifies a codec's commands and grid (for --reuse)."""
    enc, _, dec, _ = codec_commands(ctx, codec, "Q", "IN.png", "IN.ppm", ".")
    return "%s | %s | %s" % (" ".join(enc), " ".join(dec), ",".join("%g" % q for q in grid))


def bench_image(ctx, path, codecs, grids, tmp, idx, n):
    """All codecs and qualities on one image.  Returns {codec: {q: {bpp, psnr, t_enc, t_dec}}}."""
    name = os.path.basename(path)
    work = tempfile.mkdtemp(prefix=os.path.splitext(name)[0] + "-", dir=tmp)
    try:
        img = Image.open(path).convert("RGB")
        w, h = img.size
        ref = np.asarray(img, dtype=np.float64)
        png = os.path.join(work, "in.png")
        ppm = os.path.join(work, "in.ppm")
        img.save(png)   # plain 8-bit RGB PNG, no metadata
        img.save(ppm)
        out = {}
        for codec in codecs:
            t0 = time.perf_counter()
            res = {}
            for q in grids[codec]:
                enc, cpath, dec, dpath = codec_commands(ctx, codec, q, png, ppm, work)
                te = run(enc, ctx.env)
                size = os.path.getsize(cpath)
                td = run(dec, ctx.env)
                res[q] = {"bpp": size * 8.0 / (w * h), "psnr": psnr(ref, read_rgb(dpath)),
                          "t_enc": te, "t_dec": td}
                os.unlink(cpath)
                os.unlink(dpath)
            out[codec] = res
            log("[%d/%d] %s %-8s %2d points %6.1f s" % (
                idx, n, name, codec, len(res), time.perf_counter() - t0))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def gst_overhead(ctx, path, tmp, reps):
    """Wall time of a gst-launch-1.0 doing dlic's I/O without the codec: PNG -> RGB -> PNG."""
    out = os.path.join(tmp, "overhead.png")
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + path, "!", "decodebin", "!",
           "videoconvert", "!", "video/x-raw,format=RGB", "!", "videoconvert", "!", "pngenc",
           "!", "filesink", "location=" + out]
    times = [run(cmd, ctx.env) for _ in range(reps)]
    os.unlink(out)
    return statistics.median(times)


# ---------------------------------------------------------------------------- analysis

def curve(per_image, codec, grid):
    """Mean curve: list of (q, mean bpp, mean psnr), sorted by bpp."""
    pts = []
    for q in grid:
        b = [r[codec][q]["bpp"] for r in per_image]
        p = [r[codec][q]["psnr"] for r in per_image]
        pts.append((q, float(np.mean(b)), float(np.mean(p))))
    return sorted(pts, key=lambda t: t[1])


def psnr_at(pts, rate):
    """PSNR at `rate` bpp, linear in log(bpp) between neighbouring curve points; NaN outside."""
    for (_, b0, p0), (_, b1, p1) in zip(pts, pts[1:]):
        if b0 <= rate <= b1 and b1 > b0:
            t = (math.log(rate) - math.log(b0)) / (math.log(b1) - math.log(b0))
            return p0 + t * (p1 - p0)
    for _, b, p in pts:
        if b == rate:
            return p
    return float("nan")


def monotone(pts):
    """(rates, psnrs) with both strictly increasing, sorted by PSNR (drops dominated points)."""
    r, p = [], []
    for _, b, q in sorted(pts, key=lambda t: t[2]):
        if not p or (q > p[-1] and b > r[-1]):
            r.append(b)
            p.append(q)
    return np.array(r), np.array(p)


def bd_rate(ref_pts, test_pts, max_psnr=None):
    """Bjoentegaard delta rate (%) of test vs ref; (value, lo dB, hi dB, note). With max_psnr,
    over the common PSNR range cut at that PSNR."""
    r1, p1 = monotone(ref_pts)
    r2, p2 = monotone(test_pts)
    if len(p1) < 2 or len(p2) < 2:
        return float("nan"), None, None, "fewer than 2 monotone points"
    lo, hi = max(p1.min(), p2.min()), min(p1.max(), p2.max())
    if max_psnr is not None:
        hi = min(hi, max_psnr)
    if hi <= lo:
        return float("nan"), None, None, "PSNR ranges do not overlap"
    f1 = PchipInterpolator(p1, np.log(r1))
    f2 = PchipInterpolator(p2, np.log(r2))
    avg = (f2.integrate(lo, hi) - f1.integrate(lo, hi)) / (hi - lo)
    note = ""
    if hi - lo < 3.0:
        note = "common PSNR range only %.1f dB" % (hi - lo)
    return (math.exp(avg) - 1.0) * 100.0, lo, hi, note


def speed_point(pts):
    """The quality setting used for speed: mean bpp closest to SPEED_BPP, preferring SPEED_RANGE."""
    inside = [t for t in pts if SPEED_RANGE[0] <= t[1] <= SPEED_RANGE[1]]
    cand = inside or pts
    return min(cand, key=lambda t: abs(t[1] - SPEED_BPP))


# ---------------------------------------------------------------------------- report

def tool_versions(ctx, codecs):
    v = {}

    def first(cmd, pat=None):
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=ctx.env, timeout=30)
            txt = p.stdout.decode(errors="replace")
        except (OSError, subprocess.TimeoutExpired) as e:
            return "unavailable (%s)" % e
        if pat:
            m = re.search(pat, txt)
            return m.group(0).strip() if m else txt.strip().splitlines()[0]
        return txt.strip().splitlines()[0] if txt.strip() else "?"

    def deb(pkg):
        try:
            p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            return p.stdout.decode().strip() or "?"
        except OSError:
            return "?"

    if "jpeg" in codecs:
        v["jpeg"] = "cjpeg: %s (Debian libjpeg-turbo-progs %s)" % (
            first(["cjpeg", "-version"]), deb("libjpeg-turbo-progs"))
    if "webp" in codecs:
        v["webp"] = "cwebp %s (Debian webp %s)" % (first(["cwebp", "-version"]), deb("webp"))
    if "jpeg2000" in codecs:
        v["jpeg2000"] = "opj_compress, %s (Debian libopenjp2-tools %s)" % (
            first(["opj_compress", "-h"], r"openjp2 library v[0-9.]+"), deb("libopenjp2-tools"))
    if "avif" in codecs:
        v["avif"] = "avifenc %s (Debian libavif-bin %s)" % (
            first(["avifenc", "--version"], r"Version: .*"), deb("libavif-bin"))
    if "dlic" in codecs:
        v["dlic"] = "%s; model %s (sha256 %s…)" % (
            os.path.relpath(ctx.dlic, REPO), ctx.args.model, sha256(ctx.args.model)[:16])
    v["gstreamer"] = first(["gst-launch-1.0", "--version"], r"GStreamer [0-9.]+")
    return v


def sha256(path):
    hsh = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hsh.update(chunk)
    return hsh.hexdigest()


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s %s, Python %s" % (
        cpu, os.cpu_count() or 0, platform.system(), platform.release(),
        platform.python_version())


def fmt(x, nd=2, sign=False, unit=""):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return ("%+.*f" if sign else "%.*f") % (nd, x) + unit


def make_plot(path, curves, codecs, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 6), dpi=110)
    for c in codecs:
        pts = curves[c]
        ax.plot([t[1] for t in pts], [t[2] for t in pts], "o-", ms=3.5, lw=1.6,
                color=COLORS[c], label=LABELS[c] + (" (this run)" if c in REFERENCE else ""))
        if c in REFERENCE:
            ax.plot(RATES, REFERENCE[c][0], "x", ms=7, color=COLORS[c], alpha=0.8)
    for (name, vals), st in zip(PUBLISHED_LEARNED, [":", "--"]):
        ax.plot(RATES, vals, st, color="black", lw=1.0, alpha=0.6, label="published: " + name)
    ax.plot([], [], "x", color="black", label="design-facts reference points")
    ax.set_xlim(0, 2)
    ys = [t[2] for c in codecs for t in curves[c] if t[1] <= 2.0]
    if ys:
        ax.set_ylim(max(15.0, math.floor(min(ys)) - 1), math.ceil(max(ys)) + 1)
    ax.set_xlabel("bits per pixel (whole file)")
    ax.set_ylabel("PSNR RGB (dB), mean over images")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_report(path, plot_path, ctx, images, codecs, grids, per_image, curves, versions,
                 cmdline, started, elapsed, loads, overhead, reuse_note=None):
    a = ctx.args
    L = []
    L.append("# dlic rate-distortion and speed benchmark (Kodak)")
    L.append("")
    L.append("Generated by `pipelines/bench-dlic.py` — do not edit by hand.")
    L.append("")
    L.append("- date: %s (run took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M %Z").strip(),
                                                elapsed))
    L.append("- machine: %s; load average at start / end: %s / %s%s" % (
        machine(), loads[0], loads[1],
        " (other jobs were running: timings are inflated)"
        if max(float(loads[0].split()[0]), float(loads[1].split()[0])) > 0.5 else ""))
    L.append("- images: %d of %s%s" % (len(images), a.data,
                                        " (--quick: %s)" % ", ".join(
                                            os.path.basename(p) for p in images)
                                        if a.quick else ""))
    L.append("- command: `%s` (--jobs %d)" % (cmdline, a.jobs))
    if reuse_note:
        L.append("- " + reuse_note)
    L.append("- tools:")
    for k in ["jpeg", "webp", "jpeg2000", "avif", "dlic", "gstreamer"]:
        if k in versions:
            L.append("  - %s" % versions[k])
    L.append("")
    L.append("Protocol: PSNR on RGB (8-bit, MAX 255, MSE over all three channels) per image, "
             "mean over images per quality setting; bpp = whole file bytes × 8 / pixels. PSNR at "
             "a rate: linear in log(bpp) between neighbouring mean points. BD-rate: Bjøntegaard, "
             "log-rate vs PSNR, monotone piecewise-cubic (PCHIP) interpolation over the common "
             "PSNR range. Same protocol as the reference table in "
             "`shared/notes/design-facts.md` §1 (shown as *ref* beside the measured numbers). "
             "On all 24 images this script reproduces the reference PSNR-at-rate values of JPEG, "
             "WebP, JPEG 2000 and AVIF to within 0.02 dB; BD-rates depend on where each sweep "
             "starts (the lowest point sets the bottom of the common PSNR range) and move by "
             "1–2 points with the quality grid (measured with these grids: WebP −36.6%, "
             "JPEG 2000 −45.0%, AVIF −56.7% vs the reference −35.7 / −45.0 / −54.9%), so dlic is "
             "also compared directly with each codec of the same run.")
    if a.quick or len(images) < 24:
        L.append("")
        L.append("**Subset run (%d images%s): the reference values are means over all 24 images, "
                 "so the differences in the ref columns are expected (0.5–1 dB lower here: the "
                 "quick images are harder than average) and say nothing about the setup.**" % (
                     len(images), ", coarser quality grids" if a.quick else ""))
    L.append("")
    L.append("Commands (Q = quality setting of the sweep):")
    L.append("")
    ex = {}
    for c in codecs:
        enc, _, dec, _ = codec_commands(ctx, c, "Q", "IN.png", "IN.ppm", ".")
        s_enc = " ".join(os.path.basename(x) if x.startswith(("/", ".")) else x for x in enc)
        s_dec = " ".join(os.path.basename(x) if x.startswith(("/", ".")) else x for x in dec)
        ex[c] = (s_enc, s_dec)
    for c in codecs:
        grid = ", ".join("%g" % q for q in grids[c])
        extra = ""
        if c == "jpeg2000":
            extra = " (Q = target bpp; `-r` gets 24/Q)"
        elif c == "dlic" and a.dlic_target_bpp:
            extra = " (Q = --target-bpp)"
        L.append("- %s: `%s` / `%s`; Q ∈ {%s}%s" % (LABELS[c], ex[c][0], ex[c][1], grid, extra))
    L.append("")
    if plot_path:
        rel = os.path.relpath(plot_path, os.path.dirname(os.path.abspath(path)))
        L.append("![RD curves](%s)" % rel)
        L.append("")

    # PSNR at rates
    L.append("## PSNR (dB) at fixed rates")
    L.append("")
    L.append("| codec | @0.25 bpp | @0.50 | @0.75 | @1.00 | curve spans (bpp) |")
    L.append("|---|---|---|---|---|---|")
    for c in codecs:
        pts = curves[c]
        vals = [psnr_at(pts, r) for r in RATES]
        cells = []
        for i, v in enumerate(vals):
            if c in REFERENCE:
                refv = REFERENCE[c][0][i]
                cells.append("%s (ref %.2f, %s)" % (fmt(v), refv,
                                                    fmt(v - refv, 2, True) if not math.isnan(v)
                                                    else "-"))
            else:
                cells.append(fmt(v))
        L.append("| %s | %s | %.3f–%.3f |" % (LABELS[c], " | ".join(cells), pts[0][1],
                                               pts[-1][1]))
    for name, vals, _ in REFERENCE_OTHER:
        L.append("| *ref only:* %s | %s | |" % (name, " | ".join("%.2f" % v for v in vals)))
    for name, vals in PUBLISHED_LEARNED:
        L.append("| *published:* %s | %s | |" % (name, " | ".join("%.2f" % v for v in vals)))
    L.append("")

    # BD-rate
    L.append("## BD-rate vs JPEG 4:2:0 (negative = fewer bits for the same PSNR)")
    L.append("")
    bd = {}
    if "jpeg" not in codecs:
        L.append("JPEG was not run (--codecs): no BD-rates.")
        L.append("")
    else:
        L.append("| codec | BD-rate vs JPEG | ref | PSNR range (dB) | note |")
        L.append("|---|---|---|---|---|")
        for c in codecs:
            if c == "jpeg":
                bd[c] = 0.0
                L.append("| %s | 0 (anchor) | 0 | %.2f–%.2f | |" % (
                    LABELS[c], curves[c][0][2], curves[c][-1][2]))
                continue
            v, lo, hi, note = bd_rate(curves["jpeg"], curves[c])
            bd[c] = v
            L.append("| %s | %s | %s | %s | %s |" % (
                LABELS[c], fmt(v, 1, True, "%"),
                "%+.1f%%" % REFERENCE[c][1] if c in REFERENCE else "-",
                "%.2f–%.2f" % (lo, hi) if lo is not None else "-", note))
        if a.bd_max_psnr:
            for c in [c for c in codecs if c.startswith("dlic")]:
                v, lo, hi, note = bd_rate(curves["jpeg"], curves[c], a.bd_max_psnr)
                L.append("| %s, PSNR ≤ %.2f dB only (--bd-max-psnr) | %s | - | %s | %s |" % (
                    LABELS[c], a.bd_max_psnr, fmt(v, 1, True, "%"),
                    "%.2f–%.2f" % (lo, hi) if lo is not None else "-", note))
        for name, _, b in REFERENCE_OTHER:
            L.append("| *ref only:* %s | | %+.1f%% | | |" % (name, b))
        L.append("")
    if "dlic" in codecs:
        others = [c for c in codecs if c != "dlic"]
        if others:
            L.append("dlic directly against each codec (BD-rate of dlic, anchor = that codec):")
            L.append("")
            L.append("| anchor | BD-rate of dlic | PSNR range (dB) | note |")
            L.append("|---|---|---|---|")
            for c in others:
                v, lo, hi, note = bd_rate(curves[c], curves["dlic"])
                L.append("| %s | %s | %s | %s |" % (
                    LABELS[c], fmt(v, 1, True, "%"),
                    "%.2f–%.2f" % (lo, hi) if lo is not None else "-", note))
            L.append("")

    # Speed
    L.append("## Speed (median per image, whole command, wall clock)")
    L.append("")
    L.append("At the quality setting whose mean bpp is closest to %.2f (preferably %.2f–%.2f). "
             "Classical tools run single-threaded; dlic with %s. "
             "Times include process start and file I/O; with --jobs > 1 or other jobs on the "
             "machine they are inflated." % (
                 SPEED_BPP, SPEED_RANGE[0], SPEED_RANGE[1],
                 "--threads %d" % a.dlic_threads if a.dlic_threads
                 else "its default threads (one per core)"))
    L.append("")
    L.append("| codec | Q | mean bpp | encode ms (median / max) | decode ms (median / max) | "
             "ref enc/dec ms (1 core) |")
    L.append("|---|---|---|---|---|---|")
    speeds = {}
    for c in codecs:
        q, b, _ = speed_point(curves[c])
        te = [r[c][q]["t_enc"] for r in per_image]
        td = [r[c][q]["t_dec"] for r in per_image]
        speeds[c] = (statistics.median(te), statistics.median(td), max(te), max(td))
        L.append("| %s | %g | %.3f | %.0f / %.0f | %.0f / %.0f | %s |" % (
            LABELS[c], q, b, 1e3 * speeds[c][0], 1e3 * speeds[c][2], 1e3 * speeds[c][1],
            1e3 * speeds[c][3],
            "%d / %d" % REFERENCE[c][2] if c in REFERENCE else "-"))
    L.append("")
    for c in [c for c in codecs if c.startswith("dlic")]:
        # every quality: the enlarged coded sizes at the top take longer
        rows = []
        for q, b, _ in curves[c]:
            te = statistics.median(r[c][q]["t_enc"] for r in per_image)
            td = statistics.median(r[c][q]["t_dec"] for r in per_image)
            rows.append("Q%s %.2f bpp %.0f / %.0f" % (q, b, 1e3 * te, 1e3 * td))
        L.append("%s at every quality (median encode / decode ms): %s." % (LABELS[c], "; ".join(rows)))
        L.append("")
    if overhead is not None:
        L.append("gst overhead (no codec): `gst-launch-1.0 filesrc ! decodebin ! videoconvert ! "
                 "video/x-raw,format=RGB ! videoconvert ! pngenc ! filesink` on a Kodak image: "
                 "%.0f ms median. That is roughly what the dlic encode + decode commands spend "
                 "beyond the codec itself on process start, GStreamer init and PNG I/O (split "
                 "between them), not counting model load." % (1e3 * overhead))
        L.append("")

    # Targets
    L.append("## Targets (from the issue)")
    L.append("")
    if "dlic" not in codecs:
        L.append("dlic was not run (--codecs): no verdicts.")
    else:
        def verdict(ok):
            return "MET" if ok else "MISSED"
        v = bd.get("dlic", float("nan"))
        if "jpeg" in codecs:
            meas = ""
            if "webp" in bd:
                meas = " (WebP measured here: %s)" % fmt(bd["webp"], 1, True, "%")
            L.append("- beat WebP: BD-rate vs JPEG < %.1f%%: dlic %s → **%s**%s" % (
                TARGET_WEBP, fmt(v, 1, True, "%"),
                verdict(not math.isnan(v) and v < TARGET_WEBP), meas))
            meas = ""
            if "jpeg2000" in bd:
                meas = " (JPEG 2000 measured here: %s)" % fmt(bd["jpeg2000"], 1, True, "%")
            L.append("- then JPEG 2000: BD-rate vs JPEG ≤ %.1f%%: dlic %s → **%s**%s" % (
                TARGET_J2K, fmt(v, 1, True, "%"),
                verdict(not math.isnan(v) and v <= TARGET_J2K), meas))
        else:
            L.append("- BD-rate targets: JPEG was not run, no verdict.")
        if "dlicr" in bd and "jpeg" in codecs:
            vr = bd["dlicr"]
            L.append("- with %s: BD-rate vs JPEG %s → beat WebP **%s**, JPEG 2000 **%s** "
                     "(encode median %.2f s: a slow mode, outside the speed target)" % (
                         LABELS["dlicr"], fmt(vr, 1, True, "%"),
                         verdict(not math.isnan(vr) and vr < TARGET_WEBP),
                         verdict(not math.isnan(vr) and vr <= TARGET_J2K), speeds["dlicr"][0]))
        te, td, tem, tdm = speeds["dlic"]
        L.append("- encode < %.1f s per Kodak image on 2 cores: median %.3f s (max %.3f) → **%s**"
                 % (TARGET_SECONDS, te, tem, verdict(te < TARGET_SECONDS)))
        L.append("- decode < %.1f s per Kodak image on 2 cores: median %.3f s (max %.3f) → **%s**"
                 % (TARGET_SECONDS, td, tdm, verdict(td < TARGET_SECONDS)))
        L.append("")
        L.append("(The speed verdict uses the whole `dlic` command time, which includes process "
                 "start, GStreamer init, model load and PNG I/O; on a %s-core machine%s.)" % (
                     os.cpu_count(), " that other jobs were loading" if max(
                         float(loads[0].split()[0]), float(loads[1].split()[0])) > 0.5 else ""))
    L.append("")

    # Curves
    L.append("## Curves (mean over images)")
    L.append("")
    for c in codecs:
        L.append("- %s: %s" % (LABELS[c], "; ".join(
            "Q%g %.3f bpp %.2f dB" % t for t in curves[c])))
    L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L))
    return "\n".join(L)


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "kodak"),
                    help="directory of Kodak PNGs (default: <repo>/../shared/data/kodak)")
    ap.add_argument("--quick", action="store_true",
                    help="4 images and coarser quality grids; writes to /tmp unless --out")
    ap.add_argument("--codecs", default=",".join(CODEC_ORDER),
                    help="comma list from %s (default: all)" % ",".join(CODEC_ORDER))
    ap.add_argument("--model", default=None,
                    help="dlic weights (default: core/models/dlic-codec.safetensors if present)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="meson build dir")
    ap.add_argument("--out", default=None,
                    help="markdown report (default docs/dlic-bench.md; --quick: "
                         "/tmp/dlic-bench-quick.md)")
    ap.add_argument("--plot", default=None,
                    help="RD plot PNG (default docs/img/dlic-rd.png, or next to --out as "
                         "dlic-rd.png; --quick: /tmp/dlic-rd-quick.png); 'none' to skip")
    ap.add_argument("--json", default=None, help="also write the per-image results here")
    ap.add_argument("--reuse", default=None, metavar="JSON",
                    help="take the classical codecs' results (and timings) from an earlier "
                         "--json file when its images and settings match; dlic always runs")
    ap.add_argument("--jobs", type=int, default=1,
                    help="images processed in parallel (1 or 2; default 1: timings are only "
                         "meaningful with 1)")
    ap.add_argument("--dlic-target-bpp", action="store_true",
                    help="sweep dlic with --target-bpp %s instead of --quality" %
                         ",".join("%g" % b for b in DLIC_BPP_GRID))
    ap.add_argument("--dlic-refine", type=int, default=0, metavar="N",
                    help="also run dlic with --refine N (encoder-side refinement; slow) on the "
                         "coarser grid %s" % ",".join("%g" % q for q in GRID["dlicr"]))
    ap.add_argument("--dlic-threads", type=int, default=0,
                    help="pass --threads N to dlic (default: dlic's default, one per core)")
    ap.add_argument("--j2k-reversible", action="store_true",
                    help="opj_compress without -I (5/3 wavelet, OpenJPEG's lossless-capable "
                         "default; not the reference setting)")
    ap.add_argument("--images", type=int, default=0, help="use only the first N images")
    ap.add_argument("--bd-max-psnr", type=float, default=0, metavar="DB",
                    help="also report dlic's BD-rate vs JPEG over the common PSNR range cut at DB "
                         "(to compare with an older, narrower curve)")
    args = ap.parse_args()

    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    if args.dlic_refine > 0 and "dlicr" not in codecs:
        codecs.append("dlicr")
    if "dlicr" in codecs and args.dlic_refine <= 0:
        ap.error("codec dlicr needs --dlic-refine N")
    LABELS["dlicr"] = "dlic --refine %d" % args.dlic_refine
    bad = [c for c in codecs if c not in CODEC_ORDER]
    if bad or not codecs:
        ap.error("unknown codec(s) %s; choose from %s" % (bad, CODEC_ORDER))
    codecs = [c for c in CODEC_ORDER if c in codecs]
    if not 1 <= args.jobs <= 2:
        ap.error("--jobs must be 1 or 2 (2 cores shared with other work)")
    args.data = os.path.abspath(args.data)
    if "dlic" in codecs or "dlicr" in codecs:
        if args.model is None:
            if os.path.exists(DEFAULT_MODEL):
                args.model = DEFAULT_MODEL
            else:
                ap.error("no trained model at %s yet: pass --model FILE (or leave dlic out "
                         "of --codecs)" % os.path.relpath(DEFAULT_MODEL, REPO))
        args.model = os.path.abspath(args.model)
        if not os.path.exists(args.model):
            ap.error("model %s not found" % args.model)
        if not os.access(os.path.join(args.build, "gst", "dlic"), os.X_OK):
            ap.error("%s/gst/dlic not built (meson compile -C %s)" % (args.build, args.build))
    tools = {"jpeg": ["cjpeg", "djpeg"], "webp": ["cwebp", "dwebp"],
             "jpeg2000": ["opj_compress", "opj_decompress"], "avif": ["avifenc", "avifdec"],
             "dlic": ["gst-launch-1.0"], "dlicr": ["gst-launch-1.0"]}
    pkgs = {"cjpeg": "libjpeg-turbo-progs", "cwebp": "webp", "opj_compress": "libopenjp2-tools",
            "avifenc": "libavif-bin", "gst-launch-1.0": "gstreamer1.0-tools"}
    for c in codecs:
        for t in tools[c]:
            if shutil.which(t) is None:
                ap.error("%s not found (Debian package %s)" % (
                    t, pkgs.get(t, pkgs.get(tools[c][0]))))

    images = sorted(glob.glob(os.path.join(args.data, "*.png")))
    if args.quick:
        images = [p for p in images if os.path.basename(p) in QUICK_IMAGES] or images[:4]
    if args.images:
        images = images[:args.images]
    if not images:
        ap.error("no PNG images in %s" % args.data)
    grids = dict(QUICK_GRID if args.quick else GRID)
    if args.dlic_target_bpp:
        grids["dlic"] = list(DLIC_BPP_GRID)

    if args.out is None:
        args.out = ("/tmp/dlic-bench-quick.md" if args.quick
                    else os.path.join(REPO, "docs", "dlic-bench.md"))
        default_plot = ("/tmp/dlic-rd-quick.png" if args.quick
                        else os.path.join(REPO, "docs", "img", "dlic-rd.png"))
    else:
        default_plot = os.path.join(os.path.dirname(os.path.abspath(args.out)), "dlic-rd.png")
    plot = None if args.plot == "none" else (args.plot or default_plot)

    ctx = Ctx(args)
    started = datetime.datetime.now().astimezone()
    t_start = time.perf_counter()
    loads = [" ".join("%.2f" % x for x in os.getloadavg())]
    cmdline = "pipelines/bench-dlic.py " + " ".join(sys.argv[1:])
    log("bench-dlic: %d images, codecs %s, jobs %d" % (len(images), ",".join(codecs), args.jobs))

    names = [os.path.basename(p) for p in images]
    settings = {c: codec_settings(ctx, c, grids[c]) for c in codecs}
    reused = {}   # codec -> per-image results
    reuse_note = None
    if args.reuse:
        with open(args.reuse) as f:
            old = json.load(f)
        if old.get("images") != names:
            log("bench-dlic: --reuse %s: different image list, nothing reused" % args.reuse)
        else:
            for c in codecs:
                if not c.startswith("dlic") and old.get("settings", {}).get(c) == settings[c]:
                    reused[c] = [{q: r[c][str(q)] for q in grids[c]} for r in old["results"]]
                elif not c.startswith("dlic"):
                    log("bench-dlic: --reuse: %s settings differ, running it" % c)
            if reused:
                reuse_note = "%s reused from `%s` (run of %s)" % (
                    ", ".join(LABELS[c] for c in reused), args.reuse, old.get("date", "?"))
                log("bench-dlic: " + reuse_note)
    to_run = [c for c in codecs if c not in reused]

    with tempfile.TemporaryDirectory(prefix="bench-dlic-") as tmp:
        overhead = None
        if "dlic" in codecs:
            overhead = gst_overhead(ctx, images[0], tmp, 5)
        n = len(images)
        if not to_run:
            per_image = [{} for _ in images]
        elif args.jobs == 1:
            per_image = [bench_image(ctx, p, to_run, grids, tmp, i + 1, n)
                         for i, p in enumerate(images)]
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
                futs = [ex.submit(bench_image, ctx, p, to_run, grids, tmp, i + 1, n)
                        for i, p in enumerate(images)]
                per_image = [f.result() for f in futs]
    for c, rows in reused.items():
        for r, row in zip(per_image, rows):
            r[c] = row
    loads.append(" ".join("%.2f" % x for x in os.getloadavg()))

    curves = {c: curve(per_image, c, grids[c]) for c in codecs}
    versions = tool_versions(ctx, codecs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": started.isoformat(timespec="minutes"), "images": names,
                       "grids": {c: grids[c] for c in codecs}, "settings": settings,
                       "results": [{c: {str(q): v for q, v in r[c].items()} for c in r}
                                   for r in per_image]}, f, indent=1)
    if plot:
        make_plot(plot, curves, codecs, "Kodak (%d images): PSNR RGB vs bpp" % len(images))
    text = write_report(args.out, plot, ctx, images, codecs, grids, per_image, curves, versions,
                        cmdline, started, time.perf_counter() - t_start, loads, overhead,
                        reuse_note)
    print(text)
    log("bench-dlic: wrote %s%s" % (args.out, " and " + plot if plot else ""))


if __name__ == "__main__":
    main()
