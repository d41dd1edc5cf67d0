"""Train the dlic learned image codec (variable-rate autoencoder with an importance map) on bsds500.

  /usr/bin/python3 core/train/train_dlic.py --out /work/runs/dlic/base --minutes 150

One model, R rate points (one per --lambdas value, low rate first); every training crop draws a
continuous rate knob t ~ U[0, R-1] and is trained with lambda(t) = exp(lerp(log lambdas, t)):
  loss = mean over the batch of  lambda(t) * MSE(x, x^) [0..255 scale] + bpp_proxy(t)
(the rate term's weight ramps up from 0 over the first --rate-warmup iterations)
(the CompressAI convention; lambda 0.0018 ... 0.0932 spans roughly 0.1 ... 1.5 bpp for good codecs).
A single --lambdas value trains a fixed-rate model (t is then always 0).

Budget: --minutes (wall time, summed over resumes) or --iters; the LR has a linear warm-up, then a
cosine down to lr/100 over the budget. Resume: DIR/last.pt is picked up automatically.
Every --ckpt-min minutes: DIR/last.pt (model + optimizer, atomic). Every --val-min minutes and at the
end: on --val-n fixed bsds500/val images (down-scaled by --val-scale, padded to a multiple of 8),
at knob values t = 0, (R-1)/2, R-1: RGB PSNR of the integer-coded round trip, proxy bpp, and the
PSNR gain over JPEG 4:2:0 (PIL/libjpeg, optimize) at the same bpp on the same image, interpolated
in log-bpp. DIR/best.pt keeps the best mean gain.
Single-threaded (torch.set_num_threads(1)) unless --threads says otherwise.
"""
import argparse
import io
import math
import os
import re
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blascheck  # noqa: E402
import dlic_data  # noqa: E402
from dlic_model import DLIC, ENCODER_SIDE, count_macs, lerp, model_from_meta  # noqa: E402
from ema import EMA, candidates, note_best  # noqa: E402

DEFAULT_LAMBDAS = "0.0018,0.0035,0.0067,0.013,0.025,0.0483,0.0932"


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def jpeg_curve(img, qualities=range(5, 100, 5)):
    """uint8 (H, W, 3) -> (bpp array, psnr array) of baseline JPEG 4:2:0 (PIL, optimize=True)."""
    H, W = img.shape[:2]
    bpps, ps = [], []
    for q in qualities:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=q, optimize=True, subsampling=2)
        n = buf.tell()
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"))
        bpps.append(8.0 * n / (H * W))
        ps.append(dlic_data.psnr_rgb(dec, img))
    return np.array(bpps), np.array(ps)


def jpeg_psnr_at(curve, bpp):
    """JPEG PSNR at `bpp`, linear in log(bpp) (clamped to the ends of the curve)."""
    b, p = curve
    return float(np.interp(np.log(max(bpp, 1e-6)), np.log(b), p))


@torch.no_grad()
def code_image(model, img, t):
    """uint8 (H, W, 3) -> (decoded uint8 (H, W, 3), proxy bpp, idx, k). Integers only cross."""
    H, W = img.shape[:2]
    x = torch.from_numpy(dlic_data.pad_to(img, 8))
    idx, k = model.encode(x, t)
    sb, ib = model.proxy_bits(idx, k, t)
    out = dlic_data.to_uint8(model.decode(idx, k, t).numpy(), H, W)
    return out, float(sb[0] + ib[0]) / (H * W), idx, k


def validate(model, vimgs, vcurves, ts):
    """-> {t: (mean psnr, mean bpp, mean gain over JPEG)}."""
    model.eval()
    res = {}
    for t in ts:
        ps, bs, gs = [], [], []
        for img, cur in zip(vimgs, vcurves):
            out, bpp, _, _ = code_image(model, img, t)
            p = dlic_data.psnr_rgb(out, img)
            ps.append(p)
            bs.append(bpp)
            gs.append(p - jpeg_psnr_at(cur, bpp))
        res[t] = (float(np.mean(ps)), float(np.mean(bs)), float(np.mean(gs)))
    model.train()
    return res


def make_opt(model, args):
    """Adam; the rate-point tables (gains, importance scale/offset, proxy logits) get --table-lr-mult x LR:
    they are small, must track the symbol statistics, and are the only way rate points differ."""
    ps = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    tab = [p for n, p in ps if n.startswith(("rate_", "prob_"))]
    net = [p for n, p in ps if not n.startswith(("rate_", "prob_"))]
    return torch.optim.Adam([{"params": net, "mult": 1.0}, {"params": tab, "mult": args.table_lr_mult}], lr=args.lr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=0, help="wall-time budget (sum over resumes)")
    ap.add_argument("--iters", type=int, default=0, help="iteration budget (if --minutes is 0)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96, help="multiple of 8")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=200, help="linear LR warm-up iterations")
    ap.add_argument("--table-lr-mult", type=float, default=20.0, help="LR multiplier of the rate/prob tables")
    ap.add_argument("--rate-warmup", type=int, default=300,
                    help="the rate term's weight ramps 0 -> 1 over these iterations (keeps the importance "
                         "map from collapsing before the decoder is useful)")
    ap.add_argument("--lambdas", default=DEFAULT_LAMBDAS, help="one per rate point, low rate first")
    ap.add_argument("--ch", default="48,96,128", help="channels at H/2, H/4, H/8")
    ap.add_argument("--blocks", default="0,1,4", help="residual blocks at H/2, H/4, H/8 (each side)")
    ap.add_argument("--dec-blocks", default="", help="the decoder's residual blocks, if not --blocks")
    ap.add_argument("--latent", type=int, default=48, help="C, latent channels")
    ap.add_argument("--levels", type=int, default=7, help="L, quantizer levels (odd for uniform)")
    ap.add_argument("--quant", choices=["uniform", "centres"], default="uniform")
    ap.add_argument("--sigma", type=float, default=1.0, help="soft-assignment sharpness")
    ap.add_argument("--scales", default="0.5,0.75", help="training image down-scaling factors (Lanczos)")
    ap.add_argument("--imp-scale", choices=["learned", "fixed"], default="learned",
                    help="importance scale a(t) in heat = C sigmoid(a h + b): learned, or fixed at 1 (with "
                         "--init from a learned model, b(t) is moved so that k stays the same at the mean h)")
    ap.add_argument("--resume", default="auto", help="'auto' (DIR/last.pt if present), 'no', or a path")
    ap.add_argument("--init", default="", help="load model weights only (fine-tuning)")
    ap.add_argument("--init-opt", action="store_true",
                    help="with a --init checkpoint (.pt) of the same model: also take its Adam moments, so a "
                         "new schedule starts without a fresh optimiser's uniform first steps")
    ap.add_argument("--print-every", type=int, default=20)
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--val-min", type=float, default=10.0, help="validate every N minutes (0: every checkpoint)")
    ap.add_argument("--val-n", type=int, default=16, help="number of bsds500/val images")
    ap.add_argument("--val-scale", type=float, default=0.75)
    ap.add_argument("--val-t", default="",
                    help="knob positions whose mean gain picks best.pt (default: 0, (R-1)/2, R-1); "
                         "the ladder ends are validated and logged too")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf16", action="store_true",
                    help="encoder and decoder convolutions in bfloat16 in training (torch.autocast); the "
                         "quantizer, rate model, weights, optimizer and validation stay fp32")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="keep an exponential moving average of the weights with this decay per iteration "
                         "(e.g. 0.9995; 0 = off); validation scores both, best.pt gets the better")
    ap.add_argument("--flat", type=float, default=0.0,
                    help="share of training crops given synthetic flat content (dlic_data.add_flat)")
    ap.add_argument("--flat-val", action="store_true",
                    help="also report PSNR on dlic_data.flat_set() at each validation (not used to pick best.pt)")
    ap.add_argument("--train-rows", default="",
                    help="train only these rate points' tables (e.g. '0,1,9' after --init with an extended "
                         "--lambdas): the networks and every other row stay exactly as they are, and t is "
                         "drawn within 1 of the rows trained")
    ap.add_argument("--encoder-only", action="store_true",
                    help="train only the encoder side (enc.*, the gains g(t), the importance scale and offset): "
                         "the decoder, the inverse gains and the probability tables stay bit-identical, so "
                         "the new weights decode every stream the old ones wrote and the other way round")
    ap.add_argument("--decoder-only", action="store_true",
                    help="train only the decoder network (dec.*): the encoder, the gains and the probability "
                         "tables stay bit-identical, so every stream keeps its symbols (e.g. with a grown "
                         "--dec-blocks)")
    args = ap.parse_args()
    assert args.minutes > 0 or args.iters > 0, "give --minutes or --iters"
    assert args.crop % 8 == 0
    blascheck.require_fast_blas()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, "train.log"), "a")

    def log(s):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + s
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    lambdas = [float(v) for v in args.lambdas.split(",")]
    R = len(lambdas)
    log_lam = torch.log(torch.tensor(lambdas))
    ts_sel = sorted({float(v) for v in args.val_t.split(",")} if args.val_t else {0.0, (R - 1) / 2, float(R - 1)})
    ts_val = sorted(set(ts_sel) | {0.0, float(R - 1)})

    # ---- model, optimiser, state
    cfg = dict(ch=tuple(int(v) for v in args.ch.split(",")), blocks=tuple(int(v) for v in args.blocks.split(",")),
               C=args.latent, L=args.levels, quant=args.quant, R=R, sigma=args.sigma, imp_scale=args.imp_scale,
               dec_blocks=tuple(int(v) for v in args.dec_blocks.split(",")) if args.dec_blocks else None)
    model = DLIC(**cfg)
    opt = make_opt(model, args)
    st = {"iter": 0, "elapsed": 0.0, "best_gain": -1e9, "seed": args.seed}
    ck = {"auto": os.path.join(args.out, "last.pt"), "no": ""}.get(args.resume, args.resume)
    ema_sd = None
    if ck and os.path.exists(ck):
        d = torch.load(ck, map_location="cpu")
        model = model_from_meta(d["meta"])
        model.load_state_dict(d["model"])
        opt = make_opt(model, args)
        opt.load_state_dict(d["opt"])
        st.update(d["state"])
        ema_sd = d.get("ema")
        if model.meta() != DLIC(**cfg).meta():
            log(f"warning: checkpoint model {model.meta()} differs from the command line; using the checkpoint's")
        log(f"resumed {ck} at iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min")
    elif args.init:
        if args.init.endswith(".safetensors"):      # e.g. the shipped core/models weights
            from export import read_safetensors
            from export_dlic import DERIVED
            w, meta = read_safetensors(args.init)
            d = {"model": {k: torch.from_numpy(v.copy()) for k, v in w.items() if k not in DERIVED},
                 "lambdas": [float(x) for x in meta.get("lambdas", "").split(",") if x]}
        else:
            d = torch.load(args.init, map_location="cpu")
        sd, own = d["model"], model.state_dict()
        src_lam = d.get("lambdas", [])
        if own["centres_raw"].shape != sd["centres_raw"].shape:
            sd["centres_raw"] = own["centres_raw"]     # uniform levels -K..K: a buffer
        ls, L = sd["prob_sym_logits"], own["prob_sym_logits"].shape[-1]
        if ls.shape[-1] != L:
            # more (or fewer) uniform levels: keep the logits of the common values, extend the tails
            # by their last decrement (at least 0.5 per level) so the new outer levels start rare
            assert args.quant == "uniform", "--levels can only change for the uniform quantiser"
            Ko, Kn = (ls.shape[-1] - 1) // 2, (L - 1) // 2
            v = torch.arange(-Kn, Kn + 1)
            dec = torch.clamp(ls[..., 1:2] - ls[..., :1], min=0.5), torch.clamp(ls[..., -2:-1] - ls[..., -1:], min=0.5)
            lo = ls[..., :1] - (-Ko - v[v < -Ko]).to(ls) * dec[0]
            hi = ls[..., -1:] - (v[v > Ko] - Ko).to(ls) * dec[1]
            mid = ls[..., max(0, Ko - Kn):ls.shape[-1] - max(0, Ko - Kn)]
            sd["prob_sym_logits"] = torch.cat([lo, mid, hi], -1) if Kn > Ko else mid
            log(f"levels {ls.shape[-1]} -> {L}: symbol logits extended")
        for k, v in list(sd.items()):
            if k in own and own[k].shape != v.shape and (k.startswith("rate_") or k.startswith("prob_")):
                # different rate points (e.g. fine-tuning one lambda from the variable-rate base):
                # each new row = the base's table at the knob position of that lambda (log-lambda lerp)
                pos = np.interp(np.log(lambdas), np.log(src_lam), np.arange(len(src_lam)))
                sd[k] = lerp(v, torch.tensor(pos, dtype=torch.float32)).clone()
        # more residual blocks than the source (--blocks grown): the new ones keep their
        # initialisation, whose second convolution is zero, so each starts as the identity and
        # the grown model computes exactly what the source did
        grown = [k for k in own if k not in sd]
        bad = [k for k in grown if not re.fullmatch(r"(enc|dec)\.b[123]\.\d+\.c[12]\.(weight|bias)", k)]
        assert not bad, f"--init {args.init}: tensors missing that are not new residual blocks: {bad[:4]}"
        if grown:
            for k in grown:
                sd[k] = own[k]
            log(f"{len(grown) // 4} new residual block(s), starting as the identity")
            assert not args.init_opt, "--init-opt needs the same tensors (not with grown --blocks)"
        model.load_state_dict(sd)
        log(f"initialised weights from {args.init} (lambdas {src_lam} -> {lambdas})")
        if args.init_opt:
            assert "opt" in d, f"--init-opt: {args.init} holds no optimiser state"
            opt = make_opt(model, args)
            opt.load_state_dict(d["opt"])    # moments only: the LR is set from the new schedule every step
            log(f"Adam moments taken from {args.init}")
        if args.imp_scale == "fixed" and not torch.allclose(model.rate_imp_scale, torch.ones(R)):
            # a(t) -> 1 without changing the importance map at the start: the importance logit h is
            # rescaled by the mean scale a_bar (the last encoder conv's output row C), and the
            # offsets keep every rate point's heat at the mean logit:
            #   a(t) h + b(t)  ~  a_bar h + b'(t),  b'(t) = b(t) + (a(t) - a_bar) mean(h)
            # (equal at h = mean(h); the spread over locations becomes a_bar's, which is what the
            # learned scales gave on average). Session 3's conversion kept b' = b + (a - 1) mean(h)
            # and so multiplied the spread by 1 / a (about 60x): -1.07 -> -1.22 dB at 10 minutes.
            with torch.no_grad():
                xs = torch.from_numpy(dlic_data.RGBCropSampler(dlic_data.load_set("train", (0.5,)),
                                                               args.crop, seed=12345).batch(32))
                mh = float(model.enc(xs)[:, model.C].mean())
                a_old = model.rate_imp_scale.clone()
                a_bar = float(a_old.mean())
                model.enc.e4.weight[model.C] *= a_bar
                model.enc.e4.bias[model.C] *= a_bar
                model.rate_imp_offset += (a_old - a_bar) * mh
                model.rate_imp_scale.fill_(1.0)
            log(f"importance scale fixed at 1 (was {a_old.numpy().round(4).tolist()}; logit rescaled by "
                f"{a_bar:.4f}; mean h {mh:.3f}): offsets now "
                f"{model.rate_imp_offset.detach().numpy().round(3).tolist()}")

    train_rows = sorted({int(v) for v in args.train_rows.split(",")}) if args.train_rows else []
    if train_rows:
        # rate-range extension on a frozen codec: only the listed rows of the rate/prob tables learn
        assert all(0 <= r < R for r in train_rows), f"--train-rows outside 0..{R - 1}"
        keep = torch.zeros(R)
        keep[train_rows] = 1.0
        for n, p in model.named_parameters():
            if n.startswith(("rate_", "prob_")):
                p.register_hook(lambda g, m=keep.view(-1, *([1] * (p.dim() - 1))): g * m)
            else:
                p.requires_grad_(False)
        log(f"training only the tables of rate points {train_rows}; networks and other rows frozen")

    # --encoder-only / --decoder-only: the parameters whose names start with 'prefixes' train,
    # the others are frozen (and stay bit-identical)
    if args.encoder_only or args.decoder_only:
        assert not train_rows and not (args.encoder_only and args.decoder_only), \
            "--encoder-only, --decoder-only and --train-rows exclude each other"
        prefixes, what, frozen = (ENCODER_SIDE, "encoder side only", "decoder and tables frozen") \
            if args.encoder_only else (("dec.",), "decoder only", "encoder and tables frozen")
        for n, p in model.named_parameters():
            if not n.startswith(prefixes):
                p.requires_grad_(False)
        nt = sum(p.numel() for p in model.parameters() if p.requires_grad)
        log(f"{what}: {nt / 1e6:.3f} M parameters train, {frozen}")
        opt = make_opt(model, args)

    def draw_t(n):
        if train_rows:
            r = rng.choice(train_rows, n).astype(np.float32)
            return torch.from_numpy(np.clip(r + rng.uniform(-1, 1, n), 0, R - 1).astype(np.float32))
        if R > 1:
            return torch.from_numpy(rng.uniform(0, R - 1, n).astype(np.float32))
        return torch.zeros(n)

    ema = EMA(model, args.ema) if args.ema > 0 else None
    if ema is not None and ema_sd is not None:
        ema.load_state_dict(ema_sd)

    # ---- data
    t0 = time.time()
    scales = tuple(float(s) for s in args.scales.split(","))
    train = dlic_data.load_set("train", scales)
    vall = dlic_data.load_set("val", (args.val_scale,))
    vidx = np.linspace(0, len(vall) - 1, args.val_n).round().astype(int)
    vimgs = [vall[i] for i in vidx]
    vcurves = [jpeg_curve(im) for im in vimgs]
    sampler = dlic_data.RGBCropSampler(train, args.crop, seed=args.seed * 100003 + st["iter"], flat=args.flat)
    fset = dlic_data.flat_set() if args.flat_val else []
    rng = np.random.default_rng(args.seed * 7919 + st["iter"] + 1)
    nparam = sum(p.numel() for p in model.parameters())
    me, md = count_macs(model)
    log(f"start {vars(args)} | dlic {model.meta()} {nparam / 1e6:.3f} M params, "
        f"{me / 1e3:.1f} k / {md / 1e3:.1f} k MAC/px enc/dec | train {len(train)} images (scales {scales}) "
        f"| val idx {vidx.tolist()} scale {args.val_scale} | data {time.time() - t0:.1f} s")

    def progress():
        a = st["elapsed"] / (60 * args.minutes) if args.minutes > 0 else 0.0
        b = st["iter"] / args.iters if args.iters > 0 else 0.0
        return max(a, b)

    def lr_now():
        warm = min(1.0, (st["iter"] + 1) / max(1, args.warmup))
        return args.lr * warm * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress()))))

    def checkpoint(do_val):
        msg = ""
        best_sd = None
        if do_val:
            for name, ctx in candidates(model, ema):
                tv = time.time()
                with ctx:
                    r = validate(model, vimgs, vcurves, ts_val)
                    model.eval()
                    fl = [dlic_data.psnr_rgb(code_image(model, im, t)[0], im) for _, im, _ in fset
                          for t in ts_sel]
                    model.train()
                gain = float(np.mean([r[t][2] for t in ts_sel]))
                msg += f" | val{'' if name == 'raw' else ' ema'} " + \
                    " ".join(f"t={t:g}: {p:.2f} dB {b:.3f} bpp ({g:+.2f} vs JPEG)" for t, (p, b, g) in r.items()) + \
                    f" | mean gain {gain:+.3f} dB" + (f" | flat set {np.mean(fl):.2f} dB" if fl else "") + \
                    f" ({time.time() - tv:.0f} s)"
                st.setdefault("val_history", []).append(
                    {"iter": st["iter"], "elapsed": st["elapsed"], "gain": gain, "kind": name,
                     "points": {str(t): v for t, v in r.items()}})
                if gain > st["best_gain"]:
                    best_sd = note_best(st, name, gain, {str(t): v for t, v in r.items()}, model, ema)
                    msg += " (best)"
        d = {"model": model.state_dict(), "opt": opt.state_dict(), "state": dict(st),
             "args": vars(args), "arch": "dlic", "meta": model.meta(), "lambdas": lambdas}
        if ema is not None:
            d["ema"] = ema.state_dict()
        save_atomic(d, os.path.join(args.out, "last.pt"))
        if best_sd is not None:
            # best.pt holds the better of the raw and the averaged weights as "model" (what export reads)
            save_atomic(dict(d, model=best_sd), os.path.join(args.out, "best.pt"))
        log(f"checkpoint iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min{msg}")

    # ---- loop
    model.bf16 = args.bf16
    model.train()
    t_last = time.time()
    t_ckpt = t_val = st["elapsed"]
    acc = np.zeros(5)
    n_run, t_print = 0, time.time()
    pix = args.crop * args.crop
    while progress() < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_now() * g["mult"]
        x = torch.from_numpy(sampler.batch(args.batch))
        t = draw_t(args.batch)
        lam = torch.exp(lerp(log_lam, t))
        xhat, bits, aux = model(x, t)
        mse = ((xhat - x) ** 2).flatten(1).mean(1) * (255.0 ** 2)
        bpp = bits / pix
        rw = min(1.0, (st["iter"] + 1) / max(1, args.rate_warmup))
        loss = (lam * mse + rw * bpp).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            ema.update(model)
        st["iter"] += 1
        now = time.time()
        st["elapsed"] += now - t_last
        t_last = now
        acc += [loss.item(), mse.mean().item(), bpp.mean().item(), aux["mean_k"].item(), float(aux["clip_frac"])]
        n_run += 1
        if st["iter"] % args.print_every == 0:
            a = acc / n_run
            log(f"iter {st['iter']} loss {a[0]:.4f} mse {a[1]:.2f} ({10 * math.log10(255 ** 2 / a[1]):.2f} dB) "
                f"bpp {a[2]:.3f} mean-k {a[3]:.1f} clip {a[4]:.4f} lr {lr_now():.2e} "
                f"{n_run / (now - t_print):.3f} it/s elapsed {st['elapsed'] / 60:.1f} min")
            acc[:] = 0
            n_run, t_print = 0, time.time()
        if st["elapsed"] - t_ckpt >= 60 * args.ckpt_min:
            do_val = st["elapsed"] - t_val >= 60 * args.val_min
            checkpoint(do_val)
            t_ckpt = st["elapsed"]
            t_val = st["elapsed"] if do_val else t_val
            acc[:] = 0
            n_run, t_print = 0, time.time()
    checkpoint(True)
    log(f"done: iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min best gain {st['best_gain']:+.3f} dB")


if __name__ == "__main__":
    main()
