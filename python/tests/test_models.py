"""Reference models build, convert and run for every scheme."""
import pytest
import torch

from denseshift import shift_layers
from denseshift.models import MODELS, SCHEME_CHOICES, build_model, model_config


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("scheme", SCHEME_CHOICES)
def test_models_forward(name, scheme):
    if "mpo" in name and scheme != "float":   # MPO cores are tensors, not linears
        with pytest.raises(ValueError, match="no nn.Conv2d/nn.Linear"):
            build_model(model_config(name, scheme, bits=3))
        return
    model = build_model(model_config(name, scheme, bits=3))
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    layers = shift_layers(model)
    assert (len(layers) == 0) == (scheme == "float")


def test_resnet20_has_20_weight_layers_and_depthwise_net_has_groups():
    resnet = build_model(model_config("resnet20", "float"))
    convs = [m for m in resnet.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len([c for c in convs if c.kernel_size == (3, 3)]) + 1 == 20  # + fc
    dsnet = build_model(model_config("dsnet", "denseshift"))
    groups = {m.groups for _, m in shift_layers(dsnet) if hasattr(m, "groups")}
    assert {1, 4, 32} <= groups


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="unknown model"):
        build_model(model_config("vgg"))
