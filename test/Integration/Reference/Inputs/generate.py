#!/usr/bin/python3
"""Generates conv2d_nchw.mlir, conv2d_nhwc.mlir and matmul.mlir.

Usage (from this directory):
  /usr/bin/python3 generate.py nchw > ../conv2d_nchw.mlir
  /usr/bin/python3 generate.py nhwc > ../conv2d_nhwc.mlir
  /usr/bin/python3 generate.py matmul > ../matmul.mlir

Inputs are dyadic (halves, small powers of two) so every partial sum is
exact in f32 and the float64 reference below is the exact answer; the seed
is fixed, so the output is reproducible."""
import sys
import numpy as np

def decode(code, emin):
    c = np.asarray(code, dtype=np.int64)
    mag = np.where(c == 0, 0.0, np.ldexp(1.0, (emin + np.abs(c) - 1).astype(np.int64)))
    return np.sign(c) * mag

def g(v):
    # printMemrefF32 prints 6 significant digits: keep only values it prints
    # exactly.
    s = '%g' % v
    assert float(s) == v, (v, s)
    if s == '-0':
        raise AssertionError('negative zero')
    return s

def mlir_dense(a, fmt):
    if a.ndim == 0:
        return fmt(a)
    return '[' + ', '.join(mlir_dense(x, fmt) for x in a) + ']'

def fval(v):
    return repr(float(v))

def random_codes(rng, shape, bits, zero_free):
    top = 1 << (bits - 1)
    if zero_free:
        mag = rng.integers(1, top + 1, size=shape)
        sign = rng.choice([-1, 1], size=shape)
        return mag * sign
    return rng.integers(-(top - 1), top, size=shape)

def conv_ref(x, w, nchw, strides, dilations, padding, groups):
    # x: NCHW or NHWC; w: FCHW or HWCF (already dequantized).
    if not nchw:
        x = x.transpose(0, 3, 1, 2)
        w = w.transpose(3, 2, 0, 1)
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    t, l, b, r = padding
    xp = np.zeros((n, c, h + t + b, wd + l + r))
    xp[:, :, t:t + h, l:l + wd] = x
    sh, sw = strides
    dh, dw = dilations
    oh = (h + t + b - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + l + r - dw * (kw - 1) - 1) // sw + 1
    fg = f // groups
    y = np.zeros((n, f, oh, ow))
    for ni in range(n):
        for fi in range(f):
            gi = fi // fg
            for i in range(oh):
                for j in range(ow):
                    s = 0.0
                    for ci in range(cg):
                        for a in range(kh):
                            for bb in range(kw):
                                s += xp[ni, gi * cg + ci, i * sh + a * dh, j * sw + bb * dw] * w[fi, ci, a, bb]
                    y[ni, fi, i, j] = s
    if not nchw:
        y = y.transpose(0, 2, 3, 1)
    return y

XVALS = np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0])
AVALS = np.array([0.5, 1.0, 1.5, 2.0])

def conv_case(rng, name, bits, zero_free, emin, nchw, n, c, h, w, f, k, strides,
              dilations, padding, groups, x=None, codes=None, alpha=None, comment=()):
    kh, kw = k
    cg = c // groups
    if x is None:
        x = rng.choice(XVALS, size=(n, c, h, w) if nchw else (n, h, w, c))
    cshape = (f, cg, kh, kw) if nchw else (kh, kw, cg, f)
    if codes is None:
        codes = random_codes(rng, cshape, bits, zero_free)
    if alpha is None:
        alpha = rng.choice(AVALS, size=(f,))
    x, codes, alpha = np.asarray(x, float), np.asarray(codes), np.asarray(alpha, float)
    assert codes.shape == cshape
    wq = decode(codes, emin)
    if nchw:
        wf = wq * alpha[:, None, None, None]
    else:
        wf = wq * alpha[None, None, None, :]
    y = conv_ref(x, wf, nchw, strides, dilations, padding, groups)
    # NCHW prints (N * F * OH) x OW, NHWC one output pixel per row.
    rows = y.reshape(-1, y.shape[3])
    rshape = rows.shape
    reassoc = '[[0, 1, 2], [3]]'
    def ty(shape, et):
        return 'tensor<' + 'x'.join(str(s) for s in shape) + 'x' + et + '>'
    xt, ct, at, yt = ty(x.shape, 'f32'), ty(codes.shape, 'i8'), ty(alpha.shape, 'f32'), ty(y.shape, 'f32')
    rt = ty(rshape, 'f32')
    mt = rt.replace('tensor', 'memref')
    enc = '#shift.encoding<bits = %d, zero_free = %s, emin = %d>' % (bits, 'true' if zero_free else 'false', emin)
    layout = 'nchw_fchw' if nchw else 'nhwc_hwcf'
    arr = lambda v: 'array<i64: ' + ', '.join(str(i) for i in v) + '>'
    fn = []
    # The shift op takes arguments so that no folder turns its weights into
    # constants: the whole lowering runs.
    fn.append('func.func @%s(%%x: %s, %%codes: %s, %%alpha: %s) -> %s {' % (name, xt, ct, at, yt))
    fn.append('  %y = shift.conv2d %x, %codes, %alpha {')
    fn.append('      encoding = %s,' % enc)
    fn.append('      layout = #shift.layout<%s>, strides = %s,' % (layout, arr(strides)))
    fn.append('      dilations = %s, padding = %s, groups = %d : i64}' % (arr(dilations), arr(padding), groups))
    fn.append('      : %s, %s, %s -> %s' % (xt, ct, at, yt))
    fn.append('  return %%y : %s' % yt)
    fn.append('}')
    fn.append('')
    fn.append('func.func @run_%s() {' % name)
    fn.append('  %%x = arith.constant dense<%s> : %s' % (mlir_dense(x, fval), xt))
    fn.append('  %%codes = arith.constant dense<%s> : %s' % (mlir_dense(codes, lambda v: str(int(v))), ct))
    fn.append('  %%alpha = arith.constant dense<%s> : %s' % (mlir_dense(alpha, fval), at))
    fn.append('  %%y = call @%s(%%x, %%codes, %%alpha) : (%s, %s, %s) -> %s' % (name, xt, ct, at, yt))
    fn.append('  %%rows = tensor.collapse_shape %%y %s : %s into %s' % (reassoc, yt, rt))
    fn.append('  %%m = bufferization.to_buffer %%rows : %s to %s' % (rt, mt))
    fn.append('  %%u = memref.cast %%m : %s to memref<*xf32>' % mt)
    fn.append('  vector.print str "%s\\n"' % name)
    fn.append('  call @printMemrefF32(%u) : (memref<*xf32>) -> ()')
    fn.append('  return')
    fn.append('}')
    checks = ['// ' + line for line in comment]
    checks += ['// CHECK-LABEL: {{^}}%s' % name,
              '// CHECK-NEXT: sizes = [%d, %d]' % rshape]
    for r in rows:
        checks.append('// CHECK-NEXT: [' + ', '.join(g(v) for v in r) + ']')
    return fn, checks, rt

def matmul_case(rng, name, bits, zero_free, emin, m, k, n, code_type='i8', codes=None,
                x=None, alpha=None, comment=()):
    if x is None:
        x = rng.choice(XVALS, size=(m, k))
    if codes is None:
        codes = random_codes(rng, (n, k), bits, zero_free)
    if alpha is None:
        alpha = rng.choice(AVALS, size=(n,))
    x, codes, alpha = np.asarray(x, float), np.asarray(codes), np.asarray(alpha, float)
    wf = decode(codes, emin) * alpha[:, None]
    y = x @ wf.T
    def ty(shape, et):
        return 'tensor<' + 'x'.join(str(s) for s in shape) + 'x' + et + '>'
    xt, ct, at, yt = ty(x.shape, 'f32'), ty(codes.shape, code_type), ty(alpha.shape, 'f32'), ty(y.shape, 'f32')
    mt = yt.replace('tensor', 'memref')
    enc = '#shift.encoding<bits = %d, zero_free = %s, emin = %d>' % (bits, 'true' if zero_free else 'false', emin)
    fn = ['func.func @%s(%%x: %s, %%codes: %s, %%alpha: %s) -> %s {' % (name, xt, ct, at, yt),
          '  %%y = shift.matmul %%x, %%codes, %%alpha {encoding = %s}' % enc,
          '      : %s, %s, %s -> %s' % (xt, ct, at, yt),
          '  return %%y : %s' % yt,
          '}',
          '',
          'func.func @run_%s() {' % name,
          '  %%x = arith.constant dense<%s> : %s' % (mlir_dense(x, fval), xt),
          '  %%codes = arith.constant dense<%s> : %s' % (mlir_dense(codes, lambda v: str(int(v))), ct),
          '  %%alpha = arith.constant dense<%s> : %s' % (mlir_dense(alpha, fval), at),
          '  %%y = call @%s(%%x, %%codes, %%alpha) : (%s, %s, %s) -> %s' % (name, xt, ct, at, yt),
          '  %%m = bufferization.to_buffer %%y : %s to %s' % (yt, mt),
          '  %%u = memref.cast %%m : %s to memref<*xf32>' % mt,
          '  vector.print str "%s\\n"' % name,
          '  call @printMemrefF32(%u) : (memref<*xf32>) -> ()',
          '  return',
          '}']
    checks = ['// ' + line for line in comment]
    checks += ['// CHECK-LABEL: {{^}}%s' % name,
              '// CHECK-NEXT: sizes = [%d, %d]' % y.shape]
    for r in y:
        checks.append('// CHECK-NEXT: [' + ', '.join(g(v) for v in r) + ']')
    return fn, checks, None

def emit(cases, header):
    out = [header, '']
    for fn, checks, _ in cases:
        out += checks
        out += fn
        out.append('')
    out.append('func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}')
    out.append('')
    out.append('func.func @main() {')
    for fn, _, _ in cases:
        name = fn[0].split('@')[1].split('(')[0]
        out.append('  call @run_%s() : () -> ()' % name)
    out.append('  return')
    out.append('}')
    return '\n'.join(out) + '\n'


RUN = """// RUN: denseshift-opt %s --convert-shift-to-linalg \\
// RUN: | denseshift-opt --one-shot-bufferize=bufferize-function-boundaries \\
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \\
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \\
// RUN: | mlir-runner -e main -entry-point-result=void \\
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \\
// RUN: | FileCheck %s
"""
which = sys.argv[1]
HEAD = {
  'nchw': """
// Executes the reference lowering of shift.conv2d in the NCHW/FCHW layout:
// bits 2, 3 and 4, zero-free and with-zero, groups, depthwise, padding,
// strides, dilations and a non-square kernel. Results are printed as rows of
// (N * F * OH) x OW.
""",
  'nhwc': """
// Executes the reference lowering of shift.conv2d in the NHWC/HWCF layout:
// bits 2, 3 and 4, zero-free and with-zero, groups, depthwise with a channel
// multiplier, padding, strides and dilations. Results are printed one output
// pixel per row: (N * OH * OW) x F.
""",
  'matmul': """
// Executes the reference lowering of shift.matmul for bits 2, 3 and 4,
// zero-free and with-zero, and 8-bit codes in i16.
""",
}
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
cases = []
if which == 'nchw':
    cases.append(conv_case(rng, 'nchw_hand_checked', 3, True, 0, True, 1, 1, 3, 3, 1, (2, 2), (1, 1), (1, 1), (0, 0, 0, 0), 1,
        x=[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], codes=[[[[1, -2], [3, -4]]]], alpha=[0.5],
        comment=['Worked by hand: codes [[1, -2], [3, -4]] with emin = 0 are the weights',
                 '[[1, -2], [4, -8]]; alpha 0.5 makes them [[0.5, -1], [2, -4]]. So',
                 'y[0][0] = 1*0.5 - 2 + 4*2 - 5*4 = -13.5, y[0][1] = 1 - 3 + 10 - 24 = -16,',
                 'y[1][0] = 2 - 5 + 14 - 32 = -21, y[1][1] = 2.5 - 6 + 16 - 36 = -23.5.',
                 'The other cases use random dyadic inputs checked against a float64',
                 'reference of the convolution; every partial sum is exact in f32.']))
    cases.append(conv_case(rng, 'nchw_3bit_zero_free_padded', 3, True, -1, True, 1, 2, 4, 4, 2, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1))
    cases.append(conv_case(rng, 'nchw_2bit_with_zero_grouped_strided', 2, False, 0, True, 2, 4, 5, 5, 4, (3, 3), (2, 2), (1, 1), (1, 0, 0, 1), 2))
    cases.append(conv_case(rng, 'nchw_4bit_zero_free_depthwise_dilated', 4, True, -3, True, 1, 3, 6, 6, 3, (3, 3), (1, 2), (2, 2), (0, 1, 1, 0), 3))
    cases.append(conv_case(rng, 'nchw_4bit_with_zero_rect_kernel', 4, False, -2, True, 1, 2, 4, 5, 3, (2, 3), (1, 1), (2, 1), (0, 0, 0, 0), 1))
elif which == 'nhwc':
    cases.append(conv_case(rng, 'nhwc_hand_checked', 2, False, 1, False, 1, 1, 3, 3, 2, (2, 2), (1, 1), (1, 1), (0, 0, 0, 0), 1,
        x=[[[[1], [2], [3]], [[4], [0], [-1]], [[2], [5], [-3]]]],
        codes=[[[[1, 0]], [[0, 1]]], [[[0, -1]], [[-1, 0]]]], alpha=[1.0, 0.25],
        comment=['Worked by hand: 2-bit with-zero codes {-1, 0, 1} with emin = 1 are',
                 '{-2, 0, 2}. Filter 0 (alpha 1) is 2 * (x[i][j] - x[i+1][j+1]), filter 1',
                 '(alpha 0.25) is 0.5 * (x[i][j+1] - x[i+1][j]); x = [[1, 2, 3], [4, 0, -1],',
                 '[2, 5, -3]] gives one row per output pixel: (0,0) [2, -1], (0,1) [6, 1.5],',
                 '(1,0) [-2, -1], (1,1) [6, -3].',
                 'The other cases use random dyadic inputs checked against a float64',
                 'reference of the convolution; every partial sum is exact in f32.']))
    cases.append(conv_case(rng, 'nhwc_3bit_with_zero_padded', 3, False, -1, False, 1, 2, 4, 4, 3, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1))
    cases.append(conv_case(rng, 'nhwc_2bit_zero_free_grouped_strided', 2, True, 0, False, 1, 4, 5, 5, 2, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 2))
    cases.append(conv_case(rng, 'nhwc_4bit_with_zero_depthwise_multiplier2_dilated', 4, False, -2, False, 2, 3, 6, 5, 6, (3, 3), (1, 1), (2, 2), (1, 0, 0, 1), 3))
    cases.append(conv_case(rng, 'nhwc_4bit_zero_free_1x1_strided', 4, True, -2, False, 1, 3, 4, 4, 2, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1))
elif which == 'matmul':
    cases.append(matmul_case(rng, 'matmul_hand_checked', 2, True, 0, 2, 4, 3,
        x=[[1, 2, 3, 4], [-1, 0.5, 0, 2]], codes=np.array([[1, -1, 2, -2], [2, 2, 2, 2], [-1, -1, 1, 1]]),
        alpha=[1.0, 0.5, 3.0],
        comment=['Worked by hand: 2-bit zero-free codes with emin = 0 are {-2, -1, 1, 2};',
                 'the weight rows are [1, -1, 2, -2], 0.5 * [2, 2, 2, 2] and',
                 '3 * [-1, -1, 1, 1]. For x = [1, 2, 3, 4]: 1 - 2 + 6 - 8 = -3,',
                 '1 + 2 + 3 + 4 = 10, 3 * (-1 - 2 + 3 + 4) = 12; for',
                 'x = [-1, 0.5, 0, 2]: -1 - 0.5 - 4 = -5.5, 1.5, 3 * 2.5 = 7.5.',
                 'The other cases use random dyadic inputs checked against a float64',
                 'reference; every partial sum is exact in f32.']))
    for bits in (2, 3, 4):
        for zf in (True, False):
            emin = {2: 0, 3: -1, 4: -3}[bits]
            cases.append(matmul_case(rng, 'matmul_%dbit_%s' % (bits, 'zero_free' if zf else 'with_zero'), bits, zf, emin, 3, 6, 4))
    codes = np.array([[128, -127, 126, -128, 125], [-126, 127, 128, 126, -125]])
    cases.append(matmul_case(rng, 'matmul_8bit_zero_free_i16', 8, True, -124, 2, 5, 2, 'i16', codes,
        comment=['8-bit zero-free codes reach +-128 and live in i16: with emin = -124,',
                 'code 128 is 2^3 and code 125 is 2^0.']))
print(RUN + HEAD[which] + '// Generated by Inputs/generate.py %s; edit that, not this file.\n' % which)
print(emit(cases, '').strip())
