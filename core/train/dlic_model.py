"""dlic: learned image codec (NCTU / Mentzer-style autoencoder with an importance map), PyTorch side.

Ops the C engine must implement (nothing else is used by the networks):
  Conv2d (3x3 or 5x5, stride 1 or 2, zero padding k//2, bias), ReLU, residual add,
  pixel_unshuffle(2) (encoder input) and pixel_shuffle(2) (decoder up-sampling), sigmoid, clamp.

Encoder  x (3, H, W) RGB in [0,1], H and W multiples of 8:
  u  = pixel_unshuffle(x - 0.5, 2)                          (12, H/2)
  a  = relu(enc.e1(u))          conv3 12 -> n1              (n1, H/2)
  a  = enc.b1.i(a), i < b1      resblocks n1 (default none)
  b  = relu(enc.e2(a))          conv5 stride 2 n1 -> n2     (n2, H/4)
  b  = enc.b2.i(b), i < b2      resblocks n2
  c  = enc.e3(b)                conv5 stride 2 n2 -> n3     (n3, H/8)   (no ReLU)
  c  = c + blocks(c)            enc.b3.i, i < b3, long skip
  z  = enc.e4(c)                conv3 n3 -> C + 1           (C + 1, H/8)
  y  = z[0:C]  (latents),  h = z[C]  (importance logit)
Decoder  yhat (C, H/8):
  c  = dec.d0(yhat)             conv3 C -> n3
  c  = c + blocks(c)            dec.b3.i, long skip
  b  = relu(pixel_shuffle(dec.d1(c), 2))   conv3 n3 -> 4 n2  (n2, H/4)
  b  = dec.b2.i(b)
  a  = relu(pixel_shuffle(dec.d2(b), 2))   conv3 n2 -> 4 n1  (n1, H/2)
  a  = dec.b1.i(a)
  x^ = pixel_shuffle(dec.d3(a), 2) + 0.5   conv3 n1 -> 12    (3, H)   then clamp/round to 0..255
resblock(v) = v + conv3(relu(conv3(v)))    (no activation after the add)

Rate knob t in [0, R-1] (continuous; R rate points, each trained with its own lambda).
For a parameter table P[R, ...]: lerp(P, t) = (1 - f) P[i] + f P[i + 1], i = min(floor(t), R - 2), f = t - i.
  gain  g[c]  = exp(lerp(rate.log_gain,  t))[c]    encoder-side, before quantization
  igain gi[c] = exp(lerp(rate.log_igain, t))[c]    decoder-side, after de-quantization
  importance: heat = C * sigmoid(lerp(rate.imp_scale, t) * h + lerp(rate.imp_offset, t))
              k = clamp(floor(heat + 0.5), 0, C)     (round; k = number of coded channels here)
  quantize:   s = y[c] * g[c]
              uniform: q = clamp(round(s), -K, K), index = q + K, value q       (L = 2K + 1)
              centres: index = argmin_j |s - centres[j]| (centres sorted), value centres[index]
  decoder:    yhat[c] = value[c] * gi[c] if c < k else 0
Only the integers (index for c < k, and k) are entropy coded: the decoder never needs a float
computed by the encoder, so parsing is exact on any machine.

Training (differentiable stand-ins):
  soft mask  m[c] = clip(heat - c, 0, 1); hard mask = (m[c] > 0.5) == (c < k); forward uses the hard
             mask, the gradient flows through the soft one (straight-through).
  quantizer  uniform: q = clamp(s) + stopgrad(round(clamp(s)) - clamp(s)) (STE);
             centres: soft = sum_j w_j centres_j, w = softmax(-sigma (s - centres)^2),
                      value = soft + stopgrad(hard - soft) (Mentzer et al. 2018).
  rate proxy bits = sum over coded symbols of -log2 p_t[c][index] (p_t = softmax(lerp(prob.sym_logits, t))[c])
             + sum over locations of -log2 pimp_t[k]  (pimp_t = softmax(lerp(prob.imp_logits, t)))
             Value: the hard symbols; gradient w.r.t. s through the soft assignment w, w.r.t. heat
             through the soft mask and a linear interpolation of the level costs.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LN2 = math.log(2.0)


def conv(cin, cout, k=3, stride=1):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1, self.c2 = conv(ch, ch), conv(ch, ch)
        nn.init.kaiming_normal_(self.c1.weight, nonlinearity="relu")
        nn.init.zeros_(self.c1.bias)
        nn.init.zeros_(self.c2.weight)  # starts as the identity
        nn.init.zeros_(self.c2.bias)

    def forward(self, x):
        return x + self.c2(F.relu(self.c1(x)))


def _init(m):
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    nn.init.zeros_(m.bias)
    return m


class Encoder(nn.Module):
    def __init__(self, ch, blocks, C):
        super().__init__()
        n1, n2, n3 = ch
        b1, b2, b3 = blocks
        self.e1 = _init(conv(12, n1))
        self.b1 = nn.Sequential(*[ResBlock(n1) for _ in range(b1)])
        self.e2 = _init(conv(n1, n2, 5, 2))
        self.b2 = nn.Sequential(*[ResBlock(n2) for _ in range(b2)])
        self.e3 = _init(conv(n2, n3, 5, 2))
        self.b3 = nn.Sequential(*[ResBlock(n3) for _ in range(b3)])
        self.e4 = conv(n3, C + 1)
        nn.init.xavier_normal_(self.e4.weight)
        nn.init.zeros_(self.e4.bias)

    def forward(self, x):
        a = self.b1(F.relu(self.e1(F.pixel_unshuffle(x - 0.5, 2))))
        b = self.b2(F.relu(self.e2(a)))
        c = self.e3(b)
        c = c + self.b3(c)
        return self.e4(c)


class Decoder(nn.Module):
    def __init__(self, ch, blocks, C):
        super().__init__()
        n1, n2, n3 = ch
        b1, b2, b3 = blocks
        self.d0 = conv(C, n3)
        nn.init.xavier_normal_(self.d0.weight)
        nn.init.zeros_(self.d0.bias)
        self.b3 = nn.Sequential(*[ResBlock(n3) for _ in range(b3)])
        self.d1 = _init(conv(n3, 4 * n2))
        self.b2 = nn.Sequential(*[ResBlock(n2) for _ in range(b2)])
        self.d2 = _init(conv(n2, 4 * n1))
        self.b1 = nn.Sequential(*[ResBlock(n1) for _ in range(b1)])
        self.d3 = conv(n1, 12)
        nn.init.normal_(self.d3.weight, std=0.1 / math.sqrt(9 * n1))
        nn.init.zeros_(self.d3.bias)

    def forward(self, y):
        c = self.d0(y)
        c = c + self.b3(c)
        b = self.b2(F.relu(F.pixel_shuffle(self.d1(c), 2)))
        a = self.b1(F.relu(F.pixel_shuffle(self.d2(b), 2)))
        return F.pixel_shuffle(self.d3(a), 2) + 0.5


def lerp(P, t):
    """P: (R, ...) table, t: (N,) float in [0, R-1] -> (N, ...) linear interpolation."""
    R = P.shape[0]
    if R == 1:
        return P[0].expand(t.shape[0], *P.shape[1:])
    i = torch.clamp(torch.floor(t), 0, R - 2).long()
    f = (t - i.to(t.dtype)).clamp(0, 1).view(-1, *([1] * (P.dim() - 1)))
    return (1 - f) * P[i] + f * P[i + 1]


# the parameters only the encoder uses (everything else is read by the decoder)
ENCODER_SIDE = ("enc.", "rate_log_gain", "rate_imp_scale", "rate_imp_offset")


class DLIC(nn.Module):
    arch = "dlic"

    def __init__(self, ch=(48, 96, 128), blocks=(0, 1, 4), C=48, L=7, quant="uniform", R=7, sigma=1.0,
                 imp_scale="learned", dec_blocks=None):
        super().__init__()
        assert quant in ("uniform", "centres")
        if quant == "uniform":
            assert L % 2 == 1, "uniform quantizer: L = 2K + 1"
        self.ch, self.blocks, self.C, self.L, self.quant, self.R, self.sigma = \
            tuple(ch), tuple(blocks), C, L, quant, R, sigma
        self.K = (L - 1) // 2
        self.bf16 = False       # train_dlic.py --bf16: encoder/decoder convolutions in bfloat16 in training
        # the decoder may have other residual block counts than the encoder (metadata
        # "decoder_blocks"; train_dlic.py --dec-blocks)
        self.dec_blocks = tuple(dec_blocks) if dec_blocks is not None else tuple(blocks)
        self.enc = Encoder(ch, blocks, C)
        self.dec = Decoder(ch, self.dec_blocks, C)
        # rate-point tables (rate knob t in [0, R-1], low rate first)
        lo, hi = (math.log(0.5), math.log(3.0)) if R > 1 else (0.0, 0.0)
        lg = torch.linspace(lo, hi, R)[:, None].repeat(1, C)
        self.rate_log_gain = nn.Parameter(lg.clone())
        self.rate_log_igain = nn.Parameter(-lg.clone())
        # importance scale a(t): learned, or fixed at 1 so that the encoder's importance logit h
        # has to carry where detail is (a learned a(t) collapsed to ~0.02 in the shipped model:
        # the same k everywhere)
        assert imp_scale in ("learned", "fixed")
        self.imp_scale_mode = imp_scale
        if imp_scale == "fixed":
            self.register_buffer("rate_imp_scale", torch.ones(R))
        else:
            self.rate_imp_scale = nn.Parameter(torch.ones(R))
        self.rate_imp_offset = nn.Parameter(torch.linspace(-3.0, 3.0, R) if R > 1 else torch.zeros(1))
        # rate proxy: per rate point, per channel categorical over the L symbols; importance levels 0..C
        self.prob_sym_logits = nn.Parameter(-0.5 * (torch.arange(L) - (L - 1) / 2).abs()[None, None].repeat(R, C, 1))
        self.prob_imp_logits = nn.Parameter(torch.zeros(R, C + 1))
        cen = torch.arange(L, dtype=torch.float32) - (L - 1) / 2
        if quant == "centres":
            self.centres_raw = nn.Parameter(cen.clone())
        else:
            self.register_buffer("centres_raw", cen.clone())

    # ---- helpers
    def centres(self):
        return torch.sort(self.centres_raw)[0] if self.quant == "centres" else self.centres_raw

    def rate_params(self, t):
        """t: (N,) -> gain (N,C), igain (N,C), imp_scale (N,), imp_offset (N,)."""
        return (torch.exp(lerp(self.rate_log_gain, t)), torch.exp(lerp(self.rate_log_igain, t)),
                lerp(self.rate_imp_scale, t), lerp(self.rate_imp_offset, t))

    def heat(self, h, a, b):
        return self.C * torch.sigmoid(a.view(-1, 1, 1) * h + b.view(-1, 1, 1))

    def levels(self, heat):
        return torch.clamp(torch.floor(heat + 0.5), 0, self.C).long()

    def quantize_hard(self, s):
        """s (scaled latents) -> (index long, value float)."""
        if self.quant == "uniform":
            q = torch.clamp(torch.round(s), -self.K, self.K)
            return (q + self.K).long(), q
        c = self.centres()
        idx = torch.argmin((s[..., None] - c).abs(), dim=-1)
        return idx, c[idx]

    # ---- training forward
    def forward(self, x, t):
        """x (N,3,H,W) in [0,1], t (N,) rate knob -> (x_hat, bits per image (N,), aux dict)."""
        N, _, H, W = x.shape
        C = self.C
        # bf16 (train_dlic.py --bf16): only the encoder and decoder convolutions, in training; the
        # quantizer, the masks and the rate model always run in fp32
        amp = self.bf16 and self.training
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            z = self.enc(x)
        z = z.float()
        y, h = z[:, :C], z[:, C]
        g, gi, a, b = self.rate_params(t)
        heat = self.heat(h, a, b)                                     # (N,h,w)
        cidx = torch.arange(C, dtype=x.dtype, device=x.device).view(1, C, 1, 1)
        msoft = torch.clamp(heat[:, None] - cidx, 0, 1)               # (N,C,h,w)
        mhard = (msoft > 0.5).to(x.dtype)
        mask = mhard + msoft - msoft.detach()
        s = y * g[:, :, None, None]
        cen = self.centres()
        w = torch.softmax(-self.sigma * (s[..., None] - cen) ** 2, dim=-1)   # (N,C,h,w,L)
        idx, hard = self.quantize_hard(s.detach())
        if self.quant == "uniform":
            sc = torch.clamp(s, -self.K, self.K)
            val = sc + (hard - sc).detach()
        else:
            soft = (w * cen).sum(-1)
            val = soft + (hard - soft).detach()
        yhat = val * gi[:, :, None, None] * mask
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            xhat = self.dec(yhat)
        xhat = xhat.float()
        # rate proxy
        logp = torch.log_softmax(lerp(self.prob_sym_logits, t), dim=-1) / LN2     # (N,C,L) bits
        lp = logp[:, :, None, None, :].expand(N, C, s.shape[2], s.shape[3], self.L)
        bits_hard = -torch.gather(lp, -1, idx[..., None])[..., 0]
        bits_soft = -(w * lp.detach()).sum(-1)
        bits_sym = bits_hard + bits_soft - bits_soft.detach()
        sym_bits = (mask * bits_sym).flatten(1).sum(1)
        limp = -torch.log_softmax(lerp(self.prob_imp_logits, t), dim=-1) / LN2     # (N,C+1) bits
        k = self.levels(heat)
        bits_k = torch.gather(limp, 1, k.flatten(1)).view_as(heat)
        hc = heat.clamp(0, C)
        lo = torch.clamp(torch.floor(hc), 0, C - 1).long()
        fr = hc - lo.to(hc.dtype)
        ld = limp.detach()
        interp = (1 - fr) * torch.gather(ld, 1, lo.flatten(1)).view_as(heat) + \
            fr * torch.gather(ld, 1, (lo + 1).flatten(1)).view_as(heat)
        imp_bits = (bits_k + interp - interp.detach()).flatten(1).sum(1)
        bits = sym_bits + imp_bits
        aux = {"sym_bits": sym_bits.detach(), "imp_bits": imp_bits.detach(),
               "mean_k": k.float().mean().detach(),
               "clip_frac": (s.detach().abs() > self.K + 0.5).float().mean() if self.quant == "uniform"
               else torch.zeros(())}
        return xhat, bits, aux

    # ---- inference (integers only between encoder and decoder)
    @torch.no_grad()
    def encode(self, x, t):
        """x (N,3,H,W), H, W multiples of 8; t float -> (index (N,C,h,w) long, k (N,h,w) long).
        Indices at channels c >= k are set to -1 (not coded)."""
        tt = torch.full((x.shape[0],), float(t))
        z = self.enc(x)
        y, h = z[:, :self.C], z[:, self.C]
        g, _, a, b = self.rate_params(tt)
        k = self.levels(self.heat(h, a, b))
        idx, _ = self.quantize_hard(y * g[:, :, None, None])
        coded = torch.arange(self.C).view(1, -1, 1, 1) < k[:, None]
        return torch.where(coded, idx, torch.full_like(idx, -1)), k

    @torch.no_grad()
    def decode(self, idx, k, t):
        tt = torch.full((idx.shape[0],), float(t))
        _, gi, _, _ = self.rate_params(tt)
        coded = idx >= 0
        val = self.centres()[idx.clamp(min=0)] * coded
        return self.dec(val * gi[:, :, None, None])

    @torch.no_grad()
    def proxy_bits(self, idx, k, t):
        """Proxy bits of the integer code (same tables as training) -> (sym_bits, imp_bits) floats per image."""
        tt = torch.full((idx.shape[0],), float(t))
        logp = torch.log_softmax(lerp(self.prob_sym_logits, tt), dim=-1) / LN2
        N, C, h, w = idx.shape
        lp = logp[:, :, None, None, :].expand(N, C, h, w, self.L)
        b = -torch.gather(lp, -1, idx.clamp(min=0)[..., None])[..., 0] * (idx >= 0)
        limp = -torch.log_softmax(lerp(self.prob_imp_logits, tt), dim=-1) / LN2
        bk = torch.gather(limp, 1, k.flatten(1))
        return b.flatten(1).sum(1), bk.sum(1)

    def meta(self):
        return {"arch": self.arch, "channels": ",".join(map(str, self.ch)),
                "blocks": ",".join(map(str, self.blocks)), "latent_channels": str(self.C),
                "levels": str(self.L), "quant": self.quant, "rate_points": str(self.R),
                "sigma": str(self.sigma), "multiple": "8",
                **({"imp_scale": "fixed"} if self.imp_scale_mode == "fixed" else {}),
                **({"decoder_blocks": ",".join(map(str, self.dec_blocks))}
                   if self.dec_blocks != self.blocks else {})}


def model_from_meta(meta):
    return DLIC(tuple(int(v) for v in meta["channels"].split(",")),
                tuple(int(v) for v in meta["blocks"].split(",")),
                int(meta["latent_channels"]), int(meta["levels"]), meta["quant"],
                int(meta["rate_points"]), float(meta.get("sigma", 1.0)), meta.get("imp_scale", "learned"),
                tuple(int(v) for v in meta["decoder_blocks"].split(",")) if "decoder_blocks" in meta else None)


def empirical_bits(idx, k, L, C):
    """Static two-pass estimate for one image: per-channel empirical entropy of the coded indices
    plus the empirical entropy of the importance levels (no model cost). idx (C,h,w), k (h,w)."""
    tot = 0.0
    for c in range(C):
        v = idx[c][idx[c] >= 0]
        if v.numel():
            p = torch.bincount(v, minlength=L).double() / v.numel()
            p = p[p > 0]
            tot += float(-(p * torch.log2(p)).sum()) * v.numel()
    p = torch.bincount(k.flatten(), minlength=C + 1).double() / k.numel()
    p = p[p > 0]
    tot += float(-(p * torch.log2(p)).sum()) * k.numel()
    return tot


def macs_per_pixel(module, x):
    """Multiply-adds per input pixel of every Conv2d in `module` for input x (1, c, H, W) at
    full resolution H x W = the image size (pass the latent tensor for the decoder with H, W given)."""
    total = [0]

    def hook(m, inp, out):
        total[0] += out.numel() * m.weight[0].numel()
    hs = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        module(x)
    for h in hs:
        h.remove()
    return total[0]


def count_macs(model, H=256, W=256):
    e = macs_per_pixel(model.enc, torch.zeros(1, 3, H, W)) / (H * W)
    d = macs_per_pixel(model.dec, torch.zeros(1, model.C, H // 8, W // 8)) / (H * W)
    return e, d


if __name__ == "__main__":
    import sys
    torch.set_num_threads(1)
    cfgs = [((48, 96, 128), (0, 1, 4)), ((32, 64, 96), (0, 1, 4)), ((48, 96, 128), (0, 1, 8)),
            ((64, 128, 192), (0, 1, 4))]
    for ch, bl in cfgs:
        m = DLIC(ch, bl)
        e, d = count_macs(m)
        n = sum(p.numel() for p in m.parameters())
        print(f"ch {ch} blocks {bl}: {n / 1e6:.3f} M params, encoder {e / 1e3:.1f} k MAC/px, "
              f"decoder {d / 1e3:.1f} k MAC/px")
    sys.exit(0)
