// Helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace causeway::bench {

// The median wall time of `repeats` calls of f(), in seconds.
template <class F>
double MedianSeconds(int repeats, F&& f) {
  std::vector<double> times;
  for (int k = 0; k < repeats; ++k) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace causeway::bench
