"""Weight-freezing metric."""
import torch

from denseshift import ShiftLinear
from denseshift.freezing import FreezingTracker, code_histogram
from torch import nn


def test_freezing_counts_changes_and_sign_flips():
    model = nn.Sequential(ShiftLinear(2, 2, bias=False, bits=3))
    sw = model[0].shift_weight
    with torch.no_grad():
        sw.sign_latent.copy_(torch.tensor([[1., 1.], [1., -1.]]))
        sw.exponent_latent.fill_(-1.0)
    tracker = FreezingTracker(model)
    tracker.start_epoch()
    with torch.no_grad():
        sw.sign_latent[0, 0] = -1.0          # flip
        sw.exponent_latent[0, 0, 1] = 1.0     # k 0 -> 1
    tracker.step()
    with torch.no_grad():
        sw.exponent_latent[0, 0, 1] = -1.0    # k back to 0: changed, but not net
    tracker.step()
    report = tracker.end_epoch()["0"]
    assert report == {"frozen": 0.5, "sign_flip": 0.25, "changed_net": 0.25, "weights": 4}
    assert tracker.steps == 2


def test_code_histogram_covers_all_levels():
    layer = ShiftLinear(16, 16, bits=3, scheme="s3")
    hist = code_histogram(layer)
    assert sorted(hist) == list(range(-3, 4))
    assert sum(hist.values()) == 256 and hist[0] == 0   # S3 starts dense
