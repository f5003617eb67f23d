"""ONNX import: ``python3 -m denseshift.onnx MODEL.onnx -o model.mlir``.

:func:`import_model` turns an ONNX model into the exporter's
linalg-on-tensors ``func.func @forward`` (see docs/onnx.md);
:class:`Backend` implements ``onnx.backend.base.Backend`` over the importer,
``denseshift.compile`` and the runtime.  (This package is ``denseshift.onnx``;
every import of the real ``onnx`` package below is absolute.)
"""
from denseshift.onnx.importer import (MAX_OPSET, MIN_OPSET, Importer, OnnxImportError,
                                      import_model, load)

__all__ = ["Backend", "BackendRep", "Importer", "MAX_OPSET", "MIN_OPSET", "OnnxImportError",
           "import_file", "import_model", "load"]


def import_file(path, output, input_shapes=None, header=(), batch=None, model=None):
    """Import ``path`` (or the already loaded, possibly modified ``model`` read
    from it) and write the MLIR to ``output`` atomically (nothing is written
    when the import fails).  Returns the importer."""
    from denseshift.checkpoint import atomic_write_text
    text, importer = import_model(path if model is None else model, path=path,
                                  input_shapes=input_shapes, header=header, batch=batch)
    atomic_write_text(output, text)
    return importer


def __getattr__(name):  # the backend pulls in the runtime only when asked for
    if name in ("Backend", "BackendRep"):
        from denseshift.onnx import backend
        return getattr(backend, name)
    raise AttributeError(name)
