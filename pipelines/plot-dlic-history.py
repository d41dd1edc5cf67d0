#!/usr/bin/python3
"""Plot how the dlic codec's Kodak BD-rate and validation gain moved with the training spent on it.

  pipelines/plot-dlic-history.py                       # docs/data/dlic-history.json -> docs/img/dlic-history.png
  pipelines/plot-dlic-history.py --json H.json --out /tmp/h.png

Left: BD-rate vs JPEG 4:2:0 of each shipped version (pipelines/bench-dlic.py) against the training
core-hours spent up to it; versions that changed the codec but not the networks (bitstream, coded
sizes) sit at the same x.  The classical codecs of the same bench are dashed lines.
Right: validation gain over JPEG (core/train/train_dlic.py, 16 bsds500/val pictures) against the same
core-hours, where it was recorded, with the gain per core-hour of each training run.
Needs python3-matplotlib (tests/install-deps.sh --bench).
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", default=os.path.join(ROOT, "docs/data/dlic-history.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/img/dlic-history.png"))
    args = ap.parse_args()
    try:
        with open(args.json) as f:
            hist = json.load(f)
        versions = hist["versions"]
        refs = hist.get("references", {})
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"plot-dlic-history: {args.json}: {e}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot-dlic-history: needs python3-matplotlib (tests/install-deps.sh --bench)")

    fig, (ax, av) = plt.subplots(1, 2, figsize=(12, 4.6))
    x = [v["core_hours"] for v in versions]
    y = [v["bd_rate"] for v in versions]
    ax.plot(x, y, "-o", color="C3", label="dlic (one pass)")
    for i, v in enumerate(versions):
        same_x = sum(1 for u in versions[:i] if u["core_hours"] == v["core_hours"])
        ax.annotate(v["label"], (v["core_hours"], v["bd_rate"]), textcoords="offset points",
                    xytext=(5, 4 - 9 * same_x), fontsize=7)
    for i, (name, bd) in enumerate(refs.items()):
        ax.axhline(bd, ls="--", lw=1, color=f"C{i}", label=f"{name} {bd:+.1f}%")
    ax.axhline(0, lw=0.8, color="0.5")
    ax.set_xlabel("training spent (core-hours, cumulative)")
    ax.set_ylabel("Kodak BD-rate vs JPEG 4:2:0 (%)")
    ax.set_title("BD-rate per shipped version (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")

    pts = [(v["core_hours"], v["validation"], v["label"]) for v in versions if "validation" in v]
    if pts:
        av.plot([p[0] for p in pts], [p[1] for p in pts], "-o", color="C3")
        for (x0, y0, _), (x1, y1, lab) in zip(pts, pts[1:]):
            rate = (y1 - y0) / (x1 - x0) if x1 > x0 else float("nan")
            av.annotate(f"{lab}: {rate:+.3f} dB/core-h", (x1, y1), textcoords="offset points",
                        xytext=(-10, -14), ha="right", fontsize=7)
        av.axhline(0, lw=0.8, color="0.5")
    av.set_xlabel("training spent (core-hours, cumulative)")
    av.set_ylabel("validation gain over JPEG (dB)")
    av.set_title("validation (bsds500/val, 16 pictures)")
    av.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
