"""OFQ ablation on a small ViT, uniform and power-of-two weights (issue 12, item 2).

    python3 -m denseshift.ofq_table --out ../runs/ofq

1. Trains (or finds) a float ViT (``--model vit``, ``denseshift.train``, cosine,
   augmentation) into OUT/fp32: OFQ quantizes a trained float model.
2. For every configuration and seed, quantizes a copy (:mod:`denseshift.ofq`)
   and trains it: ``--qat-epochs`` with a cosine learning rate from
   ``--qat-lr`` (images augmented as by ``train --augment``), then ``--anneal-epochs`` at ``--anneal-lr`` -- with CGA the
   confident weights are frozen in that phase, without it every weight
   trains, so each configuration gets the same steps.  The oscillation
   metric is recorded every step.  A finished run (OUT/<config>/seed<k>/
   result.json) is skipped; a run is the unit of resumption (a few minutes).
3. Compiles the pow2 2-bit OFQ model of the first seed (shift layers; QKR's
   merged query-key matrix included) for x86-64 and AArch64 (qemu) and
   compares its predictions with PyTorch's.
4. Writes the marked section ``ofq`` of DOCS/RESULTS.md, DOCS/ofq.json and
   DOCS/ofq.png (oscillation over training).

OUT/protocol.json records the protocol; a different one is an error before
anything trains (use another --out).
"""
import argparse
import json
import os
import time
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from . import ofq
from .checkpoint import CheckpointError, atomic_write_json, load_model
from .data import DATA_DIR, DatasetError, load_split
from .report import agreement_lines, compiled_agreement, table_main, train_or_skip, write_section
from .seeds_table import mean_std, paired
from .table import DOCS_DIR, machine
from .train import augment, evaluate, learning_rate

# (name, label, grid, bits, scale, cga, qkr)
CONFIGS = tuple(
    [(f"{g}-2b-{tag}", f"{g} 2-bit {label}", g, 2, scale, cga, qkr)
     for g in ofq.GRIDS
     for tag, label, scale, cga, qkr in (
         ("lsq", "learned scale (baseline)", "learned", False, False),
         ("statsq", "StatsQ", "stats", False, False),
         ("statsq-cga", "StatsQ + CGA", "stats", True, False),
         ("statsq-qkr", "StatsQ + QKR", "stats", False, True),
         ("ofq", "OFQ (StatsQ + CGA + QKR)", "stats", True, True))]
    + [(f"{g}-3b-{tag}", f"{g} 3-bit {label}", g, 3, scale, cga, qkr)
       for g in ofq.GRIDS
       for tag, label, scale, cga, qkr in (
           ("lsq", "learned scale (baseline)", "learned", False, False),
           ("ofq", "OFQ (StatsQ + CGA + QKR)", "stats", True, True))])
CONFIG_NAMES = tuple(c[0] for c in CONFIGS)
COMPILED = "pow2-2b-ofq"


class OFQTableError(RuntimeError):
    """The runs in --out were made with another protocol, or a run failed."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.ofq_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--docs", default=DOCS_DIR)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--float-epochs", type=int, default=8)
    p.add_argument("--float-limit", type=int, default=20000, help="training images of the float ViT")
    p.add_argument("--float-lr", type=float, default=1e-3)
    p.add_argument("--limit", type=int, default=10000, help="training images of each QAT run")
    p.add_argument("--qat-epochs", type=int, default=2)
    p.add_argument("--qat-lr", type=float, default=5e-4)
    p.add_argument("--anneal-epochs", type=int, default=1)
    p.add_argument("--anneal-lr", type=float, default=1e-5, help="OFQ's CGA runs at min_lr 1e-5")
    p.add_argument("--boundary", type=float, default=ofq.BOUNDARY)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--test-limit", type=int, default=None, help="first N test images (default: all)")
    p.add_argument("--arm-images", type=int, default=200)
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--only", nargs="+", choices=CONFIG_NAMES)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("float_epochs", "float_limit", "limit", "qat_epochs", "batch"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.anneal_epochs < 0:
        p.error("--anneal-epochs must be >= 0")
    if not 0 < args.boundary < 0.5:
        p.error("--boundary must be in (0, 0.5)")
    if len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds must be distinct")
    return args


PROTOCOL_KEYS = ("float_epochs", "float_limit", "float_lr", "limit", "qat_epochs", "qat_lr",
                 "anneal_epochs", "anneal_lr", "boundary", "batch", "test_limit")


def check_protocol(args):
    """OUT/protocol.json must match (written on first use)."""
    wanted = {k: getattr(args, k) for k in PROTOCOL_KEYS}
    path = os.path.join(args.out, "protocol.json")
    if os.path.exists(path):
        try:
            with open(path) as f:
                stored = json.load(f)
        except (OSError, ValueError) as err:
            raise OFQTableError(f"{path}: unreadable ({err}); use another --out") from err
        diff = [f"{k}={stored.get(k)!r} (want {v!r})" for k, v in wanted.items() if stored.get(k) != v]
        if diff:
            raise OFQTableError(f"{args.out} holds runs of another protocol: {', '.join(diff)}; "
                                "use another --out")
    else:
        os.makedirs(args.out, exist_ok=True)
        atomic_write_json(path, wanted)


def float_argv(args, run_dir):
    return ["--model", "vit", "--scheme", "float", "--epochs", str(args.float_epochs),
            "--schedule", "cosine", "--augment", "--lr", repr(args.float_lr),
            "--batch", str(args.batch), "--limit", str(args.float_limit), "--seed", "0",
            "--optimizer", "adam", "--threads", "1", "--data-dir", args.data_dir, "--out", run_dir]


def quantized_model(float_path, config):
    """A fresh copy of the float ViT, quantized as ``config`` says."""
    model, _ = load_model(float_path)
    _, _, grid, bits, scale, _, qkr = config
    model.train()
    return ofq.quantize_vit(model, grid, bits, scale, qkr)


def qat(model, config, args, seed, data, log):
    """Train one configuration; returns the result record."""
    train_x, train_y, test_x, test_y = data
    _, _, _, _, _, use_cga, _ = config
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.qat_lr)
    tracker = ofq.OscillationTracker(model)
    cga = ofq.ConfidenceGuidedAnnealing(model, args.boundary) if use_cga else None
    steps_per_epoch = (len(train_x) + args.batch - 1) // args.batch
    cosine = SimpleNamespace(schedule="cosine", lr=args.qat_lr, epochs=args.qat_epochs)
    epochs, step, started = [], 0, time.time()
    for epoch in range(1, args.qat_epochs + args.anneal_epochs + 1):
        annealing = epoch > args.qat_epochs
        model.train()
        tracker.reset()
        order = torch.randperm(len(train_x))
        total_loss, trainable = 0.0, []
        for start in range(0, len(train_x), args.batch):
            index = order[start:start + args.batch]
            lr = args.anneal_lr if annealing else learning_rate(cosine, step, steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = F.cross_entropy(model(augment(train_x[index])), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if annealing and cga is not None:
                cga.before_step()
                trainable.append(cga.trainable_share)
            optimizer.step()
            if annealing and cga is not None:
                cga.after_step()
            tracker.step()
            total_loss += loss.item() * len(index)
            step += 1
        _, top1 = evaluate(model, test_x, test_y, 256)
        record = {"epoch": epoch, "phase": "anneal" if annealing else "qat", "top1": top1,
                  "train_loss": total_loss / len(train_x), "oscillation": tracker.report(),
                  "cga_trainable": float(np.mean(trainable)) if trainable else None}
        epochs.append(record)
        log(f"epoch {epoch} ({record['phase']}): top-1 {100 * top1:.2f}%  oscillating "
            f"{100 * record['oscillation']['oscillating']:.2f}% of weights, "
            f"{1e3 * record['oscillation']['frequency']:.3f} per 1000 weight-steps"
            + (f", CGA trains {100 * record['cga_trainable']:.2f}%" if record["cga_trainable"] else ""))
    final = epochs[-1]
    last_qat = epochs[args.qat_epochs - 1]
    return {"top1": final["top1"], "top1_before_anneal": last_qat["top1"], "epochs": epochs,
            "oscillating_last_qat_epoch": last_qat["oscillation"]["oscillating"],
            "frequency_last_qat_epoch": last_qat["oscillation"]["frequency"],
            "oscillating_final": final["oscillation"]["oscillating"],
            "seconds": time.time() - started}


def run_config(args, config, seed, float_path, data):
    run_dir = os.path.join(args.out, config[0], f"seed{seed}")
    result_path = os.path.join(run_dir, "result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            print(f"[ofq] {config[0]} seed{seed}: done, skipped", flush=True)
            return json.load(f)
    print(f"[ofq] {config[0]} seed{seed}: training", flush=True)
    model = quantized_model(float_path, config)
    result = qat(model, config, args, seed, data, lambda line: print(f"  {line}", flush=True))
    os.makedirs(run_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(run_dir, "model.pt"))
    atomic_write_json(result_path, result)       # last: its presence means finished
    return result


def compile_check(args, float_path, test_x, work):
    """Compile the first seed's pow2 2-bit OFQ ViT; predictions vs PyTorch."""
    from .export import export_model
    config = dict((c[0], c) for c in CONFIGS)[COMPILED]
    model = quantized_model(float_path, config)
    model.load_state_dict(torch.load(os.path.join(args.out, COMPILED, f"seed{args.seeds[0]}", "model.pt")))
    model.eval()
    ofq.deployable(model)
    with torch.no_grad():
        logits = model(test_x).numpy()
    mlir = os.path.join(work, "vit-ofq.mlir")
    with open(mlir, "w") as f:
        f.write(export_model(model, 1, input_shape=(1, 28, 28)))
    results, _ = compiled_agreement(mlir, test_x.numpy(), logits, args.arm_images)
    return results


def pct(x):
    return f"{100 * x:.2f}"


def render(result):
    p = result["protocol"]
    lines = [
        "## 2-bit vision transformers with OFQ (StatsQ, CGA, QKR)", "",
        f"Generated {result['generated']} by `{result['command']}` on {result['machine']['cpu']} "
        f"({result['train_minutes']:.0f} min of QAT runs in all, one core each; "
        f"{result['wall_minutes']:.0f} min for this invocation). "
        f"Model: the ViT of `denseshift/vit.py` (7x7 patches, width 48, 3 blocks, 3 heads), "
        f"float-trained for {p['float_epochs']} epochs on {p['float_limit']} images to "
        f"{pct(result['float_top1'])}% top-1; every configuration quantizes that model's "
        f"block weights (patch embedding and head stay float, activations f32) and trains "
        f"{p['qat_epochs']} epochs (cosine from {p['qat_lr']}) plus {p['anneal_epochs']} at "
        f"{p['anneal_lr']} (with CGA: only weights within {p['boundary']} of a threshold train) "
        f"on {p['limit']} images (2-pixel shifts and flips); top-1 on {result['test_images']} test images; "
        f"seeds {', '.join(map(str, p['seeds']))}.", "",
        "| configuration | top-1 % (mean ± std) | per seed | before anneal | oscillating weights, last QAT epoch | after anneal |",
        "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['label']} | {pct(r['mean'])} ± {pct(r['std'])} | "
                     f"{' / '.join(pct(v) for v in r['per_seed'])} | {pct(r['before_anneal'])} | "
                     f"{pct(r['oscillating'])}% | {pct(r['oscillating_final'])}% |")
    lines += ["", "Oscillating: share of weights whose level changed direction at least once in "
              "the epoch (Nagel et al.'s definition, as OFQ's `TrackOscillation`).", ""]
    for v in result["verdicts"]:
        lines.append(f"* {'met' if v['met'] else '**missed**'}: {v['target']} ({v['detail']})")
    if result.get("compiled"):
        lines += ["", f"Compiled `{COMPILED}` (seed {p['seeds'][0]}, shift layers incl. QKR's "
                  "query-key matrix) against PyTorch:"] + agreement_lines(result["compiled"])
    return "\n".join(lines) + "\n"


def verdicts(rows, seeds):
    by = {r["name"]: r for r in rows}
    found = []
    for grid in ofq.GRIDS:
        base, full = by.get(f"{grid}-2b-lsq"), by.get(f"{grid}-2b-ofq")
        if not (base and full):
            continue
        margin = full["mean"] - base["mean"]
        noise = max(base["std"], full["std"])
        detail = (f"OFQ minus baseline = {100 * margin:+.2f} pp, largest seed std "
                  f"{100 * noise:.2f} pp")
        if len(seeds) >= 2:
            t = paired(full["per_seed"], base["per_seed"])
            detail += f", paired t = {t['t']:.2f}, p = {t['p']:.3f}"
        found.append({"target": f"{grid} 2-bit ViT: OFQ >= baseline by more than the seed std",
                      "met": margin > noise, "detail": detail})
    return found


def plot(result, path):
    from .plots import plt, save_png
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for r in result["rows"]:
        if r["bits"] != 2:
            continue
        ax.plot(range(1, len(r["oscillating_curve"]) + 1), [100 * v for v in r["oscillating_curve"]],
                marker="o", label=r["label"])
    epochs = max((len(r["oscillating_curve"]) for r in result["rows"]), default=1)
    ax.set_xticks(range(1, epochs + 1))
    ax.set_xlabel("epoch (last: anneal phase)")
    ax.set_ylabel("oscillating weights %")
    ax.set_yscale("log")
    ax.legend(fontsize=6)
    fig.tight_layout()
    save_png(fig, path, dpi=90)


def run(args, argv):
    started = time.time()
    check_protocol(args)
    float_dir = os.path.join(args.out, "fp32")
    train_or_skip(float_dir, float_argv(args, float_dir), args.float_epochs, "ofq", args.no_progress)
    float_path = os.path.join(float_dir, "checkpoint.pt")
    train_x, train_y = load_split("train", args.data_dir, args.limit)
    test_x, test_y = load_split("test", args.data_dir, args.test_limit)
    float_model, _ = load_model(float_path)
    _, float_top1 = evaluate(float_model, test_x, test_y, 256)
    selected = [c for c in CONFIGS if args.only is None or c[0] in args.only]
    rows = []
    for config in selected:
        got = [run_config(args, config, seed, float_path, (train_x, train_y, test_x, test_y))
               for seed in args.seeds]
        per_seed = [g["top1"] for g in got]
        mean, std = mean_std(per_seed)
        curve = [float(np.mean([g["epochs"][e]["oscillation"]["oscillating"] for g in got]))
                 for e in range(len(got[0]["epochs"]))]
        rows.append({"name": config[0], "label": config[1], "grid": config[2], "bits": config[3],
                     "scale": config[4], "cga": config[5], "qkr": config[6],
                     "per_seed": per_seed, "mean": mean, "std": std,
                     "before_anneal": float(np.mean([g["top1_before_anneal"] for g in got])),
                     "oscillating": float(np.mean([g["oscillating_last_qat_epoch"] for g in got])),
                     "oscillating_final": float(np.mean([g["oscillating_final"] for g in got])),
                     "oscillating_curve": curve,
                     "minutes": float(np.mean([g["seconds"] for g in got])) / 60})
    compiled = None
    if not args.no_compile and COMPILED in [c[0] for c in selected]:
        compiled = compile_check(args, float_path, test_x, args.out)
    result = {
        "generated": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": "cd python && python3 -m denseshift.ofq_table " + " ".join(argv),
        "machine": machine(),
        "protocol": {**{k: getattr(args, k) for k in PROTOCOL_KEYS}, "seeds": args.seeds},
        "float_top1": float_top1, "test_images": len(test_x), "rows": rows,
        "verdicts": verdicts(rows, args.seeds), "compiled": compiled,
        "train_minutes": sum(r["minutes"] * len(args.seeds) for r in rows),
        "wall_minutes": (time.time() - started) / 60}
    if not args.no_plot:
        os.makedirs(args.docs, exist_ok=True)
        plot(result, os.path.join(args.docs, "ofq.png"))
    write_section(args.docs, "ofq", render(result), result)
    print(render(result))


def main(argv=None):
    return table_main("ofq_table", parse_args, run,
                      (OFQTableError, ofq.OFQError, CheckpointError, DatasetError), argv)


if __name__ == "__main__":
    raise SystemExit(main())
