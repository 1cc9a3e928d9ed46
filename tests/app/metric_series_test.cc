// The metric series (app/metric_series.h): store rows to points by metric type,
// segment folding, request rules, the rule engine's view, and a read through a
// real SQLite store.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cmath>
#include <filesystem>

#include "app/metric_series.h"
#include "store/sqlite_store.h"

using namespace causeway::app;
using causeway::StatusCode;
using causeway::store::SeriesRow;

namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // a multiple of an hour
constexpr int64_t kHour = 3'600'000;

MetricDefinition Metric(MetricType type, std::string event, std::string denominator = "") {
  MetricDefinition m;
  m.key = "m";
  m.type = type;
  m.event = std::move(event);
  if (!denominator.empty()) m.denominator_event = denominator;
  return m;
}

SeriesRequest Hours(int n) {
  SeriesRequest r;
  r.from_ms = kT0;
  r.to_ms = kT0 + n * kHour;
  r.step_ms = kHour;
  return r;
}

SeriesRow Row(int64_t hour, std::string event, int64_t n, double sum, double sq,
              std::string segment = "") {
  return SeriesRow{kT0 + hour * kHour, std::move(event), std::move(segment), n, sum, sq};
}

}  // namespace

TEST_CASE("metric series: each type's value per bucket, with its counts, zero-filled") {
  const std::vector<SeriesRow> rows = {Row(0, "click", 3, 3, 3), Row(0, "view", 100, 100, 100),
                                       Row(2, "click", 1, 1, 1)};
  SECTION("ratio: numerator sum / denominator sum") {
    const auto s = BuildSeries(Metric(MetricType::kRatio, "click", "view"), Hours(3), rows);
    REQUIRE(s.points.size() == 3);
    CHECK(s.points[0].start_ms == kT0);
    CHECK(s.points[0].value == Approx(0.03));
    CHECK(s.points[0].events == 3);
    CHECK(s.points[0].denominator_events == 100);
    CHECK(s.points[0].denominator_sum == 100);
    CHECK(std::isnan(s.points[1].value));  // no denominator
    CHECK(s.points[1].events == 0);
    CHECK(std::isnan(s.points[2].value));  // clicks without views: undefined, not infinite
  }
  SECTION("count: events in the bucket; zero where none") {
    const auto s = BuildSeries(Metric(MetricType::kCount, "click"), Hours(3), rows);
    CHECK(s.points[0].value == 3);
    CHECK(s.points[1].value == 0);
    CHECK(s.points[2].value == 1);
    CHECK(s.points[0].denominator_events == 0);  // view is not this metric's
  }
  SECTION("mean: sum / events; null without events") {
    const std::vector<SeriesRow> r = {Row(1, "purchase", 4, 100, 3000)};
    const auto s = BuildSeries(Metric(MetricType::kMean, "purchase"), Hours(2), r);
    CHECK(std::isnan(s.points[0].value));
    CHECK(s.points[1].value == 25);
    CHECK(s.points[1].sum_squares == 3000);
  }
}

TEST_CASE("metric series: segments keep the largest levels and fold the rest into other") {
  std::vector<SeriesRow> rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back(Row(0, "click", 10 - i, 10 - i, 10 - i, "level" + std::to_string(i)));
  }
  rows.push_back(Row(1, "click", 100, 100, 100, "(none)"));
  SeriesRequest r = Hours(2);
  r.segment = "platform";
  r.max_levels = 3;
  const auto s = BuildSeries(Metric(MetricType::kCount, "click"), r, rows);
  CHECK(s.folded_levels == 3);
  REQUIRE(s.levels.size() == 4);
  CHECK(s.levels[0].segment == "(none)");  // kept levels by name, "other" last
  CHECK(s.levels[1].segment == "level0");
  CHECK(s.levels[2].segment == "level1");
  CHECK(s.levels[3].segment == "other");
  CHECK(s.levels[3].points[0].value == 8 + 7 + 6);
  CHECK(s.points[0].value == 10 + 9 + 8 + 7 + 6);  // the overall line is every level
  CHECK(s.points[1].value == 100);
}

TEST_CASE("metric series: request rules") {
  SeriesRequest r;
  r.from_ms = kT0 + 1234;
  r.to_ms = kT0 + 5 * kHour - 1;
  r.step_ms = kHour;
  REQUIRE(NormalizeSeriesRequest(&r).ok());
  CHECK(r.from_ms == kT0);            // down to the step
  CHECK(r.to_ms == kT0 + 5 * kHour);  // up to the step
  CHECK(ParseSeriesStep("5m") == 300'000);
  CHECK(ParseSeriesStep("1d") == kDayMs);
  CHECK_FALSE(ParseSeriesStep("2m"));
  SeriesRequest bad = r;
  bad.step_ms = 7;
  CHECK(NormalizeSeriesRequest(&bad).field() == "step");
  bad = r;
  bad.to_ms = bad.from_ms;
  CHECK(NormalizeSeriesRequest(&bad).field() == "to");
  bad = r;
  bad.segment = "a b";
  CHECK(NormalizeSeriesRequest(&bad).field() == "segment");
  const auto binomial = CheckSeriesMetric(Metric(MetricType::kBinomial, "purchase"));
  CHECK(binomial.code() == StatusCode::kInvalidArgument);
  CHECK(binomial.field() == "key");
  CHECK(AlertKindOf(Metric(MetricType::kBinomial, "x")).status().field() == "metric");
  CHECK(*AlertKindOf(Metric(MetricType::kRatio, "c", "v")) == MetricKind::kProportion);
  CHECK(*AlertKindOf(Metric(MetricType::kCount, "c")) == MetricKind::kCount);
  CHECK(*AlertKindOf(Metric(MetricType::kMean, "c")) == MetricKind::kMean);
}

TEST_CASE("metric series: the rule engine's buckets by kind") {
  MetricPoint p;
  p.start_ms = 5;
  p.events = 3;
  p.sum = 7.5;
  p.denominator_sum = 40;
  const auto count = ToMetricBuckets(MetricKind::kCount, {p});
  CHECK(count[0].start_ms == 5);
  CHECK(count[0].numerator == 3);
  const auto mean = ToMetricBuckets(MetricKind::kMean, {p});
  CHECK(mean[0].numerator == 7.5);
  CHECK(mean[0].denominator == 3);
  const auto proportion = ToMetricBuckets(MetricKind::kProportion, {p});
  CHECK(proportion[0].numerator == 7.5);
  CHECK(proportion[0].denominator == 40);
}

TEST_CASE("metric series: read through a SQLite store, with the point limit") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway-series-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string error;
  auto store = causeway::store::OpenSqliteStore((dir / "db").string(), &error);
  REQUIRE(store);
  std::vector<causeway::store::Event> events;
  for (int i = 0; i < 50; ++i) {
    causeway::store::Event e;
    e.type = causeway::store::EventType::kConversion;
    e.id = "e" + std::to_string(i);
    e.user = "u" + std::to_string(i % 9);
    e.name = i % 5 == 0 ? "click" : "view";
    e.ts_ms = kT0 + (i % 3) * kHour + i;
    e.attributes = i % 2 == 0 ? R"({"platform":"web"})" : R"({"platform":"ios"})";
    events.push_back(e);
  }
  REQUIRE(store->WriteEventBatches({&events})[0].status.ok());
  SeriesRequest r = Hours(3);
  r.segment = "platform";
  auto s = ReadMetricSeries(*store, Metric(MetricType::kRatio, "click", "view"), r);
  REQUIRE(s.ok());
  REQUIRE(s->points.size() == 3);
  int64_t clicks = 0, views = 0;
  for (const auto& p : s->points) {
    clicks += p.events;
    views += p.denominator_events;
  }
  CHECK(clicks == 10);
  CHECK(views == 40);
  REQUIRE(s->levels.size() == 2);
  CHECK(s->levels[0].segment == "ios");
  CHECK(s->levels[0].points[0].events + s->levels[1].points[0].events == s->points[0].events);

  SeriesRequest many;
  many.from_ms = kT0;
  many.to_ms = kT0 + 10'001 * kMinuteMs;
  many.step_ms = kMinuteMs;
  auto refused = ReadMetricSeries(*store, Metric(MetricType::kCount, "click"), many);
  CHECK(refused.status().field() == "step");
  many.to_ms = kT0 + 10'000 * kMinuteMs;
  CHECK(ReadMetricSeries(*store, Metric(MetricType::kCount, "click"), many).ok());
  CHECK(ReadMetricSeries(*store, Metric(MetricType::kBinomial, "click"), r).status().field() ==
        "key");
  std::filesystem::remove_all(dir);
}
