// Runs MonitorService::Evaluate at wall-clock time (docs/alerts.md, "Evaluation"):
// metric alert rules every rule step (1 minute), experiment monitors and rollouts
// every ExperimentMonitorConfig::interval_ms (5 minutes by default). as_of is the
// wall clock aligned down to the step, so instances sharing a store evaluate the
// same instants and write the same states and alert ids. A slow evaluation delays
// the next one and never piles them up: a missed instant is skipped, the next one
// covers the data (each evaluation reads everything before its as_of).
//
// Thread-safe: Start and Stop from one thread; Tick is what the thread calls.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "app/monitor_service.h"

namespace causeway::app {

class MonitorScheduler {
 public:
  struct Options {
    int64_t rule_step_ms = kMinuteMs;
    std::function<int64_t()> now_ms;                // wall clock when empty
    std::function<void(const MonitorRun&)> on_run;  // logging
    std::function<void(const Status&)> on_error;    // logging
  };
  MonitorScheduler(MonitorService* service, Options options);
  ~MonitorScheduler() { Stop(); }

  void Start();
  void Stop();

  // One pass at wall-clock `now_ms`: the rules when a rule instant passed since the
  // last, the experiments when an experiment instant did. Returns the runs made.
  int Tick(int64_t now_ms);

 private:
  int64_t Now() const;

  MonitorService* const service_;
  const Options options_;
  int64_t last_rules_ms_ = 0;
  int64_t last_experiments_ms_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace causeway::app
