//===- MatmulKernel.cpp - Shift fully connected kernels -------------------===//
//
// shift.matmul (y[m, n] = sum_k x[m, k] * alpha[n] * w[n, k]) as a driver and
// accumulation kernels like the convolution's, but with the packed codes
// decoded in the inner loop: fully connected layers are memory bound, so the
// 8x smaller weights are the win and the decode rides along for free.
//
// Packed layout: rows padded to `rows`, K padded to 2 * lanes. For 4-bit
// storage, chunk t of row n is `lanes` bytes; byte j holds code t*2L + j in
// its low nibble and code t*2L + L + j in its high nibble, so one vector load
// and two mask/shift ops yield two vectors of codes with no shuffles.
//
// Layers that keep f32 weights (the classifier of a shift network, attention
// and recurrent projections left in float) use the same blocking with the
// weights stored as f32 rows padded the same way, and the FMA kernel alone.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::shift;
using namespace mlir::shift::kernel;

namespace {

struct MatmulGeometry {
  int64_t m, k, n;
  int64_t lanes, rows;
  int64_t kPad, nPad, chunks, rowBytes;
};

MatmulGeometry makeGeometry(const KernelSpec &spec) {
  auto in = cast<MemRefType>(spec.func.getArgumentTypes()[0]).getShape();
  auto codes = spec.isFloat() ? spec.floatWeights.getType().getShape()
                              : spec.codes.getType().getShape();
  MatmulGeometry geo;
  geo.m = in[0], geo.k = in[1], geo.n = codes[0];
  geo.lanes = spec.lanes;
  // More weight rows per block than a convolution's output channels: each
  // row is a separate stream of codes from memory and an independent
  // accumulator, and the activation chunk is loaded once for all of them
  // (4096x4096 from DRAM: 12.7 -> 13.9 GMAC/s going from 4 to 8 rows; 16 rows
  // with AVX-512's 32 registers help small layers such as 512x10).
  int64_t blockRows = spec.lanes >= 16 ? 4 * spec.rows : 2 * spec.rows;
  geo.rows = std::min<int64_t>(blockRows, geo.n);
  geo.kPad = llvm::alignTo(geo.k, 2 * geo.lanes);
  geo.nPad = llvm::alignTo(geo.n, geo.rows);
  geo.chunks = geo.kPad / (2 * geo.lanes);
  geo.rowBytes =
      spec.isFloat() || !isNibblePacked(spec) ? geo.kPad : geo.kPad / 2;
  return geo;
}

DenseElementsAttr packCodes(OpBuilder &b, const KernelSpec &spec,
                            const MatmulGeometry &geo) {
  std::vector<int64_t> codes = codeValues(spec);
  std::vector<int8_t> packed(geo.nPad * geo.rowBytes, 0);
  bool nibbles = isNibblePacked(spec);
  for (int64_t row = 0; row < geo.n; ++row)
    for (int64_t col = 0; col < geo.k; ++col) {
      uint8_t raw =
          rawCode(spec, codes[row * geo.k + col], matmulSignBit(spec));
      int64_t chunk = col / (2 * geo.lanes), within = col % (2 * geo.lanes);
      if (nibbles) {
        int64_t byte = chunk * geo.lanes + within % geo.lanes;
        packed[row * geo.rowBytes + byte] |=
            int8_t(raw << (within >= geo.lanes ? 4 : 0));
      } else {
        packed[row * geo.rowBytes + col] = int8_t(raw);
      }
    }
  auto type = RankedTensorType::get({geo.nPad, geo.rowBytes}, b.getI8Type());
  return DenseElementsAttr::get(type, ArrayRef(packed));
}

/// Builds the accumulation kernel: (Xp, packed, alpha, Yp) -> (). The f32
/// kernels multiply by the exact weight alpha * s * 2^e, as IEEE would.
/// f32 weights N x K as rows padded to nPad x kPad with zeros.
DenseElementsAttr floatWeightRows(OpBuilder &b, const KernelSpec &spec,
                                  const MatmulGeometry &geo) {
  SmallVector<float> weights(spec.floatWeights.getValues<float>());
  std::vector<float> rows(geo.nPad * geo.kPad, 0.f);
  for (int64_t n = 0; n < geo.n; ++n)
    for (int64_t k = 0; k < geo.k; ++k)
      rows[n * geo.kPad + k] = weights[n * geo.k + k];
  auto type = RankedTensorType::get({geo.nPad, geo.kPad}, b.getF32Type());
  return DenseElementsAttr::get(type, ArrayRef(rows));
}

void buildAccumulation(OpBuilder &b, func::FuncOp func, const KernelSpec &spec,
                       const MatmulGeometry &geo, MacKind kind) {
  bool exponentAdd = kind == MacKind::ExponentAdd;
  Block *entry = &func.getBody().front();
  b.setInsertionPointToStart(entry);
  Location loc = func.getLoc();
  KB k{b, loc};
  Value xp = entry->getArgument(0), packed = entry->getArgument(1),
        alpha = entry->getArgument(2), yp = entry->getArgument(3);
  auto vecType = VectorType::get({geo.lanes}, b.getF32Type());
  auto byteVecType = VectorType::get({geo.lanes}, b.getI8Type());
  auto wordVecType = VectorType::get({geo.lanes}, b.getI32Type());
  bool nibbles = !spec.isFloat() && isNibblePacked(spec);

  k.loopNest({geo.m, geo.nPad / geo.rows}, [&](OpBuilder &b, Location loc,
                                               ValueRange ivs) {
    KB k{b, loc};
    Value m = ivs[0], row0 = k.mul(ivs[1], geo.rows);
    SmallVector<Value> init(geo.rows, k.splat(vecType, b.getF32FloatAttr(0)));
    auto chunkLoop = k.forLoop(
        geo.chunks, init,
        [&](OpBuilder &b, Location loc, Value chunk, ValueRange accs) {
          KB k{b, loc};
          SmallVector<Value> acc(accs.begin(), accs.end());
          Value col = k.mul(chunk, 2 * geo.lanes);
          Value xLow =
              vector::LoadOp::create(b, loc, vecType, xp, ValueRange{m, col});
          Value xHigh = vector::LoadOp::create(
              b, loc, vecType, xp, ValueRange{m, k.addc(col, geo.lanes)});
          for (int64_t r = 0; r < geo.rows; ++r) {
            Value row = k.addc(row0, r);
            Value low, high;
            auto splat = [&](int64_t v) {
              return k.splat(wordVecType, b.getI32IntegerAttr(int32_t(v)));
            };
            Value lowWord, highWord;
            if (spec.isFloat()) {
              lowWord = vector::LoadOp::create(b, loc, vecType, packed,
                                               ValueRange{row, col});
              highWord = vector::LoadOp::create(
                  b, loc, vecType, packed,
                  ValueRange{row, k.addc(col, geo.lanes)});
            } else if (nibbles && exponentAdd) {
              // Sign-extending the byte [s_hi m_hi | s_lo m_lo] copies
              // s_hi into bits 7..31: one shift puts m_hi at 23..25
              // and s_hi at 31; for the low nibble, shifting left by 28
              // and arithmetically right by 5 does the same. Then one
              // mask each: 5 ops for two vectors of shift words.
              Value bytes = vector::LoadOp::create(
                  b, loc, byteVecType, packed,
                  ValueRange{row, k.mul(chunk, geo.lanes)});
              Value wide = arith::ExtSIOp::create(b, loc, wordVecType, bytes);
              Value fields = splat(0x83800000);
              highWord = arith::AndIOp::create(
                  b, loc, arith::ShLIOp::create(b, loc, wide, splat(19)),
                  fields);
              Value up = splat(28), down = splat(5); // in this order
              lowWord = arith::AndIOp::create(
                  b, loc,
                  arith::ShRSIOp::create(
                      b, loc, arith::ShLIOp::create(b, loc, wide, up), down),
                  fields);
            } else if (nibbles) {
              Value bytes = vector::LoadOp::create(
                  b, loc, byteVecType, packed,
                  ValueRange{row, k.mul(chunk, geo.lanes)});
              Value wide = arith::ExtUIOp::create(b, loc, wordVecType, bytes);
              low = arith::AndIOp::create(
                  b, loc, wide, k.splat(wordVecType, b.getI32IntegerAttr(15)));
              high = arith::ShRUIOp::create(
                  b, loc, wide, k.splat(wordVecType, b.getI32IntegerAttr(4)));
            } else {
              low = arith::ExtUIOp::create(
                  b, loc, wordVecType,
                  vector::LoadOp::create(b, loc, byteVecType, packed,
                                         ValueRange{row, col}));
              high = arith::ExtUIOp::create(
                  b, loc, wordVecType,
                  vector::LoadOp::create(
                      b, loc, byteVecType, packed,
                      ValueRange{row, k.addc(col, geo.lanes)}));
            }
            Value rowAlpha;
            if (!exponentAdd)
              rowAlpha = vector::BroadcastOp::create(
                  b, loc, vecType,
                  memref::LoadOp::create(b, loc, alpha, ValueRange{row}));
            auto decode = [&](Value raw) -> Value {
              if (exponentAdd)
                return decodeWord(k, spec, raw, matmulSignBit(spec));
              return arith::MulFOp::create(
                  b, loc, decodeWeight(k, spec, raw, matmulSignBit(spec)),
                  rowAlpha);
            };
            if (!lowWord) {
              lowWord = decode(low);
              highWord = decode(high);
            }
            acc[r] = accumulate(k, spec, kind, acc[r], xLow, lowWord);
            acc[r] = accumulate(k, spec, kind, acc[r], xHigh, highWord);
          }
          scf::YieldOp::create(b, loc, acc);
        });
    for (int64_t r = 0; r < geo.rows; ++r) {
      Value sum = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD, chunkLoop.getResult(r));
      if (exponentAdd)
        sum = flushResidue(k, spec, sum);
      memref::StoreOp::create(b, loc, sum, yp, ValueRange{m, k.addc(row0, r)});
    }
  });
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
}

/// The driver's steps (buildDriver is the skeleton): copy into the K-padded
/// buffer while scanning, kernels that decode their codes in the inner loop,
/// then the rows scaled by alpha * 2^emin if the exponent-add kernel ran.
DriverRecipe matmulRecipe(const KernelSpec &spec, const MatmulGeometry &geo,
                          MemRefType xpType, MemRefType ypType) {
  DriverRecipe recipe;
  recipe.accumulators = ypType;
  recipe.stage = [&spec, geo, xpType](KB &k, const DriverArgs &args) {
    OpBuilder &b = k.b;
    Value xp = k.zeroBuffer(xpType);
    Value trueValue = arith::ConstantOp::create(b, k.loc, b.getBoolAttr(true));
    auto scan = k.loopNest(
        {geo.m, geo.k}, ValueRange{trueValue},
        [&](OpBuilder &b, Location loc, ValueRange ivs, ValueRange iter) {
          KB k{b, loc};
          Value value = memref::LoadOp::create(b, loc, args.input, ivs);
          memref::StoreOp::create(b, loc, value, xp, ivs);
          if (!spec.hasFallback())
            return scf::ValueVector{iter[0]};
          return scf::ValueVector{
              scanActivation(k, spec, value, iter[0], args.limit)};
        });
    return std::make_pair(xp, scan.front());
  };
  recipe.weights = [](OpBuilder &, Location, const DriverArgs &args, MacKind,
                      ArrayRef<Value>) {
    return SmallVector<Value>{args.packed, args.alpha};
  };
  recipe.epilogue = [geo](KB &k, const DriverArgs &args, Value yp,
                          Value ranExponentAdd) {
    k.loopNest({geo.m, geo.n}, [&](OpBuilder &b, Location loc, ValueRange ivs) {
      Value acc = memref::LoadOp::create(b, loc, yp, ivs);
      Value rowAlpha =
          memref::LoadOp::create(b, loc, args.alpha, ValueRange{ivs[1]});
      Value one = KB{b, loc}.f32(1.0f);
      Value scale =
          arith::SelectOp::create(b, loc, ranExponentAdd, rowAlpha, one);
      memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, acc, scale),
                              args.output, ivs);
    });
  };
  return recipe;
}

} // namespace

LogicalResult kernel::generateMatmul(KernelSpec spec) {
  MatmulGeometry geo = makeGeometry(spec);
  spec.fanIn = geo.k;
  OpBuilder b(spec.func.getContext());
  Type f32 = b.getF32Type();
  auto xpType = MemRefType::get({geo.m, geo.kPad}, f32);
  auto ypType = MemRefType::get({geo.m, geo.nPad}, f32);
  auto packedType = MemRefType::get({geo.nPad, geo.rowBytes},
                                    spec.isFloat() ? f32 : Type(b.getI8Type()));
  auto alphaType = MemRefType::get({geo.nPad}, f32);

  // Everything the accumulation body depends on besides the spec's blocking:
  // shapes and the code format it decodes.
  std::string key;
  llvm::raw_string_ostream os(key);
  os << geo.m << "x" << geo.kPad << "x" << geo.nPad << "_r" << geo.rows;
  if (spec.isFloat())
    os << "_f32";
  else
    os << "_b" << spec.encoding.getBits()
       << (spec.encoding.getZeroFree() ? "z" : "w");
  os << "_" << specKey(spec);
  auto kernels = createKernels(
      b, spec, "matmul", key,
      [&](MacKind) -> SmallVector<Type> {
        return {xpType, packedType, alphaType, ypType};
      },
      [&](func::FuncOp func, MacKind kind) {
        buildAccumulation(b, func, spec, geo, kind);
      });

  std::vector<float> paddedAlpha(spec.alpha);
  paddedAlpha.resize(geo.nPad, 0.0f);
  std::string driverKey = key + "_k" + std::to_string(geo.k) + "n" +
                          std::to_string(geo.n) +
                          (spec.fastMode ? "_fast" : "") + "_driver";
  defineWithSharedDriver(
      spec, "matmul", driverKey,
      spec.isFloat() ? floatWeightRows(b, spec, geo) : packCodes(b, spec, geo),
      DenseElementsAttr::get(RankedTensorType::get({geo.nPad}, f32),
                             ArrayRef(paddedAlpha)),
      [&](func::FuncOp driver) {
        buildDriver(driver, spec, kernels,
                    matmulRecipe(spec, geo, xpType, ypType));
      });
  return success();
}
