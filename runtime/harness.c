/*===- harness.c - Check a compiled layer against its reference -----------===*
 *
 * Usage: harness [OPTIONS] INPUT.bin EXPECTED.bin [INPUT_COUNT OUTPUT_COUNT]
 *
 * Options (before the files):
 *   --abs-tol X        add X to the bound on every finite output:
 *                      |got - ref| <= 1e-5 * max|ref| + X (for error bounds
 *                      with an absolute term, such as mode=fast's)
 *   --abs-tol-file F   the same, X read from file F (gen_layer.py writes
 *                      fast_abs_tol.txt), since lit RUN lines cannot
 *                      substitute a command's output
 *   --exact-zeros      where the reference is exactly 0, the output must be
 *                      +-0 (no residue of a zero input, however small)
 *
 * INPUT.bin holds float32 activations, EXPECTED.bin the float64 reference
 * (NaN and +-Inf where IEEE float32 arithmetic gives them). Counts default
 * to the file sizes; when given they must match. Links against any object
 * that follows runtime/denseshift_runtime.h.
 *
 * Checks, beyond the values themselves, the ABI promises a caller relies on:
 * every output element is written (two calls on differently pre-filled
 * buffers agree bit for bit), nothing is written outside the output buffer
 * and the input is left unchanged.
 *
 * Prints one PASS or FAIL line with the worst error; exits 1 on FAIL and 2
 * on a usage or file error.
 *
 *===----------------------------------------------------------------------===*/

#include "denseshift_runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Absent from objects compiled with static-buffers=true. */
#pragma weak forward_ws
#pragma weak forward_workspace_size

/* Relative to max |reference| over the finite outputs (docs/abi.md). */
#define TOLERANCE 1e-5
/* Guard zone, in floats, on both sides of each buffer. */
#define GUARD 64
#define CANARY 0x7fa5a5a5u /* a quiet NaN no kernel should produce */

static void *read_file(const char *path, size_t *bytes) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    perror(path);
    exit(2);
  }
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  void *data = malloc(size > 0 ? (size_t)size : 1);
  if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) {
    fprintf(stderr, "%s: read error\n", path);
    exit(2);
  }
  fclose(file);
  *bytes = (size_t)size;
  return data;
}

static size_t parse_count(const char *text) {
  char *end;
  unsigned long long value = strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0') {
    fprintf(stderr, "bad count '%s'\n", text);
    exit(2);
  }
  return (size_t)value;
}

static double parse_tolerance(const char *text) {
  char *end;
  double value = strtod(text, &end);
  while (*end == '\n' || *end == ' ')
    ++end;
  if (*text == '\0' || *end != '\0' || !(value >= 0.0) || isinf(value)) {
    fprintf(stderr, "bad absolute tolerance '%s'\n", text);
    exit(2);
  }
  return value;
}

static uint32_t bits_of(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

static float float_of(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/* A buffer of `count` floats with canaries on both sides. */
static float *guarded_alloc(size_t count) {
  float *base = malloc((count + 2 * GUARD) * sizeof(float));
  if (!base) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  for (size_t i = 0; i < count + 2 * GUARD; ++i)
    base[i] = float_of(CANARY);
  return base + GUARD;
}

static int guards_intact(const float *buffer, size_t count) {
  for (size_t i = 0; i < GUARD; ++i)
    if (bits_of(buffer[-1 - (long)i]) != CANARY ||
        bits_of(buffer[count + i]) != CANARY)
      return 0;
  return 1;
}

struct ws_call {
  const float *input;
  float *output;
  void *workspace;
  int status;
};

static void *run_ws(void *arg) {
  struct ws_call *call = arg;
  call->status = forward_ws(call->input, call->output, call->workspace);
  return NULL;
}

/* The reentrant entry point: a NULL or misaligned workspace is refused
   without writing, and two workspaces in two threads give the result of
   forward bit for bit. Returns 0 if all holds (or there is no forward_ws). */
static int check_reentrant(const float *input, const float *expected_bits,
                           size_t output_count) {
  if (!forward_ws || !forward_workspace_size)
    return 0;
  size_t bytes = forward_workspace_size();
  size_t floats = output_count ? output_count : 1;
  float *outputs[2] = {malloc(floats * sizeof(float)),
                       malloc(floats * sizeof(float))};
  unsigned char *raw = aligned_alloc(64, ((bytes + 64) / 64 + 1) * 64);
  void *spaces[2] = {aligned_alloc(64, (bytes / 64 + 1) * 64), raw};
  int failed = 0;
  if (bytes != 0) {
    void *bad[2] = {NULL, raw + 4};
    for (int k = 0; k < 2; ++k) {
      for (size_t i = 0; i < output_count; ++i)
        outputs[0][i] = 7.0f;
      int status = forward_ws(input, outputs[0], bad[k]);
      int untouched = 1;
      for (size_t i = 0; i < output_count; ++i)
        untouched &= outputs[0][i] == 7.0f;
      if (status == 0 || !untouched) {
        printf("FAIL: forward_ws accepted a %s workspace (status %d)\n",
               k ? "misaligned" : "NULL", status);
        failed = 1;
      }
    }
  }
  /* Both calls in flight at once, each on its own workspace. */
  pthread_t threads[2];
  int started[2] = {0, 0};
  struct ws_call calls[2];
  for (int t = 0; t < 2; ++t) {
    for (size_t i = 0; i < output_count; ++i)
      outputs[t][i] = float_of(0x7fc0beef);
    calls[t] = (struct ws_call){input, outputs[t], spaces[t], -1};
    started[t] = pthread_create(&threads[t], NULL, run_ws, &calls[t]) == 0;
  }
  for (int t = 0; t < 2; ++t) {
    if (started[t])
      pthread_join(threads[t], NULL);
    else
      run_ws(&calls[t]);
  }
  for (int t = 0; t < 2; ++t) {
    if (calls[t].status != 0 ||
        memcmp(outputs[t], expected_bits, output_count * sizeof(float))) {
      printf("FAIL: forward_ws (workspace %d, status %d) differs from "
             "forward\n",
             t, calls[t].status);
      failed = 1;
    }
  }
  free(outputs[0]), free(outputs[1]), free(spaces[0]), free(raw);
  return failed;
}

int main(int argc, char **argv) {
  const char *program = argv[0];
  double abs_tol = 0.0;
  int exact_zeros = 0;
  while (argc > 1 && strncmp(argv[1], "--", 2) == 0) {
    if (strcmp(argv[1], "--exact-zeros") == 0) {
      exact_zeros = 1;
      argv += 1, argc -= 1;
    } else if (argc > 2 && strcmp(argv[1], "--abs-tol") == 0) {
      abs_tol = parse_tolerance(argv[2]);
      argv += 2, argc -= 2;
    } else if (argc > 2 && strcmp(argv[1], "--abs-tol-file") == 0) {
      size_t bytes;
      char *text = read_file(argv[2], &bytes);
      text = realloc(text, bytes + 1);
      text[bytes] = '\0';
      abs_tol = parse_tolerance(text);
      free(text);
      argv += 2, argc -= 2;
    } else {
      argc = 0; /* usage error */
    }
  }
  if (argc != 3 && argc != 5) {
    fprintf(stderr,
            "usage: %s [--abs-tol X | --abs-tol-file F] [--exact-zeros] "
            "INPUT.bin EXPECTED.bin [INPUT_COUNT OUTPUT_COUNT]\n",
            program);
    return 2;
  }
  size_t input_bytes, expected_bytes;
  float *input_data = read_file(argv[1], &input_bytes);
  double *expected = read_file(argv[2], &expected_bytes);
  size_t input_count = input_bytes / sizeof(float);
  size_t output_count = expected_bytes / sizeof(double);
  if (input_bytes % sizeof(float) || expected_bytes % sizeof(double) ||
      (argc == 5 && (parse_count(argv[3]) != input_count ||
                     parse_count(argv[4]) != output_count))) {
    fprintf(stderr, "FAIL: file sizes do not match the element counts\n");
    return 2;
  }

  float *input = guarded_alloc(input_count);
  float *output = guarded_alloc(output_count);
  float *first = malloc(output_count * sizeof(float) + 1);
  memcpy(input, input_data, input_count * sizeof(float));

  /* Two calls over different garbage: any element the model skips, or reads
     before writing, makes them disagree. */
  for (size_t i = 0; i < output_count; ++i)
    output[i] = float_of(0x7fc0dead);
  forward(input, output);
  memcpy(first, output, output_count * sizeof(float));
  for (size_t i = 0; i < output_count; ++i)
    output[i] = 12345.678f;
  forward(input, output);

  int failed = 0;
  if (memcmp(input, input_data, input_count * sizeof(float)) != 0) {
    printf("FAIL: forward modified its input\n");
    failed = 1;
  }
  if (!guards_intact(input, input_count) ||
      !guards_intact(output, output_count)) {
    printf("FAIL: forward wrote outside its buffers\n");
    failed = 1;
  }
  for (size_t i = 0; i < output_count; ++i) {
    if (bits_of(first[i]) != bits_of(output[i])) {
      printf("FAIL: output[%zu] depends on the buffer's old contents "
             "(%a then %a)\n",
             i, (double)first[i], (double)output[i]);
      failed = 1;
      break;
    }
  }

  if (check_reentrant(input, output, output_count))
    failed = 1;

  double max_ref = 0.0;
  size_t nonfinite = 0;
  for (size_t i = 0; i < output_count; ++i) {
    if (isfinite(expected[i])) {
      if (fabs(expected[i]) > max_ref)
        max_ref = fabs(expected[i]);
    } else {
      ++nonfinite;
    }
  }
  double bound = TOLERANCE * max_ref + abs_tol;

  double worst = 0.0;
  size_t worst_index = 0, mismatches = 0, first_bad = 0;
  for (size_t i = 0; i < output_count; ++i) {
    double got = output[i], want = expected[i];
    int ok;
    if (isnan(want))
      ok = isnan(got);
    else if (isinf(want))
      ok = got == want;
    else {
      double error = fabs(got - want);
      ok = isfinite(got) && error <= bound;
      if (exact_zeros && want == 0.0 && got != 0.0)
        ok = 0;
      if (!isfinite(got) || error > worst) {
        worst = isfinite(got) ? error : INFINITY;
        worst_index = i;
      }
    }
    if (!ok && mismatches++ == 0)
      first_bad = i;
  }

  if (mismatches) {
    printf("FAIL: %zu of %zu outputs wrong; first output[%zu] = %.9g, "
           "expected %.9g; worst error %.3g at [%zu] (bound %.3g = %g * "
           "max|ref| %.6g + abs %.3g%s)\n",
           mismatches, output_count, first_bad, (double)output[first_bad],
           expected[first_bad], worst, worst_index, bound, TOLERANCE, max_ref,
           abs_tol, exact_zeros ? ", zeros exact" : "");
    failed = 1;
  }
  if (failed)
    return 1;
  printf("PASS: %zu outputs (%zu NaN/Inf matched), worst error %.3g at [%zu], "
         "bound %.3g (max|ref| %.6g, abs %.3g%s)\n",
         output_count, nonfinite, worst, worst_index, bound, max_ref, abs_tol,
         exact_zeros ? ", zeros exact" : "");
  return 0;
}
