"""A small vision transformer for Fashion-MNIST (issue 12, the OFQ experiments).

Pre-norm blocks, mean-pooled tokens, learned position embeddings.  Every
projection is its own ``nn.Linear`` -- query, key and value separately, so
that the OFQ techniques (:mod:`denseshift.ofq`) can treat query and key on
their own -- and attention is written with ``matmul``/``softmax``, which the
exporter lowers to ``linalg`` ops.  ``convert()`` therefore makes q, k, v, the
output projection and both MLP layers of every block shift layers, and keeps
the patch embedding (the first layer) and the head (the last) float, as OFQ
and DenseShift do.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim={dim} must be a multiple of heads={heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        # Query and key without bias: of their biases only bq . Wk x_j changes the
        # softmax, and QKR (denseshift.ofq) needs the logits to be x_i Wq^T Wk x_j^T.
        self.q, self.k = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _split(self, x, b, t):                      # (B, T, D) -> (B, H, T, Dh)
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (self._split(f(x), b, t) for f in (self.q, self.k, self.v))
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scale
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    """Patches of ``patch`` x ``patch`` pixels -> ``depth`` blocks of width ``dim``."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28), patch=7, dim=64, depth=4,
                 heads=4, mlp=128):
        super().__init__()
        channels, height, width = input_shape
        if height % patch or width % patch:
            raise ValueError(f"input {height}x{width} is not a whole number of {patch}x{patch} patches")
        tokens = (height // patch) * (width // patch)
        self.embed = nn.Conv2d(channels, dim, patch, stride=patch)
        self.position = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*(Block(dim, heads, mlp) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2) + self.position    # (B, T, D)
        x = self.norm(self.blocks(x))
        return self.head(x.mean(dim=1))


def attentions(model):
    """(name, Attention) for every attention layer of ``model``."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, Attention)]
