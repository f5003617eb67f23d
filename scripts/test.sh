#!/usr/bin/env bash
# Sets up, builds and runs every test suite; the last line of output is
#   N passed, N failed[, N skipped]
# and the exit code is non-zero if anything failed.
#
# Suites: gtest (ctest), lit, pytest (python/tests, if present), then lit and
# ctest again in an AddressSanitizer/UBSan build (build-asan), then ctest and
# the FileCheck lit suites in a g++ build (build-gcc), whose pipeline output
# must equal the clang tree's byte for byte (compare-compilers.sh). SKIP_ASAN=1 and
# SKIP_GCC=1 skip those trees for quick local runs; CI runs them.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LIT="${LIT:-/usr/lib/llvm-22/bin/lit}"
PYTHON="${PYTHON:-/usr/bin/python3}"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/denseshift-test.XXXXXX")"
trap 'rm -rf "$LOG_DIR"' EXIT

passed=0
failed=0
skipped=0

say() { printf '\n=== %s\n' "$*"; }

# Builds share the machine with other trees: one at a time.
with_build_lock() {
  if command -v flock >/dev/null 2>&1; then
    flock /tmp/denseshift-build.lock "$@"
  else
    "$@"
  fi
}

# Adds the counts of one lit run from its summary block.
count_lit() {
  local log="$1" status="$2" n
  if ! grep -qE '^Total Discovered Tests:' "$log"; then
    echo "test.sh: lit printed no summary (exit $status); counting 1 failure"
    failed=$((failed + 1))
    return
  fi
  lit_field() { sed -nE "s/^ +$1: +([0-9]+).*/\\1/p" "$log" | tail -n1; }
  n=$(lit_field 'Passed');              passed=$((passed + ${n:-0}))
  n=$(lit_field 'Expectedly Failed');   passed=$((passed + ${n:-0}))
  n=$(lit_field 'Unsupported');         skipped=$((skipped + ${n:-0}))
  n=$(lit_field 'Excluded');            skipped=$((skipped + ${n:-0}))
  n=$(lit_field 'Skipped');             skipped=$((skipped + ${n:-0}))
  local lit_failed=0
  for field in 'Failed' 'Unresolved' 'Unexpectedly Passed' 'Timed Out'; do
    n=$(lit_field "$field")
    lit_failed=$((lit_failed + ${n:-0}))
  done
  if ((status != 0 && lit_failed == 0)); then
    lit_failed=1
  fi
  failed=$((failed + lit_failed))
}

# Adds the counts of one ctest run ("N% tests passed, F tests failed out of T").
count_ctest() {
  local log="$1" status="$2" line total fails skips
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
  if [ -z "$line" ]; then
    if grep -q 'No tests were found' "$log" && ((status == 0)); then
      return
    fi
    echo "test.sh: ctest printed no summary (exit $status); counting 1 failure"
    failed=$((failed + 1))
    return
  fi
  fails=$(sed -nE 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/p' <<<"$line")
  total=$(sed -nE 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/p' <<<"$line")
  skips=$(grep -cE '^[[:space:]]*[0-9]+ - .*\(Skipped\)' "$log" || true)
  passed=$((passed + total - fails - skips))
  failed=$((failed + fails))
  skipped=$((skipped + skips))
}

# Adds the counts of one pytest run from its final "N passed, ..." line.
count_pytest() {
  local log="$1" status="$2" line n word counted=0
  if ((status == 5)); then # no tests collected
    return
  fi
  line=$(grep -E '[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed)' "$log" | tail -n1)
  while read -r n word; do
    case "$word" in
      passed | xfailed | xpassed) passed=$((passed + n)) ;;
      failed | error | errors) failed=$((failed + n)); counted=$((counted + n)) ;;
      skipped) skipped=$((skipped + n)) ;;
    esac
  done < <(grep -oE '[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed)' <<<"$line")
  if ((status != 0 && counted == 0)); then
    echo "test.sh: pytest exited $status without reporting failures; counting 1"
    failed=$((failed + 1))
  fi
}

# Runs "$@", showing its output and keeping a copy in $LOG_DIR/$name.log;
# sets $status to its exit code.
run_logged() {
  local name="$1"
  shift
  "$@" </dev/null 2>&1 | tee "$LOG_DIR/$name.log"
  status=${PIPESTATUS[0]}
}

# Builds one tree with scripts/setup.sh, then runs its ctest and lit suites
# (LIT_SUITES, default all of $build/test).
test_tree() {
  local label="$1" build="$2"
  shift 2
  say "$label: setup and build ($build)"
  run_logged "setup-$label" with_build_lock bash scripts/setup.sh "$@"
  if ((status != 0)); then
    echo "test.sh: setup/build of $build failed (exit $status); counting 1 failure"
    failed=$((failed + 1))
    # Still run what did build, so the log shows which tests pass.
    [ -f "$build/build.ninja" ] || return
  fi

  say "$label: unit tests (ctest)"
  run_logged "ctest-$label" ctest --test-dir "$build" --output-on-failure
  count_ctest "$LOG_DIR/ctest-$label.log" "$status"

  say "$label: lit"
  local suites=()
  for suite in ${LIT_SUITES:-.}; do
    suites+=("$build/test/$suite")
  done
  run_logged "lit-$label" "$LIT" -sv "${suites[@]}"
  count_lit "$LOG_DIR/lit-$label.log" "$status"
}

test_tree release "$ROOT/build"

if [ -d python/tests ]; then
  say "python: pytest"
  run_logged pytest "$PYTHON" -m pytest python/tests -q -p no:cacheprovider
  count_pytest "$LOG_DIR/pytest.log" "$status"
fi

if [ "${SKIP_ASAN:-0}" = 1 ]; then
  say "asan: skipped (SKIP_ASAN=1)"
else
  # allow_user_poisoning=0: the instrumented tools inline LLVM's
  # BumpPtrAllocator, which poisons its slabs, while the uninstrumented
  # libMLIR.so allocates from the same slabs without unpoisoning them; left
  # on, ASan reports use-after-poison inside MLIR's own parser.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  test_tree asan "$ROOT/build-asan" --asan
fi

if [ "${SKIP_GCC:-0}" = 1 ]; then
  say "gcc: skipped (SKIP_GCC=1)"
else
  # The tree a plain `cmake -G Ninja` gives (g++ 12): IR emitted in an order
  # that depends on the C++ compiler shows up in the FileCheck suites; the
  # integration runs are the clang trees' job.
  LIT_SUITES="Dialect Conversion Transforms Pipelines Translate Docs" \
    test_tree gcc "$ROOT/build-gcc" --gcc
  say "compilers: clang and g++ trees emit the same IR"
  log="$ROOT/build-gcc/compare-compilers.log"
  "$ROOT/scripts/compare-compilers.sh" "$ROOT/build" "$ROOT/build-gcc" >"$log" 2>&1
  status=$?
  cat "$log"
  line=$(grep -E '^compilers: [0-9]+ identical, [0-9]+ differ' "$log")
  if [ -n "$line" ]; then
    passed=$((passed + $(sed -E 's/^compilers: ([0-9]+) .*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) differ$/\1/' <<<"$line")))
  else
    echo "test.sh: compare-compilers printed no summary (exit $status); counting 1 failure"
    failed=$((failed + 1))
  fi
fi

say "summary"
summary="$passed passed, $failed failed"
if ((skipped > 0)); then
  summary+=", $skipped skipped"
fi
echo "$summary"
((failed == 0))
