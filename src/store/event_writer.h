// Group commit for event ingestion.
//
// Request threads hand whole, validated batches to Write(), which blocks until
// the batch is durably committed. One writer thread takes every batch waiting
// in the queue and commits them in one transaction (Store::WriteEventBatches),
// so one fsync serves many requests: durability without paying per request.
//
// Back-pressure: when the events already queued plus the new batch would exceed
// Options::max_queued_events, Write returns Unavailable at once (the API answers 503
// with Retry-After) instead of letting memory grow without bound.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.h"

namespace causeway::store {

class EventWriter {
 public:
  struct Options {
    size_t max_queued_events = 500000;  // back-pressure threshold
    size_t max_group_events = 100000;   // most events committed in one transaction
  };

  EventWriter(Store* store, Options options);
  ~EventWriter();  // Stop()
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Blocks until `batch` is committed (or rejected). Thread-safe.
  // REQUIRES: the batch was validated; `batch` outlives the call.
  WriteResult Write(const std::vector<Event>& batch);

  // Commits everything queued, then stops the writer thread. Later writes fail.
  void Stop();

  uint64_t groups_committed() const;
  // Events accepted by Write and not yet answered (queued or being committed).
  size_t queued_events() const;

 private:
  struct Pending {
    const std::vector<Event>* events;
    WriteResult result;
    bool done = false;
  };
  void Run();

  Store* store_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits for batches
  std::condition_variable done_cv_;  // requests wait for their commit
  std::deque<Pending*> queue_;       // GUARDED_BY(mu_)
  size_t queued_events_ = 0;         // GUARDED_BY(mu_)
  bool stopping_ = false;            // GUARDED_BY(mu_)
  uint64_t groups_ = 0;              // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace causeway::store
