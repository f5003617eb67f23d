"""Post-training shift quantization: a float model to a DenseShift model, no retraining.

    python3 -m denseshift.ptq FLOAT.pt -o ptq3.pt --bits 3 [--alpha mse|max] \\
        [--bn-recalibrate 20] [--evaluate]
    python3 -m denseshift.ptq FLOAT.pt --table ptq.md --bits 3 4 5 [--json ptq.json]

The float checkpoint (``denseshift.train --scheme float``) keeps its
architecture; every Conv2d/Linear except the first and the last (unless
``--no-keep-first-last``) becomes a zero-free DenseShift layer whose codes are
the log-domain rounding of the float weight (``denseshift.round_to_encoding``,
the compiler's ``quantize``) under a per-output-channel ``alpha``:

* ``max``: ``alpha = max|w| / 2^emax``, the largest weight is exactly the top
  level; the rule of the compiler's ``weights=quantize``.  (Where that alpha
  would be a subnormal f32 -- 7 and 8 bits span 2^64 and 2^128 levels -- it
  is raised by whole powers of two until normal: only levels below 1e-38 go.)
* ``mse`` (default): ``log2(alpha)`` searched on a 1/32 grid from
  ``max``'s value minus 4 to plus 0.5, keeping the alpha with the smallest
  squared weight error ``sum (w - alpha s 2^e)^2`` of the channel.  Scaling
  alpha by 2 only moves the levels by one, so the search is over the position
  of the level window and its fractional offset.

``--bn-recalibrate N`` then re-estimates the BatchNorm running statistics on N
training batches (the quantized weights shift the activations' statistics).
The output is an ordinary DenseShift checkpoint: ``denseshift.export`` writes it
as shift layers that compile in exact mode.
"""
import argparse
import datetime
import json
import os
import sys
import time

import torch
from torch import nn

from .checkpoint import (CheckpointError, atomic_write_json, atomic_write_text, load_checkpoint,
                         replace_section, restore_model, save_checkpoint)
from .convert import convert
from .data import DATA_DIR, DatasetError, load_split
from .encoding import Encoding, check_bits, round_to_encoding
from .models import model_config, with_defaults

ALPHA_RULES = ("mse", "max")
SEARCH_STEP = 1.0 / 32
SEARCH_BELOW, SEARCH_ABOVE = 4.0, 0.5


class PTQError(RuntimeError):
    """The checkpoint or the request cannot be quantized."""


F32_TINY = torch.finfo(torch.float32).tiny


def _normal_f32(alpha):
    """f64 alpha as an f32 that is normal (or 0).

    Wide formats put ``max|w| / 2^emax`` below the smallest normal f32 (7 and 8
    bits span 2^64 and 2^128 levels).  Such an alpha is multiplied by the
    smallest power of two that makes it normal: the level set ``alpha 2^k``
    loses only its bottom levels (all below 1e-38) and keeps its mantissa,
    where clamping would lose the fractional position the search chooses.  The
    compiler accepts only normal (or zero) alphas.
    """
    alpha = alpha.to(torch.float64)
    low = (alpha > 0) & (alpha < F32_TINY)
    raise_by = torch.ceil(torch.log2(F32_TINY / torch.where(low, alpha, torch.ones_like(alpha))))
    scaled = torch.ldexp(alpha, torch.where(low, raise_by, torch.zeros_like(raise_by)).to(torch.int32))
    return torch.where(low & (scaled.to(torch.float32) < F32_TINY), scaled * 2, scaled).to(torch.float32)


def max_alpha(weight, encoding):
    """Per-output-channel ``max|w| / 2^emax`` (0 for an all-zero channel)."""
    flat = weight.detach().to(torch.float64).reshape(weight.shape[0], -1)
    return flat.abs().amax(1) * 2.0 ** -encoding.emax


def _channel_error(flat, alpha, encoding):
    codes = round_to_encoding(flat, alpha, encoding)
    return ((flat - encoding.decode(codes, alpha).to(torch.float64)) ** 2).sum(1)


def choose_alpha(weight, encoding, rule="mse"):
    """The f32 per-output-channel alpha of ``rule`` for a float ``weight`` (O, ...)."""
    if rule not in ALPHA_RULES:
        raise PTQError(f"unknown alpha rule {rule!r}; choose one of {list(ALPHA_RULES)}")
    flat = weight.detach().to(torch.float64).reshape(weight.shape[0], -1)
    if not torch.isfinite(flat).all():
        raise PTQError("the weight has NaN or Inf entries; it cannot be quantized")
    start = max_alpha(flat, encoding)
    if rule == "max":
        return _normal_f32(start)
    best = _normal_f32(start)
    best_error = _channel_error(flat, best, encoding)
    steps = int(round((SEARCH_BELOW + SEARCH_ABOVE) / SEARCH_STEP))
    for i in range(steps + 1):
        offset = -SEARCH_BELOW + i * SEARCH_STEP
        candidate = _normal_f32(start * 2.0 ** offset)
        error = _channel_error(flat, candidate, encoding)
        better = error < best_error
        best = torch.where(better, candidate, best)
        best_error = torch.where(better, error, best_error)
    return best


def _float_layers(model):
    return [(name, m) for name, m in model.named_modules() if type(m) in (nn.Conv2d, nn.Linear)]


def quantize_model(model, bits=3, alpha="mse", keep_first_last=True):
    """Replace the float Conv2d/Linear layers of ``model`` (in place) by DenseShift
    layers holding the log-domain rounding of their weights; returns
    ``{layer name: weight relative RMS error}``."""
    check_bits(bits)
    encoding = Encoding(bits, True, 0)
    weights = {name: (m.weight.detach().clone(), None if m.bias is None else m.bias.detach().clone())
               for name, m in _float_layers(model)}
    if not weights:
        raise PTQError("the model has no nn.Conv2d or nn.Linear layer to quantize")
    convert(model, scheme="denseshift", bits=bits, keep_first_last=keep_first_last)
    errors = {}
    for name, layer in model.named_modules():
        if name not in weights or not hasattr(layer, "shift_weight"):
            continue
        weight, bias = weights[name]
        with torch.no_grad():
            layer.shift_weight.alpha.copy_(choose_alpha(weight, encoding, alpha))
        layer.init_from_float(weight, bias)
        diff = (layer.quantized_weight().double() - weight.double()).norm()
        errors[name] = float(diff / weight.double().norm().clamp_min(1e-300))
    if not errors:
        raise PTQError("nothing to quantize: the model's only nn.Conv2d/nn.Linear layers are "
                       "the first and the last, which stay float (use --no-keep-first-last)")
    return errors


@torch.no_grad()
def recalibrate_batchnorm(model, images, batches, batch_size=128):
    """Re-estimate every BatchNorm's running mean/var on ``batches`` batches of
    ``images`` (cumulative average); only the BatchNorms switch to train mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or batches <= 0:
        return 0
    model.eval()
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    used = 0
    for start in range(0, min(len(images), batches * batch_size), batch_size):
        model(images[start:start + batch_size])
        used += 1
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()
    return used


@torch.no_grad()
def accuracy(model, images, labels, batch=1000):
    model.eval()
    correct = 0
    for start in range(0, len(images), batch):
        correct += (model(images[start:start + batch]).argmax(1) == labels[start:start + batch]).sum().item()
    return correct / max(len(images), 1)


def load_float(path):
    """(payload, float model in eval mode) of a float checkpoint; PTQError otherwise."""
    payload = load_checkpoint(path)
    config = with_defaults(payload["config"])
    if config["scheme"] != "float":
        raise PTQError(f"{path} is already a {config['scheme']} {config['bits']}-bit model; "
                       "post-training quantization starts from a float checkpoint "
                       "(denseshift.train --scheme float)")
    model = restore_model(payload, path)
    model.eval()
    return payload, model


def ptq(path, bits, alpha="mse", keep_first_last=True, calibration=None, bn_batches=0):
    """Quantize the float checkpoint at ``path``; returns (model, config, report)."""
    payload, model = load_float(path)
    started = time.time()
    errors = quantize_model(model, bits, alpha, keep_first_last)
    used = recalibrate_batchnorm(model, calibration, bn_batches) if calibration is not None else 0
    model.eval()
    base = with_defaults(payload["config"])
    config = model_config(base["model"], "denseshift", bits, keep_first_last,
                          input_shape=base["input_shape"], num_classes=base["num_classes"])
    report = {"source": os.path.abspath(path), "bits": bits, "alpha": alpha,
              "keep_first_last": keep_first_last, "bn_recalibration_batches": used,
              "weight_rel_rms_error": errors, "seconds": time.time() - started}
    return model, config, report


def _parse(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.ptq", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="float checkpoint (denseshift.train --scheme float)")
    p.add_argument("-o", "--output", help="the DenseShift checkpoint to write (one --bits)")
    p.add_argument("--bits", type=int, nargs="+", default=[3], help="code width(s), 2..8")
    p.add_argument("--alpha", choices=ALPHA_RULES, nargs="+", default=["mse"],
                   help="per-channel alpha rule(s)")
    p.add_argument("--bn-recalibrate", type=int, nargs="+", default=[0], metavar="N",
                   help="BatchNorm re-estimation on N training batches of 128 (0: off)")
    p.add_argument("--no-keep-first-last", dest="keep_first_last", action="store_false",
                   help="also quantize the first conv and the last linear layer")
    p.add_argument("--evaluate", action="store_true", help="report test accuracy (Fashion-MNIST)")
    p.add_argument("--table", metavar="MD", help="evaluate every combination of --bits, --alpha "
                   "and --bn-recalibrate against the float model and write the Markdown section "
                   "'Post-training quantization' into MD (replacing that section if MD has it, "
                   "e.g. ../docs/RESULTS.md; the rest of MD is kept)")
    p.add_argument("--json", help="with --table: also write the figures as JSON")
    p.add_argument("--data", dest="data_dir", default=DATA_DIR, help="Fashion-MNIST directory")
    p.add_argument("--limit", type=int, default=None, help="first N images of each split")
    p.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = p.parse_args(argv)
    try:
        for b in args.bits:
            check_bits(b)
    except ValueError as err:
        p.error(str(err))
    if min(args.bn_recalibrate) < 0:
        p.error("--bn-recalibrate must be >= 0")
    if args.limit is not None and args.limit <= 0:
        p.error("--limit must be positive")
    combos = len(args.bits) * len(args.alpha) * len(args.bn_recalibrate)
    if args.table is None:
        if args.output is None:
            p.error("give -o OUTPUT (or --table MD to compare several settings)")
        if combos != 1:
            p.error("-o writes one checkpoint: give one --bits, --alpha and --bn-recalibrate "
                    "(or use --table)")
    elif args.json is not None and not args.json.endswith(".json"):
        p.error("--json must name a .json file")
    return args


def _data(args, need_train):
    train = load_split("train", args.data_dir, args.limit) if need_train else (None, None)
    test = load_split("test", args.data_dir, args.limit)
    return train, test


def render_section(result):
    """The Markdown section of a ``--table`` run (its heading, protocol and table)."""
    source, rows = result["source"], result["rows"]
    fp32 = rows[0]["top1"]
    lines = ["## Post-training quantization", "",
             f"Generated by `python3 -m denseshift.ptq --table` on {result['generated']} "
             f"(issue 10, item 6). A float {source['model']} trained with "
             f"`denseshift.train --scheme float` ({source['epochs']} epochs, "
             f"{source['schedule']}), quantized without retraining "
             "([python.md](python.md#post-training-quantization-denseshiftptq)): zero-free "
             "DenseShift codes by log-domain rounding, per-channel alpha by the `max` or `mse` "
             "rule, optionally BatchNorm statistics re-estimated on training batches; the "
             f"first conv and the last FC stay float{'' if result['keep_first_last'] else ' (here: not)'}. "
             f"Top-1 on {result['test_images']} Fashion-MNIST test images.", "",
             "| configuration | alpha | BN re-estimation (batches of 128) | top-1 (%) | "
             "Δ vs FP32 (pp) | mean weight rel. RMS error |", "|---|---|---|---|---|---|"]
    for r in rows:
        fp = r["bits"] == 32
        delta = "—" if fp else f"{100 * (r['top1'] - fp32):+.2f}"
        err = "—" if fp else f"{r['mean_weight_rel_rms_error']:.3f}"
        lines.append(f"| {r['config']} | {r['alpha'] or '—'} | {r['bn_batches'] or '—'} | "
                     f"{100 * r['top1']:.2f} | {delta} | {err} |")
    info = result["machine"]
    lines += ["", "Command:", "", "```sh", result["command"], "```", "",
              f"Source checkpoint: `{source['path']}` (trained by: `{source['train_command']}`). "
              f"Machine: {info['cpu']}, {info['torch_threads']} torch thread(s); the whole "
              f"table took {result['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def _source_info(payload, path):
    history = payload.get("history") or []
    schedule = payload.get("schedule", {"schedule": "constant"})
    config = with_defaults(payload["config"])
    return {"path": path, "model": config["model"], "epochs": int(payload.get("epoch", 0)),
            "schedule": f"{schedule['schedule']} learning rate"
                        + (", augmented" if schedule.get("augment") else ""),
            "final_test_top1": history[-1].get("test_acc") if history else None,
            "train_command": _train_command(path)}


def _train_command(path):
    """The training command, rebuilt from the metrics.json beside the checkpoint."""
    metrics = os.path.join(os.path.dirname(os.path.abspath(path)), "metrics.json")
    try:
        with open(metrics, encoding="utf-8") as f:
            args = json.load(f)["args"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown (no metrics.json beside the checkpoint)"
    words = ["python3 -m denseshift.train"]
    for key in ("model", "scheme", "epochs", "schedule", "augment", "lr", "optimizer", "batch",
                "seed", "limit", "threads"):
        value = args.get(key)
        if value is None or value is False:
            continue
        words.append(f"--{key}" if value is True else f"--{key} {value}")
    return " ".join(words)


def _table(args, argv):
    from .table import machine
    started = time.time()
    payload, float_model = load_float(args.checkpoint)
    (train_x, _), (test_x, test_y) = _data(args, max(args.bn_recalibrate) > 0)
    rows = [{"config": "FP32", "bits": 32, "alpha": "", "bn_batches": 0,
             "top1": accuracy(float_model, test_x, test_y)}]
    print(f"[ptq] FP32: {100 * rows[0]['top1']:.2f}%", flush=True)
    for bits in args.bits:
        for alpha in args.alpha:
            for bn in args.bn_recalibrate:
                model, _, report = ptq(args.checkpoint, bits, alpha, args.keep_first_last,
                                       train_x, bn)
                top1 = accuracy(model, test_x, test_y)
                errors = list(report["weight_rel_rms_error"].values())
                rows.append({"config": f"PTQ DenseShift {bits}-bit", "bits": bits, "alpha": alpha,
                             "bn_batches": bn, "top1": top1,
                             "mean_weight_rel_rms_error": sum(errors) / len(errors),
                             "seconds": report["seconds"]})
                print(f"[ptq] {bits}-bit alpha={alpha} bn={bn}: {100 * top1:.2f}%", flush=True)
    result = {"generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
              "command": "cd python && python3 -m denseshift.ptq " + " ".join(argv),
              "source": _source_info(payload, args.checkpoint), "machine": machine(),
              "keep_first_last": args.keep_first_last, "test_images": len(test_x),
              "rows": rows, "seconds": time.time() - started}
    section = render_section(result)
    text = ""
    if os.path.isfile(args.table):
        with open(args.table, encoding="utf-8") as f:
            text = f.read()
    atomic_write_text(args.table, replace_section(text, "ptq", section))
    if args.json:
        atomic_write_json(args.json, result)
    print(section)


def _one(args):
    bits, alpha, bn = args.bits[0], args.alpha[0], args.bn_recalibrate[0]
    train_x = None
    if bn > 0 or args.evaluate:
        (train_x, _), (test_x, test_y) = _data(args, bn > 0)
    model, config, report = ptq(args.checkpoint, bits, alpha, args.keep_first_last, train_x, bn)
    if args.evaluate:
        report["test_top1"] = accuracy(model, test_x, test_y)
        print(f"[ptq] {bits}-bit alpha={alpha} bn={bn}: test top-1 {100 * report['test_top1']:.2f}%")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        raise PTQError(f"-o {args.output} is a directory; name the checkpoint file to write")
    if not os.path.isdir(out_dir):
        raise PTQError(f"output directory {out_dir} does not exist")
    save_checkpoint(args.output, config, model, None, 0, [], extra={"ptq": report})
    print(f"[ptq] wrote {args.output} ({config['model']}, DenseShift {bits}-bit, alpha {alpha})")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
    torch.set_num_threads(args.threads)
    try:
        if args.table is not None:
            _table(args, argv)
        else:
            _one(args)
    except (PTQError, CheckpointError, DatasetError) as err:
        print(f"denseshift.ptq: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
