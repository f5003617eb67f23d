//===- ShiftOptions.h - Target, mode, strategy and weights enums -*- C++ -*-===//
//
// The values of the `target`, `mode`, `strategy` and `weights` options of the
// passes (Passes.td) and of `denseshift-pipeline`, as enums with their
// spellings; `#shift.kernel` records the first three with the same spellings. Each enum has an llvm::cl parser that accepts exactly those
// spellings and rejects anything else while the option string is parsed,
// naming the valid ones:
//
//   for the --mode option: unknown mode 'turbo' (expected default or fast)
//
// so a misspelled option fails before any pass runs.
//
//===----------------------------------------------------------------------===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPTIONS_H
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <utility>

namespace mlir::shift {

/// A code generation target: one row of the target table (ShiftToVector.h).
enum class Target { X86_64_AVX2, X86_64_AVX512, AArch64_NEON };
/// `default`: IEEE-exact kernels behind an activation pre-scan; `fast`:
/// finite, normal-range activations assumed (docs/kernels.md).
enum class KernelMode { Default, Fast };
/// How shift kernels multiply: exponent add, decode to f32 and FMA, or per
/// layer by the target's cost model.
enum class KernelStrategy { Shift, DecodeFMA, Auto };
/// What `shift-from-linalg` accepts: exact alpha*s*2^e weights, or any float
/// weights rounded to the format.
enum class WeightsMode { Exact, Quantize };

/// The spellings of an enum's values, and what the option is called in
/// messages. Specialized for each enum above.
template <typename E> struct EnumSpellings;

template <> struct EnumSpellings<Target> {
  static constexpr llvm::StringLiteral what = "target";
  static constexpr std::pair<llvm::StringLiteral, Target> all[] = {
      {"x86-64-avx2", Target::X86_64_AVX2},
      {"x86-64-avx512", Target::X86_64_AVX512},
      {"aarch64-neon", Target::AArch64_NEON}};
};
template <> struct EnumSpellings<KernelMode> {
  static constexpr llvm::StringLiteral what = "mode";
  static constexpr std::pair<llvm::StringLiteral, KernelMode> all[] = {
      {"default", KernelMode::Default}, {"fast", KernelMode::Fast}};
};
template <> struct EnumSpellings<KernelStrategy> {
  static constexpr llvm::StringLiteral what = "strategy";
  static constexpr std::pair<llvm::StringLiteral, KernelStrategy> all[] = {
      {"shift", KernelStrategy::Shift},
      {"decode-fma", KernelStrategy::DecodeFMA},
      {"auto", KernelStrategy::Auto}};
};
template <> struct EnumSpellings<WeightsMode> {
  static constexpr llvm::StringLiteral what = "weights mode";
  static constexpr std::pair<llvm::StringLiteral, WeightsMode> all[] = {
      {"exact", WeightsMode::Exact}, {"quantize", WeightsMode::Quantize}};
};

/// The spelling of `value`.
template <typename E> llvm::StringRef stringifyEnum(E value) {
  for (const auto &[name, v] : EnumSpellings<E>::all)
    if (v == value)
      return name;
  return "<invalid>";
}

/// The value spelled `name`, if any.
template <typename E> std::optional<E> symbolizeEnum(llvm::StringRef name) {
  for (const auto &[spelling, v] : EnumSpellings<E>::all)
    if (spelling == name)
      return v;
  return std::nullopt;
}

/// "a, b or c".
template <typename E> std::string enumSpellingList() {
  std::string out;
  llvm::ArrayRef all(EnumSpellings<E>::all);
  for (size_t i = 0; i < all.size(); ++i) {
    if (i)
      out += i + 1 == all.size() ? " or " : ", ";
    out += all[i].first.str();
  }
  return out;
}

/// llvm::cl parser of an enum with EnumSpellings: parsing fails on anything
/// but a spelling, with a message that lists them.
template <typename E>
class SpelledEnumParser : public llvm::cl::basic_parser<E> {
public:
  using llvm::cl::basic_parser<E>::basic_parser;

  bool parse(llvm::cl::Option &option, llvm::StringRef, llvm::StringRef arg,
             E &value) {
    if (std::optional<E> parsed = symbolizeEnum<E>(arg)) {
      value = *parsed;
      return false;
    }
    return option.error("unknown " + EnumSpellings<E>::what + " '" + arg +
                        "' (expected " + enumSpellingList<E>() + ")");
  }

  llvm::StringRef getValueName() const override {
    return EnumSpellings<E>::what;
  }

  void printOptionDiff(const llvm::cl::Option &option, E value,
                       const llvm::cl::OptionValue<E> &defaultValue,
                       size_t globalWidth) const {
    this->printOptionName(option, globalWidth);
    llvm::outs() << "= " << stringifyEnum(value);
    if (defaultValue.hasValue())
      llvm::outs() << " (default: " << stringifyEnum(defaultValue.getValue())
                   << ")";
    llvm::outs() << "\n";
  }

  /// How MLIR prints the option in a pipeline string.
  static void print(llvm::raw_ostream &os, const E &value) {
    os << stringifyEnum(value);
  }
};

} // namespace mlir::shift

namespace llvm::cl {
template <>
class parser<mlir::shift::Target>
    : public mlir::shift::SpelledEnumParser<mlir::shift::Target> {
public:
  using SpelledEnumParser::SpelledEnumParser;
};
template <>
class parser<mlir::shift::KernelMode>
    : public mlir::shift::SpelledEnumParser<mlir::shift::KernelMode> {
public:
  using SpelledEnumParser::SpelledEnumParser;
};
template <>
class parser<mlir::shift::KernelStrategy>
    : public mlir::shift::SpelledEnumParser<mlir::shift::KernelStrategy> {
public:
  using SpelledEnumParser::SpelledEnumParser;
};
template <>
class parser<mlir::shift::WeightsMode>
    : public mlir::shift::SpelledEnumParser<mlir::shift::WeightsMode> {
public:
  using SpelledEnumParser::SpelledEnumParser;
};
} // namespace llvm::cl

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPTIONS_H
