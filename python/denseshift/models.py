"""Reference models; Fashion-MNIST (1x28x28, 10 classes) by default.

Every model takes ``num_classes`` and ``input_shape`` (C, H, W), e.g. the
speech features' (1, 40, 98) with 12 classes; both are part of the
checkpoint config (``input_shape`` is what the exporter reads).

Models are written in float (``nn.Conv2d`` / ``nn.Linear``) and turned into
shift networks by :func:`denseshift.convert.convert`; every conv is followed
by BatchNorm, which the exporter folds into alpha and bias.
"""
from collections import OrderedDict

from torch import nn

from .convert import convert


def conv_bn_relu(cin, cout, kernel=3, stride=1, padding=1, groups=1, suffix=""):
    """Named (conv, bn, relu) entries for an OrderedDict-built Sequential."""
    return [(f"conv{suffix}", nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding,
                                        groups=groups, bias=False)),
            (f"bn{suffix}", nn.BatchNorm2d(cout)), (f"relu{suffix}", nn.ReLU(inplace=True))]


class SmallCNN(nn.Sequential):
    """conv-bn-relu x3 with two max pools and one FC: ~88% after one epoch."""

    def __init__(self, width=16, num_classes=10, input_shape=(1, 28, 28)):
        channels, height, width_px = input_shape
        super().__init__(OrderedDict(
            conv_bn_relu(channels, width, suffix="1") + [("pool1", nn.MaxPool2d(2))]
            + conv_bn_relu(width, 2 * width, suffix="2") + [("pool2", nn.MaxPool2d(2))]
            + conv_bn_relu(2 * width, 2 * width, suffix="3")
            + [("flatten", nn.Flatten()), ("fc", nn.Linear(2 * width * (height // 4) * (width_px // 4), num_classes))]))


class BasicBlock(nn.Module):
    """ResNet basic block; projection shortcut (1x1 conv + BN) when shapes change."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


class ResNet20(nn.Module):
    """CIFAR-style ResNet-20 (3 stages x 3 blocks, 16/32/64 channels), 1 input channel."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28)):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(conv_bn_relu(input_shape[0], 16)))
        blocks, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.layers(self.stem(x)))))


class DepthwiseSeparableNet(nn.Sequential):
    """Depthwise-separable blocks (dw 3x3 + pw 1x1), one grouped conv, global pool."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28)):
        def separable(cin, cout, n):
            return (conv_bn_relu(cin, cin, groups=cin, suffix=f"_dw{n}")
                    + conv_bn_relu(cin, cout, kernel=1, padding=0, suffix=f"_pw{n}"))
        super().__init__(OrderedDict(
            conv_bn_relu(input_shape[0], 16, suffix="_stem")
            + separable(16, 32, 1) + [("pool1", nn.MaxPool2d(2))]
            + separable(32, 64, 2) + [("pool2", nn.MaxPool2d(2))]
            + conv_bn_relu(64, 64, groups=4, suffix="_grouped")
            + [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
               ("fc", nn.Linear(64, num_classes))]))


class Res8(nn.Module):
    """Keyword-spotting ResNet over the (1, 40 mels, 98 frames) log-mel map.

    After Tang & Lin's res8 (the shift-ResNet of the SLU paper is built the
    same way): a 3x3 stem, a (4, 3) average pool over frequency x time, three
    residual blocks of two 3x3 convs at constant width, global average pool and
    one FC.  BatchNorm follows each conv (conv-BN-ReLU, so the exporter folds
    it); with ``keep_first_last`` the stem and the FC stay float and the six
    block convs are shift layers.
    """

    def __init__(self, num_classes=12, input_shape=(1, 40, 98), width=45, blocks=3):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(conv_bn_relu(input_shape[0], width)))
        pool = (4, 3) if input_shape[1] >= 8 and input_shape[2] >= 6 else (1, 1)
        self.pool = nn.AvgPool2d(pool)
        self.layers = nn.Sequential(*[BasicBlock(width, width, 1) for _ in range(blocks)])
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.layers(self.pool(self.stem(x)))
        return self.fc(self.flatten(self.global_pool(x)))


class MLP(nn.Sequential):
    """Flatten + three linear layers, no BatchNorm: the tiny model of the distributed tests
    (per-process BatchNorm statistics would make 2 x batch B differ from batch 2B)."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28), hidden=64):
        features = input_shape[0] * input_shape[1] * input_shape[2]
        super().__init__(OrderedDict([
            ("flatten", nn.Flatten()), ("fc1", nn.Linear(features, hidden)),
            ("relu1", nn.ReLU(inplace=True)), ("fc2", nn.Linear(hidden, hidden)),
            ("relu2", nn.ReLU(inplace=True)), ("fc3", nn.Linear(hidden, num_classes))]))


def _row_lstm(kind, rank=None, sequence="rows"):
    def build(num_classes=10, input_shape=(1, 28, 28)):
        from .tensor_train import RowLSTM
        return RowLSTM(num_classes, input_shape, kind=kind, rank=rank, sequence=sequence)
    build.__doc__ = (f"{sequence.capitalize()}-as-sequence LSTM, {kind} weights"
                     + (f", rank {rank}" if rank else ""))
    return build


# Sequence models (issue 11): a dense LSTM and the tensor-train compressions of
# its weights (docs/python.md#tensor-train-lstms), over image rows (lstm-*) or
# over the frames (columns) of the speech features (kws-lstm-*).
LSTM_MODELS = {"lstm": _row_lstm("dense"), "lstm-mps4": _row_lstm("mps", 4),
               "lstm-mps8": _row_lstm("mps", 8), "lstm-mps16": _row_lstm("mps", 16),
               "lstm-mpo4": _row_lstm("mpo", 4),
               "kws-lstm": _row_lstm("dense", sequence="columns"),
               "kws-lstm-mps8": _row_lstm("mps", 8, "columns"),
               "kws-lstm-mpo4": _row_lstm("mpo", 4, "columns")}
def _vit(num_classes=10, input_shape=(1, 28, 28)):
    """Small ViT (7x7 patches, width 48, 3 blocks of 3 heads): the OFQ experiments' model."""
    from .vit import ViT
    return ViT(num_classes, input_shape, patch=7, dim=48, depth=3, heads=3, mlp=96)


MODELS = {"smallcnn": SmallCNN, "resnet20": ResNet20, "dsnet": DepthwiseSeparableNet, "mlp": MLP,
          "res8": Res8, "vit": _vit, **LSTM_MODELS}
DEFAULT_INPUT_SHAPE, DEFAULT_CLASSES = [1, 28, 28], 10
SCHEME_CHOICES = ("float", "denseshift", "deepshift-q", "deepshift-ps", "s3")


def model_config(model="smallcnn", scheme="denseshift", bits=3, keep_first_last=True,
                 rounding="deterministic", input_shape=DEFAULT_INPUT_SHAPE, num_classes=DEFAULT_CLASSES):
    """The dict that fully describes an architecture; stored in checkpoints.

    ``input_shape`` is the per-example input (C, H, W) as a list; the exported
    model's input is ``[batch] + input_shape``.
    """
    return {"model": model, "scheme": scheme, "bits": bits,
            "keep_first_last": keep_first_last, "rounding": rounding,
            "input_shape": [int(d) for d in input_shape], "num_classes": int(num_classes)}


def with_defaults(config):
    """A config from before ``input_shape``/``num_classes`` existed meant Fashion-MNIST."""
    return {"input_shape": list(DEFAULT_INPUT_SHAPE), "num_classes": DEFAULT_CLASSES, **config}


def build_model(config):
    """Build (and convert, unless scheme is 'float') the model of ``config``."""
    name, scheme = config["model"], config["scheme"]
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if scheme not in SCHEME_CHOICES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {list(SCHEME_CHOICES)}")
    config = with_defaults(config)
    shape = config["input_shape"]
    if not (isinstance(shape, (list, tuple)) and len(shape) == 3 and all(int(d) > 0 for d in shape)):
        raise ValueError(f"input_shape must be [C, H, W] with positive sizes, got {shape!r}")
    model = MODELS[name](num_classes=int(config["num_classes"]), input_shape=tuple(shape))
    if scheme != "float":
        convert(model, scheme=scheme, bits=config["bits"],
                keep_first_last=config.get("keep_first_last", True),
                rounding=config.get("rounding", "deterministic"))
        from .layers import shift_layers
        if not shift_layers(model):
            raise ValueError(f"model {name!r} has no nn.Conv2d/nn.Linear that scheme {scheme!r} "
                             "could make a shift layer (besides the first and the last, which "
                             "stay float); train it with --scheme float")
        for module in model.modules():     # models without normalisation rescale alpha
            if hasattr(module, "match_float_scale"):
                module.match_float_scale()
    return model
