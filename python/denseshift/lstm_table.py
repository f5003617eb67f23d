"""Compression vs accuracy of tensor-train LSTMs (issue 11, item 3).

    python3 -m denseshift.lstm_table --out ../runs/lstm --limit 20000 --epochs 3
    python3 -m denseshift.lstm_table --dataset speech --data-dir data/speech-small \
        --out ../runs/kws-lstm --epochs 8 --batch 64

With ``--dataset speech`` the sequence is the 98 frames of 40 log-mel bands
of the synthesized commands (``kws-lstm*`` models; section ``lstm-speech``).

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

import torch

from .checkpoint import CheckpointError, load_model
from . import speech
from .data import DATA_DIR, DatasetError, load_split
from .report import (ReportError, agreement_lines, compiled_agreement, table_main, train_or_skip,
                     write_section)
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
# On the speech features: the dense baseline, MPS-8 (float and shift) and MPO.
SPEECH_CONFIGS = ("dense-fp32", "mps8-fp32", "mpo4-fp32", "mps8-ds3")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.lstm_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory of the runs (one per configuration)")
    p.add_argument("--docs", default=DOCS_DIR)
    p.add_argument("--dataset", choices=("fashion-mnist", "speech"), default="fashion-mnist")
    p.add_argument("--limit", type=int, default=20000, help="training examples")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST directory, or the speech "
                   "dataset (python3 -m denseshift.speech build)")
    p.add_argument("--only", nargs="+", choices=[c[0] for c in CONFIGS])
    p.add_argument("--no-compile", action="store_true", help="skip the compiled-model check")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("limit", "epochs", "threads", "batch"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    if args.data_dir is None:
        if args.dataset == "speech":
            p.error("--dataset speech needs --data-dir DIR (python3 -m denseshift.speech build)")
        args.data_dir = DATA_DIR
    return args


def configs_of(args):
    """The (name, label, model, scheme) rows for --dataset."""
    if args.dataset == "fashion-mnist":
        return list(CONFIGS)
    return [(name, label, "kws-" + model, scheme) for name, label, model, scheme in CONFIGS
            if name in SPEECH_CONFIGS]


def train_argv(args, model, scheme, run_dir):
    return ["--dataset", args.dataset, "--model", model, "--scheme", scheme, "--bits", "3",
            "--epochs", str(args.epochs), "--schedule", "cosine", "--lr", repr(args.lr),
            "--batch", str(args.batch), "--seed", str(args.seed), "--limit", str(args.limit),
            "--threads", str(args.threads), "--data-dir", args.data_dir, "--out", run_dir]


def test_split(args):
    if args.dataset == "speech":
        return speech.load_features(args.data_dir, "test")
    return load_split("test", args.data_dir)


TASKS = {
    "fashion-mnist": ("Tensor-train LSTMs (MPS, MPO, shift)",
                      "Fashion-MNIST rows as a 28-step sequence of 28 pixels"),
    "speech": ("Tensor-train LSTMs on speech (MPS, MPO, shift)",
               "The synthesized 12-class speech commands (test: unseen speakers) as 98 frames "
               "of 40 log-mel bands"),
}


def verdicts(rows):
    """The issue's targets checked on the rows: MPS >= 10x fewer LSTM weight
    bytes at <= 2 pp loss, shift + MPS >= 50x fewer bytes, and the seed's claim
    that MPS beats MPO at about the same size."""
    by = {r["name"]: r for r in rows}
    dense = by["dense-fp32"]
    out = []

    def loss(r):
        return 100 * (dense["top1"] - r["top1"])

    mps = [r for r in rows if r["name"].startswith("mps") and r["scheme"] == "float"]
    small = [r for r in mps if dense["bytes"] / r["bytes"] >= 10]
    if small:
        best = max(small, key=lambda r: r["top1"])
        ok = loss(best) <= 2.0
        out.append(f"* MPS with >= 10x fewer LSTM weight bytes within 2 pp of dense FP32: "
                   f"**{'met' if ok else 'not met'}** (best: {best['label']}, "
                   f"{dense['bytes'] / best['bytes']:.1f}x, {-loss(best):+.2f} pp)")
    if "mps8-ds3" in by:
        r = by["mps8-ds3"]
        ratio = dense["bytes"] / r["bytes"]
        out.append(f"* shift + MPS >= 50x fewer bytes than dense f32: "
                   f"**{'met' if ratio >= 50 else 'not met'}** ({ratio:.1f}x, "
                   f"{-loss(r):+.2f} pp)")
    if "mps8-fp32" in by and "mpo4-fp32" in by:
        a, b = by["mps8-fp32"], by["mpo4-fp32"]
        out.append(f"* MPS vs MPO at about the same size ({a['params']} vs {b['params']} weights): "
                   f"MPS {100 * (a['top1'] - b['top1']):+.2f} pp "
                   f"({'MPS better, as the seed argues' if a['top1'] > b['top1'] else 'not reproduced here'})")
    return out


def render(result):
    rows, dense = result["rows"], result["rows"][0]
    title, task = TASKS[result["dataset"]]
    lines = [f"## {title}", "",
             f"Generated by `python3 -m denseshift.lstm_table` on {result['generated']} "
             f"(issue 11, item 3). {task}, "
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
    lines += ["", "Targets (issue 11; one seed, this protocol):", ""] + verdicts(rows)
    if result.get("compiled"):
        lines += ["", "The shift + MPS model compiled (project toolchain, exact mode: every core "
                  "contraction a `shift.matmul`) against PyTorch eval:", ""]
        lines += agreement_lines(result["compiled"])
    info = result["machine"]
    lines += ["", "Command (trains what is missing, then reports):", "", "```sh",
              result["command"], "```", "",
              f"Machine: {info['cpu']}, {info['torch_threads']} torch thread(s). "
              "Per configuration: `python3 -m denseshift.train " + result["example_argv"] + "`."]
    return "\n".join(lines) + "\n"


def run(args, argv):
    configs = configs_of(args)
    only = set(args.only or [c[0] for c in configs])
    configs = [c for c in configs if c[0] in only]
    if "dense-fp32" not in only:
        raise ReportError("the report needs the dense-fp32 run (the compression baseline); "
                             "add it to --only")
    used = {}
    for name, _, model, scheme in configs:
        run_dir = os.path.join(args.out, name)
        used[name] = train_argv(args, model, scheme, run_dir)
        train_or_skip(run_dir, used[name], args.epochs, "lstm", args.no_progress)
    test_x, test_y = test_split(args)
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
            from .export import export_model
            with tempfile.TemporaryDirectory(prefix="denseshift-lstm-") as workdir:
                mlir = os.path.join(workdir, f"{name}.mlir")
                with open(mlir, "w") as f:
                    f.write(export_model(model, 100, input_shape=tuple(test_x.shape[1:])))
                result["compiled"], _ = compiled_agreement(mlir, test_x.numpy(), logits)
    result.update({
        "generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "dataset": args.dataset,
        "protocol": f"at most {args.limit} training examples, {args.epochs} epochs, Adam, "
                    f"cosine learning rate from {args.lr}, batch {args.batch}, seed {args.seed}, "
                    f"top-1 on the {len(test_x)} test examples",
        "command": "cd python && python3 -m denseshift.lstm_table " + " ".join(argv),
        "example_argv": " ".join(used[configs[-1][0]]),
        "machine": machine(), "rows": rows})
    write_section(args.docs, "lstm" if args.dataset == "fashion-mnist" else "lstm-speech",
                  render(result), result)
    print(render(result))
    return result


def main(argv=None):
    return table_main("lstm_table", parse_args, run,
                      (CheckpointError, DatasetError, speech.SpeechError), argv)


if __name__ == "__main__":
    sys.exit(main())
