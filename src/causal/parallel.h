// Splitting a pass over panel rows across cores (internal to the causal core).
//
// Only the big per-row passes use it (indexing and the balanced TWFE route on large
// panels); each chunk writes to its own accumulators and the caller merges them, so no
// state is shared between threads. Chunk 0 runs on the calling thread. If a thread
// cannot be started, its chunk runs on the calling thread too: the result is the same.
#pragma once

#include <algorithm>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace causeway::causal {

// Rows below which a pass stays on one thread (starting a thread costs tens of us).
inline constexpr size_t kRowsPerChunk = 1 << 18;
inline constexpr unsigned kMaxChunks = 8;

// How many chunks a pass over n rows uses: 1 for small panels, else up to `threads`
// (0: the cores of this machine).
inline unsigned ChunkCount(size_t n, int threads) {
  const unsigned cores = threads > 0 ? static_cast<unsigned>(threads)
                                     : std::max(1u, std::thread::hardware_concurrency());
  const size_t by_size = std::max<size_t>(1, n / kRowsPerChunk);
  return static_cast<unsigned>(std::min<size_t>({by_size, cores, kMaxChunks}));
}

// Chunk c covers rows [bounds[c], bounds[c + 1]).
inline std::vector<size_t> ChunkBounds(size_t n, unsigned chunks) {
  std::vector<size_t> bounds(chunks + 1);
  for (unsigned c = 0; c <= chunks; ++c) bounds[c] = n * c / chunks;
  return bounds;
}

// Calls fn(c, bounds[c], bounds[c + 1]) for every chunk and returns when all are done.
// REQUIRES: fn does not throw, and chunks touch disjoint state.
template <class Fn>
void RunChunks(const std::vector<size_t>& bounds, Fn&& fn) {
  const unsigned chunks = static_cast<unsigned>(bounds.size() - 1);
  std::vector<std::thread> threads;
  std::vector<unsigned> inline_chunks;
  for (unsigned c = 1; c < chunks; ++c) {
    try {
      threads.emplace_back([&fn, &bounds, c] { fn(c, bounds[c], bounds[c + 1]); });
    } catch (const std::system_error&) {
      inline_chunks.push_back(c);
    }
  }
  fn(0u, bounds[0], bounds[1]);
  for (unsigned c : inline_chunks) fn(c, bounds[c], bounds[c + 1]);
  for (std::thread& t : threads) t.join();
}

}  // namespace causeway::causal
