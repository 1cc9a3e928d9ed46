// The experiment report on a real-sized experiment, in SQLite.
//
//   bench_report [USERS] [DB_DIR]     (default 1000000 users, DB in /tmp)
//
// Builds (once; reused when the file exists) an experiment with USERS exposed
// users over 14 days, about 3 conversions per user over three event names (plus a
// pre-period before each first exposure, for CUPED), and four metrics: a binomial
// goal, a mean (revenue), a count and a ratio. Then, each in a fresh child process
// so that peak RSS is the report's own:
//   - the full report (GET /v1/experiments/{key}/report's handler: store pass,
//     analysis, CUPED, daily series, JSON), with and without a segment;
//   - the reference: the pre-issue path, one SQL aggregate per metric
//     (Store::MetricStats / RatioMetricStats), for the same four metrics.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "api/codec/config_codec.h"
#include "api/resources/experiments.h"
#include "api/resources/report.h"
#include "assign/engine.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

using causeway::api::Json;
namespace store = causeway::store;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'790'000'000'000;  // 2026-09-21, an arbitrary UTC instant

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench_report: %s\n", what.c_str());
    std::exit(1);
  }
}

// Creates the experiment, the metrics and the events.
void Build(const std::string& path, int64_t users) {
  std::string error;
  auto db = store::OpenSqliteStore(path, &error);
  Check(db != nullptr, error);
  causeway::assign::SnapshotHolder snapshots;
  causeway::api::ExperimentService service(db.get(), &snapshots);
  Check(service.Load(&error), error);
  for (
      const char* m :
      {R"({"key":"purchase","type":"binomial","event":"purchase"})",
       R"({"key":"revenue","type":"mean","event":"purchase"})",
       R"({"key":"pageviews","type":"count","event":"pageview"})",
       R"({"key":"revenue_per_session","type":"ratio","event":"purchase","denominator_event":"session"})"}) {
    causeway::app::MetricDefinition def;
    Check(causeway::api::DecodeMetric(Json::parse(m), &def).ok(), std::string("metric: ") + m);
    Check(service.metrics().Create(def, kStart).ok(), std::string("metric: ") + m);
  }
  auto created = service.Create(Json::parse(
      R"({"key":"big","variants":[{"key":"control"},{"key":"treatment"}],"status":"running"})"));
  Check(created.ok(), "experiment");
  auto x = service.experiments().Get("big");
  Check(x.ok(), "experiment lookup");
  const auto compiled = causeway::assign::CompileExperiment(causeway::app::ToAssignSpec(*x));

  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unif(0, 1);
  std::vector<store::Event> batch;
  int64_t next_id = 0, written = 0;
  auto flush = [&] {
    std::vector<const std::vector<store::Event>*> batches{&batch};
    auto results = db->WriteEventBatches(batches);
    Check(results[0].status.ok(), results[0].status.message());
    written += static_cast<int64_t>(batch.size());
    batch.clear();
  };
  auto add = [&](store::EventType type, const std::string& uid, const char* name, double value,
                 int64_t ts, const std::string& variant, std::string attrs) {
    store::Event e;
    e.type = type;
    char id[32];
    std::snprintf(id, sizeof id, "e%011lld", static_cast<long long>(next_id++));
    e.id = id;
    e.user = uid;
    if (type == store::EventType::kExposure) {
      e.experiment = "big";
      e.variant = variant;
      e.attributes = std::move(attrs);
    } else {
      e.name = name;
    }
    e.value = value;
    e.ts_ms = ts;
    batch.push_back(std::move(e));
    if (batch.size() == 5000) flush();
  };
  static const char* kCountries[] = {"US", "US", "US", "GB", "DE", "FR", "IN", "BR", "CA", "JP"};
  static const char* kPlatforms[] = {"ios", "android", "web"};
  for (int64_t i = 0; i < users; ++i) {
    char uid[24];
    std::snprintf(uid, sizeof uid, "u%08lld", static_cast<long long>(i));
    const auto a = causeway::assign::Assign(compiled, uid, nullptr);
    const std::string variant = x->variants[static_cast<size_t>(a.variant_index)].key;
    const bool treated = a.variant_index == 1;
    const int64_t t0 = kStart + static_cast<int64_t>(unif(rng) * 14 * kDay);
    const double propensity = 0.5 + unif(rng);  // shared by pre and post: CUPED has signal
    std::string attrs = std::string(R"({"country":")") + kCountries[rng() % 10] +
                        R"(","platform":")" + kPlatforms[rng() % 3] + "\"}";
    add(store::EventType::kExposure, uid, nullptr, 1, t0, variant, attrs);
    if (unif(rng) < 0.1) add(store::EventType::kExposure, uid, nullptr, 1, t0 + kDay, variant, "");
    // ~3 conversions per user: pageviews, sessions, purchases; pre-period and post.
    const double lift = treated ? 1.05 : 1.0;
    auto events = [&](const char* name, double rate, bool pre) {
      std::poisson_distribution<int> k(rate * propensity * (pre ? 1.0 : lift));
      const int n = k(rng);
      for (int j = 0; j < n; ++j) {
        const int64_t ts = pre ? t0 - 1 - static_cast<int64_t>(unif(rng) * 14 * kDay)
                               : t0 + static_cast<int64_t>(unif(rng) * 7 * kDay);
        const double value = std::string(name) == "purchase" ? 5 + 40 * unif(rng) : 1.0;
        add(store::EventType::kConversion, uid, name, value, ts, "", "");
      }
    };
    events("pageview", 1.1, false);
    events("pageview", 0.6, true);
    events("session", 0.5, false);
    events("session", 0.3, true);
    events("purchase", 0.3, false);
    events("purchase", 0.2, true);
  }
  flush();
  std::printf("built %lld users, %lld events in %s\n", static_cast<long long>(users),
              static_cast<long long>(written), path.c_str());
}

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system: robust to other load on the machine
  long max_rss_kb = 0;
  bool ok = false;
};

// Runs `work` in a child process: its wall time and peak RSS.
template <typename F>
Run InChild(F work) {
  int fds[2];
  Check(pipe(fds) == 0, "pipe");
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = work();
    const double s = Seconds(t0);
    Check(write(fds[1], &s, sizeof s) == sizeof s, "write");
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  Run run;
  Check(read(fds[0], &run.seconds, sizeof run.seconds) == sizeof run.seconds, "child failed");
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  run.max_rss_kb = usage.ru_maxrss;
  run.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t users = argc > 1 ? std::stoll(argv[1]) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const std::string path = dir + "/causeway_bench_report_" + std::to_string(users) + ".db";
  if (!std::filesystem::exists(path)) {
    const auto t0 = std::chrono::steady_clock::now();
    Build(path, users);
    std::printf("data set built in %.1f s\n", Seconds(t0));
  }

  {  // Opening once brings the file's schema and indexes up to date before timing.
    std::string error;
    Check(store::OpenSqliteStore(path, &error) != nullptr, error);
  }

  auto report = [&](std::multimap<std::string, std::string> query) {
    return [&path, query] {
      std::string error;
      auto db = store::OpenSqliteStore(path, &error);
      causeway::assign::SnapshotHolder snapshots;
      causeway::api::ExperimentService service(db.get(), &snapshots);
      if (!db || !service.Load(&error)) return false;
      auto result = causeway::api::ExperimentReport(*db, service, "big", query);
      if (!result.ok()) {
        std::fprintf(stderr, "report failed: %s\n", result.error().message().c_str());
        return false;
      }
      const std::string body = result.body().dump();
      return body.size() > 100;
    };
  };
  auto reference = [&] {
    std::string error;
    auto db = store::OpenSqliteStore(path, &error);
    if (!db) return false;
    bool ok = db->MetricStats("big", 0, "purchase", 0).ok();                   // purchase
    ok = ok && db->MetricStats("big", 0, "purchase", 0).ok();                  // revenue
    ok = ok && db->MetricStats("big", 0, "pageview", 0).ok();                  // pageviews
    ok = ok && db->RatioMetricStats("big", 0, "purchase", "session", 0).ok();  // ratio
    return ok;
  };

  auto pass_only = [&] {
    std::string error;
    auto db = store::OpenSqliteStore(path, &error);
    if (!db) return false;
    store::ReportQuery q;
    q.experiment = "big";
    q.variants = {"control", "treatment"};
    q.metrics = {{store::UserValue::kIndicator, "purchase", std::nullopt, 0, 14 * kDay},
                 {store::UserValue::kSum, "purchase", std::nullopt, 0, 14 * kDay},
                 {store::UserValue::kCount, "pageview", std::nullopt, 0, 14 * kDay},
                 {store::UserValue::kSum, "purchase", std::string("session"), 0, 14 * kDay}};
    return db->AggregateReport(q).ok();
  };
  const Run pass = InChild(pass_only);
  const Run full = InChild(report({}));
  const Run segmented = InChild(report({{"segment", "country,platform"}}));
  const Run rfm = InChild(report({{"segment", "rfm"}}));
  const Run ref = InChild(reference);
  Check(pass.ok && full.ok && segmented.ok && rfm.ok && ref.ok, "a run failed");
  std::printf("users %lld\n", static_cast<long long>(users));
  auto line = [](const char* what, const Run& r) {
    std::printf("%-50s wall %7.2f s  cpu %7.2f s  peak RSS %5.0f MB\n", what, r.seconds,
                r.cpu_seconds, static_cast<double>(r.max_rss_kb) / 1024.0);
  };
  line("store pass only (4 metrics, 3 event names)", pass);
  line("report, 4 metrics, CUPED, daily series", full);
  line("report, segment=country,platform", segmented);
  line("report, segment=rfm", rfm);
  line("reference: one SQL aggregate per metric (before)", ref);
  std::printf("ratio reference / report: %.1fx wall, %.1fx cpu\n", ref.seconds / full.seconds,
              ref.cpu_seconds / full.cpu_seconds);
  return 0;
}
