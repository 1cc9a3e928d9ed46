// Kernels of the Frank-Wolfe pass (causal/frank_wolfe_pass.h).
#include "causal/frank_wolfe_pass.h"

#include <algorithm>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace causeway::causal::internal {
namespace {

// h <- keep h + step column over [0, n), finding where h - c is smallest: its value and
// the start of the first run of kRun entries that holds it (run = -1 if no entry is below
// +inf). Vector lanes keep the minimum of each run they saw and the first run that
// reached it. REQUIRES: n is a multiple of kRun.
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kRun = 16;

struct PassMin {
  double value = kInf;
  int run = -1;
};

#if defined(__x86_64__)
PassMin MoveSse2(double* h, const double* column, const double* c, int n, double keep,
                 double step) {
  const __m128d keep2 = _mm_set1_pd(keep), step2 = _mm_set1_pd(step);
  __m128d best = _mm_set1_pd(kInf), best_run = _mm_set1_pd(-1);
  for (int start = 0; start < n; start += kRun) {
    __m128d min_a = _mm_set1_pd(kInf), min_b = min_a;
    for (int j = start; j < start + kRun; j += 4) {
      __m128d ha = _mm_loadu_pd(h + j), hb = _mm_loadu_pd(h + j + 2);
      ha = _mm_add_pd(_mm_mul_pd(keep2, ha), _mm_mul_pd(step2, _mm_loadu_pd(column + j)));
      hb = _mm_add_pd(_mm_mul_pd(keep2, hb), _mm_mul_pd(step2, _mm_loadu_pd(column + j + 2)));
      _mm_storeu_pd(h + j, ha);
      _mm_storeu_pd(h + j + 2, hb);
      // _mm_min_pd(g, m) is g < m ? g : m.
      min_a = _mm_min_pd(_mm_sub_pd(ha, _mm_loadu_pd(c + j)), min_a);
      min_b = _mm_min_pd(_mm_sub_pd(hb, _mm_loadu_pd(c + j + 2)), min_b);
    }
    const __m128d run_min = _mm_min_pd(min_a, min_b);
    const __m128d less = _mm_cmplt_pd(run_min, best);
    best = _mm_min_pd(run_min, best);
    best_run = _mm_or_pd(_mm_and_pd(less, _mm_set1_pd(start)), _mm_andnot_pd(less, best_run));
  }
  alignas(16) double value[2], run[2];
  _mm_store_pd(value, best);
  _mm_store_pd(run, best_run);
  PassMin m;
  for (int lane = 0; lane < 2; ++lane) {
    if (value[lane] < m.value || (value[lane] == m.value && run[lane] < m.run)) {
      m = {value[lane], static_cast<int>(run[lane])};
    }
  }
  return m;
}

__attribute__((target("avx2"))) PassMin MoveAvx2(double* h, const double* column, const double* c,
                                                 int n, double keep, double step) {
  const __m256d keep4 = _mm256_set1_pd(keep), step4 = _mm256_set1_pd(step);
  __m256d best = _mm256_set1_pd(kInf), best_run = _mm256_set1_pd(-1);
  for (int start = 0; start < n; start += kRun) {
    __m256d run_min = _mm256_set1_pd(kInf);
    for (int j = start; j < start + kRun; j += 4) {
      __m256d h4 = _mm256_loadu_pd(h + j);
      h4 = _mm256_add_pd(_mm256_mul_pd(keep4, h4),
                         _mm256_mul_pd(step4, _mm256_loadu_pd(column + j)));
      _mm256_storeu_pd(h + j, h4);
      run_min = _mm256_min_pd(_mm256_sub_pd(h4, _mm256_loadu_pd(c + j)), run_min);
    }
    const __m256d less = _mm256_cmp_pd(run_min, best, _CMP_LT_OQ);
    best = _mm256_min_pd(run_min, best);
    best_run = _mm256_blendv_pd(best_run, _mm256_set1_pd(start), less);
  }
  alignas(32) double value[4], run[4];
  _mm256_store_pd(value, best);
  _mm256_store_pd(run, best_run);
  PassMin m;
  for (int lane = 0; lane < 4; ++lane) {
    if (value[lane] < m.value || (value[lane] == m.value && run[lane] < m.run)) {
      m = {value[lane], static_cast<int>(run[lane])};
    }
  }
  return m;
}
#endif

PassMin MovePortable(double* h, const double* column, const double* c, int n, double keep,
                     double step) {
  PassMin m;
  for (int j = 0; j < n; ++j) {
    h[j] = keep * h[j] + step * column[j];
    const double g = h[j] - c[j];
    if (g < m.value) m = {g, j - j % kRun};
  }
  return m;
}

using MoveFn = PassMin (*)(double*, const double*, const double*, int, double, double);

MoveFn Kernel(PassKernel kernel) {
  switch (kernel) {
#if defined(__x86_64__)
    case PassKernel::kAvx2:
      return MoveAvx2;
    case PassKernel::kSse2:
      return MoveSse2;
#endif
    default:
      return MovePortable;
  }
}

}  // namespace

std::vector<PassKernel> AvailablePassKernels() {
  std::vector<PassKernel> out{PassKernel::kPortable};
#if defined(__x86_64__)
  out.push_back(PassKernel::kSse2);
  if (__builtin_cpu_supports("avx2")) out.push_back(PassKernel::kAvx2);
#endif
  return out;
}

int MoveAndArgmin(double* h, const double* column, const double* c, int k, double keep, double step,
                  PassKernel kernel) {
  const int n = k - k % kRun;
  const PassMin m = Kernel(kernel)(h, column, c, n, keep, step);
  double min = m.value;
  int arg = 0;
  if (m.run >= 0) {
    arg = m.run;
    while (!(h[arg] - c[arg] == min)) ++arg;
  }
  for (int j = n; j < k; ++j) {
    h[j] = keep * h[j] + step * column[j];
    const double g = h[j] - c[j];
    if (g < min) {
      min = g;
      arg = j;
    }
  }
  return arg;
}

int MoveAndArgmin(double* h, const double* column, const double* c, int k, double keep,
                  double step) {
  static const PassKernel fastest = AvailablePassKernels().back();
  return MoveAndArgmin(h, column, c, k, keep, step, fastest);
}

}  // namespace causeway::causal::internal
