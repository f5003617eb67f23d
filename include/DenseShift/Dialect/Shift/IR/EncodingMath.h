//===- EncodingMath.h - Sign-scale number format arithmetic -----*- C++ -*-===//
//
// The normative number formats of DESIGN.md as plain functions, shared by the
// dialect (verifiers, folders), the passes and the unit tests.
//
//===----------------------------------------------------------------------===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_ENCODINGMATH_H
#define DENSESHIFT_DIALECT_SHIFT_IR_ENCODINGMATH_H

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::shift::encoding {

/// The parameters of `#shift.encoding`.
struct Format {
  unsigned bits = 3;
  bool zeroFree = true;
  int64_t emin = 0;

  /// Largest |code|: 2^(bits-1) zero-free, 2^(bits-1) - 1 with zero.
  int64_t maxMagnitude() const;
  /// Largest exponent offset K, so exponents span [emin, emin + K].
  int64_t maxOffset() const { return maxMagnitude() - 1; }
  /// Number of distinct values: 2^bits zero-free, 2^bits - 1 with zero.
  int64_t numValues() const;
  bool isValidCode(int64_t code) const;
  /// Bits 2..8 and every exponent a normal f32 power of two.
  bool isValid() const;
};

/// Weight denoted by `code` (without alpha): sign(code) * 2^(emin+|code|-1),
/// or 0 for the zero code of a with-zero format.
double decode(const Format &format, int64_t code);

/// Log-domain rounding of a positive finite ratio r = |w| / alpha:
/// floor(log2 r) + (r >= sqrt(2) * 2^floor(log2 r)). Exact for every double.
int64_t roundLog2(double ratio);

/// Code of the weight `w` given the channel scale `alpha` (> 0):
/// e = clamp(roundLog2(|w| / alpha), emin, emin + K). Zero-free formats map
/// +-0 to the smallest magnitude with sign +; with-zero formats give code 0
/// to anything whose rounded exponent is below emin (and to +-0).
/// Returns std::nullopt for NaN or Inf weights.
std::optional<int64_t> quantize(const Format &format, double w, double alpha);

/// Channel scale of DESIGN.md: alpha = max|w| / 2^(emin + K), so the largest
/// magnitude maps exactly to the largest code; 0 for an all-zero channel.
/// Returns std::nullopt if any weight is NaN or Inf.
std::optional<double> chooseAlpha(const Format &format,
                                  const std::vector<double> &channel);

/// Exact-mode recognition: if every weight of `channel` is exactly
/// alpha * s * 2^e for one alpha and exponents spanning at most the format's
/// range, returns alpha and fills `codes`. Fails (std::nullopt) otherwise,
/// e.g. a zero weight in a zero-free format.
std::optional<double> recognizeChannel(const Format &format,
                                       const std::vector<double> &channel,
                                       std::vector<int64_t> &codes);

/// The shift word (e << 23) | (neg << 31) for exponent offset e in [0, 127].
uint32_t shiftWord(int64_t exponentOffset, bool negative);

} // namespace mlir::shift::encoding

#endif // DENSESHIFT_DIALECT_SHIFT_IR_ENCODINGMATH_H
