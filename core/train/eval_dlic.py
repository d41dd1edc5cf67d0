"""Evaluate a dlic codec (checkpoint .pt or exported .safetensors) on Kodak (or any image folder).

  /usr/bin/python3 core/train/eval_dlic.py /work/runs/dlic/base/best.pt                 # t = 0..R-1
  /usr/bin/python3 core/train/eval_dlic.py best.pt --target-bpp 0.25,0.5,0.75,1.0     # bisection on t

Every image is padded bottom/right (edge replication) to a multiple of 8, encoded to integers
(symbol indices + importance levels), decoded from those integers only, cropped back, rounded to
uint8. PSNR is on RGB per image (all three planes), then the mean over images (the compression
protocol of /work/shared/data/README.md). bpp = bits / (true width x height) with
  proxy bpp     : the model's static tables (the training rate proxy),
  two-pass bpp  : per image, per channel empirical entropy of the coded indices + empirical entropy
                  of the importance levels (no side information: a rough stand-in for what an adaptive
                  coder without contexts reaches; a context-adaptive coder should do better).
No real bitstream exists yet (the arithmetic coder is written in C), so these are estimates.
With --target-bpp, t is bisected per image until the proxy bpp is within 0.5 % of the target (or 14
steps), as the encoder's target-bpp property will do. On Kodak, PSNR at 0.25/0.5/0.75/1.0 bpp is set
beside JPEG 4:2:0, WebP and JPEG 2000 from design-facts, and a BD-rate vs JPEG is given when all four
targets are run.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data  # noqa: E402
from dlic_model import empirical_bits  # noqa: E402
from export_dlic import load_dlic  # noqa: E402

# design-facts.md section 1 (Kodak, PSNR RGB mean of per-image PSNR) at 0.25 / 0.5 / 0.75 / 1.0 bpp
REF = {"JPEG 4:2:0": [26.53, 29.61, 31.46, 32.88], "WebP": [28.59, 31.47, 33.60, 35.26],
       "JPEG 2000": [29.27, 32.19, 34.32, 36.00], "Balle2018 factorized": [29.15, 31.83, 33.84, 35.58]}
REF_BPP = [0.25, 0.5, 0.75, 1.0]


def bd_rate(r1, p1, r2, p2):
    """Bjontegaard delta rate (%) of curve 2 vs curve 1 (log-rate vs PSNR, monotone cubic, common range)."""
    from scipy.interpolate import PchipInterpolator
    lo, hi = max(min(p1), min(p2)), min(max(p1), max(p2))
    if hi <= lo:
        return float("nan")
    o1, o2 = np.argsort(p1), np.argsort(p2)
    f1 = PchipInterpolator(np.asarray(p1)[o1], np.log(np.asarray(r1))[o1])
    f2 = PchipInterpolator(np.asarray(p2)[o2], np.log(np.asarray(r2))[o2])
    x = np.linspace(lo, hi, 1000)
    return float((np.exp(np.mean(f2(x) - f1(x))) - 1) * 100)


@torch.no_grad()
def run(model, img, t, decode=True):
    H, W = img.shape[:2]
    x = torch.from_numpy(dlic_data.pad_to(img, 8))
    idx, k = model.encode(x, t)
    sb, ib = model.proxy_bits(idx, k, t)
    res = {"t": float(t), "bpp": float(sb[0] + ib[0]) / (H * W), "imp_bpp": float(ib[0]) / (H * W),
           "mean_k": float(k.float().mean())}
    if decode:
        out = dlic_data.to_uint8(model.decode(idx, k, t).numpy(), H, W)
        res["psnr"] = dlic_data.psnr_rgb(out, img)
        res["bpp_2pass"] = empirical_bits(idx[0], k[0], model.L, model.C) / (H * W)
    return res


def bisect(model, img, target, R, steps=14):
    lo, hi = 0.0, float(R - 1)
    r_lo = run(model, img, lo, False)
    if r_lo["bpp"] >= target:
        return run(model, img, lo)
    r_hi = run(model, img, hi, False)
    if r_hi["bpp"] <= target:
        return run(model, img, hi)
    t = 0.5 * (lo + hi)
    for _ in range(steps):
        t = 0.5 * (lo + hi)
        b = run(model, img, t, False)["bpp"]
        if abs(b - target) <= 0.005 * target:
            break
        lo, hi = (t, hi) if b < target else (lo, t)
    return run(model, img, t)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help=".pt checkpoint or .safetensors")
    ap.add_argument("--dir", default=dlic_data.KODAK)
    ap.add_argument("--t", default="", help="comma list of rate-knob values (default 0..R-1)")
    ap.add_argument("--target-bpp", default="", help="comma list: bisect t per image to these proxy bpp")
    ap.add_argument("--n", type=int, default=0, help="only the first N images")
    ap.add_argument("--json", default="", help="write per-image results here")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_dlic(args.model)
    R = model.R
    paths = sorted(glob.glob(os.path.join(args.dir, "*.png")) + glob.glob(os.path.join(args.dir, "*.jpg")))
    if args.n:
        paths = paths[:args.n]
    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    print(f"{args.model}: {model.meta()} | {len(imgs)} images from {args.dir}")
    out = {"model": args.model, "meta": model.meta(), "points": [], "targets": []}
    t0 = time.time()
    if args.target_bpp:
        targets = [float(v) for v in args.target_bpp.split(",")]
        print("| target bpp | proxy bpp | two-pass bpp | PSNR (dB) | mean t |")
        print("|---:|---:|---:|---:|---:|")
        for tb in targets:
            rs = [bisect(model, im, tb, R) for im in imgs]
            m = {k: float(np.mean([r[k] for r in rs])) for k in ("bpp", "bpp_2pass", "psnr", "t")}
            out["targets"].append({"target": tb, "mean": m, "images": rs})
            print(f"| {tb:.3f} | {m['bpp']:.4f} | {m['bpp_2pass']:.4f} | {m['psnr']:.2f} | {m['t']:.3f} |",
                  flush=True)
        if "kodak" in args.dir and len(imgs) == 24:
            got = {round(e["target"], 3): e["mean"] for e in out["targets"]}
            if all(b in got for b in REF_BPP):
                ps = [got[b]["psnr"] for b in REF_BPP]
                rb = [got[b]["bpp"] for b in REF_BPP]
                print("\n| codec | @0.25 | @0.50 | @0.75 | @1.00 | BD-rate vs JPEG |")
                print("|---|---:|---:|---:|---:|---:|")
                for name, p in REF.items():
                    print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in p) +
                          f" | {bd_rate(REF_BPP, REF['JPEG 4:2:0'], REF_BPP, p):+.1f}% |")
                print("| dlic (proxy bpp) | " + " | ".join(f"{v:.2f}" for v in ps) +
                      f" | {bd_rate(REF_BPP, REF['JPEG 4:2:0'], rb, ps):+.1f}% |")
    else:
        ts = [float(v) for v in args.t.split(",")] if args.t else [float(i) for i in range(R)]
        print("| t | proxy bpp | (importance) | two-pass bpp | mean k | PSNR (dB) |")
        print("|---:|---:|---:|---:|---:|---:|")
        for t in ts:
            rs = [run(model, im, t) for im in imgs]
            m = {k: float(np.mean([r[k] for r in rs])) for k in ("bpp", "imp_bpp", "bpp_2pass", "mean_k", "psnr")}
            out["points"].append({"t": t, "mean": m, "images": rs})
            print(f"| {t:g} | {m['bpp']:.4f} | {m['imp_bpp']:.4f} | {m['bpp_2pass']:.4f} | {m['mean_k']:.1f} | "
                  f"{m['psnr']:.2f} |", flush=True)
        if "kodak" in args.dir and len(imgs) == 24 and len(ts) > 1:
            b = np.array([p["mean"]["bpp"] for p in out["points"]])
            p = np.array([p["mean"]["psnr"] for p in out["points"]])
            o = np.argsort(b)
            at = [float(np.interp(np.log(x), np.log(b[o]), p[o], left=np.nan, right=np.nan)) for x in REF_BPP]
            print("\nPSNR of the mean curve interpolated at 0.25/0.5/0.75/1.0 bpp (nan: outside): "
                  + " / ".join(f"{v:.2f}" for v in at) + "   JPEG 4:2:0: "
                  + " / ".join(f"{v:.2f}" for v in REF["JPEG 4:2:0"]))
    print(f"time {time.time() - t0:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
