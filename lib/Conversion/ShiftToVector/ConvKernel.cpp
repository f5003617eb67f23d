//===- ConvKernel.cpp - Register-blocked shift convolution kernels --------===//
//
// shift.conv2d (NCHW/FCHW) with f32 activations. The outlined layer function
// passes its packed codes and alpha (constant globals) to a driver, and the
// driver calls accumulation kernels; drivers and kernels depend only on the
// geometry, so layers of the same shape share them:
//
//   driver  copies the input once into a zero-padded buffer split into
//           `stride_w` phase planes (so every strided row is contiguous),
//           scanning it for the fast kernel's precondition; decodes the
//           packed codes into per-block tables; calls one accumulation
//           kernel; then scales each output by alpha (after _xadd).
//   _xadd   accumulation with shift.shift_accumulate (exponent_add): no
//           multiply, only integer and float adds;
//   _fma    the decode-fma strategy: f32 weights alpha * s * 2^e, vector FMA;
//   _ieee   the fallback when the scan finds NaN, Inf, tiny or too large
//           activations: f32 weights, separate IEEE multiply and add, so
//           overflowing products are +-Inf exactly as in IEEE arithmetic.
//
// Register block: `rows` output channels x `cols` vectors of `lanes` output
// pixels along the width x `hblock` output rows. Wide maps use the width
// alone; on narrow maps (the 14x14 and 7x7 layers of ImageNet networks) one
// or two vectors cover a row, and the block spans several output rows so
// that the kernel still has rows * cols * hblock independent accumulators.
//
// Layers that keep f32 weights (the first and last layers of shift networks,
// anything shift-from-linalg leaves alone) use the same driver and the _fma
// kernel; their weights are laid out in the kernel's table order at compile
// time, so the driver decodes nothing.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::shift;
using namespace mlir::shift::kernel;

namespace {

/// Shapes and blocking of one convolution, all static.
struct ConvGeometry {
  int64_t n, c, h, w;     // input
  int64_t f, cg, kh, kw;  // codes F x C/G x KH x KW
  int64_t g, fg;          // groups, output channels per group
  int64_t sh, sw, dh, dw; // strides, dilations
  int64_t pt, pl, pb, pr; // padding
  int64_t oh, ow;         // output
  int64_t lanes, rows, cols, hblock;
  int64_t fgPad, blocks;   // fg rounded up to rows; blocks per group
  int64_t owBlocks, owPad; // width blocks of cols * lanes pixels
  int64_t ohBlocks, ohPad; // height blocks of hblock output rows
  int64_t hp, wq;          // padded height, width of one phase plane
  // Output channels as the vector dimension (small maps, see
  // chooseChannelVectors): a block is `rows` = k * lanes channels x
  // `pixBlock` output pixels of the flattened OH x OW map, and the kernel's
  // output is [n, g * blocks, pixPad, rows] (channels innermost).
  bool channelVectors = false;
  int64_t pixels = 0, pixBlock = 0, pixBlocks = 0, pixPad = 0;

  static ConvGeometry make(const KernelSpec &spec);
  /// Switches to output-channel vectors where they waste fewer lanes.
  void chooseChannelVectors(const KernelSpec &spec);
  /// All fields, for naming shared kernels and drivers.
  std::string key() const;
};

std::string ConvGeometry::key() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "n" << n << "c" << c << "h" << h << "w" << w << "_f" << f << "g" << g
     << "k" << kh << "x" << kw << "_s" << sh << "x" << sw << "d" << dh << "x"
     << dw << "p" << pt << "x" << pl << "x" << pb << "x" << pr << "_o" << oh
     << "x" << ow << "_v" << lanes << "r" << rows << "c" << cols << "h"
     << hblock;
  if (channelVectors)
    os << "_cv" << pixBlock;
  return text;
}

ConvGeometry ConvGeometry::make(const KernelSpec &spec) {
  auto strides = spec.kernel.getStrides().asArrayRef();
  auto dilations = spec.kernel.getDilations().asArrayRef();
  auto padding = spec.kernel.getPadding().asArrayRef();
  auto in = cast<MemRefType>(spec.func.getArgumentTypes()[0]).getShape();
  auto out = cast<MemRefType>(spec.func.getArgumentTypes()[1]).getShape();
  auto codes = spec.isFloat() ? spec.floatWeights.getType().getShape()
                              : spec.codes.getType().getShape();
  ConvGeometry geo;
  geo.n = in[0], geo.c = in[1], geo.h = in[2], geo.w = in[3];
  geo.f = codes[0], geo.cg = codes[1], geo.kh = codes[2], geo.kw = codes[3];
  geo.g = spec.kernel.getGroups();
  geo.fg = geo.f / geo.g;
  geo.sh = strides[0], geo.sw = strides[1];
  geo.dh = dilations[0], geo.dw = dilations[1];
  geo.pt = padding[0], geo.pl = padding[1], geo.pb = padding[2],
  geo.pr = padding[3];
  geo.oh = out[2], geo.ow = out[3];
  // Narrow rows waste most of a wide vector (7 pixels in 16 lanes): halve
  // the vectors while a row still needs as many of them.
  geo.lanes = spec.lanes;
  while (geo.lanes > 4 && llvm::divideCeil(geo.ow, geo.lanes / 2) ==
                              llvm::divideCeil(geo.ow, geo.lanes))
    geo.lanes /= 2;
  geo.rows = std::min<int64_t>(spec.rows, geo.fg);
  geo.cols = std::min<int64_t>(spec.cols,
                               int64_t(llvm::divideCeil(geo.ow, geo.lanes)));
  // Output rows per block: what the channels and the width leave of the
  // rows x cols accumulator budget, at most the map's height. Narrow maps
  // and depthwise convs (one channel per group: 1 x 2 accumulators on AVX2
  // otherwise) fill the block with output rows. The last block may compute
  // up to hblock - 1 padded rows (7x7 with 4 rows: 8 rows, 1/8 wasted).
  int64_t budget = spec.rows * spec.cols;
  geo.hblock =
      std::min(geo.oh, std::max<int64_t>(1, budget / (geo.rows * geo.cols)));
  geo.fgPad = llvm::alignTo(geo.fg, geo.rows);
  geo.blocks = geo.fgPad / geo.rows;
  geo.owBlocks = llvm::divideCeil(geo.ow, geo.cols * geo.lanes);
  geo.owPad = geo.owBlocks * geo.cols * geo.lanes;
  geo.ohBlocks = llvm::divideCeil(geo.oh, geo.hblock);
  geo.ohPad = geo.ohBlocks * geo.hblock;
  geo.pixels = geo.oh * geo.ow;
  geo.chooseChannelVectors(spec);
  // Padded output rows read zero rows past the input's bottom padding.
  geo.hp = std::max(geo.h + geo.pt + geo.pb,
                    (geo.ohPad - 1) * geo.sh + (geo.kh - 1) * geo.dh + 1);
  int64_t wp = geo.w + geo.pl + geo.pr;
  geo.wq = std::max(geo.owPad + (geo.kw - 1) * geo.dw / geo.sw,
                    int64_t(llvm::divideCeil(wp, geo.sw)));
  return geo;
}

void ConvGeometry::chooseChannelVectors(const KernelSpec &spec) {
  // Only on narrow maps, rows shorter than two full vectors (the 14x14, 7x7
  // and 1x1 maps of ImageNet networks' deep layers on AVX2): wider maps
  // fill their width vectors and keep the contiguous activation loads.
  if (ow >= 2 * spec.lanes || fg < spec.lanes)
    return;
  // The same accumulator budget, spent on `pix` pixels x `vecs` channel
  // vectors. With taps along the width, neighbouring pixels of a row share
  // their broadcast activations (pixel i's tap kw + 1 is pixel i + 1's tap
  // kw), so one channel vector and many pixels; a 1x1 kernel shares
  // nothing, so two channel vectors (two weight loads serve all pixels)
  // when that pads no channel.
  // The pixel block in [budget / vecs / 2, budget / vecs] pads the map
  // least (49 = 7 x 7 on AVX2); a map smaller than that (1x1) gets what
  // the budget leaves as more channel vectors.
  int64_t budget = spec.rows * spec.cols;
  int64_t vecs = kw == 1 && fg % (2 * spec.lanes) == 0 ? 2 : 1;
  auto padded = [&](int64_t p) { return llvm::divideCeil(pixels, p) * p; };
  int64_t pix = std::min(budget / vecs, pixels);
  for (int64_t p = pix; p >= std::max<int64_t>(1, budget / vecs / 2); --p)
    if (padded(p) < padded(pix))
      pix = p;
  vecs = std::clamp<int64_t>(budget / pix, vecs, fg / spec.lanes);
  int64_t channelRows = vecs * spec.lanes;
  int64_t channelPad = llvm::alignTo(fg, channelRows);
  // The useful share of the lanes computed, each way.
  double widthUse = double(fg * pixels) / double(fgPad * ohPad * owPad);
  double channelUse = double(fg * pixels) / double(channelPad * padded(pix));
  if (channelUse <= widthUse)
    return;
  channelVectors = true;
  lanes = spec.lanes;
  rows = channelRows;
  cols = hblock = 1;
  fgPad = channelPad;
  blocks = fgPad / rows;
  pixBlock = pix;
  pixPad = padded(pix);
  pixBlocks = pixPad / pix;
  owBlocks = 1;
  owPad = ow;
  ohBlocks = ohPad = oh;
}

/// Sign bit of a convolution raw code: codes are bit-packed at their width.
unsigned convSignBit(const KernelSpec &spec) {
  return spec.encoding.getBits() - 1;
}

/// Codes per chunk of the packed stream: one 8-byte load holds a chunk.
constexpr int64_t kChunk = 8;

/// Table entries of one (group, block): [c/g, kh, kw, row].
int64_t entriesPerBlock(const ConvGeometry &geo) {
  return geo.cg * geo.kh * geo.kw * geo.rows;
}

/// Packed codes in the kernels' table order [g, block, c/g, kh, kw, row],
/// `bits` bits each, little-endian (entry e at bits [bits*e, bits*(e+1))),
/// padding rows raw 0, plus 8 spare bytes. Eight entries fit in the 64
/// bits from the byte holding their first bit (7 + 8 * 7 bits at most;
/// 8-bit codes start on a byte), so the driver decodes them with one 8-byte
/// load, a shift, a broadcast and one vector shift; density costs nothing:
/// 3-bit codes take 3 bits.
DenseElementsAttr packCodes(OpBuilder &b, const KernelSpec &spec,
                            const ConvGeometry &geo) {
  unsigned bits = spec.encoding.getBits();
  std::vector<int64_t> codes = codeValues(spec);
  int64_t taps = geo.kh * geo.kw;
  int64_t entries = geo.g * geo.blocks * entriesPerBlock(geo);
  std::vector<uint8_t> packed(llvm::divideCeil(entries, kChunk) * bits + 8, 0);
  for (int64_t f = 0; f < geo.f; ++f) {
    int64_t group = f / geo.fg, block = (f % geo.fg) / geo.rows,
            r = (f % geo.fg) % geo.rows;
    int64_t first = (group * geo.blocks + block) * entriesPerBlock(geo);
    for (int64_t c = 0; c < geo.cg; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        int64_t entry = first + (c * taps + t) * geo.rows + r;
        uint32_t raw = rawCode(spec, codes[(f * geo.cg + c) * taps + t],
                               convSignBit(spec));
        size_t bit = size_t(entry) * bits;
        uint32_t shifted = raw << (bit % 8);
        packed[bit / 8] |= uint8_t(shifted);
        packed[bit / 8 + 1] |= uint8_t(shifted >> 8);
      }
  }
  std::vector<int8_t> bytes(packed.begin(), packed.end());
  auto type = RankedTensorType::get({int64_t(bytes.size())}, b.getI8Type());
  return DenseElementsAttr::get(type, ArrayRef(bytes));
}

/// f32 weights (FCHW) in the kernels' table order [g, block, c/g, kh, kw,
/// row], zero for the padding rows of the last block of each group.
DenseElementsAttr floatWeightTable(OpBuilder &b, const KernelSpec &spec,
                                   const ConvGeometry &geo,
                                   ArrayRef<int64_t> tableShape) {
  SmallVector<float> weights(spec.floatWeights.getValues<float>());
  std::vector<float> table(geo.g * geo.fgPad * geo.cg * geo.kh * geo.kw, 0.f);
  int64_t taps = geo.kh * geo.kw;
  for (int64_t f = 0; f < geo.f; ++f) {
    int64_t group = f / geo.fg, block = (f % geo.fg) / geo.rows,
            r = (f % geo.fg) % geo.rows;
    for (int64_t c = 0; c < geo.cg; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        int64_t at = (((group * geo.blocks + block) * geo.cg + c) * taps + t) *
                         geo.rows +
                     r;
        table[at] = weights[(f * geo.cg + c) * taps + t];
      }
  }
  auto type = RankedTensorType::get(tableShape, b.getF32Type());
  return DenseElementsAttr::get(type, ArrayRef(table));
}

/// The loop over a group's input channels, the accumulators its iter_args:
/// `body` updates `acc` with input channel `channel` (`icg` in the group).
scf::ForOp inputChannelLoop(
    KB &k, const ConvGeometry &geo, Value g, ValueRange init,
    function_ref<void(KB &, Value, Value, SmallVector<Value> &)> body) {
  return k.forLoop(geo.cg, init,
                   [&](OpBuilder &b, Location loc, Value icg, ValueRange accs) {
                     KB k{b, loc};
                     SmallVector<Value> acc(accs.begin(), accs.end());
                     Value channel = k.add(k.mul(g, geo.cg), icg);
                     body(k, channel, icg, acc);
                     scf::YieldOp::create(b, loc, acc);
                   });
}

/// An accumulation kernel's operands (Xp, table, Yp) and vector types.
struct AccumulationFrame {
  Value xp, table, yp;
  VectorType vecType, tableVecType;
};

/// The output-channel vector blocks: per block,
/// `pixBlock` pixels x `rows / lanes` channel vectors of accumulators; per
/// input channel and tap, one vector load of the table's `rows` entries and
/// one broadcast activation per pixel. Yp is [n, g * blocks, pixPad, rows].
/// A 1x1 convolution is then a matrix product (F x C by C x OH*OW) with
/// channel-vector weights and broadcast activations.
void emitChannelBlocks(KB &k, const KernelSpec &spec, const ConvGeometry &geo,
                       MacKind kind, const AccumulationFrame &frame) {
  Value xp = frame.xp, table = frame.table, yp = frame.yp;
  VectorType vecType = frame.vecType, tableVecType = frame.tableVecType;
  int64_t vecs = geo.rows / geo.lanes, pix = geo.pixBlock;

  k.loopNest(
      {geo.n, geo.g, geo.blocks, geo.pixBlocks},
      [&](OpBuilder &b, Location loc, ValueRange ivs) {
        KB k{b, loc};
        Value n = ivs[0], g = ivs[1], block = ivs[2];
        Value p0 = k.mul(ivs[3], pix);
        Value zero = k.splat(vecType, b.getF32FloatAttr(0));
        // Where each pixel of the block reads: its first input row and its
        // column in the phase planes. Pixels past the map (the last block's
        // padding) read the last pixel's inputs; their outputs are dropped.
        SmallVector<Value> rowOf, colOf;
        for (int64_t i = 0; i < pix; ++i) {
          Value p = k.addc(p0, i);
          if (geo.pixels % pix)
            p = arith::MinUIOp::create(b, loc, p, k.idx(geo.pixels - 1));
          rowOf.push_back(k.mul(k.div(p, geo.ow), geo.sh));
          colOf.push_back(k.rem(p, geo.ow));
        }
        // Accumulator (v, i): channel vector v, pixel p0 + i.
        SmallVector<Value> init(vecs * pix, zero);
        scf::ForOp channelLoop = inputChannelLoop(
            k, geo, g, init,
            [&](KB &k, Value channel, Value icg, SmallVector<Value> &acc) {
              OpBuilder &b = k.b;
              Location loc = k.loc;
              for (int64_t kh = 0; kh < geo.kh; ++kh) {
                for (int64_t kw = 0; kw < geo.kw; ++kw) {
                  int64_t phase = (kw * geo.dw) % geo.sw;
                  int64_t shift = (kw * geo.dw) / geo.sw;
                  SmallVector<Value> weights;
                  for (int64_t v = 0; v < vecs; ++v)
                    weights.push_back(vector::LoadOp::create(
                        b, loc, tableVecType, table,
                        ValueRange{g, block, icg, k.idx(kh), k.idx(kw),
                                   k.idx(v * geo.lanes)}));
                  for (int64_t i = 0; i < pix; ++i) {
                    Value x = memref::LoadOp::create(
                        b, loc, xp,
                        ValueRange{n, channel, k.idx(phase),
                                   k.addc(rowOf[i], kh * geo.dh),
                                   k.addc(colOf[i], shift)});
                    Value xs = vector::BroadcastOp::create(b, loc, vecType, x);
                    for (int64_t v = 0; v < vecs; ++v) {
                      Value &a = acc[v * pix + i];
                      a = accumulate(k, spec, kind, a, xs, weights[v]);
                    }
                  }
                }
              }
            });
        Value outBlock = k.add(k.mul(g, geo.blocks), block);
        for (int64_t v = 0; v < vecs; ++v)
          for (int64_t i = 0; i < pix; ++i) {
            Value acc = channelLoop.getResult(v * pix + i);
            if (kind == MacKind::ExponentAdd)
              acc = flushResidue(k, spec, acc);
            vector::StoreOp::create(
                b, loc, acc, yp,
                ValueRange{n, outBlock, k.addc(p0, i), k.idx(v * geo.lanes)});
          }
      });
}

/// The width-vector blocks: `rows` output channels x `cols` vectors of
/// `lanes` output pixels along the width x `hblock` output rows; per input
/// channel and tap, one vector load per pixel vector and one broadcast table
/// entry per channel. Yp is [n, g * fgPad, ohPad, owPad].
void emitWidthBlocks(KB &k, const KernelSpec &spec, const ConvGeometry &geo,
                     MacKind kind, const AccumulationFrame &frame) {
  Value xp = frame.xp, table = frame.table, yp = frame.yp;
  VectorType vecType = frame.vecType, tableVecType = frame.tableVecType;
  int64_t blockWidth = geo.cols * geo.lanes;

  k.loopNest(
      {geo.n, geo.g, geo.blocks, geo.ohBlocks, geo.owBlocks},
      [&](OpBuilder &b, Location loc, ValueRange ivs) {
        KB k{b, loc};
        Value n = ivs[0], g = ivs[1], block = ivs[2];
        Value oh0 = k.mul(ivs[3], geo.hblock);
        Value col0 = k.mul(ivs[4], blockWidth);
        Value zero = k.splat(vecType, b.getF32FloatAttr(0));
        // Accumulator (r, i, j): channel row r, output row oh0 + i, vector j.
        int64_t perRow = geo.hblock * geo.cols;
        SmallVector<Value> init(geo.rows * perRow, zero);
        scf::ForOp channelLoop = inputChannelLoop(
            k, geo, g, init,
            [&](KB &k, Value channel, Value icg, SmallVector<Value> &acc) {
              OpBuilder &b = k.b;
              Location loc = k.loc;
              Value row0 = k.mul(oh0, geo.sh);
              for (int64_t kh = 0; kh < geo.kh; ++kh) {
                for (int64_t kw = 0; kw < geo.kw; ++kw) {
                  int64_t phase = (kw * geo.dw) % geo.sw;
                  int64_t shift = (kw * geo.dw) / geo.sw;
                  SmallVector<Value> x;
                  for (int64_t i = 0; i < geo.hblock; ++i) {
                    Value row = k.addc(row0, i * geo.sh + kh * geo.dh);
                    for (int64_t j = 0; j < geo.cols; ++j)
                      x.push_back(vector::LoadOp::create(
                          b, loc, vecType, xp,
                          ValueRange{n, channel, k.idx(phase), row,
                                     k.addc(col0, j * geo.lanes + shift)}));
                  }
                  for (int64_t r = 0; r < geo.rows; ++r) {
                    Value weight = memref::LoadOp::create(
                        b, loc, table,
                        ValueRange{g, block, icg, k.idx(kh), k.idx(kw),
                                   k.idx(r)});
                    Value weights = vector::BroadcastOp::create(
                        b, loc, tableVecType, weight);
                    for (int64_t v = 0; v < perRow; ++v) {
                      Value &a = acc[r * perRow + v];
                      a = accumulate(k, spec, kind, a, x[v], weights);
                    }
                  }
                }
              }
            });
        for (int64_t r = 0; r < geo.rows; ++r) {
          Value groupBase = k.mul(g, geo.fgPad);
          Value blockBase = k.mul(block, geo.rows);
          Value outChannel = k.addc(k.add(groupBase, blockBase), r);
          for (int64_t v = 0; v < perRow; ++v) {
            Value acc = channelLoop.getResult(r * perRow + v);
            if (kind == MacKind::ExponentAdd)
              acc = flushResidue(k, spec, acc);
            int64_t i = v / geo.cols, j = v % geo.cols;
            vector::StoreOp::create(b, loc, acc, yp,
                                    ValueRange{n, outChannel, k.addc(oh0, i),
                                               k.addc(col0, j * geo.lanes)});
          }
        }
      });
}

/// Builds the accumulation kernel: (Xp, table, Yp) -> ().
void buildAccumulation(OpBuilder &b, func::FuncOp func, const KernelSpec &spec,
                       const ConvGeometry &geo, MacKind kind) {
  Block *entry = &func.getBody().front();
  b.setInsertionPointToStart(entry);
  KB k{b, func.getLoc()};
  Value table = entry->getArgument(1);
  Type tableElement = cast<MemRefType>(table.getType()).getElementType();
  AccumulationFrame frame{entry->getArgument(0), table, entry->getArgument(2),
                          VectorType::get({geo.lanes}, b.getF32Type()),
                          VectorType::get({geo.lanes}, tableElement)};
  if (geo.channelVectors)
    emitChannelBlocks(k, spec, geo, kind, frame);
  else
    emitWidthBlocks(k, spec, geo, kind, frame);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, func.getLoc());
}

/// Driver step 1: copies the input once into a zero-padded buffer split
/// into `stride_w` phase planes (so every strided row is contiguous),
/// scanning it for the fast kernel's precondition. Returns {Xp, safe}.
std::pair<Value, Value> stageConvInput(KB &k, const KernelSpec &spec,
                                       const ConvGeometry &geo,
                                       const DriverArgs &args,
                                       MemRefType xpType) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Type f32 = b.getF32Type();
  Value input = args.input, limit = args.limit;
  // 1. Copy into the padded phase planes, scanning for the precondition.
  //    Only padding must read as zero: without it, every position a
  //    real output reads is copied, and what lies beyond feeds only the
  //    dropped padding outputs (float ops on any bits do not trap).
  //    Unit stride zeroes just the padding, in the copy loop; other
  //    strides zero the whole buffer first.
  bool padded = geo.pt || geo.pl || geo.pb || geo.pr;
  Value xp =
      padded && geo.sw != 1
          ? k.zeroBuffer(xpType)
          : memref::AllocOp::create(b, loc, xpType, b.getI64IntegerAttr(64))
                .getResult();
  Value safe;
  if (geo.sw == 1) {
    // Unit stride: one phase plane, so each input row is a contiguous
    // run of the padded row. Whole vectors (a masked one for the
    // tail), scanned lane-wise and reduced once.
    auto vecType = VectorType::get({geo.lanes}, f32);
    auto maskType = VectorType::get({geo.lanes}, b.getI1Type());
    Value allSafe = k.splat(maskType, b.getBoolAttr(true));
    Value zeros = k.splat(vecType, b.getF32FloatAttr(0));
    // Zero vectors over columns [from, to) of xp[n, c, 0, row].
    auto zeroSpan = [&](KB &k, ValueRange nc, Value row, int64_t from,
                        int64_t to) {
      for (int64_t col = from; col < to; col += geo.lanes) {
        SmallVector<Value> at = {nc[0], nc[1], k.idx(0), row, k.idx(col)};
        int64_t valid = std::min<int64_t>(geo.lanes, to - col);
        if (valid == geo.lanes) {
          vector::StoreOp::create(k.b, k.loc, zeros, xp, at);
          continue;
        }
        Value mask = vector::CreateMaskOp::create(k.b, k.loc, maskType,
                                                  ValueRange{k.idx(valid)});
        vector::MaskedStoreOp::create(k.b, k.loc, xp, at, mask, zeros);
      }
    };
    // Rows above and below the input (and the rows padding the
    // height to whole output row blocks).
    if (geo.hp > geo.h)
      k.loopNest({geo.n, geo.c},
                 [&](OpBuilder &b, Location loc, ValueRange nc) {
                   KB k{b, loc};
                   for (int64_t r = 0; r < geo.hp; ++r)
                     if (r < geo.pt || r >= geo.pt + geo.h)
                       zeroSpan(k, nc, k.idx(r), 0, geo.wq);
                 });
    SmallVector<Value> scan = k.loopNest(
        {geo.n, geo.c, geo.h}, ValueRange{allSafe},
        [&](OpBuilder &b, Location loc, ValueRange ivs, ValueRange iter) {
          KB k{b, loc};
          Value acc = iter[0];
          Value row = k.addc(ivs[2], geo.pt);
          // The left and right padding of this row.
          zeroSpan(k, ivs, row, 0, geo.pl);
          zeroSpan(k, ivs, row, geo.pl + geo.w, geo.wq);
          for (int64_t col = 0; col < geo.w; col += geo.lanes) {
            SmallVector<Value> from = {ivs[0], ivs[1], ivs[2], k.idx(col)};
            SmallVector<Value> to = {ivs[0], ivs[1], k.idx(0), row,
                                     k.idx(col + geo.pl)};
            int64_t valid = std::min<int64_t>(geo.lanes, geo.w - col);
            Value value;
            if (valid == geo.lanes) {
              value = vector::LoadOp::create(b, loc, vecType, input, from);
              vector::StoreOp::create(b, loc, value, xp, to);
            } else {
              // Lanes past the row read as +0, which the scan accepts.
              Value mask = vector::CreateMaskOp::create(
                  b, loc, maskType, ValueRange{k.idx(valid)});
              value = vector::MaskedLoadOp::create(b, loc, vecType, input, from,
                                                   mask, zeros);
              vector::MaskedStoreOp::create(b, loc, xp, to, mask, value);
            }
            if (spec.hasFallback())
              acc = scanActivation(k, spec, value, acc, limit);
          }
          return scf::ValueVector{acc};
        });
    safe = vector::ReductionOp::create(b, loc, vector::CombiningKind::AND,
                                       scan.front());
  } else {
    Value trueValue = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
    SmallVector<Value> scan = k.loopNest(
        {geo.n, geo.c, geo.h, geo.w}, ValueRange{trueValue},
        [&](OpBuilder &b, Location loc, ValueRange ivs, ValueRange iter) {
          KB k{b, loc};
          Value value = memref::LoadOp::create(b, loc, input, ivs);
          Value wp = k.addc(ivs[3], geo.pl);
          Value phase = k.rem(wp, geo.sw);
          Value row = k.addc(ivs[2], geo.pt);
          Value col = k.div(wp, geo.sw);
          memref::StoreOp::create(b, loc, value, xp,
                                  ValueRange{ivs[0], ivs[1], phase, row, col});
          if (!spec.hasFallback())
            return scf::ValueVector{iter[0]};
          return scf::ValueVector{
              scanActivation(k, spec, value, iter[0], limit)};
        });
    safe = scan.front();
  }

  return {xp, safe};
}

/// Driver step 3, in the dispatch branch of its kernel: decodes the packed
/// codes into `table`, shift words (`words`) or exact f32 weights
/// alpha * s * 2^e.
void decodeConvTable(OpBuilder &b, Location loc, const KernelSpec &spec,
                     const ConvGeometry &geo, const DriverArgs &args,
                     Value table, bool words) {
  KB k{b, loc};
  unsigned bits = spec.encoding.getBits();
  int64_t perBlock = entriesPerBlock(geo);
  int64_t chunks = llvm::divideCeil(perBlock, kChunk);
  auto i64Type = VectorType::get({kChunk}, b.getI64Type());
  auto i32Type = VectorType::get({kChunk}, b.getI32Type());
  auto f32Type = VectorType::get({kChunk}, b.getF32Type());
  auto maskType = VectorType::get({kChunk}, b.getI1Type());
  // Entry i of a chunk: (bits >> bits * i) & (2^bits - 1).
  SmallVector<int64_t> shifts;
  SmallVector<int32_t> lanes;
  for (int64_t i = 0; i < kChunk; ++i) {
    shifts.push_back(int64_t(bits) * i);
    lanes.push_back(int32_t(i));
  }
  Value shiftBy = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i64Type, ArrayRef(shifts)));
  Value fieldMask = k.splat(i32Type, b.getI32IntegerAttr((1 << bits) - 1));
  Value laneIds = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i32Type, ArrayRef(lanes)));
  Value rowCount = k.splat(i32Type, b.getI32IntegerAttr(int32_t(geo.rows)));
  Value groupSize = k.splat(i32Type, b.getI32IntegerAttr(int32_t(geo.fg)));
  Value zeros = k.splat(f32Type, b.getF32FloatAttr(0));
  Value flat = memref::CollapseShapeOp::create(
      b, loc, table, SmallVector<ReassociationIndices>{{0, 1, 2, 3, 4, 5}});
  k.loopNest({geo.g * geo.blocks, chunks}, [&](OpBuilder &b, Location loc,
                                               ValueRange ivs) {
    KB k{b, loc};
    Value gb = ivs[0];
    Value first = k.mul(ivs[1], kChunk); // in the block
    Value entry = k.add(k.mul(gb, perBlock), first);
    // Eight codes from the 8 bytes at the chunk's first bit, shifted to its
    // bit offset (see packCodes: they fit in 64 bits).
    Value bit = k.mul(entry, bits);
    Value bytes =
        vector::LoadOp::create(b, loc, VectorType::get({kChunk}, b.getI8Type()),
                               args.packed, ValueRange{k.div(bit, 8)});
    Value word = vector::ExtractOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI64Type()),
                                  bytes),
        0);
    Value offset =
        arith::IndexCastOp::create(b, loc, b.getI64Type(), k.rem(bit, 8));
    Value aligned = arith::ShRUIOp::create(b, loc, word, offset);
    Value all = vector::BroadcastOp::create(b, loc, i64Type, aligned);
    Value fields = arith::TruncIOp::create(
        b, loc, i32Type, arith::ShRUIOp::create(b, loc, all, shiftBy));
    Value raw = arith::AndIOp::create(b, loc, fields, fieldMask);
    Value decoded;
    if (words) {
      decoded = decodeWord(k, spec, raw, convSignBit(spec));
    } else {
      // Entry e of the block is row e % rows: channel group * fg +
      // block * rows + row; padding rows get alpha 0.
      Value firstRow = k.mul(k.rem(gb, geo.blocks), geo.rows);
      Value groupBase = k.mul(k.div(gb, geo.blocks), geo.fg);
      auto lanesOf = [&](Value index) -> Value {
        Value scalar =
            arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
        return vector::BroadcastOp::create(b, loc, i32Type, scalar);
      };
      Value e = arith::AddIOp::create(b, loc, lanesOf(first), laneIds);
      Value row = arith::RemUIOp::create(b, loc, e, rowCount);
      Value rowInGroup = arith::AddIOp::create(b, loc, lanesOf(firstRow), row);
      Value real = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         rowInGroup, groupSize);
      Value alpha = vector::GatherOp::create(b, loc, f32Type, args.alpha,
                                             ValueRange{groupBase}, rowInGroup,
                                             real, zeros);
      decoded = arith::MulFOp::create(
          b, loc, decodeWeight(k, spec, raw, convSignBit(spec)), alpha);
    }
    if (perBlock % kChunk == 0) {
      vector::StoreOp::create(b, loc, decoded, flat, ValueRange{entry});
      return;
    }
    // The block's last chunk is partial.
    Value left = arith::SubIOp::create(b, loc, k.idx(perBlock), first);
    Value count = arith::MinUIOp::create(b, loc, left, k.idx(kChunk));
    Value mask =
        vector::CreateMaskOp::create(b, loc, maskType, ValueRange{count});
    vector::MaskedStoreOp::create(b, loc, flat, ValueRange{entry}, mask,
                                  decoded);
  });
}

/// Driver step 4: scales each output channel by alpha * 2^emin if the
/// exponent-add kernel ran (the f32 kernels' weights already hold alpha),
/// applies the epilogue and writes the NCHW output.
void writeConvOutput(KB &k, const KernelSpec &spec, const ConvGeometry &geo,
                     const DriverArgs &args, Value yp, Value ranExponentAdd) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value output = args.output, alpha = args.alpha;
  // 4. Scale each output channel by alpha * 2^emin if the exponent-add
  //    kernel ran (the f32 kernels' weights already hold alpha).
  // With channel vectors, an output row's accumulators are `rows`
  // apart in Yp: gathered from a flat view of it.
  Value ypFlat, gatherStride;
  if (geo.channelVectors) {
    ypFlat = memref::CollapseShapeOp::create(
        b, loc, yp, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
    SmallVector<int32_t> strides;
    for (int64_t i = 0; i < geo.lanes; ++i)
      strides.push_back(int32_t(i * geo.rows));
    auto indexType = VectorType::get({geo.lanes}, b.getI32Type());
    gatherStride = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(indexType, ArrayRef(strides)));
  }
  k.loopNest({geo.n, geo.f}, [&](OpBuilder &b, Location loc, ValueRange nf) {
    KB k{b, loc};
    Value groupBase = k.mul(k.div(nf[1], geo.fg), geo.fgPad);
    Value channel = k.add(groupBase, k.rem(nf[1], geo.fg));
    Value layerAlpha = memref::LoadOp::create(b, loc, alpha, ValueRange{nf[1]});
    Value scale = arith::SelectOp::create(b, loc, ranExponentAdd, layerAlpha,
                                          k.f32(1.0f));
    // Whole vectors along each output row (a masked store for the
    // tail): left to itself, LLVM vectorizes across channels with
    // gathers and scatters.
    auto vecType = VectorType::get({geo.lanes}, b.getF32Type());
    Value scales = vector::BroadcastOp::create(b, loc, vecType, scale);
    k.loopNest({geo.oh}, [&](OpBuilder &b, Location loc, ValueRange ohs) {
      KB k{b, loc};
      for (int64_t col = 0; col < geo.ow; col += geo.lanes) {
        SmallVector<Value> at = {nf[0], nf[1], ohs[0], k.idx(col)};
        int64_t valid = std::min<int64_t>(geo.lanes, geo.ow - col);
        auto maskType = VectorType::get({geo.lanes}, b.getI1Type());
        Value acc;
        if (geo.channelVectors) {
          // Yp[n, block, oh * ow + col + i, r] for lane i (one
          // statement per op: the IR order must not depend on the
          // C++ compiler's argument evaluation order).
          Value inGroup = k.rem(nf[1], geo.fg);
          Value groupBlocks = k.mul(k.div(nf[1], geo.fg), geo.blocks);
          Value outBlock = k.add(groupBlocks, k.div(inGroup, geo.rows));
          Value pixel = k.addc(k.mul(ohs[0], geo.ow), col);
          Value flat = k.mul(nf[0], geo.g * geo.blocks);
          flat = k.mul(k.add(flat, outBlock), geo.pixPad);
          flat = k.mul(k.add(flat, pixel), geo.rows);
          flat = k.add(flat, k.rem(inGroup, geo.rows));
          Value mask = vector::CreateMaskOp::create(b, loc, maskType,
                                                    ValueRange{k.idx(valid)});
          acc = vector::GatherOp::create(
              b, loc, vecType, ypFlat, ValueRange{flat}, gatherStride, mask,
              k.splat(vecType, b.getF32FloatAttr(0)));
        } else {
          acc = vector::LoadOp::create(
              b, loc, vecType, yp,
              ValueRange{nf[0], channel, ohs[0], k.idx(col)});
        }
        Value scaled = arith::MulFOp::create(b, loc, acc, scales);
        Value shortcut;
        if (spec.residual) {
          Value residual = args.residual;
          if (valid == geo.lanes) {
            shortcut = vector::LoadOp::create(b, loc, vecType, residual, at);
          } else {
            Value mask = vector::CreateMaskOp::create(b, loc, maskType,
                                                      ValueRange{k.idx(valid)});
            shortcut = vector::MaskedLoadOp::create(
                b, loc, vecType, residual, at, mask,
                k.splat(vecType, b.getF32FloatAttr(0)));
          }
        }
        if (spec.hasEpilogue())
          scaled = applyEpilogue(k, spec, scaled, args.bias, nf[1], shortcut);
        if (valid == geo.lanes) {
          vector::StoreOp::create(b, loc, scaled, output, at);
          continue;
        }
        Value mask = vector::CreateMaskOp::create(b, loc, maskType,
                                                  ValueRange{k.idx(valid)});
        vector::MaskedStoreOp::create(b, loc, output, at, mask, scaled);
      }
    });
  });
}

} // namespace

LogicalResult kernel::generateConv2D(KernelSpec spec) {
  func::FuncOp layer = spec.func;
  ConvGeometry geo = ConvGeometry::make(spec);
  spec.fanIn = geo.cg * geo.kh * geo.kw;
  if (spec.isFloat() && spec.floatWeights.getType().getRank() != 4)
    return layer.emitError("f32 convolution weights must be F x C x KH x KW");
  if (geo.f % geo.g != 0 || geo.c != geo.cg * geo.g)
    return layer.emitError("inconsistent convolution kernel description");
  OpBuilder b(layer.getContext());
  Type f32 = b.getF32Type(), i32 = b.getI32Type();

  auto xpType = MemRefType::get({geo.n, geo.c, geo.sw, geo.hp, geo.wq}, f32);
  auto ypType =
      geo.channelVectors
          ? MemRefType::get({geo.n, geo.g * geo.blocks, geo.pixPad, geo.rows},
                            f32)
          : MemRefType::get({geo.n, geo.g * geo.fgPad, geo.ohPad, geo.owPad},
                            f32);
  SmallVector<int64_t> tableShape = {geo.g,  geo.blocks, geo.cg,
                                     geo.kh, geo.kw,     geo.rows};
  auto wordTableType = MemRefType::get(tableShape, i32);
  auto weightTableType = MemRefType::get(tableShape, f32);

  bool wordTables = spec.fastKernel() == MacKind::ExponentAdd;
  bool weightTables = !wordTables || spec.hasFallback();
  // Kernels and drivers are shared by layers with the same key, so the key
  // spells out every field of the geometry (and the spec's blocking).
  std::string key = geo.key() + "_" + specKey(spec);
  auto kernels = createKernels(
      b, spec, "conv2d", key,
      [&](MacKind kind) -> SmallVector<Type> {
        Type table =
            kind == MacKind::ExponentAdd ? wordTableType : weightTableType;
        return {xpType, table, ypType};
      },
      [&](func::FuncOp func, MacKind kind) {
        buildAccumulation(b, func, spec, geo, kind);
      });

  // The driver also depends on the code format it decodes.
  std::string driverKey =
      spec.isFloat() ? key + "_f32"
                     : key + "_b" + std::to_string(spec.encoding.getBits()) +
                           (spec.encoding.getZeroFree() ? "z" : "w") +
                           (spec.fastMode ? "_fast" : "");
  driverKey += epilogueKey(spec) + "_driver";
  auto alphaType = RankedTensorType::get({geo.f}, f32);
  // The driver: the shared skeleton (buildDriver) with the convolution's
  // staging, tables and output.
  DriverRecipe recipe;
  recipe.accumulators = ypType;
  recipe.stage = [&](KB &k, const DriverArgs &args) {
    return stageConvInput(k, spec, geo, args, xpType);
  };
  // 2. The tables the kernels read: shift words for the exponent add, exact
  //    f32 weights alpha * s * 2^e otherwise, decoded from the packed codes
  //    in the branch that calls their kernel (so a call decodes one table,
  //    not both). f32-weight layers pass their table in place of packed
  //    codes.
  recipe.scratch = [&](KB &k, const DriverArgs &) {
    auto newTable = [&](MemRefType type) -> Value {
      return memref::AllocOp::create(k.b, k.loc, type,
                                     k.b.getI64IntegerAttr(64));
    };
    Value wordTable = wordTables ? newTable(wordTableType) : Value();
    Value weightTable =
        weightTables && !spec.isFloat() ? newTable(weightTableType) : Value();
    return SmallVector<Value>{wordTable, weightTable};
  };
  recipe.weights = [&](OpBuilder &b, Location loc, const DriverArgs &args,
                       MacKind kind, ArrayRef<Value> tables) {
    bool words = kind == MacKind::ExponentAdd;
    Value table = words ? tables[0] : spec.isFloat() ? args.packed : tables[1];
    if (!spec.isFloat())
      decodeConvTable(b, loc, spec, geo, args, table, words);
    return SmallVector<Value>{table};
  };
  recipe.epilogue = [&](KB &k, const DriverArgs &args, Value yp,
                        Value ranExponentAdd) {
    writeConvOutput(k, spec, geo, args, yp, ranExponentAdd);
  };
  defineWithSharedDriver(
      spec, "conv2d", driverKey,
      spec.isFloat() ? floatWeightTable(b, spec, geo, tableShape)
                     : packCodes(b, spec, geo),
      DenseElementsAttr::get(alphaType, ArrayRef(spec.alpha)),
      [&](func::FuncOp driver) { buildDriver(driver, spec, kernels, recipe); });
  return success();
}
