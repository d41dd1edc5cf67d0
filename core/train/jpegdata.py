"""JPEG artifact-removal data: luma protocol, JPEG degradation, cached arrays, grid-aligned crops.

Protocol (matches the published LIVE1/classic5 numbers):
  Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255)   (MATLAB rgb2ycbcr, BT.601, uint8)
  degraded = decode(baseline JPEG of the grayscale Y at quality Q), libjpeg via PIL
             (== `cjpeg -baseline -quality Q -grayscale`, checked by check_cjpeg()).

Training set = bsds500/train + bsds500/test (400 images), validation = bsds500/val.
Never kodak / live1 / classic5 (benchmarks only).

Cache layout (/work/runs/casartifact/cache):
  <split>_clean.npy       uint8 (N, 321, 481)  portrait images are transposed AFTER compression
  <split>_q<QQ>.npy       uint8 (N, 321, 481)  decoded JPEG at quality QQ
Transposing an image whose 8x8 grid starts at the origin keeps the grid at the origin, so
crops whose origin is a multiple of 8 stay aligned to the JPEG block grid.
"""
import glob
import io
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

DATA = "/work/shared/data"
CACHE = "/work/runs/casartifact/cache"
TRAIN_DIRS = [f"{DATA}/bsds500/train", f"{DATA}/bsds500/test"]
VAL_DIRS = [f"{DATA}/bsds500/val"]
QUALITIES = list(range(10, 61, 5))  # 10, 15, ..., 60: one blind model covers them all
FORBIDDEN = ("kodak", "live1", "classic5")


def rgb_to_y(img):
    """PIL image (RGB or L) -> uint8 luma (H, W), MATLAB-style BT.601. 'L' images are used as is."""
    if img.mode == "L":
        return np.asarray(img, dtype=np.uint8).copy()
    rgb = np.asarray(img.convert("RGB"), dtype=np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return np.clip(np.round(y), 0, 255).astype(np.uint8)


def jpeg_gray(y, q):
    """uint8 (H, W) -> decoded uint8 (H, W) after baseline grayscale JPEG at quality q (libjpeg)."""
    buf = io.BytesIO()
    Image.fromarray(y, mode="L").save(buf, format="JPEG", quality=int(q), optimize=False,
                                      progressive=False, subsampling=0)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("L"), dtype=np.uint8).copy()


def jpeg_gray_cjpeg(y, q):
    """Same as jpeg_gray but through the cjpeg/djpeg command-line tools (reference)."""
    with tempfile.TemporaryDirectory() as d:
        Image.fromarray(y, mode="L").save(f"{d}/in.pgm")
        subprocess.run(["cjpeg", "-baseline", "-quality", str(q), "-grayscale",
                        "-outfile", f"{d}/o.jpg", f"{d}/in.pgm"], check=True)
        subprocess.run(["djpeg", "-pnm", "-outfile", f"{d}/o.pgm", f"{d}/o.jpg"], check=True)
        return np.asarray(Image.open(f"{d}/o.pgm"), dtype=np.uint8).copy()


def check_cjpeg(paths, qs=(10, 40)):
    """Return True if PIL's JPEG round trip is bit-identical to cjpeg/djpeg on these images."""
    ok = True
    for p in paths:
        y = rgb_to_y(Image.open(p))
        for q in qs:
            same = np.array_equal(jpeg_gray(y, q), jpeg_gray_cjpeg(y, q))
            print(f"check_cjpeg {os.path.basename(p)} Q{q}: {'identical' if same else 'DIFFERENT'}")
            ok &= same
    return ok


def list_images(dirs):
    paths = sorted(p for d in dirs for p in glob.glob(f"{d}/*.jpg") + glob.glob(f"{d}/*.png"))
    assert not any(f in p for p in paths for f in FORBIDDEN), "benchmark images in training data"
    return paths


def load_split(split, qualities=QUALITIES, cache=CACHE):
    """Return (clean uint8 (N,321,481), {q: degraded uint8 (N,321,481)}) for 'train' or 'val',
    building the .npy cache on first use."""
    os.makedirs(cache, exist_ok=True)
    fn = lambda tag: f"{cache}/{split}_{tag}.npy"
    need = [q for q in qualities if not os.path.exists(fn(f"q{q:02d}"))]
    if not os.path.exists(fn("clean")) or need:
        paths = list_images(TRAIN_DIRS if split == "train" else VAL_DIRS)
        ys = [rgb_to_y(Image.open(p)) for p in paths]
        orient = lambda a: a.T if a.shape[0] > a.shape[1] else a  # transpose after compression
        np.save(fn("clean"), np.stack([orient(y) for y in ys]))
        for q in need:
            np.save(fn(f"q{q:02d}"), np.stack([orient(jpeg_gray(y, q)) for y in ys]))
    clean = np.load(fn("clean"))
    return clean, {q: np.load(fn(f"q{q:02d}")) for q in qualities}


def _level(r):
    """A grey level for synthetic graphics: video black / white (16 / 235, as the luma protocol
    gives for RGB 0 / 255) one time in three, full-range 0 / 255 one time in ten, else uniform."""
    u = r.random()
    if u < 0.33:
        return 16.0 if r.integers(2) else 235.0
    if u < 0.43:
        return 0.0 if r.integers(2) else 255.0
    return float(r.integers(0, 256))


def graphic(r, c, photo=None):
    """A synthetic graphic luma crop, uint8 (c, c): a flat or ramped background (or `photo`, a uint8
    (c, c) crop, for text and panels over a picture) with 1..10 shapes of one level each: rectangles,
    bars, outlines, lines, and rows of glyph-like strokes 1-3 px wide; edges anywhere, on or off the
    8x8 grid; one time in three a [1 2 1]/4 blur (anti-aliased rendering). Screen content, slides and
    letterboxed video hold such areas, which bsds500 photographs never do."""
    yy, xx = np.mgrid[0:c, 0:c].astype(np.float32)
    if photo is not None:
        a = photo.astype(np.float32).copy()
    elif r.random() < 0.2:
        l0, l1, ang = _level(r), _level(r), r.uniform(0, 2 * np.pi)
        u = yy * np.sin(ang) + xx * np.cos(ang)
        a = l0 + (l1 - l0) * (u - u.min()) / max(1e-6, float(u.max() - u.min()))
    else:
        a = np.full((c, c), _level(r), np.float32)
    for _ in range(r.integers(1, 11)):
        v, kind = _level(r), r.integers(5)
        if kind <= 1:                                    # a filled rectangle, or a bar across
            h, w = r.integers(2, c + 1, 2)
            y0, x0 = r.integers(0, c - h + 1), r.integers(0, c - w + 1)
            if kind == 1:
                y0, h = (0, c) if r.integers(2) else (y0, h)
                x0, w = (0, c) if h != c else (x0, w)
            a[y0:y0 + h, x0:x0 + w] = v
        elif kind == 2:                                  # an outline 1..3 px
            h, w = r.integers(6, c + 1, 2)
            y0, x0, t = r.integers(0, c - h + 1), r.integers(0, c - w + 1), r.integers(1, 4)
            a[y0:y0 + t, x0:x0 + w] = v
            a[y0 + h - t:y0 + h, x0:x0 + w] = v
            a[y0:y0 + h, x0:x0 + t] = v
            a[y0:y0 + h, x0 + w - t:x0 + w] = v
        elif kind == 3:                                  # a straight line 1..4 px, any angle
            ang, d0, t = r.uniform(0, np.pi), r.uniform(0, c), r.uniform(0.5, 2.0)
            dist = np.abs((yy - c / 2) * np.cos(ang) - (xx - c / 2) * np.sin(ang) - (d0 - c / 2))
            a[dist <= t] = v
        else:                                            # rows of glyphs: "text"
            gh = int(r.integers(5, 17))
            gw = max(3, int(gh * r.uniform(0.4, 0.8)))
            y0 = int(r.integers(0, max(1, c - gh)))
            for _row in range(r.integers(1, 4)):
                x = int(r.integers(0, gw))
                while x + gw <= c and y0 + gh <= c:
                    t = int(r.integers(1, 3))
                    for _s in range(r.integers(1, 4)):   # 1..3 strokes per glyph
                        if r.integers(2):
                            sx = x + int(r.integers(0, gw - t + 1))
                            a[y0:y0 + gh, sx:sx + t] = v
                        else:
                            sy = y0 + int(r.integers(0, gh - t + 1))
                            a[sy:sy + t, x:x + gw] = v
                    x += gw + int(r.integers(1, 4))
                y0 += gh + int(r.integers(2, 8))
    if r.random() < 1 / 3:
        k = np.array([0.25, 0.5, 0.25], np.float32)
        p = np.pad(a, 1, mode="edge")
        a = k[0] * p[:-2] + k[1] * p[1:-1] + k[2] * p[2:]
        a = k[0] * a[:, :-2] + k[1] * a[:, 1:-1] + k[2] * a[:, 2:]
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def graphics_set(n=8, size=256, seed=4242):
    """Fixed synthetic graphic test pictures -> list of uint8 (size, size): the session-12 test
    picture (flat rectangles at levels 0 / 30 / 200, edges at x = 40, 100, 128 and y = 64, 192),
    then n - 1 from graphic() (every third one over nothing but its own background)."""
    g = np.zeros((size, size), np.uint8)
    g[:, 40:100] = 30
    g[64:192, 100:] = 200
    g[:, 128:][g[:, 128:] == 0] = 30
    out = [g]
    r = np.random.default_rng(seed)
    out += [graphic(r, size) for _ in range(n - 1)]
    return out


class CropSampler:
    """Random 8x8-grid-aligned crops with a random quality per crop and a random dihedral
    transform (flips / 90-degree rotations) applied identically to input and target."""

    def __init__(self, clean, degraded, crop, seed=0, graphics=0.0):
        assert crop % 8 == 0
        self.clean, self.deg, self.crop = clean, degraded, crop
        self.qs = sorted(degraded)
        self.rng = np.random.default_rng(seed)
        self.graphics = graphics   # share of crops replaced by graphic(), JPEG-compressed on the fly

    def batch(self, n):
        """-> (x, y) float32 arrays (n, 1, crop, crop) in [0, 1]; x = JPEG, y = clean."""
        N, H, W = self.clean.shape
        c, r = self.crop, self.rng
        x = np.empty((n, 1, c, c), np.float32)
        y = np.empty((n, 1, c, c), np.float32)
        self.last_graphic = np.zeros(n, bool)      # which crops of this batch are graphic()
        for i in range(n):
            k = r.integers(N)
            q = self.qs[r.integers(len(self.qs))]
            i0 = 8 * r.integers((H - c) // 8 + 1)  # stays inside the full 8x8 blocks
            j0 = 8 * r.integers((W - c) // 8 + 1)
            a = self.deg[q][k, i0:i0 + c, j0:j0 + c]
            b = self.clean[k, i0:i0 + c, j0:j0 + c]
            if self.graphics > 0 and r.random() < self.graphics:
                b = graphic(r, c, b if r.random() < 0.3 else None)
                a = jpeg_gray(b, q)     # the crop's origin is a block corner: the grid holds
                self.last_graphic[i] = True
            rot, flip = r.integers(4), r.integers(2)
            a, b = np.rot90(a, rot), np.rot90(b, rot)
            if flip:
                a, b = a[:, ::-1], b[:, ::-1]
            x[i, 0], y[i, 0] = a, b
        return x / 255.0, y / 255.0


if __name__ == "__main__":
    import sys
    imgs = list_images(TRAIN_DIRS)[:2] + list_images(VAL_DIRS)[:1]
    ok = check_cjpeg(imgs, qs=(10, 25, 40, 60))
    for s in ("train", "val"):
        clean, deg = load_split(s)
        print(s, clean.shape, {q: v.shape for q, v in deg.items()})
    sys.exit(0 if ok else 1)
