#!/usr/bin/python3
"""llvm-mca throughput estimates of the AArch64 NEON inner loops (issue 5).

Timing under qemu means nothing, so for AArch64 the benchmark reports static
estimates: layer A is compiled for aarch64-neon twice, with the default
strategy (exponent add: `add` on the bit pattern + `fadd`) and with
strategy=decode-fma (decode the code to a float, `fmla`). From the assembly
(`denseshift-translate --emit=asm`) the innermost loop of the kernel
(`__shift_conv2d_0_xadd` resp. `__shift_conv2d_0_fma`) is cut out - the
single-block loop that branches back to its own label - and fed to
llvm-mca -mcpu=cortex-a76 and -mcpu=cortex-a55. MACs per iteration are the
vector lanes of the accumulating instructions (`fadd`/`fmla` on .4s = 4).

    mca.py LAYER.mlir WORKDIR [--opt denseshift-opt] [--translate denseshift-translate]
"""

import argparse
import json
import os
import re
import subprocess
import sys

MCA = "/usr/lib/llvm-22/bin/llvm-mca"
CPUS = ("cortex-a76", "cortex-a55")
# name: (target, pipeline options, kernel function (regex: the first conv
# kernel whose name ends so), accumulate mnemonic, llvm-mca triple, CPUs).
# The kernel names carry their shape (e.g. __shift_conv2d_1x64x58x66..._xadd);
# older builds called them __shift_conv2d_0_xadd.
KERNELS = {
    "exponent-add (default)": ("aarch64-neon", "target=aarch64-neon",
                               r"__shift_conv2d_\w*_xadd", "fadd", "aarch64", CPUS),
    "decode-fma": ("aarch64-neon", "target=aarch64-neon strategy=decode-fma",
                   r"__shift_conv2d_\w*_fma", "fmla", "aarch64", CPUS),
    # The x86 host, for the analysis (measured, too, so only a cross-check).
    "x86 exponent-add (default)": ("x86-64-avx512", "target=x86-64-avx512",
                                   r"__shift_conv2d_\w*_xadd", "vaddps", "x86_64", ("znver4",)),
    "x86 decode-fma": ("x86-64-avx512", "target=x86-64-avx512 strategy=decode-fma",
                       r"__shift_conv2d_\w*_fma", "vfmadd231ps", "x86_64", ("znver4",)),
}


def innermost_loop(asm, function, comment="//"):
    """Instructions of the innermost single-block loop of the first function
    whose name matches the regex `function`."""
    lines = asm.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if re.fullmatch(function + ":", l.strip()))
    except StopIteration:
        raise RuntimeError(f"no function matching {function} in the assembly")
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith(".Lfunc_end")), len(lines))
    body = lines[start + 1:end]
    best = None
    for i, l in enumerate(body):
        m = re.match(r"^(\.LBB\d+_\d+):", l)
        if not m:
            continue
        label = m.group(1)
        block, closed = [], False
        for l2 in body[i + 1:]:
            if re.match(r"^\.LBB\d+_\d+:", l2):
                break
            s = l2.split(comment)[0].strip()
            if s and not s.startswith("."):
                block.append(s)
                # a loop: a branch back to its own label ends the block
                if s.split()[-1] == label and s.split()[0].startswith(("b", "cb", "tb", "j")):
                    closed = True
                    break
        if closed and (best is None or len(block) > len(best)):
            best = block
    if best is None:
        raise RuntimeError(f"no single-block loop found in {function}")
    return best


def mca(block, cpu, triple="aarch64"):
    text = "\n".join(block) + "\n"
    r = subprocess.run([MCA, f"-mtriple={triple}", f"-mcpu={cpu}", "-iterations=200"],
                       input=text, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[0] if r.stderr else "llvm-mca failed")
    fields = {}
    for key in ("Iterations", "Instructions", "Total Cycles", "Block RThroughput"):
        m = re.search(rf"^{key}:\s+([\d.]+)", r.stdout, re.M)
        if m:
            fields[key] = float(m.group(1))
    return fields


def macs_per_iteration(block, mnemonic):
    lanes = 0
    for ins in block:
        op = ins.split()[0]
        if op == mnemonic:
            m = re.search(r"\.(\d+)([sdh])\b", ins)
            if m:
                lanes += int(m.group(1))
            elif "%zmm" in ins:
                lanes += 16
            elif "%ymm" in ins:
                lanes += 8
            elif "%xmm" in ins:
                lanes += 4
            else:
                lanes += 1
    return lanes


def estimate(layer_mlir, work, opt, translate):
    os.makedirs(work, exist_ok=True)
    results = {}
    for name, (target, options, function, acc, triple, cpus) in KERNELS.items():
        tag = ("fma" if "fma" in options else "xadd") + ("-x86" if triple != "aarch64" else "")
        lowered = os.path.join(work, f"neon-{tag}.ll.mlir")
        asm = os.path.join(work, f"neon-{tag}.s")
        entry = {"function": function, "pipeline": options, "target": target}
        try:
            subprocess.run([opt, layer_mlir, f"--denseshift-pipeline={options}", "-o", lowered],
                           check=True, capture_output=True, text=True)
            subprocess.run([translate, f"--target={target}", "--emit=asm", lowered, "-o", asm],
                           check=True, capture_output=True, text=True)
            block = innermost_loop(open(asm).read(), function,
                                   "//" if triple == "aarch64" else "#")
            m = re.search(r"^(" + function + "):", open(asm).read(), re.M)
            entry["function"] = m.group(1) if m else function
            with open(os.path.join(work, f"neon-{tag}.loop.s"), "w") as f:
                f.write("\n".join(block) + "\n")
            macs = macs_per_iteration(block, acc)
            entry.update(instructions=len(block), macs_per_iteration=macs,
                         int_adds=sum(1 for i in block if (i.split()[0] == "add" and ".4s" in i)
                                      or i.split()[0] == "vpaddd"),
                         loads=sum(1 for i in block if i.split()[0].startswith("ld")),
                         loop_file=os.path.join(work, f"neon-{tag}.loop.s"), cpus={})
            for cpu in cpus:
                f = mca(block, cpu, triple)
                cycles = f["Total Cycles"] / f["Iterations"]
                entry["cpus"][cpu] = {"cycles_per_iteration": cycles,
                                      "block_rthroughput": f.get("Block RThroughput"),
                                      "macs_per_cycle": macs / cycles if cycles else None}
        except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
            msg = getattr(e, "stderr", None) or str(e)
            entry["error"] = msg.strip().splitlines()[0] if msg.strip() else str(e)
        results[name] = entry
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("layer")
    p.add_argument("work")
    p.add_argument("--opt", default="denseshift-opt")
    p.add_argument("--translate", default="denseshift-translate")
    a = p.parse_args()
    print(json.dumps(estimate(a.layer, a.work, a.opt, a.translate), indent=1))


if __name__ == "__main__":
    sys.exit(main())
