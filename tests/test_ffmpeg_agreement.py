#!/usr/bin/env python3
"""Check that qualitymeter's per-frame MSE/PSNR/SSIM agree with FFmpeg.

For every case below, the same raw bytes (written by ffmpeg) are fed to
both tools:

  ffmpeg -f rawvideo ... -i dist -f rawvideo ... -i ref
         -lavfi "...psnr,metadata=mode=print...; ...ssim,metadata=mode=print..."
  gst-launch-1.0 qualitymeter ssim=true stats-file=... ! fakesink
         filesrc ref  ! rawvideoparse ... ! q.sink_0
         filesrc dist ! rawvideoparse ... ! q.sink_1

(ffmpeg's first filter input is the distorted "main" stream, the second the
reference.)  Per frame, every component and the combined value must agree:
PSNR within 0.01 dB (inf == inf), MSE within a relative 1e-4 or 0.01
absolute, SSIM within 0.0001.

Content: the three bundled Kodak images (768x512), each JPEG-compressed by
ffmpeg's mjpeg encoder at -q:v 2, 8 and 20 (9 distorted frames), plus one
frame identical to its reference (PSNR inf, SSIM 1).  The RGB frames are
converted by ffmpeg to each tested pixel format; two extra cases crop to an
odd size (767x511) with tightly packed planes, as ffmpeg writes them, and
pass explicit plane strides/offsets to rawvideoparse.

FFmpeg's psnr/ssim filters accept planar formats only.  ffmpeg converts
packed RGB (rgb24, bgr0) to gbrp and nv12 to yuv420p on its own; these
conversions are lossless, and the test checks from ffmpeg's log that no
other (possibly lossy) conversion was inserted.  All formats asked for are
supported by the ffmpeg 5.1 filters, so no format is skipped.

Usage: test_ffmpeg_agreement.py [PLUGIN_DIR]
The plugin directory defaults to $GST_PLUGIN_PATH (set by meson test), or
else build/gst next to this file's parent directory.
Exit status 0 when all cases pass.
"""

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
IMAGES = ["kodim05.png", "kodim15.png", "kodim23.png"]
QUALITIES = [2, 8, 20]          # ffmpeg mjpeg -q:v (2 = best)
W, H = 768, 512

PSNR_TOL = 0.01
MSE_REL_TOL = 1e-4
MSE_ABS_TOL = 0.01
SSIM_TOL = 0.0001

# Lossless conversions ffmpeg inserts in front of psnr/ssim.
ALLOWED_FFMPEG_CONVERSIONS = {("nv12", "yuv420p"), ("rgb24", "gbrp"),
                              ("bgr0", "gbrp")}

# name, GStreamer rawvideoparse format, ffmpeg pix_fmt, component names,
# width, height
CASES = [
    ("i420", "i420", "yuv420p", "yuv", W, H),
    ("y444", "y444", "yuv444p", "yuv", W, H),
    ("gray8", "gray8", "gray", "y", W, H),
    ("rgb", "rgb", "rgb24", "rgb", W, H),
    ("gbr", "gbr", "gbrp", "rgb", W, H),
    ("bgrx", "bgrx", "bgr0", "rgb", W, H),
    ("nv12", "nv12", "nv12", "yuv", W, H),
    ("i420_10le", "i420-10le", "yuv420p10le", "yuv", W, H),
    ("gray16_le", "gray16-le", "gray16le", "y", W, H),
    ("i420 odd size", "i420", "yuv420p", "yuv", W - 1, H - 1),
    ("i420_10le odd size", "i420-10le", "yuv420p10le", "yuv", W - 1, H - 1),
]


def cdiv(a, b):
    return -(-a // b)


def packed_layout(pix_fmt, w, h):
    """(strides, offsets, frame size) of ffmpeg's tightly packed rawvideo."""
    cw, ch = cdiv(w, 2), cdiv(h, 2)
    planes = {
        "yuv420p": [(w, h), (cw, ch), (cw, ch)],
        "yuv420p10le": [(2 * w, h), (2 * cw, ch), (2 * cw, ch)],
        "yuv444p": [(w, h)] * 3,
        "gbrp": [(w, h)] * 3,
        "nv12": [(w, h), (2 * cw, ch)],
        "gray": [(w, h)],
        "gray16le": [(2 * w, h)],
        "rgb24": [(3 * w, h)],
        "bgr0": [(4 * w, h)],
    }[pix_fmt]
    strides, offsets, off = [], [], 0
    for stride, rows in planes:
        strides.append(stride)
        offsets.append(off)
        off += stride * rows
    return strides, offsets, off


def run(cmd, cwd=None, stdin=None, env=None):
    p = subprocess.run(cmd, cwd=cwd, input=stdin, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (
            p.returncode, " ".join(cmd),
            p.stderr.decode(errors="replace")[-2000:]))
    return p


FF = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]


def make_sources(tmp):
    """Write ref.rgb / dist.rgb: 10 rgb24 frames of W x H each."""
    ref_frames = {}
    for img in IMAGES:
        ref_frames[img] = run(FF + ["-i", os.path.join(DATA, img),
                                    "-f", "rawvideo", "-pix_fmt", "rgb24",
                                    "-"]).stdout
        assert len(ref_frames[img]) == W * H * 3, img
    ref, dist = [], []
    for q in QUALITIES:
        for img in IMAGES:
            jpg = run(FF + ["-i", os.path.join(DATA, img), "-c:v", "mjpeg",
                            "-q:v", str(q), "-f", "mjpeg", "-"]).stdout
            dec = run(FF + ["-f", "mjpeg", "-i", "-", "-f", "rawvideo",
                            "-pix_fmt", "rgb24", "-"], stdin=jpg).stdout
            assert len(dec) == W * H * 3, (img, q)
            ref.append(ref_frames[img])
            dist.append(dec)
    # identical frame: PSNR inf, SSIM 1
    ref.append(ref_frames[IMAGES[0]])
    dist.append(ref_frames[IMAGES[0]])
    for name, frames in (("ref.rgb", ref), ("dist.rgb", dist)):
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(b"".join(frames))
    return len(ref)


def convert(tmp, src, dst, pix_fmt, w, h):
    cmd = FF + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % (W, H),
                "-i", src]
    if (w, h) != (W, H):
        cmd += ["-vf", "crop=%d:%d:0:0" % (w, h)]
    cmd += ["-f", "rawvideo", "-pix_fmt", pix_fmt, dst]
    run(cmd, cwd=tmp)


def parse_ffmpeg_metadata(path):
    frames = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("frame:"):
                frames.append({})
            elif "=" in line:
                k, v = line.split("=", 1)
                frames[-1][k] = float(v)
    return frames


def parse_stats(path):
    frames = []
    with open(path) as f:
        for line in f:
            d = {}
            for tok in line.split():
                k, v = tok.split(":", 1)
                d[k] = v
            frames.append(d)
    return frames


def run_ffmpeg(tmp, pix_fmt, w, h):
    inp = ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", "%dx%d" % (w, h)]
    graph = ("[0:v]split[m0][m1];[1:v]split[r0][r1];"
             "[m0][r0]psnr,metadata=mode=print:file=psnr.txt[o0];"
             "[m1][r1]ssim,metadata=mode=print:file=ssim.txt[o1]")
    for f in ("psnr.txt", "ssim.txt"):
        if os.path.exists(os.path.join(tmp, f)):
            os.unlink(os.path.join(tmp, f))
    p = run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "verbose"] + inp +
            ["-i", "dist.raw"] + inp + ["-i", "ref.raw", "-lavfi", graph,
                                         "-map", "[o0]", "-map", "[o1]",
                                         "-f", "null", "-"], cwd=tmp)
    convs = set(re.findall(r"^\[auto_scale_\d+ @ [^\]]*\] w:\d+ h:\d+ "
                           r"fmt:(\S+) .*-> w:\d+ h:\d+ fmt:(\S+)",
                           p.stderr.decode(errors="replace"), re.M))
    bad = [c for c in convs if c[0] != c[1]
           and c not in ALLOWED_FFMPEG_CONVERSIONS]
    if bad:
        raise RuntimeError("ffmpeg inserted a non-lossless conversion: %s"
                           % bad)
    return (parse_ffmpeg_metadata(os.path.join(tmp, "psnr.txt")),
            parse_ffmpeg_metadata(os.path.join(tmp, "ssim.txt")))


def run_gst(tmp, gst_fmt, pix_fmt, w, h, env):
    parse = ["rawvideoparse", "format=%s" % gst_fmt, "width=%d" % w,
             "height=%d" % h]
    if (w, h) != (W, H):
        strides, offsets, size = packed_layout(pix_fmt, w, h)
        parse += ["plane-strides=<%s>" % ",".join(map(str, strides)),
                  "plane-offsets=<%s>" % ",".join(map(str, offsets)),
                  "frame-size=%d" % size]
    cmd = (["gst-launch-1.0", "-q", "qualitymeter", "name=q", "ssim=true",
            "post-messages=false", "stats-file=stats.log", "!", "fakesink",
            "filesrc", "location=ref.raw", "!"] + parse + ["!", "q.sink_0",
            "filesrc", "location=dist.raw", "!"] + parse + ["!", "q.sink_1"])
    run(cmd, cwd=tmp, env=env)
    return parse_stats(os.path.join(tmp, "stats.log"))


def close_psnr(a, b):
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= PSNR_TOL


def close_mse(a, b):
    return abs(a - b) <= MSE_ABS_TOL or abs(a - b) <= MSE_REL_TOL * abs(b)


def close_ssim(a, b):
    return abs(a - b) <= SSIM_TOL


def compare(stats, ffp, ffs, comps, nframes):
    errors = []
    worst = {"psnr": 0.0, "mse": 0.0, "ssim": 0.0}
    if not (len(stats) == len(ffp) == len(ffs) == nframes):
        return ["frame counts differ: qualitymeter %d, ffmpeg psnr %d, "
                "ffmpeg ssim %d, expected %d"
                % (len(stats), len(ffp), len(ffs), nframes)], worst
    for i, (st, fp, fs) in enumerate(zip(stats, ffp, ffs)):
        if st.get("n") != str(i + 1) or st.get("pad") != "sink_1":
            errors.append("frame %d: bad n/pad in stats line %r" % (i, st))
        # both tools must report exactly the expected components
        st_comps = sorted(k[4:] for k in st if k.startswith("mse_")
                          and k != "mse_avg")
        ff_comps = sorted(k[len("lavfi.psnr.mse."):] for k in fp
                          if k.startswith("lavfi.psnr.mse."))
        if st_comps != sorted(comps) or ff_comps != sorted(comps):
            errors.append("frame %d: components qualitymeter %s ffmpeg %s"
                          % (i, st_comps, ff_comps))
            continue
        checks = []
        for c in comps:
            checks.append(("mse", "mse_" + c, "lavfi.psnr.mse." + c, fp))
            checks.append(("psnr", "psnr_" + c, "lavfi.psnr.psnr." + c, fp))
            checks.append(("ssim", "ssim_" + c, "lavfi.ssim." + c.upper(),
                           fs))
        checks += [("mse", "mse_avg", "lavfi.psnr.mse_avg", fp),
                   ("psnr", "psnr_avg", "lavfi.psnr.psnr_avg", fp),
                   ("ssim", "ssim_avg", "lavfi.ssim.All", fs)]
        for kind, skey, fkey, fdict in checks:
            if skey not in st or fkey not in fdict:
                errors.append("frame %d: missing %s (qualitymeter) or %s "
                              "(ffmpeg)" % (i, skey, fkey))
                continue
            a, b = float(st[skey]), fdict[fkey]
            ok = {"psnr": close_psnr, "mse": close_mse,
                  "ssim": close_ssim}[kind](a, b)
            if not (math.isinf(a) or math.isinf(b)):
                d = abs(a - b)
                if kind == "mse" and b != 0:
                    d /= abs(b)
                worst[kind] = max(worst[kind], d)
            if not ok:
                errors.append("frame %d %s: qualitymeter %.6f ffmpeg %.6f "
                              "(diff %.6g)" % (i, skey, a, b, a - b))
    return errors, worst


def find_plugin_dir():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    if os.environ.get("GST_PLUGIN_PATH"):
        return os.environ["GST_PLUGIN_PATH"]
    return os.path.join(os.path.dirname(HERE), "build", "gst")


def main():
    t0 = time.monotonic()
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = find_plugin_dir()
    for tool in ("ffmpeg", "gst-launch-1.0", "gst-inspect-1.0"):
        if shutil.which(tool) is None:
            print("FAIL: %s not found" % tool)
            print("0 passed, 1 failed")
            return 1
    if subprocess.run(["gst-inspect-1.0", "qualitymeter"], env=env,
                      stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("FAIL: qualitymeter not found in %s" % env["GST_PLUGIN_PATH"])
        print("0 passed, 1 failed")
        return 1

    tmp = tempfile.mkdtemp(prefix="qm-ffmpeg-")
    passed = failed = 0
    try:
        nframes = make_sources(tmp)
        for name, gst_fmt, pix_fmt, comps, w, h in CASES:
            label = "%s (%s/%s %dx%d)" % (name, gst_fmt, pix_fmt, w, h)
            try:
                convert(tmp, "ref.rgb", "ref.raw", pix_fmt, w, h)
                convert(tmp, "dist.rgb", "dist.raw", pix_fmt, w, h)
                size = packed_layout(pix_fmt, w, h)[2] * nframes
                for f in ("ref.raw", "dist.raw"):
                    got = os.path.getsize(os.path.join(tmp, f))
                    if got != size:
                        raise RuntimeError("%s is %d bytes, expected %d"
                                           % (f, got, size))
                ffp, ffs = run_ffmpeg(tmp, pix_fmt, w, h)
                stats = run_gst(tmp, gst_fmt, pix_fmt, w, h, env)
                errors, worst = compare(stats, ffp, ffs, list(comps), nframes)
            except Exception as e:  # noqa: BLE001 - report and go on
                errors, worst = [str(e)], None
            if errors:
                failed += 1
                print("FAIL %s: %d mismatches" % (label, len(errors)))
                for e in errors[:8]:
                    print("    " + e)
                if len(errors) > 8:
                    print("    ... %d more" % (len(errors) - 8))
            else:
                passed += 1
                print("PASS %s: %d frames, max |dPSNR| %.2g dB, max rel dMSE "
                      "%.2g, max |dSSIM| %.2g" % (label, nframes,
                                                   worst["psnr"], worst["mse"],
                                                   worst["ssim"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
