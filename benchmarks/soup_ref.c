/* A straightforward C/OpenMP BFF soup, written for benchmarks/soup.py as a
 * side-by-side reference (same semantics as primordium's bff kernels).
 * Built at benchmark time: gcc -O3 -fopenmp -shared -fPIC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Byte -> 1 if it is an instruction: the test that skips no-ops is then one
 * well-predicted branch instead of an indirect jump per byte. */
static uint8_t IS_OP[256];
static void init_ops(void) {
  const char *ops = "<>{}-+.,[]";
  for (const char *c = ops; *c; c++) IS_OP[(uint8_t)*c] = 1;
}

static int64_t run_bff(uint8_t *t, int64_t n, int64_t max_steps, int heads) {
  int64_t h0 = 0, h1 = 0, ip = 0, ops = 0;
  if (heads) { h0 = t[0] % n; h1 = t[1] % n; ip = 2; }
  for (int64_t s = 0; s < max_steps && ip < n; s++, ip++) {
    if (!IS_OP[t[ip]]) continue;
    switch (t[ip]) {
      case '<': h0 = h0 ? h0 - 1 : n - 1; break;
      case '>': h0 = h0 + 1 < n ? h0 + 1 : 0; break;
      case '{': h1 = h1 ? h1 - 1 : n - 1; break;
      case '}': h1 = h1 + 1 < n ? h1 + 1 : 0; break;
      case '-': t[h0]--; break;
      case '+': t[h0]++; break;
      case '.': t[h1] = t[h0]; break;
      case ',': t[h0] = t[h1]; break;
      case '[':
        if (t[h0] == 0) {
          int64_t d = 1, j = ip + 1;
          for (; j < n; j++) {
            if (t[j] == '[') d++;
            else if (t[j] == ']' && --d == 0) break;
          }
          if (j >= n) return ops + 1;
          ip = j;
        }
        break;
      case ']':
        if (t[h0] != 0) {
          int64_t d = 1, j = ip - 1;
          for (; j >= 0; j--) {
            if (t[j] == ']') d++;
            else if (t[j] == '[' && --d == 0) break;
          }
          if (j < 0) return ops + 1;
          ip = j;
        }
        break;
      default: continue;  /* a no-op uses a step but is not an op */
    }
    ops++;
  }
  return ops;
}

/* Run each row of tapes[count][n] in place; return total ops, per-row ops in ops_out. */
int64_t ref_run_tapes(uint8_t *tapes, int64_t count, int64_t n, int64_t max_steps, int heads, int64_t *ops_out) {
  int64_t total = 0;
  if (!IS_OP['[']) init_ops();
#pragma omp parallel for schedule(dynamic, 256) reduction(+ : total)
  for (int64_t i = 0; i < count; i++) {
    int64_t o = run_bff(tapes + i * n, n, max_steps, heads);
    if (ops_out) ops_out[i] = o;
    total += o;
  }
  return total;
}

/* One whole epoch: shuffle (Fisher-Yates), pair, concatenate, mutate, run, split. */
int64_t ref_epoch(uint8_t *soup, int64_t programs, int64_t len, uint64_t seed, uint64_t epoch,
                  double mutation, int64_t max_steps, int heads, uint32_t *perm, uint8_t *tapes) {
  if (!IS_OP['[']) init_ops();
  uint64_t state = splitmix64(seed ^ splitmix64(epoch));
  for (int64_t i = 0; i < programs; i++) perm[i] = (uint32_t)i;
  for (int64_t i = programs - 1; i > 0; i--) {
    state = splitmix64(state);
    int64_t j = (int64_t)(state % (uint64_t)(i + 1));
    uint32_t tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
  }
  const uint64_t threshold = (uint64_t)(mutation * 4294967296.0);
  const int64_t n = 2 * len, pairs = programs / 2;
  int64_t total = 0;
#pragma omp parallel for schedule(dynamic, 256) reduction(+ : total)
  for (int64_t p = 0; p < pairs; p++) {
    uint8_t *t = tapes + p * n;
    memcpy(t, soup + (int64_t)perm[2 * p] * len, len);
    memcpy(t + len, soup + (int64_t)perm[2 * p + 1] * len, len);
    for (int64_t k = 0; k < n; k++) {
      uint64_t r = splitmix64((seed * 0x100000001b3ULL) ^ ((epoch * (uint64_t)pairs + p) * n + k));
      if ((r >> 32) < threshold) t[k] = (uint8_t)r;
    }
    total += run_bff(t, n, max_steps, heads);
    memcpy(soup + (int64_t)perm[2 * p] * len, t, len);
    memcpy(soup + (int64_t)perm[2 * p + 1] * len, t + len, len);
  }
  return total;
}
