"""``onnx.backend.base.Backend`` over the importer, the compiler and the runtime.

``Backend.prepare(model)`` imports the model (the checks of
:mod:`denseshift.onnx.importer`), compiles it with
``denseshift.compile(..., target="x86-64-avx2")`` and returns a
:class:`BackendRep` whose ``run(inputs)`` calls the compiled ``forward``.

The compiled ABI is one f32 input and one f32 output.  A model with exactly
one float input and one output of rank >= 1 is compiled as it is; otherwise
the entry point takes all float inputs flattened and concatenated into one
1-D tensor and returns all outputs likewise (the importer's ``pack`` form),
and ``run`` packs and unpacks.  Integer inputs (shapes, axes, indices) and
float inputs used where the importer needs a constant (conv weights,
BatchNorm statistics, Clip bounds, ...) are bound to the values given to
``run`` and become constants of the compiled model: the compiler specializes
on them (a model is compiled once per distinct set of such values).
"""
import os
import shutil
import tempfile

import numpy as np
import onnx
import onnx.backend.base
from onnx import numpy_helper

from denseshift.onnx.importer import Importer, OnnxImportError, check

TARGET = "x86-64-avx2"


def _runtime_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def _is_float_input(vi):
    return vi.type.HasField("tensor_type") and \
        vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def _bind(model, values):
    """A copy of ``model`` with the graph inputs in ``values`` as initializers."""
    bound = onnx.ModelProto()
    bound.CopyFrom(model)
    keep = [vi for vi in bound.graph.input if vi.name not in values]
    del bound.graph.input[:]
    bound.graph.input.extend(keep)
    for name, array in values.items():
        bound.graph.initializer.append(numpy_helper.from_array(np.asarray(array), name))
    return bound


_TOOLCHAIN = []


def _toolchain():
    """``toolchain="auto"`` resolved once per process (it runs ``denseshift-opt
    --help`` to look for the pipeline, a noticeable share of a tiny model's
    compile time)."""
    if not _TOOLCHAIN:
        from denseshift.runtime import resolve_toolchain
        _TOOLCHAIN.append(resolve_toolchain("auto"))
    return _TOOLCHAIN[0]


class BackendRep(onnx.backend.base.BackendRep):
    """A prepared model: compiled now, or (when some inputs must become
    constants) on the first ``run`` with those values."""

    def __init__(self, model, target=TARGET, path=None):
        self.model, self.target, self.path = model, target, path
        self.inputs = _runtime_inputs(model)
        self.bound = {vi.name for vi in self.inputs if not _is_float_input(vi)}
        self._workdir = tempfile.mkdtemp(prefix="denseshift-onnx-")
        self._compiled = {}
        if not self.bound:
            try:
                self._compile({})
            except OnnxImportError as err:
                if err.needs_constant is None:
                    raise
                self.bound.add(err.needs_constant)   # compile on run, with its value

    def __del__(self):
        shutil.rmtree(getattr(self, "_workdir", ""), ignore_errors=True)

    def _compile(self, values):
        """Import with ``values`` bound, compile; cached by the bound values."""
        key = tuple(sorted((n, np.asarray(v).dtype.str, np.asarray(v).shape,
                            np.asarray(v).tobytes()) for n, v in values.items()))
        if key in self._compiled:
            return self._compiled[key]
        from denseshift.runtime import compile as compile_mlir
        model = _bind(self.model, values) if values else self.model
        probe = Importer(model, self.path, pack=True)
        natural = len(probe.inputs) == 1 and len(model.graph.output) == 1 and \
            len(probe.inputs[0][1]) >= 1
        importer = Importer(model, self.path, pack=not natural)
        text = importer.run([f"denseshift.onnx backend: {model.graph.name}"])
        if natural and len(importer.output_shapes[0]) == 0:  # rank-0 output: pack
            importer = Importer(model, self.path, pack=True)
            text = importer.run()
            natural = False
        mlir = os.path.join(self._workdir, f"model{len(self._compiled)}.mlir")
        with open(mlir, "w") as f:
            f.write(text)
        compiled = compile_mlir(mlir, target=self.target, toolchain=_toolchain())
        entry = (compiled, importer, natural)
        self._compiled[key] = entry
        return entry

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            by_name = dict(inputs)
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            names = [vi.name for vi in self.model.graph.input]
            by_name = dict(zip(names, inputs))
        while True:
            values = {n: by_name[n] for n in self.bound}
            try:
                compiled, importer, natural = self._compile(values)
                break
            except OnnxImportError as err:
                if err.needs_constant is None or err.needs_constant in self.bound:
                    raise
                self.bound.add(err.needs_constant)
        if natural:
            name, shape = importer.inputs[0]
            x = np.asarray(by_name[name], np.float32).reshape(shape)
            outputs = [compiled.run_batch(x).reshape(importer.output_shapes[0])]
        else:
            flat = np.concatenate([np.asarray(by_name[n], np.float32).reshape(-1)
                                   for n, _ in importer.inputs])
            y = compiled.run_batch(flat)
            outputs, offset = [], 0
            for shape in importer.output_shapes:
                size = int(np.prod(shape))
                outputs.append(y[offset:offset + size].reshape(shape))
                offset += size
        return onnx.backend.base.namedtupledict("Outputs",
                                                [o.name for o in self.model.graph.output])(*outputs)


class Backend(onnx.backend.base.Backend):
    """DenseShift as an ONNX backend: CPU only, x86-64 with AVX2."""

    target = TARGET

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        super().prepare(model, device, **kwargs)
        if isinstance(model, (str, os.PathLike)):
            from denseshift.onnx.importer import load
            return BackendRep(load(str(model)), kwargs.get("target", cls.target), str(model))
        check(model)
        return BackendRep(model, kwargs.get("target", cls.target))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def supports_device(cls, device):
        return onnx.backend.base.Device(device).type == onnx.backend.base.DeviceType.CPU

    @classmethod
    def supports_model(cls, model):
        """(True, None) if every node imports (with graph inputs that feed
        constant slots bound), else (False, the importer's one-line reason)."""
        try:
            check(model)
            bound = {vi.name for vi in _runtime_inputs(model) if not _is_float_input(vi)}
            while True:
                zeros = {}
                for vi in _runtime_inputs(model):
                    if vi.name in bound:
                        dims = [d.dim_value or 1 for d in vi.type.tensor_type.shape.dim]
                        zeros[vi.name] = np.zeros(dims, onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[
                            vi.type.tensor_type.elem_type])
                try:
                    Importer(_bind(model, zeros) if zeros else model, pack=True).run()
                    return True, None
                except OnnxImportError as err:
                    if err.needs_constant is None or err.needs_constant in bound:
                        raise
                    bound.add(err.needs_constant)
        except OnnxImportError as err:
            return False, str(err)
