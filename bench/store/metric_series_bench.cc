// The metric series on SQLite: 30 days at 1h over 10 M conversion events (issue 21).
//
//   bench_metric_series [EVENTS] [DB_DIR]     (default 10000000 events, DB in /tmp)
//
// Builds (once; reused when the file exists) EVENTS conversion events over 30 days
// through the store's batch writer: impressions (85 %), clicks (10 %) and
// purchases (5 %), a third of them with a "platform" attribute, and a ratio metric
// ctr = click / impression. The data generation is not timed. Then, each the
// median of 5 runs on a warm page cache:
//   - the handler of GET /v1/metrics/ctr/series?step=1h over the 30 days (store
//     aggregate from its per-minute rollup, points, JSON), app::ReadMetricSeries
//     alone, and the store's other path over the same rows (the events along the
//     (name, ts) index, as for a segmented or unaligned query);
//   - the reference: one raw SQLite GROUP BY of the same rows by hour
//     (SELECT ts / 3600000, name, count(*), total(value) ... GROUP BY 1, 2) on a
//     fresh connection, and a plain count(*) of them (the cost of reading them);
//   - a dashboard's 1 day at 1m, and the 30 days at 1h segmented by platform.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "api/codec/config_codec.h"
#include "api/resources/experiments.h"
#include "api/resources/metric_series.h"
#include "app/metric_series.h"
#include "assign/engine.h"
#include "bench_util.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

using causeway::api::Json;
namespace store = causeway::store;
namespace app = causeway::app;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kStart = 1'790'006'400'000;  // 2026-09-22T00:00Z, a whole UTC day

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench_metric_series: %s\n", what.c_str());
    std::exit(1);
  }
}

void Build(store::Store& db, int64_t events) {
  const char* platforms[] = {R"({"platform":"web"})", R"({"platform":"ios"})",
                             R"({"platform":"android"})"};
  std::vector<store::Event> batch;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < events; ++i) {
    store::Event e;
    e.type = store::EventType::kConversion;
    char id[24];
    std::snprintf(id, sizeof id, "e%012lld", static_cast<long long>(i));
    e.id = id;
    e.user = "u" + std::to_string(causeway::bench::SplitMix64(i) % 2'000'000);
    const double u = causeway::bench::Uniform(i * 3 + 1);
    e.name = u < 0.85 ? "impression" : u < 0.95 ? "click" : "purchase";
    e.value = e.name == "purchase" ? 5.0 + 100.0 * causeway::bench::Uniform(i * 3 + 2) : 1.0;
    e.ts_ms = kStart + i * (30 * kDay) / events;  // in time order, as ingestion writes them
    const uint64_t a = causeway::bench::SplitMix64(i * 7 + 5) % 9;
    if (a < 3) e.attributes = platforms[a];
    batch.push_back(std::move(e));
    if (batch.size() == 50'000 || i + 1 == events) {
      auto r = db.WriteEventBatches({&batch});
      Check(r[0].status.ok(), "write: " + r[0].status.message());
      batch.clear();
    }
  }
  std::printf("built %lld events in %.0f s\n", static_cast<long long>(events),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// The reference: one GROUP BY over the same rows, on a fresh connection.
double RawGroupBy(const std::string& path, const char* sql, int64_t* rows_out) {
  return causeway::bench::MedianSeconds(5, [&] {
    sqlite3* db = nullptr;
    Check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK, "open");
    sqlite3_stmt* q = nullptr;
    Check(sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
    sqlite3_bind_int64(q, 1, kStart);
    sqlite3_bind_int64(q, 2, kStart + 30 * kDay);
    int64_t rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) rows += sqlite3_column_int64(q, 2);
    *rows_out = rows;
    sqlite3_finalize(q);
    sqlite3_close(db);
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t events = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const std::string path = dir + "/causeway_series_bench_" + std::to_string(events) + ".db";
  const bool exists = std::filesystem::exists(path);
  std::string error;
  const auto open_start = std::chrono::steady_clock::now();
  auto db = store::OpenSqliteStore(path, &error);
  Check(db != nullptr, error);
  const double open_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - open_start).count();
  causeway::assign::SnapshotHolder snapshots;
  causeway::api::ExperimentService service(db.get(), &snapshots);
  Check(service.Load(&error), error);
  if (!exists) {
    Build(*db, events);
    app::MetricDefinition ctr;
    Check(causeway::api::DecodeMetric(Json::parse(R"({"key":"ctr","type":"ratio","event":"click",)"
                                                  R"("denominator_event":"impression"})"),
                                      &ctr)
              .ok(),
          "metric");
    Check(service.metrics().Create(ctr, kStart).ok(), "metric create");
  }
  const auto ctr = service.metrics().Get("ctr");
  Check(ctr.ok(), "metric ctr");
  const std::multimap<std::string, std::string> month = {
      {"from", std::to_string(kStart)}, {"to", std::to_string(kStart + 30 * kDay)}, {"step", "1h"}};

  size_t points = 0;
  int64_t series_events = 0;
  const double handler = causeway::bench::MedianSeconds(5, [&] {
    auto r = causeway::api::MetricSeries(*db, service, "ctr", month);
    Check(r.ok(), "handler");
    points = r.body()["points"].size();
  });
  app::SeriesRequest request;
  request.from_ms = kStart;
  request.to_ms = kStart + 30 * kDay;
  request.step_ms = kHour;
  const double app_only = causeway::bench::MedianSeconds(5, [&] {
    auto s = app::ReadMetricSeries(*db, *ctr, request);
    Check(s.ok(), "series");
    series_events = 0;
    for (const auto& p : s->points) series_events += p.events + p.denominator_events;
  });
  // The store's other path, the events along events_conversion_time (taken when the
  // range is not whole minutes, or segmented): the same month, from 1 ms later.
  store::SeriesQuery raw_query = app::SeriesQueryOf(*ctr, request);
  raw_query.from_ms += 1;
  int64_t raw_events = 0;
  const double event_scan = causeway::bench::MedianSeconds(3, [&] {
    auto rows = db->EventSeries(raw_query);
    Check(rows.ok(), "event scan");
    raw_events = 0;
    for (const auto& r : *rows) raw_events += r.events;
  });
  int64_t ref_rows = 0, count_rows = 0;
  const double group_by =
      RawGroupBy(path,
                 "SELECT ts / 3600000, name, count(*), total(value) FROM events WHERE type = 1 AND "
                 "name IN ('click', 'impression') AND ts >= ?1 AND ts < ?2 GROUP BY 1, 2",
                 &ref_rows);
  const double count_only = RawGroupBy(path,
                                       "SELECT 0, 0, count(*) FROM events WHERE type = 1 AND "
                                       "name IN ('click', 'impression') AND ts >= ?1 AND ts < ?2",
                                       &count_rows);
  Check(ref_rows == series_events && count_rows == series_events, "the reference reads other rows");

  const std::multimap<std::string, std::string> day = {{"from", std::to_string(kStart + 29 * kDay)},
                                                       {"to", std::to_string(kStart + 30 * kDay)},
                                                       {"step", "1m"}};
  const double dashboard = causeway::bench::MedianSeconds(
      5, [&] { Check(causeway::api::MetricSeries(*db, service, "ctr", day).ok(), "1 day at 1m"); });
  auto segmented_query = month;
  segmented_query.emplace("segment", "platform");
  const double segmented = causeway::bench::MedianSeconds(3, [&] {
    Check(causeway::api::MetricSeries(*db, service, "ctr", segmented_query).ok(), "segmented");
  });

  std::printf("metric series on SQLite, %lld events over 30 days (%lld read by ctr)\n",
              static_cast<long long>(events), static_cast<long long>(series_events));
  std::printf("  open%s                     : %.3f s\n",
              exists ? " (fills the rollup on a file without it)" : "", open_s);
  std::printf("  GET .../ctr/series 30 d at 1h (%zu points), handler : %.3f s\n", points, handler);
  std::printf("  app::ReadMetricSeries alone                        : %.3f s\n", app_only);
  std::printf(
      "  reference: raw SQLite GROUP BY hour, name           : %.3f s  (series / ref = %.2f)\n",
      group_by, handler / group_by);
  std::printf(
      "  reference: raw SQLite count(*) of the same rows     : %.3f s  (series / ref = %.2f)\n",
      count_only, handler / count_only);
  std::printf("  store, from the events (no rollup), 1 ms later     : %.3f s  (%lld events)\n",
              event_scan, static_cast<long long>(raw_events));
  std::printf("  GET .../ctr/series 1 d at 1m (1440 points)          : %.3f s\n", dashboard);
  std::printf("  GET .../ctr/series 30 d at 1h, segment=platform     : %.3f s\n", segmented);
  std::printf("  target: 30 d at 1h over 10 M events < 1 s: %s\n",
              handler < 1.0 ? "met" : "NOT met");
  return 0;
}
