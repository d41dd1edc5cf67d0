"""dlic data: RGB images from bsds500 (train + test for training, val for validation), down-scaled.

BSDS500 files are JPEG q95 with 4:2:0 chroma. Measured on 60 train images vs the 24 Kodak images
(core/train/README.md, dlic "Data"): high-frequency energy (mean square of the residual after a 2x2 box
mean) of luma, the chroma/luma ratio of that energy, and the 8-pixel blockiness of chroma:
                  luma HF   chroma/luma HF   chroma blockiness@8
  kodak            121         0.0171             0.97
  bsds full        140         0.0089             1.45   (4:2:0: half the chroma detail; MCU edges)
  bsds 3/4 Lanczos 154         0.0153             (grid no longer at 8)
  bsds 1/2 Lanczos 178         0.0238             1.17
So at full size the chroma is half as detailed as Kodak's and carries block edges; down-scaling with
Lanczos restores Kodak-like chroma statistics (3/4 is the closest match, 1/2 is sharper than Kodak).
Default: every training image at scales 0.5 and 0.75 (PIL Lanczos), crops drawn from both.
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jpegdata import TRAIN_DIRS, VAL_DIRS, list_images  # noqa: E402  (asserts no benchmark images)

KODAK = "/work/shared/data/kodak"


def load_rgb(path, scale=1.0):
    """-> uint8 (H, W, 3); scale != 1 resizes with PIL Lanczos (size rounded)."""
    im = Image.open(path).convert("RGB")
    if scale != 1.0:
        im = im.resize((max(8, round(im.width * scale)), max(8, round(im.height * scale))), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8).copy()


def load_set(split, scales=(0.5, 0.75)):
    """'train' (bsds500 train + test) or 'val' -> list of uint8 (H, W, 3), every image at every scale."""
    paths = list_images(TRAIN_DIRS if split == "train" else VAL_DIRS)
    return [load_rgb(p, s) for p in paths for s in scales]


class RGBCropSampler:
    """Random crops (uniform over images, then position) with one of the 8 dihedral transforms; a share
    `flat` of them gets synthetic flat content (add_flat)."""

    def __init__(self, images, crop, seed=0, flat=0.0):
        self.images = [im for im in images if min(im.shape[:2]) >= crop]
        assert self.images, "crop larger than every image"
        self.crop = crop
        self.flat = flat                        # share of crops given synthetic flat content
        self.rng = np.random.default_rng(seed)
        self.frng = np.random.default_rng(seed + 1)   # its own stream: flat=0 draws the same crops

    def batch(self, n):
        """-> float32 (n, 3, crop, crop) in [0, 1]."""
        c, r = self.crop, self.rng
        out = np.empty((n, c, c, 3), np.float32)
        for i in range(n):
            im = self.images[r.integers(len(self.images))]
            H, W = im.shape[:2]
            y0, x0 = r.integers(H - c + 1), r.integers(W - c + 1)
            a = np.rot90(im[y0:y0 + c, x0:x0 + c], r.integers(4))
            if r.integers(2):
                a = a[:, ::-1]
            if self.flat > 0 and self.frng.random() < self.flat:
                a = add_flat(a.copy(), self.frng)
            out[i] = a
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2)) / 255.0


def pad_to(x, multiple=8):
    """uint8 (H, W, 3) -> float32 (1, 3, H', W') in [0,1], padded bottom/right by edge replication."""
    H, W = x.shape[:2]
    ph, pw = (-H) % multiple, (-W) % multiple
    a = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="edge").astype(np.float32) / 255.0
    return a.transpose(2, 0, 1)[None].copy()


def to_uint8(xhat, H, W):
    """(1, 3, H', W') float tensor/array -> uint8 (H, W, 3): crop, *255, round, clip."""
    a = np.asarray(xhat)[0, :, :H, :W].transpose(1, 2, 0)
    return np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)


def psnr_rgb(a, b):
    """PSNR (dB, peak 255) over all three RGB planes of two uint8 images."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _flat_colour(r):
    """A random RGB colour; each channel at an end of the range (0 or 255) one time in four."""
    c = r.integers(0, 256, 3)
    ends = r.random(3) < 0.25
    c[ends] = r.choice([0, 255], int(ends.sum()))
    return c.astype(np.float32)


def add_flat(a, r):
    """Synthetic flat content in a uint8 crop a (c, c, 3), in place: the whole crop one colour, a
    rectangle of one colour (graphics, black bars, a panel), or a smooth linear ramp over a rectangle
    or the whole crop (sky, vignettes). Natural bsds500 crops almost never hold an exactly flat area,
    and a codec that never saw one codes it with a colour cast (core/train/probe_flat.py)."""
    c = a.shape[0]
    kind = r.integers(3)
    if kind == 0:
        y0, y1, x0, x1 = 0, c, 0, c
    else:
        h, w = r.integers(c // 4, c + 1, 2)
        y0, x0 = r.integers(0, c - h + 1), r.integers(0, c - w + 1)
        y1, x1 = y0 + h, x0 + w
        if r.integers(2):                      # a bar across the whole crop
            if r.integers(2):
                x0, x1 = 0, c
            else:
                y0, y1 = 0, c
    if kind == 2:
        c0, c1 = _flat_colour(r), _flat_colour(r)
        ang = r.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        u = (yy - y0) * np.sin(ang) + (xx - x0) * np.cos(ang)
        u = (u - u.min()) / max(1e-6, float(u.max() - u.min()))
        v = c0 + (c1 - c0) * u[..., None]
    else:
        v = _flat_colour(r)
    a[y0:y1, x0:x1] = np.clip(np.round(v), 0, 255).astype(np.uint8)
    return a


def flat_set():
    """Fixed test pictures for flat content -> list of (name, uint8 (H, W, 3), bool mask (H, W) of the
    flat area): four flat colours, two bsds500/val pictures (0.75 scale) with black bars above and below,
    one with a flat blue panel."""
    out = []
    for name, col in (("flat grey 128", (128, 128, 128)), ("flat black", (0, 0, 0)),
                      ("flat white", (255, 255, 255)), ("flat red", (200, 40, 30))):
        im = np.empty((128, 128, 3), np.uint8)
        im[:] = col
        out.append((name, im, np.ones(im.shape[:2], bool)))
    paths = list_images(VAL_DIRS)
    for i, p in enumerate(paths[3:5]):
        im = load_rgb(p, 0.75)
        bar = 40
        lb = np.zeros((im.shape[0] + 2 * bar, im.shape[1], 3), np.uint8)
        lb[bar:bar + im.shape[0]] = im
        m = np.zeros(lb.shape[:2], bool)
        m[:bar] = m[-bar:] = True
        out.append((f"letterbox val{3 + i}", lb, m))
    im = load_rgb(paths[7], 0.75).copy()
    H, W = im.shape[:2]
    im[H // 4:H // 4 + H // 2, W // 8:W // 8 + W // 3] = (30, 90, 160)
    m = np.zeros((H, W), bool)
    m[H // 4 + 4:H // 4 + H // 2 - 4, W // 8 + 4:W // 8 + W // 3 - 4] = True
    out.append(("panel val7", im, m))
    return out
