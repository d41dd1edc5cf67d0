"""Artifact removal on synthetic graphics: JPEG vs restored PSNR on jpegdata.graphics_set().

  /usr/bin/python3 core/train/probe_graphics.py core/models/casartifact-fast-q10.safetensors --q 10

Prints per picture and the mean, full strength (the network's output, as training validates it).
Picture 0 is the session-12 test picture (flat rectangles at 0 / 30 / 200).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpegdata  # noqa: E402
from export import load_model  # noqa: E402
from train_casartifact import psnr, restore  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--q", default="10,40")
    args = ap.parse_args()
    torch.set_num_threads(1)
    gset = jpegdata.graphics_set()
    for path in args.models:
        model = load_model(path)
        mult = int(model.meta()["multiple"])
        for q in (int(v) for v in args.q.split(",")):
            pj, po = [], []
            for g in gset:
                d = jpegdata.jpeg_gray(g, q)
                pj.append(psnr(d, g))
                po.append(psnr(restore(model, d, mult), g))
            print(f"{os.path.basename(path)} Q{q}: JPEG {np.mean(pj):.2f} -> {np.mean(po):.2f} dB "
                  f"({np.mean(po) - np.mean(pj):+.2f}) | per picture " +
                  " ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(pj, po)), flush=True)


if __name__ == "__main__":
    main()
