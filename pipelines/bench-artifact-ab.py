"""Interleaved C-engine vs PyTorch timing of an artifact model at 1280x720, for noisy hosts.

  /usr/bin/python3 pipelines/bench-artifact-ab.py [WEIGHTS] [ROUNDS]

Each round: tests/bench-artifact best of 5, then PyTorch (same weights, no_grad) best of 5; prints
best and median over the rounds, 2 threads then 1. Needs the build (build/tests) and python3-torch.
"""
import os
import re
import subprocess
import sys
import time
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "core/train"))
import torch
from export import load_model
W, H, R = 1280, 720, int(sys.argv[2]) if len(sys.argv) > 2 else 6
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "core/models/casartifact-fast.safetensors")
m = load_model(path)
x = torch.rand(1, 1, H, W)
for t in (2, 1):
    torch.set_num_threads(t)
    cs, ps = [], []
    for r in range(R):
        out = subprocess.run([os.path.join(ROOT, "build/tests/bench-artifact"), path, str(W), str(H), str(t), "5"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        cs.append(float(re.search(r"^best .*: ([0-9.]+) ms", out, re.M).group(1)))
        with torch.no_grad():
            m(x)
            b = 1e9
            for _ in range(5):
                t0 = time.perf_counter(); m(x); b = min(b, time.perf_counter() - t0)
        ps.append(b * 1000)
    cs.sort(); ps.sort()
    print(f"threads {t}: C best {cs[0]:.1f} median {cs[len(cs)//2]:.1f} ms | PyTorch best {ps[0]:.1f} median {ps[len(ps)//2]:.1f} ms | "
          f"ratio best {ps[0]/cs[0]:.2f}x median {ps[len(ps)//2]/cs[len(cs)//2]:.2f}x")
    print("  C", [round(v, 1) for v in cs], "\n  PyTorch", [round(v, 1) for v in ps])
