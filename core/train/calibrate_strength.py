"""Measure, per JPEG quality, how much of a blind artifact-removal model's correction to apply,
and store the table in the model file (metadata "quality_strength"), for casartifact's
`quality` property.

  /usr/bin/python3 core/train/calibrate_strength.py core/models/casartifact-fast.safetensors \
      [--q 10,20,30,40,50,60,70,80,90,95,100] [--n 20] [--write]

For each quality Q, on --n bsds500/val images (luma, baseline grayscale JPEG at Q): with x the
decoded JPEG, m the model output (float, before rounding) and y the clean luma, the strength
a = sum((y - x)(m - x)) / sum((m - x)^2), the least-squares scale of the correction, clipped to
[0, 1.5]; below 0.05, or where the scaled output is not better than the JPEG on these images,
it is stored as 0 (casartifact then passes frames through without running the network). The element applies x + a(Q)(m - x), linear in Q between the table's points.
Inside the trained range (Q 10..60) a is close to 1; above it the blind model over-smooths and a
falls. Prints PSNR of JPEG, of the full correction and of the scaled one. bsds500/val is never
used for training, and the benchmarks (LIVE1, Classic5) are not touched.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpegdata  # noqa: E402
from export import load_model  # noqa: E402

VAL = "/work/shared/data/bsds500/val"


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def model_float(model, x, multiple):
    """uint8 (H, W) -> float (H, W) model output in 0..255 units, unrounded."""
    H, W = x.shape
    ph, pw = (-H) % multiple, (-W) % multiple
    xp = np.pad(x, ((0, ph), (0, pw)), mode="edge").astype(np.float32) / 255.0
    with torch.no_grad():
        out = model(torch.from_numpy(xp)[None, None])[0, 0, :H, :W].numpy()
    return out.astype(np.float64) * 255.0


def set_metadata(path, key, value):
    """Rewrite the safetensors header with metadata key=value; tensor bytes stay as they are."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.setdefault("__metadata__", {})[key] = value
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((-len(hb)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="exported .safetensors")
    ap.add_argument("--q", default="10,20,30,40,50,60,70,80,90,95,100")
    ap.add_argument("--n", type=int, default=20, help="number of bsds500/val images (evenly spaced)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="store the table in the model file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model = load_model(args.model)
    model.eval()
    multiple = int(model.meta()["multiple"])
    paths = jpegdata.list_images([VAL])
    idx = np.linspace(0, len(paths) - 1, args.n).round().astype(int)
    clean = [jpegdata.rgb_to_y(Image.open(paths[i])) for i in idx]

    table = []
    print(f"{args.model}: {len(clean)} bsds500/val images")
    print("|   Q | strength | JPEG dB | full dB | scaled dB |")
    print("|----:|---------:|--------:|--------:|----------:|")
    for q in [int(v) for v in args.q.split(",")]:
        num = den = 0.0
        outs = []
        for y in clean:
            x = jpegdata.jpeg_gray(y, q)
            m = model_float(model, x, multiple)
            d = m - x
            num += float(np.sum((y.astype(np.float64) - x) * d))
            den += float(np.sum(d * d))
            outs.append((y, x, m))
        a = float(np.clip(num / max(den, 1e-12), 0.0, 1.5))
        if a < 0.05:
            a = 0.0

        def mean_psnrs(a):
            pj, pf, ps = [], [], []
            for y, x, m in outs:
                pj.append(psnr(x, y))
                pf.append(psnr(np.clip(np.round(m), 0, 255), y))
                ps.append(psnr(np.clip(np.round(x + a * (m - x)), 0, 255), y))
            return pj, pf, ps
        pj, pf, ps = mean_psnrs(a)
        if np.mean(ps) <= np.mean(pj):     # rounding ate the gain: leave such JPEG alone
            a = 0.0
            pj, pf, ps = mean_psnrs(a)
        table.append((q, a))
        print(f"| {q:3d} | {a:8.3f} | {np.mean(pj):7.3f} | {np.mean(pf):7.3f} | {np.mean(ps):9.3f} |",
              flush=True)
    value = ",".join(f"{q}:{a:.3f}" for q, a in table)
    print(f"quality_strength = {value}")
    if args.write:
        set_metadata(args.model, "quality_strength", value)
        print(f"wrote metadata quality_strength to {args.model}")


if __name__ == "__main__":
    main()
