//===- driver.cpp - Time every candidate of one layer in one process ------===//
//
// Usage:
//   bench-driver LAYER_DIR [options] CANDIDATE...
//
// LAYER_DIR is what bench/gen.py wrote (layer.json, input.bin, weight.bin,
// expected.bin). A CANDIDATE is either
//   NAME=PATH.so   a compiled `void forward(const float *, float *)` in a
//                  shared object (dlopen'ed; each .so gets its own namespace)
//   onednn-auto | onednn-direct | onednn-direct+reorder    (convolutions)
//   onednn-ip | onednn-matmul                              (fully connected)
//
// Options:
//   --flush          touch a 128 MiB buffer before every timed call, so
//                    weights come from DRAM (for layer C)
//   --tag TEXT       the layer name printed in the results (default: dir)
//   --min-runs N     timed samples per candidate, at least (default 10)
//   --min-time S     and sampling for at least S seconds per candidate, up
//                    to 200 samples (default 0.3)
//   --json PATH      append one JSON object per candidate to PATH
//
// Method: every candidate is set up, checked and warmed up; then all are
// timed interleaved in 5 rounds (each round takes 1/5 of every candidate's
// samples and time). Without --flush a sample repeats the call
// enough times to last >= 200 us and is divided by the repeat count (layer E
// takes ~1 us); with --flush a sample is exactly one call after the flush.
// Before timing, the output buffer is filled with NaN and the first call's
// result is checked against the float64 reference: error = max|y - ref| /
// max|ref| must be <= 1e-5 (docs/abi.md) and every element finite, else the
// candidate is reported WRONG (its time is still printed, but never as a
// result). The last timed call's output is checked again.
//
// A candidate that cannot be set up (unknown name, missing .so, oneDNN
// refusing the descriptor) is reported as ERROR with the reason; the others
// still run.
//
//===----------------------------------------------------------------------===//

#include <dlfcn.h>
#ifdef DS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTolerance = 1e-5;

// ---------------------------------------------------------------------------
// Tiny helpers: files and a flat JSON reader good enough for layer.json.
// ---------------------------------------------------------------------------

std::vector<char> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return std::vector<char>((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
}

template <typename T> std::vector<T> readArray(const std::string &path) {
  std::vector<char> bytes = readFile(path);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

// The value after "key": in a flat JSON object (numbers, strings, arrays of
// numbers). Enough for the layer.json that gen.py writes.
std::string jsonField(const std::string &text, const std::string &key) {
  size_t at = text.find("\"" + key + "\"");
  if (at == std::string::npos)
    return "";
  at = text.find(':', at) + 1;
  while (text[at] == ' ' || text[at] == '\n')
    ++at;
  size_t end = at;
  if (text[at] == '[')
    end = text.find(']', at) + 1;
  else if (text[at] == '"')
    end = text.find('"', at + 1) + 1;
  else
    end = text.find_first_of(",}\n", at);
  return text.substr(at, end - at);
}

std::vector<long> jsonInts(const std::string &text, const std::string &key) {
  std::string value = jsonField(text, key);
  std::vector<long> out;
  for (char &c : value)
    if (c == '[' || c == ']' || c == ',')
      c = ' ';
  std::istringstream in(value);
  long v;
  while (in >> v)
    out.push_back(v);
  return out;
}

std::string jsonString(const std::string &text, const std::string &key) {
  std::string v = jsonField(text, key);
  if (v.size() >= 2 && v.front() == '"')
    return v.substr(1, v.size() - 2);
  return v;
}

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The layer.
// ---------------------------------------------------------------------------

struct Layer {
  std::string dir, name, kind;
  bool nhwc = false; // conv activations N x H x W x C in the files
  std::vector<long> inShape, outShape, weightShape, kernel, stride, pad;
  long groups = 1, macs = 0;
  std::vector<float> input, weight;
  std::vector<double> expected;
  size_t inCount = 0, outCount = 0;
};

Layer loadLayer(const std::string &dir) {
  Layer l;
  l.dir = dir;
  std::vector<char> raw = readFile(dir + "/layer.json");
  std::string meta(raw.begin(), raw.end());
  l.name = jsonString(meta, "name");
  l.kind = jsonString(meta, "kind");
  l.inShape = jsonInts(meta, "input_shape");
  l.outShape = jsonInts(meta, "output_shape");
  l.weightShape = jsonInts(meta, "weight_shape");
  l.macs = std::atol(jsonField(meta, "macs").c_str());
  if (l.kind == "conv") {
    l.kernel = jsonInts(meta, "kernel");
    l.stride = jsonInts(meta, "stride");
    l.pad = jsonInts(meta, "pad");
    l.groups = std::atol(jsonField(meta, "groups").c_str());
    l.nhwc = jsonString(meta, "layout") == "nhwc";
  }
  l.input = readArray<float>(dir + "/input.bin");
  // Only the oneDNN candidates need the f32 weights; models have none.
  if (std::ifstream(dir + "/weight.bin").good())
    l.weight = readArray<float>(dir + "/weight.bin");
  l.expected = readArray<double>(dir + "/expected.bin");
  l.inCount = l.outCount = 1;
  for (long d : l.inShape)
    l.inCount *= d;
  for (long d : l.outShape)
    l.outCount *= d;
  if (l.input.size() != l.inCount || l.expected.size() != l.outCount)
    throw std::runtime_error(dir + ": input/expected sizes do not match layer.json");
  return l;
}

// ---------------------------------------------------------------------------
// Candidates: something that computes output from input.
// ---------------------------------------------------------------------------

struct Candidate {
  std::string name, info;
  // Runs once; reads `in`, writes `out` (both dense row-major f32).
  std::function<void(const float *in, float *out)> run;
  // Optional: converts the candidate's own output to plain row-major
  // before the check (oneDNN's blocked layouts); otherwise `out` is read.
  std::function<void(float *out)> fetch;
};

using ForwardFn = void (*)(const float *, float *);

Candidate sharedObject(const std::string &name, const std::string &path) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw std::runtime_error(std::string("dlopen: ") + dlerror());
  auto fn = reinterpret_cast<ForwardFn>(dlsym(handle, "forward"));
  if (!fn)
    throw std::runtime_error(path + " exports no 'forward'");
  Candidate c;
  c.name = name;
  c.info = path;
  c.run = [fn](const float *in, float *out) { fn(in, out); };
  // The reentrant form on a workspace held across calls, as an application
  // that calls the model in a loop would (runtime/denseshift_runtime.h).
  using WsFn = int (*)(const float *, float *, void *);
  using SizeFn = size_t (*)();
  auto wsFn = reinterpret_cast<WsFn>(dlsym(handle, "forward_ws"));
  auto sizeFn = reinterpret_cast<SizeFn>(dlsym(handle, "forward_workspace_size"));
  if (wsFn && sizeFn) {
    size_t bytes = sizeFn();
    std::shared_ptr<void> ws(std::aligned_alloc(64, (bytes / 64 + 1) * 64),
                             std::free);
    c.info += " (forward_ws)";
    c.run = [wsFn, ws](const float *in, float *out) {
      if (wsFn(in, out, ws.get()) != 0)
        throw std::runtime_error("forward_ws refused its workspace");
    };
  }
  return c;
}

#ifdef DS_HAVE_DNNL
// oneDNN state shared by the candidates of one process.
struct Dnnl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::memory::dims dims(const std::vector<long> &v) {
  return dnnl::memory::dims(v.begin(), v.end());
}

// Reorders `from` into a new memory of `md` when layouts differ.
dnnl::memory prepare(Dnnl &d, dnnl::memory from, const dnnl::memory::desc &md) {
  if (from.get_desc() == md)
    return from;
  dnnl::memory to(md, d.engine);
  dnnl::reorder(from, to).execute(d.stream, from, to);
  d.stream.wait();
  return to;
}

// Convolution. `algo` is convolution_auto or convolution_direct; `reorders`
// times the src/dst reorders between plain NCHW and oneDNN's chosen layout
// too (what a caller holding NCHW buffers pays), otherwise only the
// primitive on its preferred layouts is timed (how benchdnn measures; a
// network keeps its activations blocked between layers).
Candidate onednnConv(std::shared_ptr<Dnnl> d, const Layer &l, dnnl::algorithm algo,
                     bool reorders, const std::string &name) {
  if (l.kind != "conv")
    throw std::runtime_error(name + " needs a convolution layer (use onednn-ip / onednn-matmul)");
  if (l.weight.empty())
    throw std::runtime_error(l.dir + "/weight.bin is missing");
  long g = l.groups;
  dnnl::memory::dims wdims;
  tag wtag;
  if (g == 1) {
    wdims = dims(l.weightShape);
    wtag = tag::oihw;
  } else {
    long o = l.weightShape[0], i = l.weightShape[1];
    wdims = {g, o / g, i, l.weightShape[2], l.weightShape[3]};
    wtag = tag::goihw;
  }
  // oneDNN's dims are N, C, H, W whatever the memory layout.
  auto logical = [&](const std::vector<long> &shape) {
    return l.nhwc ? dnnl::memory::dims{shape[0], shape[3], shape[1], shape[2]}
                  : dims(shape);
  };
  tag userTag = l.nhwc ? tag::nhwc : tag::nchw;
  dnnl::memory::desc srcAny(logical(l.inShape), dt::f32, tag::any);
  dnnl::memory::desc dstAny(logical(l.outShape), dt::f32, tag::any);
  dnnl::memory::desc wAny(wdims, dt::f32, tag::any);
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, algo, srcAny, wAny, dstAny,
      dims(l.stride), dims(l.pad), dims(l.pad));
  dnnl::convolution_forward::primitive_desc pd(desc, d->engine);

  auto userSrc = std::make_shared<dnnl::memory>(
      dnnl::memory::desc(logical(l.inShape), dt::f32, userTag), d->engine);
  auto userDst = std::make_shared<dnnl::memory>(
      dnnl::memory::desc(logical(l.outShape), dt::f32, userTag), d->engine);
  dnnl::memory userW({wdims, dt::f32, wtag}, d->engine,
                     const_cast<float *>(l.weight.data()));
  auto w = std::make_shared<dnnl::memory>(prepare(*d, userW, pd.weights_desc()));
  if (w->get_data_handle() == userW.get_data_handle()) { // own the bytes
    auto copy = std::make_shared<dnnl::memory>(pd.weights_desc(), d->engine);
    std::memcpy(copy->get_data_handle(), l.weight.data(), l.weight.size() * 4);
    w = copy;
  }
  auto src = std::make_shared<dnnl::memory>(pd.src_desc(), d->engine);
  auto dst = std::make_shared<dnnl::memory>(pd.dst_desc(), d->engine);
  auto conv = std::make_shared<dnnl::convolution_forward>(pd);
  bool srcPlain = pd.src_desc() == userSrc->get_desc();
  bool dstPlain = pd.dst_desc() == userDst->get_desc();
  auto toSrc = std::make_shared<dnnl::reorder>(*userSrc, *src);
  auto fromDst = std::make_shared<dnnl::reorder>(*dst, *userDst);
  size_t inBytes = l.inCount * 4, outBytes = l.outCount * 4;

  Candidate c;
  c.name = name;
  c.info = std::string(pd.impl_info_str()) + (srcPlain ? " src:plain" : " src:blocked") +
           (dstPlain ? " dst:plain" : " dst:blocked");
  // Without reorders the input is staged into oneDNN's layout once, outside
  // the timed call; `in` is the same buffer on every call.
  auto staged = std::make_shared<const float *>(nullptr);
  c.run = [=](const float *in, float *out) {
    if (reorders || *staged != in) {
      std::memcpy(userSrc->get_data_handle(), in, inBytes);
      toSrc->execute(d->stream, *userSrc, *src);
      *staged = in;
    }
    conv->execute(d->stream, {{DNNL_ARG_SRC, *src},
                              {DNNL_ARG_WEIGHTS, *w},
                              {DNNL_ARG_DST, *dst}});
    if (reorders) {
      fromDst->execute(d->stream, *dst, *userDst);
      std::memcpy(out, userDst->get_data_handle(), outBytes);
    }
    d->stream.wait();
  };
  c.fetch = [=](float *out) {
    fromDst->execute(d->stream, *dst, *userDst);
    d->stream.wait();
    std::memcpy(out, userDst->get_data_handle(), outBytes);
  };
  return c;
}

// Fully connected, y (MxN) = x (MxK) * W^T with W stored N x K (PyTorch).
Candidate onednnFc(std::shared_ptr<Dnnl> d, const Layer &l, bool matmul,
                   const std::string &name) {
  if (l.kind != "fc")
    throw std::runtime_error(name + " needs a fully connected layer (use onednn-auto / onednn-direct)");
  if (l.weight.empty())
    throw std::runtime_error(l.dir + "/weight.bin is missing");
  long m = l.inShape[0], k = l.inShape[1], n = l.outShape[1];
  dnnl::memory::desc srcMd({m, k}, dt::f32, tag::ab);
  dnnl::memory::desc dstMd({m, n}, dt::f32, tag::ab);
  std::shared_ptr<dnnl::primitive> prim;
  dnnl::memory::desc wDesc;
  dnnl::memory userW;
  std::string info;
  if (matmul) {
    dnnl::memory::desc wAny({k, n}, dt::f32, tag::any);
    dnnl::matmul::desc desc(srcMd, wAny, dstMd);
    dnnl::matmul::primitive_desc pd(desc, d->engine);
    prim = std::make_shared<dnnl::matmul>(pd);
    wDesc = pd.weights_desc();
    userW = dnnl::memory({{k, n}, dt::f32, tag::ba}, d->engine,
                         const_cast<float *>(l.weight.data()));
    info = pd.impl_info_str();
  } else {
    dnnl::memory::desc wAny({n, k}, dt::f32, tag::any);
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           srcMd, wAny, dstMd);
    dnnl::inner_product_forward::primitive_desc pd(desc, d->engine);
    prim = std::make_shared<dnnl::inner_product_forward>(pd);
    wDesc = pd.weights_desc();
    userW = dnnl::memory({{n, k}, dt::f32, tag::ab}, d->engine,
                         const_cast<float *>(l.weight.data()));
    info = pd.impl_info_str();
  }
  auto w = std::make_shared<dnnl::memory>(wDesc, d->engine);
  dnnl::reorder(userW, *w).execute(d->stream, userW, *w);
  d->stream.wait();
  Candidate c;
  c.name = name;
  c.info = info;
  c.run = [=](const float *in, float *out) {
    dnnl::memory src(srcMd, d->engine, const_cast<float *>(in));
    dnnl::memory dst(dstMd, d->engine, out);
    prim->execute(d->stream, {{DNNL_ARG_SRC, src},
                              {DNNL_ARG_WEIGHTS, *w},
                              {DNNL_ARG_DST, dst}});
    d->stream.wait();
  };
  return c;
}

#endif // DS_HAVE_DNNL

// ---------------------------------------------------------------------------
// Checking and timing.
// ---------------------------------------------------------------------------

struct Check {
  double error = INFINITY;
  long nonFinite = 0;
  bool ok() const { return nonFinite == 0 && error <= kTolerance; }
};

Check check(const Layer &l, const float *y) {
  double scale = 0, worst = 0;
  Check c;
  for (size_t i = 0; i < l.outCount; ++i)
    scale = std::max(scale, std::fabs(l.expected[i]));
  for (size_t i = 0; i < l.outCount; ++i) {
    if (!std::isfinite(y[i])) {
      ++c.nonFinite;
      continue;
    }
    worst = std::max(worst, std::fabs((double)y[i] - l.expected[i]));
  }
  c.error = scale > 0 ? worst / scale : worst;
  return c;
}

struct Flusher {
  std::vector<unsigned char> buffer;
  unsigned char round = 0;
  explicit Flusher(bool on) {
    if (on)
      buffer.assign(128u << 20, 1);
  }
  void operator()() {
    if (buffer.empty())
      return;
    ++round;
    for (size_t i = 0; i < buffer.size(); i += 64)
      buffer[i] += round;
    // keep the loop from being dropped
    asm volatile("" ::"r"(buffer.data()) : "memory");
  }
};

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Options {
  bool flush = false;
  int minRuns = 10;
  double minTime = 0.3;
  std::string tag, json;
};

void report(const Options &o, const Layer &l, const std::string &name,
            const std::string &status, const std::string &info,
            const std::vector<double> &times, const Check &chk, int repeat) {
  std::vector<double> t = times;
  std::sort(t.begin(), t.end());
  double med = t.empty() ? NAN
                         : (t.size() % 2 ? t[t.size() / 2]
                                         : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]));
  double lo = t.empty() ? NAN : t.front(), hi = t.empty() ? NAN : t.back();
  std::printf("  %-22s %-6s", name.c_str(), status.c_str());
  if (!t.empty())
    std::printf(" median %10.1f us  min %10.1f  max %10.1f  %7.2f GMAC/s  err %.1e",
                med * 1e6, lo * 1e6, hi * 1e6, l.macs / med * 1e-9, chk.error);
  std::printf("  [%s]\n", info.c_str());
  std::fflush(stdout);
  if (o.json.empty())
    return;
  FILE *f = std::fopen(o.json.c_str(), "a");
  if (!f)
    return;
  std::fprintf(f,
               "{\"layer\": \"%s\", \"candidate\": \"%s\", \"status\": \"%s\", "
               "\"info\": \"%s\", \"flush\": %s, \"runs\": %zu, \"repeat\": %d",
               escape(o.tag).c_str(), escape(name).c_str(), status.c_str(),
               escape(info).c_str(), o.flush ? "true" : "false", t.size(), repeat);
  if (!t.empty())
    std::fprintf(f,
                 ", \"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g, "
                 "\"gmacs\": %.6g, \"error\": %.6g, \"non_finite\": %ld",
                 med, lo, hi, l.macs / med * 1e-9, chk.error, chk.nonFinite);
  std::fprintf(f, "}\n");
  std::fclose(f);
}

// One candidate under measurement.
struct Live {
  Candidate c;
  std::vector<float> in, out;
  Check first;
  bool inputIntact = true;
  int repeat = 1;
  std::vector<double> times;
};

// Setup: the correctness call on a NaN-filled output, then warm-up (>= 2
// calls and >= 50 ms), which also gives the time of one call.
void prepare(const Options &o, const Layer &l, Live &v, Flusher &flush) {
  v.in = l.input; // private copy, also detects writes to the input
  v.out.assign(l.outCount, NAN);
  v.c.run(v.in.data(), v.out.data());
  if (v.c.fetch)
    v.c.fetch(v.out.data());
  v.first = check(l, v.out.data());
  v.inputIntact = std::memcmp(v.in.data(), l.input.data(), l.inCount * 4) == 0;
  auto w0 = Clock::now();
  int warm = 0;
  double one = 0;
  do {
    flush();
    auto a = Clock::now();
    v.c.run(v.in.data(), v.out.data());
    one = seconds(a, Clock::now());
    ++warm;
  } while (warm < 2 || (seconds(w0, Clock::now()) < 0.05 && warm < 1000));
  if (!o.flush && one < 200e-6)
    v.repeat = (int)std::ceil(200e-6 / std::max(one, 1e-8));
}

// Samples of one candidate within one round.
void sample(const Options &o, Live &v, Flusher &flush, int minSamples, double minTime) {
  auto t0 = Clock::now();
  int taken = 0;
  while (taken < minSamples || (seconds(t0, Clock::now()) < minTime && taken < 40)) {
    flush();
    auto a = Clock::now();
    for (int r = 0; r < v.repeat; ++r)
      v.c.run(v.in.data(), v.out.data());
    v.times.push_back(seconds(a, Clock::now()) / v.repeat);
    ++taken;
  }
}

void finish(const Options &o, const Layer &l, Live &v) {
  std::vector<float> last(l.outCount);
  if (v.c.fetch)
    v.c.fetch(last.data());
  else
    last = v.out;
  Check lastCheck = check(l, last.data());
  Check worst = v.first.error >= lastCheck.error ? v.first : lastCheck;
  worst.nonFinite = std::max(v.first.nonFinite, lastCheck.nonFinite);
  std::string status = v.first.ok() && lastCheck.ok() && v.inputIntact ? "ok" : "WRONG";
  std::string info = v.c.info;
  if (!v.inputIntact)
    info += "; WROTE ITS INPUT";
  if (worst.nonFinite)
    info += "; " + std::to_string(worst.nonFinite) + " non-finite outputs";
  report(o, l, v.c.name, status, info, v.times, worst, v.repeat);
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  std::string dir;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench-driver: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--flush")
      o.flush = true;
    else if (a == "--tag")
      o.tag = next();
    else if (a == "--min-runs")
      o.minRuns = std::max(1, std::atoi(next().c_str()));
    else if (a == "--min-time")
      o.minTime = std::atof(next().c_str());
    else if (a == "--json")
      o.json = next();
    else if (a == "-h" || a == "--help") {
      std::printf("usage: bench-driver LAYER_DIR [--flush] [--tag T] [--min-runs N] "
                  "[--min-time S] [--json PATH] CANDIDATE...\n");
      return 0;
    } else if (dir.empty())
      dir = a;
    else
      specs.push_back(a);
  }
  if (dir.empty() || specs.empty()) {
    std::fprintf(stderr, "usage: bench-driver LAYER_DIR [options] CANDIDATE...\n");
    return 2;
  }
  Layer l;
  try {
    l = loadLayer(dir);
  } catch (std::exception &e) {
    std::fprintf(stderr, "bench-driver: %s\n", e.what());
    return 2;
  }
  if (o.tag.empty())
    o.tag = l.name;
  std::printf("layer %s: %s, %.2f MMAC%s\n", o.tag.c_str(), l.kind.c_str(), l.macs * 1e-6,
              o.flush ? ", weights flushed from cache before every call" : "");
  std::fflush(stdout);

  Flusher flush(o.flush);
#ifdef DS_HAVE_DNNL
  std::shared_ptr<Dnnl> dnnlState;
#endif
  int failures = 0;
  // Set up every candidate first (a failure is reported and skipped), then
  // time them interleaved: kRounds rounds, each taking a share of every
  // candidate's samples, so a slow phase of the machine (other users) hits
  // all candidates alike instead of whichever ran at that moment.
  std::vector<std::unique_ptr<Live>> live;
  for (const std::string &spec : specs) {
    std::string name = spec, path;
    if (size_t eq = spec.find('='); eq != std::string::npos) {
      name = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    }
    try {
      auto v = std::make_unique<Live>();
      Candidate &c = v->c;
      if (!path.empty()) {
        c = sharedObject(name, path);
      } else if (name.rfind("onednn", 0) == 0) {
#ifndef DS_HAVE_DNNL
        throw std::runtime_error("oneDNN is missing: bench-driver was built without "
                                 "libdnnl (apt-get install libdnnl-dev, then rerun "
                                 "scripts/bench)");
#else
        if (!dnnlState)
          dnnlState = std::make_shared<Dnnl>();
        if (name == "onednn-auto")
          c = onednnConv(dnnlState, l, dnnl::algorithm::convolution_auto, false, name);
        else if (name == "onednn-direct")
          c = onednnConv(dnnlState, l, dnnl::algorithm::convolution_direct, false, name);
        else if (name == "onednn-direct+reorder")
          c = onednnConv(dnnlState, l, dnnl::algorithm::convolution_direct, true, name);
        else if (name == "onednn-ip")
          c = onednnFc(dnnlState, l, false, name);
        else if (name == "onednn-matmul")
          c = onednnFc(dnnlState, l, true, name);
        else
          throw std::runtime_error("unknown oneDNN candidate (known: onednn-auto, "
                                   "onednn-direct, onednn-direct+reorder, onednn-ip, "
                                   "onednn-matmul)");
#endif
      } else {
        throw std::runtime_error("unknown candidate; give NAME=PATH.so or a oneDNN name");
      }
      prepare(o, l, *v, flush);
      live.push_back(std::move(v));
    }
#ifdef DS_HAVE_DNNL
    catch (dnnl::error &e) {
      ++failures;
      report(o, l, name, "ERROR", std::string("oneDNN: ") + e.what(), {}, Check(), 0);
    }
#endif
    catch (std::exception &e) {
      ++failures;
      report(o, l, name, "ERROR", e.what(), {}, Check(), 0);
    }
  }
  constexpr int kRounds = 5;
  int perRound = (o.minRuns + kRounds - 1) / kRounds;
  for (int r = 0; r < kRounds; ++r)
    for (auto &v : live)
      sample(o, *v, flush, perRound, o.minTime / kRounds);
  for (auto &v : live)
    finish(o, l, *v);
  return failures ? 1 : 0;
}
