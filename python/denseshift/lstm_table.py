"""Compression vs accuracy of tensor-train LSTMs (issue 11, item 3).

    python3 -m denseshift.lstm_table --out ../runs/lstm --limit 20000 --epochs 3

Trains (one protocol, ``denseshift.train``; finished runs are skipped, shorter
ones resumed) a rows-as-sequence LSTM classifier on Fashion-MNIST with dense,
MPS (ranks 4/8/16) and MPO recurrent weights, float and 3-bit DenseShift,
then reports test accuracy, LSTM weight bytes and the compression against the
dense f32 LSTM, compiles the shift + MPS model with the project toolchain for
x86-64-avx2 (whole test set) and aarch64-neon under qemu (first 500 images)
and counts the predictions that differ from PyTorch.  Writes the marked
section ``lstm`` of DOCS/RESULTS.md and DOCS/lstm.json.
"""
import argparse
import datetime
import os
import sys
import tempfile
import time

import numpy as np
import torch

from .checkpoint import (CheckpointError, atomic_write_json, atomic_write_text, load_checkpoint,
                         load_model, replace_section)
from .data import DATA_DIR, DatasetError, load_split
from .table import DOCS_DIR, machine

# (run name, label, model, scheme)
CONFIGS = (
    ("dense-fp32", "dense LSTM, FP32", "lstm", "float"),
    ("dense-ds3", "dense LSTM, DenseShift 3-bit", "lstm", "denseshift"),
    ("mps4-fp32", "MPS rank 4, FP32", "lstm-mps4", "float"),
    ("mps8-fp32", "MPS rank 8, FP32", "lstm-mps8", "float"),
    ("mps16-fp32", "MPS rank 16, FP32", "lstm-mps16", "float"),
    ("mpo4-fp32", "MPO rank 4, FP32 (about MPS-8's size)", "lstm-mpo4", "float"),
    ("mps8-ds3", "MPS rank 8 + DenseShift 3-bit", "lstm-mps8", "denseshift"),
)
COMPILED = "mps8-ds3"
ARM_IMAGES = 500


class LstmTableError(RuntimeError):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.lstm_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory of the runs (one per configuration)")
    p.add_argument("--docs", default=DOCS_DIR)
    p.add_argument("--limit", type=int, default=20000, help="training images")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--only", nargs="+", choices=[c[0] for c in CONFIGS])
    p.add_argument("--no-compile", action="store_true", help="skip the compiled-model check")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("limit", "epochs", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    return args


def train_argv(args, model, scheme, run_dir):
    return ["--model", model, "--scheme", scheme, "--bits", "3", "--epochs", str(args.epochs),
            "--schedule", "cosine", "--lr", repr(args.lr), "--batch", "128", "--seed",
            str(args.seed), "--limit", str(args.limit), "--threads", str(args.threads),
            "--data-dir", args.data_dir, "--out", run_dir]


def train_one(args, name, model, scheme):
    from . import train
    run_dir = os.path.join(args.out, name)
    argv = train_argv(args, model, scheme, run_dir)
    path = os.path.join(run_dir, "checkpoint.pt")
    done = load_checkpoint(path)["epoch"] if os.path.exists(path) else 0
    if done >= args.epochs:
        print(f"[lstm] {name}: {done} epochs, skipped", flush=True)
        return argv
    print(f"[lstm] {name}: training", flush=True)
    status = train.main(argv + (["--resume"] if done else [])
                        + (["--no-progress"] if args.no_progress else []))
    if status != 0:     # the message (e.g. another protocol) was printed by train
        raise LstmTableError(f"training {name} failed (exit {status})")
    return argv


def compiled_check(model, images, logits, workdir):
    """{target: (images, differing predictions, max relative logit error)}."""
    from . import runtime
    from .export import export_model
    path = os.path.join(workdir, "mps8-ds3.mlir")
    with open(path, "w") as f:
        f.write(export_model(model, 100, input_shape=tuple(images.shape[1:])))
    out = {}
    for target, count in (("x86-64-avx2", len(images)), ("aarch64-neon", ARM_IMAGES)):
        ok, why = runtime._host_can_run(target)
        if target == "aarch64-neon":
            ok, why = (not runtime.qemu_missing()), runtime.qemu_missing()
        if not ok:
            out[target] = {"skipped": why}
            continue
        compiled = runtime.compile(path, target=target, toolchain="project")
        got = compiled(images[:count])
        ref = logits[:count]
        out[target] = {"images": count, "differ": int((got.argmax(1) != ref.argmax(1)).sum()),
                       "max_rel_error": float(np.abs(got - ref).max() / np.abs(ref).max())}
    return out


def render(result):
    rows, dense = result["rows"], result["rows"][0]
    lines = ["## Tensor-train LSTMs (MPS, MPO, shift)", "",
             f"Generated by `python3 -m denseshift.lstm_table` on {result['generated']} "
             "(issue 11, item 3). Fashion-MNIST rows as a 28-step sequence of 28 pixels, "
             "a one-layer LSTM of hidden size 128 and a float classifier "
             f"([python.md](python.md#tensor-train-lstms)); {result['protocol']}. "
             "*LSTM weight bytes*: the input and recurrent weights as deployed (f32, or "
             "b/8 a code plus an f32 alpha per row for shift cores), biases excluded; the "
             "first MPS core and the classifier stay float (`keep_first_last`).", "",
             "| configuration | LSTM weights | LSTM weight bytes | compression vs dense f32 | "
             "top-1 (%) | Δ vs dense FP32 (pp) |", "|---|---|---|---|---|---|"]
    for r in rows:
        delta = "—" if r is dense else f"{100 * (r['top1'] - dense['top1']):+.2f}"
        lines.append(f"| {r['label']} | {r['params']} | {r['bytes']:.0f} | "
                     f"{dense['bytes'] / r['bytes']:.1f}x | {100 * r['top1']:.2f} | {delta} |")
    check = result.get("compiled") or {}
    if check:
        lines += ["", "The shift + MPS model compiled (project toolchain, exact mode: every core "
                  "contraction a `shift.matmul`) against PyTorch eval:", ""]
        for target, c in check.items():
            if "skipped" in c:
                lines.append(f"* {target}: not run ({c['skipped']})")
            else:
                lines.append(f"* {target}: {c['differ']} of {c['images']} predictions differ, "
                             f"max logit error {c['max_rel_error']:.1e} of max|logit|")
    info = result["machine"]
    lines += ["", "Command (trains what is missing, then reports):", "", "```sh",
              result["command"], "```", "",
              f"Machine: {info['cpu']}, {info['torch_threads']} torch thread(s). "
              "Per configuration: `python3 -m denseshift.train " + result["example_argv"] + "`."]
    return "\n".join(lines) + "\n"


def run(args, argv):
    only = set(args.only or [c[0] for c in CONFIGS])
    configs = [c for c in CONFIGS if c[0] in only]
    if "dense-fp32" not in only:
        raise LstmTableError("the report needs the dense-fp32 run (the compression baseline); "
                             "add it to --only")
    used = {}
    for name, _, model, scheme in configs:
        used[name] = train_one(args, name, model, scheme)
    test_x, test_y = load_split("test", args.data_dir)
    torch.set_num_threads(args.threads)
    rows, result = [], {}
    from .tensor_train import lstm_weight_bytes
    for name, label, _, scheme in configs:
        model, _ = load_model(os.path.join(args.out, name, "checkpoint.pt"))
        with torch.no_grad():
            logits = torch.cat([model(chunk) for chunk in test_x.split(1000)]).numpy()
        top1 = float((logits.argmax(1) == test_y.numpy()).mean())
        rows.append({"name": name, "label": label, "scheme": scheme, "top1": top1,
                     "params": model.lstm.parameter_count(), "bytes": lstm_weight_bytes(model)})
        print(f"[lstm] {label}: {100 * top1:.2f}%  {rows[-1]['bytes']:.0f} bytes", flush=True)
        if name == COMPILED and not args.no_compile:
            with tempfile.TemporaryDirectory(prefix="denseshift-lstm-") as workdir:
                result["compiled"] = compiled_check(model, test_x.numpy(), logits, workdir)
    result.update({
        "generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "protocol": f"{args.limit} training images, {args.epochs} epochs, Adam, cosine "
                    f"learning rate from {args.lr}, batch 128, seed {args.seed}, "
                    f"top-1 on the {len(test_x)} test images",
        "command": "cd python && python3 -m denseshift.lstm_table " + " ".join(argv),
        "example_argv": " ".join(used[configs[-1][0]]),
        "machine": machine(), "rows": rows})
    os.makedirs(args.docs, exist_ok=True)
    results_md = os.path.join(args.docs, "RESULTS.md")
    text = open(results_md, encoding="utf-8").read() if os.path.isfile(results_md) else ""
    atomic_write_text(results_md, replace_section(text, "lstm", render(result)))
    atomic_write_json(os.path.join(args.docs, "lstm.json"), result)
    print(render(result))
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = time.time()
    try:
        run(args, argv)
    except (LstmTableError, CheckpointError, DatasetError) as err:
        print(f"denseshift.lstm_table: error: {err}", file=sys.stderr)
        return 2
    print(f"[lstm] done in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
