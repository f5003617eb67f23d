"""Batch-32 torchvision ResNet-18 / MobileNetV2 at 3x224x224, 3-bit: the
compiled model (default and strategy=auto, AVX2) against PyTorch eager and
torch.jit.freeze, one thread, interleaved, 5 rounds (bench/analysis.md).

    python3 bench/batch32.py export  resnet18 OUT   # export + float twin
    python3 bench/batch32.py compile resnet18 OUT   # build/bin tools
    taskset -c 1 python3 bench/batch32.py time resnet18 OUT

The models are untrained (seeded) with BatchNorm statistics from two
random batches; MobileNetV2 then amplifies f32 rounding (PyTorch's own f32
differs from float64 by ~3e-2), so its error column is not a parity test.
"""
import os, sys, time, ctypes, subprocess
import numpy as np, torch, torchvision
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python")); sys.path.insert(0, os.path.join(ROOT, "bench"))
from denseshift.convert import convert
from denseshift.export import export_model
import gen
torch.set_num_threads(1)
if len(sys.argv) != 4 or sys.argv[1] not in ("export", "compile", "time"):
    sys.exit(__doc__)
phase, name = sys.argv[1], sys.argv[2]
d = os.path.join(sys.argv[3], name); os.makedirs(d, exist_ok=True)
B = 32
if phase == "export":
    torch.manual_seed(5)
    shift = convert(getattr(torchvision.models, name)(), scheme="denseshift", bits=3)
    shift.train()
    with torch.no_grad():
        for _ in range(2): shift(torch.randn(4, 3, 224, 224))
    shift.eval()
    open(f"{d}/model.mlir", "w").write(export_model(shift, B, input_shape=(3, 224, 224)))
    flt = gen.float_twin(shift).eval()
    torch.jit.save(torch.jit.script(flt), f"{d}/model.pt")
    sys.exit(0)
if phase == "compile":
    BIN = os.path.join(ROOT, "build", "bin")
    for tag, opt in (("default", ""), ("auto", " strategy=auto")):
        subprocess.check_call([f"{BIN}/denseshift-opt", f"--denseshift-pipeline=target=x86-64-avx2{opt}", f"{d}/model.mlir", "-o", f"{d}/{tag}.ll.mlir"])
        subprocess.check_call([f"{BIN}/denseshift-translate", "--target=x86-64-avx2", f"{d}/{tag}.ll.mlir", "-o", f"{d}/{tag}.o"])
        subprocess.check_call(["clang-22", "-shared", "-o", f"{d}/{tag}.so", f"{d}/{tag}.o"])
    sys.exit(0)
x = np.random.default_rng(0).standard_normal((B, 3, 224, 224)).astype(np.float32)
m = torch.jit.load(f"{d}/model.pt").eval()
frozen = torch.jit.freeze(m)
with torch.no_grad():
    ref = m(torch.from_numpy(x)).numpy()
cands = {}
for tag in ("default", "auto"):
    so = ctypes.CDLL(f"{d}/{tag}.so"); so.forward_workspace_size.restype = ctypes.c_size_t
    ws = np.zeros(so.forward_workspace_size() // 4 + 64, np.float32)
    wp = ctypes.c_void_p(ws.ctypes.data + (-ws.ctypes.data) % 64)
    y = np.zeros(ref.shape, np.float32)
    def call(so=so, wp=wp, y=y, ws=ws):  # ws: keep the workspace alive
        so.forward_ws(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), wp); return y
    cands[tag] = call
with torch.no_grad():
    cands["pytorch"] = lambda: m(torch.from_numpy(x))
    cands["pytorch-freeze"] = lambda: frozen(torch.from_numpy(x))
    for f in cands.values(): f(); f()
    ts = {k: [] for k in cands}
    for _ in range(5):
        for k, f in cands.items():
            a = time.perf_counter(); f(); ts[k].append(time.perf_counter() - a)
for tag in ("default", "auto"):
    err = np.max(np.abs(cands[tag]() - ref)) / np.max(np.abs(ref))
    print(f"{name} b32 {tag}: max rel err {err:.1e}")
best = min(min(ts["pytorch"]), min(ts["pytorch-freeze"]))
for k, t in ts.items():
    print(f"{name} b32 {k:15s} min {1e3*min(t):8.1f} ms  median {1e3*sorted(t)[2]:8.1f} ms  vs best PyTorch {best/min(t):.2f}x")
