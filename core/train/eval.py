"""Evaluate JPEG artifact removal on a directory of images (luma protocol): mean PSNR/SSIM of
JPEG vs restored for Q in {10, 20, 40}.

  /usr/bin/python3 core/train/eval.py --model /work/runs/casartifact/cascnn/best.pt \
      --dir /work/shared/data/live1 [--q 10,20,40] [--per-image]
  /usr/bin/python3 core/train/eval.py --dir /work/shared/data/classic5      # JPEG baseline only

Y = MATLAB-style BT.601 luma of RGB images (gray 'L' images are used as is); degraded =
baseline grayscale JPEG at quality Q (libjpeg, identical to cjpeg -baseline -grayscale).
SSIM: Wang et al. 2004, 11x11 Gaussian window sigma 1.5, K1 0.01, K2 0.03, L 255, 'valid' region
(same as the reference ssim_index.m). Benchmarks are for evaluation only: never tune on them.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch
from PIL import Image
from scipy.signal import convolve2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpegdata  # noqa: E402
from export import load_model  # noqa: E402
from train_casartifact import psnr, restore  # noqa: E402


def _gauss(n=11, sigma=1.5):
    g = np.exp(-((np.arange(n) - (n - 1) / 2) ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g)
    return w / w.sum()


def ssim(a, b):
    """Mean SSIM of two uint8 (H, W) images."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    w = _gauss()
    f = lambda z: convolve2d(z, w, mode="valid")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = f(a), f(b)
    va, vb, cov = f(a * a) - ma ** 2, f(b * b) - mb ** 2, f(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return float(s.mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--model", default="", help=".pt checkpoint or .safetensors (empty: JPEG only)")
    ap.add_argument("--q", default="10,20,40")
    ap.add_argument("--per-image", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model) if args.model else None
    mult = int(model.meta()["multiple"]) if model else 8
    paths = sorted(p for e in ("png", "bmp", "jpg", "tif") for p in glob.glob(f"{args.dir}/*.{e}"))
    ys = [(os.path.basename(p), jpegdata.rgb_to_y(Image.open(p))) for p in paths]
    print(f"{args.dir}: {len(ys)} images, model {args.model or '-'}")
    for q in [int(v) for v in args.q.split(",")]:
        r = []
        for name, y in ys:
            j = jpegdata.jpeg_gray(y, q)
            row = [psnr(j, y), ssim(j, y)]
            if model:
                o = restore(model, j, mult)
                row += [psnr(o, y), ssim(o, y)]
            r.append(row)
            if args.per_image:
                print(f"  Q{q} {name}: " + " ".join(f"{v:.4f}" for v in row), flush=True)
        m = np.mean(r, 0)
        s = f"Q{q}: JPEG {m[0]:.2f} dB / {m[1]:.4f}"
        if model:
            s += f" | restored {m[2]:.2f} dB / {m[3]:.4f} | gain {m[2] - m[0]:+.2f} dB {m[3] - m[1]:+.4f}"
        print(s, flush=True)


if __name__ == "__main__":
    main()
