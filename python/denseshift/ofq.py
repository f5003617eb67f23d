"""OFQ for low-bit vision transformers (issue 12, item 2), weights only.

Oscillation-free quantization (Liu et al., ICML 2023) trains 2-bit ViTs with
three techniques; this module implements them for two weight grids:

* ``uniform``: OFQ's own grids.  The baseline is LSQ, ``w = s * round(clamp(w/s,
  -n, n-1))`` with a learned per-channel step ``s`` (n = 2^(b-1); the grid
  contains zero); StatsQ is OFQ's zero-free grid ``s * (i + 1/2) / n``,
  i in [-n, n-1], with ``s = 2 * mean|w|`` of each output channel.
* ``pow2``: the DenseShift zero-free grid ``alpha * s * 2^k``, k in
  [0, 2^(b-1)-1], rounded with the project's one rule
  (:func:`denseshift.encoding.round_to_encoding`).  Baseline: alpha learned
  with LSQ's gradient; StatsQ: ``alpha = c_b * mean|w|`` with ``c_b`` the
  constant that minimises the squared error of Gaussian weights on that grid
  (:func:`pow2_stats_constant`; OFQ's constant 2 is for its own grid).

The techniques:

* **StatsQ** (``scale="stats"``): the scale is a detached function of the
  latent weights, recomputed every step, so it cannot oscillate with them;
  identity straight-through gradient to the latents.
* **CGA** (:class:`ConfidenceGuidedAnnealing`): a final phase at a low,
  constant learning rate in which, every step, only the weights whose
  normalised latent lies within ``boundary`` of a rounding threshold train;
  the confident ones (all others) get no update (their latents are restored
  after the optimizer step, so Adam's momentum cannot move them either).
* **QKR** (:class:`QKReparamAttention`): query and key are replaced by their
  per-head product ``M_h = Wq_h^T Wk_h`` (C x C), which is quantized (one
  scale per row), so the attention logits ``x_i M_h x_j^T`` see one quantized
  matrix instead of two quantized factors oscillating together.  The latents
  stay Wq and Wk.  Deployed, ``M`` is a C -> H*C linear layer (a shift layer
  on the pow2 grid) and the logits are ``x . (x M_h^T)``.

Activations stay f32 -- the compiler's deployment target -- so this is OFQ's
weight quantization (the paper also quantizes activations).  The oscillation
metric is Nagel et al.'s, as OFQ's ``TrackOscillation`` defines it: a weight
oscillates at a step when its integer level changes in the direction opposite
to its previous change (:class:`OscillationTracker`).

``quantize_vit`` turns a float :class:`denseshift.vit.ViT` into this form;
``deployable`` turns the result into plain layers the exporter reads:
``ShiftLinear`` (exact codes and alpha) for pow2, ``nn.Linear`` with the
quantized f32 weight for uniform.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from .encoding import Encoding, check_bits, round_to_encoding
from .layers import ShiftLinear
from .schemes import _straight_through
from .vit import Attention

GRIDS = ("uniform", "pow2")
SCALES = ("learned", "stats")
OFQ_STATS_CONSTANT = 2.0     # OFQ's StatsQ: s = 2 * mean|w| for its uniform grid
BOUNDARY = 0.005             # OFQ's boundary range (in quantization steps; log2 units for pow2)


class OFQError(ValueError):
    """A model or configuration this module cannot quantize."""


def _check(grid, bits, scale):
    if grid not in GRIDS:
        raise OFQError(f"unknown grid {grid!r}; choose one of {list(GRIDS)}")
    if scale not in SCALES:
        raise OFQError(f"unknown scale {scale!r}; choose one of {list(SCALES)}")
    try:
        check_bits(bits)
    except ValueError as err:
        raise OFQError(str(err)) from None
    if bits > 4:
        raise OFQError(f"bits={bits}: OFQ is about 2- to 4-bit weights")


def _row_mean_abs(w):
    return w.detach().abs().flatten(1).mean(1).clamp_min(1e-12)


def _view(scale, w):
    return scale.view(-1, *([1] * (w.dim() - 1)))


def pow2_grid(bits):
    return Encoding(bits, True, 0)


def _pow2_codes(x, encoding):
    """Codes (sign, k) of the normalised weights ``x`` (alpha = 1)."""
    return round_to_encoding(x, torch.ones(x.shape[0], dtype=x.dtype), encoding)


def pow2_stats_constant(bits, points=4001):
    """``c`` minimising E[(w - Q(w))^2] for Gaussian w on the pow2 grid with
    ``alpha = c * mean|w|`` (deterministic: half-normal quantiles)."""
    encoding = pow2_grid(bits)
    p = (torch.arange(points, dtype=torch.float64) + 0.5) / points
    w = math.sqrt(2.0) * torch.erfinv(p)                    # |N(0, 1)| quantiles
    mean_abs = w.mean()
    best = None
    for log_c in torch.linspace(-4.0, 2.0, 481, dtype=torch.float64):
        alpha = (2.0 ** log_c) * mean_abs
        codes = _pow2_codes((w / alpha).unsqueeze(0), encoding)
        err = ((encoding.decode(codes).double() * alpha - w) ** 2).mean().item()
        if best is None or err < best[0]:
            best = (err, float(2.0 ** log_c))
    return best[1]


class Quantizer(nn.Module):
    """Quantizes one weight tensor (rows = output channels) on one grid."""

    def __init__(self, grid, bits, scale, out_channels, fan_in, init_weight):
        super().__init__()
        _check(grid, bits, scale)
        self.grid, self.bits, self.scale_mode = grid, bits, scale
        self.levels = 2 ** (bits - 1)                         # n
        self.encoding = pow2_grid(bits) if grid == "pow2" else None
        self.stats_constant = (pow2_stats_constant(bits) if grid == "pow2" else OFQ_STATS_CONSTANT)
        if scale == "learned":
            mean_abs = _row_mean_abs(init_weight)
            if grid == "uniform":       # LSQ's initialisation
                init = 2.0 * mean_abs / math.sqrt(self.levels - 1 if self.levels > 1 else 1)
            else:
                init = self.stats_constant * mean_abs
            self.step = nn.Parameter(init.clone().float())
            top = self.levels - 1 if grid == "uniform" else 2 ** (self.levels - 1)
            self.grad_scale = 1.0 / math.sqrt(max(top, 1) * fan_in)
        # Set by CGA during its phase: True = confident (frozen).
        self.register_buffer("frozen", torch.zeros(0, dtype=torch.bool), persistent=False)

    def scale(self, w):
        """Per-row scale: detached statistics (StatsQ) or the learned step (LSQ)."""
        if self.scale_mode == "stats":
            return self.stats_constant * _row_mean_abs(w)
        g = self.grad_scale
        step = self.step.abs().clamp_min(1e-8)
        return (step - step * g).detach() + step * g

    def normalized(self, w):
        """Latent / scale in the grid's units (no autograd)."""
        with torch.no_grad():
            s = _view(self.scale(w).detach(), w)
            if self.grid == "uniform" and self.scale_mode == "stats":
                return (w / s).clamp(-1.0, 1.0 - 1e-6) * self.levels
            return w / s

    def forward(self, w):
        """The quantized weight: forward exactly on the grid (``_straight_through``),
        backward identity to the latents (LSQ: zero beyond the clamp) and, for a
        learned scale, LSQ's gradient ``round(x) - x`` to the step."""
        s = _view(self.scale(w), w)
        if self.grid == "uniform" and self.scale_mode == "learned":          # LSQ
            x = (w / s).clamp(-self.levels, self.levels - 1)
            r = torch.round(x).detach()
            return _straight_through(s.detach() * r, s * (x + (r - x).detach()))
        if self.grid == "uniform":                                          # StatsQ
            c = (w / s).clamp(-1.0, 1.0 - 1e-6).detach()
            exact = s.detach() * (torch.floor(self.levels * c) + 0.5) / self.levels
            return _straight_through(exact, w)
        x = w / s                                                           # pow2
        q = self.encoding.decode(_pow2_codes(x.detach(), self.encoding))
        exact = s.detach() * q
        if self.scale_mode == "learned":
            return _straight_through(exact, s * (x + (q - x).detach()))
        return _straight_through(exact, w)

    def levels_of(self, w):
        """Integer level of every weight, ordered like the values (oscillation metric)."""
        x = self.normalized(w)
        if self.grid == "uniform" and self.scale_mode == "learned":
            return torch.round(x.clamp(-self.levels, self.levels - 1)).to(torch.int16)
        if self.grid == "uniform":
            return torch.floor(x).to(torch.int16)
        return self.encoding.dialect_codes(_pow2_codes(x, self.encoding))

    def confident(self, w, boundary=BOUNDARY):
        """True where the latent is farther than ``boundary`` from every rounding threshold.

        ``t`` puts the thresholds of each grid at the integers ``lo..hi``
        (normalised units; log2 units for pow2, whose sign threshold at 0 is
        measured in units of alpha)."""
        x = self.normalized(w)
        n = self.levels
        if self.grid == "uniform" and self.scale_mode == "stats":
            t, lo, hi = x, -n + 1, n - 1               # floor(x): thresholds at integers
        elif self.grid == "uniform":
            t, lo, hi = x - 0.5, -n, n - 2             # round(x): thresholds at k + 1/2
        else:
            magnitude = x.abs()
            t = torch.log2(magnitude.clamp_min(1e-30)) - 0.5   # thresholds at 2^(e + 1/2)
            lo, hi = 0, self.encoding.num_exponents - 2
        nearest = torch.round(t)
        near = ((t - nearest).abs() <= boundary) & (nearest >= lo) & (nearest <= hi)
        if self.grid == "pow2":
            near |= magnitude <= boundary
        return ~near

    def deployed_codes(self, w):
        """(codes, alpha) of the pow2 grid's quantized weight, as ShiftLinear stores them."""
        if self.grid != "pow2":
            raise OFQError("only pow2 weights have shift codes")
        with torch.no_grad():
            s = self.scale(w).detach()
            return _pow2_codes(w / _view(s, w), self.encoding), s.float()


class QuantLinear(nn.Module):
    """``nn.Linear`` with a latent float weight and a :class:`Quantizer`."""

    def __init__(self, linear, grid, bits, scale):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.latent = nn.Parameter(linear.weight.detach().clone())
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone())
        self.quantizer = Quantizer(grid, bits, scale, self.out_features, self.in_features,
                                   self.latent)

    @property
    def weight(self):
        return self.quantizer(self.latent)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def quantized(self):
        with torch.no_grad():
            return self.weight.detach().clone()

    def extra_repr(self):
        q = self.quantizer
        return (f"{self.in_features}, {self.out_features}, grid={q.grid}, bits={q.bits}, "
                f"scale={q.scale_mode}")


class QKReparamAttention(nn.Module):
    """Attention with query-key reparameterization: logits from ``Q(Wq_h^T Wk_h)``."""

    def __init__(self, attention, grid, bits, scale):
        super().__init__()
        if attention.q.bias is not None or attention.k.bias is not None:
            raise OFQError("QKR needs query and key without bias (denseshift.vit's Attention)")
        self.heads, self.head_dim, self.scale = attention.heads, attention.head_dim, attention.scale
        dim = attention.q.in_features
        self.q_latent = nn.Parameter(attention.q.weight.detach().clone())
        self.k_latent = nn.Parameter(attention.k.weight.detach().clone())
        self.v, self.proj = attention.v, attention.proj
        self.quantizer = Quantizer(grid, bits, scale, self.heads * dim, dim, self.product())

    def product(self):
        """Stacked (H*C x C) per-head products ``Wq_h^T Wk_h`` of the latents."""
        h, d = self.heads, self.head_dim
        q = self.q_latent.view(h, d, -1)
        k = self.k_latent.view(h, d, -1)
        return torch.matmul(q.transpose(1, 2), k).reshape(-1, q.shape[-1])

    def forward(self, x):
        b, t, c = x.shape
        y = F.linear(x, self.quantizer(self.product()))                  # (B, T, H*C)
        y = y.reshape(b, t, self.heads, c).transpose(1, 2)              # (B, H, T, C)
        scores = torch.matmul(x.unsqueeze(1), y.transpose(2, 3)) * self.scale
        v = self.v(x).reshape(b, t, self.heads, self.head_dim).transpose(1, 2)
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.proj(out.transpose(1, 2).reshape(b, t, c))


class DeployedQKAttention(nn.Module):
    """The inference form of :class:`QKReparamAttention`: ``qk`` is a plain layer."""

    def __init__(self, qk, v, proj, heads, head_dim, scale):
        super().__init__()
        self.qk, self.v, self.proj = qk, v, proj
        self.heads, self.head_dim, self.scale = heads, head_dim, scale

    def forward(self, x):
        b, t, c = x.shape
        y = self.qk(x).reshape(b, t, self.heads, c).transpose(1, 2)
        scores = torch.matmul(x.unsqueeze(1), y.transpose(2, 3)) * self.scale
        v = self.v(x).reshape(b, t, self.heads, self.head_dim).transpose(1, 2)
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.proj(out.transpose(1, 2).reshape(b, t, c))


def _set(model, name, module):
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def quantize_vit(model, grid="pow2", bits=2, scale="stats", qkr=False):
    """In place: every ``nn.Linear`` of the transformer blocks becomes a
    :class:`QuantLinear` started from its float weight (QAT from a float
    model, as OFQ); with ``qkr`` every attention's query and key become one
    :class:`QKReparamAttention`.  The patch embedding and the head stay float.
    Returns ``model``."""
    _check(grid, bits, scale)
    if not hasattr(model, "blocks") or not hasattr(model, "head"):
        raise OFQError(f"{type(model).__name__} is not a denseshift.vit.ViT")
    if qkr:
        for name, attention in [(n, m) for n, m in model.blocks.named_modules()
                                if isinstance(m, Attention)]:
            _set(model.blocks, name, QKReparamAttention(attention, grid, bits, scale))
    for name, linear in [(n, m) for n, m in model.blocks.named_modules() if type(m) is nn.Linear]:
        _set(model.blocks, name, QuantLinear(linear, grid, bits, scale))
    return model


def quantizers(model):
    """(name, quantizer, latent-weight function) of every quantized tensor."""
    found = []
    for name, m in model.named_modules():
        if isinstance(m, QuantLinear):
            found.append((name, m.quantizer, lambda m=m: m.latent))
        elif isinstance(m, QKReparamAttention):
            found.append((name + ".qk", m.quantizer, m.product))
    return found


def _deployed_linear(quantizer, latent, bias):
    out_features, in_features = latent.shape
    if quantizer.grid == "pow2":
        codes, alpha = quantizer.deployed_codes(latent)
        layer = ShiftLinear(in_features, out_features, bias=bias is not None, bits=quantizer.bits)
        with torch.no_grad():
            layer.shift_weight.alpha.copy_(alpha)
        layer.shift_weight.init_from_float(quantizer.encoding.decode(codes, alpha))
        if not torch.equal(layer.codes(), codes):
            raise OFQError("deployed codes differ from the trained ones")   # pragma: no cover
    else:
        layer = nn.Linear(in_features, out_features, bias=bias is not None)
        with torch.no_grad():
            layer.weight.copy_(quantizer(latent).detach())
    if bias is not None:
        with torch.no_grad():
            layer.bias.copy_(bias.detach())
    return layer


def deployable(model):
    """In place: the quantized layers become what the exporter reads (pow2:
    ``ShiftLinear`` with the trained codes and alpha, exported as shift
    layers; uniform: ``nn.Linear`` with the quantized f32 weight).  The
    function the model computes is unchanged bit for bit.  Returns ``model``."""
    for name, m in list(model.named_modules()):
        if isinstance(m, QuantLinear):
            _set(model, name, _deployed_linear(m.quantizer, m.latent, m.bias))
        elif isinstance(m, QKReparamAttention):
            with torch.no_grad():
                qk = _deployed_linear(m.quantizer, m.product(), None)
            _set(model, name, DeployedQKAttention(qk, m.v, m.proj, m.heads, m.head_dim, m.scale))
    return model


class OscillationTracker:
    """Nagel et al.'s oscillation count over the quantized tensors of a model.

    Call :meth:`step` after each optimizer step.  A weight oscillates at a
    step when its level changes and the change has the opposite sign of its
    previous (nonzero) change.  :meth:`report` gives, since the last
    :meth:`reset`, the oscillations per weight per step (``frequency``), the
    share of weights that oscillated at least once (``oscillating``) and the
    share whose level changed at all (``changed``)."""

    def __init__(self, model):
        self.entries = quantizers(model)
        self._last = {n: q.levels_of(w()) for n, q, w in self.entries}
        self._direction = {n: torch.zeros_like(v) for n, v in self._last.items()}
        self.reset()

    def reset(self):
        self.steps = 0
        self._count = {n: torch.zeros(v.shape, dtype=torch.int32) for n, v in self._last.items()}
        self._changed = {n: torch.zeros(v.shape, dtype=torch.bool) for n, v in self._last.items()}

    def step(self):
        for name, quantizer, latent in self.entries:
            level = quantizer.levels_of(latent())
            delta = torch.sign(level - self._last[name])
            moved = delta != 0
            self._count[name] += (moved & (delta == -self._direction[name])).to(torch.int32)
            self._changed[name] |= moved
            self._direction[name] = torch.where(moved, delta, self._direction[name])
            self._last[name] = level
        self.steps += 1

    def report(self):
        weights = sum(c.numel() for c in self._count.values())
        count = sum(int(c.sum()) for c in self._count.values())
        return {"frequency": count / max(weights * self.steps, 1),
                "oscillating": sum(int((c > 0).sum()) for c in self._count.values()) / max(weights, 1),
                "changed": sum(int(c.sum()) for c in self._changed.values()) / max(weights, 1),
                "steps": self.steps, "weights": weights}


class ConfidenceGuidedAnnealing:
    """CGA for one optimizer: around each step, freeze the confident weights.

    ``before_step()`` after ``backward()``: computes each QuantLinear's
    confident mask, zeroes those gradients and remembers the latents;
    ``after_step()`` restores them.  (QKR's q/k latents are not frozen: the
    product's confidence does not say which factor entry to hold -- as in
    OFQ's release, CGA acts on v, proj and the MLP.)"""

    def __init__(self, model, boundary=BOUNDARY):
        self.boundary = boundary
        self.layers = [m for m in model.modules() if isinstance(m, QuantLinear)]
        self._saved = []
        self.trainable_share = 1.0

    def before_step(self):
        self._saved, trainable, total = [], 0, 0
        for layer in self.layers:
            mask = layer.quantizer.confident(layer.latent, self.boundary)
            if layer.latent.grad is not None:
                layer.latent.grad[mask] = 0
            self._saved.append((layer, mask, layer.latent.detach()[mask].clone()))
            trainable += int((~mask).sum())
            total += mask.numel()
        self.trainable_share = trainable / max(total, 1)

    def after_step(self):
        with torch.no_grad():
            for layer, mask, values in self._saved:
                layer.latent[mask] = values
        self._saved = []
