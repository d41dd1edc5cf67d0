"""Write PyTorch reference outputs for the C engine's parity test.

  /usr/bin/python3 core/train/make_parity.py core/models/casartifact-fast.safetensors \
      tests/data/parity-casartifact-fast.safetensors

Input: a 64x72 crop of a bundled test image (kodim23 luma, JPEG quality 20), as x/255.
Output file (safetensors, F32): "input" (1, 1, H, W), "output" (1, 1, H, W) = model(input) in
float32 PyTorch, metadata: the model file name and its SHA-256, so the C test can say when the
vectors are stale. Run again whenever a model in core/models changes.
"""
import argparse
import hashlib
import io
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import load_model, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_input(h=64, w=72, quality=20):
    rgb = np.asarray(Image.open(os.path.join(ROOT, "tests/data/kodim23.png")).convert("RGB"),
                     dtype=np.float64)
    y = np.round(16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255)
    y = y[200:200 + h, 300:300 + w].astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(y, "L").save(buf, format="JPEG", quality=quality, optimize=False,
                                 progressive=False)
    jpg = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=np.float32)
    return (jpg / 255.0)[None, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    x = test_input()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    sha = hashlib.sha256(open(args.model, "rb").read()).hexdigest()
    write_safetensors(args.out, {"input": x, "output": y.astype(np.float32)},
                      {"model": os.path.basename(args.model), "model_sha256": sha}, "F32")
    print(f"wrote {args.out}: input {x.shape}, max |y - x| {np.abs(y - x).max():.4f}, "
          f"model sha256 {sha[:16]}")


if __name__ == "__main__":
    main()
