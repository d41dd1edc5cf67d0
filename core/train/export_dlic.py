"""Export a dlic codec checkpoint to .safetensors (format gst-dlic-codec), and load either form.

  /usr/bin/python3 core/train/export_dlic.py /work/runs/dlic/base/best.pt dlic.safetensors [--fp16]

Tensors: the PyTorch state_dict in module order (enc.*, dec.*, rate_*, prob_*_logits, centres_raw),
then three derived tables for the C side:
  quant.centres [L]        sorted reconstruction values in scaled-latent units (uniform: -K..K)
  prob.sym      [R, C, L]  softmax(prob_sym_logits) per rate point: the proxy's symbol probabilities
  prob.imp      [R, C + 1] softmax(prob_imp_logits): importance-level probabilities
All F32 (or all F16 with --fp16). See core/train/README.md, section "dlic", for the exact inference rules.
"""
import argparse
import hashlib
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import load_model, read_safetensors, write_safetensors  # noqa: E402
from dlic_model import ENCODER_SIDE, model_from_meta  # noqa: E402

FORMAT = "gst-dlic-codec"
FORMAT_VERSION = "1"
DERIVED = ("quant.centres", "prob.sym", "prob.imp")

LAYERS = (
    "ENC: u=pixel_unshuffle(x-0.5,2); a=relu(enc.e1(u)) conv3; a=enc.b1.i(a); b=relu(enc.e2(a)) conv5 s2; "
    "b=enc.b2.i(b); c=enc.e3(b) conv5 s2; c=c+enc.b3(c) (blocks, long skip); z=enc.e4(c) conv3 -> C+1; "
    "y=z[0:C], h=z[C]. DEC: c=dec.d0(yhat) conv3; c=c+dec.b3(c); b=relu(pixel_shuffle(dec.d1(c),2)); "
    "b=dec.b2.i(b); a=relu(pixel_shuffle(dec.d2(b),2)); a=dec.b1.i(a); x=pixel_shuffle(dec.d3(a),2)+0.5. "
    "resblock v=v+c2(relu(c1(v))) conv3. conv: zero pad k//2, bias.")
RULES = (
    "t in [0,R-1]; lerp(P,t)=(1-f)P[i]+fP[i+1], i=min(floor t,R-2), f=t-i; g=exp(lerp(rate_log_gain)); "
    "gi=exp(lerp(rate_log_igain)); heat=C*sigmoid(lerp(rate_imp_scale)*h+lerp(rate_imp_offset)); "
    "k=clamp(floor(heat+0.5),0,C); s=y*g; uniform: q=clamp(round_half_even(s),-K,K), index=q+K; "
    "centres: index=argmin|s-centres|; coded iff c<k; yhat[c]=centres[index]*gi[c] if c<k else 0")


def load_dlic(path):
    """Model (eval mode) from a training checkpoint (.pt) or an exported .safetensors."""
    return load_model(path, model_from_meta, DERIVED)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", help="training checkpoint (.pt)")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--fp16", action="store_true", help="store every tensor as F16")
    ap.add_argument("--decoder-from", default="",
                    help="an earlier .safetensors whose decoder side this checkpoint kept (trained with "
                         "train_dlic.py --encoder-only): its decoder-side tensors are copied byte for byte "
                         "and the file answers to its hash (metadata decoder_hash), so streams decode "
                         "across both files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d = torch.load(args.ckpt, map_location="cpu")
    model = model_from_meta(d["meta"])
    model.load_state_dict(d["model"])
    model.eval()
    st, targs = d.get("state", {}), d.get("args", {})
    tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    with torch.no_grad():
        tensors["quant.centres"] = model.centres().numpy()
        tensors["prob.sym"] = torch.softmax(model.prob_sym_logits, -1).numpy()
        tensors["prob.imp"] = torch.softmax(model.prob_imp_logits, -1).numpy()
    meta = dict(d["meta"])
    meta.update({
        "format": FORMAT, "format_version": FORMAT_VERSION, "task": "image-codec",
        "K": str(model.K), "centres": ",".join(f"{c:.9g}" for c in tensors["quant.centres"]),
        "lambdas": ",".join(f"{v:g}" for v in d.get("lambdas", [])),
        "downsampling": "8", "importance": "round", "masked_value": "0",
        "colorspace": "RGB", "input_scale": "1/255", "output": "x*255, round, clip 0..255, crop to the true size",
        "pad": "bottom/right edge replication to a multiple of 8 (encoder side)",
        "layers": LAYERS, "inference": RULES,
        "weight_layout": "Conv2d [out,in,kh,kw]; zero padding k//2",
        "train_iter": str(st.get("iter", 0)), "val_gain_db": f"{st.get('best_gain', 0):.4f}",
        "train_args": " ".join(f"{k}={v}" for k, v in targs.items() if k in
                               ("crop", "batch", "lr", "scales", "lambdas", "minutes", "iters")),
    })
    if args.decoder_from:
        # everything but the encoder side comes from the earlier file, exactly as stored there (its
        # derived tables were computed from the unrounded logits, so they are copied, not re-derived)
        old, ometa = read_safetensors(args.decoder_from)
        for key in ("arch", "channels", "blocks", "decoder_blocks", "latent_channels", "levels", "quant",
                    "rate_points"):
            assert ometa.get(key) == meta.get(key), f"--decoder-from: {key} {ometa.get(key)} != {meta.get(key)}"
        moved = 0
        for k in tensors:
            if not k.startswith(ENCODER_SIDE):
                drift = float(np.abs(old[k].astype(np.float32) - tensors[k]).max())
                # the derived tables are re-derived from F16-rounded logits here: compare the trained ones
                assert k in DERIVED or drift < 1e-3, \
                    f"--decoder-from: {k} moved by {drift:g}: not an encoder-only checkpoint"
                tensors[k] = old[k]
                moved += 1
        raw = open(args.decoder_from, "rb").read()
        meta["decoder_hash"] = ometa.get("decoder_hash") or hashlib.sha256(raw).hexdigest()[:16]
        for key in ("model_id",):
            if key in ometa:
                meta[key] = ometa[key]
        meta["encoder_train_iter"] = meta.pop("train_iter")
        meta["train_iter"] = ometa.get("train_iter", "")
        print(f"decoder side ({moved} tensors) from {args.decoder_from}; decoder_hash {meta['decoder_hash']}")
    write_safetensors(args.out, tensors, meta, "F16" if args.fp16 else "F32")
    back, _ = read_safetensors(args.out)
    if args.decoder_from:
        # the promise decoder_hash makes: every decoder-side tensor as the earlier file stores it
        # (read_safetensors widens F16 exactly, so equal values are equal bytes)
        same = all(np.array_equal(back[k], old[k]) for k in back if not k.startswith(ENCODER_SIDE))
        assert same, f"{args.out}: decoder side differs from {args.decoder_from} (mixed F16 / F32?)"
    err = max(float(np.abs(back[k] - v).max()) for k, v in tensors.items())
    print(f"wrote {args.out}: {len(tensors)} tensors, {os.path.getsize(args.out)} bytes, "
          f"max abs round-trip error {err:.3g}")


if __name__ == "__main__":
    main()
