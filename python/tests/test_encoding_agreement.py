"""One number format (issue 8, item 5): the Python ``encoding`` module and the
compiler's ``EncodingMath`` (through ``shift.quantize`` / ``shift.dequantize``
folding in ``denseshift-opt -canonicalize``) agree on every code of every
format -- b = 2..8, zero-free and with-zero, several emin -- including the
decision points (the f32 just below and above sqrt(2) 2^e), weights below the
smallest level (with-zero: the zero code below sqrt(2) 2^(emin-1)), +-0 and
negative weights."""
import math
import os
import re
import subprocess

import numpy as np
import pytest
import torch

from denseshift import runtime
from denseshift.encoding import Encoding, round_to_encoding

OPT = os.path.join(runtime.PROJECT_BIN, "denseshift-opt")
pytestmark = pytest.mark.skipif(not os.access(OPT, os.X_OK), reason=f"{OPT} not built")

FORMATS = [(bits, zero_free, emin) for bits in range(2, 9) for zero_free in (True, False)
           for emin in (0, -3, -(2 ** (bits - 1) - 2))
           if emin + (2 ** (bits - 1) - (1 if zero_free else 2)) <= 127]


def probe_weights(enc):
    """One channel whose largest magnitude is 2^emax (so the compiler's alpha is
    exactly 1) and which crosses every decision point of the format."""
    f32 = np.float32
    values = [2.0 ** enc.emax]
    for e in range(enc.emin - 1, enc.emax + 1):
        level = 2.0 ** e
        if level < np.finfo(f32).tiny:
            continue
        point = f32(math.sqrt(2.0) * level)                      # not exactly representable
        below, above = np.nextafter(point, f32(0)), np.nextafter(point, f32(np.inf))
        values += [level, -level, float(below), float(above), -float(below), -float(above)]
    lowest = 2.0 ** (enc.emin - 4)
    if lowest >= np.finfo(f32).tiny:
        values += [lowest, -lowest]
    values += [0.0, -0.0, 0.7 * 2.0 ** enc.emin, -0.71 * 2.0 ** enc.emin]
    w = np.array([v for v in values if abs(v) <= 2.0 ** enc.emax], dtype=np.float32)
    assert np.abs(w).max() == np.float32(2.0 ** enc.emax)
    return w


def fold(text):
    proc = subprocess.run([OPT, "-canonicalize", "--mlir-print-elementsattrs-with-hex-if-larger=0"],
                          input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


DTYPES = {"i8": np.int8, "i16": np.int16, "f32": np.float32}


def dense_values(out, element, count):
    """The ``count`` values of the first ``dense<...> : tensor<...x{element}>``
    constant, bit-exact: printed as hex bytes (little-endian), or as one decimal
    value for a splat."""
    m = re.search(r'dense<("0x[0-9A-F]*"|[^>]*)> : tensor<[0-9x]*' + element + ">", out)
    assert m, out
    body = m.group(1)
    if body.startswith('"0x'):
        values = np.frombuffer(bytes.fromhex(body[3:-1]), dtype=DTYPES[element])
    else:
        values = np.array([float(body)], dtype=DTYPES[element])
    return np.repeat(values, count) if len(values) == 1 else values


def mlir_f32(v):
    return "0x%08X" % np.float32(v).view(np.uint32)


@pytest.mark.parametrize("bits, zero_free, emin", FORMATS,
                         ids=[f"b{b}-{'zf' if z else 'wz'}-emin{e}" for b, z, e in FORMATS])
def test_python_and_compiler_round_every_code_alike(bits, zero_free, emin):
    enc = Encoding(bits, zero_free, emin)
    w = probe_weights(enc)
    n = len(w)
    code_type = "i16" if bits == 8 else "i8"
    attr = f"#shift.encoding<bits = {bits}, zero_free = {'true' if zero_free else 'false'}, emin = {emin}>"
    weights = ", ".join(f"{mlir_f32(v)}" for v in w)
    out = fold(f"""
func.func @q() -> (tensor<1x{n}x{code_type}>, tensor<1xf32>) {{
  %w = arith.constant dense<[[{weights}]]> : tensor<1x{n}xf32>
  %c, %a = shift.quantize %w {{encoding = {attr}}} : tensor<1x{n}xf32> -> tensor<1x{n}x{code_type}>, tensor<1xf32>
  return %c, %a : tensor<1x{n}x{code_type}>, tensor<1xf32>
}}""")
    compiler_codes = dense_values(out, code_type, n).astype(np.int64)
    assert dense_values(out, "f32", 1).tolist() == [1.0]     # alpha = max|w| / 2^emax
    ours = round_to_encoding(torch.from_numpy(w).view(1, n), torch.ones(1), enc)
    python_codes = enc.dialect_codes(ours).view(-1).numpy().astype(np.int64)
    differ = np.flatnonzero(python_codes != compiler_codes)
    assert differ.size == 0, [(float(w[i]), int(python_codes[i]), int(compiler_codes[i]))
                              for i in differ[:8]]
    # every code of the format occurs among the probes
    magnitude = 2 ** (bits - 1)
    expected = set(range(-magnitude, magnitude + 1)) - {0} if zero_free else \
        set(range(-(magnitude - 1), magnitude))
    assert set(python_codes.tolist()) == expected

    # decoding: shift.dequantize of those codes is Encoding.decode, bit for bit
    codes_text = ", ".join(str(int(c)) for c in compiler_codes)
    out = fold(f"""
func.func @d() -> tensor<1x{n}xf32> {{
  %c = arith.constant dense<[[{codes_text}]]> : tensor<1x{n}x{code_type}>
  %a = arith.constant dense<[1.0]> : tensor<1xf32>
  %w = shift.dequantize %c, %a {{encoding = {attr}}} : tensor<1x{n}x{code_type}>, tensor<1xf32> -> tensor<1x{n}xf32>
  return %w : tensor<1x{n}xf32>
}}""")
    decoded = dense_values(out, "f32", n)
    ref = enc.decode(ours, torch.ones(1)).view(-1).numpy()
    assert np.array_equal(decoded.view(np.uint32), ref.view(np.uint32))


def test_deepshift_q_training_keeps_its_own_clamp():
    """The DeepShift-Q scheme rounds tiny weights up to 2^emin (its paper's
    quantizer); the format's rounding sends them to the zero code."""
    enc = Encoding(3, False, -1)
    w = torch.tensor([[0.3, -0.3, 0.0, 2.0]])
    fmt = round_to_encoding(w, torch.ones(1), enc)
    clamp = round_to_encoding(w, torch.ones(1), enc, underflow="clamp")
    assert fmt[0].tolist() == [[0, 0, 0, 1]]
    assert clamp[0].tolist() == [[1, -1, 0, 1]] and clamp[1].tolist() == [[0, 0, 0, 2]]
    with pytest.raises(ValueError, match="underflow"):
        round_to_encoding(w, torch.ones(1), enc, underflow="nearest")
