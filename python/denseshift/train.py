"""Train a shift network on Fashion-MNIST.

    python3 -m denseshift.train --model smallcnn --scheme denseshift --bits 3 \\
        --epochs 1 --out runs/smallcnn-ds3

Writes to --out: checkpoint.pt (after every epoch; --resume continues it),
metrics.json, summary.txt, curves.png, codes.png, freezing.png.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoint import (CheckpointError, atomic_write_json, atomic_write_text, load_checkpoint,
                         restore_model, save_checkpoint)
from .data import DATA_DIR, MEAN, STD, DatasetError, load_split
from .encoding import check_bits
from .freezing import FreezingTracker, code_histogram
from .layers import regularization, shift_layers
from .models import MODELS, SCHEME_CHOICES, build_model, model_config
from .plots import plot_code_histograms, plot_curves, plot_freezing

CHECKPOINT = "checkpoint.pt"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), default="smallcnn")
    p.add_argument("--scheme", choices=SCHEME_CHOICES, default="denseshift")
    p.add_argument("--bits", type=int, default=3, help="code width, 2..8")
    p.add_argument("--rounding", choices=("deterministic", "stochastic"), default="deterministic",
                   help="log-domain rounding of deepshift-q while training")
    p.add_argument("--no-keep-first-last", dest="keep_first_last", action="store_false",
                   help="also convert the first conv and the last linear layer")
    p.add_argument("--epochs", type=int, default=1, help="total epochs (including resumed ones)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--s3-reg", type=float, default=1e-5,
                   help="weight of S3's dense-weight regularizer")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images of each split")
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = p.parse_args(argv)
    try:
        check_bits(args.bits)
    except ValueError as err:
        p.error(str(err))
    for name in ("epochs", "batch", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    if args.limit is not None and args.limit <= 0:
        p.error("--limit must be positive")
    return args


def make_optimizer(args, model):
    if args.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    return torch.optim.Adam(model.parameters(), lr=args.lr)


def train_epoch(model, optimizer, images, labels, args, epoch, tracker):
    model.train()
    order = torch.randperm(len(images))
    total_loss, correct = 0.0, 0
    batches = range(0, len(images), args.batch)
    bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", disable=args.no_progress,
               leave=False, dynamic_ncols=True)
    for start in bar:
        index = order[start:start + args.batch]
        x, y = images[index], labels[index]
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        total = loss + args.s3_reg * regularization(model) if args.scheme == "s3" else loss
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        tracker.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    return total_loss / len(images), correct / len(images)


@torch.no_grad()
def evaluate(model, images, labels, batch):
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(images), batch):
        logits = model(images[start:start + batch])
        y = labels[start:start + batch]
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    return total_loss / len(images), correct / len(images)


def summary_text(config, history):
    lines = [f"model {config['model']}  scheme {config['scheme']}  bits {config['bits']}  "
             f"keep_first_last {config['keep_first_last']}",
             "epoch  train_loss  train_acc  test_loss  test_acc  seconds"]
    for h in history:
        lines.append(f"{h['epoch']:5d}  {h['train_loss']:10.4f}  {100 * h['train_acc']:8.2f}%  "
                     f"{h['test_loss']:9.4f}  {100 * h['test_acc']:7.2f}%  {h['seconds']:7.1f}")
    if history and history[-1]["freezing"]:
        lines.append("freezing (last epoch): layer  frozen  sign_flip")
        for name, f in sorted(history[-1]["freezing"].items()):
            lines.append(f"  {name:24s} {100 * f['frozen']:6.2f}%  {100 * f['sign_flip']:6.2f}%")
    return "\n".join(lines) + "\n"


def freezing_text(record):
    """Weight-averaged freezing metric over all shift layers, for the log line."""
    layers = record["freezing"].values()
    total = sum(f["weights"] for f in layers)
    if not total:
        return ""
    frozen = sum(f["frozen"] * f["weights"] for f in layers) / total
    flips = sum(f["sign_flip"] * f["weights"] for f in layers) / total
    return f"  frozen {100 * frozen:.1f}% sign flips {100 * flips:.1f}%"


def write_reports(out, config, args, history, model):
    histograms = {name: code_histogram(layer) for name, layer in shift_layers(model)}
    atomic_write_json(os.path.join(out, "metrics.json"), {
        "config": config, "normalization": {"mean": MEAN, "std": STD},
        "args": {k: v for k, v in vars(args).items() if k not in ("resume", "no_progress")},
        "epochs": history, "code_histograms": histograms})
    atomic_write_text(os.path.join(out, "summary.txt"), summary_text(config, history))
    plot_curves(history, os.path.join(out, "curves.png"))
    plot_code_histograms(histograms, os.path.join(out, "codes.png"))
    plot_freezing(history, os.path.join(out, "freezing.png"))


def run(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = model_config(args.model, args.scheme, args.bits, args.keep_first_last, args.rounding)
    train_x, train_y = load_split("train", args.data_dir, args.limit)
    test_x, test_y = load_split("test", args.data_dir, args.limit)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, CHECKPOINT)
    history, first_epoch = [], 1
    model = build_model(config)
    optimizer = make_optimizer(args, model)
    if args.resume:
        payload = load_checkpoint(path)
        if payload["config"] != config:
            raise CheckpointError(f"{path} was trained with {payload['config']}, "
                                  f"not {config}; use the same --model/--scheme/--bits")
        model = restore_model(payload, path)
        optimizer = make_optimizer(args, model)
        try:
            optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"{path}: optimizer state does not match ({err})") from err
        torch.set_rng_state(payload["rng"])
        history, first_epoch = payload["history"], payload["epoch"] + 1
        print(f"resuming {path} after epoch {payload['epoch']}")
    elif os.path.exists(path):
        raise CheckpointError(f"{path} exists; pass --resume to continue it or choose another --out")
    tracker = FreezingTracker(model)
    for epoch in range(first_epoch, args.epochs + 1):
        started = time.time()
        tracker.start_epoch()
        train_loss, train_acc = train_epoch(model, optimizer, train_x, train_y, args, epoch, tracker)
        test_loss, test_acc = evaluate(model, test_x, test_y, 1000)
        history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                        "test_loss": test_loss, "test_acc": test_acc,
                        "seconds": time.time() - started, "freezing": tracker.end_epoch()})
        save_checkpoint(path, config, model, optimizer, epoch, history)
        write_reports(args.out, config, args, history, model)
        print(f"epoch {epoch}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}%  "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}%{freezing_text(history[-1])}")
    if first_epoch > args.epochs:
        print(f"{path} already has {first_epoch - 1} epochs (--epochs {args.epochs}); nothing to do")
    return history


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
    except (DatasetError, CheckpointError) as err:
        print(f"denseshift.train: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
