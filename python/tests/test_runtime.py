"""Export -> compile -> run parity with PyTorch, and the runtime API."""
import ctypes
import os

import numpy as np
import pytest
import torch
from torch import nn

from denseshift import ShiftConv2d, ShiftLinear, runtime
from denseshift.export import export_model
from denseshift.models import build_model, model_config
from test_export import randomize_batchnorms

UPSTREAM = runtime.UpstreamToolchain()
needs_upstream = pytest.mark.skipif(not UPSTREAM.available(), reason="mlir-opt 22 not installed")


class KitchenSink(nn.Module):
    """Every supported module once: convs of all group kinds, pools, residual, FC."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1, stride=2)                 # 14x14
        self.bn0 = nn.BatchNorm2d(4)
        self.dw = ShiftConv2d(4, 4, 3, padding=2, dilation=2, groups=4, bits=3)
        self.bn1 = nn.BatchNorm2d(4)
        self.grouped = ShiftConv2d(4, 8, 3, padding=1, groups=2, bits=4, scheme="s3")
        self.pw = ShiftConv2d(8, 4, 1, bits=5, scheme="deepshift-ps", bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)                 # 7x7
        self.avgpool = nn.AvgPool2d(3, stride=1, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = ShiftLinear(4, 16, bits=3, scheme="deepshift-q")
        self.bn3 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn0(self.stem(x)))
        x = torch.relu(self.bn1(self.dw(x))) + x
        x = self.bn2(self.pw(self.grouped(x))).relu()
        x = self.avgpool(self.maxpool(x))
        x = torch.flatten(self.gap(x), 1)
        return self.fc2(torch.relu(self.bn3(self.fc1(x))))


def relative_error(out, ref):
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-12))


def compile_and_compare(model, tmp_path, batch=2, inputs=5, toolchain=UPSTREAM):
    model = randomize_batchnorms(model)
    path = tmp_path / "model.mlir"
    path.write_text(export_model(model, batch))
    compiled = runtime.compile(str(path), target="x86-64-avx2", toolchain=toolchain)
    x = torch.randn(inputs, 1, 28, 28)
    with torch.no_grad():
        ref = model(x).numpy()
    out = compiled(x.numpy())
    assert out.shape == ref.shape
    return relative_error(out, ref), compiled


@needs_upstream
def test_kitchen_sink_parity(tmp_path):
    torch.manual_seed(1)
    error, compiled = compile_and_compare(KitchenSink(), tmp_path)
    assert error < 1e-4
    # any batch size: 5 inputs with a batch-2 library, and exactly one batch
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(compiled(x), compiled.run_batch(x))
    assert compiled(np.zeros((0, 1, 28, 28), np.float32)).shape == (0, 10)
    reloaded = runtime.load(compiled.library)
    assert reloaded.input_shape == (2, 1, 28, 28) and np.array_equal(reloaded(x), compiled(x))


@needs_upstream
@pytest.mark.parametrize("name", ["smallcnn", "dsnet", "resnet20"])
def test_reference_model_parity(name, tmp_path):
    error, _ = compile_and_compare(build_model(model_config(name, "denseshift", bits=3)), tmp_path)
    assert error < 1e-4


def test_signature():
    text = "func.func @forward(%arg0: tensor<2x1x28x28xf32>) -> tensor<2x10xf32> {\n}"
    assert runtime.forward_signature(text) == ((2, 1, 28, 28), (2, 10))
    with pytest.raises(runtime.ToolchainError, match="@forward"):
        runtime.forward_signature("func.func @main() {}")


def test_bad_targets_toolchains_and_files(tmp_path):
    with pytest.raises(ValueError, match="unknown target"):
        runtime.compile(str(tmp_path / "x.mlir"), target="riscv")
    with pytest.raises(ValueError, match="unknown toolchain"):
        runtime.resolve_toolchain("gcc")
    with pytest.raises(runtime.ToolchainError, match="not found"):
        runtime.compile(str(tmp_path / "missing.mlir"))
    ok, why = runtime._host_can_run("aarch64-neon" if os.uname().machine == "x86_64" else "x86-64-avx2")
    assert not ok and "cannot run" in why
    with pytest.raises(runtime.ToolchainError, match="shapes unknown"):
        runtime.load(str(tmp_path / "nothing.so"))


@needs_upstream
def test_upstream_library_has_the_project_abi(tmp_path):
    """forward(const float *input, float *output): no descriptors, output in place."""
    path = tmp_path / "m.mlir"
    path.write_text(export_model(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval(), batch=3))
    compiled = runtime.compile(str(path), toolchain=UPSTREAM)
    lib = ctypes.CDLL(compiled.library)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    out = np.full((3, 10), np.nan, np.float32)
    lib.forward(ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(out.ctypes.data))
    assert np.array_equal(out, compiled(x)) and np.isfinite(out).all()


@needs_upstream
def test_invalid_mlir_reports_the_failing_step(tmp_path):
    path = tmp_path / "broken.mlir"
    path.write_text("func.func @forward(%arg0: tensor<1x1x28x28xf32>) -> tensor<1x10xf32> {\n"
                    "  return %arg0 : tensor<1x10xf32>\n}\n")
    with pytest.raises(runtime.ToolchainError, match="mlir-opt"):
        runtime.compile(str(path), toolchain=UPSTREAM)
    assert not (tmp_path / "broken.x86-64-avx2.so").exists()


def test_custom_toolchain_is_pluggable(tmp_path):
    class Recording(runtime.Toolchain):
        name = "recording"

        def to_linkable(self, mlir_path, workdir, target):
            self.seen = (open(mlir_path).read(), target)
            raise runtime.ToolchainError("stop here")

    chain = Recording()
    path = tmp_path / "m.mlir"
    path.write_text("func.func @forward(%arg0: tensor<1x1x28x28xf32>) -> tensor<1x10xf32> {\n}\n")
    with pytest.raises(runtime.ToolchainError, match="stop here"):
        runtime.compile(str(path), target="x86-64-avx512", toolchain=chain)
    assert chain.seen == (path.read_text(), "x86-64-avx512")


@pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                    reason="project toolchain (denseshift-opt --denseshift-pipeline) not built")
def test_project_toolchain_parity(tmp_path):
    error, _ = compile_and_compare(build_model(model_config("smallcnn", "denseshift")), tmp_path,
                                   toolchain=runtime.ProjectToolchain())
    assert error < 1e-4


@pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                    reason="project toolchain (denseshift-opt --denseshift-pipeline) not built")
def test_workspace_per_thread_matches_forward(tmp_path):
    """The runtime calls forward_ws on one planned workspace per thread; calls
    from two threads at once agree with the malloc'ing forward bit for bit."""
    import threading
    model = build_model(model_config("smallcnn", "denseshift")).eval()
    path = tmp_path / "model.mlir"
    path.write_text(export_model(model, batch=2))
    compiled = runtime.compile(str(path), target="x86-64-avx2", toolchain="project")
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    expected = np.empty((2, 10), np.float32)
    compiled._load()
    assert compiled._ws_fn is not None and compiled._ws_bytes > 0
    compiled._fn(x.ctypes.data, expected.ctypes.data)
    results = [None, None]

    def work(i):
        results[i] = [compiled.run_batch(x) for _ in range(20)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for runs in results:
        for y in runs:
            assert np.array_equal(y.view(np.uint32), expected.view(np.uint32))


def test_targets_agree_with_the_compilers_table():
    """runtime.TARGETS is a copy of the compiler's one target table
    (denseshift-translate --print-targets): the same names, architectures,
    CPUs and host flags."""
    if not runtime.ProjectToolchain().available():
        pytest.skip("the project toolchain is not built")
    table = runtime.project_targets()
    assert sorted(table) == sorted(runtime.TARGETS)
    for name, (arch, flags, host_flags) in runtime.TARGETS.items():
        entry = table[name]
        assert entry["triple"].split("-")[0] == arch, name
        assert sorted(entry["host_flags"]) == sorted(host_flags), name
        if arch == "x86_64":
            assert f"-march={entry['cpu']}" in flags, name
        assert entry["lanes"] * 32 in (128, 256, 512), name


@pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                    reason="project toolchain (denseshift-opt --denseshift-pipeline) not built")
def test_pipeline_options(tmp_path):
    """pipeline_options reach the pipeline: strategy=auto gives the FMA conv
    kernels (and the same predictions); an unknown option is a compile error;
    the upstream toolchain refuses options it has no pipeline for."""
    model = build_model(model_config("smallcnn", "denseshift")).eval()
    path = tmp_path / "model.mlir"
    path.write_text(export_model(model, batch=2))
    x = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32)
    default = runtime.compile(str(path), toolchain="project", output=str(tmp_path / "d.so"))
    auto = runtime.compile(str(path), toolchain="project", output=str(tmp_path / "a.so"),
                           pipeline_options="strategy=auto")
    # The convs' exponent-add kernels became FMA ones (the batch-2 FC layers,
    # 2 MACs per weight, stay exponent-add).
    xadd = [open(tmp_path / f"{n}.o", "rb").read().count(b"_xadd") for n in "da"]
    assert xadd[1] < xadd[0], xadd
    np.testing.assert_allclose(auto(x), default(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(runtime.ToolchainError):
        runtime.compile(str(path), toolchain="project", output=str(tmp_path / "b.so"),
                        pipeline_options="strategy=lut")
    with pytest.raises(ValueError, match="pipeline_options"):
        runtime.compile(str(path), toolchain="upstream", pipeline_options="strategy=auto")


@pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                    reason="project toolchain (denseshift-opt --denseshift-pipeline) not built")
def test_recompiling_to_the_same_path_runs_the_new_model(tmp_path):
    """dlopen returns a library already loaded under the same name, even when
    the file was replaced: without care, a second compile to the same output in
    one process would silently run the first model."""
    path = tmp_path / "model.mlir"
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    for seed in range(3):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4)).eval()
        path.write_text(export_model(model, 3, input_shape=(6,)))
        compiled = runtime.compile(str(path), target="x86-64-avx2", toolchain="project")
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        assert relative_error(compiled(x), ref) < 1e-5, f"model {seed} ran stale code"
        again = runtime.load(compiled.library)           # unchanged file: the same code
        assert np.array_equal(again(x), compiled(x))
