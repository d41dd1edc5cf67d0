"""Probe: does a dead-zone quantiser (rounding toward zero by theta) help the dlic codec?

  /usr/bin/python3 core/train/probe_deadzone.py MODEL.pt|.safetensors

On every 12th bsds500/val picture (scale 0.75), 7 knob values, theta 0 / 0.1 / 0.2 / 0.3: PSNR and
per-channel empirical entropy, then the BD-rate of each theta curve against theta 0. Nothing trains.
"""
import sys, os, torch, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlic_data
from export_dlic import load_dlic
from probe_ceiling import entropy_bits
from eval_dlic import bd_rate
torch.set_num_threads(1)
m = load_dlic(sys.argv[1])
imgs = dlic_data.load_set("val", (0.75,))[::12]
thetas = [0.0, 0.1, 0.2, 0.3]
res = {th: ([], []) for th in thetas}
with torch.no_grad():
  feats = []
  for img in imgs:
    x = torch.from_numpy(dlic_data.pad_to(img, 8)); feats.append(m.enc(x))
  for t in np.linspace(0, m.R - 1, 7):
    for th in thetas:
      P = B = 0
      for img, z in zip(imgs, feats):
        H, W = img.shape[:2]
        y, h = z[:, :m.C], z[:, m.C]
        g, gi, a, b = m.rate_params(torch.full((1,), float(t)))
        k = m.levels(m.heat(h, a, b))
        s = y * g[:, :, None, None]
        coded = torch.arange(m.C).view(1, -1, 1, 1) < k[:, None]
        q = torch.clamp(torch.sign(s) * torch.floor(s.abs() + 0.5 - th), -m.K, m.K)
        out = dlic_data.to_uint8(m.dec(q * coded * gi[:, :, None, None]).numpy(), H, W)
        P += dlic_data.psnr_rgb(out, img); B += entropy_bits((q + m.K).long(), coded, m.L) / (H * W)
      res[th][0].append(B / len(imgs)); res[th][1].append(P / len(imgs))
      print(f"t={t:.2f} theta={th}: {P/len(imgs):.3f} dB {B/len(imgs):.4f} bpp", flush=True)
for th in thetas[1:]:
  print(f"theta {th}: BD-rate vs 0: {bd_rate(res[0][0], res[0][1], res[th][0], res[th][1]):+.2f}%")
