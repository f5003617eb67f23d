"""The paper's comparison table, reproduced on Fashion-MNIST (issue 4, item 9).

    python3 -m denseshift.table --out ../runs/table --limit 10000 --epochs 5
    python3 -m denseshift.table all        # every table of RESULTS.md (all_tables.py)

Trains, one after the other and with one protocol (same --model, --limit,
--epochs, --lr, --batch, --seed, --optimizer), the seven configurations
FP32, DenseShift 3-bit, S3 3-bit, DeepShift-Q 3-bit, DeepShift-PS 3-bit,
DenseShift 2-bit and DenseShift 4-bit, each with ``denseshift.train`` into
OUT/<name>/.  A configuration whose checkpoint already has --epochs epochs is
skipped, a shorter one is resumed (``--resume``), so an interrupted table
continues where it stopped; a checkpoint trained with another protocol is an
error (exit 2) rather than silently mixed into the table.

Then writes DOCS/RESULTS.md (the table, protocol, commands, machine, wall
time, the issue's targets checked), DOCS/results.json and DOCS/results.png.
Accuracy is the final epoch's top-1 on the test split as evaluated by
``denseshift.train``: the first min(--limit, 10000) test images, i.e. the
whole test set once --limit >= 10000.  The freezing metric is the final
epoch's, weight-averaged over all shift layers (definitions: docs/python.md).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time

from .checkpoint import (CheckpointError, atomic_write_json,
                         atomic_write_text, load_checkpoint, marked_sections)
from .data import DATA_DIR, DatasetError, load_split
from .models import MODELS

DOCS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))

# (directory name, label, scheme, bits); bits None = float.
CONFIGS = (
    ("fp32", "FP32", "float", None),
    ("denseshift-3b", "DenseShift 3-bit", "denseshift", 3),
    ("s3-3b", "S3 3-bit", "s3", 3),
    ("deepshift-q-3b", "DeepShift-Q 3-bit", "deepshift-q", 3),
    ("deepshift-ps-3b", "DeepShift-PS 3-bit", "deepshift-ps", 3),
    ("denseshift-2b", "DenseShift 2-bit", "denseshift", 2),
    ("denseshift-4b", "DenseShift 4-bit", "denseshift", 4),
)
CONFIG_NAMES = tuple(c[0] for c in CONFIGS)
# train.py arguments that define the protocol; a stored run must match them all.
PROTOCOL_KEYS = ("model", "limit", "lr", "batch", "seed", "optimizer", "s3_reg", "rounding",
                 "keep_first_last")
WALL_FILE = "table_wall.json"   # per-configuration wall time, accumulated over resumes
TARGET_GAP = 1.0                # issue 4: DenseShift 3-bit within 1.0% top-1 of FP32


class TableError(RuntimeError):
    """A stored run does not fit the requested protocol, or training failed."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory of the runs (one subdirectory each)")
    p.add_argument("--docs", default=DOCS_DIR, help="where RESULTS.md, results.json and "
                   "results.png go (default: the repository's docs/)")
    p.add_argument("--model", choices=sorted(MODELS), default="resnet20")
    p.add_argument("--limit", type=int, default=10000,
                   help="first N images of each split (train subset; test = min(N, 10000))")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--only", nargs="+", choices=CONFIG_NAMES, default=list(CONFIG_NAMES),
                   help="train and tabulate only these configurations")
    p.add_argument("--no-plot", action="store_true", help="do not write results.png "
                   "(an existing one is left alone)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = p.parse_args(argv)
    for name in ("limit", "epochs", "batch", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    return args


def train_argv(args, scheme, bits, out):
    argv = ["--model", args.model, "--scheme", scheme]
    if bits is not None:
        argv += ["--bits", str(bits)]
    argv += ["--epochs", str(args.epochs), "--lr", repr(args.lr), "--batch", str(args.batch),
             "--seed", str(args.seed), "--optimizer", args.optimizer, "--limit", str(args.limit),
             "--threads", str(args.threads)]
    if args.data_dir != DATA_DIR:
        argv += ["--data-dir", args.data_dir]
    return argv + ["--out", out]


def stored_state(args, run_dir):
    """Epochs already trained in run_dir (0 if none); TableError if another protocol."""
    path = os.path.join(run_dir, "checkpoint.pt")
    if not os.path.exists(path):
        return 0
    payload = load_checkpoint(path)
    metrics_path = os.path.join(run_dir, "metrics.json")
    try:
        with open(metrics_path) as f:
            stored = json.load(f)["args"]
    except (OSError, ValueError, KeyError) as err:
        raise TableError(f"{metrics_path}: cannot read the run's arguments ({err})") from err
    wanted = {"model": args.model, "limit": args.limit, "lr": args.lr, "batch": args.batch,
              "seed": args.seed, "optimizer": args.optimizer, "s3_reg": 1e-5,
              "rounding": "deterministic", "keep_first_last": True}
    diff = [f"{k}={stored.get(k)!r} (want {wanted[k]!r})" for k in PROTOCOL_KEYS
            if stored.get(k) != wanted[k]]
    if diff:
        raise TableError(f"{run_dir} was trained with another protocol: {', '.join(diff)}; "
                         f"use another --out")
    if payload["epoch"] > args.epochs:
        raise TableError(f"{run_dir} already has {payload['epoch']} epochs, more than "
                         f"--epochs {args.epochs}; use another --out")
    return payload["epoch"]


def train_config(args, name, label, scheme, bits):
    """Train (or resume, or skip) one configuration; returns its argv and what was done."""
    from . import train  # imported here so `--help` stays fast
    run_dir = os.path.join(args.out, name)
    argv = train_argv(args, scheme, bits, run_dir)
    done = stored_state(args, run_dir)
    if done == args.epochs:
        print(f"[table] {label}: {run_dir} already has {done} epochs, skipped", flush=True)
        return argv, "skipped"
    action = "resumed" if done else "trained"
    print(f"[table] {label}: {'resuming after epoch %d' % done if done else 'training'} "
          f"-> {run_dir}", flush=True)
    started = time.time()
    status = train.main(argv + (["--resume"] if done else [])
                        + (["--no-progress"] if args.no_progress else []))
    seconds = time.time() - started
    if status != 0:
        raise TableError(f"training {label} failed (exit {status}); see the message above")
    wall_path = os.path.join(run_dir, WALL_FILE)
    wall = {"seconds": 0.0, "invocations": 0}
    if os.path.exists(wall_path):
        with open(wall_path) as f:
            wall = json.load(f)
    wall = {"seconds": wall["seconds"] + seconds, "invocations": wall["invocations"] + 1}
    atomic_write_json(wall_path, wall)
    return argv, action


def weighted_freezing(freezing):
    """Weight-averaged frozen / sign_flip / changed_net over all shift layers (None if none)."""
    total = sum(f["weights"] for f in freezing.values())
    if not total:
        return None
    return {key: sum(f[key] * f["weights"] for f in freezing.values()) / total
            for key in ("frozen", "sign_flip", "changed_net")} | {"weights": total}


def collect(args, name, label, scheme, bits, argv, action):
    run_dir = os.path.join(args.out, name)
    # The checkpoint's history is authoritative (metrics.json is written just after it).
    history = load_checkpoint(os.path.join(run_dir, "checkpoint.pt"))["history"][:args.epochs]
    last = history[-1]
    wall = None
    if os.path.exists(os.path.join(run_dir, WALL_FILE)):
        with open(os.path.join(run_dir, WALL_FILE)) as f:
            wall = json.load(f)
    return {
        "name": name, "label": label, "scheme": scheme, "bits": bits if bits else 32,
        "run_dir": os.path.abspath(run_dir), "action": action,
        "command": "python3 -m denseshift.train " + shlex.join(argv),
        "top1": last["test_acc"], "test_loss": last["test_loss"], "train_acc": last["train_acc"],
        "per_epoch_test_acc": [h["test_acc"] for h in history],
        "best_top1": max(h["test_acc"] for h in history),
        "best_epoch": max(history, key=lambda h: h["test_acc"])["epoch"],
        "epoch_seconds": sum(h["seconds"] for h in history),
        "wall_seconds": wall["seconds"] if wall else None,
        "freezing": weighted_freezing(last["freezing"]),
        "freezing_per_layer": last["freezing"],
    }


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    import torch
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu": model, "logical_cpus": os.cpu_count(), "affinity": affinity,
            "niceness": os.nice(0), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "system": f"{platform.system()} {platform.release()}"}


def table_command(argv, info):
    prefix = []
    if info["affinity"] is not None and len(info["affinity"]) < (info["logical_cpus"] or 0):
        prefix += ["taskset", "-c", ",".join(map(str, info["affinity"]))]
    if info["niceness"]:
        prefix += ["nice", "-n", str(info["niceness"])]
    return shlex.join(prefix + ["python3", "-m", "denseshift.table"] + list(argv))


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def pct(x):
    return f"{100 * x:.2f}"


def verdicts(rows, key="top1"):
    """The issue's two targets, on the final epoch (key="top1") or the best epoch ("best_top1")."""
    by = {r["name"]: r for r in rows}
    out = {}
    if "fp32" in by and "denseshift-3b" in by:
        gap = 100 * (by["fp32"][key] - by["denseshift-3b"][key])
        out["denseshift3_within_1pct_of_fp32"] = {"gap_pp": gap, "met": gap <= TARGET_GAP}
    if "s3-3b" in by and "denseshift-3b" in by:
        diff = 100 * (by["denseshift-3b"][key] - by["s3-3b"][key])
        out["denseshift3_at_least_s3"] = {"diff_pp": diff, "met": diff >= 0}
    return out


def verdict_lines(v, when):
    lines = []
    if "denseshift3_within_1pct_of_fp32" in v:
        t = v["denseshift3_within_1pct_of_fp32"]
        lines.append(f"* {when}: DenseShift 3-bit within {TARGET_GAP:.1f} percentage point top-1 "
                     f"of FP32: **{'met' if t['met'] else 'not met'}** (FP32 minus DenseShift "
                     f"3-bit = {t['gap_pp']:+.2f} pp).")
    if "denseshift3_at_least_s3" in v:
        t = v["denseshift3_at_least_s3"]
        lines.append(f"* {when}: zero-free DenseShift 3-bit at least as accurate as S3 3-bit "
                     f"(with zero): **{'met' if t['met'] else 'not met'}** (DenseShift 3-bit "
                     f"minus S3 3-bit = {t['diff_pp']:+.2f} pp).")
    return lines


def render_markdown(result):
    p, info, rows = result["protocol"], result["machine"], result["rows"]
    fp32 = next((r for r in rows if r["name"] == "fp32"), None)
    lines = [
        "# Results: the paper's table on Fashion-MNIST (reduced protocol)", "",
        f"Generated by `python/denseshift/table.py` on {result['generated']}. "
        "Issue 4, item 9. **This is a reduced protocol, not the paper's**: a "
        f"{p['train_images']}-image training subset, {plural(p['epochs'], 'epoch')}, constant "
        "learning "
        "rate, no augmentation, on 1 CPU thread; the paper trains for hundreds of epochs on "
        "ImageNet/CIFAR with schedules. The numbers below compare the schemes under one small, "
        "identical budget; they are not the paper's accuracies and do not say what the schemes "
        "reach when trained to convergence.", "",
        f"Top-1 on the first {p['test_images']} Fashion-MNIST test images"
        + (" (the whole test set)" if p["test_images"] >= 10000 else " (a subset, not the whole test set)")
        + ", after the final epoch (*best epoch*: the highest of the per-epoch test "
        "accuracies, selected on the test set and therefore optimistic). Freezing metric: final epoch, weight-averaged over the "
        "shift layers (the first conv and the last FC stay float); *frozen* = share of weights "
        "whose code never changed during the epoch, *sign flips* = share whose sign flipped "
        "between -1 and +1 at least once, *net changed* = code differs between the epoch's start "
        "and end (definitions: [python.md](python.md#weight-freezing-metric)).", "",
        "| configuration | bits | top-1 (%) | Δ vs FP32 (pp) | frozen (%) | sign flips (%) "
        "| net changed (%) | best epoch top-1 (%) | time (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        delta = f"{100 * (r['top1'] - fp32['top1']):+.2f}" if fp32 and r is not fp32 else "—"
        f = r["freezing"]
        fz = (pct(f["frozen"]), pct(f["sign_flip"]), pct(f["changed_net"])) if f else ("—",) * 3
        secs = r["wall_seconds"] if r["wall_seconds"] is not None else r["epoch_seconds"]
        lines.append(f"| {r['label']} | {r['bits']} | {pct(r['top1'])} | {delta} | {fz[0]} | "
                     f"{fz[1]} | {fz[2]} | {pct(r['best_top1'])} (ep {r['best_epoch']}) | "
                     f"{secs:.0f} |")
    lines += ["", "Test top-1 (%) after each epoch:", "",
              "| configuration | " + " | ".join(f"ep {i + 1}" for i in range(p["epochs"])) + " |",
              "|---|" + "---|" * p["epochs"]]
    for r in rows:
        lines.append(f"| {r['label']} | " + " | ".join(pct(a) for a in r["per_epoch_test_acc"]) + " |")
    lines += ["", "## The issue's targets under this protocol", ""]
    lines += verdict_lines(result["verdicts"], "Final epoch (the table's number)")
    lines += verdict_lines(result["verdicts_best_epoch"],
                           "Best epoch (chosen on the test set, so optimistic)")
    swing = max(((abs(r["per_epoch_test_acc"][-1] - r["per_epoch_test_acc"][-2]), r["label"])
                 for r in rows if len(r["per_epoch_test_acc"]) > 1), default=None)
    noise = (f"test top-1 moved by up to {100 * swing[0]:.2f} pp between the last two epochs "
             f"({swing[1]}), so " if swing else "")
    dips = [f"{r['label']} ({100 * (r['best_top1'] - r['top1']):.2f} pp below its epoch "
            f"{r['best_epoch']})" for r in rows if r["best_top1"] - r["top1"] > 0.01]
    if dips:
        lines.append("* Final epoch more than 1 pp below the best epoch: " + ", ".join(dips)
                     + "; a final-epoch comparison involving these reflects where the last "
                     "epoch happened to land as much as the scheme.")
    stuck = [f"{r['label']} ({pct(r['freezing']['frozen'])}% frozen, "
             f"{pct(r['freezing']['sign_flip'])}% sign flips)"
             for r in rows if r["freezing"] and r["freezing"]["frozen"] >= 0.95]
    if stuck:
        lines.append("* Codes that barely move in the final epoch (frozen >= 95%): "
                     + ", ".join(stuck) + ".")
    lines.append(f"* Single seed ({p['seed']}), constant learning rate: {noise}differences "
                 "of a point or two between configurations are within the epoch-to-epoch noise "
                 "of such short training and are not significant.")
    if result.get("notes"):
        lines += [""] + [f"{n}" for n in result["notes"]]
    lines += ["", "## Protocol", "",
              f"* Model `{p['model']}`; optimizer {p['optimizer']}, lr {p['lr']} (constant), "
              f"batch {p['batch']}, seed {p['seed']}, {plural(p['epochs'], 'epoch')} over the first "
              f"{p['train_images']} training images (`--limit {p['limit']}`), no augmentation; "
              "inputs normalised with mean 0.2860 / std 0.3530.",
              "* Scheme defaults of `denseshift.train`: latents N(0, 1e-3), power-of-two alpha, "
              "first conv and last FC kept float, DeepShift-Q deterministic rounding, S3 "
              "regularizer weight 1e-5.",
              f"* Per-epoch evaluation on {p['test_images']} test images is included in the times.",
              "", "Command (the whole table; it skips configurations already trained and resumes "
              "interrupted ones):", "", "```sh", "cd python", result["command"], "```", "",
              "which runs, for each configuration:", "", "```sh"]
    lines += [r["command"] for r in rows]
    lines += ["```", "", "## Machine and time", "",
              f"* {info['cpu']}, {info['logical_cpus']} logical CPUs shared with other jobs; "
              f"training pinned to CPU(s) {info['affinity']} at niceness {info['niceness']}, "
              f"{p['threads']} torch thread; {info['system']}, Python {info['python']}, "
              f"torch {info['torch']}.",
              f"* Wall time of the configurations trained: {result['train_wall_seconds'] / 60:.1f} min "
              f"(sum of the per-configuration times above); this invocation: "
              f"{result['invocation_seconds'] / 60:.1f} min"
              + (f" (it skipped {', '.join(result['skipped'])}, trained earlier)"
                 if result["skipped"] else "") + ".",
              "* Times are wall-clock on a shared machine, so they vary with the other load.",
              "", "Raw numbers: [results.json](results.json)"
              + ("; plot: [results.png](results.png)." if result["plot"] else "."), ""]
    return "\n".join(lines)


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import save_png
    rows = result["rows"]
    labels = [r["label"] for r in rows]
    fig, (acc_ax, curve_ax, frz_ax) = plt.subplots(1, 3, figsize=(18, 4.8))
    acc = [100 * r["top1"] for r in rows]
    acc_ax.barh(labels, acc, color=["tab:grey" if r["scheme"] == "float" else "tab:blue" for r in rows])
    for y, a in enumerate(acc):
        acc_ax.text(a, y, f" {a:.2f}", va="center", fontsize="small")
    low = min(acc)
    acc_ax.set(xlabel="top-1 (%)", title="final test accuracy",
               xlim=(max(0.0, low - 5), min(100.0, max(acc) + 4)))
    acc_ax.invert_yaxis()
    for r in rows:
        epochs = range(1, len(r["per_epoch_test_acc"]) + 1)
        curve_ax.plot(epochs, [100 * a for a in r["per_epoch_test_acc"]], "-o", label=r["label"])
    curve_ax.set(xlabel="epoch", ylabel="test top-1 (%)", title="test accuracy per epoch")
    curve_ax.set_xticks(range(1, max(len(r["per_epoch_test_acc"]) for r in rows) + 1))
    curve_ax.legend(fontsize="small")
    curve_ax.grid(alpha=0.3)
    shift = [r for r in rows if r["freezing"]]
    ys = range(len(shift))
    frz_ax.barh([y - 0.2 for y in ys], [100 * r["freezing"]["frozen"] for r in shift], 0.4,
                label="frozen")
    frz_ax.barh([y + 0.2 for y in ys], [100 * r["freezing"]["sign_flip"] for r in shift], 0.4,
                label="sign flips")
    frz_ax.set_yticks(list(ys), [r["label"] for r in shift])
    frz_ax.invert_yaxis()
    frz_ax.set(xlabel="% of shift-layer weights (final epoch)", title="weight freezing", xlim=(0, 100))
    frz_ax.legend(fontsize="small")
    p = result["protocol"]
    fig.suptitle(f"{p['model']} on Fashion-MNIST, {p['train_images']} train images x "
                 f"{p['epochs']} epochs (reduced protocol)")
    fig.tight_layout()
    save_png(fig, path, dpi=90)


def run(args, argv):
    started = time.time()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.docs, exist_ok=True)
    selected = [c for c in CONFIGS if c[0] in args.only]
    # Check every stored run first, so a protocol mismatch fails before hours of training.
    for name, *_ in selected:
        stored_state(args, os.path.join(args.out, name))
    done = []
    for name, label, scheme, bits in selected:
        argv_c, action = train_config(args, name, label, scheme, bits)
        done.append((name, label, scheme, bits, argv_c, action))
    rows = [collect(args, *d) for d in done]
    info = machine()
    train_images = len(load_split("train", args.data_dir, args.limit)[1])
    test_images = len(load_split("test", args.data_dir, args.limit)[1])
    result = {
        "generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": table_command(argv, info),
        "protocol": {"model": args.model, "limit": args.limit, "epochs": args.epochs,
                     "lr": args.lr, "batch": args.batch, "seed": args.seed,
                     "optimizer": args.optimizer, "threads": args.threads,
                     "train_images": train_images, "test_images": test_images},
        "machine": info, "rows": rows, "verdicts": verdicts(rows),
        "verdicts_best_epoch": verdicts(rows, "best_top1"),
        "skipped": [r["label"] for r in rows if r["action"] == "skipped"],
        "train_wall_seconds": sum(r["wall_seconds"] if r["wall_seconds"] is not None
                                  else r["epoch_seconds"] for r in rows),
        "plot": not args.no_plot,
    }
    result["invocation_seconds"] = time.time() - started
    if not args.no_plot:
        plot(result, os.path.join(args.docs, "results.png"))
    atomic_write_json(os.path.join(args.docs, "results.json"), result)
    results_md = os.path.join(args.docs, "RESULTS.md")
    kept = []       # sections other tools maintain (e.g. denseshift.ptq's), kept as they are
    if os.path.isfile(results_md):
        with open(results_md, encoding="utf-8") as f:
            kept = marked_sections(f.read())
    atomic_write_text(results_md, "\n".join([render_markdown(result).rstrip("\n"), *kept]) + "\n")
    print(f"[table] wrote {os.path.join(args.docs, 'RESULTS.md')}")
    for r in rows:
        f = r["freezing"]
        print(f"  {r['label']:20s} {pct(r['top1']):>6s}%"
              + (f"  frozen {pct(f['frozen'])}% sign flips {pct(f['sign_flip'])}%" if f else ""))
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["all"]:          # every table of RESULTS.md (denseshift.all_tables)
        from .all_tables import main as all_main
        return all_main(argv[1:])
    args = parse_args(argv)
    try:
        run(args, argv)
    except (TableError, CheckpointError, DatasetError) as err:
        print(f"denseshift.table: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
