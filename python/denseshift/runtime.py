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

Models for the host's architecture run in-process through ctypes
(:class:`CompiledModel`).  AArch64 models on an x86-64 host run under
user-mode QEMU (:class:`QemuModel`): the object is linked statically with
``runtime/run_batches.c`` by ``aarch64-linux-gnu-gcc`` and executed by
``qemu-aarch64`` on batches passed through temporary files.  Both offer the
same ``model(x)`` / ``model.run_batch(x)`` API.
"""
import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import threading

import numpy as np

LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROJECT_BIN = os.path.join(os.environ.get("DENSESHIFT_BUILD_DIR", os.path.join(REPO_ROOT, "build")), "bin")

# target -> (architecture, clang flags, /proc/cpuinfo flags needed to run it).
# The compiler's own table (lib/Conversion/ShiftToVector/ShiftToVector.cpp,
# printed by `denseshift-translate --print-targets`) is the reference:
# project_targets() reads it, and python/tests/test_runtime.py checks that
# this copy (needed without a built compiler, for the upstream toolchain)
# agrees with it.
TARGETS = {
    "x86-64-avx2": ("x86_64", ["-march=haswell"], ["avx2", "fma"]),
    "x86-64-avx512": ("x86_64", ["-march=skylake-avx512"],
                      ["avx512f", "avx512bw", "avx512vl", "avx512dq"]),
    "aarch64-neon": ("aarch64", ["--target=aarch64-linux-gnu", "-march=armv8-a+simd"], []),
}


def project_targets(translate=None):
    """The compiler's target table: name -> dict(triple, cpu, features,
    lanes, host_flags), from ``denseshift-translate --print-targets``."""
    translate = translate or os.path.join(PROJECT_BIN, "denseshift-translate")
    if not os.access(translate, os.X_OK):
        raise ToolchainError(f"denseshift-translate: tool {translate} not found")
    proc = subprocess.run([translate, "--print-targets"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"denseshift-translate --print-targets failed: {proc.stderr.strip()}")
    table = {}
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 6:
            raise ToolchainError(f"denseshift-translate --print-targets: bad line {line!r}")
        name, triple, cpu, features, lanes, host = fields
        table[name] = dict(triple=triple, cpu=cpu, features=features.split(","),
                           lanes=int(lanes), host_flags=host.split())
    return table

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


def _object_path(library_path):
    """Where the relocatable object sits beside a library: ``X.so`` -> ``X.o``."""
    stem = library_path[:-3] if library_path.endswith(".so") else library_path
    return stem + ".o"


def compile(mlir_path, target="x86-64-avx2", toolchain="auto", output=None, opt_level=2,
            clang=None, pipeline_options=None):  # noqa: A001 - mirrors the public API name
    """Compile ``mlir_path``; returns a model (:class:`CompiledModel` or, for
    AArch64 on an x86-64 host, :class:`QemuModel`) callable on numpy batches.

    ``output`` defaults to ``<mlir stem>.<target>.so`` beside the MLIR file; the
    relocatable object (the artifact of docs/abi.md) is kept beside it as
    ``<output stem>.o``.  A JSON sidecar (``output + ".json"``) records shapes,
    target, toolchain and the object's path.
   
    ``pipeline_options`` (project toolchain only) are appended to the
    pipeline's option string, e.g. ``"strategy=auto"`` or ``"mode=fast"``
    (docs/kernels.md); the compiler rejects unknown ones.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {sorted(TARGETS)}")
    if not os.path.isfile(mlir_path):
        raise ToolchainError(f"{mlir_path} not found")
    chain = resolve_toolchain(toolchain)
    if pipeline_options:
        if not isinstance(chain, ProjectToolchain) or chain.opt_args is not None:
            raise ValueError("pipeline_options need the project toolchain with its registered "
                             f"pipeline (toolchain {chain.name!r} has no such options)")
        chain = ProjectToolchain(os.path.dirname(chain.opt), opt_args=[
            f"--denseshift-pipeline=target={target} {pipeline_options}"])
    with open(mlir_path) as f:
        text = f.read()
    input_shape, output_shape = forward_signature(text)
    stem = os.path.splitext(os.path.abspath(mlir_path))[0]
    output = os.path.abspath(output or f"{stem}.{target}.so")
    object_output = _object_path(output)
    arch, flags, _ = TARGETS[target]
    clang = clang or os.path.join(LLVM_BIN, "clang")
    with tempfile.TemporaryDirectory(prefix="denseshift-compile-") as workdir:
        linkable = chain.to_linkable(os.path.abspath(mlir_path), workdir, target)
        obj = linkable
        if not linkable.endswith(".o"):  # LLVM IR (upstream): code generation by clang
            obj = os.path.join(workdir, "model.o")
            _run([clang, f"-O{opt_level}", "-c", "-fPIC", "-Wno-override-module", *flags,
                  linkable, "-o", obj], "clang (compile object)")
        library = os.path.join(workdir, "model.so")
        _run([clang, f"-O{opt_level}", "-shared", "-fPIC", *flags,
              obj, *(chain.link_args if arch == platform.machine() else ()), "-o", library],
             "clang (link shared library)")
        shutil.move(obj, object_output)
        shutil.move(library, output)
    meta = {"input_shape": input_shape, "output_shape": output_shape, "target": target,
            "arch": arch, "toolchain": chain.name, "source": os.path.abspath(mlir_path),
            "object": object_output}
    with open(output + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    return _make_model(output, input_shape, output_shape, target, object_output)


def load(library_path, input_shape=None, output_shape=None, target=None, object_path=None):
    """Load a compiled library; shapes, target and object default to its JSON
    sidecar.  AArch64 models on an x86-64 host come back as :class:`QemuModel`
    (which runs the object ``<library stem>.o``), others as :class:`CompiledModel`."""
    meta = {}
    if os.path.isfile(library_path + ".json"):
        with open(library_path + ".json") as f:
            meta = json.load(f)
    input_shape = input_shape or meta.get("input_shape")
    output_shape = output_shape or meta.get("output_shape")
    if input_shape is None or output_shape is None:
        raise ToolchainError(f"{library_path}: shapes unknown (no .json sidecar); pass them")
    if object_path is None:  # beside the library (moves with it), else the recorded path
        object_path = _object_path(library_path)
        if not os.path.isfile(object_path) and meta.get("object"):
            object_path = meta["object"]
    return _make_model(library_path, input_shape, output_shape, target or meta.get("target"),
                       object_path)


def _make_model(library, input_shape, output_shape, target, object_path):
    if target in TARGETS and TARGETS[target][0] == "aarch64" and platform.machine() == "x86_64":
        return QemuModel(library, input_shape, output_shape, target, object_path)
    return CompiledModel(library, input_shape, output_shape, target, object_path)


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


_LOADED = {}     # absolute library path -> (device, inode, mtime) of the file dlopen'ed


def _loadable_path(library):
    """The path to dlopen for ``library``.

    dlopen returns the library already loaded under the same name even if the
    file has since been replaced, so compiling a changed model to the same
    output and loading it again in one process would silently run the old
    code.  A file that changed since it was loaded is therefore loaded from a
    private copy with a fresh name (kept until the process exits, since the
    loaded code lives there)."""
    path = os.path.abspath(library)
    st = os.stat(path)
    identity = (st.st_dev, st.st_ino, st.st_mtime_ns)
    seen = _LOADED.get(path)
    if seen is None or seen == identity:
        _LOADED[path] = identity
        return path
    copy_dir = tempfile.mkdtemp(prefix="denseshift-reload-")
    copy = os.path.join(copy_dir, os.path.basename(path))
    shutil.copy2(path, copy)
    return copy


class CompiledModel:
    """A compiled ``@forward``: call it on float32 arrays of any batch size.

    ``library`` is the shared library, ``object`` the relocatable object kept
    beside it by :func:`compile` (``None`` if unknown)."""

    def __init__(self, library, input_shape, output_shape, target=None, object_path=None):
        self.library = library
        self.object = object_path
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
        lib = ctypes.CDLL(_loadable_path(self.library))
        try:
            fn = lib.forward
        except AttributeError as err:
            raise ToolchainError(f"{self.library} does not export 'forward' "
                                 "(see runtime/denseshift_runtime.h)") from err
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        fn.restype = None
        # The reentrant form (absent with static-buffers=true): one planned
        # workspace per calling thread, kept across calls, so a call makes
        # no malloc and takes no page fault (docs/abi.md).
        self._ws_fn = None
        if hasattr(lib, "forward_ws") and hasattr(lib, "forward_workspace_size"):
            lib.forward_workspace_size.restype = ctypes.c_size_t
            lib.forward_workspace_size.argtypes = []
            self._ws_bytes = int(lib.forward_workspace_size())
            self._ws_fn = lib.forward_ws
            self._ws_fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
            self._ws_fn.restype = ctypes.c_int
            self._ws_local = threading.local()
        self._lib, self._fn = lib, fn

    def _workspace(self):
        """This thread's 64-byte aligned workspace (address, owner array)."""
        local = self._ws_local
        if getattr(local, "buffer", None) is None:
            raw = np.zeros(self._ws_bytes + 64, dtype=np.uint8)
            local.buffer = raw
            local.address = raw.ctypes.data + (-raw.ctypes.data) % 64
        return local.address

    def run_batch(self, x):
        """One call of ``forward(input, output)`` on exactly its static batch size."""
        self._load()
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != self.input_shape:
            raise ValueError(f"expected input {self.input_shape}, got {x.shape}")
        out = np.empty(self.output_shape, dtype=np.float32)
        if self._ws_fn is None:
            self._fn(x.ctypes.data, out.ctypes.data)
        elif self._ws_fn(x.ctypes.data, out.ctypes.data, self._workspace()) != 0:
            raise ToolchainError(f"{self.library}: forward_ws refused the workspace")
        return out

    def _run_chunks(self, chunks):
        """(count, *input_shape) -> (count, *output_shape): one forward per chunk."""
        return np.stack([self.run_batch(chunk) for chunk in chunks])

    def __call__(self, x):
        """Run any batch size: split into chunks of the compiled batch, pad the last."""
        x = np.asarray(x, dtype=np.float32)
        batch = self.input_shape[0]
        if x.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"expected (B, {', '.join(map(str, self.input_shape[1:]))}), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0,) + self.output_shape[1:], np.float32)
        chunks = -(-len(x) // batch)
        padded = np.zeros((chunks * batch,) + x.shape[1:], np.float32)
        padded[:len(x)] = x
        out = self._run_chunks(padded.reshape((chunks,) + self.input_shape))
        return out.reshape((chunks * batch,) + self.output_shape[1:])[:len(x)]


RUN_BATCHES = os.path.join(REPO_ROOT, "runtime", "run_batches.c")
QEMU_AARCH64 = "qemu-aarch64"
AARCH64_GCC = "aarch64-linux-gnu-gcc"
AARCH64_SYSROOT = "/usr/aarch64-linux-gnu"


def qemu_missing(qemu=QEMU_AARCH64, cc=AARCH64_GCC):
    """None if AArch64 models can run here under QEMU, else the reason (naming
    the Debian packages to install)."""
    problems = []
    if shutil.which(qemu) is None:
        problems.append(f"{qemu} not found (install the Debian package qemu-user)")
    if shutil.which(cc) is None:
        problems.append(f"{cc} not found (install the Debian package gcc-aarch64-linux-gnu)")
    if not os.path.isfile(RUN_BATCHES):
        problems.append(f"{RUN_BATCHES} not found (the source checkout's runtime/ is needed)")
    return "; ".join(problems) or None


class QemuModel(CompiledModel):
    """An AArch64 model on an x86-64 host, run under user-mode QEMU.

    On first use the object is linked statically with ``runtime/run_batches.c``
    (``aarch64-linux-gnu-gcc -static``, sizes from the forward signature) into a
    private temporary directory; every call then writes its batches to a
    temporary file, runs ``qemu-aarch64 -L /usr/aarch64-linux-gnu`` once over
    all of them and reads the logits back.  ``model(x)`` and ``run_batch(x)``
    behave as for :class:`CompiledModel`; ``last_forward_seconds`` is the time
    the last call spent in ``forward`` (emulated, so not a native latency).
    """

    def __init__(self, library, input_shape, output_shape, target="aarch64-neon",
                 object_path=None, qemu=QEMU_AARCH64, cc=AARCH64_GCC, sysroot=AARCH64_SYSROOT):
        super().__init__(library, input_shape, output_shape, target,
                         object_path or _object_path(library))
        self.qemu, self.cc, self.sysroot = qemu, cc, sysroot
        self.last_forward_seconds = None
        self._workdir = None
        self._exe = None

    def _load(self):
        if self._exe is not None:
            return
        missing = qemu_missing(self.qemu, self.cc)
        if missing:
            raise ToolchainError(f"cannot run {self.target} code on this "
                                 f"{platform.machine()} host: {missing}")
        if not os.path.isfile(self.object):
            raise ToolchainError(f"{self.object} not found: the object file is needed to run "
                                 f"{self.target} code under QEMU; compile the model again")
        workdir = tempfile.TemporaryDirectory(prefix="denseshift-qemu-")
        exe = os.path.join(workdir.name, "run_batches")
        _run([self.cc, "-O2", "-static",
              f"-DDS_INPUT_SIZE={int(np.prod(self.input_shape))}",
              f"-DDS_OUTPUT_SIZE={int(np.prod(self.output_shape))}",
              RUN_BATCHES, os.path.abspath(self.object), "-lm", "-o", exe],
             f"{self.cc} (link {os.path.basename(self.object)} with run_batches.c)")
        self._workdir, self._exe = workdir, exe  # the directory lives as long as the model

    def run_batch(self, x):
        """One call of ``forward(input, output)`` on exactly its static batch size."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != self.input_shape:
            raise ValueError(f"expected input {self.input_shape}, got {x.shape}")
        return self._run_chunks(x[None])[0]

    def _run_chunks(self, chunks):
        self._load()
        count = len(chunks)
        with tempfile.TemporaryDirectory(prefix="denseshift-qemu-io-") as io_dir:
            inputs = os.path.join(io_dir, "inputs.f32")
            outputs = os.path.join(io_dir, "outputs.f32")
            np.ascontiguousarray(chunks, dtype=np.float32).tofile(inputs)
            argv = [self.qemu, "-L", self.sysroot, self._exe, inputs, outputs, str(count)]
            proc = subprocess.run(argv, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-20:])
                raise ToolchainError(f"{self.qemu} run failed (exit {proc.returncode}, "
                                     f"{' '.join(argv)}):\n{tail}")
            out = np.fromfile(outputs, dtype=np.float32)
        expected = count * int(np.prod(self.output_shape))
        if out.size != expected:
            raise ToolchainError(f"{self.qemu}: expected {expected} output floats, got {out.size}")
        match = re.search(r"forward_seconds\s+([0-9.eE+-]+)", proc.stderr)
        self.last_forward_seconds = float(match.group(1)) if match else None
        return out.reshape((count,) + self.output_shape)
