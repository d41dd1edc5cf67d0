"""Probe: does the importance map vary over the picture? Per rate knob t, on bsds500/val.

  /usr/bin/python3 core/train/probe_importance.py core/models/dlic-codec.safetensors [--n 8]
  /usr/bin/python3 core/train/probe_importance.py /work/runs/dlic/s9i/last.pt --ema

For each t: the mean number of coded channels k, its spread over the latent locations of a
picture (standard deviation, mean over pictures), the share of locations whose k differs from the
picture's most common k, and the correlation between k and the local detail (the standard
deviation of the 8x8 luma block under each location). A collapsed map (k the same everywhere at a
given t) has spread ~0; a working one codes more channels where there is detail.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data  # noqa: E402
from dlic_model import model_from_meta  # noqa: E402


def load(path, ema):
    if path.endswith(".safetensors"):
        from export_dlic import load_dlic
        return load_dlic(path)
    d = torch.load(path, map_location="cpu")
    m = model_from_meta(d["meta"])
    sd = d["model"]
    if ema:
        assert "ema" in d, f"{path} holds no EMA weights"
        sd = dict(sd, **d["ema"])
    m.load_state_dict(sd)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ema", action="store_true", help="use the checkpoint's averaged weights")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--scale", type=float, default=0.75)
    ap.add_argument("--ts", default="0,3,6")
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = load(a.model, a.ema).eval()
    vall = dlic_data.load_set("val", (a.scale,))
    imgs = [vall[i] for i in np.linspace(0, len(vall) - 1, a.n).round().astype(int)]
    print(f"{a.model}{' (EMA)' if a.ema else ''}: {a.n} bsds500/val pictures at x{a.scale}")
    print("   t | mean k | spread of k | k != mode | corr(k, detail)")
    for t in [float(v) for v in a.ts.split(",")]:
        mk, sd, off, cr = [], [], [], []
        for img in imgs:
            x = torch.from_numpy(dlic_data.pad_to(img, 8))
            _, k = m.encode(x, t)
            k = k[0].numpy().astype(np.float64)
            hh, ww = k.shape
            y = (0.299 * x[0, 0] + 0.587 * x[0, 1] + 0.114 * x[0, 2]).numpy()
            det = y[:hh * 8, :ww * 8].reshape(hh, 8, ww, 8).std(axis=(1, 3))
            mk.append(k.mean())
            sd.append(k.std())
            vals, counts = np.unique(k, return_counts=True)
            off.append(1.0 - counts.max() / k.size)
            cr.append(np.corrcoef(k.ravel(), det.ravel())[0, 1] if k.std() > 0 else 0.0)
        print(f"{t:4g} | {np.mean(mk):6.2f} | {np.mean(sd):11.3f} | {100 * np.mean(off):8.1f}% | {np.mean(cr):+.3f}")


if __name__ == "__main__":
    main()
