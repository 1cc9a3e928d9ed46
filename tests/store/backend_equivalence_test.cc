// The same seeded scenario through every backend (SQLite, ClickHouse on one
// node, ClickHouse on a cluster of two shards) must give identical counts and
// statistics: the report's aggregates, the exposure summary and the lift
// statistics, to 1e-9 relative.
//
// The scenario has what reports meet in practice: several experiments, a later
// phase (since_ms), windows and CUPED lookbacks, multi-variant and
// unknown-variant users, conversions before exposure, retried batches (stored
// twice on ClickHouse until its merges; never counted twice), attributes with
// escapes, numbers, nulls and absences, overrides and a wrong-variant check.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/experiment_monitors.h"
#include "clickhouse_server.h"
#include "store/clickhouse_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace causeway::store {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 20'000 * kDay;  // 2024-10-04

struct Scenario {
  std::vector<std::vector<Event>> batches;  // in write order, retries included
  int64_t phase2_ms = kStart + 4 * kDay;
};

Scenario MakeScenario(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(rng);
  };
  auto chance = [&](double p) { return uniform(0, 1) < p; };
  auto pick = [&](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const std::vector<std::string> countries = {"\"US\"", "\"DE\"", "\"FR\"",
                                              "\"a \\\"q\\\" \\u00e9\""};
  const std::vector<std::string> platforms = {"\"ios\"", "\"web\"", "3", "null", "true"};
  std::vector<Event> all;
  int next_id = 0;
  auto id = [&] { return "ev" + std::to_string(next_id++); };
  for (int u = 0; u < 1500; ++u) {
    const std::string user = "user-" + std::to_string(u * 7919 % 100003);
    std::string attrs;
    if (!chance(0.1)) {
      attrs = "{\"country\":" + pick(countries);
      if (!chance(0.2)) attrs += ",\"platform\":" + pick(platforms);
      attrs += "}";
    }
    for (const auto& [experiment, variants, p] :
         {std::tuple<std::string, std::vector<std::string>, double>{
              "checkout", {"control", "treatment"}, 0.85},
          {"pricing", {"a", "b", "c"}, 0.5}}) {
      if (!chance(p)) continue;
      const std::string variant = chance(0.02) ? "legacy" : pick(variants);  // 2 %: unknown
      const int64_t t0 = kStart + static_cast<int64_t>(uniform(0, 9) * kDay);
      const int exposures = 1 + static_cast<int>(uniform(0, 3));
      for (int e = 0; e < exposures; ++e) {
        Event x;
        x.type = EventType::kExposure;
        x.id = id();
        x.user = user;
        x.experiment = experiment;
        x.variant = variant;
        if (e > 0 && chance(0.04)) x.variant = chance(0.5) ? pick(variants) : "legacy";
        x.ts_ms = t0 + (e == 0 ? 0 : static_cast<int64_t>(uniform(0, 3) * kDay));
        x.attributes = e == 0 || chance(0.5) ? attrs : std::string();
        all.push_back(x);
      }
    }
    for (const auto& [name, rate] :
         {std::pair<std::string, double>{"purchase", 3}, {"visit", 6}, {"signup", 0.5}}) {
      const int n = static_cast<int>(uniform(0, 2 * rate));
      for (int k = 0; k < n; ++k) {
        Event c;
        c.type = EventType::kConversion;
        c.id = id();
        c.user = user;
        c.name = name;
        c.value = name == "purchase" ? std::round(uniform(1, 80) * 100) / 100 : 1.0;
        // From 20 days before the first exposures (the CUPED pre-period and
        // conversions before exposure) to after every window.
        c.ts_ms = kStart + static_cast<int64_t>(uniform(-20, 20) * kDay);
        all.push_back(c);
      }
    }
  }
  std::shuffle(all.begin(), all.end(), rng);
  Scenario s;
  for (size_t i = 0; i < all.size(); i += 500) {
    s.batches.emplace_back(all.begin() + static_cast<long>(i),
                           all.begin() + static_cast<long>(std::min(all.size(), i + 500)));
    if (chance(0.3)) s.batches.push_back(s.batches.back());  // a client's retry
  }
  // A retry of half a batch, and a batch repeating ids within itself.
  s.batches.emplace_back(s.batches[0].begin(), s.batches[0].begin() + 250);
  std::vector<Event> doubled = s.batches[1];
  doubled.insert(doubled.end(), s.batches[1].begin(), s.batches[1].begin() + 100);
  s.batches.push_back(doubled);
  return s;
}

void Write(Store& store, const Scenario& s) {
  for (const auto& b : s.batches) {
    auto r = store.WriteEventBatches({&b});
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].status.ok());
  }
}

void Same(double a, double b, const std::string& what) {
  INFO(what << ": " << a << " vs " << b);
  CHECK(std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b))));
}

void SameMoments(const UserMoments& a, const UserMoments& b, const std::string& what) {
  CHECK(a.n == b.n);
  for (size_t i = 0; i < a.sum.size(); ++i)
    Same(a.sum[i], b.sum[i], what + " sum" + std::to_string(i));
  for (size_t i = 0; i < a.cross.size(); ++i) {
    Same(a.cross[i], b.cross[i], what + " cross" + std::to_string(i));
  }
}

void SameTable(const std::vector<std::vector<UserMoments>>& a,
               const std::vector<std::vector<UserMoments>>& b, const std::string& what) {
  REQUIRE(a.size() == b.size());
  for (size_t m = 0; m < a.size(); ++m) {
    REQUIRE(a[m].size() == b[m].size());
    for (size_t v = 0; v < a[m].size(); ++v) {
      SameMoments(a[m][v], b[m][v],
                  what + " metric " + std::to_string(m) + " variant " + std::to_string(v));
    }
  }
}

void SameAggregates(const ReportAggregates& a, const ReportAggregates& b) {
  REQUIRE(a.variants.size() == b.variants.size());
  for (size_t v = 0; v < a.variants.size(); ++v) {
    CHECK(a.variants[v].exposures == b.variants[v].exposures);
    CHECK(a.variants[v].users == b.variants[v].users);
  }
  CHECK(a.total_exposures == b.total_exposures);
  CHECK(a.unique_users == b.unique_users);
  CHECK(a.multi_variant_users == b.multi_variant_users);
  CHECK(a.unknown_variant_users == b.unknown_variant_users);
  CHECK(a.wrong_variant_users == b.wrong_variant_users);
  CHECK(a.override_users == b.override_users);
  CHECK(a.conversions_before_exposure == b.conversions_before_exposure);
  CHECK(a.latest_ms == b.latest_ms);
  CHECK(a.latest_exposure_ms == b.latest_exposure_ms);
  SameTable(a.totals, b.totals, "totals");
  CHECK(a.first_day == b.first_day);
  REQUIRE(a.daily.size() == b.daily.size());
  for (size_t d = 0; d < a.daily.size(); ++d) {
    SameTable(a.daily[d], b.daily[d], "day " + std::to_string(d));
  }
  REQUIRE(a.segments.size() == b.segments.size());
  for (const SegmentAggregate& s : a.segments) {
    auto it = std::find_if(b.segments.begin(), b.segments.end(),
                           [&](const SegmentAggregate& t) { return t.label == s.label; });
    INFO("segment " << s.label);
    REQUIRE(it != b.segments.end());
    SameTable(s.metrics, it->metrics, "segment " + s.label);
  }
}

std::vector<ReportQuery> Queries(const Scenario& s) {
  AggregateMetric converted{UserValue::kIndicator, "purchase", std::nullopt, 7 * kDay, 14 * kDay};
  AggregateMetric revenue{UserValue::kSum, "purchase", std::nullopt, 0, 14 * kDay};
  AggregateMetric per_visit{UserValue::kSum, "purchase", "visit", 3 * kDay, 7 * kDay};
  AggregateMetric visits{UserValue::kCount, "visit", std::nullopt, 0, 0};
  AggregateMetric signed_up{UserValue::kIndicator, "signup", std::nullopt, kDay, 0};
  std::vector<ReportQuery> out;
  ReportQuery checkout;
  checkout.experiment = "checkout";
  checkout.variants = {"control", "treatment"};
  checkout.metrics = {converted, revenue, per_visit, visits};
  checkout.override_users = {"user-7919", "user-15838", "nobody"};
  out.push_back(checkout);
  checkout.segment_attributes = {"country"};
  out.push_back(checkout);
  checkout.segment_attributes = {"country", "platform"};
  out.push_back(checkout);
  ReportQuery pricing;
  pricing.experiment = "pricing";
  pricing.since_ms = s.phase2_ms;  // a later phase
  pricing.variants = {"a", "b", "c"};
  pricing.metrics = {signed_up, revenue, per_visit};
  pricing.segment_attributes = {"platform"};
  out.push_back(pricing);
  ReportQuery history = checkout;  // segments by history before exposure (as RFM)
  history.segment_attributes.clear();
  history.history_event = "purchase";
  // Depends on the users' order (user id order on every backend) and histories.
  history.segment_by_history = [](const std::vector<UserHistory>& users,
                                  std::vector<std::string>* labels,
                                  std::vector<uint16_t>* segment_of_user) {
    *labels = {"no_history", "even", "odd", "recent_big"};
    for (size_t i = 0; i < users.size(); ++i) {
      const UserHistory& h = users[i];
      uint16_t s = 0;
      if (h.has_history)
        s = h.monetary > 100 && h.recency_days < 5 && h.frequency > 1 ? 3 : 1 + i % 2;
      segment_of_user->push_back(s);
    }
  };
  out.push_back(history);
  ReportQuery bare = checkout;  // no metrics: counts and data quality only
  bare.metrics.clear();
  bare.segment_attributes.clear();
  out.push_back(bare);
  ReportQuery empty = checkout;  // nobody exposed
  empty.experiment = "never-started";
  out.push_back(empty);
  // As of a time (monitors): exposures and conversions before until_ms only.
  ReportQuery as_of = out[0];
  as_of.until_ms = kStart + 5 * kDay + 12'345'678;
  out.push_back(as_of);
  as_of.metrics.clear();  // counts only (the SRM and no-traffic monitors)
  out.push_back(as_of);
  ReportQuery pricing_as_of = pricing;
  pricing_as_of.until_ms = s.phase2_ms + 2 * kDay + 1;
  out.push_back(pricing_as_of);
  ReportQuery before_any = out[0];  // before the first exposure
  before_any.until_ms = kStart;
  out.push_back(before_any);
  for (ReportQuery& q : out) {
    const std::vector<std::string> overrides = q.override_users;
    q.is_override = [overrides](std::string_view u) {
      return std::find(overrides.begin(), overrides.end(), u) != overrides.end();
    };
    const size_t variants = q.variants.size();
    q.expected_variant = [variants](std::string_view u) {  // any deterministic assignment
      uint32_t h = 2166136261u;
      for (char c : u) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
      return static_cast<int>(h % variants);
    };
  }
  return out;
}

// Every query of Queries(scenario) gives the same aggregates on both stores;
// the scenario's data-quality cases are all present in `reference`.
void SameReports(Store& reference, Store& other, const Scenario& scenario) {
  for (const ReportQuery& q : Queries(scenario)) {
    INFO("experiment " << q.experiment << ", " << q.metrics.size() << " metrics, "
                       << q.segment_attributes.size() << " segment attributes");
    auto a = reference.AggregateReport(q);
    auto b = other.AggregateReport(q);
    REQUIRE(a.ok());
    INFO(b.status().message());
    REQUIRE(b.ok());
    SameAggregates(*a, *b);
    CHECK(a->latest_exposure_ms < q.until_ms);
    CHECK(a->latest_ms < q.until_ms);
    if (q.until_ms == kStart) CHECK(a->unique_users == 0);
    if (q.until_ms != kStart && q.experiment != "never-started") {
      CHECK(a->latest_exposure_ms >= kStart);
    }
    if (q.experiment == "checkout" && q.metrics.size() == 4 && q.segment_attributes.empty() &&
        q.until_ms == std::numeric_limits<int64_t>::max()) {
      CHECK(a->multi_variant_users > 0);
      CHECK(a->unknown_variant_users > 0);
      CHECK(a->wrong_variant_users > 0);
      CHECK(a->override_users >= 1);
      CHECK(a->conversions_before_exposure[0] > 0);
      CHECK(a->daily.size() > 5);
    }
  }
}

// A number both backends computed: equal within 1e-9 relative, or both NaN.
void SameNumber(double a, double b, const std::string& what) {
  if (std::isnan(a) || std::isnan(b)) {
    INFO(what << ": " << a << " vs " << b);
    CHECK(std::isnan(a) == std::isnan(b));
    return;
  }
  Same(a, b, what);
}

// The experiment monitors (app/experiment_monitors.h) on each store's aggregates of
// the checkout experiment at several as_of: the same statistics and conditions.
// Returns the number of guardrail and SRM evaluations that had enough data.
int SameMonitors(Store& reference, Store& other) {
  using namespace causeway::app;
  Experiment x;
  x.key = "checkout";
  x.status = assign::ExperimentStatus::kRunning;
  x.variants.resize(2);
  x.variants[0].key = "control";
  x.variants[1].key = "treatment";
  x.variants[0].weight = x.variants[1].weight = 0.5;
  std::vector<MetricDefinition> guardrails(3);
  guardrails[0].key = "purchase_rate";
  guardrails[0].type = MetricType::kBinomial;
  guardrails[0].event = "purchase";
  guardrails[1].key = "revenue";
  guardrails[1].type = MetricType::kMean;
  guardrails[1].event = "purchase";
  guardrails[2].key = "visits";
  guardrails[2].type = MetricType::kCount;
  guardrails[2].event = "visit";
  for (const MetricDefinition& m : guardrails) x.guardrail_metrics.push_back({m.key, 0.01});
  ExperimentMonitorConfig config;
  config.srm.min_users = 20;
  config.guardrail.min_users_per_variant = 20;
  config.multi_exposure.min_users = 1;
  int evaluated = 0;
  for (int64_t as_of :
       {kStart + kDay / 2, kStart + 3 * kDay + 1234, kStart + 9 * kDay, kStart + 30 * kDay}) {
    INFO("as_of " << as_of);
    const ReportQuery q = MonitorQuery(x, guardrails, as_of);
    auto a = reference.AggregateReport(q);
    auto b = other.AggregateReport(q);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    const auto ea = EvaluateExperimentMonitors(config, x, guardrails, *a, {}, as_of);
    const auto eb = EvaluateExperimentMonitors(config, x, guardrails, *b, {}, as_of);
    REQUIRE(ea.size() == eb.size());
    for (size_t i = 0; i < ea.size(); ++i) {
      const MonitorStatistic &s = ea[i].statistic, &t = eb[i].statistic;
      INFO(ea[i].monitor);
      CHECK(ea[i].monitor == eb[i].monitor);
      CHECK(ea[i].evaluated == eb[i].evaluated);
      CHECK(ea[i].condition == eb[i].condition);
      CHECK(ea[i].reason == eb[i].reason);
      CHECK(ea[i].state.state == eb[i].state.state);
      SameNumber(s.estimate, t.estimate, "estimate");
      SameNumber(s.std_error, t.std_error, "std_error");
      SameNumber(s.p_value, t.p_value, "p_value");
      SameNumber(s.e_value, t.e_value, "e_value");
      SameNumber(s.bound, t.bound, "bound");
      CHECK(s.variant == t.variant);
      CHECK(s.users == t.users);
      CHECK(s.counts == t.counts);
      CHECK(s.last_exposure_ms == t.last_exposure_ms);
      CHECK(s.multi_variant_users == t.multi_variant_users);
      const bool tested = ea[i].kind == MonitorKind::kSrm || ea[i].kind == MonitorKind::kGuardrail;
      evaluated += tested && ea[i].evaluated && ea[i].reason.empty();
    }
  }
  return evaluated;
}

struct Backend {
  std::string name;
  std::unique_ptr<Store> store;
};

}  // namespace

TEST_CASE("every backend gives the same report aggregates, exposures and lift statistics") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const Scenario scenario = MakeScenario(20261130);
  std::vector<Backend> backends;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway_equivalence_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string error;
  backends.push_back({"sqlite", OpenSqliteStore((dir / "db.sqlite").string(), &error)});
  REQUIRE(backends.back().store);
  for (const bool cluster : {false, true}) {
    ClickHouseOptions options;
    options.endpoint = server->endpoint(cluster ? "equivalence_cluster" : "equivalence_single");
    if (cluster) options.cluster = testing::TestClickHouse::kCluster;
    backends.push_back(
        {cluster ? "clickhouse cluster" : "clickhouse", OpenClickHouseStore(options, &error)});
    INFO(error);
    REQUIRE(backends.back().store);
  }
  for (Backend& b : backends) Write(*b.store, scenario);
  {
    // The single node's data again, its reports in several waves of small
    // buckets (as 100 M events are, at the default size of a bucket).
    ClickHouseOptions options;
    options.endpoint = server->endpoint("equivalence_single");
    options.report_rows_per_bucket = 3000;
    backends.push_back({"clickhouse in waves of buckets", OpenClickHouseStore(options, &error)});
    INFO(error);
    REQUIRE(backends.back().store);
  }

  const Backend& reference = backends[0];
  for (size_t i = 1; i < backends.size(); ++i) {
    const Backend& other = backends[i];
    INFO(other.name << " against " << reference.name);
    SameReports(*reference.store, *other.store, scenario);
    CHECK(SameMonitors(*reference.store, *other.store) >= 8);  // not only "not enough data"
    for (const auto& [experiment, since] :
         {std::pair<std::string, int64_t>{"checkout", 0}, {"pricing", scenario.phase2_ms}}) {
      // Sampled attributes: with a limit beyond every exposure, the same names.
      auto names_of = [&](Store& store, int64_t limit) {
        auto sample = store.SampleExposureAttributes(experiment, since, limit);
        REQUIRE(sample.ok());
        std::set<std::string> names;
        for (const std::string& a : *sample) {
          CHECK_FALSE(a.empty());
          for (const std::string& k : FlatJsonKeys(a)) names.insert(k);
        }
        return std::make_pair(sample->size(), names);
      };
      const auto all = names_of(*reference.store, 1'000'000);
      CHECK(all.second == std::set<std::string>{"country", "platform"});
      // (Not the same count: retried batches stay stored twice until ClickHouse merges.)
      CHECK(names_of(*other.store, 1'000'000).second == all.second);
      CHECK(names_of(*other.store, 5).first <= 5 * 2);  // up to the limit on each shard
      CHECK(names_of(*reference.store, 5).first <= 5);
      auto ea = reference.store->SummarizeExposures(experiment, since);
      auto eb = other.store->SummarizeExposures(experiment, since);
      REQUIRE(ea.ok());
      REQUIRE(eb.ok());
      CHECK(ea->total_exposures == eb->total_exposures);
      CHECK(ea->unique_users == eb->unique_users);
      CHECK(ea->multi_variant_users == eb->multi_variant_users);
      REQUIRE(ea->variants.size() == eb->variants.size());
      for (size_t v = 0; v < ea->variants.size(); ++v) {
        CHECK(ea->variants[v].variant == eb->variants[v].variant);
        CHECK(ea->variants[v].exposures == eb->variants[v].exposures);
        CHECK(ea->variants[v].users == eb->variants[v].users);
      }
      for (int64_t window : {int64_t{0}, 2 * kDay}) {
        auto ma = reference.store->MetricStats(experiment, since, "purchase", window);
        auto mb = other.store->MetricStats(experiment, since, "purchase", window);
        REQUIRE(ma.ok());
        REQUIRE(mb.ok());
        REQUIRE(ma->size() == mb->size());
        for (size_t v = 0; v < ma->size(); ++v) {
          const auto &x = (*ma)[v], &y = (*mb)[v];
          CHECK(x.variant == y.variant);
          CHECK(x.users == y.users);
          CHECK(x.converted == y.converted);
          CHECK(x.conversions == y.conversions);
          Same(x.sum, y.sum, "sum");
          Same(x.sum_squares, y.sum_squares, "sum_squares");
          Same(x.conversions_sum_squares, y.conversions_sum_squares, "conversions_sum_squares");
        }
        auto ra = reference.store->RatioMetricStats(experiment, since, "purchase", "visit", window);
        auto rb = other.store->RatioMetricStats(experiment, since, "purchase", "visit", window);
        REQUIRE(ra.ok());
        REQUIRE(rb.ok());
        REQUIRE(ra->size() == rb->size());
        for (size_t v = 0; v < ra->size(); ++v) {
          const auto &x = (*ra)[v], &y = (*rb)[v];
          CHECK(x.variant == y.variant);
          CHECK(x.users == y.users);
          Same(x.numerator_sum, y.numerator_sum, "numerator_sum");
          Same(x.numerator_sum_squares, y.numerator_sum_squares, "numerator_sum_squares");
          Same(x.denominator_sum, y.denominator_sum, "denominator_sum");
          Same(x.denominator_sum_squares, y.denominator_sum_squares, "denominator_sum_squares");
          Same(x.numerator_denominator_sum_product, y.numerator_denominator_sum_product,
               "numerator_denominator_sum_product");
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace causeway::store

namespace causeway::store {
namespace {

// Both lists, read without error and of one length.
template <typename T>
std::pair<std::vector<T>, std::vector<T>> BothLists(StatusOr<std::vector<T>> a,
                                                    StatusOr<std::vector<T>> b) {
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == b->size());
  return {std::move(*a), std::move(*b)};
}

// Every configuration row of `a` is in `b`, field for field.
void SameConfiguration(Store& a, Store& b) {
  const auto [ea, eb] = BothLists(a.ListExperiments(), b.ListExperiments());
  for (size_t i = 0; i < ea.size(); ++i) {
    const ExperimentRow &x = ea[i], &y = eb[i];
    CHECK(x.key == y.key);
    CHECK(x.config == y.config);
    CHECK(x.phase == y.phase);
    CHECK(x.created_ms == y.created_ms);
    CHECK(x.updated_ms == y.updated_ms);
    const auto [pa, pb] = BothLists(a.ListPhases(x.key), b.ListPhases(x.key));
    for (size_t p = 0; p < pa.size(); ++p) {
      CHECK(pa[p].phase == pb[p].phase);
      CHECK(pa[p].seed == pb[p].seed);
      CHECK(pa[p].started_ms == pb[p].started_ms);
    }
  }
  const auto [ma, mb] = BothLists(a.ListMetrics(), b.ListMetrics());
  for (size_t i = 0; i < ma.size(); ++i) {
    CHECK(ma[i].key == mb[i].key);
    CHECK(ma[i].config == mb[i].config);
    CHECK(ma[i].created_ms == mb[i].created_ms);
  }
  const auto [ka, kb] = BothLists(a.ListApiKeys(), b.ListApiKeys());
  for (const ApiKeyRow& x : ka) {
    auto y = b.FindApiKey(x.hash);  // the same secret still opens the same key
    REQUIRE(y.ok());
    CHECK(y->id == x.id);
    CHECK(y->prefix == x.prefix);
    CHECK(y->scope == x.scope);
    CHECK(y->name == x.name);
    CHECK(y->created_ms == x.created_ms);
    CHECK(y->expires_ms == x.expires_ms);
    CHECK(y->revoked_ms == x.revoked_ms);
    CHECK(y->payload_key == x.payload_key);
  }
  const auto [fa, fb] = BothLists(a.ListFeatures(), b.ListFeatures());
  for (size_t i = 0; i < fa.size(); ++i) {
    CHECK(fa[i].key == fb[i].key);
    CHECK(fa[i].config == fb[i].config);
    CHECK(fa[i].created_ms == fb[i].created_ms);
    CHECK(fa[i].updated_ms == fb[i].updated_ms);
  }
}

}  // namespace

// ---- issue 21: metric series ----

namespace {

// Conversions of three names over three days with attributes of every kind
// (escapes, numbers, booleans, null, absent, no attributes at all) and retries.
std::vector<std::vector<Event>> SeriesScenario(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(rng);
  };
  const std::vector<std::string> attrs = {"",
                                          R"({"platform":"web","country":"US"})",
                                          R"({"platform":"ios","country":"DE"})",
                                          R"({"platform":"a \"q\" \u00e9","country":"FR"})",
                                          R"({"platform":3})",
                                          R"({"platform":true,"country":"US"})",
                                          R"({"platform":null})",
                                          R"({"country":"DE"})"};
  const std::vector<std::string> names = {"view", "click", "purchase"};
  std::vector<Event> all;
  for (int i = 0; i < 6000; ++i) {
    Event e;
    e.type = EventType::kConversion;
    e.id = "s" + std::to_string(i);
    e.user = "user-" + std::to_string(i % 613);
    e.name = names[static_cast<size_t>(uniform(0, 1) < 0.7 ? 0 : uniform(0, 1) < 0.8 ? 1 : 2)];
    e.value = e.name == "purchase" ? std::round(uniform(1, 80) * 100) / 100 : 1.0;
    e.ts_ms = kStart + static_cast<int64_t>(uniform(-0.5, 3) * kDay);
    e.attributes = attrs[static_cast<size_t>(uniform(0, static_cast<double>(attrs.size())))];
    all.push_back(e);
  }
  std::vector<std::vector<Event>> batches;
  for (size_t i = 0; i < all.size(); i += 700) {
    batches.emplace_back(all.begin() + static_cast<long>(i),
                         all.begin() + static_cast<long>(std::min(all.size(), i + 700)));
    if (uniform(0, 1) < 0.4) batches.push_back(batches.back());  // a client's retry
  }
  return batches;
}

}  // namespace

TEST_CASE("every backend gives the same metric series (Store::EventSeries)") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const auto batches = SeriesScenario(20261207);
  // The cluster's shards keep their events in fixed databases (cw_shard1, cw_shard2)
  // shared with the other cluster tests of this process: start from empty ones,
  // and leave them empty.
  auto drop_shards = [&] {
    for (const char* shard : {"cw_shard1", "cw_shard2"}) {
      REQUIRE(ch::Client(server->endpoint())
                  .Query(std::string("DROP DATABASE IF EXISTS ") + shard)
                  .ok());
    }
  };
  drop_shards();
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway_series_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string error;
  std::vector<Backend> backends;
  backends.push_back({"sqlite", OpenSqliteStore((dir / "db.sqlite").string(), &error)});
  REQUIRE(backends.back().store);
  for (const bool cluster : {false, true}) {
    ClickHouseOptions options;
    options.endpoint = server->endpoint(cluster ? "series_cluster" : "series_single");
    if (cluster) options.cluster = testing::TestClickHouse::kCluster;
    backends.push_back(
        {cluster ? "clickhouse cluster" : "clickhouse", OpenClickHouseStore(options, &error)});
    INFO(error);
    REQUIRE(backends.back().store);
  }
  for (Backend& b : backends) {
    for (const auto& batch : batches) REQUIRE(b.store->WriteEventBatches({&batch})[0].status.ok());
  }
  std::vector<SeriesQuery> queries;
  for (const bool aligned : {true, false}) {  // SQLite: its rollup, or the events
    for (const auto& [step, segment] :
         std::vector<std::pair<int64_t, std::string>>{{60'000, ""},
                                                      {300'000, "platform"},
                                                      {3'600'000, ""},
                                                      {3'600'000, "country"},
                                                      {kDay, "platform"},
                                                      {kDay, "absent"},
                                                      {kDay, ""}}) {
      SeriesQuery q;
      q.events = {"click", "view", "purchase"};
      // Not aligned: buckets count from from_ms.
      q.from_ms = aligned ? kStart - kDay : kStart - 7'200'000 + 13;
      q.to_ms = aligned ? kStart + 2 * kDay : kStart + 2 * kDay + 1;
      q.step_ms = step;
      q.segment = segment;
      queries.push_back(q);
    }
  }
  for (const SeriesQuery& q : queries) {
    INFO("from " << q.from_ms << " step " << q.step_ms << " segment " << q.segment);
    auto expected = backends[0].store->EventSeries(q);
    REQUIRE(expected.ok());
    int64_t total = 0;
    for (const SeriesRow& r : *expected) total += r.events;
    CHECK(total > 3000);
    for (size_t i = 1; i < backends.size(); ++i) {
      INFO(backends[i].name);
      auto got = backends[i].store->EventSeries(q);
      REQUIRE(got.ok());
      REQUIRE(got->size() == expected->size());
      for (size_t k = 0; k < got->size(); ++k) {
        const SeriesRow &a = (*expected)[k], &b = (*got)[k];
        INFO("row " << k << " " << a.bucket_ms << " " << a.event << " " << a.segment);
        CHECK(a.bucket_ms == b.bucket_ms);
        CHECK(a.event == b.event);
        CHECK(a.segment == b.segment);
        CHECK(a.events == b.events);
        Same(a.sum, b.sum, "sum");
        Same(a.sum_squares, b.sum_squares, "sum_squares");
      }
    }
  }
  backends.clear();
  drop_shards();
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "scripts/sqlite-to-clickhouse.sh moves a SQLite store across and a rerun changes nothing") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const Scenario scenario = MakeScenario(20261201);
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway_migration_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db_path = (dir / "causeway.db").string();
  std::string error;
  auto sqlite = OpenSqliteStore(db_path, &error);
  REQUIRE(sqlite);
  Write(*sqlite, scenario);
  // Text that TabSeparated must escape, in every kind of field.
  const std::string odd = "tab\there, newline\nthere, cr\r, backslash \\ \\t, quotes ' \" , é 😀";
  std::vector<Event> odd_events(2);
  odd_events[0].type = EventType::kExposure;
  odd_events[0].id = "odd\t1\\n";
  odd_events[0].user = "user\n" + odd;
  odd_events[0].experiment = "odd";  // its only user
  odd_events[0].variant = "control";
  odd_events[0].ts_ms = kStart + kDay;
  odd_events[0].attributes = R"({"country":"tab\t \\ \"q\" é"})";
  odd_events[1].type = EventType::kConversion;
  odd_events[1].id = "odd\t2";
  odd_events[1].user = odd_events[0].user;
  odd_events[1].name = "purchase";
  odd_events[1].value = 0.1 + 0.2;  // 17 significant digits must survive
  odd_events[1].ts_ms = kStart + kDay + 1;
  REQUIRE(sqlite->WriteEventBatches({&odd_events})[0].status.ok());
  REQUIRE(sqlite
              ->CreateExperiment({"checkout", "{\"name\":\"" + odd + "\"}", 1, 5, 6},
                                 {"checkout", 1, "seed\t1", 5})
              .ok());
  const PhaseRow second{"pricing", 2, "s2", scenario.phase2_ms};
  REQUIRE(sqlite->CreateExperiment({"pricing", "{}", 1, 7, 7}, {"pricing", 1, "s1", 7}).ok());
  REQUIRE(sqlite->UpdateExperiment({"pricing", "{\"p\":2}", 2, 7, 8}, &second).ok());
  REQUIRE(sqlite->CreateMetric({"revenue", odd, 11}).ok());
  REQUIRE(sqlite->CreateMetric({"visits", "{}", 12}).ok());
  REQUIRE(sqlite->CreateAlertRule({"rule", odd, 13, 14}).ok());
  ApiKeyRow admin{"key_000000000001", std::string(64, 'a'), "cw_adm", KeyScope::kAdmin, odd, 21,
                  std::nullopt,       std::nullopt,         ""};
  ApiKeyRow sdk{"key_000000000002",         std::string(64, 'b'), "cw_sdk", KeyScope::kSdk, "", 22,
                int64_t{9'000'000'000'000}, std::nullopt,         ""};
  ApiKeyRow old{"key_000000000003", std::string(64, 'c'), "cw_old", KeyScope::kSdk, "old", 23,
                std::nullopt,       std::nullopt,         ""};
  ApiKeyRow client{"key_000000000004",
                   std::string(64, 'd'),
                   "cw_cli",
                   KeyScope::kClient,
                   "web",
                   24,
                   std::nullopt,
                   std::nullopt,
                   "AAECAwQFBgcICQoLDA0ODw=="};
  for (const ApiKeyRow& k : {admin, sdk, old, client}) REQUIRE(sqlite->CreateApiKey(k).ok());
  REQUIRE(sqlite->CreateFeature({"banner", odd, 15, 16}).ok());
  REQUIRE(sqlite->RevokeApiKey(old.id, 30).ok());

  ClickHouseOptions options;
  options.endpoint = server->endpoint("migrated");
  auto clickhouse = OpenClickHouseStore(options, &error);  // creates the tables
  INFO(error);
  REQUIRE(clickhouse);
  const std::string command = "bash '" + std::string(CAUSEWAY_SOURCE_DIR) +
                              "/scripts/sqlite-to-clickhouse.sh' '" + db_path +
                              "' http://127.0.0.1:" + std::to_string(server->http_port()) +
                              " migrated > '" + (dir / "log").string() + "' 2>&1";
  for (int run = 0; run < 2; ++run) {  // a rerun changes nothing
    INFO("run " << run);
    REQUIRE(std::system(command.c_str()) == 0);

    SameConfiguration(*sqlite, *clickhouse);
    auto rules = clickhouse->ListAlertRules();
    REQUIRE(rules.ok());
    REQUIRE(rules->size() == 1);
    CHECK((*rules)[0].config == odd);
    CHECK((*rules)[0].updated_ms == 14);
    for (const Event& e : odd_events) {
      auto has = clickhouse->HasEvent(e.id);
      REQUIRE(has.ok());
      CHECK(*has);
    }
    SameReports(*sqlite, *clickhouse, scenario);
    // One user, one value: it must come across bit for bit (17 significant digits).
    auto odd_stats = clickhouse->MetricStats("odd", 0, "purchase", 0);
    REQUIRE(odd_stats.ok());
    REQUIRE(odd_stats->size() == 1);
    CHECK((*odd_stats)[0].users == 1);
    CHECK((*odd_stats)[0].sum == 0.1 + 0.2);
    auto summary = clickhouse->SummarizeExposures("odd", 0);
    REQUIRE(summary.ok());
    REQUIRE(summary->variants.size() == 1);
    CHECK(summary->variants[0].variant == "control");
    CHECK(summary->unique_users == 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace causeway::store
