#include "app/monitor_scheduler.h"

#include <chrono>

namespace causeway::app {

MonitorScheduler::MonitorScheduler(MonitorService* service, Options options)
    : service_(service), options_(std::move(options)) {}

int64_t MonitorScheduler::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int MonitorScheduler::Tick(int64_t now_ms) {
  int runs = 0;
  auto run = [&](int64_t as_of, bool rules, bool experiments) {
    MonitorRunOptions o;
    o.rules = rules;
    o.experiments = experiments;
    auto r = service_->Evaluate(as_of, o);
    ++runs;
    if (!r.ok()) {
      if (options_.on_error) options_.on_error(r.status());
    } else if (options_.on_run) {
      options_.on_run(*r);
    }
  };
  const int64_t rule_at = now_ms / options_.rule_step_ms * options_.rule_step_ms;
  const int64_t interval = service_->config().interval_ms;
  const int64_t experiment_at = now_ms / interval * interval;
  const bool rules_due = rule_at > last_rules_ms_;
  const bool experiments_due = experiment_at > last_experiments_ms_;
  if (rules_due && experiments_due && rule_at == experiment_at) {
    run(rule_at, true, true);
  } else {
    if (rules_due) run(rule_at, true, false);
    if (experiments_due) run(experiment_at, false, true);
  }
  if (rules_due) last_rules_ms_ = rule_at;
  if (experiments_due) last_experiments_ms_ = experiment_at;
  return runs;
}

void MonitorScheduler::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  // The first instants are the next ones: an instance that starts does not
  // re-evaluate the minute another instance may have just written.
  const int64_t now = Now();
  last_rules_ms_ = now / options_.rule_step_ms * options_.rule_step_ms;
  last_experiments_ms_ = now / service_->config().interval_ms * service_->config().interval_ms;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const int64_t now = Now();
      const int64_t next = (now / options_.rule_step_ms + 1) * options_.rule_step_ms;
      // A second past the instant: the buckets of the minute just ended are complete.
      wake_.wait_for(lock, std::chrono::milliseconds(next - now + 1000), [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      Tick(Now());
      lock.lock();
    }
  });
}

void MonitorScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace causeway::app
