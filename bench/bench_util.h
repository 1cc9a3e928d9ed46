// Helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
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

// SplitMix64 (Steele, Lea & Flood 2014): a stateless hash of a counter, so a
// benchmark's data are the same on every run without a generator to carry.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a key.
inline double Uniform(uint64_t key) {
  return static_cast<double>(SplitMix64(key) >> 11) * 0x1.0p-53;
}

}  // namespace causeway::bench
