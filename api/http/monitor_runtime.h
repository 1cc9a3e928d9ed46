// The server's monitor evaluation (issue 21; docs/alerts.md, "Evaluation"): the
// app::MonitorService that POST /v1/monitors/evaluate calls, and the scheduler that
// calls it at wall-clock time while the server serves, with its Prometheus counters
// and log lines. Kept apart from server.cc, whose cpp-httplib include (resolv.h's
// `_res` macro) must not meet the statistics headers behind the monitors.
#pragma once

#include <memory>

namespace causeway::store {
class Store;
}
namespace causeway::app {
class AlertService;
class MonitorScheduler;
class MonitorService;
}  // namespace causeway::app

namespace causeway::api {

class ExperimentService;
class MetricsRegistry;

class MonitorRuntime {
 public:
  // REQUIRES: the arguments outlive the runtime.
  MonitorRuntime(store::Store* store, ExperimentService* experiments, app::AlertService* alerts,
                 MetricsRegistry* metrics);
  ~MonitorRuntime();  // Stop()

  app::MonitorService* service() { return service_.get(); }
  void Start();  // the scheduler's thread
  void Stop();

 private:
  std::unique_ptr<app::MonitorService> service_;
  std::unique_ptr<app::MonitorScheduler> scheduler_;
};

}  // namespace causeway::api
