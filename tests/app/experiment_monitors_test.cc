// Experiment monitors (src/app/experiment_monitors.h) without HTTP: the guardrail
// test against tests/reference/app/guardrail_monitor.py (guardrail_monitor.json,
// tolerance 1e-9 relative), the SRM statistic against stats::SequentialSrm, every
// transition of the state machine, each monitor's condition, the configuration's
// validation, and the whole path from stored events (SQLite) through MonitorQuery.
#include "app/experiment_monitors.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stats/sequential_srm.h"
#include "store/sqlite_store.h"

namespace causeway::app {
namespace {

using store::UserMoments;
constexpr int64_t kT0 = 1'760'000'000'000;  // an instant (ms)
constexpr int64_t kMin = kMinuteMs;

nlohmann::json Fixture(const std::string& name) {
  std::ifstream in(std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/app/" + name);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

Experiment Running(int variants = 2) {
  Experiment x;
  x.key = "checkout";
  for (int v = 0; v < variants; ++v) {
    x.variants.push_back({v == 0 ? "control" : "t" + std::to_string(v), 1.0 / variants, {}, {}});
  }
  x.status = assign::ExperimentStatus::kRunning;
  x.created_ms = x.updated_ms = kT0 - 600 * kMin;
  x.phases = {{1, "checkout", x.created_ms}};
  return x;
}

MetricDefinition Metric(const std::string& key, MetricType type, bool higher_is_better = true) {
  MetricDefinition m;
  m.key = key;
  m.type = type;
  m.event = key;
  if (type == MetricType::kRatio) m.denominator_event = key + "_den";
  m.higher_is_better = higher_is_better;
  return m;
}

// Users with given sums of (y, d) and cross-products.
UserMoments Moments(int64_t n, double sy, double sd, double syy, double syd, double sdd) {
  UserMoments u;
  u.n = n;
  u.sum[UserMoments::kYNum] = sy;
  u.sum[UserMoments::kYDen] = sd;
  u.cross[UserMoments::Index(0, 0)] = syy;
  u.cross[UserMoments::Index(0, 1)] = syd;
  u.cross[UserMoments::Index(1, 1)] = sdd;
  return u;
}

// Binomial users: n with c conversions.
UserMoments Binomial(int64_t n, int64_t c) { return Moments(n, c, 0, c, 0, 0); }

// Aggregates with per-variant analysed users `n` and one metric row.
store::ReportAggregates Aggregates(const std::vector<UserMoments>& metric_row,
                                   int64_t latest_exposure_ms = kT0 - kMin) {
  store::ReportAggregates a;
  for (const UserMoments& m : metric_row) {
    a.variants.push_back({m.n, m.n});
    a.unique_users += m.n;
  }
  a.totals.push_back(metric_row);
  a.latest_exposure_ms = latest_exposure_ms;
  return a;
}

const MonitorEvaluation& Get(const std::vector<MonitorEvaluation>& all, const std::string& name) {
  for (const MonitorEvaluation& e : all) {
    if (e.monitor == name) return e;
  }
  FAIL("no monitor " << name);
  return all.front();
}

std::vector<MonitorState> States(const std::vector<MonitorEvaluation>& all) {
  std::vector<MonitorState> out;
  for (const MonitorEvaluation& e : all) out.push_back(e.state);
  return out;
}

TEST_CASE("the default monitor configuration is valid and each bad field is named",
          "[app][monitors]") {
  const ExperimentMonitorConfig ok;
  CHECK(ValidateMonitorConfig(ok).ok());
  CHECK(ok.interval_ms == 5 * kMin);
  auto field = [](void (*change)(ExperimentMonitorConfig*)) {
    ExperimentMonitorConfig c;
    change(&c);
    const Status s = ValidateMonitorConfig(c);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    return s.field();
  };
  CHECK(field([](auto* c) { c->interval_ms = 1000; }) == "interval_ms");
  CHECK(field([](auto* c) { c->srm.alpha = 0; }) == "srm.alpha");
  CHECK(field([](auto* c) { c->srm.alpha = 1; }) == "srm.alpha");
  CHECK(field([](auto* c) { c->srm.concentration = -1; }) == "srm.concentration");
  CHECK(field([](auto* c) { c->srm.min_users = -1; }) == "srm.min_users");
  CHECK(field([](auto* c) { c->guardrail.alpha = 0.5; }) == "guardrail.alpha");
  CHECK(field([](auto* c) { c->guardrail.expected_n = 0; }) == "guardrail.expected_n");
  CHECK(field([](auto* c) { c->guardrail.min_users_per_variant = 1; }) ==
        "guardrail.min_users_per_variant");
  CHECK(field([](auto* c) { c->no_traffic.window_ms = 0; }) == "no_traffic.window_ms");
  CHECK(field([](auto* c) { c->multi_exposure.threshold = 0; }) == "multi_exposure.threshold");
  CHECK(field([](auto* c) { c->multi_exposure.min_users = 0; }) == "multi_exposure.min_users");
  CHECK(field([](auto* c) { c->srm.for_ms = -1; }) == "srm.for_ms");
  CHECK(field([](auto* c) { c->guardrail.for_ms = -1; }) == "guardrail.for_ms");
  CHECK(field([](auto* c) { c->no_traffic.for_ms = -1; }) == "no_traffic.for_ms");
  CHECK(field([](auto* c) { c->multi_exposure.for_ms = -1; }) == "multi_exposure.for_ms");

  // An invalid configuration evaluates nothing and keeps the previous states.
  ExperimentMonitorConfig bad;
  bad.srm.alpha = 2;
  const MonitorState firing{"no_traffic", AlertStateKind::kFiring, kT0 - kMin};
  const auto all = EvaluateExperimentMonitors(bad, Running(), {}, Aggregates({}), {firing}, kT0);
  REQUIRE(all.size() == 3);  // srm, no_traffic, multi_exposure
  for (const auto& e : all) {
    CHECK_FALSE(e.evaluated);
    CHECK(e.reason.find("srm.alpha") != std::string::npos);
    CHECK_FALSE(e.transition);
  }
  CHECK(Get(all, "no_traffic").state.state == AlertStateKind::kFiring);
}

TEST_CASE("every transition of the monitor state machine", "[app][monitors]") {
  using K = AlertStateKind;
  struct Row {
    K from;
    int64_t since;
    bool condition;
    int64_t for_ms;
    K to;
  };
  const int64_t t = kT0;
  const std::vector<Row> rows = {
      {K::kInactive, 0, false, 0, K::kInactive},
      {K::kInactive, 0, true, 0, K::kFiring},
      {K::kInactive, 0, true, 10 * kMin, K::kPending},
      {K::kPending, t - 5 * kMin, true, 10 * kMin, K::kPending},
      {K::kPending, t - 10 * kMin, true, 10 * kMin, K::kFiring},
      {K::kPending, t - 5 * kMin, false, 10 * kMin, K::kInactive},
      {K::kFiring, t - kMin, true, 0, K::kFiring},
      {K::kFiring, t - kMin, false, 0, K::kResolved},
      {K::kResolved, t - kMin, false, 0, K::kInactive},
      {K::kResolved, t - kMin, true, 0, K::kFiring},
      {K::kResolved, t - kMin, true, 10 * kMin, K::kPending},
  };
  for (const Row& r : rows) {
    CAPTURE(AlertStateName(r.from), r.condition, r.for_ms);
    std::optional<MonitorTransition> tr;
    const MonitorState next =
        NextMonitorState({"srm", r.from, r.since}, r.condition, r.for_ms, t, &tr);
    CHECK(next.state == r.to);
    CHECK(next.monitor == "srm");
    if (r.to == r.from) {
      CHECK_FALSE(tr);
      CHECK(next.since_ms == r.since);
    } else {
      REQUIRE(tr);
      CHECK(tr->from == r.from);
      CHECK(tr->to == r.to);
      CHECK(tr->at_ms == t);
      CHECK(next.since_ms == t);
    }
  }
}

TEST_CASE("the guardrail test matches the reference script", "[app][monitors]") {
  const nlohmann::json ref = Fixture("guardrail_monitor.json");
  REQUIRE(ref.at("cases").size() == 60);
  int index = 0, harms = 0;
  for (const auto& c : ref.at("cases")) {
    CAPTURE(index++, c.at("type").get<std::string>());
    const std::string type = c.at("type");
    const MetricType t = type == "binomial" ? MetricType::kBinomial
                         : type == "mean"   ? MetricType::kMean
                                            : MetricType::kRatio;
    auto moments = [&](const nlohmann::json& a) {
      const double sy = a.at("sum_y"), sd = a.at("sum_d"), syy = a.at("sum_yy"),
                   syd = a.at("sum_yd"), sdd = a.at("sum_dd");
      return Moments(a.at("n"), sy, t == MetricType::kRatio ? sd : 0, syy,
                     t == MetricType::kRatio ? syd : 0, t == MetricType::kRatio ? sdd : 0);
    };
    const MetricDefinition m = Metric("g", t, c.at("higher_is_better"));
    Experiment x = Running();
    const double margin = c.at("margin");
    x.guardrail_metrics = {{"g", margin > 0 ? std::optional<double>(margin) : std::nullopt}};
    ExperimentMonitorConfig config;
    config.guardrail.alpha = c.at("alpha");
    config.guardrail.expected_n = c.at("expected_n");
    config.guardrail.min_users_per_variant = 2;
    const auto all = EvaluateExperimentMonitors(
        config, x, {m}, Aggregates({moments(c.at("control")), moments(c.at("treatment"))}), {},
        kT0);
    const MonitorEvaluation& e = Get(all, "guardrail:g");
    REQUIRE(e.evaluated);
    CHECK(e.reason.empty());
    const MonitorStatistic& s = e.statistic;
    CHECK(s.estimate == Approx(c.at("relative").get<double>()).epsilon(1e-9).margin(1e-12));
    CHECK(s.std_error == Approx(c.at("relative_std_error").get<double>()).epsilon(1e-9));
    CHECK(s.p_value == Approx(c.at("p_value").get<double>()).epsilon(1e-9).margin(1e-14));
    const double sign = c.at("higher_is_better").get<bool>() ? 1.0 : -1.0;
    CHECK(s.bound == Approx(sign * c.at("bound").get<double>()).epsilon(1e-9).margin(1e-12));
    CHECK(s.margin == Approx(-sign * margin));
    CHECK(e.condition == c.at("harm").get<bool>());
    CHECK(s.variant == "t1");
    harms += e.condition;
    // TestGuardrailHarm alone gives the same.
    const GuardrailHarmTest h = TestGuardrailHarm(
        c.at("relative"), c.at("relative_std_error"), static_cast<double>(s.users),
        c.at("higher_is_better"), margin, c.at("alpha"), c.at("expected_n"));
    CHECK(h.rho == Approx(c.at("rho").get<double>()).epsilon(1e-12));
    CHECK(h.harm == c.at("harm").get<bool>());
  }
  CHECK(harms > 3);
  CHECK(harms < 50);
}

TEST_CASE("a guardrail fires on harm beyond the margin, not within it", "[app][monitors]") {
  Experiment x = Running(3);
  x.guardrail_metrics = {{"revenue_ok", 0.05}, {"errors", std::nullopt}};
  const MetricDefinition ok = Metric("revenue_ok", MetricType::kBinomial);
  const MetricDefinition errors =
      Metric("errors", MetricType::kBinomial, /*higher_is_better=*/false);
  store::ReportAggregates a =
      Aggregates({Binomial(50000, 5000), Binomial(50000, 4900), Binomial(50000, 4000)});
  // errors: treatment t1 has many more (harm on a lower-is-better metric).
  a.totals.push_back({Binomial(50000, 1000), Binomial(50000, 1400), Binomial(50000, 1000)});
  const ExperimentMonitorConfig config;
  auto all = EvaluateExperimentMonitors(config, x, {ok, errors}, a, {}, kT0);
  const MonitorEvaluation& r = Get(all, "guardrail:revenue_ok");
  // t2 is 20 % worse (margin 5 %): harm; t1 2 % worse: within the margin.
  CHECK(r.condition);
  CHECK(r.statistic.variant == "t2");
  CHECK(r.statistic.estimate == Approx(-0.2));
  CHECK(r.statistic.bound < -0.05);
  CHECK(r.statistic.margin == Approx(-0.05));
  CHECK(r.state.state == AlertStateKind::kFiring);
  REQUIRE(r.transition);
  CHECK(r.transition->from == AlertStateKind::kInactive);
  const MonitorEvaluation& e = Get(all, "guardrail:errors");
  CHECK(e.condition);
  CHECK(e.statistic.variant == "t1");
  CHECK(e.statistic.estimate == Approx(0.4));
  CHECK(e.statistic.bound > 0.0);  // the lower end of the relative increase
  CHECK(e.statistic.margin == 0.0);

  // Only 2 % worse everywhere: no harm beyond 5 %.
  a.totals[0] = {Binomial(50000, 5000), Binomial(50000, 4900), Binomial(50000, 4900)};
  all = EvaluateExperimentMonitors(config, x, {ok, errors}, a, States(all), kT0 + 5 * kMin);
  const MonitorEvaluation& r2 = Get(all, "guardrail:revenue_ok");
  CHECK_FALSE(r2.condition);
  CHECK(r2.state.state == AlertStateKind::kResolved);

  // Too few users: not enough data, the condition does not hold.
  a.totals[0] = {Binomial(50, 5), Binomial(50, 0), Binomial(50, 0)};
  all = EvaluateExperimentMonitors(config, x, {ok}, a, {}, kT0);
  CHECK(Get(all, "guardrail:revenue_ok").reason == "not enough data");
  CHECK_FALSE(Get(all, "guardrail:revenue_ok").condition);

  // Mean and ratio metrics go through their own comparisons.
  x.guardrail_metrics = {{"spend", 0.01}, {"per_visit", 0.01}};
  store::ReportAggregates b;
  b.variants = {{1000, 1000}, {1000, 1000}, {1000, 1000}};
  b.unique_users = 3000;
  // spend: mean 10 (sd ~ 5) against 8 and 10.
  b.totals.push_back({Moments(1000, 10000, 0, 125000, 0, 0), Moments(1000, 8000, 0, 89000, 0, 0),
                      Moments(1000, 10000, 0, 125000, 0, 0)});
  b.totals.push_back({Moments(1000, 10000, 5000, 125000, 52000, 27000),
                      Moments(1000, 10000, 5000, 125000, 52000, 27000),
                      Moments(1000, 10000, 5000, 125000, 52000, 27000)});
  all = EvaluateExperimentMonitors(
      config, x, {Metric("spend", MetricType::kMean), Metric("per_visit", MetricType::kRatio)}, b,
      {}, kT0);
  CHECK(Get(all, "guardrail:spend").condition);
  CHECK(Get(all, "guardrail:spend").statistic.estimate == Approx(-0.2));
  CHECK_FALSE(Get(all, "guardrail:per_visit").condition);
  CHECK(Get(all, "guardrail:per_visit").statistic.estimate == Approx(0.0).margin(1e-12));
}

TEST_CASE("sequential SRM: the Bayes factor of the analysed users against the weights",
          "[app][monitors]") {
  Experiment x = Running();
  x.variants[0].weight = 0.2;
  x.variants[1].weight = 0.8;
  const ExperimentMonitorConfig config;
  // 20/80 as configured: no SRM.
  auto all = EvaluateExperimentMonitors(
      config, x, {}, Aggregates({Binomial(2000, 0), Binomial(8000, 0)}), {}, kT0);
  const MonitorEvaluation& ok = Get(all, "srm");
  REQUIRE(ok.evaluated);
  CHECK_FALSE(ok.condition);
  CHECK(ok.state.state == AlertStateKind::kInactive);
  CHECK(ok.statistic.counts == std::vector<int64_t>{2000, 8000});
  CHECK(ok.statistic.expected[0] == Approx(0.2));
  CHECK(ok.statistic.boundary == config.srm.alpha);
  // 25/75: an SRM; the numbers are stats::SequentialSrmBayesFactor's.
  all =
      EvaluateExperimentMonitors(config, x, {}, Aggregates({Binomial(2500, 0), Binomial(7500, 0)}),
                                 States(all), kT0 + 5 * kMin);
  const MonitorEvaluation& srm = Get(all, "srm");
  const auto ref = stats::SequentialSrmBayesFactor({{2500, 7500}, {0.2, 0.8}, 1e4, 1e-3});
  CHECK(srm.condition);
  CHECK(srm.statistic.estimate == Approx(ref.log_bayes_factor));
  CHECK(srm.statistic.e_value == Approx(ref.e_value));
  CHECK(srm.statistic.p_value == Approx(ref.p_value));
  CHECK(srm.statistic.p_value <= 1e-3);
  CHECK(srm.state.state == AlertStateKind::kFiring);
  REQUIRE(srm.transition);
  CHECK(srm.transition->at_ms == kT0 + 5 * kMin);
  // Without metrics, the users logged per variant are counted.
  store::ReportAggregates bare;
  bare.variants = {{3000, 2500}, {9000, 7500}};
  bare.unique_users = 10000;
  all = EvaluateExperimentMonitors(config, x, {}, bare, {}, kT0);
  CHECK(Get(all, "srm").statistic.counts == std::vector<int64_t>{2500, 7500});
  CHECK(Get(all, "srm").condition);
  // Below min_users: not enough data.
  all = EvaluateExperimentMonitors(config, x, {}, Aggregates({Binomial(10, 0), Binomial(80, 0)}),
                                   {}, kT0);
  CHECK(Get(all, "srm").reason == "not enough data");
  CHECK_FALSE(Get(all, "srm").condition);
  // A variant of weight 0 cannot be tested.
  x.variants[0].weight = 0.0;
  x.variants[1].weight = 1.0;
  all = EvaluateExperimentMonitors(config, x, {}, Aggregates({Binomial(0, 0), Binomial(8000, 0)}),
                                   {}, kT0);
  CHECK_FALSE(Get(all, "srm").evaluated);
  CHECK(Get(all, "srm").reason == "a variant has weight 0");
}

TEST_CASE("no traffic: no exposure for the window while running", "[app][monitors]") {
  Experiment x = Running();
  ExperimentMonitorConfig config;
  config.srm.enabled = false;
  config.multi_exposure.enabled = false;
  const int64_t last = kT0 - 30 * kMin;
  auto at = [&](int64_t as_of, const std::vector<MonitorState>& prev, int64_t latest) {
    return EvaluateExperimentMonitors(config, x, {}, Aggregates({}, latest), prev, as_of);
  };
  auto all = at(kT0, {}, last);
  REQUIRE(all.size() == 1);
  CHECK(all[0].monitor == "no_traffic");
  CHECK_FALSE(all[0].condition);
  CHECK(all[0].statistic.estimate == Approx(30));
  CHECK(all[0].statistic.boundary == Approx(60));
  CHECK(all[0].statistic.last_exposure_ms == last);
  all = at(last + 60 * kMin, States(all), last);
  CHECK(all[0].condition);
  CHECK(all[0].state.state == AlertStateKind::kFiring);
  REQUIRE(all[0].transition);
  // Traffic again: resolved, then inactive.
  all = at(last + 65 * kMin, States(all), last + 63 * kMin);
  CHECK(all[0].state.state == AlertStateKind::kResolved);
  all = at(last + 70 * kMin, States(all), last + 69 * kMin);
  CHECK(all[0].state.state == AlertStateKind::kInactive);
  // Never any exposure: the clock starts at the latest of the phase start and the
  // last configuration change (starting it is one).
  x.updated_ms = kT0;
  all = at(kT0 + 59 * kMin, {}, 0);
  CHECK_FALSE(all[0].condition);
  all = at(kT0 + 60 * kMin, {}, 0);
  CHECK(all[0].condition);
  CHECK(all[0].statistic.last_exposure_ms == 0);
  // with `for`: pending first.
  config.no_traffic.for_ms = 10 * kMin;
  all = at(kT0 + 60 * kMin, {}, 0);
  CHECK(all[0].state.state == AlertStateKind::kPending);
  all = at(kT0 + 70 * kMin, States(all), 0);
  CHECK(all[0].state.state == AlertStateKind::kFiring);
}

TEST_CASE("multi-exposure rate above its threshold with enough such users", "[app][monitors]") {
  ExperimentMonitorConfig config;
  config.srm.enabled = config.no_traffic.enabled = false;
  store::ReportAggregates a;
  a.variants = {{0, 0}, {0, 0}};
  auto eval = [&](int64_t users, int64_t multi) {
    a.unique_users = users;
    a.multi_variant_users = multi;
    return EvaluateExperimentMonitors(config, Running(), {}, a, {}, kT0).at(0);
  };
  CHECK(eval(0, 0).reason == "not enough data");
  CHECK_FALSE(eval(1000, 40).condition);  // 4 % but only 40 users
  CHECK(eval(1000, 40).reason == "not enough data");
  CHECK(eval(1000, 40).statistic.estimate == Approx(0.04));
  CHECK_FALSE(eval(10000, 60).condition);  // 0.6 %: below 1 %
  CHECK(eval(10000, 60).reason.empty());
  CHECK(eval(5000, 60).condition);  // 1.2 %
  CHECK(eval(5000, 60).statistic.multi_variant_users == 60);
  CHECK(eval(5000, 60).state.state == AlertStateKind::kFiring);
}

TEST_CASE("an experiment that is not running keeps its monitors' states", "[app][monitors]") {
  Experiment x = Running();
  x.status = assign::ExperimentStatus::kStopped;
  const std::vector<MonitorState> prev = {{"srm", AlertStateKind::kFiring, kT0 - kMin}};
  const auto all = EvaluateExperimentMonitors(
      {}, x, {}, Aggregates({Binomial(10, 0), Binomial(9000, 0)}), prev, kT0);
  REQUIRE(all.size() == 3);
  for (const MonitorEvaluation& e : all) {
    CHECK_FALSE(e.evaluated);
    CHECK(e.reason == "not running");
    CHECK_FALSE(e.transition);
  }
  CHECK(Get(all, "srm").state.state == AlertStateKind::kFiring);
  CHECK(Get(all, "srm").state.since_ms == kT0 - kMin);
  CHECK(Get(all, "no_traffic").state.state == AlertStateKind::kInactive);
  CHECK(MonitorKindName(MonitorKind::kMultiExposure) == std::string("multi_exposure"));
}

TEST_CASE("monitors evaluated from stored events as of a time (SQLite)", "[app][monitors]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway-monitors-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = store::OpenSqliteStore((dir / "db.sqlite").string(), nullptr);
  REQUIRE(store);
  Experiment x = Running();
  x.guardrail_metrics = {{"buy", 0.01}};
  const MetricDefinition buy = Metric("buy", MetricType::kBinomial);
  // 3 hours of traffic at one user a minute (alternating variants, so no SRM),
  // then 2 hours without any; half the users buy in control, none in treatment.
  std::vector<store::Event> events;
  for (int i = 0; i < 180; ++i) {
    store::Event e;
    e.type = store::EventType::kExposure;
    e.id = "x" + std::to_string(i);
    e.user = "u" + std::to_string(i);
    e.experiment = "checkout";
    e.variant = i % 2 == 0 ? "control" : "t1";
    e.ts_ms = kT0 + i * kMin;
    events.push_back(e);
    if (i % 2 == 0 && i % 4 == 0) {
      store::Event c;
      c.type = store::EventType::kConversion;
      c.id = "c" + std::to_string(i);
      c.user = e.user;
      c.name = "buy";
      c.ts_ms = e.ts_ms + 1000;
      events.push_back(c);
    }
  }
  REQUIRE(store->WriteEventBatches({&events})[0].status.ok());
  ExperimentMonitorConfig config;
  config.guardrail.min_users_per_variant = 20;
  config.srm.min_users = 20;
  x.updated_ms = kT0;
  std::vector<MonitorState> states;
  std::vector<std::pair<std::string, MonitorTransition>> transitions;
  for (int64_t t = kT0 + 5 * kMin; t <= kT0 + 300 * kMin; t += 5 * kMin) {
    const store::ReportQuery q = MonitorQuery(x, {buy}, t);
    CHECK(q.until_ms == t);
    auto agg = store->AggregateReport(q);
    REQUIRE(agg.ok());
    const auto all = EvaluateExperimentMonitors(config, x, {buy}, *agg, states, t);
    for (const auto& e : all) {
      if (e.transition) transitions.emplace_back(e.monitor, *e.transition);
    }
    states = States(all);
    if (t == kT0 + 175 * kMin) {
      const auto& g = Get(all, "guardrail:buy");
      INFO(g.reason << " est " << g.statistic.estimate << " se " << g.statistic.std_error << " p "
                    << g.statistic.p_value << " bound " << g.statistic.bound << " n "
                    << g.statistic.users);
      CHECK(g.condition);
    }
    if (t == kT0 + 60 * kMin) {
      // As of one hour: 60 users, exposures before as_of only.
      CHECK(Get(all, "srm").statistic.counts == std::vector<int64_t>{30, 30});
      CHECK(Get(all, "no_traffic").statistic.last_exposure_ms == kT0 + 59 * kMin);
    }
  }
  // The guardrail fires once enough users show the harm; no traffic fires one
  // hour after the last exposure (kT0 + 179 min), i.e. at the first look at or
  // after kT0 + 239 min; SRM and multi-exposure never.
  std::map<std::string, int64_t> first_firing;
  for (const auto& [monitor, tr] : transitions) {
    CHECK(monitor != "srm");
    CHECK(monitor != "multi_exposure");
    if (tr.to == AlertStateKind::kFiring && !first_firing.count(monitor))
      first_firing[monitor] = tr.at_ms;
  }
  REQUIRE(first_firing.count("no_traffic"));
  CHECK(first_firing["no_traffic"] == kT0 + 240 * kMin);
  REQUIRE(first_firing.count("guardrail:buy"));
  CHECK(first_firing["guardrail:buy"] < kT0 + 180 * kMin);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace causeway::app
