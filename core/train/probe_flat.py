"""Probe: how a dlic model codes flat content (flat colours, a letterboxed picture, a graphic).

  /usr/bin/python3 core/train/probe_flat.py core/models/dlic-codec.safetensors [--t 0,3,6]

Natural training crops hardly ever hold an exactly flat area, so the codec may never have learnt
to code one: this prints, per test picture and knob t, the RGB PSNR, the mean error per channel
(a colour cast shows as a non-zero mean) and the proxy bpp. The pictures come from
dlic_data.flat_set() (synthetic, plus bsds500/val pictures with black bars and a flat panel),
the same set train_dlic.py --flat-val reports on.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data  # noqa: E402
from export_dlic import load_dlic  # noqa: E402
from train_dlic import code_image  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help=".pt checkpoint or .safetensors")
    ap.add_argument("--t", default="0,3,6")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_dlic(args.model)
    model.eval()
    ts = [float(v) for v in args.t.split(",")]
    print(f"{args.model}: {model.meta()}")
    print("| picture | t | PSNR (dB) | mean error R, G, B (flat area) | max abs error (flat area) | proxy bpp |")
    print("|---|---:|---:|---|---:|---:|")
    for name, img, mask in dlic_data.flat_set():
        for t in ts:
            out, bpp, _, _ = code_image(model, img, t)
            d = out.astype(np.float64) - img
            p = dlic_data.psnr_rgb(out, img)
            me = d[mask].mean(axis=0)
            print(f"| {name} | {t:g} | {p:.2f} | {me[0]:+.2f}, {me[1]:+.2f}, {me[2]:+.2f} | "
                  f"{np.abs(d[mask]).max():.0f} | {bpp:.3f} |", flush=True)


if __name__ == "__main__":
    main()
