#!/usr/bin/python3
"""Generate one shift layer for the end-to-end integration tests.

Writes into the output directory:
  layer.mlir    func.func @forward on tensors, upstream linalg named ops, the
                weights a bit-exact hex constant of alpha[o] * s * 2^e
  input.bin     the activations, float32, row-major
  expected.bin  the float64 reference, row-major; where IEEE float32
                arithmetic gives NaN or +-Inf, that value
  layer.json    the spec and a summary, for whoever debugs a failure
  fast_abs_tol.txt  the absolute term of mode=fast's documented error bound
                (below), for `harness --abs-tol-file`

Examples:
  gen_layer.py conv --input-shape 1x3x9x11 --filters 5 --kernel 3x3 --pad 1 \
      --bits 3 --format zero-free --seed 1 -o DIR
  gen_layer.py fc --m 5 --k 129 --n 65 --bits 4 --format with-zero -o DIR
  gen_layer.py fc --m 9 --k 45 --n 13 --input-kind tiny --normal-fraction 0 \
      --tiny-max-exp -80 -o DIR

`--format float` draws plain f32 weights (not alpha * s * 2^e): the layers
a shift network keeps in float, compiled by the f32 (FMA) kernels.

Input kinds: `normal` draws N(0, 1). `tiny` is finite only: +0, -0,
denormals and tiny normals (|x| in [2^-126, 2^T), T = --tiny-max-exp,
default -60) mixed with N(0, 1) values (--normal-fraction); the first
third of the rows (conv: input rows of every channel, FC: rows of the batch)
is all +-0, so some outputs are exactly zero (see `harness --exact-zeros`).
With --normal-fraction 0 and a low --tiny-max-exp, max|ref| is so small
that mode=fast's absolute error term, not the relative one, is what holds.
`special` mixes +0, -0, denormals, a few
NaN and +-Inf, and values near the float32 maximum. A near-maximum value is
kept only where every weight it meets (nonzero, as alpha*s*2^e and as s*2^e
alone) has magnitude >= 2, so its products overflow whatever the order of
evaluation: the expected result is then unambiguous (+-Inf, or NaN when
signs meet). Elsewhere it is replaced by a normal draw.

mode=fast error bound (the exponent-add kernel skips the scan): for finite
inputs, |y - ref| <= max|alpha| * (fan_in * 2^(K-125) + 2^-87)
+ 1e-5 * max|ref|, with K = 2^(bits-1) - 1 the largest exponent code
(zero-free; 2^(bits-1) - 2 with zero) and fan_in = C/groups*KH*KW (conv)
or K (FC). A +-0 or denormal x becomes at most 2^(K-126) once its exponent
field has had the code added; the kernel flushes sums below 2^-87. alpha is
the per-channel scale with the exponent written as the code, w = alpha * s
* 2^k, k in [0, K] (docs/kernels.md; the compiler folds 2^emin into alpha
the same way): here --alpha-range's draw times 2^emin.
"""

import argparse
import json
import os
import sys

import numpy as np

F32_MAX = float(np.finfo(np.float32).max)
# Near-maximum inputs lie in [1.25, 2) * 2^127: times any |w| >= 2 that is
# at least 1.25 * 2^128, past the float32 range under any rounding.
HUGE_LO = 1.25 * 2.0**127


def parse_pair(text, name):
    parts = [int(p) for p in str(text).replace(",", "x").split("x")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 0:
        sys.exit(f"gen_layer.py: --{name} wants N or NxM, got {text!r}")
    return tuple(parts)


def tensor_type(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def hex_literal(array):
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return '"0x' + data.hex().upper() + '"'


# --------------------------------------------------------------------------
# Weights: w = alpha[o] * s * 2^e, exact in float32.
# --------------------------------------------------------------------------


def make_weights(shape, bits, fmt, emin, alpha_range, rng):
    """Returns (w float32, exponent scale 2^e float64 (0 where w is 0))."""
    if fmt == "float":
        # A layer kept in float: magnitudes in [1/4, 4) that are not powers of
        # two, so that shift-from-linalg leaves it to the f32 kernels.
        size = int(np.prod(shape))
        magnitude = rng.uniform(0.25, 4.0, size=size)
        magnitude = np.where(np.log2(magnitude) % 1 == 0, magnitude * 1.1, magnitude)
        sign = rng.choice(np.array([-1.0, 1.0]), size=size)
        w = (sign * magnitude).astype(np.float32).reshape(shape)
        return w, np.abs(w.astype(np.float64)), 0, np.ones(shape[0])
    if not 2 <= bits <= 8:
        sys.exit("gen_layer.py: --bits must be in 2..8")
    # Zero-free: 2^(b-1) magnitudes per sign. With-zero: one code is 0, the
    # other 2^b - 2 split evenly, so 2^(b-1) - 1 magnitudes per sign.
    magnitudes = 2 ** (bits - 1) - (0 if fmt == "zero-free" else 1)
    if emin is None:
        emin = max(-(magnitudes - 1), -100)
    size = int(np.prod(shape))
    k = rng.integers(0, magnitudes, size=size)
    sign = rng.choice(np.array([-1.0, 1.0]), size=size)
    if fmt == "with-zero":
        zero = rng.integers(0, 2 * magnitudes + 1, size=size) == 0
        sign = np.where(zero, 0.0, sign)
    scale = sign * np.ldexp(1.0, emin + k)
    lo, hi = alpha_range
    alpha = rng.uniform(lo, hi, size=shape[0]).astype(np.float32).astype(np.float64)
    w64 = alpha.reshape((-1,) + (1,) * (len(shape) - 1)) * scale.reshape(shape)
    w = w64.astype(np.float32)
    if not np.array_equal(w.astype(np.float64), w64):
        sys.exit("gen_layer.py: a weight alpha*s*2^e is not exact in float32; "
                 "adjust --emin or --alpha-range")
    return w, np.abs(scale).reshape(shape), emin, alpha


# --------------------------------------------------------------------------
# Layers: MLIR text and a float64 contraction used for the reference.
# --------------------------------------------------------------------------


class Conv:
    def __init__(self, args, rng):
        self.n, self.c, self.h, self.w = [int(d) for d in args.input_shape.split("x")]
        self.f = args.filters
        self.kh, self.kw = parse_pair(args.kernel, "kernel")
        self.sh, self.sw = parse_pair(args.stride, "stride")
        self.ph, self.pw = parse_pair(args.pad, "pad")
        self.dh, self.dw = parse_pair(args.dilation, "dilation")
        self.g = args.groups
        self.group_op = args.group_op
        # The file layout of input, output and weights; the arithmetic below
        # is NCHW whatever it is (io() converts at the edges).
        self.layout = getattr(args, "layout", "nchw")
        if self.layout == "nhwc" and self.g != 1 and not (
                self.g == self.c == self.f):
            sys.exit("gen_layer.py: --layout nhwc supports groups 1 and depthwise")
        if self.c % self.g or self.f % self.g:
            sys.exit("gen_layer.py: --groups must divide channels and filters")
        self.cg, self.fg = self.c // self.g, self.f // self.g
        self.hp, self.wp = self.h + 2 * self.ph, self.w + 2 * self.pw
        self.oh = (self.hp - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.ow = (self.wp - self.dw * (self.kw - 1) - 1) // self.sw + 1
        if min(self.oh, self.ow, self.sh, self.sw, self.dh, self.dw) < 1:
            sys.exit("gen_layer.py: the convolution has an empty output")
        self.in_shape = (self.n, self.c, self.h, self.w)
        self.out_shape = (self.n, self.f, self.oh, self.ow)
        # PyTorch layout, output channel first: F x C/G x KH x KW.
        self.weight, self.exp_scale, self.emin, self.alpha = make_weights(
            (self.f, self.cg, self.kh, self.kw), args.bits, args.format,
            args.emin, args.alpha_range, rng)
        self.fan_in = self.cg * self.kh * self.kw
        self.bias = (rng.uniform(-1.0, 1.0, size=self.f).astype(np.float32)
                     if args.bias else None)
        self.activation = args.activation
        self.residual = args.residual
        if self.residual and self.out_shape != self.in_shape:
            sys.exit("gen_layer.py: --residual needs an output shaped like the input "
                     f"({self.out_shape} vs {self.in_shape})")

    def depthwise(self):
        return self.g > 1 and self.g == self.c and self.f == self.c

    def io(self, array):
        """An NCHW array in the file layout."""
        return array.transpose(0, 2, 3, 1) if self.layout == "nhwc" else array

    def io_shape(self, shape):
        return tuple(self.io(np.empty(shape, dtype=np.uint8)).shape)

    def contract(self, x, w):
        """y[n, f, oh, ow] = sum x_padded * w in float64 (x, w any dtype):
        the one float64 convolution reference (bench/gen.py uses it too),
        one BLAS contraction per group and tap."""
        x = np.asarray(x, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        xp = np.pad(x, ((0, 0), (0, 0), (self.ph, self.ph), (self.pw, self.pw)))
        y = np.zeros(self.out_shape)
        for g in range(self.g):
            xg = xp[:, g * self.cg:(g + 1) * self.cg]
            wg = w[g * self.fg:(g + 1) * self.fg]
            for i in range(self.kh):
                for j in range(self.kw):
                    h0, w0 = i * self.dh, j * self.dw
                    patch = xg[:, :, h0:h0 + self.sh * (self.oh - 1) + 1:self.sh,
                               w0:w0 + self.sw * (self.ow - 1) + 1:self.sw]
                    # (n, c, h, w) x (f, c) -> (n, h, w, f)
                    part = np.tensordot(patch, wg[:, :, i, j], axes=([1], [1]))
                    y[:, g * self.fg:(g + 1) * self.fg] += part.transpose(0, 3, 1, 2)
        return y

    def touched_min_scale(self):
        """Per input channel, the smallest min(|w|, 2^e) over the nonzero
        weights that channel meets (inf if none)."""
        scale = np.minimum(np.abs(self.weight.astype(np.float64)), self.exp_scale)
        scale = np.where(self.weight == 0, np.inf, scale)
        per_channel = np.empty(self.c)
        for c in range(self.c):
            g, local = divmod(c, self.cg)
            per_channel[c] = scale[g * self.fg:(g + 1) * self.fg, local].min()
        return per_channel.reshape(1, self.c, 1, 1)

    def mlir(self):
        if self.layout == "nhwc":
            return self._mlir_nhwc()
        n, c = self.n, self.c
        padded = (n, c, self.hp, self.wp)
        lines = ["  %zero = arith.constant 0.000000e+00 : f32"]
        x = self._pad(lines, (0, 0, self.ph, self.pw), tensor_type(self.in_shape),
                      padded)
        attrs = (f"{{dilations = dense<[{self.dh}, {self.dw}]> : tensor<2xi64>, "
                 f"strides = dense<[{self.sh}, {self.sw}]> : tensor<2xi64>}}")
        out = tensor_type(self.out_shape)
        if self.g == 1:
            weight, op = self.weight, "linalg.conv_2d_nchw_fchw"
            ins = f"ins({x}, %w : {tensor_type(padded)}, {tensor_type(weight.shape)})"
            lines += self._fill("%init", out)
            lines += [f"  %y = {op} {attrs} {ins} outs(%init : {out}) -> {out}"]
        elif self.depthwise():
            weight, op = self.weight[:, 0], "linalg.depthwise_conv_2d_nchw_chw"
            ins = f"ins({x}, %w : {tensor_type(padded)}, {tensor_type(weight.shape)})"
            lines += self._fill("%init", out)
            lines += [f"  %y = {op} {attrs} {ins} outs(%init : {out}) -> {out}"]
        else:
            g, cg, fg = self.g, self.cg, self.fg
            grouped = tensor_type((n, g, cg, self.hp, self.wp))
            gout = tensor_type((n, g, fg, self.oh, self.ow))
            by_group = self.weight.reshape(g, fg, cg, self.kh, self.kw)
            if self.group_op == "fgchw":
                weight = np.ascontiguousarray(by_group.transpose(1, 0, 2, 3, 4))
            else:
                weight = by_group
            op = f"linalg.conv_2d_ngchw_{self.group_op}"
            lines += [
                f"  %xg = tensor.expand_shape {x} [[0], [1, 2], [3], [4]] "
                f"output_shape [{n}, {g}, {cg}, {self.hp}, {self.wp}] "
                f": {tensor_type(padded)} into {grouped}",
            ]
            lines += self._fill("%init", gout)
            lines += [
                f"  %yg = {op} {attrs} ins(%xg, %w : {grouped}, "
                f"{tensor_type(weight.shape)}) outs(%init : {gout}) -> {gout}",
                f"  %y = tensor.collapse_shape %yg [[0], [1, 2], [3], [4]] "
                f": {gout} into {out}",
            ]
        head = [f"  %w = arith.constant dense<{hex_literal(weight)}> : "
                f"{tensor_type(weight.shape)}"]
        return head + lines + self._epilogue(out)

    def _pad(self, lines, pads, in_type, padded):
        """Appends a zero tensor.pad of %x by `pads` (low = high) if any
        and returns the padded value's name."""
        if not any(pads):
            return "%x"
        pad = ", ".join(str(p) for p in pads)
        lines += [
            f"  %padded = tensor.pad %x low[{pad}] high[{pad}] {{",
            "  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):",
            "    tensor.yield %zero : f32",
            f"  }} : {in_type} to {tensor_type(padded)}",
        ]
        return "%padded"

    def _mlir_nhwc(self):
        """linalg.conv_2d_nhwc_hwcf (weights KH x KW x C x F) or
        linalg.depthwise_conv_2d_nhwc_hwc (KH x KW x C) on N x H x W x C."""
        padded = (self.n, self.hp, self.wp, self.c)
        inp = tensor_type(self.io_shape(self.in_shape))
        lines = ["  %zero = arith.constant 0.000000e+00 : f32"]
        x = self._pad(lines, (0, self.ph, self.pw, 0), inp, padded)
        attrs = (f"{{dilations = dense<[{self.dh}, {self.dw}]> : tensor<2xi64>, "
                 f"strides = dense<[{self.sh}, {self.sw}]> : tensor<2xi64>}}")
        out = tensor_type(self.io_shape(self.out_shape))
        if self.depthwise():
            weight = np.ascontiguousarray(self.weight[:, 0].transpose(1, 2, 0))
            op = "linalg.depthwise_conv_2d_nhwc_hwc"
        else:
            weight = np.ascontiguousarray(self.weight.transpose(2, 3, 1, 0))
            op = "linalg.conv_2d_nhwc_hwcf"
        lines += self._fill("%init", out)
        lines += [f"  %y = {op} {attrs} ins({x}, %w : {tensor_type(padded)}, "
                  f"{tensor_type(weight.shape)}) outs(%init : {out}) -> {out}"]
        head = [f"  %w = arith.constant dense<{hex_literal(weight)}> : "
                f"{tensor_type(weight.shape)}"]
        return head + lines + self._epilogue(out)

    def _epilogue(self, out):
        """The frontend's form of a bias add and an activation after a conv."""
        lines, y = [], "%y"
        channel = "d3" if self.layout == "nhwc" else "d1"
        maps = ["affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>",
                f"affine_map<(d0, d1, d2, d3) -> ({channel})>"]
        par = '["parallel", "parallel", "parallel", "parallel"]'
        if self.bias is not None:
            bias = f"tensor<{self.f}xf32>"
            lines += [
                f"  %b = arith.constant dense<{hex_literal(self.bias)}> : {bias}",
                f"  %yb_empty = tensor.empty() : {out}",
                f"  %yb = linalg.generic {{indexing_maps = [{maps[0]}, {maps[1]}, {maps[0]}], "
                f"iterator_types = {par}}} ins(%y, %b : {out}, {bias}) outs(%yb_empty : {out}) {{",
                "  ^bb0(%a: f32, %c: f32, %o: f32):",
                "    %s = arith.addf %a, %c : f32",
                "    linalg.yield %s : f32",
                f"  }} -> {out}",
            ]
            y = "%yb"
        if self.residual:
            # The shortcut of a ResNet block: the layer's own input, added by
            # a named linalg.add as the frontend writes it.
            lines += [f"  %yr_empty = tensor.empty() : {out}",
                      f"  %yr = linalg.add ins({y}, %x : {out}, {out}) outs(%yr_empty : {out}) -> {out}"]
            y = "%yr"
        if self.activation != "none":
            clamp = ["    %lo = arith.constant 0.000000e+00 : f32",
                     "    %m = arith.maximumf %a, %lo : f32"]
            if self.activation == "relu6":
                clamp += ["    %hi = arith.constant 6.000000e+00 : f32",
                          "    %r = arith.minimumf %m, %hi : f32"]
            last = "%r" if self.activation == "relu6" else "%m"
            lines += [f"  %ya_empty = tensor.empty() : {out}",
                      f"  %ya = linalg.generic {{indexing_maps = [{maps[0]}, {maps[0]}], "
                      f"iterator_types = {par}}} ins({y} : {out}) outs(%ya_empty : {out}) {{",
                      "  ^bb0(%a: f32, %o: f32):"] + clamp + [
                      f"    linalg.yield {last} : f32", f"  }} -> {out}"]
            y = "%ya"
        return lines + [f"  return {y} : {out}"]

    def epilogue(self, y, x=None):
        """float64 bias, shortcut and activation; NaN propagates as
        arith.maximumf does."""
        if self.bias is not None:
            y = y + self.bias.astype(np.float64).reshape(1, -1, 1, 1)
        if self.residual:
            y = y + x.astype(np.float64)
        if self.activation in ("relu", "relu6"):
            y = np.where(np.isnan(y), y, np.maximum(y, 0.0))
        if self.activation == "relu6":
            y = np.where(np.isnan(y), y, np.minimum(y, 6.0))
        return y

    @staticmethod
    def _fill(name, ty):
        return [f"  {name}_empty = tensor.empty() : {ty}",
                f"  {name} = linalg.fill ins(%zero : f32) outs({name}_empty : {ty}) -> {ty}"]


class FullyConnected:
    def __init__(self, args, rng):
        self.m, self.k, self.n = args.m, args.k, args.n
        self.in_shape = (self.m, self.k)
        self.out_shape = (self.m, self.n)
        # PyTorch layout N x K; alpha per output feature.
        self.weight, self.exp_scale, self.emin, self.alpha = make_weights(
            (self.n, self.k), args.bits, args.format, args.emin,
            args.alpha_range, rng)
        self.fan_in = self.k

    def contract(self, x, w):
        return np.asarray(x, np.float64) @ np.asarray(w, np.float64).T

    def touched_min_scale(self):
        scale = np.minimum(np.abs(self.weight.astype(np.float64)), self.exp_scale)
        scale = np.where(self.weight == 0, np.inf, scale)
        return scale.min(axis=0).reshape(1, self.k)

    def mlir(self):
        weight = np.ascontiguousarray(self.weight.T)  # stored K x N
        x, w, out = (tensor_type(self.in_shape), tensor_type(weight.shape),
                     tensor_type(self.out_shape))
        return [
            f"  %w = arith.constant dense<{hex_literal(weight)}> : {w}",
            "  %zero = arith.constant 0.000000e+00 : f32",
            f"  %init_empty = tensor.empty() : {out}",
            f"  %init = linalg.fill ins(%zero : f32) outs(%init_empty : {out}) -> {out}",
            f"  %y = linalg.matmul ins(%x, %w : {x}, {w}) outs(%init : {out}) -> {out}",
            f"  return %y : {out}",
        ]


# --------------------------------------------------------------------------
# Inputs and the IEEE-aware reference.
# --------------------------------------------------------------------------


def special_input(layer, rng, count):
    shape = layer.in_shape
    size = int(np.prod(shape))
    x = rng.standard_normal(size).astype(np.float32)
    kind = rng.choice(4, size=size, p=[0.4, 0.15, 0.15, 0.3])
    x[kind == 1] = np.float32(0.0)
    x[kind == 2] = np.float32(-0.0)
    denormal_bits = rng.integers(1, 0x00800000, size=size, dtype=np.uint32)
    denormal_bits |= rng.integers(0, 2, size=size, dtype=np.uint32) << 31
    x = np.where(kind == 3, denormal_bits.view(np.float32), x)
    if 5 * count > size:
        sys.exit("gen_layer.py: --special-count too large for the input")
    positions = rng.permutation(size)[:5 * count].reshape(5, -1)
    huge = rng.uniform(HUGE_LO, 2.0**128 * 0.99, size=positions.shape[1])
    x[positions[0]] = np.nan
    x[positions[1]] = np.inf
    x[positions[2]] = -np.inf
    x[positions[3]] = huge[: len(positions[3])]
    x[positions[4]] = -huge[: len(positions[4])]
    x = x.reshape(shape)
    # Keep near-maximum values only where their overflow is certain.
    safe = np.broadcast_to(layer.touched_min_scale() >= 2.0, shape)
    big = np.isfinite(x) & (np.abs(x.astype(np.float64)) >= HUGE_LO)
    replace = big & ~safe
    x[replace] = rng.standard_normal(int(replace.sum())).astype(np.float32)
    return x


def tiny_input(layer, rng, normal_fraction, max_exp):
    """Finite only: +0, -0, denormals, tiny normals in [2^-126, 2^max_exp),
    N(0, 1); the first rows of every batch item all +-0."""
    shape = layer.in_shape
    size = int(np.prod(shape))
    rest = 1.0 - normal_fraction
    kind = rng.choice(5, size=size, p=[normal_fraction] + [rest / 4] * 4)
    x = rng.standard_normal(size).astype(np.float32)
    x[kind == 1] = np.float32(0.0)
    x[kind == 2] = np.float32(-0.0)
    negative = rng.integers(0, 2, size=size, dtype=np.uint32) << 31
    denormal_bits = rng.integers(1, 0x00800000, size=size, dtype=np.uint32)
    x = np.where(kind == 3, (denormal_bits | negative).view(np.float32), x)
    # Log-uniform in [2^-126, 2^max_exp), rounded to float32 and kept below.
    tiny = np.exp2(rng.uniform(-126.0, max_exp, size=size)).astype(np.float32)
    tiny = np.minimum(tiny, np.nextafter(np.float32(2.0**max_exp), np.float32(0)))
    tiny = np.maximum(tiny, np.float32(2.0**-126))
    tiny = np.where(negative != 0, -tiny, tiny)
    x = np.where(kind == 4, tiny, x).reshape(shape)
    # Rows (conv: input rows, FC: input rows m) of nothing but zeros.
    rows = max(1, shape[-2] // 3) if isinstance(layer, Conv) else max(1, shape[0] // 3)
    if isinstance(layer, Conv):
        signs = rng.integers(0, 2, size=x[:, :, :rows].shape) == 1
        x[:, :, :rows] = np.where(signs, np.float32(-0.0), np.float32(0.0))
    else:
        signs = rng.integers(0, 2, size=x[:rows].shape) == 1
        x[:rows] = np.where(signs, np.float32(-0.0), np.float32(0.0))
    return x


def fast_abs_tol(layer, bits, fmt):
    """The absolute term of mode=fast's bound (module docstring)."""
    top = 2 ** (bits - 1) - 1 - (0 if fmt == "zero-free" else 1)
    alpha = float(np.abs(layer.alpha).max()) * 2.0**layer.emin
    return alpha * (layer.fan_in * 2.0 ** (top - 125) + 2.0**-87)


def reference(layer, x):
    """float64 sum(x * w), with the NaN/Inf float32 IEEE arithmetic gives."""
    x64 = x.astype(np.float64)
    w = layer.weight.astype(np.float64)
    ones = np.ones_like(w)
    big = np.isfinite(x64) & (np.abs(x64) >= HUGE_LO)
    pos_like = (x64 == np.inf) | (big & (x64 > 0))
    neg_like = (x64 == -np.inf) | (big & (x64 < 0))
    nan_terms = (layer.contract(np.isnan(x64), ones)
                 + layer.contract(np.isinf(x64), w == 0))
    pos = layer.contract(pos_like, w > 0) + layer.contract(neg_like, w < 0)
    neg = layer.contract(pos_like, w < 0) + layer.contract(neg_like, w > 0)
    finite = layer.contract(np.where(np.isfinite(x64) & ~big, x64, 0.0), w)
    y = np.where(pos > 0, np.inf, np.where(neg > 0, -np.inf, finite))
    y = np.where((nan_terms > 0) | ((pos > 0) & (neg > 0)), np.nan, y)
    assert np.all(np.abs(finite) < F32_MAX / 4), "finite part near overflow"
    return layer.epilogue(y, x) if isinstance(layer, Conv) else y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="layer", required=True)
    conv = sub.add_parser("conv", help="NCHW convolution (grouped, depthwise)")
    conv.add_argument("--input-shape", required=True, help="NxCxHxW")
    conv.add_argument("--filters", type=int, required=True)
    conv.add_argument("--kernel", default="3", help="K or KHxKW")
    conv.add_argument("--stride", default="1", help="S or SHxSW")
    conv.add_argument("--pad", default="0", help="symmetric P or PHxPW")
    conv.add_argument("--dilation", default="1", help="D or DHxDW")
    conv.add_argument("--groups", type=int, default=1,
                      help="groups == channels == filters gives depthwise")
    conv.add_argument("--bias", action="store_true",
                      help="add a per-channel bias after the conv (linalg.generic)")
    conv.add_argument("--residual", action="store_true",
                      help="then add the layer's input (a ResNet shortcut, linalg.add; "
                           "needs an output shaped like the input)")
    conv.add_argument("--activation", choices=["none", "relu", "relu6"], default="none",
                      help="then an activation (linalg.generic of maximumf/minimumf)")
    conv.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw",
                      help="nhwc: linalg.conv_2d_nhwc_hwcf (or depthwise_conv_2d_nhwc_hwc), "
                           "input, output and files N x H x W x C")
    conv.add_argument("--group-op", choices=["fgchw", "gfchw"], default="fgchw",
                      help="linalg.conv_2d_ngchw_* op for 1 < groups")
    fc = sub.add_parser("fc", help="fully connected: (MxK) @ (KxN)")
    fc.add_argument("--m", type=int, required=True)
    fc.add_argument("--k", type=int, required=True)
    fc.add_argument("--n", type=int, required=True)
    for p in (conv, fc):
        p.add_argument("--bits", type=int, default=3)
        p.add_argument("--format", choices=["zero-free", "with-zero", "float"],
                       default="zero-free",
                       help="float: plain f32 weights (a layer kept in float)")
        p.add_argument("--emin", type=int, default=None,
                       help="smallest exponent (default: largest is 0)")
        p.add_argument("--alpha-range", default="0.5,2",
                       help="alpha per output channel, uniform in [LO, HI)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--input-kind", choices=["normal", "tiny", "special"],
                       default="normal")
        p.add_argument("--normal-fraction", type=float, default=0.4,
                       help="share of N(0, 1) values in a tiny input")
        p.add_argument("--tiny-max-exp", type=int, default=-60,
                       help="tiny normals of a tiny input are below 2^this")
        p.add_argument("--special-count", type=int, default=1,
                       help="NaN, +Inf, -Inf, +huge, -huge values of each")
        p.add_argument("-o", "--output-dir", required=True)
    args = parser.parse_args()
    args.alpha_range = tuple(float(v) for v in args.alpha_range.split(","))
    if not 0 < args.alpha_range[0] < args.alpha_range[1]:
        sys.exit("gen_layer.py: --alpha-range wants 0 < LO < HI")

    rng = np.random.default_rng(args.seed)
    layer = Conv(args, rng) if args.layer == "conv" else FullyConnected(args, rng)

    if args.input_kind == "normal":
        x = rng.standard_normal(layer.in_shape).astype(np.float32)
        expected = reference(layer, x)
    elif args.input_kind == "tiny":
        if not (0 <= args.normal_fraction <= 1 and -125 <= args.tiny_max_exp <= -60):
            sys.exit("gen_layer.py: --normal-fraction wants [0, 1], "
                     "--tiny-max-exp [-125, -60]")
        x = tiny_input(layer, rng, args.normal_fraction, args.tiny_max_exp)
        expected = reference(layer, x)
        if not (expected == 0).any() or (expected == 0).all():
            sys.exit("gen_layer.py: the tiny input gives no exactly-zero output "
                     "(or only those); use more input rows")
    else:
        # Redraw until the output mixes finite and non-finite values: a test
        # where everything is NaN checks nothing.
        for _ in range(50):
            x = special_input(layer, rng, args.special_count)
            expected = reference(layer, x)
            finite = np.isfinite(expected).mean()
            if 0.25 <= finite < 1.0:
                break
        else:
            sys.exit("gen_layer.py: no special input with a finite/non-finite "
                     "mix; use a larger shape or fewer --special-count")

    os.makedirs(args.output_dir, exist_ok=True)
    # Files in the layer's layout (NHWC convolutions); FC layers are as is.
    io = layer.io if isinstance(layer, Conv) else (lambda a: a)
    io_shape = layer.io_shape if isinstance(layer, Conv) else tuple
    spec = {k: v for k, v in vars(args).items() if k != "output_dir"}
    spec["emin"] = layer.emin
    body = layer.mlir()
    with open(os.path.join(args.output_dir, "layer.mlir"), "w") as f:
        f.write("// Generated by test/Integration/gen_layer.py: "
                + json.dumps(spec, sort_keys=True) + "\n")
        f.write(f"func.func @forward(%x: {tensor_type(io_shape(layer.in_shape))}) -> "
                f"{tensor_type(io_shape(layer.out_shape))} {{\n")
        f.write("\n".join(body) + "\n}\n")
    io(x).astype("<f4").tofile(os.path.join(args.output_dir, "input.bin"))
    io(expected).astype("<f8").tofile(os.path.join(args.output_dir, "expected.bin"))
    abs_tol = fast_abs_tol(layer, args.bits, args.format)
    with open(os.path.join(args.output_dir, "fast_abs_tol.txt"), "w") as f:
        f.write(f"{abs_tol!r}\n")
    summary = {
        "spec": spec,
        "input_shape": list(io_shape(layer.in_shape)),
        "output_shape": list(io_shape(layer.out_shape)),
        "expected_nan": int(np.isnan(expected).sum()),
        "expected_inf": int(np.isinf(expected).sum()),
        "expected_finite": int(np.isfinite(expected).sum()),
        "input_huge_kept": int((np.isfinite(x) & (np.abs(x) >= HUGE_LO)).sum()),
        "expected_zero": int((expected == 0).sum()),
        "fan_in": layer.fan_in,
        "fast_abs_tol": abs_tol,
    }
    with open(os.path.join(args.output_dir, "layer.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    print(f"input {'x'.join(map(str, layer.in_shape))} "
          f"output {'x'.join(map(str, layer.out_shape))} "
          f"nan {summary['expected_nan']} inf {summary['expected_inf']} "
          f"huge-kept {summary['input_huge_kept']} "
          f"zero {summary['expected_zero']} fast-abs-tol {abs_tol:.3g}")


if __name__ == "__main__":
    main()
