"""Code formats of shift weights: ``w = alpha[o] * s * 2^(emin + k)``.

A b-bit code is one sign bit plus a (b-1)-bit exponent field ``k``.

* zero-free (DenseShift): all 2^b codes are weights; ``k in [0, 2^(b-1)-1]``.
* with-zero (DeepShift-Q/PS, S3): one code means 0, the others are symmetric;
  ``k in [0, 2^(b-1)-2]`` and 2^b - 1 distinct values.

Unpacked codes are an int8 tensor ``codes[0] = sign in {-1, 0, +1}``,
``codes[1] = k``; a zero weight has sign 0 and k 0.  ``pack`` gives the b-bit
pattern ``sign_bit << (b-1) | k`` (sign_bit 1 = negative); in a with-zero
encoding the pattern ``0 | all-ones`` is zero and ``1 | all-ones`` is unused.
The shift dialect's signed-magnitude code is ``c = s * (k + 1)`` (0 = zero):
see :meth:`Encoding.dialect_codes`.
"""
from dataclasses import dataclass

import torch

MIN_BITS = 2
MAX_BITS = 8


def check_bits(bits):
    """Return ``bits`` if it is an int in [2, 8], else raise a clear ValueError."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be an integer in [{MIN_BITS}, {MAX_BITS}], got {bits!r}")
    return bits


@dataclass(frozen=True)
class Encoding:
    """The b-bit sign/exponent format, mirrored by ``#shift.encoding<...>``."""

    bits: int
    zero_free: bool
    emin: int

    def __post_init__(self):
        check_bits(self.bits)

    @property
    def num_exponents(self):
        """Number of exponent levels K; k ranges over [0, K-1]."""
        levels = 2 ** (self.bits - 1)
        return levels if self.zero_free else levels - 1

    @property
    def emax(self):
        return self.emin + self.num_exponents - 1

    @property
    def zero_pattern(self):
        """Packed bit pattern of the zero code (None when zero-free)."""
        return None if self.zero_free else 2 ** (self.bits - 1) - 1

    def values(self):
        """Sorted float64 tensor of every representable ``s * 2^e`` (alpha = 1)."""
        mags = [2.0 ** (self.emin + k) for k in range(self.num_exponents)]
        vals = [-m for m in mags] + mags + ([] if self.zero_free else [0.0])
        return torch.tensor(sorted(vals), dtype=torch.float64)

    def decode(self, codes, alpha=None):
        """Codes (2, *shape) -> f32 weights ``alpha * s * 2^(emin+k)`` (exact)."""
        sign = codes[0].to(torch.float32)
        exponent = codes[1].to(torch.int32) + self.emin
        unit = torch.ldexp(sign, exponent)
        if alpha is None:
            return unit
        return alpha.view(-1, *([1] * (unit.dim() - 1))).to(torch.float32) * unit

    def pack(self, codes):
        """Unpacked codes (2, *shape) -> int16 b-bit patterns."""
        sign, k = codes[0].to(torch.int16), codes[1].to(torch.int16)
        sign_bit = (sign < 0).to(torch.int16) << (self.bits - 1)
        packed = sign_bit | k
        if not self.zero_free:
            packed = torch.where(sign == 0, torch.full_like(packed, self.zero_pattern), packed)
        return packed

    def unpack(self, packed):
        """Inverse of :meth:`pack`; rejects the unused with-zero pattern."""
        packed = packed.to(torch.int16)
        if packed.min() < 0 or packed.max() >= 2 ** self.bits:
            raise ValueError(f"packed code out of range for {self.bits}-bit encoding")
        k = packed & (2 ** (self.bits - 1) - 1)
        sign = torch.where(packed >> (self.bits - 1) == 1, -1, 1).to(torch.int16)
        if not self.zero_free:
            if ((packed >> (self.bits - 1) == 1) & (k == self.zero_pattern)).any():
                raise ValueError("unused code pattern (negative zero) in with-zero encoding")
            is_zero = k == self.zero_pattern
            sign = torch.where(is_zero, torch.zeros_like(sign), sign)
            k = torch.where(is_zero, torch.zeros_like(k), k)
        return torch.stack([sign, k]).to(torch.int8)

    def dialect_codes(self, codes):
        """(sign, k) codes -> the shift dialect's signed-magnitude ``s * (k + 1)``.

        int16, because 8-bit zero-free codes reach +-128.
        """
        return codes[0].to(torch.int16) * (codes[1].to(torch.int16) + 1)

    def mlir_attr(self):
        zf = "true" if self.zero_free else "false"
        return f"#shift.encoding<bits = {self.bits}, zero_free = {zf}, emin = {self.emin}>"

    def to_dict(self):
        return {"bits": self.bits, "zero_free": self.zero_free, "emin": self.emin}


def round_to_encoding(w, alpha, encoding, stochastic=False, generator=None, underflow="zero"):
    """Log-domain rounding ``e = clamp(round(log2(|w| / alpha)))`` -> codes.

    The format's rounding, the same as the compiler's ``shift.quantize``
    (``EncodingMath.cpp``; ``tests/test_encoding_agreement.py`` checks every
    code of every format against it).  The decision point between 2^e and
    2^(e+1) is sqrt(2) * 2^e.  Zero-free encodings map w = 0 to the smallest
    magnitude with sign +.  With-zero encodings map w = 0 and, with
    ``underflow="zero"``, every weight whose rounded exponent falls below emin
    to the zero code -- the zero code acts as the level below 2^emin, so the
    decision point between 0 and 2^emin is sqrt(2) * 2^(emin-1).
    ``underflow="clamp"`` instead clamps such weights to 2^emin (zero only for
    w = 0): DeepShift-Q's own quantizer, used by that training scheme.
    ``stochastic`` rounds log2 up with probability equal to its fraction.
    """
    if underflow not in ("zero", "clamp"):
        raise ValueError(f"underflow must be 'zero' or 'clamp', got {underflow!r}")
    w = w.detach()
    view = alpha.view(-1, *([1] * (w.dim() - 1)))
    # alpha = 0 (an all-zero channel): every weight is the smallest code, times 0.
    # In f64, as the compiler: an f32 quotient could round across a decision point.
    w64, view64 = w.to(torch.float64), view.to(torch.float64)
    ratio = torch.where(view64 == 0, torch.zeros((), dtype=torch.float64), w64.abs() / view64)
    log = torch.log2(ratio.clamp_min(torch.finfo(torch.float64).tiny))
    if stochastic:
        floor = torch.floor(log)
        noise = torch.rand(log.shape, dtype=log.dtype, generator=generator, device=log.device)
        exponent = floor + (noise < (log - floor)).to(log.dtype)
    else:
        exponent = torch.round(log)
    k = (exponent.clamp(encoding.emin, encoding.emax) - encoding.emin).to(torch.int8)
    if encoding.zero_free:
        sign = torch.where(w < 0, -1, 1).to(torch.int8)
    else:
        sign = torch.sign(w).to(torch.int8)
        if underflow == "zero":
            sign = torch.where(exponent < encoding.emin, torch.zeros_like(sign), sign)
        k = torch.where(sign == 0, torch.zeros_like(k), k)
    return torch.stack([sign, k])
