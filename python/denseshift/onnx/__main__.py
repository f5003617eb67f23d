"""``python3 -m denseshift.onnx MODEL.onnx -o model.mlir [--input-shape 1x3x32x32] [--batch N]
[--quantize BITS [--alpha mse|max] [--all-layers]]``

``--quantize`` rounds the constant Conv/Gemm/MatMul weights of a float model
to zero-free DenseShift codes first (post-training quantization with the
per-channel alpha of ``denseshift.ptq``); the compiler then takes them as
shift layers in exact mode.

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
    parser.add_argument("--quantize", type=int, metavar="BITS", default=None,
                        help="post-training shift quantization of the weights to BITS (2..8)")
    parser.add_argument("--alpha", choices=("mse", "max"), default="mse",
                        help="per-channel alpha rule of --quantize (docs/python.md)")
    parser.add_argument("--all-layers", action="store_true",
                        help="with --quantize: also the first and the last weight layer")
    args = parser.parse_args(argv)
    if args.quantize is not None and not 2 <= args.quantize <= 8:
        parser.error(f"--quantize must be 2..8, got {args.quantize}")
    if args.quantize is None and (args.all_layers or args.alpha != "mse"):
        parser.error("--alpha and --all-layers apply to --quantize")
    try:
        from denseshift.onnx import import_file
        from denseshift.onnx.importer import load
        from denseshift.ptq import PTQError
        shapes, source = None, args.model
        if args.input_shape is not None or args.quantize is not None:
            source = load(args.model)
        if args.input_shape is not None:
            inits = {i.name for i in source.graph.initializer}
            names = [i.name for i in source.graph.input if i.name not in inits]
            shapes = {n: args.input_shape for n in names[:1]}
        header = [f"imported from {args.model} by denseshift.onnx"]
        if args.quantize is not None:
            from denseshift.onnx.ptq import quantize_onnx
            done = quantize_onnx(source, args.quantize, args.alpha, not args.all_layers)
            header.append(f"weights post-training quantized to DenseShift {args.quantize}-bit "
                          f"(alpha {args.alpha}): {len(done)} tensors")
        importer = import_file(args.model, args.output, shapes, header, args.batch,
                               model=None if isinstance(source, str) else source)
    except PTQError as err:
        print(f"denseshift.onnx: error: {args.model}: --quantize: {err}", file=sys.stderr)
        return 2
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
