"""Write PyTorch reference vectors for the C codec's parity test.

  /usr/bin/python3 core/train/make_parity_dlic.py core/models/dlic-codec.safetensors \
      tests/data/parity-dlic-codec.safetensors

Input: a 64x48 RGB crop of tests/data/kodim23.png. At rate knob t = (R-1)/2 the file stores
"input" (48, 64, 3) uint8 as F32, the encoder's importance levels "k" (6, 8) and indices "idx"
(C, 6, 8) (the index where c < k, else 0), and the decoder output "output" (48, 64, 3) in
0..255 (rounded) from those symbols; metadata: t, the model file name and its SHA-256.
For the encoder-side refinement (core/dlic-refine.c) it also stores the encoder output "refine_z"
(C + 1, 6, 8) and PyTorch autograd's gradient "refine_grad" of the refinement loss
  J = lambda(t) * 255^2 * MSE(x, dec) + proxy bits / pixels     (DLIC.forward with z given)
at that z, with J itself in the metadata "refine_J".
Run again whenever core/models/dlic-codec.safetensors changes.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import write_safetensors  # noqa: E402
from dlic_model import lerp  # noqa: E402
from export_dlic import load_dlic  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lambdas_of(path):
    """The model's training lambdas (safetensors metadata "lambdas")."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        meta = json.loads(f.read(n))["__metadata__"]
    return [float(v) for v in meta["lambdas"].split(",")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    m = load_dlic(args.model)
    rgb = np.asarray(Image.open(os.path.join(ROOT, "tests/data/kodim23.png")).convert("RGB"))
    rgb = rgb[200:248, 300:364]
    t = 0.5 * (m.R - 1)
    t = np.floor(t * 4096 + 0.5) / 4096          # as stored in a packet
    x = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
    idx, k = m.encode(x, t)
    y = m.decode(idx, k, t)[0].permute(1, 2, 0).numpy()
    out = np.clip(np.floor(y * 255 + 0.5), 0, 255)
    idx = idx[0].clamp(min=0).numpy().astype(np.float32)
    sha = hashlib.sha256(open(args.model, "rb").read()).hexdigest()

    # refinement loss and its gradient w.r.t. the encoder output z (what dlic-refine.c computes)
    with torch.no_grad():
        z0 = m.enc(x)
    z = z0.clone().requires_grad_(True)
    m.enc.forward = lambda _x: z
    tt = torch.full((1,), float(t))
    xhat, bits, _ = m(x, tt)
    del m.enc.forward
    lam = math.exp(float(lerp(torch.log(torch.tensor(lambdas_of(args.model))), tt)))
    J = lam * ((xhat - x) ** 2).mean() * 255.0 ** 2 + bits[0] / (x.shape[2] * x.shape[3])
    J.backward()
    write_safetensors(args.out, {"input": rgb.astype(np.float32), "k": k[0].numpy().astype(np.float32),
                                 "idx": idx, "output": out.astype(np.float32),
                                 "refine_z": z0[0].numpy(), "refine_grad": z.grad[0].numpy()},
                      {"t": repr(float(t)), "model": os.path.basename(args.model), "model_sha256": sha,
                       "refine_J": repr(float(J))},
                      "F32")
    print(f"wrote {args.out}: t {t}, mean k {k.float().mean():.2f}, model sha256 {sha[:16]}")


if __name__ == "__main__":
    main()
