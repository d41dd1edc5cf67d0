"""Probe: how much would encoder-side latent refinement buy the dlic codec?

  /usr/bin/python3 core/train/probe_refine.py core/models/dlic-codec.safetensors --crop 256 --iters 60

For a fixed, trained model (decoder and rate tables frozen), optimise the encoder's outputs z = (y, h)
of one picture directly on  lambda(t) * MSE + bits / pixels  (the training loss, same straight-through
quantiser and rate proxy) with Adam, then quantise hard and measure RGB PSNR and proxy bpp of the
integer code, before and after.  The encoder network's amortisation gap is the difference: what an
iterative encoder (a slower `effort` mode) could gain without changing the bitstream or the decoder.
Prints, per image and t, PSNR / bpp before and after and the PSNR change at equal rate
(linear in log bpp between the before-points of neighbouring t).

Crops from Kodak-like test pictures only measure; nothing here trains a model.
"""
import argparse
import glob
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data  # noqa: E402
from dlic_model import lerp  # noqa: E402
from export_dlic import load_dlic  # noqa: E402
from train_dlic import DEFAULT_LAMBDAS  # noqa: E402


class Frozen(torch.nn.Module):
    """The training forward of DLIC with the encoder output z given (a parameter)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, z, t):
        m = self.m
        m.enc.forward = lambda x: z          # reuse DLIC.forward with z in place of enc(x)
        try:
            return m.forward(torch.zeros(1, 3, 8 * z.shape[2], 8 * z.shape[3]), t)
        finally:
            del m.enc.forward


@torch.no_grad()
def code(model, z, t):
    C = model.C
    tt = torch.full((1,), float(t))
    y, h = z[:, :C], z[:, C]
    g, gi, a, b = model.rate_params(tt)
    k = model.levels(model.heat(h, a, b))
    idx, _ = model.quantize_hard(y * g[:, :, None, None])
    coded = torch.arange(C).view(1, -1, 1, 1) < k[:, None]
    idx = torch.where(coded, idx, torch.full_like(idx, -1))
    sb, ib = model.proxy_bits(idx, k, t)
    return model.decode(idx, k, t), float(sb[0] + ib[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                   "shared", "data", "kodak"))
    ap.add_argument("--images", default="kodim01,kodim05,kodim15,kodim23")
    ap.add_argument("--crop", type=int, default=256, help="centre crop (at most the picture's "
                    "smaller side rounded down to a multiple of 8)")
    ap.add_argument("--ts", default="0,3,6")
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--lambdas", default=DEFAULT_LAMBDAS)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_dlic(args.model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    log_lam = torch.log(torch.tensor([float(v) for v in args.lambdas.split(",")]))
    fz = Frozen(model)
    ts = [float(v) for v in args.ts.split(",")]
    rows = []
    for name in args.images.split(","):
        img = dlic_data.load_rgb(glob.glob(os.path.join(args.data, name + ".*"))[0])
        H, W = img.shape[:2]
        c = min(args.crop, H // 8 * 8, W // 8 * 8)
        y0, x0 = (H - c) // 2, (W - c) // 2
        img = np.ascontiguousarray(img[y0:y0 + c, x0:x0 + c])
        x = torch.from_numpy(dlic_data.pad_to(img, 8))
        with torch.no_grad():
            z0 = model.enc(x)
        for t in ts:
            tt = torch.full((1,), t)
            lam = float(torch.exp(lerp(log_lam, tt)))
            out, bits = code(model, z0, t)
            p0 = dlic_data.psnr_rgb(dlic_data.to_uint8(out.numpy(), c, c), img)
            b0 = bits / (c * c)
            z = z0.clone().requires_grad_(True)
            opt = torch.optim.Adam([z], lr=args.lr)
            t1 = time.time()
            best = (lam * 255.0 ** 2 * 10 ** (-p0 / 10) + b0, z0.clone())
            for it in range(args.iters):
                xhat, b, _ = fz(z, tt)
                loss = lam * ((xhat - x) ** 2).mean() * 255.0 ** 2 + b[0] / (c * c)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if (it + 1) % 10 == 0:
                    out, bits = code(model, z.detach(), t)
                    p = dlic_data.psnr_rgb(dlic_data.to_uint8(out.numpy(), c, c), img)
                    j = lam * 255.0 ** 2 * 10 ** (-p / 10) + bits / (c * c)
                    if j < best[0]:
                        best = (j, z.detach().clone())
            out, bits = code(model, best[1], t)
            p1 = dlic_data.psnr_rgb(dlic_data.to_uint8(out.numpy(), c, c), img)
            b1 = bits / (c * c)
            rows.append((name, t, p0, b0, p1, b1))
            print(f"{name} t={t:g}: before {p0:.2f} dB {b0:.3f} bpp | after {p1:.2f} dB {b1:.3f} bpp "
                  f"| {time.time() - t1:.0f} s", flush=True)
    # PSNR change at equal rate: per image, the before-curve over t, interpolated in log bpp
    gains, rates = [], []
    for name in args.images.split(","):
        r = [v for v in rows if v[0] == name]
        bb = np.log([v[3] for v in r])
        pb = [v[2] for v in r]
        o = np.argsort(bb)
        for v in r:
            lb = math.log(v[5])
            if bb[o][0] <= lb <= bb[o][-1]:
                gains.append(v[4] - float(np.interp(lb, bb[o], np.asarray(pb)[o])))
            rates.append(v[5] / v[3] - 1)
    print(f"mean PSNR change at equal rate (points inside the curve): {np.mean(gains):+.2f} dB "
          f"over {len(gains)} points; mean rate change {100 * np.mean(rates):+.1f} %")


if __name__ == "__main__":
    main()
