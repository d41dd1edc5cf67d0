"""Plain-numpy reference forward pass from a .safetensors file: the exact semantics the C engine
must reproduce (written from the formulas in README.md, not from torch).

  /usr/bin/python3 core/train/refnp.py model.safetensors     # compares with torch on a random crop
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import read_safetensors  # noqa: E402


def conv(x, w, b, s=1):
    """x (C, H, W), w (O, C, 3, 3), zero pad 1, stride s -> (O, H/s, W/s). Cross-correlation."""
    C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    Ho, Wo = (H + 2 - 3) // s + 1, (W + 2 - 3) // s + 1
    out = np.repeat(b[:, None, None], Ho * Wo, 1).reshape(-1, Ho, Wo).astype(np.float64)
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, ky:ky + s * Ho:s, kx:kx + s * Wo:s]          # (C, Ho, Wo)
            out += np.tensordot(w[:, :, ky, kx], patch, axes=(1, 0))
    return out


def convT(x, w, b):
    """x (C, H, W), w (C, O, 4, 4), stride 2, padding 1 -> (O, 2H, 2W):
    out[o, 2i-1+ky, 2j-1+kx] += x[c, i, j] w[c, o, ky, kx]."""
    C, H, W = x.shape
    full = np.zeros((w.shape[1], 2 * H + 2, 2 * W + 2))             # index shifted by +1
    for ky in range(4):
        for kx in range(4):
            full[:, ky:ky + 2 * H:2, kx:kx + 2 * W:2] += np.tensordot(w[:, :, ky, kx], x, axes=(0, 0))
    return full[:, 1:2 * H + 1, 1:2 * W + 1] + b[:, None, None]


def pool(x, k):
    C, H, W = x.shape
    return x.reshape(C, H // k, k, W // k, k).mean((2, 4))


def unshuffle(x, s):  # z[c*s*s + dy*s + dx, i, j] = x[c, s*i+dy, s*j+dx]
    C, H, W = x.shape
    return x.reshape(C, H // s, s, W // s, s).transpose(0, 2, 4, 1, 3).reshape(C * s * s, H // s, W // s)


def shuffle(z, s):
    C, H, W = z.shape
    return z.reshape(C // (s * s), s, s, H, W).transpose(0, 3, 1, 4, 2).reshape(C // (s * s), H * s, W * s)


def forward(wts, meta, x):
    """x: (H, W) float in [0, 1], H, W multiples of 8 -> (H, W) float."""
    relu = lambda t: np.maximum(t, 0)
    W_ = lambda n: (wts[n + ".weight"].astype(np.float64), wts[n + ".bias"].astype(np.float64))
    c = lambda n, t, s=1: conv(t, *W_(n), s)
    u = lambda n, t: convT(t, *W_(n))
    x = x[None].astype(np.float64)
    if meta["arch"] == "fastar":
        s = int(meta["scale"])
        h = relu(c("head", unshuffle(x, s)))
        for i in range(int(meta["n_mid"])):
            h = relu(c(f"body.{i}", h))
        return (x + shuffle(c("tail", h), s))[0]
    A = relu(c("a2", relu(c("a1", x))))
    B = relu(c("b2", relu(c("b1", A, 2))))
    C = relu(c("c2", relu(c("c1", B, 2))))
    D = relu(c("d2", relu(c("d1", C, 2))))
    o8 = pool(x, 8) + c("s8", D)
    E = relu(c("e1", np.concatenate([relu(u("ud", D)), C, u("us8", o8)])))
    o4 = pool(x, 4) + c("s4", E)
    F = relu(c("f1", np.concatenate([relu(u("ue", E)), B, u("us4", o4)])))
    o2 = pool(x, 2) + c("s2", F)
    G = relu(c("g1", np.concatenate([relu(u("uf", F)), A, u("us2", o2)])))
    return (x + c("out", G))[0]


if __name__ == "__main__":
    import torch
    from export import load_model
    torch.set_num_threads(1)
    wts, meta = read_safetensors(sys.argv[1])
    rng = np.random.default_rng(0)
    x = rng.random((40, 48)).astype(np.float32)
    ref = forward(wts, meta, x)
    m = load_model(sys.argv[1])
    with torch.no_grad():
        got = m(torch.from_numpy(x)[None, None])[0, 0].double().numpy()
    print(f"{meta['arch']}: max |numpy - torch| = {np.abs(ref - got).max():.3g}, "
          f"max |residual| = {np.abs(ref - x).max():.3g}")
