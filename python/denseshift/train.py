"""Train a shift network on Fashion-MNIST or the synthesized speech commands.

    python3 -m denseshift.train --model smallcnn --scheme denseshift --bits 3 \\
        --epochs 1 --out runs/smallcnn-ds3
    python3 -m denseshift.train --dataset speech --data data/speech-small ...
    torchrun --nproc_per_node=2 -m denseshift.train ...        # data-parallel
    python3 -m denseshift.train --classes 5-9 --init-from runs/a/checkpoint.pt \
        [--freeze-features] ...                               # transfer learning

Writes to --out: checkpoint.pt (after every epoch; --resume continues it),
metrics.json, summary.txt, curves.png, codes.png, freezing.png.

Under torchrun (or any launcher that sets RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT) every process trains on its share of each global batch of
``--batch x WORLD_SIZE`` examples with DistributedDataParallel; only rank 0
writes files and prints.
"""
import argparse
import datetime
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoint import (CheckpointError, atomic_write_json, atomic_write_text, load_checkpoint,
                         restore_model, save_checkpoint)
from .data import DATA_DIR, MEAN, STD, DatasetError, load_split
from . import speech
from .encoding import check_bits
from .freezing import FreezingTracker, code_histogram
from .layers import regularization, shift_layers
from .models import MODELS, SCHEME_CHOICES, build_model, model_config, with_defaults
from .schemes import LATENT_INITS
from .plots import plot_code_histograms, plot_curves, plot_freezing

CHECKPOINT = "checkpoint.pt"
SCHEDULES = ("constant", "cosine")
DATASETS = ("fashion-mnist", "speech")


class ConfigError(RuntimeError):
    """The requested model cannot be built (e.g. nothing for the scheme to convert)."""


class DistributedError(RuntimeError):
    """The process group cannot be formed or the run does not fit the world size."""


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
    p.add_argument("--schedule", choices=SCHEDULES, default="constant",
                   help="learning rate over the run: constant, or cosine decay to 0 per step "
                        "over --epochs")
    p.add_argument("--augment", action="store_true",
                   help="random 2-pixel translation and horizontal flip of each training image "
                        "(image datasets)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--s3-reg", type=float, default=1e-5,
                   help="weight of S3's dense-weight regularizer")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images of each split")
    p.add_argument("--dataset", choices=DATASETS, default="fashion-mnist",
                   help="speech: a directory made by `python3 -m denseshift.speech build`")
    p.add_argument("--data-dir", "--data", dest="data_dir", default=None,
                   help=f"dataset directory (fashion-mnist: default {DATA_DIR}; speech: required)")
    p.add_argument("--dist-backend", choices=("auto", "gloo", "nccl"), default="auto",
                   help="torch.distributed backend under torchrun (auto: nccl with CUDA, else gloo)")
    p.add_argument("--dist-timeout", type=float, default=300.0,
                   help="seconds to wait for the rendezvous and for each collective")
    p.add_argument("--classes", type=parse_classes, default=None, metavar="LIST",
                   help="train and test on these labels only, e.g. 0-4 or 5,7,9; they become "
                        "classes 0..K-1 in this order")
    p.add_argument("--latent-init", choices=LATENT_INITS, default="low-variance",
                   help="how DenseShift's latents start: the paper's N(0, 1e-3), or torch.nn's "
                        "default (uniform, bound 1/sqrt(fan_in))")
    p.add_argument("--init-from", metavar="CHECKPOINT", default=None,
                   help="start from a trained checkpoint of the same model: a float one is "
                        "rounded into this run's shift layers (from-float), one of this run's "
                        "scheme is copied; tensors whose shape differs (a head for another "
                        "number of classes) keep their fresh initialisation")
    p.add_argument("--freeze-features", action="store_true",
                   help="with --init-from: train only the last layer (features and their "
                        "BatchNorm statistics stay as loaded)")
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
    if args.dist_timeout <= 0:
        p.error("--dist-timeout must be positive")
    if args.augment and args.dataset == "speech":
        p.error("--augment translates and flips images; it is not for --dataset speech")
    if args.latent_init != "low-variance" and args.scheme != "denseshift":
        p.error("--latent-init applies to --scheme denseshift")
    if args.freeze_features and args.init_from is None:
        p.error("--freeze-features needs --init-from (features to keep)")
    if args.data_dir is None:
        if args.dataset == "speech":
            p.error("--dataset speech needs --data DIR (made by `python3 -m denseshift.speech build`)")
        args.data_dir = DATA_DIR
    return args


class Dist:
    """The process group, or the single-process stand-in (rank 0 of 1)."""

    def __init__(self, rank=0, world=1, device=torch.device("cpu")):
        self.rank, self.world, self.device = rank, world, device

    @property
    def main(self):
        return self.rank == 0

    def all_sum(self, values):
        """Sum a list of floats over all processes."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every process."""
        if self.world == 1:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0,
                                                device=self.device if self.device.type == "cuda" else None)
        return box[0]

    def sync_buffers(self, model):
        """Rank 0's buffers (BatchNorm running statistics) on every process."""
        if self.world > 1:
            for buffer in model.buffers():
                torch.distributed.broadcast(buffer, src=0)

    def close(self):
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def init_distributed(args):
    """Join the process group described by torchrun's environment (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    backend = args.dist_backend
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl" and not torch.cuda.is_available():
        raise DistributedError("--dist-backend nccl needs CUDA, which this machine lacks; use gloo")
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    endpoint = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
    try:
        torch.distributed.init_process_group(
            backend, init_method="env://", rank=rank, world_size=world,
            timeout=datetime.timedelta(seconds=args.dist_timeout))
    except (RuntimeError, ValueError, OSError, MemoryError) as err:  # bad_alloc: not a c10d store
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DistributedError(
            f"rank {rank} of {world} could not join the process group at {endpoint} within "
            f"{args.dist_timeout:g} s ({reason}); check that the rendezvous endpoint "
            "(--rdzv_endpoint, or --master_addr/--master_port) is reachable from this node, "
            "that every node uses the same one and that all nodes were started") from err
    return Dist(rank, world, device)


def parse_classes(text):
    """'0-4' or '5,7,9' (or '0-2,7') -> [labels] in order, no repeats."""
    labels = []
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            labels += list(range(int(first), int(last) + 1)) if last else [int(first)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of labels like 0-4 or 5,7,9") from None
    if not labels or len(set(labels)) != len(labels) or min(labels) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: labels must be distinct and non-negative")
    return labels


def select_classes(images, labels, classes):
    """Keep the examples of ``classes`` and relabel them 0..K-1 in that order."""
    if classes is None:
        return images, labels
    index = torch.full((int(max(int(labels.max()), max(classes))) + 1,), -1, dtype=torch.long)
    index[torch.tensor(classes)] = torch.arange(len(classes))
    keep = index[labels] >= 0
    return images[keep], index[labels[keep]]


def initialize_from(model, config, path):
    """``--init-from``: start ``model`` from the checkpoint at ``path`` (same model).

    Every tensor with the same name and shape is copied; a float checkpoint's
    conv/linear weights are rounded into the shift layers of the same name
    (``init_from_float``: the codes of the float weight, low-variance latents).
    Returns the names that kept their fresh initialisation."""
    from .layers import shift_layers as layers_of
    payload = load_checkpoint(path)
    source_config = with_defaults(payload["config"])
    if source_config["model"] != config["model"]:
        raise ConfigError(f"--init-from {path} is a {source_config['model']!r}, this run trains "
                          f"a {config['model']!r}")
    if source_config["scheme"] not in ("float", config["scheme"]):
        raise ConfigError(f"--init-from {path} was trained with scheme {source_config['scheme']!r}; "
                          f"a {config['scheme']!r} run starts from a float checkpoint or one of its "
                          "own scheme")
    if source_config["scheme"] != "float" and source_config["bits"] != config["bits"]:
        raise ConfigError(f"--init-from {path} has {source_config['bits']}-bit codes, this run "
                          f"{config['bits']}")
    source = restore_model(payload, path)
    theirs = source.state_dict()
    mine = model.state_dict()
    copied = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    mine.update(copied)
    model.load_state_dict(mine)
    fresh = sorted(k for k in mine if k not in copied)
    if source_config["scheme"] == "float" and config["scheme"] != "float":
        modules = dict(source.named_modules())
        for name, layer in layers_of(model):
            float_layer = modules.get(name)
            weight = getattr(float_layer, "weight", None)
            if weight is not None and tuple(weight.shape) == tuple(layer.weight.shape):
                layer.init_from_float(weight, getattr(float_layer, "bias", None))
                fresh = [k for k in fresh if not k.startswith(name + ".")]
    return fresh


def last_layer(model):
    """The last conv/linear module in registration order (the classifier)."""
    from .export import CONV_MODULES, LINEAR_MODULES
    layers = [m for m in model.modules() if isinstance(m, CONV_MODULES + LINEAR_MODULES)]
    if not layers:
        raise ConfigError("the model has no conv/linear layer to train with --freeze-features")
    return layers[-1]


def freeze_features(model):
    """Only the last layer's parameters train; returns the BatchNorms to keep in eval."""
    head = last_layer(model)
    keep = {id(p) for p in head.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def make_optimizer(args, model):
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "sgd":
        return torch.optim.SGD(params, lr=args.lr, momentum=0.9)
    return torch.optim.Adam(params, lr=args.lr)


def learning_rate(args, step, steps_per_epoch):
    """The learning rate of global step ``step`` (0-based) under ``--schedule``.

    A pure function of the arguments, so a resumed run continues the same curve
    (resuming checks that --epochs and --schedule are unchanged).
    """
    if args.schedule == "constant":
        return args.lr
    total = max(args.epochs * steps_per_epoch, 1)
    return 0.5 * args.lr * (1.0 + math.cos(math.pi * min(step, total) / total))


def augment(x):
    """Random translation by up to 2 pixels (zero fill) and horizontal flip, per image.

    Uses the global torch RNG, so a seeded run is reproducible.
    """
    n, _, h, w = x.shape
    pad = 2
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,))
    dx = torch.randint(0, 2 * pad + 1, (n,))
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))            # n x h
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))            # n x w
    flip = torch.rand(n) < 0.5
    cols = torch.where(flip.view(n, 1), cols.flip(1), cols)
    index = torch.arange(n).view(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[index, rows.view(n, h, 1), cols.view(n, 1, w)]
    return out.permute(0, 3, 1, 2).contiguous()


class _NoTracker:
    def step(self):
        pass


def train_epoch(model, optimizer, images, labels, args, epoch, tracker, dist=Dist()):
    """One epoch; returns (mean loss, accuracy, per-step losses of the global batch).

    The permutation is drawn from the (identically seeded) RNG of every
    process, cut into global batches of ``args.batch * world`` examples, and
    process r takes every world-th example from the r-th; each process's loss
    is weighted by its share so that the averaged gradient is exactly the
    gradient of the global batch.  A last batch with fewer examples than
    processes is dropped (only when world > 1).
    """
    model.train()
    module = model.module if hasattr(model, "module") else model
    for bn in getattr(args, "frozen_batchnorms", ()):      # --freeze-features
        bn.eval()
    order = torch.randperm(len(images))
    total_loss, correct, seen, step_losses = 0.0, 0, 0, []
    size = args.batch * dist.world
    batches = range(0, len(images), size)
    bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", disable=args.no_progress or not dist.main,
               leave=False, dynamic_ncols=True)
    steps_per_epoch = len(batches)
    for step, start in enumerate(bar):
        index = order[start:start + size]
        if len(index) < dist.world:
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, (epoch - 1) * steps_per_epoch + step, steps_per_epoch)
        mine = index[dist.rank::dist.world]
        if args.augment:
            # Every process draws the whole global batch's offsets, so the RNG
            # streams stay in step whatever the world size.
            x = augment(images[index])[dist.rank::dist.world].to(dist.device)
        else:
            x = images[mine].to(dist.device)
        y = labels[mine].to(dist.device)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        weighted = loss * (len(mine) * dist.world / len(index)) if dist.world > 1 else loss
        total = weighted + args.s3_reg * regularization(module) if args.scheme == "s3" else weighted
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        tracker.step()
        batch_loss, batch_correct = dist.all_sum([loss.item() * len(y),
                                                  float((logits.argmax(1) == y).sum().item())])
        total_loss += batch_loss
        correct += int(batch_correct)
        seen += len(index)
        step_losses.append(batch_loss / len(index))
        bar.set_postfix(loss=f"{step_losses[-1]:.3f}")
    seen = max(seen, 1)
    return total_loss / seen, correct / seen, step_losses


@torch.no_grad()
def evaluate(model, images, labels, batch, dist=Dist()):
    """Loss and accuracy over all of ``images``; each process takes every world-th example."""
    model.eval()
    images, labels = images[dist.rank::dist.world], labels[dist.rank::dist.world]
    total_loss, correct = 0.0, 0
    for start in range(0, len(images), batch):
        logits = model(images[start:start + batch].to(dist.device))
        y = labels[start:start + batch].to(dist.device)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    total_loss, correct, count = dist.all_sum([total_loss, float(correct), float(len(images))])
    return total_loss / count, correct / count


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


def normalization(dataset):
    """How inputs are prepared; the compiled model expects the same."""
    if dataset == "speech":
        return {"features": "denseshift.speech.features", "sample_rate": speech.SAMPLE_RATE,
                "n_fft": speech.N_FFT, "hop": speech.HOP, "n_mels": speech.N_MELS,
                "log_floor": speech.LOG_FLOOR, "mean": speech.FEATURE_MEAN, "std": speech.FEATURE_STD,
                "labels": list(speech.LABELS)}
    return {"mean": MEAN, "std": STD}


def load_data(args):
    """(train x, train y, test x, test y, num_classes) of --dataset."""
    if args.dataset == "speech":
        train_x, train_y = speech.load_features(args.data_dir, "train", args.limit)
        test_x, test_y = speech.load_features(args.data_dir, "test", args.limit)
        classes = speech.NUM_CLASSES
    else:
        train_x, train_y = load_split("train", args.data_dir, args.limit)
        test_x, test_y = load_split("test", args.data_dir, args.limit)
        classes = 10
    if args.classes is None:
        return train_x, train_y, test_x, test_y, classes
    if max(args.classes) >= classes:
        raise ConfigError(f"--classes {args.classes}: the dataset has labels 0..{classes - 1}")
    train_x, train_y = select_classes(train_x, train_y, args.classes)
    test_x, test_y = select_classes(test_x, test_y, args.classes)
    if not len(train_x) or not len(test_x):
        raise ConfigError(f"--classes {args.classes}: no training or no test examples left")
    return train_x, train_y, test_x, test_y, len(args.classes)


def write_reports(out, config, args, history, model):
    histograms = {name: code_histogram(layer) for name, layer in shift_layers(model)}
    atomic_write_json(os.path.join(out, "metrics.json"), {
        "config": config, "normalization": normalization(args.dataset),
        "args": {k: v for k, v in vars(args).items()
                 if k not in ("resume", "no_progress", "frozen_batchnorms")},
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "epochs": history, "code_histograms": histograms})
    atomic_write_text(os.path.join(out, "summary.txt"), summary_text(config, history))
    plot_curves(history, os.path.join(out, "curves.png"))
    plot_code_histograms(histograms, os.path.join(out, "codes.png"))
    plot_freezing(history, os.path.join(out, "freezing.png"))


def schedule_record(args):
    """What a resumed run must repeat to continue the same learning-rate curve."""
    if args.schedule == "constant" and not args.augment:
        record = {"schedule": "constant"}
    else:
        record = {"schedule": args.schedule, "augment": args.augment}
        if args.schedule == "cosine":
            record["epochs"] = args.epochs
    # Transfer runs: what they start from and train (absent for ordinary runs, so
    # older checkpoints keep resuming).
    for key in ("classes", "init_from", "freeze_features"):
        if getattr(args, key, None):
            record[key] = getattr(args, key)
    if getattr(args, "latent_init", "low-variance") != "low-variance":
        record["latent_init"] = args.latent_init
    return record


def _prepare(args, config, path, dist):
    """Rank 0 checks the output directory and loads a checkpoint to resume; every rank
    gets the outcome (the payload, or the error to raise) by broadcast."""
    if not dist.main:
        return None
    try:
        if args.resume:
            payload = load_checkpoint(path)
            if with_defaults(payload["config"]) != config:
                raise CheckpointError(f"{path} was trained with {payload['config']}, not {config}; "
                                      "use the same --model/--scheme/--bits/--dataset")
            schedule = payload.get("schedule", {"schedule": "constant"})
            if schedule != schedule_record(args):
                raise CheckpointError(
                    f"{path} was trained with {schedule}, not {schedule_record(args)}; a cosine "
                    "schedule depends on --epochs, so resume with the same --schedule, --epochs, "
                    "--augment (and --classes/--init-from/--freeze-features/--latent-init) or "
                    "start a new --out")
            trained = int(payload.get("world_size", 1))
            if trained != dist.world:
                raise DistributedError(
                    f"{path} was trained by {trained} process(es) (a global batch of {trained} x "
                    f"--batch), this run has {dist.world}: resume with the same number of "
                    "processes (--nnodes x --nproc_per_node) or start a new --out")
            return payload
        if os.path.exists(path):
            raise CheckpointError(f"{path} exists; pass --resume to continue it or choose another --out")
    except (CheckpointError, DistributedError) as err:
        return err
    return None


def run(args, dist=None):
    dist = dist or Dist()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_x, train_y, test_x, test_y, classes = load_data(args)
    config = model_config(args.model, args.scheme, args.bits, args.keep_first_last, args.rounding,
                          input_shape=list(train_x.shape[1:]), num_classes=classes)
    path = os.path.join(args.out, CHECKPOINT)
    outcome = dist.broadcast(_prepare(args, config, path, dist))
    if isinstance(outcome, BaseException):
        raise outcome
    history, first_epoch = [], 1
    try:
        model = build_model(config)
    except ValueError as err:     # e.g. a shift scheme for a model with nothing to convert
        raise ConfigError(str(err)) from err
    if outcome is not None:
        payload = outcome
        model = restore_model(payload, path)
    else:
        if args.latent_init != "low-variance":
            for layer in model.modules():
                if hasattr(layer, "exponent_latent") and hasattr(layer, "reset_parameters"):
                    layer.reset_parameters(args.latent_init)
        if args.init_from is not None:
            fresh = initialize_from(model, config, args.init_from)
            if dist.main:
                print(f"initialised from {args.init_from}"
                      + (f"; fresh: {', '.join(fresh)}" if fresh else ""))
    args.frozen_batchnorms = freeze_features(model) if args.freeze_features else []
    model.to(dist.device)
    optimizer = make_optimizer(args, model)
    if outcome is not None:
        try:
            optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"{path}: optimizer state does not match ({err})") from err
        torch.set_rng_state(payload["rng"])
        history, first_epoch = payload["history"], payload["epoch"] + 1
        if dist.main:
            print(f"resuming {path} after epoch {payload['epoch']}")
    if dist.main:
        os.makedirs(args.out, exist_ok=True)
    trained = model
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel
        trained = DistributedDataParallel(
            model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None)
    tracker = FreezingTracker(model) if dist.main else _NoTracker()
    for epoch in range(first_epoch, args.epochs + 1):
        started = time.time()
        if dist.main:
            tracker.start_epoch()
        train_loss, train_acc, step_losses = train_epoch(trained, optimizer, train_x, train_y, args,
                                                         epoch, tracker, dist)
        dist.sync_buffers(model)     # evaluate (and save) with rank 0's BatchNorm statistics
        test_loss, test_acc = evaluate(model, test_x, test_y, 1000, dist)
        record = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                  "test_loss": test_loss, "test_acc": test_acc, "seconds": time.time() - started,
                  "freezing": tracker.end_epoch() if dist.main else {}, "step_loss": step_losses}
        history.append(record)
        if dist.main:
            save_checkpoint(path, config, model, optimizer, epoch, history,
                            extra={"world_size": dist.world, "schedule": schedule_record(args)})
            write_reports(args.out, config, args, history, model)
            print(f"epoch {epoch}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}%  "
                  f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}%{freezing_text(history[-1])}")
    if first_epoch > args.epochs and dist.main:
        print(f"{path} already has {first_epoch - 1} epochs (--epochs {args.epochs}); nothing to do")
    return history


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    dist = None
    try:
        dist = init_distributed(args)
        run(args, dist)
    except (DatasetError, CheckpointError, ConfigError, speech.SpeechError, DistributedError,
            OSError) as err:
        rank = f" (rank {dist.rank})" if dist is not None and dist.world > 1 else ""
        print(f"denseshift.train: error{rank}: {err}", file=sys.stderr)
        return 2
    finally:
        if dist is not None:
            dist.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
