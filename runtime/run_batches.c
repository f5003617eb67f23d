/* Runs a compiled model over a file of inputs, one batch per call.
 *
 *   run_batches INPUT.f32 OUTPUT.f32 COUNT
 *
 * Build with -DDS_INPUT_SIZE=<floats per call> -DDS_OUTPUT_SIZE=<floats per
 * call> and link with the model's object. Prints the seconds spent in
 * forward() on stderr. Exit code 1 on any I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void forward(const float *input, float *output);

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s INPUT.f32 OUTPUT.f32 COUNT\n", argv[0]);
    return 1;
  }
  long count = atol(argv[3]);
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  if (!in || !out || count <= 0) {
    fprintf(stderr, "run_batches: cannot open %s or %s, or bad count\n",
            argv[1], argv[2]);
    return 1;
  }
  float *x = malloc(sizeof(float) * DS_INPUT_SIZE);
  float *y = malloc(sizeof(float) * DS_OUTPUT_SIZE);
  double seconds = 0;
  for (long i = 0; i < count; ++i) {
    if (fread(x, sizeof(float), DS_INPUT_SIZE, in) != DS_INPUT_SIZE) {
      fprintf(stderr, "run_batches: %s holds fewer than %ld inputs\n", argv[1],
              count);
      return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    forward(x, y);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds += (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    if (fwrite(y, sizeof(float), DS_OUTPUT_SIZE, out) != DS_OUTPUT_SIZE) {
      fprintf(stderr, "run_batches: cannot write %s\n", argv[2]);
      return 1;
    }
  }
  fclose(in);
  if (fclose(out) != 0)
    return 1;
  fprintf(stderr, "forward_seconds %.9f\n", seconds);
  free(x);
  free(y);
  return 0;
}
