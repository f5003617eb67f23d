"""Tensor-train (MPS and MPO) linear layers and the LSTMs built from them.

A weight matrix ``W`` (``out x in``) with ``in = n_1 ... n_d`` and
``out = m_1 ... m_e`` can be stored as a chain of small cores:

* **MPS** (matrix product state, the representation of the LSTM compression
  seed): the ``d + e`` indices of ``W`` -- first the input factors, then the
  output factors -- are the sites of one chain of rank-3 cores
  ``G_k[r_{k-1}, size_k, r_k]`` (``r_0 = r_{d+e} = 1``), so
  ``W[j_1..j_e, i_1..i_d] = G_1[i_1] ... G_d[i_d] G_{d+1}[j_1] ... G_{d+e}[j_e]``.
  ``sum_k r_{k-1} size_k r_k`` numbers.
* **MPO** (tensor-train matrix): ``d`` sites, each carrying one input and one
  output factor, cores ``G_k[r_{k-1}, m_k, n_k, r_k]``: ``sum_k r_{k-1} m_k n_k r_k``.

:class:`MPSLinear` never forms ``W``: ``x W^T`` is contracted core by core,
each step an ``nn.Linear`` without bias on a reshaped (and, on the input
side, permuted) activation.  So every contraction is an ordinary matmul for
the exporter and the compiler (``shift.matmul`` once :func:`denseshift.convert`
has made the cores shift layers -- shift + MPS needs nothing else), and the
cost is ``sum_k`` of the core matmuls instead of ``in x out``.
:class:`MPOLinear` builds ``W`` from its cores (the usual TT-matrix
implementation; inference then costs a dense matmul).

Core ``k`` as a matmul weight: on the input side ``(r_k, r_{k-1} n_k)``
(column ``a n_k + i``), on the output side ``(m r_k, r_{k-1})`` (row
``j r_k + b``); ``alpha`` of a shift core is per row, i.e. per output column
of the contraction, as the compiler's ``shift.matmul`` wants.
"""
import math

import torch
from torch import nn


def factorize(n, parts):
    """``n`` as ``parts`` integer factors as equal as possible (largest first)."""
    if n <= 0 or parts <= 0:
        raise ValueError(f"cannot factorize {n} into {parts} parts")
    factors = []
    rest = n
    for left in range(parts, 0, -1):
        target = round(rest ** (1.0 / left))
        best = None
        for f in range(max(1, target - 64), target + 65):
            if rest % f == 0 and (best is None or abs(f - target) < abs(best - target)):
                best = f
        factors.append(best)
        rest //= best
    return sorted(factors, reverse=True)


def _ranks(sites, rank):
    return [1] + [rank] * (sites - 1) + [1]


class MPSLinear(nn.Module):
    """``y = x W^T + b`` with ``W`` a matrix product state of rank ``rank``.

    ``in_factors`` / ``out_factors`` (products ``in_features`` /
    ``out_features``) default to two and three near-equal factors.  Inner
    ranks are ``min(rank, the full rank at that cut)``, so a large ``rank`` is
    exact.
    """

    def __init__(self, in_features, out_features, rank, in_factors=None, out_factors=None,
                 bias=True):
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.in_factors = list(in_factors or factorize(in_features, 2))
        self.out_factors = list(out_factors or factorize(out_features, 3))
        if math.prod(self.in_factors) != in_features or math.prod(self.out_factors) != out_features:
            raise ValueError(f"factors {self.in_factors} x {self.out_factors} do not multiply to "
                             f"{in_features} x {out_features}")
        sizes = self.in_factors + self.out_factors
        ranks = _ranks(len(sizes), rank)
        for cut in range(1, len(sizes)):      # no more than the matrix rank at each cut
            ranks[cut] = min(ranks[cut], math.prod(sizes[:cut]), math.prod(sizes[cut:]))
        self.ranks = ranks
        d = len(self.in_factors)
        cores = []
        for k, size in enumerate(sizes):
            if k < d:
                cores.append(nn.Linear(ranks[k] * size, ranks[k + 1], bias=False))
            else:
                cores.append(nn.Linear(ranks[k], size * ranks[k + 1], bias=False))
        self.cores = nn.ModuleList(cores)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Each core scaled so that ``W`` has about the variance of a default
        ``nn.Linear`` (uniform(-1/sqrt(in), 1/sqrt(in)): variance 1/(3 in))."""
        per_core = self.core_variance()
        with torch.no_grad():
            for k, core in enumerate(self.cores):
                core.weight.normal_(0.0, math.sqrt(per_core / self.ranks[k]))
            if self.bias is not None:
                bound = 1.0 / math.sqrt(self.in_features)
                self.bias.uniform_(-bound, bound)

    def core_variance(self):
        """Core k's entries get variance ``core_variance() / r_{k-1}``: then
        ``Var(W) = prod_k core_variance()`` (the bond sums cancel the 1/r) equals
        a default ``nn.Linear``'s 1/(3 in)."""
        return (1.0 / (3.0 * self.in_features)) ** (1.0 / len(self.cores))

    def parameter_count(self, with_bias=False):
        n = sum(core.weight.numel() for core in self.cores)
        return n + (self.bias.numel() if with_bias and self.bias is not None else 0)

    def forward(self, x):
        """``x`` is (batch, in_features); every step is a reshape/permute and one
        core matmul, with only static sizes (so torch.fx traces it)."""
        d = len(self.in_factors)
        rest = self.in_features
        t = x.reshape(-1, 1, self.in_features)              # (B, r_0, n_1 ... n_d)
        for k in range(d):
            n, r = self.in_factors[k], self.ranks[k]
            rest //= n
            # (B, r_{k-1}, n_k, R) -> (B, R, r_{k-1}, n_k) -> (B, R, r_{k-1} n_k) -> (B, R, r_k)
            t = t.reshape(-1, r, n, rest).permute(0, 3, 1, 2).reshape(-1, rest, r * n)
            t = self.cores[k](t)
            t = t.permute(0, 2, 1)                          # (B, r_k, R)
        u = t.reshape(-1, self.ranks[d])                    # (B, r_d)
        for k in range(len(self.out_factors)):
            u = self.cores[d + k](u.reshape(-1, self.ranks[d + k]))   # (B J, m r_{k+1})
        y = u.reshape(-1, self.out_features)
        return y if self.bias is None else y + self.bias

    @classmethod
    def from_matrix(cls, weight, rank, bias=None, in_factors=None, out_factors=None):
        """TT-SVD of a dense ``weight`` (out x in): sequential truncated SVDs of
        the tensor with index order (i_1..i_d, j_1..j_e), keeping ``rank``
        singular values at each cut (exact when ``rank`` reaches the full rank).
        Compresses a trained dense layer without retraining."""
        out_features, in_features = weight.shape
        layer = cls(in_features, out_features, rank, in_factors, out_factors, bias=bias is not None)
        sizes = layer.in_factors + layer.out_factors
        d = len(layer.in_factors)
        rest = weight.detach().to(torch.float64).t().reshape(sizes)      # (i..., j...)
        left = 1
        with torch.no_grad():
            for k, size in enumerate(sizes[:-1]):
                mat = rest.reshape(left * size, -1)
                u, sv, vh = torch.linalg.svd(mat, full_matrices=False)
                r = layer.ranks[k + 1]
                core = u[:, :r]                                          # (r_{k-1} n_k, r_k)
                rest = sv[:r, None] * vh[:r]
                layer._set_core(k, core.reshape(left, size, r), d)
                left = r
            layer._set_core(len(sizes) - 1, rest.reshape(left, sizes[-1], 1), d)
            if bias is not None:
                layer.bias.copy_(bias)
        return layer

    def _set_core(self, k, core, d):
        """Store ``core[r_{k-1}, size_k, r_k]`` as core k's matmul weight."""
        left, size, right = core.shape
        if k < d:       # (r_k, r_{k-1} n_k), column a n_k + i
            w = core.reshape(left * size, right).t()
        else:           # (m r_k, r_{k-1}), row j r_k + b
            w = core.permute(1, 2, 0).reshape(size * right, left)
        self.cores[k].weight.copy_(w.to(self.cores[k].weight.dtype))

    def full_weight(self):
        """``W`` (out x in) reconstructed from the cores (for tests and comparisons)."""
        eye = torch.eye(self.in_features, dtype=self.cores[0].weight.dtype)
        bias, self.bias = self.bias, None
        try:
            return self.forward(eye).t().contiguous()
        finally:
            self.bias = bias


class MPOLinear(nn.Module):
    """``y = x W^T + b`` with ``W`` a tensor-train matrix (MPO) of rank ``rank``:
    ``d`` sites pairing ``out_factors[k]`` with ``in_factors[k]``."""

    def __init__(self, in_features, out_features, rank, in_factors=None, out_factors=None,
                 bias=True, sites=2):
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.in_factors = list(in_factors or factorize(in_features, sites))
        self.out_factors = list(out_factors or factorize(out_features, sites))
        if len(self.in_factors) != len(self.out_factors):
            raise ValueError("an MPO pairs one input and one output factor per site")
        if math.prod(self.in_factors) != in_features or math.prod(self.out_factors) != out_features:
            raise ValueError(f"factors {self.in_factors} x {self.out_factors} do not multiply to "
                             f"{in_features} x {out_features}")
        ranks = _ranks(len(self.in_factors), rank)
        self.ranks = ranks
        std = (1.0 / (3.0 * in_features)) ** (0.5 / len(self.in_factors))
        self.cores = nn.ParameterList([
            nn.Parameter(torch.randn(ranks[k], m, n, ranks[k + 1]) * std / math.sqrt(ranks[k]))
            for k, (m, n) in enumerate(zip(self.out_factors, self.in_factors))])
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        if bias:
            bound = 1.0 / math.sqrt(in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def parameter_count(self, with_bias=False):
        n = sum(core.numel() for core in self.cores)
        return n + (self.bias.numel() if with_bias and self.bias is not None else 0)

    def full_weight(self):
        w = self.cores[0]                                    # (1, m1, n1, r1)
        for core in self.cores[1:]:
            # (1, M, N, r) x (r, m, n, r') -> (1, M, m, N, n, r')
            w = torch.einsum("aMNr,rmns->aMmNns", w, core)
            a, big_m, m, big_n, n, s = w.shape
            w = w.reshape(a, big_m * m, big_n * n, s)
        return w.reshape(self.out_features, self.in_features)

    def forward(self, x):
        y = x @ self.full_weight().t()
        return y if self.bias is None else y + self.bias


def parameter_count(linear):
    """Weight count (no bias) of a dense, MPS or MPO linear."""
    if isinstance(linear, (MPSLinear, MPOLinear)):
        return linear.parameter_count()
    return linear.weight.numel()


def make_linear(kind, in_features, out_features, rank=None, bias=True):
    if kind == "dense":
        return nn.Linear(in_features, out_features, bias=bias)
    if kind == "mps":
        return MPSLinear(in_features, out_features, rank, bias=bias)
    if kind == "mpo":
        return MPOLinear(in_features, out_features, rank, bias=bias)
    raise ValueError(f"unknown linear kind {kind!r}; choose dense, mps or mpo")


class FactoredLSTM(nn.Module):
    """A one-layer LSTM (PyTorch's gate order i, f, g, o) whose input and
    recurrent weights are ``dense``, ``mps`` or ``mpo`` linears, unrolled over
    a static number of steps (so the exporter sees plain ops).

    ``x`` is (B, T, F); returns the last hidden state (B, H).
    """

    def __init__(self, input_size, hidden_size, steps, kind="dense", rank=None):
        super().__init__()
        self.input_size, self.hidden_size, self.steps = input_size, hidden_size, steps
        self.kind, self.rank = kind, rank
        self.input_proj = make_linear(kind, input_size, 4 * hidden_size, rank, bias=True)
        self.hidden_proj = make_linear(kind, hidden_size, 4 * hidden_size, rank, bias=False)

    def parameter_count(self):
        return parameter_count(self.input_proj) + parameter_count(self.hidden_proj)

    @torch.no_grad()
    def match_float_scale(self):
        """Give every shift layer inside the RMS weight of the float layer it
        replaced (``build_model`` calls this after ``convert``).

        A shift layer's default alpha puts its smallest level at one He standard
        deviation, so its RMS weight is several times the float init's -- which
        BatchNorm absorbs in a CNN, but an LSTM has no normalisation and an MPS
        multiplies the factor over every core (measured: a recurrent matrix of
        spectral norm 2.6e4 for rank 8, gates saturated from the first step).
        Each alpha is scaled (exactly, per row) to the float RMS."""
        from .layers import ShiftLinear
        for linear in (self.input_proj, self.hidden_proj):
            if isinstance(linear, MPSLinear):
                targets = [(core, math.sqrt(linear.core_variance() / linear.ranks[k]))
                           for k, core in enumerate(linear.cores)]
            else:
                targets = [(linear, 1.0 / math.sqrt(3.0 * linear.in_features))]
            for layer, std in targets:
                if not isinstance(layer, ShiftLinear):
                    continue
                rms = layer.quantized_weight().pow(2).mean().sqrt()
                if rms > 0:
                    layer.shift_weight.alpha.mul_(std / float(rms))

    def forward(self, x):
        gates_x = self.input_proj(x.reshape(-1, self.input_size))
        gates_x = gates_x.reshape(-1, self.steps, 4 * self.hidden_size)
        h = c = None            # zero initial state: step 0 has no recurrent terms
        for t in range(self.steps):
            gates = gates_x[:, t] if h is None else gates_x[:, t] + self.hidden_proj(h)
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(i) * torch.tanh(g) if c is None else \
                torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h


class RowLSTM(nn.Module):
    """An image-shaped input (C, H, W) as a sequence through a
    :class:`FactoredLSTM`, then a float classifier: ``sequence="rows"`` reads
    the H rows of C x W values (Fashion-MNIST: 28 steps of 28 pixels),
    ``"columns"`` the W columns of C x H values (speech features (1, 40, 98):
    98 frames of 40 mel bands, time as the sequence)."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28), hidden=128, kind="dense",
                 rank=None, sequence="rows"):
        super().__init__()
        if sequence not in ("rows", "columns"):
            raise ValueError(f"sequence must be 'rows' or 'columns', got {sequence!r}")
        channels, height, width = input_shape
        self.input_shape, self.sequence = tuple(input_shape), sequence
        steps, features = (height, channels * width) if sequence == "rows" else \
            (width, channels * height)
        self.lstm = FactoredLSTM(features, hidden, steps, kind, rank)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        c, h, w = self.input_shape
        x = x.reshape(-1, c, h, w)
        if self.sequence == "rows":      # (B, C, H, W) -> (B, H, C W)
            seq = x.permute(0, 2, 1, 3).reshape(-1, h, c * w)
        else:                            # (B, C, H, W) -> (B, W, C H)
            seq = x.permute(0, 3, 1, 2).reshape(-1, w, c * h)
        return self.head(self.lstm(seq))


def lstm_weight_bytes(model):
    """Bytes of the recurrent layer's weights as deployed: f32 for float
    weights, ``bits / 8`` a code plus an f32 alpha per row for shift cores
    (biases excluded, as in the compression tables)."""
    from .layers import ShiftLinear
    total = 0.0
    for module in model.modules():
        if not isinstance(module, FactoredLSTM):
            continue
        for sub in module.modules():
            if isinstance(sub, ShiftLinear):
                w = sub.quantized_weight()
                total += w.numel() * sub.bits / 8 + w.shape[0] * 4
            elif isinstance(sub, nn.Linear):
                total += sub.weight.numel() * 4
            elif isinstance(sub, MPOLinear):
                total += sub.parameter_count() * 4
    return total
