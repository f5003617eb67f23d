"""Weight-freezing metric: how many codes stop changing during an epoch.

For each shift layer and epoch (definitions in docs/python.md):

* ``frozen``: share of weights whose code (sign, k) was identical after every
  optimizer step of the epoch (compared with the code at the epoch's start);
* ``sign_flip``: share of weights whose sign flipped (-1 <-> +1) at least
  once during the epoch;
* ``changed_net``: share whose code at the epoch's end differs from its start.
"""
import torch

from .layers import shift_layers


class FreezingTracker:
    """Call :meth:`start_epoch`, then :meth:`step` after each optimizer step."""

    def __init__(self, model):
        self.layers = shift_layers(model)
        self.steps = 0
        self._start = self._previous = self._changed = self._flipped = None

    def _codes(self):
        return {name: layer.codes() for name, layer in self.layers}

    def start_epoch(self):
        self._start = self._codes()
        self._previous = self._start
        self._changed = {n: torch.zeros(c.shape[1:], dtype=torch.bool) for n, c in self._start.items()}
        self._flipped = {n: torch.zeros(c.shape[1:], dtype=torch.bool) for n, c in self._start.items()}
        self.steps = 0

    def step(self):
        current = self._codes()
        for name, codes in current.items():
            before = self._previous[name]
            self._changed[name] |= (codes != before).any(dim=0)
            self._flipped[name] |= (codes[0].to(torch.int16) * before[0].to(torch.int16)) < 0
        self._previous = current
        self.steps += 1

    def end_epoch(self):
        """Per-layer metric dict {name: {frozen, sign_flip, changed_net, weights}}."""
        report = {}
        for name, codes in self._previous.items():
            count = codes[0].numel()
            net = (codes != self._start[name]).any(dim=0)
            report[name] = {
                "frozen": 1.0 - self._changed[name].float().mean().item(),
                "sign_flip": self._flipped[name].float().mean().item(),
                "changed_net": net.float().mean().item(),
                "weights": count,
            }
        return report


def code_histogram(layer):
    """Counts of each signed level ``s * (k + 1)`` (0 = the zero code)."""
    codes = layer.codes()
    signed = codes[0].long() * (codes[1].long() + 1)
    levels = layer.encoding.num_exponents
    counts = torch.bincount((signed + levels).flatten(), minlength=2 * levels + 1)
    return {int(v): int(c) for v, c in zip(range(-levels, levels + 1), counts)}
