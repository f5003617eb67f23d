"""DenseShift training frontend: shift layers, conversion, export, runtime."""
from .convert import convert
from .encoding import Encoding, check_bits, round_to_encoding
from .layers import ShiftConv2d, ShiftLinear, regularization, shift_layers

__all__ = ["Encoding", "ShiftConv2d", "ShiftLinear", "check_bits", "compile", "convert",
           "load", "regularization", "round_to_encoding", "shift_layers"]


def compile(mlir_path, target="x86-64-avx2", **options):  # noqa: A001 - public API name
    """Compile exported MLIR to a loadable model; see :mod:`denseshift.runtime`."""
    from .runtime import compile as _compile
    return _compile(mlir_path, target=target, **options)


def load(library_path, **options):
    """Load a compiled model library; see :mod:`denseshift.runtime`."""
    from .runtime import load as _load
    return _load(library_path, **options)
