"""Export a trained artifact-removal model to a .safetensors file (format written by hand).

  /usr/bin/python3 core/train/export.py /work/runs/casartifact/cascnn/best.pt out.safetensors [--fp16]

File layout (https://github.com/huggingface/safetensors):
  u64 little-endian N | N bytes of JSON header (UTF-8, padded with spaces to a multiple of 8)
  | raw little-endian tensor data, C order, tensors back to back in header order.
  header = {"<name>": {"dtype": "F32"|"F16", "shape": [...], "data_offsets": [begin, end]}, ...,
            "__metadata__": {str: str}}     offsets are relative to the start of the data.
Tensor names are the PyTorch state_dict names ("a1.weight", "a1.bias", ...), in module order.
Conv2d weights are [out, in, kh, kw]; ConvTranspose2d weights are [in, out, kh, kw].
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS  # noqa: E402

FORMAT = "gst-dlic-ar"
FORMAT_VERSION = "1"
DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}

LAYERS = {  # human-readable layer lists for the C engine (also in README.md)
    "cascnn": "A=relu(a2(relu(a1(x)))); B=relu(b2(relu(b1(A)))) b1 s2; C=relu(c2(relu(c1(B)))) c1 s2; "
              "D=relu(d2(relu(d1(C)))) d1 s2; o8=avgpool8(x)+s8(D); "
              "E=relu(e1(cat(relu(ud(D)),C,us8(o8)))); o4=avgpool4(x)+s4(E); "
              "F=relu(f1(cat(relu(ue(E)),B,us4(o4)))); o2=avgpool2(x)+s2(F); "
              "G=relu(g1(cat(relu(uf(F)),A,us2(o2)))); y=x+out(G); "
              "conv: 3x3 pad 1; u*: convtranspose 4x4 stride 2 pad 1 output_padding 0",
    "fastar": "h=relu(head(pixel_unshuffle(x,scale))); h=relu(body.i(h)) for i<n_mid; "
              "y=x+pixel_shuffle(tail(h),scale) (with fine: h=relu(refine(cat(pixel_shuffle(h,2),"
              "pixel_unshuffle(x,scale/2)))); y=x+pixel_shuffle(tail(h),scale/2)); "
              "conv: k x k pad k/2 stride 1 (body_k), else 3x3 pad 1",
}


def write_safetensors(path, tensors, metadata, dtype="F32"):
    """tensors: ordered {name: np.ndarray}; metadata: {str: str}. Writes atomically."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """-> ({name: np.ndarray float32}, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base, out = 8 + n, {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        a = np.frombuffer(data[base + b:base + e], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        out[name] = a.astype(np.float32)
    return out, meta


def model_from_meta(meta):
    """Build an (untrained) model from safetensors/checkpoint metadata."""
    if meta["arch"] == "cascnn":
        return MODELS["cascnn"](*[int(c) for c in meta["channels"].split(",")])
    return MODELS["fast"](int(meta["scale"]), int(meta["channels"]), int(meta["n_mid"]),
                          int(meta.get("body_k", "3")), int(meta.get("fine", "0")))


def load_model(path, from_meta=None, skip=()):
    """Load a model from a training checkpoint (.pt) or an exported .safetensors file.
    from_meta builds the model from metadata (default: the artifact models); tensors named in
    skip are export-only extras, not parameters."""
    model_from_meta_ = from_meta or model_from_meta
    if path.endswith(".safetensors"):
        w, meta = read_safetensors(path)
        m = model_from_meta_(meta)
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items() if k not in skip})
    else:
        d = torch.load(path, map_location="cpu")
        m = model_from_meta_(d["meta"])
        m.load_state_dict(d["model"])
    return m.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", help="training checkpoint (.pt)")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--fp16", action="store_true", help="store weights as F16")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d = torch.load(args.ckpt, map_location="cpu")
    model = model_from_meta(d["meta"])
    model.load_state_dict(d["model"])
    st = d.get("state", {})
    meta = dict(d["meta"])
    meta.update({
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "task": "jpeg-artifact-removal", "colorspace": "luma BT.601 (MATLAB rgb2ycbcr Y, 16..235)",
        "input_scale": "1/255", "output": "x + net(x), then *255, round, clip 0..255",
        "residual": "global", "qualities": d["args"].get("qualities", ""),
        "phase": d["args"].get("phase", ""), "train_iter": st.get("iter", 0),
        "val_gain_db": f"{st.get('best_gain', 0):.4f}", "layers": LAYERS[meta["arch"]],
        "weight_layout": "Conv2d [out,in,kh,kw]; ConvTranspose2d [in,out,kh,kw]",
    })
    tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    write_safetensors(args.out, tensors, meta, "F16" if args.fp16 else "F32")
    # round trip check
    back, _ = read_safetensors(args.out)
    err = max(float(np.abs(back[k] - v).max()) for k, v in tensors.items())
    print(f"wrote {args.out}: {len(tensors)} tensors, {os.path.getsize(args.out)} bytes, "
          f"max abs round-trip error {err:.3g}")


if __name__ == "__main__":
    main()
