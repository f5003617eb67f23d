//===- PassEnumsTest.cpp - Enumerated pass options ------------------------===//
//
// Every enum spelling round-trips, every Target has exactly one row of the
// target table (and every row a Target), and the option parser rejects
// unknown values with a message naming the valid ones.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"

#include "gtest/gtest.h"

using namespace mlir::shift;

namespace {

template <typename E> void expectRoundTrip() {
  for (const auto &[name, value] : EnumSpellings<E>::all) {
    EXPECT_EQ(stringifyEnum(value), name);
    ASSERT_TRUE(symbolizeEnum<E>(name).has_value()) << name.str();
    EXPECT_EQ(*symbolizeEnum<E>(name), value);
  }
  EXPECT_FALSE(symbolizeEnum<E>("no-such-value").has_value());
  EXPECT_FALSE(symbolizeEnum<E>("").has_value());
}

TEST(PassEnumsTest, SpellingsRoundTrip) {
  expectRoundTrip<Target>();
  expectRoundTrip<KernelMode>();
  expectRoundTrip<KernelStrategy>();
  expectRoundTrip<WeightsMode>();
  EXPECT_EQ(enumSpellingList<KernelStrategy>(), "shift, decode-fma or auto");
  EXPECT_EQ(enumSpellingList<KernelMode>(), "default or fast");
}

TEST(PassEnumsTest, EveryTargetIsOneRowOfTheTable) {
  llvm::ArrayRef all(EnumSpellings<Target>::all);
  EXPECT_EQ(allTargets().size(), all.size());
  for (const auto &[name, value] : all) {
    EXPECT_EQ(lookupTarget(value).name, name);
    ASSERT_TRUE(lookupTarget(name).has_value());
  }
  for (const TargetInfo &row : allTargets())
    EXPECT_TRUE(symbolizeEnum<Target>(row.name).has_value()) << row.name.str();
}

TEST(PassEnumsTest, ParserAcceptsOnlyTheSpellings) {
  llvm::cl::opt<KernelStrategy> option("strategy-under-test",
                                       llvm::cl::init(KernelStrategy::Shift));
  KernelStrategy value = KernelStrategy::Shift;
  EXPECT_FALSE(option.getParser().parse(option, "strategy-under-test",
                                        "decode-fma", value));
  EXPECT_EQ(value, KernelStrategy::DecodeFMA);
  // parse() returns true on error (after printing it; the message's text is
  // checked by the lit tests of the passes).
  EXPECT_TRUE(
      option.getParser().parse(option, "strategy-under-test", "lut", value));
  EXPECT_TRUE(
      option.getParser().parse(option, "strategy-under-test", "Auto", value));
  EXPECT_EQ(value, KernelStrategy::DecodeFMA);
  option.removeArgument();
}

} // namespace
