#!/usr/bin/python3
"""Benchmark the casartifact element (C engine, through GStreamer) on LIVE1 and Classic5.

  pipelines/bench-casartifact.py                     # full run, writes docs/casartifact-bench.md
  pipelines/bench-casartifact.py --quick --models fast --no-speed    # smoke run
  pipelines/bench-casartifact.py --spp-sweep         # redo the hand-set spp qp sweep

Protocol (the published LIVE1 / Classic5 artifact-removal protocol, core/train/README.md):
  Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255) as uint8 (gray images as they are),
  written as PGM; JPEG = `cjpeg -baseline -quality Q -grayscale`; decoded with `djpeg -pnm`.
Methods per (image, Q):
  JPEG      djpeg output. GStreamer's `jpegdec idct-method=islow` is checked to give the same
            pixels on every image (jpegdec's default idct-method=ifast does NOT: +-1 differences).
  spp       `ffmpeg -vf spp=quality=3:qp=QP` on the decoded gray image, QP from the hand-set
            per-Q table SPP_QP below (see --spp-sweep).
  casartifact model=M, one gst-launch-1.0 per image:
            filesrc ! jpegdec idct-method=islow ! casartifact model=M n-threads=T !
            video/x-raw,format=GRAY8 ! filesink   (raw GRAY8; the 4-byte row padding that
            GStreamer adds when the width is not a multiple of 4 is removed).
Metrics vs Y (8-bit): PSNR (MAX 255); SSIM = Wang et al. 2004 (ssim_index.m: 11x11 Gaussian
window sigma 1.5, K1 0.01, K2 0.03, L 255, mean over the 'valid' region, no down-sampling),
equal to skimage structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255) and to core/train/eval.py's ssim() (checked at
run time); PSNR-B = Yim & Bovik 2011 (MSE + BEF of the tested image, 8x8 blocks). Means over
images per dataset and Q.
Speed: tests/bench-artifact (C forward pass, random content) and PyTorch CPU inference of the
same weights (torch.set_num_threads(N), no_grad, best of --speed-runs).
Picture: a crop of one LIVE1 image at Q10: original Y | JPEG | fast | CAS-CNN (+ PSNR).

Needs: cjpeg/djpeg (libjpeg-turbo-progs), ffmpeg, gst-launch-1.0 with jpegdec, the built plugin
(build/gst), tests/bench-artifact; python3 with numpy, PIL, scipy (+ torch for the PyTorch speed
and the C-vs-PyTorch agreement check).
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import correlate1d

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(REPO, "core", "train")
sys.path.insert(0, TRAIN)
import jpegdata  # noqa: E402  (numpy + PIL only: the luma protocol)

# Hand-set FFmpeg spp qp per JPEG quality (spp=quality=3), chosen by a quick PSNR sweep
# (`--spp-sweep`, qp 1..32) on 4 bsds500/val images: best qp 20 / 10 / 8 at Q10 / 20 / 40.
# Chosen on validation data, never on the benchmarks (the same sweep on 4 LIVE1 images picks
# 16 / 10 / 6, within 0.02 dB: the curves are flat, the choice barely matters).
# A quality that is not in the table uses the nearest entry.
SPP_QP = {10: 20, 20: 10, 40: 8}
SPP_QUALITY = 3

# Published PSNR (dB, luma, Q10 / Q20 / Q40).  Only PSNR is filled in; other cells print "-".
PUBLISHED = {
    "live1": [
        ("ARCNN (Dong et al., ICCV 2015)", {10: 28.96, 20: 31.29, 40: 33.61}),
        ("DnCNN-3 (Zhang et al., TIP 2017)", {10: 29.19, 20: 31.59, 40: 33.96}),
        ("FBCNN (Jiang et al., ICCV 2021)", {10: 29.75, 20: 32.13, 40: 34.53}),
    ],
    "classic5": [
        ("DnCNN-3 (Zhang et al., TIP 2017)", {10: 29.40, 20: 31.63, 40: 33.77}),
    ],
}
TARGET_CASCNN = {10: 29.19, 20: 31.59, 40: 33.96}  # DnCNN-3 on LIVE1
TARGET_FAST = {10: 28.96, 20: 31.29, 40: 33.61}    # ARCNN on LIVE1
TARGET_FAST_FPS = 30.0                             # 1280x720
TARGET_C_VS_TORCH = 1.5

QUICK = {"live1": ["bikes.png", "cemetry.png", "monarch.png"], "classic5": ["baboon.png", "barbara.png"]}
LABEL = {"jpeg": "JPEG", "spp": "FFmpeg spp", "fast": "casartifact fast", "cascnn": "casartifact CAS-CNN"}
LABEL.update({k + "+q": v + " quality=Q" for k, v in list(LABEL.items()) if k in ("fast", "cascnn")})
LABEL.update({k + "+qe": v + " quality=Q ensemble=8" for k, v in list(LABEL.items()) if k in ("fast", "cascnn")})


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- metrics

def psnr(ref, x):
    mse = np.mean((ref.astype(np.float64) - x.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


_G1 = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5 ** 2))
_G1 /= _G1.sum()


def ssim(ref, x):
    """Wang et al. 2004 SSIM, 11x11 Gaussian (sigma 1.5, separable), K1 .01, K2 .03, L 255,
    mean over the 'valid' region (the window fully inside the image)."""
    a, b = ref.astype(np.float64), x.astype(np.float64)

    def f(z):
        z = correlate1d(correlate1d(z, _G1, axis=0, mode="constant"), _G1, axis=1, mode="constant")
        return z[5:-5, 5:-5]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = f(a), f(b)
    va, vb, cov = f(a * a) - ma ** 2, f(b * b) - mb ** 2, f(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return float(s.mean())


def bef(x, B=8):
    """Blocking effect factor (Yim & Bovik, TIP 2011) of image x, block size B.  Pairs of
    horizontally / vertically adjacent pixels that straddle a block boundary (columns/rows
    B-1|B, 2B-1|2B, ...) vs all other adjacent pairs; eta = log2 B / log2 min(H, W).  Counts
    are the actual numbers of pairs (= the paper's N_H (N_V/B - 1) etc. for multiples of B)."""
    x = x.astype(np.float64)
    H, W = x.shape
    dh = (x[:, 1:] - x[:, :-1]) ** 2
    dv = (x[1:, :] - x[:-1, :]) ** 2
    hb = np.zeros(W - 1, bool)
    hb[B - 1::B] = True
    vb = np.zeros(H - 1, bool)
    vb[B - 1::B] = True
    db = (dh[:, hb].sum() + dv[vb, :].sum()) / (H * hb.sum() + W * vb.sum())
    dc = (dh[:, ~hb].sum() + dv[~vb, :].sum()) / (H * (~hb).sum() + W * (~vb).sum())
    if db <= dc:
        return 0.0
    return math.log2(B) / math.log2(min(H, W)) * (db - dc)


def psnrb(ref, x):
    mse = np.mean((ref.astype(np.float64) - x.astype(np.float64)) ** 2) + bef(x)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def metrics(ref, x):
    return {"psnr": psnr(ref, x), "ssim": ssim(ref, x), "psnrb": psnrb(ref, x)}


# ----------------------------------------------------------------------------- tools

def run(cmd, env=None):
    """Run a command (list); return wall seconds.  Raises with stderr on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {' '.join(cmd)}\n"
                           f"{p.stderr.decode(errors='replace')[-2000:]}")
    return dt


def read_pgm(path):
    return np.asarray(Image.open(path), dtype=np.uint8).copy()


class RawSizeNote:
    padded = set()


def read_gray8(path, w, h):
    """Raw GRAY8 frame from filesink.  GStreamer's default GRAY8 stride is the width rounded
    up to 4, so for such widths the file holds h rows of that stride; strip the padding."""
    data = np.fromfile(path, dtype=np.uint8)
    stride = (w + 3) & ~3
    if data.size == w * h:
        return data.reshape(h, w)
    if data.size == stride * h:
        RawSizeNote.padded.add((w, h))
        return data.reshape(h, stride)[:, :w].copy()
    raise RuntimeError(f"{path}: {data.size} bytes, expected {w * h} (w*h) or {stride * h} "
                       f"(stride {stride} x h) for {w}x{h} GRAY8")


def gst_decode_cmd(jpg, out, element=None):
    cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={jpg}", "!", "jpegdec", "idct-method=islow", "!"]
    if element:
        cmd += element + ["!"]
    return cmd + ["video/x-raw,format=GRAY8", "!", "filesink", f"location={out}"]


def element_args(model, args):
    e = ["casartifact", f"model={model}", f"n-threads={args.threads}"]
    f = args.model_file.get(model)
    if f:
        e.append(f"model-file={f}")
    return e


def spp_qp(q):
    return SPP_QP[min(SPP_QP, key=lambda k: (abs(k - q), k))]


def spp_cmd(src, dst, qp):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", src,
            "-vf", f"spp=quality={SPP_QUALITY}:qp={qp}", "-c:v", "pgm", "-pix_fmt", "gray",
            "-f", "image2", dst]


def list_images(d, names=None):
    paths = sorted(p for e in ("png", "bmp", "tif", "jpg") for p in glob.glob(os.path.join(d, f"*.{e}")))
    if names:
        sel = [p for p in paths if os.path.basename(p) in names]
        paths = sel if len(sel) == len(names) else paths[:len(names)]
    return paths


def st_meta(path):
    """__metadata__ of a safetensors file (header only)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)).get("__metadata__", {})


# ----------------------------------------------------------------------------- torch side

_torch = None


def torch_mod():
    global _torch
    if _torch is None:
        import torch
        _torch = torch
    return _torch


def torch_model(path):
    from export import load_model  # core/train/export.py
    return load_model(path)


def torch_restore(model, y, threads):
    """Same as core/train train_casartifact.restore(): edge-pad to 8, forward, crop, round, clip."""
    torch = torch_mod()
    torch.set_num_threads(threads)
    H, W = y.shape
    x = np.pad(y, ((0, (-H) % 8), (0, (-W) % 8)), mode="edge").astype(np.float32) / 255.0
    with torch.no_grad():
        out = model(torch.from_numpy(x)[None, None])[0, 0, :H, :W].numpy()
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def torch_time(model, w, h, threads, runs):
    torch = torch_mod()
    torch.set_num_threads(threads)
    x = torch.rand(1, 1, h, w)
    best = float("inf")
    with torch.no_grad():
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    return best * 1000.0


def c_time(bench, weights, w, h, threads, runs):
    out = subprocess.run([bench, weights, str(w), str(h), str(threads), str(runs)], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
    m = re.search(r"^best .*: ([0-9.]+) ms, ([0-9.]+) fps, ([0-9.]+) GFLOP/s", out, re.M)
    if not m:
        raise RuntimeError(f"cannot parse bench-artifact output:\n{out}")
    return float(m.group(1)), float(m.group(3)), m.group(0)


# ----------------------------------------------------------------------------- spp sweep

SWEEP_QPS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32]


def spp_sweep(args):
    """PSNR of spp=quality=3:qp=QP for a range of qp on a few images per Q; prints the best."""
    paths = list_images(args.sweep_dir)
    idx = np.linspace(0, len(paths) - 1, args.sweep_n).round().astype(int)
    paths = [paths[i] for i in idx]
    log(f"spp sweep on {args.sweep_dir}: {', '.join(os.path.basename(p) for p in paths)}")
    with tempfile.TemporaryDirectory(prefix="bench-cas-sweep-") as tmp:
        for q in args.qualities:
            res = {qp: [] for qp in SWEEP_QPS}
            base = []
            for p in paths:
                y = jpegdata.rgb_to_y(Image.open(p))
                Image.fromarray(y, "L").save(f"{tmp}/y.pgm")
                run(["cjpeg", "-baseline", "-quality", str(q), "-grayscale", "-outfile", f"{tmp}/y.jpg", f"{tmp}/y.pgm"])
                run(["djpeg", "-pnm", "-outfile", f"{tmp}/d.pgm", f"{tmp}/y.jpg"])
                base.append(psnr(y, read_pgm(f"{tmp}/d.pgm")))
                for qp in SWEEP_QPS:
                    run(spp_cmd(f"{tmp}/d.pgm", f"{tmp}/s.pgm", qp))
                    res[qp].append(psnr(y, read_pgm(f"{tmp}/s.pgm")))
            means = {qp: float(np.mean(v)) for qp, v in res.items()}
            best = max(means, key=means.get)
            print(f"Q{q}: JPEG {np.mean(base):.3f} | " + " ".join(f"qp{qp}:{m:.3f}" for qp, m in means.items())
                  + f" | best qp {best} ({means[best] - np.mean(base):+.3f} dB)", flush=True)


# ----------------------------------------------------------------------------- main run

def process_dataset(name, paths, args, tmp, env, store):
    """Returns {q: {method: [metrics dict per image]}}, {method: [wall s]}."""
    res = {q: {} for q in args.qualities}
    times = {}
    n = len(paths)
    for i, p in enumerate(paths):
        base = os.path.basename(p)
        y = jpegdata.rgb_to_y(Image.open(p))
        h, w = y.shape
        Image.fromarray(y, "L").save(f"{tmp}/y.pgm")
        for q in args.qualities:
            t_img = time.perf_counter()
            jpg = f"{tmp}/y.jpg"
            run(["cjpeg", "-baseline", "-quality", str(q), "-grayscale", "-outfile", jpg, f"{tmp}/y.pgm"])
            outs = {}
            times.setdefault("djpeg", []).append(run(["djpeg", "-pnm", "-outfile", f"{tmp}/d.pgm", jpg]))
            outs["jpeg"] = read_pgm(f"{tmp}/d.pgm")
            assert outs["jpeg"].shape == (h, w), (outs["jpeg"].shape, (h, w))
            # GStreamer decode alone: must equal djpeg, and is the time baseline of the element runs
            times.setdefault("gst-jpegdec", []).append(run(gst_decode_cmd(jpg, f"{tmp}/g.gray"), env))
            g = read_gray8(f"{tmp}/g.gray", w, h)
            if not np.array_equal(g, outs["jpeg"]):
                raise RuntimeError(f"{base} Q{q}: jpegdec idct-method=islow differs from djpeg "
                                   f"({int((g != outs['jpeg']).sum())} pixels)")
            if not args.no_spp:
                times.setdefault("spp", []).append(run(spp_cmd(f"{tmp}/d.pgm", f"{tmp}/s.pgm", spp_qp(q))))
                outs["spp"] = read_pgm(f"{tmp}/s.pgm")
            for m in ([] if args.no_blind else args.models):
                times.setdefault(m, []).append(
                    run(gst_decode_cmd(jpg, f"{tmp}/o.gray", element_args(m, args) + ["quality=0"]),
                        env))   # blind: quality unknown (the element's default, -1, estimates it)
                outs[m] = read_gray8(f"{tmp}/o.gray", w, h)
            for m in args.qmodels:     # the same model told the JPEG quality (quality=Q)
                base_m, kind = m.split("+")
                e = element_args(base_m, args) + [f"quality={q}"]
                if kind == "qe":       # ... and averaged over the 8 flips / transposes
                    e.append(f"ensemble={args.ensemble}")
                times.setdefault(m, []).append(run(gst_decode_cmd(jpg, f"{tmp}/o.gray", e), env))
                outs[m] = read_gray8(f"{tmp}/o.gray", w, h)
            for k, o in outs.items():
                r = metrics(y, o)
                r["image"] = base
                res[q].setdefault(k, []).append(r)
            if name == "live1" and base == args.picture_image and q == args.picture_q:
                store["picture"] = {"name": base, "y": y, **outs}
            if store.get("check") is None and not args.no_check:
                store["check"] = {"name": base, "q": q, "y": y, "jpeg": outs["jpeg"],
                                  **{m: outs[m] for m in args.models}}
            log(f"[{name} {i + 1}/{n}] {base} {w}x{h} Q{q}: "
                + " ".join(f"{k} {res[q][k][-1]['psnr']:.2f}" for k in outs)
                + f" dB ({time.perf_counter() - t_img:.1f} s)")
    return res, times


def agreement_check(check, args):
    """Element output vs PyTorch restore() of the same weights on one image: how many pixels differ."""
    lines = []
    y = check["jpeg"]
    for m in args.models:
        model = torch_model(args.weights[m])
        t = torch_restore(model, y, max(1, args.threads or os.cpu_count() or 1))
        d = np.abs(t.astype(int) - check[m].astype(int))
        lines.append(f"{LABEL[m]} vs PyTorch ({os.path.basename(args.weights[m])}) on {check['name']} "
                     f"Q{check['q']}: max |diff| {d.max()}, {int((d > 0).sum())} of {d.size} pixels differ "
                     f"(rounding of float sums); the model changed {100.0 * (check[m] != y).mean():.1f} % "
                     f"of the JPEG pixels")
        log(lines[-1])
    return lines


def ssim_crosscheck(ref, x):
    """Our separable SSIM vs core/train/eval.py's ssim() (2-D convolve2d)."""
    try:
        import eval as trainEval  # core/train/eval.py (imports torch)
    except Exception as e:  # noqa: BLE001
        return f"SSIM cross-check skipped ({e})"
    a, b = ssim(ref, x), trainEval.ssim(ref, x)
    if abs(a - b) > 1e-9:
        raise RuntimeError(f"SSIM mismatch with core/train/eval.py: {a} vs {b}")
    return f"SSIM agrees with core/train/eval.py ssim() ({a:.6f} vs {b:.6f})"


def speed(args):
    """C bench-artifact vs PyTorch, same weights and sizes, 1 and 2 threads."""
    rows = []
    sizes = {"fast": (1280, 720), "cascnn": (768, 512)}
    for m in args.models:
        w, h = sizes[m]
        model = torch_model(args.weights[m]) if not args.no_torch else None
        for t in args.speed_threads:
            log(f"speed: {m} {w}x{h} threads {t} (C) ...")
            c_ms, gflops, line = c_time(args.bench, args.weights[m], w, h, t, args.speed_runs)
            log("  " + line)
            p_ms = None
            if model is not None:
                log(f"speed: {m} {w}x{h} threads {t} (PyTorch) ...")
                p_ms = torch_time(model, w, h, t, args.speed_runs)
                log(f"  PyTorch best {p_ms:.1f} ms")
            rows.append({"model": m, "w": w, "h": h, "threads": t, "c_ms": c_ms, "gflops": gflops,
                         "torch_ms": p_ms})
    return rows


def picture(pic, args, path):
    y = pic["y"]
    H, W = y.shape
    s = args.crop_size
    if args.crop:
        x0, y0 = args.crop
    else:  # the 8-aligned window where JPEG is worst (most visible artifacts)
        e = (pic["jpeg"].astype(np.float64) - y) ** 2
        best = None
        for yy in range(0, H - s + 1, 8):
            for xx in range(0, W - s + 1, 8):
                v = e[yy:yy + s, xx:xx + s].mean()
                if best is None or v > best[0]:
                    best = (v, xx, yy)
        _, x0, y0 = best
    panels = [("original Y", y)]
    panels.append((f"JPEG Q{args.picture_q}", pic["jpeg"]))
    for m, lab in (("fast", "casartifact fast"), ("cascnn", "CAS-CNN")):
        if m in pic:
            panels.append((lab, pic[m]))
    z = args.zoom
    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    try:
        font = ImageFont.truetype(font_path, 15)
    except OSError:
        font = ImageFont.load_default()
    pad, top = 6, 44
    cw = s * z
    canvas = Image.new("L", (len(panels) * (cw + pad) + pad, cw + top + 24), 255)
    d = ImageDraw.Draw(canvas)
    for k, (lab, img) in enumerate(panels):
        crop = img[y0:y0 + s, x0:x0 + s]
        x = pad + k * (cw + pad)
        canvas.paste(Image.fromarray(crop, "L").resize((cw, cw), Image.NEAREST), (x, top))
        d.text((x, 4), lab, fill=0, font=font)
        if k:
            d.text((x, 23), f"{psnr(y[y0:y0 + s, x0:x0 + s], crop):.2f} dB crop, "
                   f"{psnr(y, img):.2f} dB image", fill=0, font=font)
    d.text((pad, top + cw + 4), f"LIVE1 {pic['name']} luma, crop {s}x{s} at ({x0},{y0}), "
           f"x{z} nearest; PSNR vs original Y", fill=0, font=font)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    canvas.save(path)
    return x0, y0


# ----------------------------------------------------------------------------- report

def fmt(v, nd):
    return "-" if v is None else f"{v:.{nd}f}"


def mean_of(lst, key):
    return float(np.mean([r[key] for r in lst]))


def dataset_table(name, res, times, args, nimg):
    qs = args.qualities
    hdr = "| method | " + " | ".join(f"Q{q} PSNR | Q{q} SSIM | Q{q} PSNR-B" for q in qs) + " | wall s / image |"
    sep = "|---|" + "---:|" * (3 * len(qs)) + "---:|"
    lines = [f"### {name} ({nimg} images)", "", hdr, sep]
    base = float(np.mean(times["gst-jpegdec"]))
    for k in ["jpeg", "spp"] + args.models + args.qmodels:
        if k not in res[qs[0]]:
            continue
        lab = LABEL[k]
        if k == "spp":
            lab += " (qp " + "/".join(str(spp_qp(q)) for q in qs) + ")"
        cells = []
        for q in qs:
            r = res[q][k]
            cells += [f"{mean_of(r, 'psnr'):.2f}", f"{mean_of(r, 'ssim'):.4f}", f"{mean_of(r, 'psnrb'):.2f}"]
        if k == "jpeg":
            sp = f"{np.mean(times['djpeg']):.3f} (djpeg)"
        elif k == "spp":
            sp = f"{np.mean(times['spp']):.3f} (ffmpeg)"
        else:
            t = float(np.mean(times[k]))
            sp = f"{t:.2f} ({t - base:+.2f} vs jpegdec only)"
        lines.append(f"| {lab} | " + " | ".join(cells) + f" | {sp} |")
    for lab, vals in PUBLISHED.get(name, []):
        cells = []
        for q in qs:
            cells += [fmt(vals.get(q), 2), "-", "-"]
        lines.append(f"| {lab}, published | " + " | ".join(cells) + " | - |")
    # gains
    g = []
    for k in ["spp"] + args.models + args.qmodels:
        if k in res[qs[0]]:
            g.append(f"{LABEL[k]} " + " / ".join(
                f"{mean_of(res[q][k], 'psnr') - mean_of(res[q]['jpeg'], 'psnr'):+.2f}" for q in qs))
    if g:
        lines += ["", "PSNR gain over JPEG (dB, " + " / ".join(f"Q{q}" for q in qs) + "): " + "; ".join(g) + "."]
    return lines


def speed_table(rows):
    lines = ["| model | size | threads | C (bench-artifact) ms | C fps | C s / MP | C GFLOP/s "
             "| PyTorch ms | C speed-up vs PyTorch |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mp = r["w"] * r["h"] / 1e6
        ratio = r["torch_ms"] / r["c_ms"] if r["torch_ms"] else None
        lines.append(f"| {r['model']} | {r['w']}x{r['h']} | {r['threads']} | {r['c_ms']:.1f} | "
                     f"{1000 / r['c_ms']:.2f} | {r['c_ms'] / 1000 / mp:.3f} | {r['gflops']:.1f} | "
                     f"{fmt(r['torch_ms'], 1)} | {fmt(ratio, 2) + 'x' if ratio else '-'} |")
    return lines


def targets(all_res, rows, args):
    lines = ["| target | Q / case | ours | target | gap | status |", "|---|---|---:|---:|---:|---|"]
    live = all_res.get("live1")
    for m, tgt, who in (("cascnn", TARGET_CASCNN, "DnCNN-3"), ("fast", TARGET_FAST, "ARCNN"),
                        ("cascnn+q", TARGET_CASCNN, "DnCNN-3"), ("fast+q", TARGET_FAST, "ARCNN"),
                        ("cascnn+qe", TARGET_CASCNN, "DnCNN-3")):
        if not live or m not in args.models + args.qmodels or m not in live[args.qualities[0]]:
            continue
        for q in args.qualities:
            if q not in tgt:
                continue
            v = mean_of(live[q][m], "psnr")
            lines.append(f"| {LABEL[m]} PSNR >= {who}, LIVE1 | Q{q} | {v:.2f} | {tgt[q]:.2f} | "
                         f"{v - tgt[q]:+.2f} dB | {'MET' if v >= tgt[q] else 'MISSED'} |")
    for r in rows:
        if r["model"] == "fast":
            fps = 1000 / r["c_ms"]
            lines.append(f"| fast >= {TARGET_FAST_FPS:.0f} fps at 1280x720 (C forward) | {r['threads']} thread(s) | "
                         f"{fps:.1f} fps | {TARGET_FAST_FPS:.0f} fps | {fps - TARGET_FAST_FPS:+.1f} fps | "
                         f"{'MET' if fps >= TARGET_FAST_FPS else 'MISSED'} |")
    for r in rows:
        if r["torch_ms"]:
            ratio = r["torch_ms"] / r["c_ms"]
            lines.append(f"| C >= {TARGET_C_VS_TORCH}x PyTorch | {r['model']} {r['w']}x{r['h']}, "
                         f"{r['threads']} thread(s) | {ratio:.2f}x | {TARGET_C_VS_TORCH:.1f}x | "
                         f"{ratio - TARGET_C_VS_TORCH:+.2f}x | {'MET' if ratio >= TARGET_C_VS_TORCH else 'MISSED'} |")
    return lines


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}"


def version(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


# ----------------------------------------------------------------------------- entry

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"),
                    help="folder holding live1/ and classic5/ (default <repo>/../shared/data)")
    ap.add_argument("--datasets", default="live1,classic5")
    ap.add_argument("--qualities", default="10,20,40")
    ap.add_argument("--models", default="fast,cascnn", help="comma list of fast, cascnn")
    ap.add_argument("--quality-set", action="store_true", help="also run each model with "
                    "quality=Q (the element told the JPEG quality: per-quality strength)")
    ap.add_argument("--fast-weights", default="", help="weights for model=fast (default: the built-in "
                    "model in the element, core/models/casartifact-fast.safetensors for the speed test)")
    ap.add_argument("--cascnn-weights", default="", help="same for model=cascnn")
    ap.add_argument("--threads", type=int, default=0, help="casartifact n-threads (0: one per core)")
    ap.add_argument("--quick", action="store_true", help="3 LIVE1 + 2 classic5 images (smoke run); "
                    "unless given, --out/--picture then go to /tmp, not docs/")
    ap.add_argument("--out", default="", help="markdown report (default docs/casartifact-bench.md)")
    ap.add_argument("--picture", default="", help="PNG (default docs/img/casartifact-q10.png; "
                    "with --out elsewhere, OUT-q10.png beside the report)")
    ap.add_argument("--picture-image", default="monarch.png", help="LIVE1 image for the picture")
    ap.add_argument("--picture-q", type=int, default=10)
    ap.add_argument("--crop", default="", help="X,Y of the crop (default: where JPEG is worst)")
    ap.add_argument("--crop-size", type=int, default=160)
    ap.add_argument("--zoom", type=int, default=2)
    ap.add_argument("--json", default="", help="also dump per-image results to this JSON file")
    ap.add_argument("--no-spp", action="store_true", help="skip FFmpeg spp")
    ap.add_argument("--no-speed", action="store_true", help="skip the bench-artifact / PyTorch timing")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch timing and agreement check")
    ap.add_argument("--no-check", action="store_true", help="skip the element-vs-PyTorch agreement check")
    ap.add_argument("--no-blind", action="store_true", help="skip the blind (quality=0) runs: only the quality=Q (--quality-set) and ensemble runs, e.g. to re-measure a retrained per-quality model")
    ap.add_argument("--speed-threads", default="2,1")
    ap.add_argument("--speed-runs", type=int, default=3)
    ap.add_argument("--bench", default=os.path.join(REPO, "build", "tests", "bench-artifact"))
    ap.add_argument("--plugin-path", default=os.path.join(REPO, "build", "gst"))
    ap.add_argument("--ensemble", type=int, default=1, help="also run --ensemble-models with quality=Q "
                    "and casartifact ensemble=N (self-ensemble of N flips/transposes)")
    ap.add_argument("--ensemble-models", default="cascnn")
    ap.add_argument("--spp-sweep", action="store_true", help="only run the spp qp sweep and exit")
    ap.add_argument("--sweep-dir", default="", help="sweep images (default <data>/bsds500/val)")
    ap.add_argument("--sweep-n", type=int, default=4)
    a = ap.parse_args()
    a.data = os.path.abspath(a.data)
    a.qualities = [int(v) for v in a.qualities.split(",") if v]
    a.models = [m for m in a.models.split(",") if m]
    for m in a.models:
        if m not in ("fast", "cascnn"):
            ap.error(f"unknown model {m}")
    a.qmodels = [m + "+q" for m in a.models] if a.quality_set else []
    if a.ensemble > 1:
        a.qmodels += [m + "+qe" for m in a.ensemble_models.split(",") if m in a.models]
        for m in a.qmodels:
            LABEL[m] = LABEL[m].replace("ensemble=8", f"ensemble={a.ensemble}")
    a.datasets = [d for d in a.datasets.split(",") if d]
    a.speed_threads = [int(v) for v in a.speed_threads.split(",") if v]
    a.crop = tuple(int(v) for v in a.crop.split(",")) if a.crop else None
    a.model_file = {"fast": os.path.abspath(a.fast_weights) if a.fast_weights else "",
                    "cascnn": os.path.abspath(a.cascnn_weights) if a.cascnn_weights else ""}
    a.weights = {m: a.model_file[m] or os.path.join(REPO, "core", "models", f"casartifact-{m}.safetensors")
                 for m in ("fast", "cascnn")}
    # the docs' picture is written only by a run that writes the docs' report: a partial run with
    # --out elsewhere puts its picture beside its report
    if not a.picture:
        a.picture = ("/tmp/casartifact-q10-quick.png" if a.quick
                     else os.path.splitext(a.out)[0] + "-q10.png" if a.out
                     else os.path.join(REPO, "docs", "img", "casartifact-q10.png"))
    if not a.out:
        a.out = "/tmp/casartifact-bench-quick.md" if a.quick else os.path.join(REPO, "docs", "casartifact-bench.md")
    a.sweep_dir = a.sweep_dir or os.path.join(a.data, "bsds500", "val")
    if a.no_torch or a.no_blind:
        a.no_check = True
    if a.no_blind and not a.qmodels:
        ap.error("--no-blind needs --quality-set or --ensemble")
    return a


def main():
    args = parse_args()
    if args.spp_sweep:
        spp_sweep(args)
        return 0
    for tool in ("cjpeg", "djpeg", "gst-launch-1.0") + (() if args.no_spp else ("ffmpeg",)):
        if shutil.which(tool) is None:
            sys.exit(f"bench-casartifact: {tool} not found")
    env = dict(os.environ, GST_PLUGIN_PATH=args.plugin_path)
    so = os.path.join(args.plugin_path, "libgstdlic.so")
    notes = []
    for m in args.models:
        if not args.model_file[m] and os.path.exists(so) and os.path.getmtime(args.weights[m]) > os.path.getmtime(so):
            notes.append(f"WARNING: {args.weights[m]} is newer than {so}: the built-in {m} model may be "
                         f"stale (rebuild with ninja -C build)")
            log(notes[-1])
    t_start = time.time()
    load0 = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    store = {}
    all_res, all_times, nimgs = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-cas-") as tmp:
        for ds in args.datasets:
            paths = list_images(os.path.join(args.data, ds), QUICK.get(ds) if args.quick else None)
            if not paths:
                sys.exit(f"bench-casartifact: no images in {os.path.join(args.data, ds)}")
            nimgs[ds] = len(paths)
            all_res[ds], all_times[ds] = process_dataset(ds, paths, args, tmp, env, store)
    t_quality = time.time() - t_start

    checks = []
    if store.get("check") is not None:
        c = store["check"]
        try:
            checks += agreement_check(c, args)
        except ImportError as e:
            checks.append(f"agreement check skipped: {e}")
        checks.append(ssim_crosscheck(c["y"], c["jpeg"]))
        log(checks[-1])
    rows = [] if args.no_speed else speed(args)
    pic_line = None
    if "picture" in store:
        x0, y0 = picture(store["picture"], args, args.picture)
        pic_line = (f"![before/after]({os.path.relpath(args.picture, os.path.dirname(os.path.abspath(args.out)))})"
                    f"\n\nLIVE1 `{args.picture_image}`, Q{args.picture_q}, {args.crop_size}x{args.crop_size} crop "
                    f"at ({x0},{y0}) (the 8-aligned window with the largest JPEG error), shown x{args.zoom}.")
        log(f"picture: {args.picture}")
    else:
        log(f"picture skipped ({args.picture_image} at Q{args.picture_q} not in this run)")
    load1 = os.getloadavg()
    total = time.time() - t_start

    # ------------------------------------------------------------------ markdown
    md = ["# casartifact benchmark: JPEG artifact removal on LIVE1 / Classic5", ""]
    md.append(f"Generated by `pipelines/bench-casartifact.py {' '.join(sys.argv[1:])}` on {started}"
              f" in {total / 60:.1f} min ({t_quality / 60:.1f} min for the image runs).")
    if args.quick:
        md += ["", "**Quick smoke run on a subset of the images: the means are NOT comparable with the "
               "published full-set numbers.**"]
    md += ["", f"* Machine: {machine()}; load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
           f"at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}"]
    md.append(f"* {version(['gst-launch-1.0', '--version'])}; plugin `{args.plugin_path}`; "
              f"{version(['ffmpeg', '-version'])}; `{version(['cjpeg', '-version'])}`")
    for m in args.models:
        meta = st_meta(args.weights[m])
        src = f"model-file `{args.model_file[m]}`" if args.model_file[m] else "built-in (model=" + m + ")"
        md.append(f"* {LABEL[m]}: {src}; weights `{os.path.relpath(args.weights[m], REPO)}`: arch "
                  f"{meta.get('arch', '?')}, phase {meta.get('phase', '?') or '-'}, train_iter "
                  f"{meta.get('train_iter', '?')}, val_gain_db {meta.get('val_gain_db', '?')}")
    md.append(f"* Data: `{args.data}` " + ", ".join(f"{d} {nimgs[d]} images" for d in args.datasets))
    md += notes and [""] + [f"* {n}" for n in notes] or []
    md += ["", "## Protocol", "",
           "* Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255), uint8 (Classic5 is gray and used "
           "as is); JPEG = `cjpeg -baseline -quality Q -grayscale` of Y as PGM; decoded by `djpeg`.",
           "* GStreamer decodes with `jpegdec idct-method=islow`, checked bit-identical to djpeg on every "
           "(image, Q). (jpegdec's default `idct-method=ifast` is not: it differs by +-1 on ~1/3 of the pixels.)",
           "* casartifact runs once per image and Q: one `gst-launch-1.0` process each; the wall time includes "
           "process start, plugin and model loading and JPEG decoding (the 'vs jpegdec only' figure subtracts "
           "the same pipeline without casartifact). The forward-pass speed is in the speed table.",
           f"* FFmpeg spp: `spp=quality={SPP_QUALITY}:qp=QP` on the decoded gray image. QP per Q is hand-set "
           f"({', '.join(f'Q{q}: {v}' for q, v in sorted(SPP_QP.items()))}) from a quick PSNR sweep "
           "(`--spp-sweep`, qp 1..32) on 4 bsds500/val images, not on the benchmark images (a sweep on 4 "
           "LIVE1 images picks 16 / 10 / 6, within 0.02 dB).",
           "* PSNR: 8-bit, MAX 255. SSIM: Wang et al. 2004 as in `ssim_index.m` (11x11 Gaussian, sigma 1.5, "
           "K1 0.01, K2 0.03, mean over the 'valid' region, no down-sampling), = skimage "
           "`structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, "
           "data_range=255)`, = `core/train/eval.py`. Not MATLAB's built-in `ssim()` (replicate padding).",
           "* PSNR-B: Yim & Bovik, IEEE TIP 2011: 10 log10(255^2 / (MSE + BEF)), BEF of the tested image with "
           "8x8 blocks, eta = log2 8 / log2 min(H, W), BEF = 0 when boundary differences do not exceed "
           "the others. Per image, then the mean.",
           "* All means are over images. Published rows are copied from the papers (PSNR only)."]
    md += ["", "## Quality", ""]
    for ds in args.datasets:
        md += dataset_table(ds, all_res[ds], all_times[ds], args, nimgs[ds]) + [""]
    if RawSizeNote.padded:
        md.append("Raw GRAY8 output of filesink is row-padded to a multiple of 4 bytes for widths "
                  + ", ".join(str(w) for w in sorted({w for w, _ in RawSizeNote.padded}))
                  + " (GStreamer's default stride); the script strips the padding.")
        md.append("")
    if rows:
        md += ["## Speed", "",
               f"`tests/bench-artifact WEIGHTS W H THREADS {args.speed_runs}` (C forward pass on one plane, "
               f"best of {args.speed_runs}) vs "
               + ("PyTorch: skipped (--no-torch)" if args.no_torch else f"PyTorch {torch_mod().__version__} CPU inference of the same "
               f"weights (`torch.set_num_threads(N)`, `torch.no_grad()`, best of {args.speed_runs}, "
               "no padding: the sizes are multiples of 8)."), ""]
        md += speed_table(rows) + [""]
    md += ["## Targets", ""] + targets(all_res, rows, args) + [""]
    if args.quick:
        md += ["(Quick run: the quality targets above are computed on the subset only.)", ""]
    if checks:
        md += ["## Checks", ""] + [f"* {c}" for c in checks] + [""]
    if pic_line:
        md += ["## Before / after", "", pic_line, ""]
    md += ["## Commands", "", "```sh",
           "Y=y.pgm  # luma of the test image",
           "cjpeg -baseline -quality $Q -grayscale -outfile y.jpg $Y",
           "djpeg -pnm -outfile jpeg.pgm y.jpg",
           "GST_PLUGIN_PATH=build/gst gst-launch-1.0 -q filesrc location=y.jpg ! jpegdec idct-method=islow ! "
           "video/x-raw,format=GRAY8 ! filesink location=dec.gray",
           f"GST_PLUGIN_PATH=build/gst gst-launch-1.0 -q filesrc location=y.jpg ! jpegdec idct-method=islow ! "
           f"casartifact model=$M n-threads={args.threads} ! video/x-raw,format=GRAY8 ! filesink location=out.gray",
           f"ffmpeg -nostdin -i jpeg.pgm -vf spp=quality={SPP_QUALITY}:qp=$QP -c:v pgm -pix_fmt gray -f image2 spp.pgm",
           f"build/tests/bench-artifact core/models/casartifact-fast.safetensors 1280 720 $THREADS {args.speed_runs}",
           f"build/tests/bench-artifact core/models/casartifact-cascnn.safetensors 768 512 $THREADS {args.speed_runs}",
           "```", ""]
    text = "\n".join(md)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    log(f"wrote {args.out}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": {ds: {str(q): v for q, v in r.items()} for ds, r in all_res.items()},
                       "times": all_times, "speed": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
