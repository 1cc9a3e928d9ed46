// The Frank-Wolfe pass (causal/frank_wolfe_pass.h): every kernel this machine can run
// gives the plain loop's bits and first argmin, on sizes around the kernels' run length,
// with excluded entries (c = -inf), planted ties and steps of 1.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "causal/frank_wolfe_pass.h"

namespace causeway::causal::internal {
namespace {

double Uniform(uint64_t* state) {  // splitmix64
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

// The sequential definition.
int Reference(std::vector<double>* h, const std::vector<double>& column,
              const std::vector<double>& c, double keep, double step) {
  double min = std::numeric_limits<double>::infinity();
  int arg = 0;
  for (size_t j = 0; j < h->size(); ++j) {
    (*h)[j] = keep * (*h)[j] + step * column[j];
    const double g = (*h)[j] - c[j];
    if (g < min) {
      min = g;
      arg = static_cast<int>(j);
    }
  }
  return arg;
}

TEST_CASE("Frank-Wolfe pass: every kernel gives the plain loop's bits and argmin",
          "[causal][synthetic]") {
  const std::vector<PassKernel> kernels = AvailablePassKernels();
  CHECK(kernels.front() == PassKernel::kPortable);
  uint64_t state = 20261130;
  int checked = 0;
  for (int k : {1, 3, 15, 16, 17, 31, 32, 33, 100, 980}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> h(static_cast<size_t>(k)), column(h.size()), c(h.size());
      for (size_t j = 0; j < h.size(); ++j) {
        h[j] = 1e6 * Uniform(&state);
        column[j] = 1e6 * Uniform(&state);
        c[j] = 1e6 * Uniform(&state);
        if (Uniform(&state) < 0.05) c[j] = -std::numeric_limits<double>::infinity();
      }
      if (trial % 4 == 1 && k > 2) {  // a tie for the minimum, later entry first in its run
        const size_t a = static_cast<size_t>(k) - 1, b = static_cast<size_t>(k) / 3;
        h[a] = h[b] = column[a] = column[b] = c[a] = c[b] = -1e7;
      }
      if (trial % 4 == 2) {  // every entry equal
        std::fill(h.begin(), h.end(), 2.0);
        std::fill(column.begin(), column.end(), 3.0);
        std::fill(c.begin(), c.end(), 1.0);
      }
      const double step = trial % 5 == 3 ? 1.0 : Uniform(&state), keep = 1 - step;
      std::vector<double> want = h;
      const int want_arg = Reference(&want, column, c, keep, step);
      for (PassKernel kernel : kernels) {
        std::vector<double> got = h;
        const int arg = MoveAndArgmin(got.data(), column.data(), c.data(), k, keep, step, kernel);
        INFO("k " << k << " trial " << trial << " kernel " << static_cast<int>(kernel));
        CHECK(arg == want_arg);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(double)) == 0);
        ++checked;
      }
    }
  }
  CHECK(checked == 200 * static_cast<int>(kernels.size()));
}

}  // namespace
}  // namespace causeway::causal::internal
