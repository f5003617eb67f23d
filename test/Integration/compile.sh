#!/bin/sh
# compile.sh TARGET IN.mlir OUT.o
#
# The one place the integration tests turn a layer (linalg on tensors) into
# an object file for TARGET (x86-64-avx2, x86-64-avx512, aarch64-neon).
# The LLVM-dialect module is kept beside OUT.o as OUT.ll.mlir.
#
# DENSESHIFT_LOWERING selects the lowering:
#   pipeline  denseshift-opt --denseshift-pipeline=target=TARGET (default
#             when denseshift-opt registers it)
#   upstream  plain upstream passes, linalg -> loops; the oracle for the
#             harness itself and the fallback while there is no pipeline
#
# DENSESHIFT_PIPELINE_OPTIONS, if set, is appended inside the pipeline's
# option string, e.g. "mode=fast strategy=decode-fma" gives
#   --denseshift-pipeline=target=TARGET mode=fast strategy=decode-fma
# It is an error with the upstream lowering, which has no such options (a
# test that asks for them must not silently run without them).
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 TARGET IN.mlir OUT.o" >&2
  exit 2
fi
target=$1
input=$2
output=$3
here=$(cd "$(dirname "$0")" && pwd)
lowered=${output%.o}.ll.mlir

lowering=${DENSESHIFT_LOWERING:-}
if [ -z "$lowering" ]; then
  if denseshift-opt --help | grep -q -- '--denseshift-pipeline'; then
    lowering=pipeline
  else
    lowering=upstream
  fi
fi

options=${DENSESHIFT_PIPELINE_OPTIONS:-}

case $lowering in
pipeline)
  denseshift-opt "--denseshift-pipeline=target=$target${options:+ $options}" \
    "$input" -o "$lowered"
  ;;
upstream)
  if [ -n "$options" ]; then
    echo "$0: DENSESHIFT_PIPELINE_OPTIONS='$options' needs the pipeline lowering" >&2
    exit 2
  fi
  denseshift-opt "$input" \
    "--transform-preload-library=transform-library-paths=$here/Inputs/bufferize.transform.mlir" \
    --transform-interpreter |
    denseshift-opt -o "$lowered" --pass-pipeline="builtin.module(\
buffer-results-to-out-params{hoist-static-allocs modify-public-functions},\
buffer-deallocation-pipeline,convert-bufferization-to-memref,\
convert-linalg-to-loops,expand-strided-metadata,lower-affine,\
convert-scf-to-cf,finalize-memref-to-llvm,\
convert-func-to-llvm{use-bare-ptr-memref-call-conv},convert-arith-to-llvm,\
convert-cf-to-llvm,reconcile-unrealized-casts)"
  ;;
*)
  echo "$0: DENSESHIFT_LOWERING must be 'pipeline' or 'upstream'" >&2
  exit 2
  ;;
esac

denseshift-translate "--target=$target" "$lowered" -o "$output"
