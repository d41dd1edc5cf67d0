"""Probe: where does a dlic model lose quality, the transform or the quantiser?

  /usr/bin/python3 core/train/probe_ceiling.py core/models/dlic-codec.safetensors --t 0,3,6

For each rate knob t, on bsds500/val pictures (every 12th, at --scale), decodes
  coded        the integer code as the codec sends it (rounded, clipped to -K..K, masked by k)
  unclipped    rounded but not clipped (what more quantiser levels would give the same decoder)
  unquantised  the encoder's scaled latents, masked by k but not rounded: the autoencoder's ceiling
and prints RGB PSNR, the clipped fraction of coded latents and the empirical entropy (bits per pixel,
one histogram per channel, no context) of the coded and unclipped symbols.  Nothing here trains.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data  # noqa: E402
from export_dlic import load_dlic  # noqa: E402


def entropy_bits(q, coded, L):
    """q (N,C,h,w) long in [0, L), coded (N,C,h,w) bool -> sum over channels of n * H(histogram)."""
    b = 0.0
    for c in range(q.shape[1]):
        v = q[:, c][coded[:, c]]
        if v.numel() == 0:
            continue
        h = torch.bincount(v.flatten(), minlength=L).double()
        p = h[h > 0] / h.sum()
        b += float(-(h[h > 0] * torch.log2(p)).sum())
    return b


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help=".pt checkpoint or .safetensors")
    ap.add_argument("--t", default="", help="rate knob values (default: 0, middle, last)")
    ap.add_argument("--scale", type=float, default=0.75)
    ap.add_argument("--every", type=int, default=12, help="use every N-th bsds500/val picture")
    args = ap.parse_args()
    torch.set_num_threads(1)
    m = load_dlic(args.model)
    R = m.R
    ts = [float(v) for v in args.t.split(",")] if args.t else [0.0, (R - 1) / 2, float(R - 1)]
    imgs = dlic_data.load_set("val", (args.scale,))[::args.every]
    wide = 4 * m.K + 1 if m.quant == "uniform" else m.L        # unclipped range for the histograms
    print(f"{args.model}: L = {m.L}, {len(imgs)} bsds500/val pictures at scale {args.scale}")
    print("   t | coded dB  bpp    | clipped | unclipped dB  bpp   | unquantised dB | mean k")
    for t in ts:
        acc = np.zeros(7)
        for img in imgs:
            H, W = img.shape[:2]
            x = torch.from_numpy(dlic_data.pad_to(img, 8))
            z = m.enc(x)
            y, h = z[:, :m.C], z[:, m.C]
            g, gi, a, b = m.rate_params(torch.full((1,), t))
            k = m.levels(m.heat(h, a, b))
            s = y * g[:, :, None, None]
            coded = torch.arange(m.C).view(1, -1, 1, 1) < k[:, None]
            gi = gi[:, :, None, None]

            def psnr(v):
                return dlic_data.psnr_rgb(dlic_data.to_uint8(m.dec(v * coded * gi).numpy(), H, W), img)

            _, hard = m.quantize_hard(s)
            row = [psnr(hard), 0.0, 0.0, np.nan, np.nan, psnr(s), float(k.float().mean())]
            if m.quant == "uniform":
                qi, _ = m.quantize_hard(s)
                row[1] = entropy_bits(qi, coded, m.L) / (H * W)
                row[2] = float(((s.abs() > m.K + 0.5) & coded).sum()) / max(1, int(coded.sum()))
                r = torch.clamp(torch.round(s), -(wide // 2), wide // 2)
                row[3] = psnr(r)
                row[4] = entropy_bits((r + wide // 2).long(), coded, wide) / (H * W)
            acc += np.array(row)
        r = acc / len(imgs)
        print(f"{t:4g} | {r[0]:7.3f} {r[1]:6.4f} | {r[2]:7.4f} | {r[3]:9.3f} {r[4]:6.4f}   | "
              f"{r[5]:10.3f}     | {r[6]:5.1f}")


if __name__ == "__main__":
    main()
