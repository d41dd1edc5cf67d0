"""Probe: geometric self-ensemble (8 flips/transposes, averaged) for JPEG artifact removal.

  /usr/bin/python3 core/train/probe_ensemble.py --model core/models/casartifact-cascnn-q20.safetensors \
      --q 20 --n 10

On bsds500/val (never the benchmarks): the plane is padded to the 8x8 grid first, so every
flip/transpose of the padded plane keeps the JPEG block grid where the network expects it
(training applied the same 8 transforms to grid-aligned crops). Prints the mean PSNR of JPEG,
one pass and the 8-way mean, and the gain of the ensemble.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpegdata  # noqa: E402
from export import load_model  # noqa: E402
from train_casartifact import psnr  # noqa: E402


@torch.no_grad()
def run(model, x):
    """float32 (H, W) in [0, 1], H and W multiples of 8 -> float32 (H, W)."""
    return model(torch.from_numpy(np.ascontiguousarray(x))[None, None])[0, 0].numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--q", type=int, default=20)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = load_model(a.model)
    model.eval()
    clean, deg = jpegdata.load_split("val", [a.q])
    idx = np.linspace(0, len(clean) - 1, a.n).round().astype(int)
    pj, p1, p8 = [], [], []
    t0 = time.time()
    for k in idx:
        y = deg[a.q][k]
        H, W = y.shape
        x = np.pad(y, ((0, (-H) % 8), (0, (-W) % 8)), mode="edge").astype(np.float32) / 255.0
        outs = []
        for tr in range(2):
            for rot in range(4):
                v = np.rot90(x.T if tr else x, rot)
                o = np.rot90(run(model, v), -rot)
                outs.append(o.T if tr else o)
        q8 = lambda o: np.clip(np.round(o[:H, :W] * 255.0), 0, 255).astype(np.uint8)
        pj.append(psnr(y, clean[k]))
        p1.append(psnr(q8(outs[0]), clean[k]))
        p8.append(psnr(q8(np.mean(outs, axis=0)), clean[k]))
        print(f"img {k}: jpeg {pj[-1]:.3f} one {p1[-1]:.3f} x8 {p8[-1]:.3f} ({time.time() - t0:.0f} s)",
              flush=True)
    print(f"Q{a.q} n={len(idx)}: jpeg {np.mean(pj):.3f} one pass {np.mean(p1):.3f} (+{np.mean(p1) - np.mean(pj):.3f})"
          f" x8 {np.mean(p8):.3f} (+{np.mean(p8) - np.mean(pj):.3f}); ensemble gain {np.mean(p8) - np.mean(p1):+.3f} dB")


if __name__ == "__main__":
    main()
