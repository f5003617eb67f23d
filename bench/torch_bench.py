#!/usr/bin/python3
"""PyTorch f32, one thread: the `pytorch` candidate of one layer or model.

    torch_bench.py LAYER_DIR [--flush] [--tag T] [--min-runs N] [--min-time S] --json PATH

Same method as bench/driver.cpp (warm-up, samples of >= 200 us unless
--flush, median/min/max, check against expected.bin with tolerance 1e-5
relative to max|reference|), appends one JSON line to PATH. Run it pinned
(taskset) like the driver; bench/run.py does. A layer directory is what
bench/gen.py writes; a model directory (kind "model") holds model.pt, a
TorchScript float model.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # reported as an ERROR row; the other candidates ran
    torch = None
    TORCH_ERROR = f"PyTorch is missing ({e}); apt-get install python3-torch"

TOLERANCE = 1e-5
# model.eager.pt pickles the frontend's own modules (denseshift.models).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))


def build(layer_dir, meta, variant="pytorch"):
    x = torch.from_numpy(np.fromfile(os.path.join(layer_dir, "input.bin"), dtype="<f4")
                         .reshape(meta["input_shape"]))
    if meta["kind"] == "model":
        if variant == "pytorch":
            model = torch.load(os.path.join(layer_dir, "model.eager.pt")).eval()
            return x, model, "eager nn.Module"
        scripted = torch.jit.load(os.path.join(layer_dir, "model.script.pt")).eval()
        if variant == "pytorch-freeze":
            return x, torch.jit.freeze(scripted), "torch.jit.freeze(script)"
        from torch.utils.mobile_optimizer import optimize_for_mobile
        return x, optimize_for_mobile(scripted), "optimize_for_mobile(script): XNNPACK"
    w = torch.from_numpy(np.fromfile(os.path.join(layer_dir, "weight.bin"), dtype="<f4")
                         .reshape(meta["weight_shape"]))
    if meta["kind"] == "conv":
        stride, pad, groups = tuple(meta["stride"]), tuple(meta["pad"]), meta["groups"]
        if meta.get("layout") == "nhwc":
            # NHWC data is a channels_last NCHW tensor to PyTorch; the result
            # is viewed back as N x H x W x C (contiguous, no copy).
            def conv_nhwc(t):
                y = F.conv2d(t.permute(0, 3, 1, 2), w, None, stride, pad, 1, groups)
                return y.permute(0, 2, 3, 1)
            return x, conv_nhwc, "F.conv2d channels_last"
        return x, (lambda t: F.conv2d(t, w, None, stride, pad, 1, groups)), "F.conv2d"
    return x, (lambda t: F.linear(t, w)), "F.linear"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("layer_dir")
    p.add_argument("--flush", action="store_true")
    p.add_argument("--tag")
    p.add_argument("--min-runs", type=int, default=10)
    p.add_argument("--min-time", type=float, default=0.3)
    p.add_argument("--json", required=True)
    p.add_argument("--variant", default="pytorch",
                   choices=["pytorch", "pytorch-freeze", "pytorch-xnnpack"],
                   help="models: eager, frozen TorchScript or the XNNPACK path")
    args = p.parse_args()

    with open(os.path.join(args.layer_dir, "layer.json")) as f:
        meta = json.load(f)
    tag = args.tag or meta["name"]
    expected = np.fromfile(os.path.join(args.layer_dir, "expected.bin"), dtype="<f8")
    record = {"layer": tag, "candidate": args.variant, "flush": args.flush}
    try:
        if torch is None:
            raise RuntimeError(TORCH_ERROR)
        torch.set_num_threads(1)
        x, fn, what = build(args.layer_dir, meta, args.variant)
    except Exception as e:  # a missing file, a bad shape: report, do not crash the run
        record.update(status="ERROR", info=f"{type(e).__name__}: {e}", runs=0)
        print(f"  {args.variant:22s} ERROR  [{record['info']}]")
        with open(args.json, "a") as f:
            f.write(json.dumps(record) + "\n")
        return 1
    flush_buf = np.ones(128 << 20, dtype=np.uint8) if args.flush else None

    def flush():
        if flush_buf is not None:
            flush_buf[::64] += 1

    with torch.inference_mode():
        y = fn(x).numpy().astype(np.float64).ravel()
        scale = np.abs(expected).max()
        bad = int((~np.isfinite(y)).sum())
        err = float(np.abs(np.where(np.isfinite(y), y, 0) - expected).max() / scale)
        t0, warm = time.perf_counter(), 0
        while warm < 2 or (time.perf_counter() - t0 < 0.05 and warm < 1000):
            flush()
            a = time.perf_counter()
            fn(x)
            one = time.perf_counter() - a
            warm += 1
        repeat = 1 if args.flush or one >= 200e-6 else int(np.ceil(200e-6 / max(one, 1e-8)))
        times, t0 = [], time.perf_counter()
        while len(times) < args.min_runs or (time.perf_counter() - t0 < args.min_time
                                             and len(times) < 200):
            flush()
            a = time.perf_counter()
            for _ in range(repeat):
                fn(x)
            times.append((time.perf_counter() - a) / repeat)
    med = float(np.median(times))
    ok = bad == 0 and err <= TOLERANCE
    info = f"torch {torch.__version__} {what}, {torch.get_num_threads()} thread"
    if bad:
        info += f"; {bad} non-finite outputs"
    record.update(status="ok" if ok else "WRONG", info=info, runs=len(times), repeat=repeat,
                  median_s=med, min_s=float(min(times)), max_s=float(max(times)),
                  gmacs=meta["macs"] / med * 1e-9, error=err, non_finite=bad)
    print(f"  {args.variant:22s} {record['status']:6s} median {med * 1e6:10.1f} us  "
          f"min {min(times) * 1e6:10.1f}  max {max(times) * 1e6:10.1f}  "
          f"{record['gmacs']:7.2f} GMAC/s  err {err:.1e}  [{info}]", flush=True)
    with open(args.json, "a") as f:
        f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
