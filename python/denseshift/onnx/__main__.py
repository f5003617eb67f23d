"""``python3 -m denseshift.onnx MODEL.onnx -o model.mlir [--input-shape 1x3x32x32] [--batch N]``

Errors (unsupported operator or attribute, opset outside the range, dynamic
shapes, unreadable file) print one line naming the op, node and model, exit
with status 2 and write nothing.
"""
import argparse
import sys

from denseshift.onnx.importer import OnnxImportError


def parse_shape(text):
    try:
        dims = [int(d) for d in text.lower().replace(",", "x").split("x") if d.strip()]
    except ValueError:
        dims = []
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"bad shape {text!r}: use e.g. 1x3x224x224")
    return dims


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m denseshift.onnx",
                                     description="Import an ONNX model to DenseShift's "
                                                 "linalg-on-tensors MLIR (docs/onnx.md).")
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("-o", "--output", required=True, help="the .mlir file to write")
    parser.add_argument("--input-shape", type=parse_shape, default=None,
                        help="static shape of the input including the batch (e.g. 1x3x32x32), "
                             "for models with dynamic dimensions")
    parser.add_argument("--batch", type=int, default=None,
                        help="value of a symbolic batch (leading) dimension")
    args = parser.parse_args(argv)
    try:
        from denseshift.onnx import import_file
        from denseshift.onnx.importer import load
        shapes = None
        if args.input_shape is not None:
            model = load(args.model)
            inits = {i.name for i in model.graph.initializer}
            names = [i.name for i in model.graph.input if i.name not in inits]
            shapes = {n: args.input_shape for n in names[:1]}
        header = [f"imported from {args.model} by denseshift.onnx"]
        importer = import_file(args.model, args.output, shapes, header, args.batch)
    except OnnxImportError as err:
        print(f"denseshift.onnx: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # never a bare traceback
        print(f"denseshift.onnx: error: {args.model}: internal error: "
              f"{type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: input {importer.inputs[0][1]}, output "
          f"{importer.output_shapes[0]}, {len(importer.graph.node)} ONNX nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
