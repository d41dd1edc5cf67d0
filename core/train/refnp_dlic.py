"""Plain-numpy reference of the dlic codec from a .safetensors file (format gst-dlic-codec): the exact
semantics the C engine must reproduce, written from the rules in README.md (section dlic), not from torch.

  /usr/bin/python3 core/train/refnp_dlic.py dlic.safetensors [image.png] [--t 2.5]

Encodes a crop (default: a 64x96 crop of kodim01) to integers (symbol indices, importance levels),
decodes them, and compares with the PyTorch model: integer mismatches and max |decoded difference|.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import read_safetensors  # noqa: E402


def conv(x, w, b, s=1):
    """x (C, H, W), w (O, C, k, k), zero pad k//2, stride s -> (O, ceil(H/s), ceil(W/s))."""
    C, H, W = x.shape
    k = w.shape[2]
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    out = np.zeros((w.shape[0], Ho, Wo)) + b[:, None, None]
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, ky:ky + s * (Ho - 1) + 1:s, kx:kx + s * (Wo - 1) + 1:s]
            out += np.tensordot(w[:, :, ky, kx], patch, axes=(1, 0))
    return out


def unshuffle(x, r=2):
    """z[c*r*r + dy*r + dx, i, j] = x[c, r*i + dy, r*j + dx]."""
    C, H, W = x.shape
    return x.reshape(C, H // r, r, W // r, r).transpose(0, 2, 4, 1, 3).reshape(C * r * r, H // r, W // r)


def shuffle(z, r=2):
    """x[c, r*i + dy, r*j + dx] = z[c*r*r + dy*r + dx, i, j]."""
    C, H, W = z.shape
    return z.reshape(C // (r * r), r, r, H, W).transpose(0, 3, 1, 4, 2).reshape(C // (r * r), H * r, W * r)


relu = lambda v: np.maximum(v, 0)


def nblocks(w, prefix):
    return len({k.split(".")[2] for k in w if k.startswith(prefix + ".")})


def resblocks(w, prefix, v):
    for i in range(nblocks(w, prefix)):
        p = f"{prefix}.{i}"
        v = v + conv(relu(conv(v, w[p + ".c1.weight"], w[p + ".c1.bias"])), w[p + ".c2.weight"], w[p + ".c2.bias"])
    return v


def lerp(P, t):
    R = P.shape[0]
    if R == 1:
        return P[0]
    i = min(int(np.floor(t)), R - 2)
    f = t - i
    return (1 - f) * P[i] + f * P[i + 1]


def encode(w, meta, x, t):
    """x (3, H, W) float in [0, 1], H, W multiples of 8 -> (index (C, h, w), -1 where not coded; k (h, w))."""
    C, K = int(meta["latent_channels"]), int(meta["K"])
    a = relu(conv(unshuffle(x - 0.5), w["enc.e1.weight"], w["enc.e1.bias"]))
    a = resblocks(w, "enc.b1", a)
    b = relu(conv(a, w["enc.e2.weight"], w["enc.e2.bias"], 2))
    b = resblocks(w, "enc.b2", b)
    c = conv(b, w["enc.e3.weight"], w["enc.e3.bias"], 2)
    c = c + resblocks(w, "enc.b3", c)     # long skip around the chain of blocks
    z = conv(c, w["enc.e4.weight"], w["enc.e4.bias"])
    y, h = z[:C], z[C]
    g = np.exp(lerp(w["rate_log_gain"], t))
    heat = C / (1 + np.exp(-(lerp(w["rate_imp_scale"], t) * h + lerp(w["rate_imp_offset"], t))))
    k = np.clip(np.floor(heat + 0.5), 0, C).astype(np.int64)
    s = y * g[:, None, None]
    if meta["quant"] == "uniform":
        idx = (np.clip(np.round(s), -K, K) + K).astype(np.int64)     # np.round: half to even
    else:
        idx = np.argmin(np.abs(s[..., None] - w["quant.centres"]), -1)
    coded = np.arange(C)[:, None, None] < k[None]
    return np.where(coded, idx, -1), k


def decode(w, meta, idx, k, t):
    gi = np.exp(lerp(w["rate_log_igain"], t))
    val = np.where(idx >= 0, w["quant.centres"][np.maximum(idx, 0)], 0.0) * gi[:, None, None]
    c = conv(val, w["dec.d0.weight"], w["dec.d0.bias"])
    c = c + resblocks(w, "dec.b3", c)
    b = relu(shuffle(conv(c, w["dec.d1.weight"], w["dec.d1.bias"])))
    b = resblocks(w, "dec.b2", b)
    a = relu(shuffle(conv(b, w["dec.d2.weight"], w["dec.d2.bias"])))
    a = resblocks(w, "dec.b1", a)
    return shuffle(conv(a, w["dec.d3.weight"], w["dec.d3.bias"])) + 0.5


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("image", nargs="?", default="/work/shared/data/kodak/kodim01.png")
    ap.add_argument("--t", type=float, default=-1, help="rate knob (default (R-1)/2)")
    args = ap.parse_args()
    import torch
    from PIL import Image
    from export_dlic import load_dlic
    torch.set_num_threads(1)
    w, meta = read_safetensors(args.model)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    R = int(meta["rate_points"])
    t = (R - 1) / 2 if args.t < 0 else args.t
    img = np.asarray(Image.open(args.image).convert("RGB"))[100:164, 200:296]
    x = img.astype(np.float32).transpose(2, 0, 1) / 255.0
    idx, k = encode(w, meta, x.astype(np.float64), t)
    out = decode(w, meta, idx, k, t)
    m = load_dlic(args.model)
    ti, tk = m.encode(torch.from_numpy(x)[None], t)
    to = m.decode(ti, tk, t)[0].numpy()
    to2 = decode(w, meta, ti[0].numpy(), tk[0].numpy(), t)   # numpy decoder on torch's integers
    print(f"t={t}: mean k {k.mean():.2f}; index mismatches {int((ti[0].numpy() != idx).sum())} / {idx.size}, "
          f"level mismatches {int((tk[0].numpy() != k).sum())} / {k.size} (float encoder: rare ties allowed)")
    print(f"decoder on the same integers: max |numpy - torch| = {np.abs(to2 - to).max():.3g}; "
          f"uint8 differences: {int((np.round(to2 * 255).clip(0, 255) != np.round(to * 255).clip(0, 255)).sum())}")
    print(f"full numpy round trip vs torch round trip: max |diff| = {np.abs(out - to).max():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
