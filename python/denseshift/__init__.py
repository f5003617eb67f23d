"""DenseShift training frontend: shift layers, conversion, export, runtime."""
from .encoding import Encoding, check_bits, round_to_encoding
from .layers import ShiftConv2d, ShiftLinear, regularization, shift_layers

__all__ = ["Encoding", "ShiftConv2d", "ShiftLinear", "check_bits", "regularization",
           "round_to_encoding", "shift_layers"]
