//===- EncodingMathTest.cpp - Unit tests of the sign-scale formats --------===//
//
// The number formats of DESIGN.md are normative: every part of the compiler
// (verifiers, folders, lowerings, the Python exporter) must agree with these
// functions, so they are pinned down here value by value.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Dialect/Shift/IR/EncodingMath.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace mlir::shift::encoding;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// The double nearest to sqrt(2); it lies above sqrt(2).
constexpr double kSqrt2Above = 0x1.6a09e667f3bcdp0;
// Its predecessor, the largest double below sqrt(2).
constexpr double kSqrt2Below = 0x1.6a09e667f3bccp0;

/// Every format the dialect accepts with a given emin: bits 2..8, both kinds.
std::vector<Format> allFormats(int64_t emin) {
  std::vector<Format> formats;
  for (unsigned bits = 2; bits <= 8; ++bits)
    for (bool zeroFree : {true, false})
      formats.push_back(Format{bits, zeroFree, emin});
  return formats;
}

std::string describe(const Format &format) {
  return std::to_string(format.bits) + "-bit " +
         (format.zeroFree ? "zero-free" : "with-zero") +
         " emin=" + std::to_string(format.emin);
}

/// Every valid code of `format`, in increasing order.
std::vector<int64_t> allCodes(const Format &format) {
  std::vector<int64_t> codes;
  for (int64_t c = -format.maxMagnitude(); c <= format.maxMagnitude(); ++c)
    if (format.isValidCode(c))
      codes.push_back(c);
  return codes;
}

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

//===----------------------------------------------------------------------===//
// Format
//===----------------------------------------------------------------------===//

TEST(FormatTest, SizesFollowTheDesign) {
  for (unsigned bits = 2; bits <= 8; ++bits) {
    Format zeroFree{bits, true, 0}, withZero{bits, false, 0};
    EXPECT_EQ(zeroFree.maxMagnitude(), int64_t(1) << (bits - 1)) << bits;
    EXPECT_EQ(withZero.maxMagnitude(), (int64_t(1) << (bits - 1)) - 1) << bits;
    EXPECT_EQ(zeroFree.numValues(), int64_t(1) << bits) << bits;
    EXPECT_EQ(withZero.numValues(), (int64_t(1) << bits) - 1) << bits;
    EXPECT_EQ(zeroFree.maxOffset(), zeroFree.maxMagnitude() - 1);
    EXPECT_EQ(withZero.maxOffset(), withZero.maxMagnitude() - 1);
  }
}

TEST(FormatTest, EveryCodeCountsOnce) {
  for (const Format &format : allFormats(0))
    EXPECT_EQ(int64_t(allCodes(format).size()), format.numValues())
        << describe(format);
}

TEST(FormatTest, ValidCodes) {
  Format zeroFree{3, true, 0}, withZero{3, false, 0};
  EXPECT_FALSE(zeroFree.isValidCode(0));
  EXPECT_TRUE(withZero.isValidCode(0));
  EXPECT_TRUE(zeroFree.isValidCode(4));
  EXPECT_TRUE(zeroFree.isValidCode(-4));
  EXPECT_FALSE(zeroFree.isValidCode(5));
  EXPECT_FALSE(zeroFree.isValidCode(-5));
  EXPECT_TRUE(withZero.isValidCode(3));
  EXPECT_TRUE(withZero.isValidCode(-3));
  EXPECT_FALSE(withZero.isValidCode(4));
  EXPECT_FALSE(withZero.isValidCode(-4));
  Format eightBit{8, true, -64};
  EXPECT_TRUE(eightBit.isValidCode(128));
  EXPECT_TRUE(eightBit.isValidCode(-128));
  EXPECT_FALSE(eightBit.isValidCode(129));
}

TEST(FormatTest, ValidityOfBitsAndExponentRange) {
  EXPECT_FALSE((Format{1, true, 0}.isValid()));
  EXPECT_FALSE((Format{9, true, 0}.isValid()));
  EXPECT_FALSE((Format{0, false, 0}.isValid()));
  for (const Format &format : allFormats(0))
    EXPECT_TRUE(format.isValid()) << describe(format);
  // Exponents must stay normal f32 powers of two: [-126, 127].
  EXPECT_TRUE((Format{3, true, -126}.isValid()));
  EXPECT_FALSE((Format{3, true, -127}.isValid()));
  EXPECT_TRUE((Format{3, true, 124}.isValid()));  // 124 + 3 = 127
  EXPECT_FALSE((Format{3, true, 125}.isValid())); // 125 + 3 = 128
  EXPECT_TRUE((Format{3, false, 125}.isValid())); // 125 + 2 = 127
  EXPECT_TRUE((Format{8, true, 0}.isValid()));    // 0 + 127
  EXPECT_FALSE((Format{8, true, 1}.isValid()));
}

//===----------------------------------------------------------------------===//
// decode
//===----------------------------------------------------------------------===//

TEST(DecodeTest, ThreeBitZeroFreeValues) {
  Format format{3, true, 0};
  const double expected[] = {-8, -4, -2, -1, 1, 2, 4, 8};
  std::vector<int64_t> codes = allCodes(format);
  ASSERT_EQ(codes.size(), 8u);
  for (size_t i = 0; i < codes.size(); ++i)
    EXPECT_EQ(decode(format, codes[i]), expected[i]) << codes[i];
}

TEST(DecodeTest, WithZeroValuesAndEmin) {
  Format format{3, false, -2};
  EXPECT_EQ(decode(format, 0), 0.0);
  EXPECT_FALSE(std::signbit(decode(format, 0)));
  EXPECT_EQ(decode(format, 1), 0.25);
  EXPECT_EQ(decode(format, -1), -0.25);
  EXPECT_EQ(decode(format, 3), 1.0);
  EXPECT_EQ(decode(format, -3), -1.0);
}

TEST(DecodeTest, ExtremeExponents) {
  EXPECT_EQ(decode(Format{2, true, -126}, 1), 0x1p-126);
  EXPECT_EQ(decode(Format{8, true, 0}, -128), -0x1p127);
  EXPECT_EQ(decode(Format{8, false, 1}, 127), 0x1p127);
}

//===----------------------------------------------------------------------===//
// Round trip: every code of every format survives decode + quantize.
//===----------------------------------------------------------------------===//

TEST(RoundTripTest, EveryCodeEveryFormat) {
  for (int64_t emin : {-126, -7, 0, 3})
    for (const Format &format : allFormats(emin)) {
      if (!format.isValid())
        continue;
      // A power-of-two alpha keeps w / alpha exact; 0.3 and 1.7 do not, and
      // must still round to the same code (w is far from any threshold).
      for (double alpha : {1.0, 0.5, 0.3, 1.7}) {
        for (int64_t code : allCodes(format)) {
          double w = alpha * decode(format, code);
          std::optional<int64_t> back = quantize(format, w, alpha);
          ASSERT_TRUE(back.has_value());
          EXPECT_EQ(*back, code)
              << describe(format) << " alpha=" << alpha << " w=" << w;
        }
      }
    }
}

TEST(RoundTripTest, DecodedValuesAreDistinctAndOrdered) {
  for (const Format &format : allFormats(-3)) {
    std::vector<int64_t> codes = allCodes(format);
    for (size_t i = 1; i < codes.size(); ++i)
      EXPECT_LT(decode(format, codes[i - 1]), decode(format, codes[i]))
          << describe(format) << " codes " << codes[i - 1] << ", " << codes[i];
  }
}

//===----------------------------------------------------------------------===//
// Log-domain rounding
//===----------------------------------------------------------------------===//

TEST(RoundLog2Test, PowersOfTwo) {
  for (int k = -1074; k <= 1023; ++k)
    EXPECT_EQ(roundLog2(std::ldexp(1.0, k)), k) << k;
}

TEST(RoundLog2Test, JustBelowAPowerOfTwoRoundsToIt) {
  for (int k = -1000; k <= 1023; ++k) {
    double p = std::ldexp(1.0, k);
    EXPECT_EQ(roundLog2(std::nextafter(p, 0.0)), k) << k;
    EXPECT_EQ(roundLog2(std::nextafter(p, kInf)), k) << k;
  }
}

TEST(RoundLog2Test, DecisionPointIsSqrt2TimesPowerOfTwo) {
  // No double equals sqrt(2) * 2^k; the neighbours on each side decide.
  // fma gives the exact sign of x^2 - 2.
  EXPECT_LT(std::fma(kSqrt2Below, kSqrt2Below, -2.0), 0.0);
  EXPECT_GT(std::fma(kSqrt2Above, kSqrt2Above, -2.0), 0.0);
  EXPECT_EQ(std::nextafter(kSqrt2Below, kInf), kSqrt2Above);
  for (int k = -1000; k <= 1000; ++k) {
    EXPECT_EQ(roundLog2(std::ldexp(kSqrt2Below, k)), k) << k;
    EXPECT_EQ(roundLog2(std::ldexp(kSqrt2Above, k)), k + 1) << k;
  }
}

TEST(RoundLog2Test, Float32DecisionPoint) {
  // What an f32 weight can be: the f32 neighbours of sqrt(2).
  float below = 0x1.6a09e6p0f, above = 0x1.6a09e8p0f;
  EXPECT_EQ(std::nextafter(below, 2.0f), above);
  EXPECT_EQ(roundLog2(below), 0);
  EXPECT_EQ(roundLog2(above), 1);
  EXPECT_EQ(roundLog2(double(above) * 0x1p-20), -19);
  EXPECT_EQ(roundLog2(double(below) * 0x1p-20), -20);
}

TEST(RoundLog2Test, Denormals) {
  EXPECT_EQ(roundLog2(std::numeric_limits<double>::denorm_min()), -1074);
  EXPECT_EQ(roundLog2(3 * std::numeric_limits<double>::denorm_min()), -1072);
  EXPECT_EQ(roundLog2(0x1.6p-1070), -1070); // 1.375 < sqrt(2)
  EXPECT_EQ(roundLog2(0x1.7p-1070), -1069); // 1.4375 > sqrt(2)
}

TEST(QuantizeTest, ThresholdsThroughQuantize) {
  // 8-bit zero-free, emin = -60: exponents [-60, 67], so every k below is
  // inside the range and only the rounding decides.
  Format format{8, true, -60};
  for (int k = -60; k < 67; ++k) {
    for (int64_t sign : {1, -1}) {
      int64_t lower = k - format.emin + 1, upper = lower + 1;
      double below = sign * std::ldexp(kSqrt2Below, k);
      double above = sign * std::ldexp(kSqrt2Above, k);
      EXPECT_EQ(quantize(format, below, 1.0), sign * lower) << k;
      EXPECT_EQ(quantize(format, above, 1.0), sign * upper) << k;
      // alpha = 2^-3 divides exactly, so the decision does not move.
      EXPECT_EQ(quantize(format, below * 0.125, 0.125), sign * lower) << k;
      EXPECT_EQ(quantize(format, above * 0.125, 0.125), sign * upper) << k;
    }
  }
}

TEST(QuantizeTest, ThresholdWithNonPowerOfTwoAlpha) {
  // |w| / alpha is compared, not |w|: alpha = 3 moves the decision point to
  // 3 * sqrt(2) * 2^k.
  Format format{4, true, 0};
  double threshold = 3 * std::sqrt(2.0) * 2; // between 3*2 and 3*4
  EXPECT_EQ(quantize(format, threshold * (1 - 1e-12), 3.0), 2);
  EXPECT_EQ(quantize(format, threshold * (1 + 1e-12), 3.0), 3);
  EXPECT_EQ(quantize(format, 3 * 2 * 1.4142, 3.0), 2);
  EXPECT_EQ(quantize(format, 3 * 2 * 1.4143, 3.0), 3);
}

//===----------------------------------------------------------------------===//
// Zeros, clamping, non-finite values
//===----------------------------------------------------------------------===//

TEST(QuantizeTest, SignedZeros) {
  for (const Format &format : allFormats(-2)) {
    int64_t expected = format.zeroFree ? 1 : 0;
    EXPECT_EQ(quantize(format, 0.0, 1.0), expected) << describe(format);
    // -0 has no sign for the zero-free code: smallest magnitude, sign +.
    EXPECT_EQ(quantize(format, -0.0, 1.0), expected) << describe(format);
    EXPECT_EQ(quantize(format, -0.0, 0.25), expected) << describe(format);
  }
}

TEST(QuantizeTest, ZeroAlphaChannel) {
  // alpha = 0 only comes from an all-zero channel: everything takes the
  // smallest code.
  EXPECT_EQ(quantize(Format{3, true, 0}, 0.0, 0.0), 1);
  EXPECT_EQ(quantize(Format{3, false, 0}, 0.0, 0.0), 0);
}

TEST(QuantizeTest, ClampsAtTheTop) {
  for (const Format &format : allFormats(0)) {
    int64_t top = format.maxMagnitude();
    double largest = decode(format, top);
    EXPECT_EQ(quantize(format, largest * 2, 1.0), top) << describe(format);
    EXPECT_EQ(quantize(format, largest * 1e10, 1.0), top) << describe(format);
    EXPECT_EQ(quantize(format, -largest * 1e10, 1.0), -top) << describe(format);
    EXPECT_EQ(quantize(format, DBL_MAX, 1.0), top) << describe(format);
    EXPECT_EQ(quantize(format, -DBL_MAX, 1.0), -top) << describe(format);
  }
}

TEST(QuantizeTest, ClampsAtTheBottom) {
  for (const Format &format : allFormats(0)) {
    // Zero-free: the smallest magnitude keeps its sign.
    // With-zero: anything that rounds below emin becomes 0.
    int64_t up = format.zeroFree ? 1 : 0, down = format.zeroFree ? -1 : 0;
    EXPECT_EQ(quantize(format, 1e-10, 1.0), up) << describe(format);
    EXPECT_EQ(quantize(format, -1e-10, 1.0), down) << describe(format);
    EXPECT_EQ(quantize(format, std::numeric_limits<double>::denorm_min(), 1.0),
              up)
        << describe(format);
    EXPECT_EQ(quantize(format, -std::numeric_limits<double>::denorm_min(), 1.0),
              down)
        << describe(format);
  }
}

TEST(QuantizeTest, WithZeroDecisionBelowEmin) {
  // 2^emin / sqrt(2) is the decision point between code 1 and code 0.
  Format format{3, false, 0};
  EXPECT_EQ(quantize(format, 0.75, 1.0), 1); // log2 0.75 = -0.415
  EXPECT_EQ(quantize(format, 0.70, 1.0), 0); // log2 0.70 = -0.515
  EXPECT_EQ(quantize(format, -0.75, 1.0), -1);
  EXPECT_EQ(quantize(format, -0.70, 1.0), 0);
  EXPECT_EQ(quantize(format, std::ldexp(kSqrt2Above, -1), 1.0), 1);
  EXPECT_EQ(quantize(format, std::ldexp(kSqrt2Below, -1), 1.0), 0);
  // Zero-free clamps the same weights up to code +-1.
  Format zeroFree{3, true, 0};
  EXPECT_EQ(quantize(zeroFree, 0.70, 1.0), 1);
  EXPECT_EQ(quantize(zeroFree, -0.70, 1.0), -1);
}

TEST(QuantizeTest, RatioBeyondDoubleRangeStillClamps) {
  // |w| / alpha overflows to Inf or underflows to 0; its log still lies
  // beyond the top or the bottom of the range.
  double tiny = std::numeric_limits<double>::denorm_min();
  for (const Format &format : allFormats(-5)) {
    int64_t top = format.maxMagnitude();
    EXPECT_EQ(quantize(format, DBL_MAX, tiny), top) << describe(format);
    EXPECT_EQ(quantize(format, -DBL_MAX, tiny), -top) << describe(format);
    EXPECT_EQ(quantize(format, tiny, DBL_MAX), format.zeroFree ? 1 : 0)
        << describe(format);
    EXPECT_EQ(quantize(format, -tiny, DBL_MAX), format.zeroFree ? -1 : 0)
        << describe(format);
  }
}

TEST(QuantizeTest, NonFiniteWeightsHaveNoCode) {
  for (const Format &format : allFormats(0)) {
    EXPECT_EQ(quantize(format, kNaN, 1.0), std::nullopt) << describe(format);
    EXPECT_EQ(quantize(format, -kNaN, 1.0), std::nullopt) << describe(format);
    EXPECT_EQ(quantize(format, kInf, 1.0), std::nullopt) << describe(format);
    EXPECT_EQ(quantize(format, -kInf, 1.0), std::nullopt) << describe(format);
    EXPECT_EQ(quantize(format, 1.0, kNaN), std::nullopt) << describe(format);
    EXPECT_EQ(quantize(format, 1.0, kInf), std::nullopt) << describe(format);
  }
}

//===----------------------------------------------------------------------===//
// chooseAlpha
//===----------------------------------------------------------------------===//

TEST(ChooseAlphaTest, LargestMagnitudeMapsToLargestCode) {
  // 3-bit zero-free, emin = 0: the top is 2^3, so alpha = max|w| / 8.
  EXPECT_EQ(chooseAlpha(Format{3, true, 0}, {1.0, -4.0, 2.0}), 0.5);
  // emin = -3 moves the top to 2^0.
  EXPECT_EQ(chooseAlpha(Format{3, true, -3}, {1.0, -4.0, 2.0}), 4.0);
  // With-zero 3-bit: top exponent emin + 2.
  EXPECT_EQ(chooseAlpha(Format{3, false, 0}, {-6.0, 3.0}), 1.5);
  for (int64_t emin : {-10, 0, 4})
    for (const Format &format : allFormats(emin)) {
      std::vector<double> channel = {0.3, -2.7, 1.1, 0.0};
      std::optional<double> alpha = chooseAlpha(format, channel);
      ASSERT_TRUE(alpha.has_value());
      EXPECT_EQ(*alpha * decode(format, format.maxMagnitude()), 2.7)
          << describe(format);
      EXPECT_EQ(quantize(format, -2.7, *alpha), -format.maxMagnitude())
          << describe(format);
    }
}

TEST(ChooseAlphaTest, AllZeroAndEmptyChannels) {
  EXPECT_EQ(chooseAlpha(Format{3, true, 0}, {0.0, -0.0, 0.0}), 0.0);
  EXPECT_EQ(chooseAlpha(Format{3, false, 0}, {0.0}), 0.0);
  EXPECT_EQ(chooseAlpha(Format{3, true, 0}, {}), 0.0);
}

TEST(ChooseAlphaTest, NonFiniteWeightsHaveNoAlpha) {
  Format format{4, true, 0};
  EXPECT_EQ(chooseAlpha(format, {1.0, kNaN}), std::nullopt);
  EXPECT_EQ(chooseAlpha(format, {kInf, 1.0}), std::nullopt);
  EXPECT_EQ(chooseAlpha(format, {-kInf}), std::nullopt);
}

//===----------------------------------------------------------------------===//
// recognizeChannel (exact mode)
//===----------------------------------------------------------------------===//

TEST(RecognizeChannelTest, AcceptsAlphaTimesSignTimesPowerOfTwo) {
  Format format{3, true, 0};
  std::vector<int64_t> codes;
  std::optional<double> alpha =
      recognizeChannel(format, {0.75, -1.5, 3.0, -6.0}, codes);
  ASSERT_TRUE(alpha.has_value());
  EXPECT_EQ(*alpha, 0.75);
  EXPECT_EQ(codes, (std::vector<int64_t>{1, -2, 3, -4}));
}

TEST(RecognizeChannelTest, EveryCodeEveryFormat) {
  // A channel that uses every code of the format comes back code for code.
  for (int64_t emin : {-20, 0, 2})
    for (const Format &format : allFormats(emin))
      for (double alpha : {1.0, 0.3, 0.0625}) {
        std::vector<int64_t> expected = allCodes(format);
        std::vector<double> channel;
        for (int64_t code : expected)
          channel.push_back(alpha * decode(format, code));
        std::vector<int64_t> codes;
        std::optional<double> recognized =
            recognizeChannel(format, channel, codes);
        ASSERT_TRUE(recognized.has_value())
            << describe(format) << " alpha=" << alpha;
        EXPECT_EQ(*recognized, alpha) << describe(format);
        EXPECT_EQ(codes, expected) << describe(format) << " alpha=" << alpha;
      }
}

TEST(RecognizeChannelTest, NarrowSpanReproducesTheWeights) {
  // Only two exponents in use: alpha is chosen so the largest magnitude gets
  // the largest code, and alpha * decode(code) gives back every weight.
  Format format{4, true, -2};
  std::vector<double> channel = {0.2, -0.4, 0.4, 0.2};
  std::vector<int64_t> codes;
  std::optional<double> alpha = recognizeChannel(format, channel, codes);
  ASSERT_TRUE(alpha.has_value());
  EXPECT_EQ(codes, (std::vector<int64_t>{7, -8, 8, 7}));
  for (size_t i = 0; i < channel.size(); ++i)
    EXPECT_EQ(*alpha * decode(format, codes[i]), channel[i]) << i;
}

TEST(RecognizeChannelTest, RejectsMixedMantissas) {
  std::vector<int64_t> codes;
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {1.0, 1.5}, codes),
            std::nullopt);
  EXPECT_EQ(recognizeChannel(Format{8, true, 0}, {0.3, 0.6, 0.9}, codes),
            std::nullopt);
  // One ulp off is a different mantissa.
  EXPECT_EQ(recognizeChannel(Format{3, true, 0},
                             {1.0, std::nextafter(2.0, 3.0)}, codes),
            std::nullopt);
}

TEST(RecognizeChannelTest, RejectsTooWideExponentSpan) {
  std::vector<int64_t> codes;
  // 3-bit zero-free spans 4 exponents: 1..8 fits, 1..16 does not.
  EXPECT_TRUE(
      recognizeChannel(Format{3, true, 0}, {1.0, -8.0}, codes).has_value());
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {1.0, -16.0}, codes),
            std::nullopt);
  // 3-bit with-zero spans 3: 1..4 fits, 1..8 does not.
  EXPECT_TRUE(
      recognizeChannel(Format{3, false, 0}, {1.0, 4.0}, codes).has_value());
  EXPECT_EQ(recognizeChannel(Format{3, false, 0}, {1.0, 8.0}, codes),
            std::nullopt);
  // 2-bit with-zero has a single exponent.
  EXPECT_EQ(recognizeChannel(Format{2, false, 0}, {1.0, 2.0}, codes),
            std::nullopt);
}

TEST(RecognizeChannelTest, ZerosOnlyInWithZeroFormats) {
  std::vector<int64_t> codes;
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {1.0, 0.0, 2.0}, codes),
            std::nullopt);
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {1.0, -0.0}, codes),
            std::nullopt);
  std::optional<double> alpha =
      recognizeChannel(Format{3, false, 0}, {1.0, 0.0, -2.0}, codes);
  ASSERT_TRUE(alpha.has_value());
  EXPECT_EQ(*alpha, 0.5);
  EXPECT_EQ(codes, (std::vector<int64_t>{2, 0, -3}));
}

TEST(RecognizeChannelTest, AllZeroChannelHasAlphaZero) {
  std::vector<int64_t> codes;
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {0.0, -0.0}, codes), 0.0);
  EXPECT_EQ(codes, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(recognizeChannel(Format{3, false, 0}, {0.0, 0.0}, codes), 0.0);
  EXPECT_EQ(codes, (std::vector<int64_t>{0, 0}));
}

TEST(RecognizeChannelTest, RejectsNonFinite) {
  std::vector<int64_t> codes;
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {1.0, kNaN}, codes),
            std::nullopt);
  EXPECT_EQ(recognizeChannel(Format{3, true, 0}, {kInf, 1.0}, codes),
            std::nullopt);
}

//===----------------------------------------------------------------------===//
// shiftWord
//===----------------------------------------------------------------------===//

TEST(ShiftWordTest, BitPatterns) {
  EXPECT_EQ(shiftWord(0, false), 0x00000000u);
  EXPECT_EQ(shiftWord(0, true), 0x80000000u);
  EXPECT_EQ(shiftWord(1, false), 0x00800000u);
  EXPECT_EQ(shiftWord(3, true), 0x81800000u);
  EXPECT_EQ(shiftWord(127, false), 0x3F800000u);
  EXPECT_EQ(shiftWord(127, true), 0xBF800000u);
}

TEST(ShiftWordTest, AddedToOneIsTheSignedPowerOfTwo) {
  // word + bits(1.0f) = bits(s * 2^e): the contract shift_accumulate uses.
  for (int64_t e = 0; e <= 127; ++e)
    for (bool negative : {false, true}) {
      float scale = bitsToFloat(shiftWord(e, negative) + 0x3F800000u);
      EXPECT_EQ(scale, (negative ? -1.0f : 1.0f) * std::ldexp(1.0f, int(e)))
          << e;
    }
}

TEST(ShiftWordTest, AddedToANormalFloatMultiplies) {
  // The exponent_add trick on normal inputs whose result stays normal.
  for (float x : {1.5f, -3.25f, 0x1.fffffep-100f, 1e20f})
    for (int64_t e : {0, 1, 5, 40})
      for (bool negative : {false, true}) {
        uint32_t bits;
        std::memcpy(&bits, &x, sizeof(bits));
        float product = bitsToFloat(bits + shiftWord(e, negative));
        EXPECT_EQ(product,
                  x * (negative ? -1.0f : 1.0f) * std::ldexp(1.0f, int(e)))
            << x << " e=" << e;
      }
}

} // namespace
