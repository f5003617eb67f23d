#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent), then
# configures and builds. Usage: scripts/setup.sh [--no-build] [--asan | --gcc]
#   --asan  an ASan+UBSan clang tree in build-asan
#   --gcc   a tree with Debian's default C++ compiler (g++) in build-gcc
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  # Toolchain and MLIR 22 (DESIGN.md).
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22
  libclang-rt-22-dev cmake ninja-build g++
  # AArch64 cross-compilation and emulation.
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  # Python training frontend.
  python3-torch python3-numpy python3-pytest python3-tqdm python3-matplotlib
  # Model zoo (architectures only, no weights), ONNX import and its backend
  # test data, speech synthesis and features.
  python3-torchvision python3-torchaudio python3-onnx libonnx-testdata
  espeak-ng sox python3-soundfile
  # Data and baselines.
  dataset-fashion-mnist libdnnl-dev
  # Unit tests.
  libgtest-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

BUILD="${BUILD_DIR:-$ROOT/build}"
EXTRA=()
COMPILERS=(-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22)
if [ "${1:-}" = "--asan" ]; then
  BUILD="${BUILD_DIR:-$ROOT/build-asan}"
  EXTRA+=(-DDENSESHIFT_SANITIZE=ON)
elif [ "${1:-}" = "--gcc" ]; then
  # No compiler choice: what a user's plain `cmake -G Ninja` picks.
  BUILD="${BUILD_DIR:-$ROOT/build-gcc}"
  COMPILERS=()
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    "${COMPILERS[@]}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_DIR=/usr/lib/llvm-22/lib/cmake/llvm \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    "${EXTRA[@]}"
fi
cmake --build "$BUILD"
