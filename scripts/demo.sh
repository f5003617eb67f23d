#!/usr/bin/env bash
# The README's main job: set up, build, train briefly, compile for x86-64 and
# AArch64, run both and report. Extra arguments go to scripts/demo.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec /usr/bin/python3 "$ROOT/scripts/demo.py" "$@"
