"""The paper's comparison, converged and over seeds (issue 12, item 1).

    python3 -m denseshift.seeds_table --out ../runs/converged --model smallcnn \\
        --epochs 15 --seeds 0 1 2

Trains the seven configurations of :mod:`denseshift.table` (FP32, DenseShift
2/3/4-bit, S3 3-bit, DeepShift-Q/PS 3-bit) on the whole training set with a
cosine learning rate and augmentation, once per seed, into OUT/<config>/seed<k>
(finished runs are skipped, shorter ones resumed; a run made with another
protocol is an error before anything trains).  Reports mean +- std over seeds
of the final top-1, a paired comparison over seeds (mean difference, its
standard error, Student t and two-sided p) for DenseShift 3-bit vs FP32 and vs
S3 3-bit, the issue's targets, the per-epoch curves and the freezing metric
over training (plotted), with the machine and the wall time; writes the marked
section ``converged`` of DOCS/RESULTS.md, DOCS/converged.json and
DOCS/converged.png.
"""
import argparse
import datetime
import math
import os
import sys
import time
from types import SimpleNamespace

from .checkpoint import CheckpointError, load_checkpoint
from .data import DATA_DIR, DatasetError, load_split
from .models import MODELS
from .report import table_main, train_or_skip, write_section
from .table import CONFIGS, DOCS_DIR, TableError, machine, stored_state, weighted_freezing

# The targets (pp of top-1, on the mean over seeds).
DS3_VS_FP32 = 0.5
DS2_VS_FP32 = 1.5


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.seeds_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--docs", default=DOCS_DIR)
    p.add_argument("--model", choices=sorted(MODELS), default="smallcnn")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--limit", type=int, default=None, help="first N images (default: all)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--only", nargs="+", choices=[c[0] for c in CONFIGS])
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("epochs", "batch", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    if args.limit is not None and args.limit <= 0:
        p.error("--limit must be positive")
    if len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds must be distinct")
    return args


def run_args(args, seed):
    """The protocol of one run, in the shape table.stored_state checks."""
    return SimpleNamespace(model=args.model, limit=args.limit, lr=args.lr, batch=args.batch,
                           seed=seed, optimizer="adam", epochs=args.epochs)


def train_argv(args, scheme, bits, seed, run_dir):
    argv = ["--model", args.model, "--scheme", scheme, "--bits", str(bits or 3),
            "--epochs", str(args.epochs), "--schedule", "cosine", "--lr", repr(args.lr),
            "--batch", str(args.batch), "--seed", str(seed), "--optimizer", "adam",
            "--threads", str(args.threads), "--data-dir", args.data_dir, "--out", run_dir]
    if args.augment:
        argv.append("--augment")
    if args.limit is not None:
        argv += ["--limit", str(args.limit)]
    return argv


def check_stored(args, run_dir, seed):
    """table.stored_state, plus the schedule and augmentation of the run."""
    stored_state(run_args(args, seed), run_dir)
    path = os.path.join(run_dir, "checkpoint.pt")
    if os.path.exists(path):
        schedule = load_checkpoint(path).get("schedule", {"schedule": "constant"})
        wanted = {"schedule": "cosine", "augment": args.augment, "epochs": args.epochs}
        if schedule != wanted:
            raise TableError(f"{run_dir} was trained with {schedule}, not {wanted}; "
                             "use another --out")


def student_t_p(t, dof):
    """Two-sided p of Student's t with ``dof`` degrees of freedom:
    I_{dof/(dof+t^2)}(dof/2, 1/2), the regularized incomplete beta."""
    if not math.isfinite(t):
        return 0.0
    return _betainc(dof / 2.0, 0.5, dof / (dof + t * t))


def _betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0) / a


def mean_std(values):
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
    return mean, std


def paired(a, b):
    """Paired comparison of per-seed top-1 lists a - b (in pp)."""
    diffs = [100 * (x - y) for x, y in zip(a, b)]
    mean, std = mean_std(diffs)
    n = len(diffs)
    if n < 2:
        return {"n": n, "mean_pp": mean, "sem_pp": None, "t": None, "p": None}
    sem = std / math.sqrt(n)
    t = mean / sem if sem > 0 else (math.inf if mean else 0.0)
    return {"n": n, "mean_pp": mean, "sem_pp": sem, "t": t,
            "p": student_t_p(t, n - 1) if sem > 0 or mean else 1.0}


def collect(run_dir):
    history = load_checkpoint(os.path.join(run_dir, "checkpoint.pt"))["history"]
    return {"top1": history[-1]["test_acc"], "curve": [h["test_acc"] for h in history],
            "seconds": sum(h["seconds"] for h in history),
            "freezing": [weighted_freezing(h["freezing"]) for h in history]}


def fmt(mean, std):
    return f"{100 * mean:.2f} ± {100 * std:.2f}" if math.isfinite(std) else f"{100 * mean:.2f}"


def verdict(name, ok, text):
    return f"* {name}: **{'met' if ok else 'not met'}** ({text})."


def render(result):
    p, rows = result["protocol"], result["rows"]
    by = {r["name"]: r for r in rows}
    lines = ["## Converged, multi-seed comparison", "",
             f"Generated by `python3 -m denseshift.seeds_table` on {result['generated']} "
             f"(issue 12, item 1). `{p['model']}` on {p['train_images']} Fashion-MNIST training "
             f"images, {p['epochs']} epochs, Adam, cosine learning rate from {p['lr']}, batch "
             f"{p['batch']}, {'random 2-pixel shifts and flips' if p['augment'] else 'no augmentation'}"
             f"; seeds {', '.join(map(str, p['seeds']))}. Top-1 on the {p['test_images']} test "
             "images after the last epoch, mean ± sample std over seeds; freezing: the final "
             "epoch's, weight-averaged over the shift layers.", "",
             "| configuration | bits | top-1 (%) mean ± std | per seed | Δ vs FP32 (pp) | "
             "frozen (%) | sign flips (%) | time per run (min) |", "|---|---|---|---|---|---|---|---|"]
    fp = by.get("fp32")
    for r in rows:
        delta = f"{100 * (r['mean'] - fp['mean']):+.2f}" if fp and r is not fp else "—"
        f = r["final_freezing"]
        frz = (f"{100 * f['frozen']:.1f}", f"{100 * f['sign_flip']:.1f}") if f else ("—", "—")
        seeds = ", ".join(f"{100 * t:.2f}" for t in r["per_seed"])
        lines.append(f"| {r['label']} | {r['bits']} | {fmt(r['mean'], r['std'])} | {seeds} | "
                     f"{delta} | {frz[0]} | {frz[1]} | {r['minutes']:.1f} |")
    lines += ["", "Paired over seeds (difference of top-1 per seed; Student t, two-sided):", ""]
    for key, text in (("ds3_vs_fp32", "DenseShift 3-bit − FP32"),
                      ("ds3_vs_s3", "DenseShift 3-bit − S3 3-bit")):
        c = result["paired"].get(key)
        if c is None:
            continue
        if c["t"] is None:
            lines.append(f"* {text}: {c['mean_pp']:+.2f} pp (one seed: no test)")
        else:
            lines.append(f"* {text}: {c['mean_pp']:+.2f} ± {c['sem_pp']:.2f} pp (s.e.), "
                         f"t = {c['t']:.2f} with {c['n'] - 1} dof, p = {c['p']:.3f}")
    lines += ["", "Targets (on the mean over seeds):", ""] + result["verdicts"]
    lines += ["", "Curves and freezing over training: [converged.png](converged.png). "
              "Command (skips finished runs, resumes interrupted ones):", "", "```sh",
              result["command"], "```", "",
              f"Machine: {result['machine']['cpu']}, {result['machine']['torch_threads']} torch "
              f"thread(s) per run; {result['train_minutes']:.0f} min of training in all, "
              f"{result['invocation_seconds'] / 60:.1f} min for this invocation."]
    return "\n".join(lines) + "\n"


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import save_png
    fig, (curve_ax, frz_ax) = plt.subplots(1, 2, figsize=(13, 4.8))
    for r in result["rows"]:
        curves = r["curves"]
        epochs = range(1, min(len(c) for c in curves) + 1)
        stats = [mean_std([c[e - 1] for c in curves]) for e in epochs]
        mean = [100 * m for m, _ in stats]
        std = [100 * s if math.isfinite(s) else 0.0 for _, s in stats]
        curve_ax.plot(epochs, mean, "-o", markersize=3, label=r["label"])
        curve_ax.fill_between(epochs, [m - s for m, s in zip(mean, std)],
                              [m + s for m, s in zip(mean, std)], alpha=0.15)
        if r["freezing_curve"]:
            frz_ax.plot(range(1, len(r["freezing_curve"]) + 1),
                        [100 * f for f in r["freezing_curve"]], "-o", markersize=3, label=r["label"])
    curve_ax.set(xlabel="epoch", ylabel="test top-1 (%)", title="test accuracy (mean ± std over seeds)")
    curve_ax.legend(fontsize="small")
    curve_ax.grid(alpha=0.3)
    frz_ax.set(xlabel="epoch", ylabel="frozen weights (%)", title="weight freezing (mean over seeds)",
               ylim=(0, 100))
    frz_ax.legend(fontsize="small")
    frz_ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, path, dpi=90)


def run(args, argv):
    started = time.time()
    selected = [c for c in CONFIGS if args.only is None or c[0] in args.only]
    runs = [(c, seed, os.path.join(args.out, c[0], f"seed{seed}")) for c in selected
            for seed in args.seeds]
    for _, seed, run_dir in runs:          # every protocol mismatch before any training
        check_stored(args, run_dir, seed)
    for (name, _, scheme, bits), seed, run_dir in runs:
        train_or_skip(run_dir, train_argv(args, scheme, bits, seed, run_dir), args.epochs,
                      "seeds", args.no_progress)
    rows = []
    for name, label, scheme, bits in selected:
        got = [collect(os.path.join(args.out, name, f"seed{seed}")) for seed in args.seeds]
        per_seed = [g["top1"] for g in got]
        mean, std = mean_std(per_seed)
        finals = [g["freezing"][-1] for g in got if g["freezing"] and g["freezing"][-1]]
        final_freezing = ({k: sum(f[k] for f in finals) / len(finals) for k in ("frozen", "sign_flip")}
                          if finals else None)
        epochs = min(len(g["freezing"]) for g in got)
        freezing_curve = ([sum(g["freezing"][e]["frozen"] for g in got) / len(got)
                           for e in range(epochs)] if finals else [])
        rows.append({"name": name, "label": label, "scheme": scheme, "bits": bits or 32,
                     "per_seed": per_seed, "mean": mean, "std": std,
                     "curves": [g["curve"] for g in got], "final_freezing": final_freezing,
                     "freezing_curve": freezing_curve,
                     "minutes": sum(g["seconds"] for g in got) / len(got) / 60})
    by = {r["name"]: r for r in rows}
    compared = {}
    if "denseshift-3b" in by and "fp32" in by:
        compared["ds3_vs_fp32"] = paired(by["denseshift-3b"]["per_seed"], by["fp32"]["per_seed"])
    if "denseshift-3b" in by and "s3-3b" in by:
        compared["ds3_vs_s3"] = paired(by["denseshift-3b"]["per_seed"], by["s3-3b"]["per_seed"])
    verdicts = []
    if "ds3_vs_fp32" in compared:
        gap = -compared["ds3_vs_fp32"]["mean_pp"]
        verdicts.append(verdict(f"DenseShift 3-bit within {DS3_VS_FP32} pp of FP32", gap <= DS3_VS_FP32,
                                f"FP32 minus DenseShift 3-bit = {gap:+.2f} pp"))
    if "ds3_vs_s3" in compared:
        diff = compared["ds3_vs_s3"]["mean_pp"]
        verdicts.append(verdict("DenseShift 3-bit at least S3 3-bit", diff >= 0,
                                f"DenseShift 3-bit minus S3 3-bit = {diff:+.2f} pp"))
    if "denseshift-2b" in by and "fp32" in by:
        gap = 100 * (by["fp32"]["mean"] - by["denseshift-2b"]["mean"])
        verdicts.append(verdict(f"DenseShift 2-bit within {DS2_VS_FP32} pp of FP32",
                                gap <= DS2_VS_FP32, f"FP32 minus DenseShift 2-bit = {gap:+.2f} pp"))
    result = {
        "generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "protocol": {"model": args.model, "epochs": args.epochs, "lr": args.lr,
                     "batch": args.batch, "augment": args.augment, "seeds": args.seeds,
                     "limit": args.limit,
                     "train_images": len(load_split("train", args.data_dir, args.limit)[1]),
                     "test_images": len(load_split("test", args.data_dir, args.limit)[1])},
        "command": "cd python && python3 -m denseshift.seeds_table " + " ".join(argv),
        "machine": machine(), "rows": rows, "paired": compared, "verdicts": verdicts,
        "train_minutes": sum(r["minutes"] * len(args.seeds) for r in rows),
        "invocation_seconds": time.time() - started}
    if not args.no_plot:
        os.makedirs(args.docs, exist_ok=True)
        plot(result, os.path.join(args.docs, "converged.png"))
    write_section(args.docs, "converged", render(result), result)
    print(render(result))
    return result


def main(argv=None):
    return table_main("seeds_table", parse_args, run,
                      (TableError, CheckpointError, DatasetError), argv)


if __name__ == "__main__":
    sys.exit(main())
