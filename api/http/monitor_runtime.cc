#include "api/http/monitor_runtime.h"

#include "api/http/log.h"
#include "api/http/prometheus.h"
#include "api/resources/experiments.h"
#include "app/monitor_scheduler.h"
#include "app/monitor_service.h"

namespace causeway::api {
namespace {

// Counts each scheduled evaluation and logs the alerts it raised and its errors.
app::MonitorScheduler::Options SchedulerOptions(MetricsRegistry* metrics) {
  auto* runs = metrics->Counter("monitor_evaluations_total", "Scheduled monitor evaluations.");
  auto* raised = metrics->Counter("alerts_raised_total", "Alerts raised by scheduled evaluations.");
  auto* failures = metrics->Counter("monitor_evaluation_errors_total",
                                    "Subjects whose scheduled evaluation failed.");
  app::MonitorScheduler::Options o;
  o.on_run = [runs, raised, failures](const app::MonitorRun& run) {
    runs->fetch_add(1, std::memory_order_relaxed);
    raised->fetch_add(run.alerts.size(), std::memory_order_relaxed);
    failures->fetch_add(run.errors.size(), std::memory_order_relaxed);
    for (const auto& a : run.alerts) {
      Log("info", "alert",
          {{"id", a.id},
           {"kind", a.kind},
           {"subject", a.subject},
           {"monitor", a.monitor},
           {"state", a.state}});
    }
    for (const auto& e : run.errors) Log("warning", "monitor evaluation failed", {{"error", e}});
  };
  o.on_error = [failures](const Status& st) {
    failures->fetch_add(1, std::memory_order_relaxed);
    Log("warning", "monitor evaluation failed", {{"error", st.message()}});
  };
  return o;
}

}  // namespace

MonitorRuntime::MonitorRuntime(store::Store* store, ExperimentService* experiments,
                               app::AlertService* alerts, MetricsRegistry* metrics)
    : service_(std::make_unique<app::MonitorService>(store, &experiments->experiments(),
                                                     &experiments->metrics(),
                                                     &experiments->alert_rules(), alerts)),
      scheduler_(
          std::make_unique<app::MonitorScheduler>(service_.get(), SchedulerOptions(metrics))) {}

MonitorRuntime::~MonitorRuntime() { Stop(); }

void MonitorRuntime::Start() { scheduler_->Start(); }
void MonitorRuntime::Stop() { scheduler_->Stop(); }

}  // namespace causeway::api
