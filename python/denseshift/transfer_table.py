"""Transfer learning and DenseShift's low-variance initialization (issue 12, item 3).

    python3 -m denseshift.transfer_table --out ../runs/transfer

Task A is Fashion-MNIST classes 0-4, task B classes 5-9 (relabelled 0-4).  Per
seed, with ``denseshift.train`` (cosine, augmentation; one protocol):

1. pretrain on A: FP32, and DenseShift 3-bit with its latents started three
   ways -- ``low-variance`` (the paper's N(0, 1e-3)), ``default`` (torch.nn's
   uniform, bound 1/sqrt(fan_in)), ``from-float`` (the codes of the FP32 A
   model, low-variance latents);
2. transfer each to B (``--init-from``; the head is new): ``full`` fine-tuning
   and ``frozen`` features (only the head trains);
3. a DenseShift model trained on B from scratch for as long, the reference a
   transfer has to beat.

The paper's argument is plasticity: latents that start (and stay) near the
decision boundaries can still flip when the task changes.  So the table also
gives, per fine-tuned run, the share of shift codes that differ from the
pretrained model's and the mean |latent| after pretraining.  Writes the marked
section ``transfer`` of DOCS/RESULTS.md and DOCS/transfer.json.
"""
import argparse
import os
import time

import torch

from .checkpoint import CheckpointError, load_checkpoint, restore_model
from .data import DATA_DIR, DatasetError
from .layers import shift_layers
from .report import table_main, train_or_skip, write_section
from .seeds_table import fmt, mean_std, paired
from .table import DOCS_DIR, machine

TASK_A, TASK_B = "0-4", "5-9"
# (pretraining name, scheme, train.py arguments)
PRETRAINED = (("fp32", "float", []),
              ("low-variance", "denseshift", []),
              ("default", "denseshift", ["--latent-init", "default"]),
              ("from-float", "denseshift", None))       # --init-from the FP32 A model
LABELS = {"fp32": "FP32", "low-variance": "DenseShift, low-variance N(0, 1e-3)",
          "default": "DenseShift, default init (torch.nn)",
          "from-float": "DenseShift, from the FP32 model"}
MODES = ("full", "frozen")


class TransferError(RuntimeError):
    """A stored run does not fit the protocol."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.transfer_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--docs", default=DOCS_DIR)
    p.add_argument("--model", default="smallcnn")
    p.add_argument("--bits", type=int, default=3)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--pretrain-epochs", type=int, default=4)
    p.add_argument("--finetune-epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--limit", type=int, default=30000,
                   help="first N images of each split, before the classes are split")
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("pretrain_epochs", "finetune_epochs", "batch", "limit"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds must be distinct")
    return args


def common(args, seed, epochs):
    return ["--model", args.model, "--bits", str(args.bits), "--epochs", str(epochs),
            "--schedule", "cosine", "--augment", "--lr", repr(args.lr), "--batch", str(args.batch),
            "--limit", str(args.limit), "--seed", str(seed), "--optimizer", "adam",
            "--threads", "1", "--data-dir", args.data_dir]


def checkpoint(run_dir):
    return os.path.join(run_dir, "checkpoint.pt")


def check_protocol(run_dir, argv):
    """A stored run must have been made with exactly these train.py arguments."""
    import json
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.exists(checkpoint(run_dir)):
        return
    try:
        with open(path) as f:
            stored = json.load(f)["args"]
    except (OSError, ValueError, KeyError) as err:
        raise TransferError(f"{path}: cannot read the run's arguments ({err}); use another --out") from err
    from .train import parse_args as train_args
    wanted = vars(train_args(argv))
    keys = ("model", "scheme", "bits", "lr", "batch", "limit", "seed", "classes", "init_from",
            "freeze_features", "latent_init", "augment", "schedule")
    diff = [f"{k}={stored.get(k)!r} (want {wanted[k]!r})" for k in keys if stored.get(k) != wanted[k]]
    if diff:
        raise TransferError(f"{run_dir} was trained with another protocol: {', '.join(diff)}; "
                            "use another --out")


def plan(args, seed):
    """(run_dir, train.py argv, epochs) of every run of one seed, in training order."""
    base = os.path.join(args.out, f"seed{seed}")
    runs = []
    for name, scheme, extra in PRETRAINED:
        run_dir = os.path.join(base, "pretrain", name)
        if extra is None:
            extra = ["--init-from", checkpoint(os.path.join(base, "pretrain", "fp32"))]
        argv = (common(args, seed, args.pretrain_epochs) + ["--scheme", scheme, "--classes", TASK_A]
                + extra + ["--out", run_dir])
        runs.append((run_dir, argv, args.pretrain_epochs))
    for name, scheme, _ in PRETRAINED:
        for mode in MODES:
            run_dir = os.path.join(base, "finetune", f"{name}-{mode}")
            argv = (common(args, seed, args.finetune_epochs)
                    + ["--scheme", scheme, "--classes", TASK_B,
                       "--init-from", checkpoint(os.path.join(base, "pretrain", name))]
                    + (["--freeze-features"] if mode == "frozen" else []) + ["--out", run_dir])
            runs.append((run_dir, argv, args.finetune_epochs))
    run_dir = os.path.join(base, "scratch")
    runs.append((run_dir, common(args, seed, args.finetune_epochs)
                 + ["--scheme", "denseshift", "--classes", TASK_B, "--out", run_dir],
                 args.finetune_epochs))
    return runs


def top1(run_dir):
    return load_checkpoint(checkpoint(run_dir))["history"][-1]["test_acc"]


def _model(run_dir):
    return restore_model(load_checkpoint(checkpoint(run_dir)), checkpoint(run_dir))


def code_change(before_dir, after_dir):
    """Share of shift codes of ``after`` that differ from ``before`` (None for float)."""
    before = dict(shift_layers(_model(before_dir)))
    changed = total = 0
    for name, layer in shift_layers(_model(after_dir)):
        a, b = layer.codes(), before[name].codes()
        changed += int((a != b).any(dim=0).sum())
        total += a[0].numel()
    return changed / total if total else None


def mean_abs_latent(run_dir):
    values = [p.detach().abs().flatten() for name, p in _model(run_dir).named_parameters()
              if name.endswith("_latent")]
    return float(torch.cat(values).mean()) if values else None


def render(result):
    p = result["protocol"]
    lines = ["## Transfer learning with low-variance initialization", "",
             f"Generated {result['generated']} by `{result['command']}` on {result['machine']['cpu']}. "
             f"`{p['model']}`, DenseShift {p['bits']}-bit (first and last layer float); task A = "
             f"Fashion-MNIST classes {TASK_A}, task B = classes {TASK_B}, from the first "
             f"{p['limit']} images of each split; pretraining {p['pretrain_epochs']} epochs, "
             f"fine-tuning {p['finetune_epochs']} (cosine from {p['lr']}, augmentation); "
             f"seeds {', '.join(map(str, p['seeds']))}; top-1 on task B's test images, "
             "mean ± std over seeds.", "",
             "| pretrained on A | A top-1 % | mean abs latent | B, full fine-tuning % | codes changed | "
             "B, frozen features % |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        latent = f"{r['latent']:.2e}" if r["latent"] is not None else "—"
        change = f"{100 * r['changed']:.1f}%" if r["changed"] is not None else "—"
        lines.append(f"| {r['label']} | {fmt(*r['pretrain'])} | {latent} | {fmt(*r['full'])} | "
                     f"{change} | {fmt(*r['frozen'])} |")
    s = result["scratch"]
    lines += ["", f"DenseShift trained on B from scratch for the same {p['finetune_epochs']} epochs: "
              f"{fmt(*s)}%.", ""]
    for v in result["verdicts"]:
        lines.append(f"* {'met' if v['met'] else '**missed**'}: {v['target']} ({v['detail']})")
    lines += ["", "Codes changed: share of shift weights whose code after full fine-tuning "
              "differs from the pretrained model's (plasticity). Command (skips finished runs, "
              "resumes interrupted ones):", "", "```sh", result["command"], "```",
              f"Training time in all: {result['train_minutes']:.0f} min of one core."]
    return "\n".join(lines) + "\n"


def run(args, argv):
    started = time.time()
    plans = {seed: plan(args, seed) for seed in args.seeds}
    for runs in plans.values():          # every protocol mismatch before any training
        for run_dir, run_argv, _ in runs:
            check_protocol(run_dir, run_argv)
    for runs in plans.values():
        for run_dir, run_argv, epochs in runs:
            train_or_skip(run_dir, run_argv, epochs, "transfer", args.no_progress)
    rows, seconds = [], 0.0
    for run_dir, _, _ in (r for runs in plans.values() for r in runs):
        seconds += sum(h["seconds"] for h in load_checkpoint(checkpoint(run_dir))["history"])
    per = {}
    for name, scheme, _ in PRETRAINED:
        got = {"pretrain": [], "full": [], "frozen": [], "changed": [], "latent": []}
        for seed in args.seeds:
            base = os.path.join(args.out, f"seed{seed}")
            pre = os.path.join(base, "pretrain", name)
            got["pretrain"].append(top1(pre))
            for mode in MODES:
                got[mode].append(top1(os.path.join(base, "finetune", f"{name}-{mode}")))
            if scheme != "float":
                got["changed"].append(code_change(pre, os.path.join(base, "finetune", f"{name}-full")))
                got["latent"].append(mean_abs_latent(pre))
        per[name] = got
        rows.append({"name": name, "label": LABELS[name], "pretrain": mean_std(got["pretrain"]),
                     "full": mean_std(got["full"]), "frozen": mean_std(got["frozen"]),
                     "per_seed": {m: got[m] for m in ("pretrain",) + MODES},
                     "changed": sum(got["changed"]) / len(got["changed"]) if got["changed"] else None,
                     "latent": sum(got["latent"]) / len(got["latent"]) if got["latent"] else None})
    scratch = mean_std([top1(os.path.join(args.out, f"seed{s}", "scratch")) for s in args.seeds])
    verdicts = []
    for mode in MODES:
        low, default = per["low-variance"][mode], per["default"][mode]
        c = paired(low, default)
        detail = f"low-variance minus default = {c['mean_pp']:+.2f} pp"
        if c["t"] is not None:
            detail += f", paired t = {c['t']:.2f}, p = {c['p']:.3f}"
        verdicts.append({"target": f"transfer ({mode}) with low-variance init >= default init",
                         "met": c["mean_pp"] >= 0, "detail": detail, "paired": c})
    result = {"generated": time.strftime("%Y-%m-%d %H:%M %Z"),
              "command": "cd python && python3 -m denseshift.transfer_table " + " ".join(argv),
              "machine": machine(),
              "protocol": {k: getattr(args, k) for k in ("model", "bits", "seeds", "pretrain_epochs",
                                                           "finetune_epochs", "lr", "batch", "limit")},
              "rows": rows, "scratch": scratch, "verdicts": verdicts,
              "train_minutes": seconds / 60, "invocation_seconds": time.time() - started}
    write_section(args.docs, "transfer", render(result), result)
    print(render(result))


def main(argv=None):
    return table_main("transfer_table", parse_args, run, (TransferError, CheckpointError, DatasetError),
                      argv)


if __name__ == "__main__":
    raise SystemExit(main())
