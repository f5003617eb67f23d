"""Reference models for 1x28x28 inputs (Fashion-MNIST), 10 classes.

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

    def __init__(self, width=16, num_classes=10):
        super().__init__(OrderedDict(
            conv_bn_relu(1, width, suffix="1") + [("pool1", nn.MaxPool2d(2))]
            + conv_bn_relu(width, 2 * width, suffix="2") + [("pool2", nn.MaxPool2d(2))]
            + conv_bn_relu(2 * width, 2 * width, suffix="3")
            + [("flatten", nn.Flatten()), ("fc", nn.Linear(2 * width * 7 * 7, num_classes))]))


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

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(conv_bn_relu(in_channels, 16)))
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

    def __init__(self, num_classes=10):
        def separable(cin, cout, n):
            return (conv_bn_relu(cin, cin, groups=cin, suffix=f"_dw{n}")
                    + conv_bn_relu(cin, cout, kernel=1, padding=0, suffix=f"_pw{n}"))
        super().__init__(OrderedDict(
            conv_bn_relu(1, 16, suffix="_stem")
            + separable(16, 32, 1) + [("pool1", nn.MaxPool2d(2))]
            + separable(32, 64, 2) + [("pool2", nn.MaxPool2d(2))]
            + conv_bn_relu(64, 64, groups=4, suffix="_grouped")
            + [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
               ("fc", nn.Linear(64, num_classes))]))


MODELS = {"smallcnn": SmallCNN, "resnet20": ResNet20, "dsnet": DepthwiseSeparableNet}
SCHEME_CHOICES = ("float", "denseshift", "deepshift-q", "deepshift-ps", "s3")


def model_config(model="smallcnn", scheme="denseshift", bits=3, keep_first_last=True,
                 rounding="deterministic"):
    """The dict that fully describes an architecture; stored in checkpoints."""
    return {"model": model, "scheme": scheme, "bits": bits,
            "keep_first_last": keep_first_last, "rounding": rounding}


def build_model(config):
    """Build (and convert, unless scheme is 'float') the model of ``config``."""
    name, scheme = config["model"], config["scheme"]
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if scheme not in SCHEME_CHOICES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {list(SCHEME_CHOICES)}")
    model = MODELS[name]()
    if scheme != "float":
        convert(model, scheme=scheme, bits=config["bits"],
                keep_first_last=config.get("keep_first_last", True),
                rounding=config.get("rounding", "deterministic"))
    return model
