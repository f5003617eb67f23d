"""What the result tables share: train-or-skip a run, check a compiled model
against PyTorch on each target, time it, write a marked RESULTS.md section,
and the command-line entry point."""
import os
import sys
import time

import numpy as np
import torch

from .checkpoint import atomic_write_json, atomic_write_text, load_checkpoint, replace_section


class ReportError(RuntimeError):
    """A run failed or a table cannot be made from the runs there are."""


def train_or_skip(run_dir, argv, epochs, tag, no_progress=False):
    """Train ``denseshift.train argv`` into ``run_dir`` unless its checkpoint already
    has ``epochs`` epochs (a shorter one is resumed); train's own checks refuse a
    run made with another model, scheme or schedule."""
    from . import train
    path = os.path.join(run_dir, "checkpoint.pt")
    done = load_checkpoint(path)["epoch"] if os.path.exists(path) else 0
    if done >= epochs:
        print(f"[{tag}] {os.path.basename(run_dir)}: {done} epochs, skipped", flush=True)
        return
    print(f"[{tag}] {os.path.basename(run_dir)}: "
          f"{'resuming after epoch %d' % done if done else 'training'}", flush=True)
    status = train.main(argv + (["--resume"] if done else []) + (["--no-progress"] if no_progress else []))
    if status != 0:     # train printed the reason
        raise ReportError(f"training {run_dir} failed (exit {status})")


def compiled_agreement(mlir_path, images, logits, arm_images=500):
    """Compile ``mlir_path`` for x86-64-avx2 (all ``images``) and aarch64-neon under
    qemu (the first ``arm_images``); per target the predictions that differ from
    ``logits`` (PyTorch's) and the max logit error relative to max|logit|, or why
    the target was not run.  Returns (results, the x86 model or None)."""
    from . import runtime
    results, x86 = {}, None
    for target, count in (("x86-64-avx2", len(images)), ("aarch64-neon", arm_images)):
        if target == "aarch64-neon":
            why = runtime.qemu_missing()
            ok = not why
        else:
            ok, why = runtime._host_can_run(target)
        if not ok:
            results[target] = {"skipped": why}
            continue
        compiled = runtime.compile(mlir_path, target=target, toolchain="project",
                                   output=os.path.splitext(mlir_path)[0] + f".{target}.so")
        if target == "x86-64-avx2":
            x86 = compiled
        got, ref = compiled(images[:count]), logits[:count]
        results[target] = {"images": int(min(count, len(images))),
                           "differ": int((got.argmax(1) != ref.argmax(1)).sum()),
                           "max_rel_error": float(np.abs(got - ref).max() / np.abs(ref).max())}
    return results, x86


def agreement_lines(results):
    lines = []
    for target, c in results.items():
        if "skipped" in c:
            lines.append(f"* {target}: not run ({c['skipped']})")
        else:
            lines.append(f"* {target}: {c['differ']} of {c['images']} predictions differ from "
                         f"PyTorch, max logit error {c['max_rel_error']:.1e} of max|logit|")
    return lines


def latency_ms(fn, repeats=30):
    """Minimum wall time of ``fn()`` in ms over ``repeats`` calls (after one warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return 1e3 * best


def pytorch_latency_ms(model, example, repeats=30):
    """One-thread eager PyTorch latency of ``model(example)`` (min over calls)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return latency_ms(lambda: model(example), repeats)
    finally:
        torch.set_num_threads(threads)


def write_section(docs, name, markdown, result):
    """The marked section ``name`` of DOCS/RESULTS.md (the rest of the file is
    kept) and DOCS/<name>.json."""
    os.makedirs(docs, exist_ok=True)
    results_md = os.path.join(docs, "RESULTS.md")
    text = ""
    if os.path.isfile(results_md):
        with open(results_md, encoding="utf-8") as f:
            text = f.read()
    atomic_write_text(results_md, replace_section(text, name, markdown))
    atomic_write_json(os.path.join(docs, f"{name}.json"), result)


def table_main(prog, parse_args, run, errors, argv=None):
    """``python3 -m denseshift.<prog>``: parse, run, and turn the expected
    ``errors`` (and ReportError) into one line on stderr and exit status 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    started = time.time()
    try:
        run(args, argv)
    except (ReportError, *errors) as err:
        print(f"denseshift.{prog}: error: {err}", file=sys.stderr)
        return 2
    print(f"[{prog}] done in {time.time() - started:.0f} s")
    return 0
