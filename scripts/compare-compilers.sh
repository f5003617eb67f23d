#!/usr/bin/env bash
# The IR the pipeline emits must not depend on the C++ compiler that built
# it (issue 8, item 9: argument evaluation order differs between g++ and
# clang). Runs `denseshift-pipeline` for every target on every lit input with
# the denseshift-opt of two trees and compares the outputs byte for byte.
#   scripts/compare-compilers.sh build build-gcc
# Prints one line per difference and "compilers: N identical, M differ".
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
A="$1/bin/denseshift-opt" B="$2/bin/denseshift-opt"
for tool in "$A" "$B"; do
  [ -x "$tool" ] || { echo "compare-compilers: $tool not built"; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
same=0 differ=0
while IFS= read -r input; do
  for target in x86-64-avx2 x86-64-avx512 aarch64-neon; do
    # Inputs that do not compile (diagnostic tests) are not comparisons.
    "$A" "$input" --denseshift-pipeline="target=$target" >"$work/a" 2>/dev/null || continue
    "$B" "$input" --denseshift-pipeline="target=$target" >"$work/b" 2>/dev/null
    if cmp -s "$work/a" "$work/b"; then
      same=$((same + 1))
    else
      differ=$((differ + 1))
      echo "differs: ${input#$ROOT/} ($target)"
    fi
  done
done < <(find "$ROOT/test" -name '*.mlir' | sort)
echo "compilers: $same identical, $differ differ"
((differ == 0))
