"""Probe: project the restored picture onto the JPEG quantisation constraint set (QCS).

  /usr/bin/python3 core/train/probe_qcs.py --model core/models/casartifact-cascnn-q10.safetensors --q 10 --n 10

The clean picture's 8x8 DCT coefficients lie in [(k - 1/2) Q, (k + 1/2) Q], where k are the
coefficients the JPEG stored and Q its quantisation table (libjpeg's standard luminance table at
quality q; the JPEG DCT with its 1/4 C(u) C(v) factors is the orthonormal one). Clamping the
network output's coefficients into those intervals is a projection onto a convex set that holds
the clean picture, so it cannot move the output away from it (up to libjpeg's integer DCT and the
8-bit rounding of the decoded JPEG, from which k is read back). On bsds500/val (never the
benchmarks): JPEG made here with jpegdata.jpeg_gray (so the table's orientation is known), the
model output with the file's strength at q, full 8x8 blocks only. Prints PSNR of JPEG, the output
and the projected output, and how many coefficients the projection moved.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from scipy.fft import dctn, idctn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpegdata  # noqa: E402
from export import load_model, read_safetensors  # noqa: E402
from train_casartifact import psnr  # noqa: E402

STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64).reshape(8, 8)


def quant_table(q):
    """libjpeg jpeg_quality_scaling + jpeg_add_quant_table(force_baseline=TRUE)."""
    s = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((STD_LUMA * s + 50) // 100, 1, 255).astype(np.float64)


def blocks(img):
    """(H, W) -> (H/8, W/8, 8, 8) view of the full blocks."""
    h, w = img.shape[0] // 8 * 8, img.shape[1] // 8 * 8
    return img[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3), h, w


def project(out, jpeg, Q):
    """out, jpeg: float (H, W) in 0..255 -> projected out, fraction of coefficients moved."""
    bj, h, w = blocks(jpeg - 128.0)
    bo, _, _ = blocks(out - 128.0)
    k = np.round(dctn(bj, axes=(2, 3), norm="ortho") / Q)
    c = dctn(bo, axes=(2, 3), norm="ortho")
    lo, hi = (k - 0.5) * Q, (k + 0.5) * Q
    cp = np.clip(c, lo, hi)
    moved = float(np.mean(cp != c))
    r = idctn(cp, axes=(2, 3), norm="ortho") + 128.0
    res = out.copy()
    res[:h, :w] = r.transpose(0, 2, 1, 3).reshape(h, w)
    return res, moved


def strength(path, q):
    _, meta = read_safetensors(path)
    tab = meta.get("quality_strength", "")
    pts = sorted((int(a), float(b)) for a, b in (p.split(":") for p in tab.split(",") if p))
    if not pts:
        return 1.0
    qs, ss = zip(*pts)
    return float(np.interp(q, qs, ss))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--q", type=int, default=10)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = load_model(a.model)
    model.eval()
    st = strength(a.model, a.q)
    Q = quant_table(a.q)
    clean, _ = jpegdata.load_split("val", [a.q])
    idx = np.linspace(0, len(clean) - 1, a.n).round().astype(int)
    pj, po, pp, mv = [], [], [], []
    t0 = time.time()
    for i in idx:
        y = clean[i]
        x = jpegdata.jpeg_gray(y, a.q).astype(np.float64)
        H, W = x.shape
        xp = np.pad(x, ((0, (-H) % 8), (0, (-W) % 8)), mode="edge").astype(np.float32) / 255.0
        with torch.no_grad():
            m = model(torch.from_numpy(xp)[None, None])[0, 0].numpy()[:H, :W].astype(np.float64) * 255.0
        o = x + st * (m - x)
        p, moved = project(o, x, Q)
        q8 = lambda v: np.clip(np.round(v), 0, 255).astype(np.uint8)
        pj.append(psnr(q8(x), y))
        po.append(psnr(q8(o), y))
        pp.append(psnr(q8(p), y))
        mv.append(moved)
        print(f"img {i}: jpeg {pj[-1]:.3f} out {po[-1]:.3f} projected {pp[-1]:.3f} "
              f"({100 * moved:.1f}% of coefficients moved, {time.time() - t0:.0f} s)", flush=True)
    print(f"Q{a.q} n={len(idx)} strength {st:.3f}: jpeg {np.mean(pj):.3f} out {np.mean(po):.3f} "
          f"projected {np.mean(pp):.3f}; projection {np.mean(pp) - np.mean(po):+.4f} dB, "
          f"{100 * np.mean(mv):.1f}% of coefficients moved")


if __name__ == "__main__":
    main()
