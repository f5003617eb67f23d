//===- EncodingMath.cpp - Sign-scale number format arithmetic -------------===//

#include "DenseShift/Dialect/Shift/IR/EncodingMath.h"

#include <cmath>
#include <cstdlib>

namespace mlir::shift::encoding {

int64_t Format::maxMagnitude() const {
  int64_t half = int64_t(1) << (bits - 1);
  return zeroFree ? half : half - 1;
}

int64_t Format::numValues() const {
  int64_t all = int64_t(1) << bits;
  return zeroFree ? all : all - 1;
}

bool Format::isValidCode(int64_t code) const {
  if (code == 0)
    return !zeroFree;
  return std::llabs(code) <= maxMagnitude();
}

bool Format::isValid() const {
  if (bits < 2 || bits > 8)
    return false;
  return emin >= -126 && emin + maxOffset() <= 127;
}

double decode(const Format &format, int64_t code) {
  if (code == 0)
    return 0.0;
  double magnitude = std::ldexp(1.0, int(format.emin + std::llabs(code) - 1));
  return code < 0 ? -magnitude : magnitude;
}

int64_t roundLog2(double ratio) {
  int exponent = 0;
  // ratio = mantissa * 2^exponent with mantissa in [0.5, 1).
  double mantissa = std::frexp(ratio, &exponent);
  // The double nearest to 1/sqrt(2) lies above it and no double lies in
  // between, so this comparison is the exact test mantissa >= 1/sqrt(2).
  constexpr double kSqrtHalfAbove = 0x1.6a09e667f3bcdp-1;
  return (exponent - 1) + (mantissa >= kSqrtHalfAbove ? 1 : 0);
}

std::optional<int64_t> quantize(const Format &format, double w, double alpha) {
  if (!std::isfinite(w) || !std::isfinite(alpha))
    return std::nullopt;
  int64_t smallest = format.zeroFree ? 1 : 0;
  if (w == 0.0 || alpha <= 0.0)
    return smallest;
  double ratio = std::fabs(w) / alpha;
  // An overflowed (Inf) or underflowed (0) ratio has no frexp exponent, but
  // its log lies beyond the top or the bottom of every format.
  int64_t offset = std::isinf(ratio) ? format.maxOffset()
                   : ratio == 0.0    ? -1
                                     : roundLog2(ratio) - format.emin;
  if (offset < 0) {
    if (!format.zeroFree)
      return 0;
    offset = 0;
  }
  if (offset > format.maxOffset())
    offset = format.maxOffset();
  return w < 0 ? -(offset + 1) : offset + 1;
}

std::optional<double> chooseAlpha(const Format &format,
                                  const std::vector<double> &channel) {
  double largest = 0.0;
  for (double w : channel) {
    if (!std::isfinite(w))
      return std::nullopt;
    largest = std::fmax(largest, std::fabs(w));
  }
  if (largest == 0.0)
    return 0.0;
  return std::ldexp(largest, -int(format.emin + format.maxOffset()));
}

std::optional<double> recognizeChannel(const Format &format,
                                       const std::vector<double> &channel,
                                       std::vector<int64_t> &codes) {
  codes.assign(channel.size(), 0);
  std::optional<double> sharedMantissa;
  int largestExponent = 0, smallestExponent = 0;
  bool anyNonZero = false;
  for (double w : channel) {
    if (!std::isfinite(w))
      return std::nullopt;
    if (w == 0.0)
      continue;
    int exponent = 0;
    double mantissa = std::frexp(std::fabs(w), &exponent);
    if (sharedMantissa && *sharedMantissa != mantissa)
      return std::nullopt;
    sharedMantissa = mantissa;
    largestExponent =
        anyNonZero ? std::max(largestExponent, exponent) : exponent;
    smallestExponent =
        anyNonZero ? std::min(smallestExponent, exponent) : exponent;
    anyNonZero = true;
  }
  if (!anyNonZero) {
    // alpha = 0 represents an all-zero channel in either format.
    codes.assign(channel.size(), format.zeroFree ? 1 : 0);
    return 0.0;
  }
  if (largestExponent - smallestExponent > format.maxOffset())
    return std::nullopt;
  for (size_t i = 0; i < channel.size(); ++i) {
    double w = channel[i];
    if (w == 0.0) {
      if (format.zeroFree)
        return std::nullopt;
      continue;
    }
    int exponent = 0;
    (void)std::frexp(std::fabs(w), &exponent);
    int64_t magnitude = exponent - largestExponent + format.maxOffset() + 1;
    codes[i] = w < 0 ? -magnitude : magnitude;
  }
  double largest = std::ldexp(*sharedMantissa, largestExponent);
  return std::ldexp(largest, -int(format.emin + format.maxOffset()));
}

uint32_t shiftWord(int64_t exponentOffset, bool negative) {
  return (uint32_t(exponentOffset) << 23) | (negative ? 0x80000000u : 0u);
}

} // namespace mlir::shift::encoding
