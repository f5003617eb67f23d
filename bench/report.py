"""Tables, bench/results.json, the ratio plot and docs/PERFORMANCE.md.

Called by bench/run.py at the end of a run (write_all). Ratios are speed-ups:
time(baseline) / time(candidate), so > 1 means faster than the baseline. The
baseline of a layer is oneDNN f32 from the same run: `onednn-direct` for the
convolutions (the issue's targets are stated against oneDNN direct),
`onednn-ip` (inner product) for the fully connected layers, PyTorch for
the whole models (the issue's model target is against PyTorch). A candidate whose
output fails the check (WRONG) gets no ratio.
"""

import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import mca  # noqa: E402

BASELINE = {"conv": "onednn-direct", "fc": "onednn-ip", "model": "best PyTorch"}
TORCH_PEERS = ("pytorch", "pytorch-freeze", "pytorch-xnnpack")


def _sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    lscpu = _sh(["lscpu"])
    info = {}
    for line in lscpu.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    flags = set(info.get("Flags", "").split())
    versions = {}
    for pkg in ("libdnnl2", "python3-torch", "llvm-22", "libmlir-22", "clang-22"):
        v = _sh(["dpkg-query", "-W", "-f=${Version}", pkg])
        if v:
            versions[pkg] = v
    return {
        "model": info.get("Model name", platform.processor()),
        "cpus": info.get("CPU(s)"),
        "hypervisor": info.get("Hypervisor vendor"),
        "l2": info.get("L2 cache"), "l3": info.get("L3 cache"),
        "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
        "fma": "fma" in flags,
        "kernel": platform.release(),
        "versions": versions,
        "commit": _sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "dirty": bool(_sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])),
    }


def _fmt_us(s):
    if s is None:
        return "-"
    us = s * 1e6
    return f"{us:.1f}" if us < 100 else f"{us:.0f}"


def _fmt_ratio(r):
    return "-" if r is None else (f"{r:.2f}x" if r < 100 else f"{r:.0f}x")


def build_rows(records, metas, compiled, layers, cands):
    from run import LAYER_RUNS  # noqa: E402
    by = {(r["layer"], r["candidate"]): r for r in records}
    rows = []
    for name in layers:
        d, flush = LAYER_RUNS[name]
        meta = metas[d]
        base = by.get((name, BASELINE[meta["kind"]]))
        if meta["kind"] == "model":
            # Models: the best PyTorch way of running them (eager, frozen
            # TorchScript, XNNPACK) in this run.
            peers = [r for c, r in ((c, by.get((name, c))) for c in TORCH_PEERS)
                     if r and r["status"] == "ok" and "median_s" in r]
            base = min(peers, key=lambda r: r["median_s"]) if peers else base
        loops = by.get((name, "mlir-loops"))
        for c in cands:
            r = by.get((name, c))
            if r is None:
                continue
            row = {"layer": name, "kind": meta["kind"], "candidate": c, "status": r["status"],
                   "info": r.get("info", ""), "flush": flush, "macs": meta["macs"]}
            for k in ("median_s", "min_s", "max_s", "gmacs", "error", "runs", "repeat"):
                if k in r:
                    row[k] = r[k]
            ok = r["status"] == "ok" and "median_s" in r
            if ok and base and base["status"] == "ok" and "median_s" in base:
                row["vs_baseline"] = base["median_s"] / r["median_s"]
                row["vs_baseline_min"] = base["min_s"] / r["min_s"]
            if ok and loops and loops["status"] == "ok" and "median_s" in loops:
                row["vs_loops"] = loops["median_s"] / r["median_s"]
            info = compiled.get((d, c), {})
            if "rodata" in info:
                row["weight_bytes"] = info["rodata"]
                row["weight_bytes_note"] = "object .rodata"
                row["compile_s"] = info["compile_s"]
            elif c.startswith("onednn") or c.startswith("pytorch"):
                row["weight_bytes"] = meta["weight_bytes_f32"]
                row["weight_bytes_note"] = "f32"
            rows.append(row)
    return rows


def table_text(rows, metas, layers):
    from run import LAYER_RUNS  # noqa: E402
    lines = []
    head = (f"  {'candidate':22s} {'status':6s} {'median us':>10s} {'min':>9s} {'max':>9s} "
            f"{'GMAC/s':>7s} {'vs base':>9s} {'(min)':>7s} {'vs loops':>8s} {'weight B':>10s}")
    for name in layers:
        d, flush = LAYER_RUNS[name]
        meta = metas[d]
        lines.append(f"{name}: {meta['description']}{', weights from DRAM' if flush else ''}"
                     f" - {meta['macs'] / 1e6:.2f} MMAC, baseline {BASELINE[meta['kind']]}")
        lines.append(head)
        for r in [r for r in rows if r["layer"] == name]:
            if "median_s" in r:
                lines.append(
                    f"  {r['candidate']:22s} {r['status']:6s} {_fmt_us(r['median_s']):>10s} "
                    f"{_fmt_us(r['min_s']):>9s} {_fmt_us(r['max_s']):>9s} {r['gmacs']:7.2f} "
                    f"{_fmt_ratio(r.get('vs_baseline')):>9s} {_fmt_ratio(r.get('vs_baseline_min')):>7s} "
                    f"{_fmt_ratio(r.get('vs_loops')):>8s} "
                    f"{r.get('weight_bytes', '-'):>10}")
            else:
                lines.append(f"  {r['candidate']:22s} {r['status']:6s} {r['info'][:110]}")
        lines.append("")
    return "\n".join(lines)


def table_markdown(rows, metas, layers):
    from run import LAYER_RUNS  # noqa: E402
    out = []
    for name in layers:
        d, flush = LAYER_RUNS[name]
        meta = metas[d]
        out.append(f"**{name}** - {meta['description']}{', weights flushed from cache (DRAM)' if flush else ''}; "
                   f"{meta['macs'] / 1e6:.2f} MMAC; ratios vs `{BASELINE[meta['kind']]}`\n")
        out.append("| candidate | status | median µs | min | max | GMAC/s | vs baseline | (min/min) | vs loops | weight bytes |")
        out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
        for r in [r for r in rows if r["layer"] == name]:
            if "median_s" in r:
                out.append(f"| {r['candidate']} | {r['status']} | {_fmt_us(r['median_s'])} | "
                           f"{_fmt_us(r['min_s'])} | {_fmt_us(r['max_s'])} | {r['gmacs']:.2f} | "
                           f"{_fmt_ratio(r.get('vs_baseline'))} | {_fmt_ratio(r.get('vs_baseline_min'))} | "
                           f"{_fmt_ratio(r.get('vs_loops'))} | "
                           f"{r.get('weight_bytes', '-')} |")
            else:
                info = r["info"].replace("|", "\\|")[:160]
                out.append(f"| {r['candidate']} | {r['status']} | {info} | | | | | | | |")
        impl = [f"`{r['candidate']}` = {r['info']}" for r in rows
                if r["layer"] == name and r["status"] == "ok"
                and (r["candidate"].startswith("onednn") or r["candidate"] == "pytorch")]
        wrong = [f"`{r['candidate']}` (error {r.get('error', float('nan')):.1e}; {r['info']})"
                 for r in rows if r["layer"] == name and r["status"] == "WRONG"]
        if impl:
            out.append("\nPeers: " + "; ".join(impl) + ".")
        if wrong:
            out.append("\nWRONG results (not counted as fast): " + "; ".join(wrong) + ".")
        out.append("")
    return "\n".join(out)


def plot_ratios(rows, layers, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"bench: no plot ({e})")
        return False
    from run import CANDIDATES  # noqa: E402
    present = {r["candidate"] for r in rows}
    # The layers' baselines are the 1.0 line; on models pytorch is.
    cands = [c for c in CANDIDATES if c in present and c not in ("onednn-direct", "onednn-ip")]
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(layers) + 4), 5))
    width = 0.8 / max(1, len(cands))
    cmap = plt.get_cmap("tab20")
    for i, c in enumerate(cands):
        xs, ys = [], []
        for j, name in enumerate(layers):
            r = next((r for r in rows if r["layer"] == name and r["candidate"] == c), None)
            if r and r.get("vs_baseline"):
                xs.append(j + (i - len(cands) / 2 + 0.5) * width)
                ys.append(r["vs_baseline"])
        if xs:
            ax.bar(xs, ys, width, label=c, color=cmap(i % 20))
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(layers)
    ax.set_ylabel("speed-up vs baseline (log): oneDNN f32 for layers, PyTorch for models")
    ax.set_title("DenseShift benchmark: time(baseline) / time(candidate), one core")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def targets(rows, metas, compiled, extra):
    """The issue's targets, with the measured figure."""
    def get(layer, cand):
        return next((r for r in rows if r["layer"] == layer and r["candidate"] == cand), None)

    out = []
    for layer in ("A", "B"):
        for cand in ("ds-avx512", "ds-avx2"):
            r = get(layer, cand)
            if r:
                v = r.get("vs_baseline")
                out.append((f"{layer} 3x3 conv, default mode ({cand}) >= 0.55x oneDNN direct "
                            "(stretch 1.0x)", v, v is not None and v >= 0.55,
                            f"{v:.3f}x (min/min {r['vs_baseline_min']:.2f}x)" if v else r["status"]))
    model_targets = (("R18", 1.5, "ResNet-18 224, batch 1"), ("MV2", 1.2, "MobileNetV2 224, batch 1"),
                     ("R20-b32", 1.5, "ResNet-20, batch 32"), ("R20", 10.0, "ResNet-20, batch 1"))
    for layer, goal, what in model_targets:
        for cand in ("ds-avx512", "ds-avx2"):
            r = get(layer, cand)
            if r:
                v = r.get("vs_baseline")
                out.append((f"{what} ({cand}) >= {goal}x the best PyTorch peer", v,
                            v is not None and v >= goal,
                            f"{v:.2f}x (min/min {r['vs_baseline_min']:.2f}x)" if v else r["status"]))
    for cand in ("ds-avx512", "ds-avx2"):
        r = get("C", cand)
        if r:
            v = r.get("vs_baseline")
            out.append((f"C FC from DRAM ({cand}) >= 3.5x oneDNN f32", v,
                        v is not None and v >= 3.5,
                        f"{v:.2f}x (min/min {r['vs_baseline_min']:.2f}x)" if v else r["status"]))
    ds = [r for r in rows if r["candidate"].startswith("ds-") and r.get("vs_loops")
          and r["kind"] != "model"]
    if ds:
        worst = min(ds, key=lambda r: r["vs_loops"])
        out.append(("every shift kernel (layers) >= 40x upstream linalg-to-loops", worst["vs_loops"],
                    worst["vs_loops"] >= 40,
                    f"worst {_fmt_ratio(worst['vs_loops'])} ({worst['layer']}, {worst['candidate']})"))
    sizes = {}
    for (d, c), info in compiled.items():
        if c == "ds-avx512" and info.get("rodata") and metas[d]["kind"] != "model":
            sizes[d] = (metas[d]["weight_bytes_f32"], info["rodata"])
    if sizes:
        total = sum(f for f, _ in sizes.values()) / sum(r for _, r in sizes.values())
        worst = min(sizes, key=lambda d: sizes[d][0] / sizes[d][1])
        w = sizes[worst][0] / sizes[worst][1]
        out.append(("weights >= 7.5x smaller than f32 at 4 bits (f32 bytes / object .rodata, "
                    "all layers together)", total, total >= 7.5,
                    f"{total:.2f}x together; smallest layer {worst}: {w:.2f}x"))
    if extra.get("bits3"):
        v = extra["bits3"]["ratio"]
        out.append(("weights >= 10x smaller than f32 at 3 bits (layer A, 3-bit codes)", v,
                    v >= 10, f"{v:.2f}x ({extra['bits3']['rodata']} B .rodata for "
                    f"{extra['bits3']['f32']} B f32)"))
    for cand in ("ds-avx512", "ds-avx2"):
        r = get("R20", cand)
        if r:
            v = r.get("vs_baseline")
            out.append((f"whole ResNet-20 batch 1 ({cand}) >= 3x PyTorch f32", v,
                         v is not None and v >= 3,
                         f"{v:.2f}x (min/min {r['vs_baseline_min']:.2f}x)" if v else r["status"]))
    if not get("R20", "ds-avx512") and not get("R20", "ds-avx2"):
        out.append(("whole ResNet-20 batch 1 >= 3x PyTorch f32", None, None, "not run"))
    c = extra.get("compile_r20")
    if c:
        out.append(("compile ResNet-20 to an object <= 5 s (x86-64-avx512, pinned)", c["total_s"],
                    c["total_s"] <= 5, f"{c['total_s']:.1f} s (denseshift-opt {c['opt_s']:.1f} s "
                    f"+ denseshift-translate {c['translate_s']:.1f} s)"))
        out.append(("ResNet-20 weights vs f32 (object .rodata)", None, None,
                    f"{c['rodata']} B vs {c['f32_weight_bytes']} B f32 = "
                    f"{c['f32_weight_bytes'] / c['rodata']:.2f}x smaller; object {c['object_bytes']} B "
                    "(first conv and last FC stay f32, as the frontend keeps them)"))
    else:
        out.append(("compile ResNet-20 to an object <= 5 s", None, None, "not run"))
    return out


def mca_markdown(est):
    out = ["| kernel (layer A) | target | instrs/iter | MACs/iter | CPU model | cycles/iter | MACs/cycle |",
           "|---|---|--:|--:|---|--:|--:|"]
    for name, e in est.items():
        if "error" in e:
            out.append(f"| {name} | {e.get('target', '')} | error: {e['error']} | | | | |")
            continue
        for cpu, c in e["cpus"].items():
            out.append(f"| {name} | {e['target']} | {e['instructions']} | "
                       f"{e['macs_per_iteration']} | {cpu} | {c['cycles_per_iteration']:.1f} | "
                       f"{c['macs_per_cycle']:.2f} |")
    out.append("")
    for xadd, fma in (("exponent-add (default)", "decode-fma"),
                      ("x86 exponent-add (default)", "x86 decode-fma")):
        a, b = est.get(xadd, {}), est.get(fma, {})
        for cpu in a.get("cpus", {}):
            if cpu in b.get("cpus", {}):
                ra = a["cpus"][cpu]["macs_per_cycle"]
                rb = b["cpus"][cpu]["macs_per_cycle"]
                out.append(f"- {cpu}: the exponent-add loop reaches {ra / rb:.2f}x the MAC rate "
                           f"of the FMA loop ({ra:.2f} vs {rb:.2f} MACs/cycle).")
    return "\n".join(out)


def write_all(records, metas, compiled, layers, cands, notes, out, results, plot, doc,
              command, elapsed, compiler, extra=None):
    extra = extra or {}
    rows = build_rows(records, metas, compiled, layers, cands)
    text = table_text(rows, metas, layers)
    print("\n" + text)
    mach = machine()

    est = {}
    if "A" in metas:
        try:
            est = mca.estimate(os.path.join(out, "layers", "A", "layer.mlir"),
                               os.path.join(out, "mca"), compiler.opt, compiler.translate)
        except Exception as e:  # report, never lose the run's results over it
            est = {"error": {"error": str(e)}}
        print(mca_markdown(est))

    tg = targets(rows, metas, compiled, extra)
    print("\nTargets (issue 5):")
    for what, _, met, shown in tg:
        mark = "n/a " if met is None else ("MET " if met else "MISS")
        print(f"  [{mark}] {what}: {shown}")
    for n in notes:
        print("note: " + n)

    now = datetime.datetime.now().isoformat(timespec="seconds")
    data = {"date": now, "command": command, "elapsed_s": elapsed, "machine": mach,
            "layers": {d: metas[d] for d in metas}, "rows": rows, "notes": notes,
            "mca": est, "extra": extra,
            "targets": [{"target": w, "value": v, "met": m, "shown": s} for w, v, m, s in tg]}
    with open(results, "w") as f:
        json.dump(data, f, indent=1)
    print(f"\nbench: wrote {os.path.relpath(results, ROOT)}", end="")
    if plot and rows and plot_ratios(rows, layers, plot):
        print(f", {os.path.relpath(plot, ROOT)}", end="")
    if doc:
        write_doc(doc, data, rows, metas, layers, est, tg, plot)
        print(f", {os.path.relpath(doc, ROOT)}", end="")
    print(f" ({elapsed:.0f} s)")


BEFORE = os.path.join(HERE, "results-before.json")


def issue8_targets(rows):
    """Issue 8's shape targets, per compiled candidate of this run: NHWC
    (A-nhwc) at >= 0.9x the NCHW layer's GMAC/s, the 7x7 (F) and 1x1 (G)
    layers at >= 0.8x the 56x56 layer's."""
    ok = {(r["layer"], r["candidate"]): r for r in rows if r["status"] == "ok"}
    out = []
    for cand in sorted({c for (_, c) in ok if c.startswith("ds-")}):
        base = ok.get(("A", cand))
        if not base:
            continue
        for layer, want, what in (("A-nhwc", 0.9, "NHWC / NCHW"),
                                  ("F", 0.8, "7x7 map / 56x56"),
                                  ("G", 0.8, "1x1 on 14x14 / 56x56")):
            r = ok.get((layer, cand))
            if r:
                ratio = r["gmacs"] / base["gmacs"]
                out.append((cand, what, ratio, want))
    return out


def compare_markdown(before, rows):
    """This run's ratios beside an earlier run's (bench/results-before.json):
    the compiled candidates and each layer's baseline, whose change shows
    how much the machine itself drifted between the runs."""
    old = {(r["layer"], r["candidate"]): r for r in before["rows"] if r["status"] == "ok"}
    m = before["machine"]
    lines = [f"Before: `{before['command']}` on {before['date']}, commit `{m['commit']}`"
             f"{' (bench scripts of the after commit)' if m['dirty'] else ''}; after: the run"
             " above, same host. `vs baseline` is each run's own ratio to the layer's peer"
             " (oneDNN for layers, eager PyTorch for models), so machine drift cancels;"
             " `speed-up` is the before median over the after median.", "",
             "| layer | candidate | before: vs baseline | after: vs baseline | speed-up |",
             "|---|---|--:|--:|--:|"]
    for r in rows:
        o = old.get((r["layer"], r["candidate"]))
        if r["status"] != "ok" or not o:
            continue
        if not (r["candidate"].startswith("ds-") or r.get("vs_baseline") == 1.0):
            continue
        lines.append(f"| {r['layer']} | {r['candidate']} | {_fmt_ratio(o.get('vs_baseline'))} | "
                     f"{_fmt_ratio(r.get('vs_baseline'))} | {o['median_s'] / r['median_s']:.2f}x |")
    return "\n".join(lines) + "\n"


def write_doc(path, data, rows, metas, layers, est, tg, plot_path):
    m = data["machine"]
    analysis = os.path.join(HERE, "analysis.md")
    lines = [
        "# Performance",
        "",
        "Generated by `bench/report.py` from the run below; the analysis section is",
        "hand-written (`bench/analysis.md`). Issue 5 defines the method and targets;",
        "issue 8 adds the layout and small-map rows (A-nhwc, F, G) and the before/after",
        "comparison (`bench/results-before.json`, an earlier run on the same host).",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "scripts/bench                      # everything: install, build, run, this file",
        "scripts/bench --layers A,C --candidates ds-avx512,onednn-direct,onednn-ip --quick",
        "```",
        "",
        f"This run: `{data['command']}` on {data['date']}, {data['elapsed_s']:.0f} s wall, "
        f"commit `{m['commit']}`{' (with uncommitted changes in the tree)' if m['dirty'] else ''}; "
        "the compiler is whatever `build/bin` held when the run started (snapshot in "
        "`build/bench/bin`).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['model']} ({m['cpus']} vCPUs, {m.get('hypervisor') or 'bare metal'}"
        f"{' hypervisor' if m.get('hypervisor') else ''}), L2 {m['l2']}, L3 {m['l3']}",
        f"- ISA: avx2 {'yes' if m['avx2'] else 'no'}, avx512f {'yes' if m['avx512f'] else 'no'}, "
        f"fma {'yes' if m['fma'] else 'no'}; Linux {m['kernel']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        "## Method",
        "",
        "- One thread, pinned with `taskset -c 1`, holding `/tmp/denseshift-build.lock`",
        "  so no build runs at the same time (other users' test runs can, see noise below).",
        "- All oneDNN and compiled candidates of a layer run in one process",
        "  (`bench/driver.cpp`: oneDNN 2.6 C++ API, each compiled candidate `dlopen`ed",
        "  from its own `.so`); PyTorch 1.13 runs right after in its own process",
        "  (`bench/torch_bench.py`, `torch.set_num_threads(1)`), same pinning and lock.",
        "- Warm-up (>= 2 calls, >= 50 ms), then >= 10 samples and >= 0.3 s; a sample",
        "  repeats the call until it lasts >= 200 us (layer E takes ~1 us). Median, min, max",
        "  per call. GMAC/s = MACs / median. Candidates of one layer are timed interleaved",
        "  (5 rounds), so a noisy phase hits all of them. `vs baseline` = median/median;",
        "  `(min/min)` = the same with the fastest samples, a hint of the undisturbed ratio",
        "  when the machine is noisy (2 vCPUs shared with other jobs: compare min and max).",
        "- Correctness in the same run: the first call's output (buffer pre-filled with",
        "  NaN) and the last timed call's output are compared to a float64 reference",
        "  (`bench/gen.py`, numpy); error = max|y - ref| / max|ref| must be <= 1e-5",
        "  (the project's contract) with every output finite, else the row is WRONG.",
        "- Layer C: 128 MiB are touched before every timed call (L3 is 32 MiB), so",
        "  weights come from DRAM; `C-cached` is the same layer without the flush.",
        "- oneDNN convolutions are timed on their preferred (blocked) layouts with weights",
        "  reordered once, as benchdnn does; `onednn-direct+reorder` adds the",
        "  NCHW->blocked->NCHW activation reorders a caller with NCHW buffers pays.",
        "  `onednn-auto` lets oneDNN pick; the kernel it chose is on the Peers line of each table.",
        "- Weights: 4-bit zero-free codes, `alpha[o] * s * 2^e`, `emin = -7`; weight bytes of",
        "  compiled candidates = the object's `.rodata` (packed codes + alphas + other",
        "  constants); oneDNN/PyTorch = f32.",
        "- Candidates: `mlir-loops` = upstream one-shot-bufferize + convert-linalg-to-loops",
        "  + LLVM; `mlir-vec` = upstream transform-dialect tile + vectorize",
        "  (`bench/upstream/*.transform.mlir`); `ds-<isa>` = `--denseshift-pipeline` default",
        "  mode, `-fast` = `mode=fast`, `-fma` = `strategy=decode-fma`.",
        "",
        "## Results",
        "",
        f"![speed-up vs oneDNN]({os.path.relpath(plot_path, os.path.dirname(path))})" if plot_path else "",
        "",
        table_markdown(rows, metas, layers),
        "## Targets of issue 5",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for what, _, met, shown in tg:
        lines.append(f"| {what} | {shown} | {'n/a' if met is None else ('met' if met else '**missed**')} |")
    t8 = issue8_targets(rows)
    if t8:
        lines += ["", "## Targets of issue 8 (shapes)", "",
                  "| candidate | layer / reference (GMAC/s) | ratio | target | |",
                  "|---|---|--:|--:|---|"]
        lines += [f"| {c} | {what} | {ratio:.2f}x | >= {want}x | {'met' if ratio >= want else '**missed**'} |"
                  for c, what, ratio, want in t8]
    if os.path.exists(BEFORE):
        with open(BEFORE) as f:
            lines += ["", "## Before and after (issue 8)", "", compare_markdown(json.load(f), rows)]
    lines += ["", "## AArch64: llvm-mca estimates of the NEON inner loops", "",
              "Timing under qemu means nothing; these are static estimates (`bench/mca.py`) of",
              "the innermost loop of the layer-A conv kernel cut from `denseshift-translate",
              "--emit=asm` (`*_xadd` for the default exponent-add strategy, `*_fma` for",
              "strategy=decode-fma). The x86 rows (znver4 = this host's core) are a",
              "cross-check of the measured figures, not a substitute for them.",
              "", mca_markdown(est) if est else "Not run (layer A was not part of this run).", ""]
    if os.path.exists(analysis):
        lines += [open(analysis).read().rstrip(), ""]
    if data["notes"]:
        lines += ["## Notes of this run", ""] + [f"- {n}" for n in data["notes"]] + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    """Rewrite docs/PERFORMANCE.md from a saved results file (e.g. after
    editing bench/analysis.md) without re-running the benchmark."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--results", default=os.path.join(HERE, "results.json"))
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    p.add_argument("--plot", default=os.path.join(HERE, "ratios.png"))
    a = p.parse_args()
    with open(a.results) as f:
        data = json.load(f)
    rows = data["rows"]
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    tg = [(t["target"], t["value"], t["met"], t["shown"]) for t in data["targets"]]
    write_doc(a.doc, data, rows, data["layers"], layers, data["mca"], tg,
              a.plot if os.path.exists(a.plot) else None)
    print(f"wrote {a.doc}")


if __name__ == "__main__":
    main()
