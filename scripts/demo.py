#!/usr/bin/python3
"""The README's main job: train a small shift network (and its FP32 twin)
briefly on Fashion-MNIST, export it to MLIR, compile it with denseshift-opt +
denseshift-translate for x86-64 and AArch64 and run both through
denseshift.runtime (x86-64 in-process via ctypes, AArch64 under qemu-aarch64),
and report accuracy, parity with PyTorch, weight bytes and latency (batch-1
calls timed from Python, for the compiled model as for PyTorch)."""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402

from denseshift import runtime  # noqa: E402
from denseshift.checkpoint import load_model  # noqa: E402
from denseshift.data import load_split  # noqa: E402


def run(argv, **kw):
    print("+", " ".join(argv), flush=True)
    result = subprocess.run(argv, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        sys.exit(f"demo: {argv[0]} failed:\n{result.stderr}")
    return result


def train(out, scheme, args):
    if os.path.exists(os.path.join(out, "checkpoint.pt")) and not args.retrain:
        return
    run([sys.executable, "-m", "denseshift.train", "--model", "smallcnn",
         "--scheme", scheme, "--bits", str(args.bits), "--epochs", "1",
         "--limit", str(args.train_limit), "--out", out, "--no-progress",
         "--threads", "2"], cwd=os.path.join(ROOT, "python"))


def rodata_bytes(obj):
    """Bytes of the object's read-only data: the packed codes, alphas and the
    float layers' weights (the first conv and last FC stay float)."""
    out = subprocess.run(["/usr/lib/llvm-22/bin/llvm-size", "-A", obj],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines()
               if line.startswith(".rodata"))


def accuracy(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def compile_and_run(mlir, target, images, count):
    """Compile with the project toolchain through denseshift.runtime and run
    the first ``count`` images: in-process (ctypes) on the host, under
    qemu-aarch64 for AArch64 (runtime.QemuModel)."""
    print(f"+ denseshift.compile({mlir}, target={target}, toolchain=project)",
          flush=True)
    try:
        model = runtime.compile(mlir, target=target, toolchain=runtime.ProjectToolchain())
        t0 = time.perf_counter()
        logits = model(images[:count])
        seconds = time.perf_counter() - t0
    except runtime.ToolchainError as err:
        sys.exit(f"demo: {err}")
    return logits, seconds / count, rodata_bytes(model.object)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "demo"))
    parser.add_argument("--bits", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=20000)
    parser.add_argument("--test-count", type=int, default=10000)
    parser.add_argument("--arm-count", type=int, default=500)
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    fp32_dir = os.path.join(args.out, "fp32")
    shift_dir = os.path.join(args.out, f"denseshift{args.bits}")
    train(fp32_dir, "float", args)
    train(shift_dir, "denseshift", args)

    images, labels = load_split("test", limit=args.test_count)
    images = np.asarray(images, dtype=np.float32).reshape(-1, 1, 28, 28)
    labels = np.asarray(labels)
    x = torch.from_numpy(images)
    results = {}
    with torch.no_grad():
        fp32_model, _ = load_model(os.path.join(fp32_dir, "checkpoint.pt"))
        results["fp32_accuracy"] = accuracy(fp32_model(x).numpy(), labels)
        model, _ = load_model(os.path.join(shift_dir, "checkpoint.pt"))
        torch_logits = model(x).numpy()
        t0 = time.perf_counter()
        for i in range(200):
            model(x[i:i + 1])
        results["pytorch_latency_s"] = (time.perf_counter() - t0) / 200
    results["shift_pytorch_accuracy"] = accuracy(torch_logits, labels)

    mlir = os.path.join(args.out, "model.mlir")
    run([sys.executable, "-m", "denseshift.export",
         os.path.join(shift_dir, "checkpoint.pt"), "-o", mlir, "--batch", "1"],
        cwd=os.path.join(ROOT, "python"))

    scale = float(np.abs(torch_logits).max())
    for target, count in [("x86-64-avx2", len(images)),
                          ("aarch64-neon", min(args.arm_count, len(images)))]:
        logits, latency, obj_bytes = compile_and_run(mlir, target, images, count)
        ref = torch_logits[:count]
        results[target] = {
            "images": count,
            "accuracy": accuracy(logits, labels[:count]),
            "prediction_mismatches": int((logits.argmax(1) != ref.argmax(1)).sum()),
            "max_logit_error_rel": float(np.abs(logits - ref).max() / scale),
            "weight_bytes": obj_bytes,
        }
        if not target.startswith("aarch64"):
            results[target]["latency_s"] = latency

    f32_bytes = sum(p.numel() * 4 for n, p in fp32_model.named_parameters()
                    if p.dim() > 1)
    results["weight_bytes_f32"] = f32_bytes
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(results, f, indent=2)

    x86, arm = results["x86-64-avx2"], results["aarch64-neon"]
    print("\n== DenseShift demo (small CNN, Fashion-MNIST, "
          f"{args.bits}-bit DenseShift) ==")
    print(f"FP32 accuracy (PyTorch)          {results['fp32_accuracy']:.4f}")
    print(f"DenseShift accuracy (PyTorch)    {results['shift_pytorch_accuracy']:.4f}")
    print(f"x86-64 compiled accuracy         {x86['accuracy']:.4f} "
          f"({x86['images']} images, {x86['prediction_mismatches']} predictions "
          f"differ from PyTorch, max logit error {x86['max_logit_error_rel']:.2e})")
    print(f"AArch64 (qemu) compiled accuracy {arm['accuracy']:.4f} "
          f"({arm['images']} images, {arm['prediction_mismatches']} differ, "
          f"max logit error {arm['max_logit_error_rel']:.2e})")
    print(f"latency per image: compiled x86 {x86['latency_s'] * 1e6:.1f} us, "
          f"PyTorch {results['pytorch_latency_s'] * 1e6:.1f} us "
          f"({results['pytorch_latency_s'] / x86['latency_s']:.1f}x)")
    print(f"weight bytes (object .rodata) x86 {x86['weight_bytes']}, aarch64 "
          f"{arm['weight_bytes']}; f32 conv/linear weights {f32_bytes} "
          f"({f32_bytes / x86['weight_bytes']:.1f}x; first conv and last FC "
          "stay float)")
    ok = (x86["prediction_mismatches"] <= 5 and arm["prediction_mismatches"] <= 1
          and x86["max_logit_error_rel"] <= 1e-4)
    print("parity:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
