"""Every result table of docs/RESULTS.md from one command (issue 12, item 4).

    python3 -m denseshift.table all [--runs ../runs] [--only NAME ...] [--list]

Runs, one after the other, each table's own command with the protocol its
section of RESULTS.md was made with (``--list`` prints them).  Every table
skips its finished runs and resumes interrupted ones, so the command can be
stopped and started again; a table whose runs exist with another protocol
stops with that table's message.  Each table writes its marked section of
DOCS/RESULTS.md, its JSON and its plots; this command then writes
DOCS/tables.json: per table the command, exit status and wall time, and the
machine.
"""
import argparse
import os
import sys
import time

from .checkpoint import atomic_write_json
from .table import DOCS_DIR, machine


def steps(runs, docs):
    """(name, what, [(module, argv), ...]) of every table, in the order they run."""
    r = lambda name: os.path.join(runs, name)   # noqa: E731
    d = ["--docs", docs]
    ptq_float = r("ptq-fp32-resnet20")
    return [
        ("paper", "the seven-configuration table, one seed (issue 4)",
         [("table", ["--out", r("table-resnet20"), "--limit", "10000", "--epochs", "5"] + d)]),
        ("converged", "the seven configurations on 60k images, 3 seeds",
         [("seeds_table", ["--out", r("converged"), "--model", "smallcnn", "--epochs", "10",
                           "--seeds", "0", "1", "2"] + d)]),
        ("ofq", "OFQ ablation on a 2/3-bit ViT",
         [("ofq_table", ["--out", r("ofq"), "--seeds", "0", "1"] + d)]),
        ("transfer", "transfer learning, three latent initializations",
         [("transfer_table", ["--out", r("transfer")] + d)]),
        ("ptq", "post-training quantization of a float ResNet-20",
         [("train", ["--model", "resnet20", "--scheme", "float", "--epochs", "12", "--schedule",
                     "cosine", "--augment", "--lr", "0.002", "--optimizer", "adam", "--batch", "128",
                     "--seed", "0", "--threads", "1", "--out", ptq_float]),
          ("ptq", [os.path.join(ptq_float, "checkpoint.pt"), "--table",
                   os.path.join(docs, "RESULTS.md"), "--json", os.path.join(docs, "ptq.json"),
                   "--bits", "3", "4", "5", "--alpha", "max", "mse", "--bn-recalibrate", "0", "20",
                   "--threads", "1"])]),
        ("lstm", "tensor-train LSTMs on Fashion-MNIST rows",
         [("lstm_table", ["--out", r("lstm")] + d)]),
        ("speech", "keyword spotting, every scheme (builds the speech set if missing)",
         [("speech_table", ["--data", "data/speech-small", "--size", "small", "--out", r("kws"),
                            "--epochs", "10"] + d)]),
        ("lstm-speech", "tensor-train LSTMs on the speech frames",
         [("lstm_table", ["--dataset", "speech", "--data-dir", "data/speech-small", "--out",
                          r("kws-lstm"), "--epochs", "8", "--batch", "64", "--lr", "0.003"] + d)]),
    ]


def _train_step(argv):
    """The ptq step's float model: train unless its checkpoint is complete."""
    from .report import train_or_skip
    out = argv[argv.index("--out") + 1]
    train_or_skip(out, argv, int(argv[argv.index("--epochs") + 1]), "ptq")
    return 0


def _entry(module):
    if module == "train":
        return _train_step
    import importlib
    return importlib.import_module(f"denseshift.{module}").main


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.table all", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default="../runs", help="where every table keeps its runs")
    p.add_argument("--docs", default=DOCS_DIR)
    names = [s[0] for s in steps("", "")]
    p.add_argument("--only", nargs="+", choices=names)
    p.add_argument("--list", action="store_true", help="print the commands and stop")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    selected = [s for s in steps(args.runs, args.docs) if args.only is None or s[0] in args.only]
    if args.list:
        for name, what, commands in selected:
            print(f"# {name}: {what}")
            for module, step_argv in commands:
                print(f"python3 -m denseshift.{module} " + " ".join(step_argv))
        return 0
    record = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M %Z"), "tables": []}
    status = 0
    for name, what, commands in selected:
        started = time.time()
        code = 0
        for module, step_argv in commands:
            extra = ["--no-progress"] if args.no_progress and module not in ("ptq", "train") else []
            print(f"[table all] {name}: python3 -m denseshift.{module} {' '.join(step_argv)}", flush=True)
            try:
                code = _entry(module)(step_argv + extra)
            except Exception as err:     # one table's failure must not hide the others'
                print(f"[table all] {name}: {type(err).__name__}: {err}", file=sys.stderr)
                code = 2
            if code:
                break
        record["tables"].append({"name": name, "what": what, "status": code,
                                 "minutes": (time.time() - started) / 60,
                                 "commands": [f"python3 -m denseshift.{m} {' '.join(a)}"
                                              for m, a in commands]})
        status = status or code
        print(f"[table all] {name}: {'done' if code == 0 else f'failed (exit {code})'} in "
              f"{(time.time() - started) / 60:.1f} min", flush=True)
    os.makedirs(args.docs, exist_ok=True)
    atomic_write_json(os.path.join(args.docs, "tables.json"), record)
    return status
