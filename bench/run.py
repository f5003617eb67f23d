#!/usr/bin/python3
"""Benchmark of issues 5 and 8: every candidate of every layer, side by side.

    bench/run.py [--layers A,B,...] [--candidates ds-avx512,onednn-direct,...]
                 [--out DIR] [--quick] [--doc | --no-doc]

(normally through scripts/bench, which installs and builds first). Steps:
  1. snapshot build/bin/denseshift-{opt,translate} into OUT/bin (under the
     build lock), so a colleague's rebuild cannot change tools mid-run;
  2. generate the layers (bench/gen.py) into OUT/layers;
  3. compile every compiled candidate of every layer into a shared object;
  4. per layer, holding /tmp/denseshift-build.lock and pinned to one core
     (taskset -c CPU): bench-driver runs oneDNN and all compiled candidates
     in one process, then bench/torch_bench.py runs PyTorch;
  5. bench/report.py: table on stdout, bench/results.json, bench/ratios.png,
     docs/PERFORMANCE.md (full runs, or --doc), with llvm-mca estimates of
     the AArch64 inner loops (bench/mca.py).
Unknown layer or candidate names are reported and skipped; a candidate that
fails to compile or to run is reported as ERROR and the others still run.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen  # noqa: E402

LOCK = "/tmp/denseshift-build.lock"

# Benchmark rows: name -> (layer directory made by gen.py, flush weights?)
LAYER_RUNS = {
    "A": ("A", False),
    "A8": ("A8", False),
    "B": ("B", False),
    "C": ("C", True),          # weights from DRAM: 128 MiB touched before every call
    "C-cached": ("C", False),  # same layer, weights left in cache by the previous call
    "D": ("D", False),
    "E": ("E", False),
    "A-nhwc": ("A-nhwc", False),  # issue 8: layout and small maps
    "F": ("F", False),
    "G": ("G", False),
    "H": ("H", False),         # f32 weights (a layer kept in float)
    "R20": ("R20", False),     # whole models (frontend), baseline the best PyTorch
    "R20-b32": ("R20-b32", False),
    "CNN": ("CNN", False),
    "CNN-b32": ("CNN-b32", False),
    "R18": ("R18", False),     # torchvision architectures at 3x224x224
    "MV2": ("MV2", False),
}

# Candidates in table order. Kinds: which layer kinds they apply to.
CANDIDATES = {
    "onednn-direct": ("conv",), "onednn-auto": ("conv",), "onednn-direct+reorder": ("conv",),
    "onednn-ip": ("fc",), "onednn-matmul": ("fc",),
    "pytorch": ("conv", "fc", "model"),
    # Models: eager is `pytorch`; frozen TorchScript and the XNNPACK path.
    "pytorch-freeze": ("model",), "pytorch-xnnpack": ("model",),
    "mlir-loops": ("conv", "fc", "model"), "mlir-vec": ("conv", "fc"),
    # -fast variants on whole models are covered on AVX-512. -auto is
    # strategy=auto: decode-FMA where the target's cost model says it is
    # faster (not multiplication-free).
    "ds-avx2": ("conv", "fc", "model"), "ds-avx2-fast": ("conv", "fc"),
    "ds-avx2-fma": ("conv", "fc"), "ds-avx2-auto": ("conv", "fc", "model"),
    "ds-avx512": ("conv", "fc", "model"), "ds-avx512-fast": ("conv", "fc", "model"),
    "ds-avx512-fma": ("conv", "fc", "model"), "ds-avx512-auto": ("model",),
    # static-buffers=true: no malloc per call (not reentrant), see docs/abi.md.
    "ds-avx512-static": ("conv", "fc", "model"),
}
ONEDNN = [c for c in CANDIDATES if c.startswith("onednn")]
DS_OPTIONS = {"": "", "-fast": " mode=fast", "-fma": " strategy=decode-fma",
              "-auto": " strategy=auto", "-static": " static-buffers=true"}

PIPE_LOOPS = ("builtin.module(buffer-results-to-out-params{hoist-static-allocs "
              "modify-public-functions},buffer-deallocation-pipeline,"
              "convert-bufferization-to-memref,convert-linalg-to-loops,"
              "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
              "finalize-memref-to-llvm,convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
              "convert-arith-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts)")
PIPE_VEC = ("builtin.module(buffer-results-to-out-params{hoist-static-allocs "
            "modify-public-functions},buffer-deallocation-pipeline,"
            "convert-bufferization-to-memref,convert-linalg-to-loops,convert-vector-to-scf,"
            "expand-strided-metadata,lower-affine,convert-scf-to-cf,convert-vector-to-llvm,"
            "finalize-memref-to-llvm,convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
            "convert-arith-to-llvm,convert-cf-to-llvm,convert-index-to-llvm,"
            "convert-ub-to-llvm,reconcile-unrealized-casts)")


def log(msg):
    print(msg, flush=True)


def host_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def split_names(values):
    out = []
    for v in values or []:
        out += [n for n in v.replace(",", " ").split() if n]
    return out


def rodata_bytes(obj):
    """Bytes of read-only data sections (the weights live there)."""
    try:
        text = subprocess.run(["size", "-A", obj], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    total = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith((".rodata", ".lrodata")):
            total += int(parts[1])
    return total


class Compiler:
    def __init__(self, out):
        self.bin = os.path.join(out, "bin")
        self.opt = os.path.join(self.bin, "denseshift-opt")
        self.translate = os.path.join(self.bin, "denseshift-translate")

    def snapshot(self):
        src = os.path.join(ROOT, "build", "bin")
        os.makedirs(self.bin, exist_ok=True)
        for tool in ("denseshift-opt", "denseshift-translate"):
            if not os.path.exists(os.path.join(src, tool)):
                sys.exit(f"bench: {src}/{tool} is missing; build the project first "
                         "(scripts/bench does)")
        # Under the build lock: never copy a half-linked binary.
        subprocess.run(["flock", LOCK, "cp", os.path.join(src, "denseshift-opt"),
                        os.path.join(src, "denseshift-translate"), self.bin + "/"], check=True)

    def _run(self, argv, stdin=None):
        r = subprocess.run(argv, capture_output=True, text=True, input=stdin)
        if r.returncode != 0:
            msg = (r.stderr or r.stdout).strip().splitlines()
            first = next((m for m in msg if "error" in m), msg[0] if msg else "failed")
            raise RuntimeError(f"{os.path.basename(argv[0])}: {first.strip()}")
        return r.stdout

    def compile(self, layer_dir, meta, cand, work):
        """Returns dict(so=..., seconds=..., rodata=...) or raises RuntimeError."""
        src = os.path.join(layer_dir, "layer.mlir")
        lowered = os.path.join(work, cand + ".ll.mlir")
        obj = os.path.join(work, cand + ".o")
        so = os.path.join(work, cand + ".so")
        t0 = time.perf_counter()
        if cand.startswith("ds-"):
            target = "x86-64-avx512" if cand.startswith("ds-avx512") else "x86-64-avx2"
            suffix = cand[len("ds-avx512"):] if cand.startswith("ds-avx512") else cand[len("ds-avx2"):]
            opts = f"target={target}" + DS_OPTIONS[suffix]
            self._run([self.opt, src, f"--denseshift-pipeline={opts}", "-o", lowered])
        else:
            target = "x86-64-avx512" if "avx512f" in host_flags() else "x86-64-avx2"
            if cand == "mlir-loops":
                script, pipe = os.path.join(HERE, "upstream", "bufferize.transform.mlir"), PIPE_LOOPS
            else:
                script, pipe = self._vec_script(meta, work), PIPE_VEC
            staged = self._run([self.opt, src,
                                f"--transform-preload-library=transform-library-paths={script}",
                                "--transform-interpreter", "-o", "-"])
            self._run([self.opt, f"--pass-pipeline={pipe}", "-o", lowered, "-"], stdin=staged)
        self._run([self.translate, f"--target={target}", lowered, "-o", obj])
        seconds = time.perf_counter() - t0
        self._run(["clang-22", "-shared", "-o", so, obj])
        return {"so": so, "compile_s": seconds, "rodata": rodata_bytes(obj),
                "object_bytes": os.path.getsize(obj), "options": target}

    def _vec_script(self, meta, work):
        up = os.path.join(HERE, "upstream")
        if meta["kind"] == "fc":
            n = meta["n"]
            text = open(os.path.join(up, "matmul.transform.mlir")).read()
            path = os.path.join(work, "matmul.transform.mlir")
            with open(path, "w") as f:
                f.write(text.replace("@NT@", str(128 if n % 128 == 0 else n)))
            return path
        if meta.get("groups", 1) > 1:
            return os.path.join(up, "depthwise.transform.mlir")
        if meta.get("layout") == "nhwc":
            # The same recipe on upstream's NHWC im2col: its matmul-like
            # generic iterates (n, pixels, f, k), so the 8 x 16 block swaps.
            text = open(os.path.join(up, "conv_im2col.transform.mlir")).read()
            text = text.replace('ops{["linalg.conv_2d_nchw_fchw"]}',
                                'ops{["linalg.conv_2d_nhwc_hwcf"]}')
            text = text.replace("tile_sizes [1, 8, 16, 16]", "tile_sizes [1, 16, 8, 16]")
            path = os.path.join(work, "conv_nhwc_im2col.transform.mlir")
            with open(path, "w") as f:
                f.write(text)
            return path
        return os.path.join(up, "conv_im2col.transform.mlir")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layers", action="append", help=f"subset of {' '.join(LAYER_RUNS)}")
    p.add_argument("--candidates", action="append",
                   help=f"subset of {' '.join(CANDIDATES)}")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    p.add_argument("--cpu", default="1", help="core to pin to (taskset -c)")
    p.add_argument("--quick", action="store_true", help="shorter sampling (0.1 s/candidate)")
    p.add_argument("--doc", dest="doc", action="store_true", default=None,
                   help="write docs/PERFORMANCE.md (default: only for a full run)")
    p.add_argument("--no-doc", dest="doc", action="store_false")
    p.add_argument("--results", default=os.path.join(HERE, "results.json"))
    p.add_argument("--plot", default=os.path.join(HERE, "ratios.png"))
    args = p.parse_args()

    started = time.time()
    layers = split_names(args.layers) or list(LAYER_RUNS)
    cands = split_names(args.candidates) or list(CANDIDATES)
    notes = []
    for n in [n for n in layers if n not in LAYER_RUNS]:
        notes.append(f"unknown layer '{n}' skipped (known: {' '.join(LAYER_RUNS)})")
    for n in [n for n in cands if n not in CANDIDATES]:
        notes.append(f"unknown candidate '{n}' skipped (known: {' '.join(CANDIDATES)})")
    for n in notes:
        log("bench: " + n)
    layers = [n for n in layers if n in LAYER_RUNS]
    cands = [n for n in cands if n in CANDIDATES]
    if not layers or not cands:
        sys.exit("bench: nothing to run")
    full = not args.layers and not args.candidates
    if args.doc is None:
        args.doc = full

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    compiler = Compiler(out)
    compiler.snapshot()
    flags = host_flags()
    driver = os.path.join(out, "driver", "bench-driver")
    if not os.path.exists(driver):
        sys.exit(f"bench: {driver} is missing (scripts/bench builds it)")

    # 1. Layers.
    order = list(gen.LAYERS) + list(gen.MODELS)
    dirs = sorted({LAYER_RUNS[n][0] for n in layers}, key=order.index)
    log(f"bench: generating layers {' '.join(dirs)}")
    metas = {}
    for d in dirs:
        metas[d] = gen.generate(d, os.path.join(out, "layers"), 4, 5)

    # 2. Compile.
    compiled = {}  # (dir, cand) -> info
    for d in dirs:
        meta = metas[d]
        work = os.path.join(out, "layers", d, "cand")
        os.makedirs(work, exist_ok=True)
        for c in cands:
            if meta["kind"] not in CANDIDATES[c] or c in ONEDNN or c.startswith("pytorch"):
                continue
            if c.startswith("ds-avx512") and "avx512f" not in flags:
                compiled[d, c] = {"error": "SKIP: host has no AVX-512"}
                continue
            if c.startswith("ds-avx2") and "avx2" not in flags:
                compiled[d, c] = {"error": "SKIP: host has no AVX2"}
                continue
            try:
                info = compiler.compile(os.path.join(out, "layers", d), meta, c, work)
                compiled[d, c] = info
                log(f"bench: compiled {d}/{c} in {info['compile_s']:.1f} s")
            except RuntimeError as e:
                compiled[d, c] = {"error": f"compile failed: {e}"}
                log(f"bench: {d}/{c}: compile failed: {e}")

    # 2b. Size only: layer A with 3-bit codes (the issue's >= 10x target).
    extra = {}
    if "A" in dirs and "ds-avx512" in cands and "avx512f" in flags:
        d3 = os.path.join(out, "layers-3bit")
        meta3 = gen.generate("A", d3, 3, 5)
        work = os.path.join(d3, "A", "cand")
        os.makedirs(work, exist_ok=True)
        try:
            info = compiler.compile(os.path.join(d3, "A"), meta3, "ds-avx512", work)
            extra["bits3"] = {"layer": "A", "rodata": info["rodata"],
                              "f32": meta3["weight_bytes_f32"],
                              "ratio": meta3["weight_bytes_f32"] / info["rodata"]}
        except RuntimeError as e:
            notes.append(f"3-bit size check failed: {e}")

    # 2c. Compile time of ResNet-20 (issue: <= 5 s), pinned and under the lock
    # like the timings, so other jobs do not inflate it.
    if ("R20", "ds-avx512") in compiled and "so" in compiled["R20", "ds-avx512"]:
        work = os.path.join(out, "layers", "R20", "cand")
        src = os.path.join(out, "layers", "R20", "layer.mlir")
        lowered, obj = os.path.join(work, "timed.ll.mlir"), os.path.join(work, "timed.o")
        # Timestamps taken inside the lock: waiting for it is not compile time.
        script = ('t0=$(date +%s.%N); "$0" "$2" --denseshift-pipeline=target=x86-64-avx512 '
                  '-o "$3" || exit 1; t1=$(date +%s.%N); '
                  '"$1" --target=x86-64-avx512 "$3" -o "$4" || exit 1; t2=$(date +%s.%N); '
                  'echo "$t0 $t1 $t2"')
        r = subprocess.run(["flock", LOCK, "taskset", "-c", args.cpu, "sh", "-c", script,
                            compiler.opt, compiler.translate, src, lowered, obj],
                           capture_output=True, text=True)
        if r.returncode:
            notes.append(f"timed ResNet-20 compile failed: {r.stderr.strip()[:200]}")
        else:
            t0, t1, t2 = (float(t) for t in r.stdout.split()[-3:])
            info = compiled["R20", "ds-avx512"]
            extra["compile_r20"] = dict(opt_s=t1 - t0, translate_s=t2 - t1, total_s=t2 - t0,
                                        object_bytes=os.path.getsize(obj),
                                        rodata=info["rodata"],
                                        f32_weight_bytes=metas["R20"]["weight_bytes_f32"])
            log(f"bench: ResNet-20 compile (pinned): {extra['compile_r20']['total_s']:.1f} s")

    # 3. Run, one layer at a time, holding the build lock, pinned.
    raw = os.path.join(out, "raw.jsonl")
    if os.path.exists(raw):
        os.remove(raw)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               DNNL_VERBOSE="0")
    sampling = ["--min-runs", "10", "--min-time", "0.1" if args.quick else "0.3"]
    for name in layers:
        d, flush = LAYER_RUNS[name]
        meta = metas[d]
        layer_dir = os.path.join(out, "layers", d)
        specs = []
        for c in cands:
            if meta["kind"] not in CANDIDATES[c]:
                continue
            if c in ONEDNN:
                specs.append(c)
            elif not c.startswith("pytorch"):
                info = compiled[d, c]
                if "so" in info:
                    specs.append(f"{c}={info['so']}")
        common = [layer_dir, "--tag", name, "--json", raw] + sampling + (["--flush"] if flush else [])
        pinned = ["flock", LOCK, "taskset", "-c", args.cpu]
        if specs:
            subprocess.run(pinned + [driver] + common + specs, env=env)
        for c in cands:
            if c.startswith("pytorch") and meta["kind"] in CANDIDATES[c]:
                subprocess.run(pinned + ["/usr/bin/python3", os.path.join(HERE, "torch_bench.py")]
                               + common + ["--variant", c], env=env)

    # 4. Report.
    records = []
    if os.path.exists(raw):
        with open(raw) as f:
            records = [json.loads(line) for line in f if line.strip()]
    for name in layers:
        d, _ = LAYER_RUNS[name]
        for c in cands:
            if metas[d]["kind"] not in CANDIDATES[c]:
                continue
            info = compiled.get((d, c), {})
            if "error" in info:
                records.append({"layer": name, "candidate": c,
                                "status": "SKIP" if info["error"].startswith("SKIP") else "ERROR",
                                "info": info["error"], "runs": 0})
    import report  # noqa: E402
    report.write_all(records=records, metas=metas, compiled=compiled, layers=layers,
                     cands=cands, notes=notes, out=out, results=args.results, plot=args.plot,
                     doc=os.path.join(ROOT, "docs", "PERFORMANCE.md") if args.doc else None,
                     command=" ".join(["scripts/bench"] + sys.argv[1:]),
                     elapsed=time.time() - started, compiler=compiler, extra=extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
