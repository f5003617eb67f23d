"""convert(): swaps Conv2d/Linear in arbitrary models."""
import pytest
import torch
from torch import nn

from denseshift import ShiftConv2d, ShiftLinear, convert, shift_layers


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(1, 4, 3, padding=1)
        self.body = nn.ModuleDict({
            "a": nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, groups=2, bias=False), nn.ReLU()),
            "b": nn.Linear(8, 8)})
        self.last = nn.Linear(8, 3)

    def forward(self, x):
        x = self.body["a"](self.first(x)).mean((2, 3))
        return self.last(self.body["b"](x))


def test_convert_keeps_first_and_last():
    model = convert(Nested(), scheme="denseshift", bits=4)
    assert type(model.first) is nn.Conv2d and type(model.last) is nn.Linear
    conv, fc = model.body["a"][0], model.body["b"]
    assert isinstance(conv, ShiftConv2d) and isinstance(fc, ShiftLinear)
    assert (conv.stride, conv.groups, conv.bias, conv.bits) == ((2, 2), 2, None, 4)
    assert [n for n, _ in shift_layers(model)] == ["body.a.0", "body.b"]
    assert model(torch.randn(2, 1, 9, 9)).shape == (2, 3)


@pytest.mark.parametrize("scheme", ["denseshift", "deepshift-q", "deepshift-ps", "s3"])
def test_convert_all_layers_from_float(scheme):
    model = Nested()
    reference = model.body["b"].weight.detach().clone()
    convert(model, scheme=scheme, bits=5, keep_first_last=False, from_float=True)
    assert len(shift_layers(model)) == 4
    fc = model.body["b"]
    # from_float: the shift weight is the log-domain rounding of the float one
    ratio = fc.quantized_weight() / reference
    inside = (reference.abs() > 4 * fc.alpha.min() * 2.0 ** fc.encoding.emin) & \
             (reference.abs() < fc.alpha.min() * 2.0 ** fc.encoding.emax)
    assert torch.all((ratio[inside] > 0.70) & (ratio[inside] < 1.42))


def test_convert_preserves_train_mode_and_rejects_bad_input():
    model = Nested().eval()
    convert(model)
    assert not model.body["b"].training
    with pytest.raises(ValueError, match="bits"):
        convert(Nested(), bits=9)
    with pytest.raises(ValueError, match="unknown scheme"):
        convert(Nested(), scheme="nope")
