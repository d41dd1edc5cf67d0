"""Train a JPEG artifact-removal model (one blind model for Q10..60) on bsds500 luma crops.

  /usr/bin/python3 core/train/train_casartifact.py --model cascnn --out /work/runs/casartifact/cascnn \
      --minutes 150 --batch 8 --crop 64 --lr 3e-4 --phase multiscale

Phases: multiscale = mean of the MSEs of the 4 outputs (h/8, h/4, h/2 side outputs and the final
output) against area-down-scaled targets; finetune = full-size MSE only (start it with
--init <multiscale run>/best.pt into a new --out).
Budget: --minutes (wall time, summed over resumes) or --iters; the LR follows a cosine from --lr
to lr/100 over that budget after a short linear warm-up.
Resume: DIR/last.pt is picked up automatically (--resume no to start over, or a path).
Every --ckpt-min minutes: DIR/last.pt (model + optimizer, atomic). Every --val-min minutes and at
the end: PSNR on a fixed bsds500/val subset (full size, Q10 and Q40), DIR/best.pt by mean gain.
Always single-threaded (torch.set_num_threads(1)) unless --threads says otherwise.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blascheck  # noqa: E402
import jpegdata  # noqa: E402
from ema import EMA, candidates, note_best  # noqa: E402
from models import MODELS  # noqa: E402


def psnr(a, b):
    """PSNR in dB of two uint8 arrays (peak 255)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else min(99.0, 10 * math.log10(255.0 ** 2 / mse))   # capped: a mean stays finite


@torch.no_grad()
def restore(model, y, multiple=8):
    """uint8 (H, W) JPEG-decoded luma -> uint8 (H, W) restored. Pads bottom/right by edge
    replication to a multiple of `multiple`, crops back, rounds and clips to [0, 255]."""
    H, W = y.shape
    ph, pw = (-H) % multiple, (-W) % multiple
    x = np.pad(y, ((0, ph), (0, pw)), mode="edge").astype(np.float32) / 255.0
    out = model(torch.from_numpy(x)[None, None])[0, 0, :H, :W].numpy()
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def validate(model, clean, deg, idx, qs):
    """Mean PSNR (JPEG, restored) per quality over images idx. -> {q: (psnr_jpeg, psnr_out)}."""
    model.eval()
    res = {}
    for q in qs:
        pj, po = [], []
        for k in idx:
            pj.append(psnr(deg[q][k], clean[k]))
            po.append(psnr(restore(model, deg[q][k], int(model.meta()["multiple"])), clean[k]))
        res[q] = (float(np.mean(pj)), float(np.mean(po)))
    model.train()
    return res


def loss_fn(model, x, y, phase, w=None):
    """x, y: (N, 1, c, c) -> scalar loss. multiscale: mean MSE over final + side outputs,
    each against the target area-down-scaled to the output's size. w: optional (N,) weights of
    the crops (the mean over the batch of w_i * MSE_i)."""
    def mse(a, b):
        if w is None:
            return F.mse_loss(a, b)
        return (w * ((a - b) ** 2).flatten(1).mean(1)).mean()
    out, sides = model(x, side=True)
    losses = [mse(out, y)]
    if phase == "multiscale":
        for o in sides:
            losses.append(mse(o, F.avg_pool2d(y, y.shape[-1] // o.shape[-1])))
    return sum(losses) / len(losses), losses[0]


def deepen_body(model, sd):
    """A fast model with more middle convs than the state dict sd: add the missing body.i to sd
    as identity convolutions (centre tap = I, bias 0). After a ReLU, relu(I h) = h, so the deeper
    model starts as exactly the shallower one and training continues from there. -> added i."""
    added = []
    for i, m in enumerate(model.body):
        if f"body.{i}.weight" in sd:
            continue
        w = torch.zeros_like(m.weight)
        k = w.shape[-1] // 2
        w[:, :, k, k] = torch.eye(w.shape[0], w.shape[1])
        sd[f"body.{i}.weight"], sd[f"body.{i}.bias"] = w, torch.zeros_like(m.bias)
        added.append(i)
    return added


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), default="cascnn")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=0, help="wall-time budget (sum over resumes)")
    ap.add_argument("--iters", type=int, default=0, help="iteration budget (if --minutes is 0)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64, help="multiple of 8 (of 64 for side outputs)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=100, help="linear warm-up iterations")
    ap.add_argument("--phase", choices=["multiscale", "finetune"], default="multiscale")
    ap.add_argument("--resume", default="auto", help="'auto' (DIR/last.pt if present), 'no', or a path")
    ap.add_argument("--init", default="", help="load model weights only (e.g. for --phase finetune)")
    ap.add_argument("--qualities", default="10-60:5", help="lo-hi:step of training JPEG qualities")
    ap.add_argument("--print-every", type=int, default=20)
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--val-min", type=float, default=15.0, help="validate every N minutes (0: every checkpoint)")
    ap.add_argument("--val-n", type=int, default=20, help="number of bsds500/val images")
    ap.add_argument("--val-q", default="10,40")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf16", action="store_true",
                    help="training forward/backward convolutions in bfloat16 (torch.autocast; weights, "
                         "optimizer and validation stay fp32): 1.5-2x the iterations per CPU-hour on "
                         "AVX-512 BF16 CPUs")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="keep an exponential moving average of the weights with this decay per iteration "
                         "(e.g. 0.998; 0 = off); validation scores both, best.pt gets the better")
    ap.add_argument("--fast-ch", type=int, default=64, help="fast model: channels at 1/8 resolution")
    ap.add_argument("--fast-mid", type=int, default=2, help="fast model: middle convs")
    ap.add_argument("--fast-body-k", type=int, default=3, choices=[1, 3],
                    help="fast model: kernel size of the middle convs")
    ap.add_argument("--fast-fine", type=int, default=0,
                    help="fast model: channels of a final stage at 2/scale resolution (0: none)")
    ap.add_argument("--fast-scale", type=int, default=8, help="fast model: space-to-depth factor")
    ap.add_argument("--graphics", type=float, default=0.0,
                    help="share of training crops that are synthetic graphics (jpegdata.graphic(): flat "
                         "areas, sharp edges, strokes), JPEG-compressed on the fly at the crop's quality")
    ap.add_argument("--graphics-loss-weight", type=float, default=1.0,
                    help="weight of the graphic crops' MSE in the loss: their JPEG errors are a few "
                         "levels where a photograph's are ten, so at weight 1 they hardly move the network")
    ap.add_argument("--graphics-weight", type=float, default=0.0,
                    help="validation also scores jpegdata.graphics_set() at the --val-q qualities, and "
                         "best.pt is chosen by photo gain + W x graphics gain (0: scored, not weighed)")
    args = ap.parse_args()
    assert args.minutes > 0 or args.iters > 0, "give --minutes or --iters"
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

    # ---- data
    lo, rest = args.qualities.split("-")
    hi, step = (rest.split(":") + ["5"])[:2]
    qs = list(range(int(lo), int(hi) + 1, int(step)))
    val_q = [int(q) for q in args.val_q.split(",")]
    clean, deg = jpegdata.load_split("train", qs)
    vclean, vdeg = jpegdata.load_split("val", sorted(set(val_q)))
    vidx = np.linspace(0, len(vclean) - 1, args.val_n).round().astype(int)  # fixed subset

    # ---- model, optimiser, state
    model = MODELS[args.model](args.fast_scale, args.fast_ch, args.fast_mid, args.fast_body_k,
                               args.fast_fine) \
        if args.model == "fast" \
        else MODELS[args.model]()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    st = {"iter": 0, "elapsed": 0.0, "best_gain": -1e9, "seed": args.seed}
    ck = {"auto": os.path.join(args.out, "last.pt"), "no": ""}.get(args.resume, args.resume)
    ema_sd = None
    if ck and os.path.exists(ck):
        d = torch.load(ck, map_location="cpu")
        model.load_state_dict(d["model"])
        opt.load_state_dict(d["opt"])
        st.update(d["state"])
        ema_sd = d.get("ema")
        if d["args"].get("phase") != args.phase:
            log(f"warning: checkpoint phase {d['args'].get('phase')} != --phase {args.phase}")
        log(f"resumed {ck} at iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min")
    elif args.init:
        if args.init.endswith(".safetensors"):      # e.g. the shipped core/models weights
            from export import read_safetensors
            w, _ = read_safetensors(args.init)
            sd = {k: torch.from_numpy(v.copy()) for k, v in w.items()}
        else:
            sd = torch.load(args.init, map_location="cpu")["model"]
        deepen = deepen_body(model, sd) if args.model == "fast" else []
        model.load_state_dict(sd)
        log(f"initialised weights from {args.init}" +
            (f"; body layers {deepen} added as identities (the same function)" if deepen else ""))
    ema = EMA(model, args.ema) if args.ema > 0 else None
    if ema is not None and ema_sd is not None:
        ema.load_state_dict(ema_sd)
    sampler = jpegdata.CropSampler(clean, deg, args.crop, seed=args.seed * 100003 + st["iter"],
                                   graphics=args.graphics)
    gset = jpegdata.graphics_set() if args.graphics > 0 or args.graphics_weight > 0 else []
    gclean = np.stack(gset) if gset else None
    gdeg = {q: np.stack([jpegdata.jpeg_gray(g, q) for g in gset]) for q in val_q} if gset else None
    nparam = sum(p.numel() for p in model.parameters())
    log(f"start {vars(args)} | {args.model} {nparam / 1e6:.3f} M params | train {clean.shape} "
        f"Q {qs} | val idx {vidx.tolist()} Q {val_q}")

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
                with ctx:
                    r = validate(model, vclean, vdeg, vidx, val_q)
                    rg = validate(model, gclean, gdeg, range(len(gset)), val_q) if gset else {}
                gain = float(np.mean([o - j for j, o in r.values()]))
                msg += f" | val{'' if name == 'raw' else ' ema'} " + \
                    " ".join(f"Q{q}: jpeg {j:.3f} out {o:.3f} ({o - j:+.3f} dB)" for q, (j, o) in r.items()) + \
                    f" | mean gain {gain:+.3f} dB"
                if rg:
                    ggain = float(np.mean([o - j for j, o in rg.values()]))
                    msg += " | graphics " + " ".join(f"Q{q}: {j:.2f} -> {o:.2f}" for q, (j, o) in rg.items()) + \
                        f" ({ggain:+.3f} dB)"
                    gain += args.graphics_weight * ggain
                if gain > st["best_gain"]:
                    best_sd = note_best(st, name, gain, {str(q): v for q, v in r.items()}, model, ema)
                    msg += " (best)"
        d = {"model": model.state_dict(), "opt": opt.state_dict(), "state": dict(st),
             "args": vars(args), "arch": args.model, "meta": model.meta()}
        if ema is not None:
            d["ema"] = ema.state_dict()
        save_atomic(d, os.path.join(args.out, "last.pt"))
        if best_sd is not None:
            # best.pt holds the better of the raw and the averaged weights as "model" (what export reads)
            save_atomic(dict(d, model=best_sd), os.path.join(args.out, "best.pt"))
        log(f"checkpoint iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min{msg}")

    # ---- loop
    model.train()
    t_last = time.time()
    t_ckpt = t_val = st["elapsed"]
    run_loss = run_full = 0.0
    n_run, t_print = 0, time.time()
    while progress() < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_now()
        x, y = sampler.batch(args.batch)
        w = None
        if args.graphics_loss_weight != 1.0 and sampler.last_graphic.any():
            w = torch.from_numpy(np.where(sampler.last_graphic, args.graphics_loss_weight, 1.0).astype(np.float32))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss, full = loss_fn(model, torch.from_numpy(x), torch.from_numpy(y), args.phase, w)
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
        run_loss += loss.item()
        run_full += full.item()
        n_run += 1
        if st["iter"] % args.print_every == 0:
            mse = run_full / n_run
            log(f"iter {st['iter']} loss {run_loss / n_run:.6f} full-mse {mse:.6f} "
                f"({10 * math.log10(1 / mse):.2f} dB) lr {lr_now():.2e} "
                f"{n_run / (now - t_print):.3f} it/s elapsed {st['elapsed'] / 60:.1f} min")
            run_loss = run_full = 0.0
            n_run, t_print = 0, time.time()
        if st["elapsed"] - t_ckpt >= 60 * args.ckpt_min:
            do_val = st["elapsed"] - t_val >= 60 * args.val_min
            checkpoint(do_val)
            t_ckpt = st["elapsed"]
            t_val = st["elapsed"] if do_val else t_val
            # checkpoint/validation time counts toward the budget (next iteration's now - t_last)
            n_run, t_print, run_loss, run_full = 0, time.time(), 0.0, 0.0
    checkpoint(True)
    log(f"done: iter {st['iter']} elapsed {st['elapsed'] / 60:.1f} min best gain {st['best_gain']:+.3f} dB")


if __name__ == "__main__":
    main()
