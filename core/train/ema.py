"""Exponential moving average (Polyak averaging) of a model's weights, for the trainers.

With the small batches that fit one CPU core (batch 2 of 128x128 crops for CAS-CNN, 8 of 96x96
for dlic) the weights after the last step carry that step's noise; an average over the last
~1/(1 - decay) steps usually validates better at no extra training cost. The trainers keep the
raw weights for the optimiser, validate both, and write the better one to best.pt.

    ema = EMA(model, 0.998)
    ... opt.step(); ema.update(model)
    with ema.applied(model):
        validate(model)          # the averaged weights
"""
import contextlib

import torch


class EMA:
    def __init__(self, model, decay):
        assert 0.0 < decay < 1.0, f"EMA decay must be in (0, 1), got {decay}"
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()
                       if v.dtype.is_floating_point}
        # frozen parameters are copied, not averaged: the float average of a constant drifts
        # (about 1e-3 on the dlic logits over 7 k steps), which would break an exact freeze
        self.frozen = {k for k, p in model.named_parameters() if not p.requires_grad}

    @torch.no_grad()
    def update(self, model):
        """shadow <- decay * shadow + (1 - decay) * weights, for every float tensor of the model
        (frozen parameters: shadow <- weights)."""
        for k, v in model.state_dict().items():
            s = self.shadow.get(k)
            if s is None:
                continue
            if k in self.frozen:
                s.copy_(v)
            else:
                s.mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)

    def state_dict(self):
        return self.shadow

    def load_state_dict(self, sd):
        missing = set(self.shadow) - set(sd)
        assert not missing, f"EMA state lacks {sorted(missing)[:3]}"
        for k in self.shadow:
            self.shadow[k].copy_(sd[k])

    def full_state_dict(self, model):
        """The model's state dict with the averaged tensors in place of the raw ones."""
        sd = {k: v.clone() for k, v in model.state_dict().items()}
        sd.update({k: v.clone() for k, v in self.shadow.items()})
        return sd

    @contextlib.contextmanager
    def applied(self, model):
        """Temporarily load the averaged weights into `model` (restored on exit)."""
        raw = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.full_state_dict(model))
        try:
            yield model
        finally:
            model.load_state_dict(raw)


def candidates(model, ema):
    """The weights a validation scores: [("raw", no-op context), ("ema", averaged weights applied)]
    (the second only with an EMA). Use: for name, ctx in candidates(m, e): with ctx: validate(m)."""
    out = [("raw", contextlib.nullcontext())]
    if ema is not None:
        out.append(("ema", ema.applied(model)))
    return out


def note_best(st, name, gain, val, model, ema):
    """Record a new best validation in the trainer state st; -> the state dict best.pt should hold
    (the raw weights, or the averaged ones when name is "ema")."""
    st["best_gain"] = gain
    st["best_val"] = val
    st["best_kind"] = name
    return model.state_dict() if name == "raw" else ema.full_state_dict(model)
