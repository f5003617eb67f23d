"""Compile exported MLIR to a shared library and run it on numpy batches.

    model = denseshift.compile("model.mlir", target="x86-64-avx2")
    logits = model(images)            # float32 (B, 1, 28, 28) -> (B, 10)

Compilation is a :class:`Toolchain`: MLIR -> LLVM IR or object (the pluggable
part), then clang links a shared library.  ``UpstreamToolchain`` is the reference
(stock ``mlir-opt`` linalg -> loops); ``ProjectToolchain`` runs the project's
``build/bin/denseshift-opt --denseshift-pipeline`` and ``denseshift-translate``.
``toolchain="auto"`` picks the project tools once they are built.
Both produce the project ABI of ``runtime/denseshift_runtime.h``:
``void forward(const float *input, float *output)`` with bare pointers to
dense row-major buffers of the static shapes, output written in place.
"""
import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile

import numpy as np

LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROJECT_BIN = os.path.join(os.environ.get("DENSESHIFT_BUILD_DIR", os.path.join(REPO_ROOT, "build")), "bin")

# target -> (architecture, clang flags, /proc/cpuinfo flags needed to run it)
TARGETS = {
    "x86-64-avx2": ("x86_64", ["-march=haswell"], ["avx2", "fma"]),
    "x86-64-avx512": ("x86_64", ["-march=skylake-avx512"], ["avx512f", "avx512bw", "avx512vl"]),
    "aarch64-neon": ("aarch64", ["--target=aarch64-linux-gnu", "-march=armv8-a+simd"], []),
}

# Result buffers become out-params (the final result is computed in place) and
# memrefs are passed as bare pointers: the ABI of runtime/denseshift_runtime.h.
UPSTREAM_PIPELINE = [
    "--one-shot-bufferize=bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map",
    "--buffer-results-to-out-params=modify-public-functions hoist-static-allocs",
    "--buffer-deallocation-pipeline",
    "--convert-linalg-to-loops", "--lower-affine", "--convert-scf-to-cf",
    "--expand-strided-metadata", "--finalize-memref-to-llvm", "--convert-math-to-llvm",
    "--convert-arith-to-llvm", "--convert-func-to-llvm=use-bare-ptr-memref-call-conv=1",
    "--convert-cf-to-llvm", "--reconcile-unrealized-casts",
]

_SIGNATURE = re.compile(r"func\.func\s+@forward\(%\w+:\s*tensor<([0-9x]+)xf32>\)\s*->\s*"
                        r"tensor<([0-9x]+)xf32>\s*(attributes\s*\{[^}]*\}\s*)?\{")


class ToolchainError(RuntimeError):
    """A compile step failed, a tool is missing, or the artifact cannot run here."""


def _run(argv, what):
    if shutil.which(argv[0]) is None:
        raise ToolchainError(f"{what}: tool {argv[0]} not found")
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-20:])
        raise ToolchainError(f"{what} failed ({' '.join(argv)}):\n{tail}")


class Toolchain:
    """MLIR on tensors -> a file clang can link (LLVM IR or an object).

    Subclass and override :meth:`to_linkable`; ``link_args`` are added when
    clang links the shared library.
    """

    name = "abstract"
    link_args = ()

    def to_linkable(self, mlir_path, workdir, target):
        raise NotImplementedError

    def available(self):
        return True


class UpstreamToolchain(Toolchain):
    """Stock MLIR: bufferize, linalg -> loops -> LLVM dialect, mlir-translate."""

    name = "upstream"
    # Strided memref.copy (from tensor.pad) lowers to a call to memrefCopy.
    link_args = (f"-L{LLVM_LIB}", "-lmlir_c_runner_utils", f"-Wl,-rpath,{LLVM_LIB}")

    def __init__(self, bin_dir=LLVM_BIN, pipeline=UPSTREAM_PIPELINE):
        self.opt = os.path.join(bin_dir, "mlir-opt")
        self.translate = os.path.join(bin_dir, "mlir-translate")
        self.pipeline = list(pipeline)

    def available(self):
        return os.access(self.opt, os.X_OK) and os.access(self.translate, os.X_OK)

    def to_linkable(self, mlir_path, workdir, target):
        lowered = os.path.join(workdir, "lowered.mlir")
        _run([self.opt, mlir_path, *self.pipeline, "-o", lowered], "mlir-opt (upstream pipeline)")
        llvm_ir = os.path.join(workdir, "model.ll")
        _run([self.translate, "--mlir-to-llvmir", lowered, "-o", llvm_ir], "mlir-translate")
        return llvm_ir


class ProjectToolchain(Toolchain):
    """The project's compiler: ``denseshift-opt <opt_args>`` to the LLVM
    dialect (default ``--denseshift-pipeline=target=T``), then
    ``denseshift-translate --target=T --emit=obj`` (plus a C header)."""

    name = "project"
    link_args = ("-lm",)  # the ABI promises the object needs only libc and libm

    def __init__(self, bin_dir=PROJECT_BIN, opt_args=None):
        self.opt = os.path.join(bin_dir, "denseshift-opt")
        self.translate = os.path.join(bin_dir, "denseshift-translate")
        self.opt_args = opt_args

    def available(self):
        """Built, and (unless opt_args are given) the pipeline is registered."""
        if not (os.access(self.opt, os.X_OK) and os.access(self.translate, os.X_OK)):
            return False
        if self.opt_args is not None:
            return True
        proc = subprocess.run([self.opt, "--help"], capture_output=True, text=True)
        return "--denseshift-pipeline" in proc.stdout

    def to_linkable(self, mlir_path, workdir, target):
        lowered = os.path.join(workdir, "lowered.mlir")
        opt_args = self.opt_args if self.opt_args is not None else [f"--denseshift-pipeline=target={target}"]
        _run([self.opt, mlir_path, *opt_args, "-o", lowered], "denseshift-opt")
        obj = os.path.join(workdir, "model.o")
        _run([self.translate, lowered, f"--target={target}", "--emit=obj",
              f"--header={os.path.join(workdir, 'model.h')}", "-o", obj], "denseshift-translate")
        return obj


def resolve_toolchain(toolchain="auto"):
    if isinstance(toolchain, Toolchain):
        return toolchain
    if toolchain == "upstream":
        return UpstreamToolchain()
    if toolchain == "project":
        return ProjectToolchain()
    if toolchain == "auto":
        project = ProjectToolchain()
        return project if project.available() else UpstreamToolchain()
    raise ValueError(f"unknown toolchain {toolchain!r}: use 'auto', 'upstream', 'project' "
                     "or a Toolchain instance")


def forward_signature(mlir_text):
    """(input shape, output shape) of ``@forward`` in exported MLIR."""
    match = _SIGNATURE.search(mlir_text)
    if match is None:
        raise ToolchainError("no 'func.func @forward(%arg0: tensor<...xf32>) -> tensor<...xf32>' found")
    return tuple(int(d) for d in match.group(1).split("x")), tuple(int(d) for d in match.group(2).split("x"))


def compile(mlir_path, target="x86-64-avx2", toolchain="auto", output=None, opt_level=2,
            clang=None):  # noqa: A001 - mirrors the public API name
    """Compile ``mlir_path`` to a shared library; returns a :class:`CompiledModel`.

    ``output`` defaults to ``<mlir stem>.<target>.so`` beside the MLIR file.
    A JSON sidecar (``output + ".json"``) records shapes, target and toolchain.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {sorted(TARGETS)}")
    if not os.path.isfile(mlir_path):
        raise ToolchainError(f"{mlir_path} not found")
    chain = resolve_toolchain(toolchain)
    with open(mlir_path) as f:
        text = f.read()
    input_shape, output_shape = forward_signature(text)
    stem = os.path.splitext(os.path.abspath(mlir_path))[0]
    output = output or f"{stem}.{target}.so"
    arch, flags, _ = TARGETS[target]
    clang = clang or os.path.join(LLVM_BIN, "clang")
    with tempfile.TemporaryDirectory(prefix="denseshift-compile-") as workdir:
        linkable = chain.to_linkable(os.path.abspath(mlir_path), workdir, target)
        library = os.path.join(workdir, "model.so")
        _run([clang, f"-O{opt_level}", "-shared", "-fPIC", "-Wno-override-module", *flags,
              linkable, *(chain.link_args if arch == platform.machine() else ()), "-o", library],
             "clang (link shared library)")
        shutil.move(library, output)
    meta = {"input_shape": input_shape, "output_shape": output_shape, "target": target,
            "arch": arch, "toolchain": chain.name, "source": os.path.abspath(mlir_path)}
    with open(output + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    return CompiledModel(output, input_shape, output_shape, target)


def load(library_path, input_shape=None, output_shape=None, target=None):
    """Load a compiled library; shapes default to its JSON sidecar."""
    meta = {}
    if os.path.isfile(library_path + ".json"):
        with open(library_path + ".json") as f:
            meta = json.load(f)
    input_shape = input_shape or meta.get("input_shape")
    output_shape = output_shape or meta.get("output_shape")
    if input_shape is None or output_shape is None:
        raise ToolchainError(f"{library_path}: shapes unknown (no .json sidecar); pass them")
    return CompiledModel(library_path, input_shape, output_shape, target or meta.get("target"))


def _host_can_run(target):
    if target is None:
        return True, ""
    arch, _, cpu_flags = TARGETS[target]
    if platform.machine() != arch:
        return False, f"{target} code cannot run on a {platform.machine()} host"
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((l for l in f if l.startswith(("flags", "Features"))), "").split())
    except OSError:
        return True, ""
    missing = [flag for flag in cpu_flags if flag not in flags]
    return (not missing), f"this CPU lacks {', '.join(missing)} needed by {target}"


class CompiledModel:
    """A compiled ``@forward``: call it on float32 arrays of any batch size."""

    def __init__(self, library, input_shape, output_shape, target=None):
        self.library = library
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(int(d) for d in output_shape)
        self.target = target
        self._fn = None

    def _load(self):
        if self._fn is not None:
            return
        ok, why = _host_can_run(self.target)
        if not ok:
            raise ToolchainError(f"{self.library}: {why}")
        lib = ctypes.CDLL(os.path.abspath(self.library))
        try:
            fn = lib.forward
        except AttributeError as err:
            raise ToolchainError(f"{self.library} does not export 'forward' "
                                 "(see runtime/denseshift_runtime.h)") from err
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        fn.restype = None
        self._lib, self._fn = lib, fn

    def run_batch(self, x):
        """One call of ``forward(input, output)`` on exactly its static batch size."""
        self._load()
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != self.input_shape:
            raise ValueError(f"expected input {self.input_shape}, got {x.shape}")
        out = np.empty(self.output_shape, dtype=np.float32)
        self._fn(x.ctypes.data, out.ctypes.data)
        return out

    def __call__(self, x):
        """Run any batch size: split into chunks of the compiled batch, pad the last."""
        x = np.asarray(x, dtype=np.float32)
        batch = self.input_shape[0]
        if x.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"expected (B, {', '.join(map(str, self.input_shape[1:]))}), got {x.shape}")
        outputs = []
        for start in range(0, len(x), batch):
            chunk = x[start:start + batch]
            count = len(chunk)
            if count < batch:
                chunk = np.concatenate([chunk, np.zeros((batch - count,) + chunk.shape[1:], np.float32)])
            outputs.append(self.run_batch(chunk)[:count])
        return np.concatenate(outputs) if outputs else np.zeros((0,) + self.output_shape[1:], np.float32)
