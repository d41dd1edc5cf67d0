"""JPEG artifact-removal models (luma, 1 channel, inputs normalised as x/255).

Only simple ops, so the C engine can re-implement them exactly:
  Conv2d (3x3, zero padding 1, stride 1 or 2), ConvTranspose2d (4x4, stride 2, padding 1,
  output_padding 0 -> exactly x2), ReLU, channel concat, k x k average pooling (non-overlapping),
  pixel_unshuffle / pixel_shuffle, global residual add.

CasCNN: Cavigelli et al., "CAS-CNN: A deep convolutional neural network for image compression
artifact suppression" (IJCNN 2017, arXiv 1611.07233); choices the paper leaves open are listed
in core/train/README.md.
FastAR: a cheap block-grid model for live use (~4.3 k multiply-adds per pixel).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


def up4(cin, cout):
    """4x4 transposed conv, stride 2, padding 1: (h, w) -> (2h, 2w)."""
    return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)


def bilinear_up_init_(m):
    """Initialise a 1->1 4x4/2 transposed conv to bilinear x2 up-sampling."""
    k = torch.tensor([0.25, 0.75, 0.75, 0.25])
    with torch.no_grad():
        m.weight.copy_((k[:, None] * k[None, :])[None, None])
        m.bias.zero_()


class CasCNN(nn.Module):
    """CAS-CNN, 12 conv layers + 3 side-output convs + 6 transposed convs. H, W multiple of 8.

    Encoder (3x3 convs, ReLU; first conv of B, C, D has stride 2):
      a1 1->128, a2 128->128               @ h      -> A (128, h)
      b1 128->128 /2, b2 128->128          @ h/2    -> B (128, h/2)
      c1 128->256 /2, c2 256->256          @ h/4    -> C (256, h/4)
      d1 256->256 /2, d2 256->256          @ h/8    -> D (256, h/8)   (the JPEG block grid)
    Decoder, per scale s (side output o_s is a residual on the s-area-pooled input):
      o8 = pool8(x) + s8(D)                                       (1, h/8)
      E  = relu(e1(cat[relu(ud(D)) 256, C 256, us8(o8) 1]))       513 -> 256 @ h/4
      o4 = pool4(x) + s4(E)
      F  = relu(f1(cat[relu(ue(E)) 128, B 128, us4(o4) 1]))       257 -> 128 @ h/2
      o2 = pool2(x) + s2(F)
      G  = relu(g1(cat[relu(uf(F)) 128, A 128, us2(o2) 1]))       257 -> 128 @ h
      out = x + out(G)                                            (1, h)
    """
    arch = "cascnn"

    def __init__(self, ca=128, cb=128, cc=256, cd=256):
        super().__init__()
        self.ch = (ca, cb, cc, cd)
        self.a1, self.a2 = conv3(1, ca), conv3(ca, ca)
        self.b1, self.b2 = conv3(ca, cb, 2), conv3(cb, cb)
        self.c1, self.c2 = conv3(cb, cc, 2), conv3(cc, cc)
        self.d1, self.d2 = conv3(cc, cd, 2), conv3(cd, cd)
        self.ud, self.ue, self.uf = up4(cd, cc), up4(cc, cb), up4(cb, ca)
        self.e1 = conv3(2 * cc + 1, cc)
        self.f1 = conv3(2 * cb + 1, cb)
        self.g1 = conv3(2 * ca + 1, ca)
        self.s8, self.s4, self.s2 = conv3(cd, 1), conv3(cc, 1), conv3(cb, 1)
        self.us8, self.us4, self.us2 = up4(1, 1), up4(1, 1), up4(1, 1)
        self.out = conv3(ca, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        for m in (self.s8, self.s4, self.s2, self.out):  # start as identity (residual = 0)
            nn.init.zeros_(m.weight)
        for m in (self.us8, self.us4, self.us2):
            bilinear_up_init_(m)

    def forward(self, x, side=False):
        """x: (N, 1, H, W) in [0, 1] -> (N, 1, H, W); with side=True also returns the side
        outputs [o8 (H/8), o4 (H/4), o2 (H/2)]."""
        r = F.relu
        A = r(self.a2(r(self.a1(x))))                     # (N, 128, H,   W)
        B = r(self.b2(r(self.b1(A))))                     # (N, 128, H/2, W/2)
        C = r(self.c2(r(self.c1(B))))                     # (N, 256, H/4, W/4)
        D = r(self.d2(r(self.d1(C))))                     # (N, 256, H/8, W/8)
        o8 = F.avg_pool2d(x, 8) + self.s8(D)              # (N, 1, H/8, W/8)
        E = r(self.e1(torch.cat([r(self.ud(D)), C, self.us8(o8)], 1)))  # (N, 256, H/4)
        o4 = F.avg_pool2d(x, 4) + self.s4(E)
        Fm = r(self.f1(torch.cat([r(self.ue(E)), B, self.us4(o4)], 1)))  # (N, 128, H/2)
        o2 = F.avg_pool2d(x, 2) + self.s2(Fm)
        G = r(self.g1(torch.cat([r(self.uf(Fm)), A, self.us2(o2)], 1)))  # (N, 128, H)
        y = x + self.out(G)
        return (y, [o8, o4, o2]) if side else y

    def meta(self):
        ca, cb, cc, cd = self.ch
        return {"arch": self.arch, "channels": f"{ca},{cb},{cc},{cd}", "multiple": "8"}


class FastAR(nn.Module):
    """Live model on the 8x8 JPEG block grid. H, W multiple of `scale`.

      z = pixel_unshuffle(x, 8)                 (N, 64, H/8, W/8)
      h = relu(conv3 64->ch)  (head)
      h = relu(conv k x k ch->ch)  x n_mid (body.i; k = body_k, 3 or 1)
      r = conv3 ch->64        (tail, zero-initialised)
      y = x + pixel_shuffle(r, 8)
    """
    arch = "fastar"

    def __init__(self, scale=8, ch=96, n_mid=2, body_k=3, fine=0):
        super().__init__()
        self.scale, self.ch, self.n_mid, self.body_k, self.fine = scale, ch, n_mid, body_k, fine
        s2 = scale * scale
        self.head = conv3(s2, ch)
        self.body = nn.ModuleList([nn.Conv2d(ch, ch, body_k, padding=body_k // 2)
                                   for _ in range(n_mid)])
        if fine:
            # fine stage at 2/scale: pixel_shuffle(h, 2) (ch/4) ++ pixel_unshuffle(x, scale/2)
            assert ch % 4 == 0 and scale % 2 == 0
            self.refine = conv3(ch // 4 + s2 // 4, fine)
            self.tail = conv3(fine, s2 // 4)
        else:
            self.tail = conv3(ch, s2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.tail.weight)

    def forward(self, x, side=False):
        h = F.relu(self.head(F.pixel_unshuffle(x, self.scale)))
        for m in self.body:
            h = F.relu(m(h))
        if self.fine:
            s = self.scale // 2
            h = F.relu(self.refine(torch.cat([F.pixel_shuffle(h, 2), F.pixel_unshuffle(x, s)], 1)))
            y = x + F.pixel_shuffle(self.tail(h), s)
        else:
            y = x + F.pixel_shuffle(self.tail(h), self.scale)
        return (y, []) if side else y

    def meta(self):
        return {"arch": self.arch, "scale": str(self.scale), "channels": str(self.ch),
                "n_mid": str(self.n_mid), "body_k": str(self.body_k), "multiple": str(self.scale),
                **({"fine": str(self.fine)} if self.fine else {})}


MODELS = {"cascnn": CasCNN, "fast": FastAR}


def macs_per_pixel(model, h=256, w=256):
    """Multiply-adds per input pixel of conv / transposed-conv layers (hooks on a dummy run)."""
    total = [0]

    def hook(m, inp, out):
        k = m.weight[0].numel()  # cin*kh*kw (Conv2d) or cout*kh*kw (ConvTranspose2d)
        if isinstance(m, nn.ConvTranspose2d):
            total[0] += inp[0].numel() * k            # every input value hits cout*k*k outputs
        else:
            total[0] += out.numel() * k               # every output value sums cin*k*k inputs
    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model(torch.zeros(1, 1, h, w))
    for k in hs:
        k.remove()
    return total[0] / (h * w)


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name, cls in MODELS.items():
        m = cls()
        n = sum(p.numel() for p in m.parameters())
        print(f"{name}: {n / 1e6:.3f} M params, {macs_per_pixel(m) / 1e3:.1f} k MAC/pixel")
