// Store::AggregateReport against a brute-force recomputation from the events
// themselves (per user, per day, by direct loops), and against the store's
// earlier per-metric SQL aggregates (MetricStats / RatioMetricStats).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "store/sqlite_store.h"
#include "store/store.h"

using namespace causeway::store;

namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT = 1'760'000'000'000 / kDay * kDay;  // a UTC midnight

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-agg-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(dir);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "test.db").string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

struct Data {
  std::vector<Event> events;
};

// 400 users over 10 days: exposures (some users twice, a few in both variants, a
// few in an unknown variant), "buy" events with values and "visit" events before
// and after exposure, and a country attribute on exposures.
Data MakeData(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Data d;
  int id = 0;
  auto add = [&](Event e) {
    e.id = "e" + std::to_string(id++);
    d.events.push_back(std::move(e));
  };
  static const char* kCountries[] = {"US", "DE", "FR", "GB", "IN"};
  for (int i = 0; i < 400; ++i) {
    const std::string user = "user" + std::to_string(i);
    const std::string variant = u(rng) < 0.5 ? "control" : "treatment";
    const int64_t t0 = kT + static_cast<int64_t>(u(rng) * 10 * kDay);
    Event x;
    x.type = EventType::kExposure;
    x.user = user;
    x.experiment = "exp";
    x.variant = variant;
    x.ts_ms = t0;
    x.attributes = std::string(R"({"country":")") + kCountries[rng() % 5] + "\"}";
    add(x);
    if (u(rng) < 0.2) {  // a later exposure, same variant, other attributes
      x.ts_ms = t0 + static_cast<int64_t>(u(rng) * 3 * kDay);
      x.attributes = R"({"country":"ZZ"})";
      add(x);
    }
    if (i % 50 == 7) {  // both variants
      x.variant = variant == "control" ? "treatment" : "control";
      x.ts_ms = t0 + 1000;
      add(x);
    }
    if (i % 97 == 3) {  // an unknown variant only
      d.events.back().variant = "ghost";
    }
    const int conversions = static_cast<int>(rng() % 6);
    for (int k = 0; k < conversions; ++k) {
      Event c;
      c.type = EventType::kConversion;
      c.user = user;
      c.name = u(rng) < 0.5 ? "buy" : "visit";
      c.value = c.name == "buy" ? std::round(u(rng) * 100) / 4 : 1.0;
      // From 9 days before to 6 days after the first exposure.
      c.ts_ms = t0 + static_cast<int64_t>((u(rng) * 15 - 9) * kDay);
      add(c);
    }
  }
  // Other users' conversions (not in the experiment) interleave in uid order.
  for (int i = 0; i < 50; ++i) {
    Event c;
    c.type = EventType::kConversion;
    c.user = "user" + std::to_string(i) + "x";
    c.name = "buy";
    c.value = 3;
    c.ts_ms = kT + i * 1000;
    add(c);
  }
  return d;
}

std::vector<AggregateMetric> Metrics() {
  return {
      {UserValue::kIndicator, "buy", std::nullopt, 3 * kDay, 7 * kDay},
      {UserValue::kSum, "buy", std::nullopt, 0, 7 * kDay},
      {UserValue::kCount, "visit", std::nullopt, 0, 0},
      {UserValue::kSum, "buy", std::string("visit"), 5 * kDay, 7 * kDay},
  };
}

ReportQuery Query() {
  ReportQuery q;
  q.experiment = "exp";
  q.variants = {"control", "treatment"};
  q.metrics = Metrics();
  return q;
}

// A fresh store holding MakeData(seed).
std::unique_ptr<Store> Filled(const TempDb& db, uint64_t seed) {
  auto store = OpenSqliteStore(db.path(), nullptr);
  REQUIRE(store);
  const Data data = MakeData(seed);
  REQUIRE(store->WriteEventBatches({&data.events})[0].status.ok());
  return store;
}

int64_t DayOf(int64_t ts) { return ts / kDay; }

// The four quantities of one user for one metric, counting events up to `until`
// (exclusive), by direct loops over the events.
std::array<double, 4> BruteForce(const AggregateMetric& m, const std::vector<Event>& user_events,
                                 int64_t t0, int64_t until) {
  std::array<double, 4> q{};
  const int64_t end = m.window_ms > 0 ? t0 + m.window_ms : INT64_MAX;
  double count = 0, sum = 0, pre_count = 0, pre_sum = 0, den = 0, pre_den = 0;
  for (const Event& e : user_events) {
    if (e.type != EventType::kConversion) continue;
    const bool post = e.ts_ms >= t0 && e.ts_ms < end && e.ts_ms < until;
    const bool pre = m.lookback_ms > 0 && e.ts_ms >= t0 - m.lookback_ms && e.ts_ms < t0;
    if (e.name == m.event) {
      if (post) count += 1, sum += e.value;
      if (pre) pre_count += 1, pre_sum += e.value;
    }
    if (m.denominator_event && e.name == *m.denominator_event) {
      if (post) den += e.value;
      if (pre) pre_den += e.value;
    }
  }
  switch (m.value) {
    case UserValue::kIndicator:
      q = {count > 0 ? 1.0 : 0.0, 0, pre_count > 0 ? 1.0 : 0.0, 0};
      break;
    case UserValue::kCount:
      q = {count, 0, pre_count, 0};
      break;
    case UserValue::kSum:
      q = {sum, den, pre_sum, pre_den};
      break;
  }
  if (m.lookback_ms == 0) q[2] = q[3] = 0;
  return q;
}

void CheckMoments(const UserMoments& got, const UserMoments& want) {
  CHECK(got.n == want.n);
  for (size_t i = 0; i < got.sum.size(); ++i) CHECK(got.sum[i] == Approx(want.sum[i]).margin(1e-9));
  for (size_t i = 0; i < got.cross.size(); ++i) {
    CHECK(got.cross[i] == Approx(want.cross[i]).margin(1e-9));
  }
}

}  // namespace

TEST_CASE("AggregateReport equals a brute-force recomputation, overall and day by day",
          "[store][report]") {
  TempDb db;
  auto store = OpenSqliteStore(db.path(), nullptr);
  REQUIRE(store);
  const Data data = MakeData(11);
  REQUIRE(store->WriteEventBatches({&data.events})[0].status.ok());

  ReportQuery q = Query();
  q.segment_attributes = {"country"};
  q.expected_variant = [](std::string_view user) { return user.back() % 2 == 0 ? 0 : 1; };
  q.is_override = [](std::string_view user) { return user == "user5"; };
  auto agg = store->AggregateReport(q);
  REQUIRE(agg.ok());

  // Brute force: group events by user.
  std::map<std::string, std::vector<Event>> by_user;
  for (const Event& e : data.events) by_user[e.user].push_back(e);
  std::vector<std::vector<UserMoments>> totals(4, std::vector<UserMoments>(2));
  std::map<std::string, std::vector<std::vector<UserMoments>>> by_country;
  int64_t multi = 0, unknown = 0, exposed = 0, wrong = 0, exposures = 0;
  std::vector<int64_t> before(4, 0);
  int64_t first_day = INT64_MAX, last_day = 0;
  struct Analysed {
    std::string user;
    size_t variant;
    int64_t t0;
  };
  std::vector<Analysed> analysed;
  for (auto& [user, events] : by_user) {
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.ts_ms < b.ts_ms; });
    std::set<std::string> variants;
    const Event* first = nullptr;
    for (const Event& e : events) {
      if (e.type != EventType::kExposure) continue;
      ++exposures;
      variants.insert(e.variant);
      if (!first) first = &e;
    }
    if (!first) continue;
    ++exposed;
    if (variants.size() > 1) {
      ++multi;
      continue;
    }
    if (*variants.begin() == "ghost") {
      ++unknown;
      continue;
    }
    const size_t v = first->variant == "control" ? 0 : 1;
    if (static_cast<int>(v) != (user.back() % 2 == 0 ? 0 : 1)) ++wrong;
    const int64_t t0 = first->ts_ms;
    analysed.push_back({user, v, t0});
    first_day = std::min(first_day, DayOf(t0));
    const std::string country = first->attributes.substr(12, 2);
    auto& seg = by_country[country];
    if (seg.empty()) seg.assign(4, std::vector<UserMoments>(2));
    for (size_t m = 0; m < 4; ++m) {
      const auto qv = BruteForce(q.metrics[m], events, t0, INT64_MAX);
      totals[m][v].AddUser(qv);
      seg[m][v].AddUser(qv);
      for (const Event& e : events) {
        if (e.type == EventType::kConversion && e.name == q.metrics[m].event && e.ts_ms < t0) {
          ++before[m];
        }
        if (e.type == EventType::kConversion && e.ts_ms >= t0) {
          last_day = std::max(last_day, DayOf(e.ts_ms));
        }
      }
    }
  }
  CHECK(agg->unique_users == exposed);
  CHECK(agg->total_exposures == exposures);
  CHECK(agg->multi_variant_users == multi);
  CHECK(agg->unknown_variant_users == unknown);
  CHECK(agg->wrong_variant_users == wrong);
  CHECK(agg->override_users == 1);
  CHECK(multi > 0);
  CHECK(unknown > 0);
  CHECK(agg->conversions_before_exposure == before);
  for (size_t m = 0; m < 4; ++m) {
    for (size_t v = 0; v < 2; ++v) CheckMoments(agg->totals[m][v], totals[m][v]);
  }

  // Segments: the first exposure's country; "ZZ" (only on later exposures) never appears.
  REQUIRE(agg->segments.size() == by_country.size());
  for (const SegmentAggregate& s : agg->segments) {
    INFO(s.label);
    REQUIRE(by_country.count(s.label) == 1);
    for (size_t m = 0; m < 4; ++m) {
      for (size_t v = 0; v < 2; ++v) CheckMoments(s.metrics[m][v], by_country[s.label][m][v]);
    }
  }

  // Day by day: the prefix sums through day d are the statistics of the users
  // exposed by the end of day d with their events up to then.
  CHECK(agg->first_day == first_day);
  REQUIRE(agg->first_day + static_cast<int64_t>(agg->daily.size()) - 1 >= last_day);
  std::vector<std::vector<UserMoments>> running(4, std::vector<UserMoments>(2));
  for (size_t d = 0; d < agg->daily.size(); ++d) {
    const int64_t day = agg->first_day + static_cast<int64_t>(d);
    const int64_t end_of_day = (day + 1) * kDay;
    std::vector<std::vector<UserMoments>> want(4, std::vector<UserMoments>(2));
    for (const Analysed& a : analysed) {
      if (a.t0 >= end_of_day) continue;
      for (size_t m = 0; m < 4; ++m) {
        want[m][a.variant].AddUser(BruteForce(q.metrics[m], by_user[a.user], a.t0, end_of_day));
      }
    }
    for (size_t m = 0; m < 4; ++m) {
      for (size_t v = 0; v < 2; ++v) {
        running[m][v].Add(agg->daily[d][m][v]);
        INFO("day " << d << " metric " << m << " variant " << v);
        CheckMoments(running[m][v], want[m][v]);
      }
    }
  }
}

TEST_CASE("AggregateReport agrees with the per-metric SQL aggregates", "[store][report]") {
  TempDb db;
  auto store = Filled(db, 12);
  ReportQuery q = Query();
  auto agg = store->AggregateReport(q);
  REQUIRE(agg.ok());
  auto binomial = store->MetricStats("exp", 0, "buy", 3 * kDay);
  auto visits = store->MetricStats("exp", 0, "visit", 0);
  auto ratio = store->RatioMetricStats("exp", 0, "buy", "visit", 5 * kDay);
  REQUIRE(binomial.ok());
  REQUIRE(visits.ok());
  REQUIRE(ratio.ok());
  for (size_t v = 0; v < 2; ++v) {
    const std::string variant = q.variants[v];
    for (const auto& row : *binomial) {
      if (row.variant != variant) continue;
      CHECK(agg->totals[0][v].n == row.users);
      CHECK(agg->totals[0][v].sum[0] == Approx(row.converted));
    }
    for (const auto& row : *visits) {
      if (row.variant != variant) continue;
      CHECK(agg->totals[2][v].sum[0] == Approx(row.conversions));
      CHECK(agg->totals[2][v].Cross(0, 0) == Approx(row.conversions_sum_squares));
    }
    for (const auto& row : *ratio) {
      if (row.variant != variant) continue;
      CHECK(agg->totals[3][v].sum[0] == Approx(row.numerator_sum));
      CHECK(agg->totals[3][v].sum[1] == Approx(row.denominator_sum));
      CHECK(agg->totals[3][v].Cross(0, 1) == Approx(row.numerator_denominator_sum_product));
      CHECK(agg->totals[3][v].Cross(1, 1) == Approx(row.denominator_sum_squares));
    }
  }
}

TEST_CASE("AggregateReport folds levels beyond the tracked maximum into other", "[store][report]") {
  TempDb db;
  auto store = Filled(db, 13);
  ReportQuery q;
  q.experiment = "exp";
  q.variants = {"control", "treatment"};
  q.metrics = {Metrics()[0]};
  q.segment_attributes = {"country", "missing"};
  q.max_tracked_levels = 2;
  q.single_threaded = true;  // each range tracks its own levels
  auto agg = store->AggregateReport(q);
  REQUIRE(agg.ok());
  REQUIRE(agg->segments.size() == 3);
  CHECK(agg->segments[2].label == "other");
  CHECK(agg->folded_levels == 3);
  CHECK(agg->segments[0].label.find(" / (none)") != std::string::npos);
  int64_t users = 0;
  for (const auto& s : agg->segments) users += s.users();
  CHECK(users == agg->totals[0][0].n + agg->totals[0][1].n);
}

TEST_CASE("AggregateReport on an experiment without exposures", "[store][report]") {
  TempDb db;
  auto store = OpenSqliteStore(db.path(), nullptr);
  REQUIRE(store);
  ReportQuery q;
  q.experiment = "nothing";
  q.variants = {"control", "treatment"};
  q.metrics = Metrics();
  auto agg = store->AggregateReport(q);
  REQUIRE(agg.ok());
  CHECK(agg->unique_users == 0);
  CHECK(agg->daily.empty());
  CHECK(agg->totals[0][0].n == 0);
}

TEST_CASE("AggregateReport gives the same answer in one thread and in ranges", "[store][report]") {
  TempDb db;
  auto store = Filled(db, 14);
  ReportQuery q = Query();
  q.segment_attributes = {"country"};
  auto split = store->AggregateReport(q);
  q.single_threaded = true;
  auto one = store->AggregateReport(q);
  REQUIRE(split.ok());
  REQUIRE(one.ok());
  CHECK(split->unique_users == one->unique_users);
  CHECK(split->multi_variant_users == one->multi_variant_users);
  CHECK(split->first_day == one->first_day);
  REQUIRE(split->daily.size() == one->daily.size());
  for (size_t m = 0; m < 4; ++m) {
    for (size_t v = 0; v < 2; ++v) {
      CheckMoments(split->totals[m][v], one->totals[m][v]);
      for (size_t d = 0; d < one->daily.size(); ++d) {
        CheckMoments(split->daily[d][m][v], one->daily[d][m][v]);
      }
    }
  }
  CHECK(split->segments.size() == one->segments.size());
}

TEST_CASE("FlatJsonValue reads a flat object as stored with exposures", "[store][report]") {
  const std::string j =
      R"({"country":"DE","n":3,"pro":true,"none":null,"q":"a\"b\\c","u":"\u00e9\ud83d\ude00"})";
  CHECK(FlatJsonValue(j, "country") == "DE");
  CHECK(FlatJsonValue(j, "n") == "3");
  CHECK(FlatJsonValue(j, "pro") == "true");
  CHECK_FALSE(FlatJsonValue(j, "none").has_value());
  CHECK_FALSE(FlatJsonValue(j, "absent").has_value());
  CHECK(FlatJsonValue(j, "q") == "a\"b\\c");
  CHECK(FlatJsonValue(j, "u") == "\xc3\xa9\xf0\x9f\x98\x80");
  CHECK_FALSE(FlatJsonValue("", "a").has_value());
  CHECK_FALSE(FlatJsonValue("{\"a\":", "a").has_value());
  CHECK_FALSE(FlatJsonValue("{\"a\":\"x", "a").has_value());
  CHECK_FALSE(FlatJsonValue("{\"a\":{\"b\":1}}", "a").has_value());
  CHECK(FlatJsonValue("{ \"a\" : 1.5 , \"b\" : \"x\" }", "b") == "x");
  CHECK(FlatJsonValue("{\"a\":1,\"a\":2}", "a") == "1");  // the first of repeated names
}

TEST_CASE("FlatJsonKeys lists a flat object's member names in order", "[store][report]") {
  using V = std::vector<std::string>;
  CHECK(FlatJsonKeys(R"({"country":"DE","n":3,"none":null,"q\"\u00e9":"x"})") ==
        V{"country", "n", "none", "q\"\xc3\xa9"});
  CHECK(FlatJsonKeys(" { \"a\" : 1.5 , \"b\" : \"x\" } ") == V{"a", "b"});
  CHECK(FlatJsonKeys("{}").empty());
  CHECK(FlatJsonKeys("").empty());
  CHECK(FlatJsonKeys("[1]").empty());
  CHECK(FlatJsonKeys(R"({"a":1,"b":{"c":2}})") == V{"a"});  // up to the malformed part
  CHECK(FlatJsonKeys(R"({"a":1,"b")") == V{"a"});
}

TEST_CASE("AggregateReport with until_ms reads the data as it stood then", "[store][report]") {
  // The query bounded by until_ms over all the events equals the unbounded query
  // over the events before until_ms only: exposures and conversions alike.
  const Data data = MakeData(13);
  for (const int64_t until : {kT + 4 * kDay + 3'600'000, kT + 9 * kDay, kT, kT + 30 * kDay}) {
    INFO("until " << until - kT);
    TempDb all_db, cut_db;
    auto all = OpenSqliteStore(all_db.path(), nullptr);
    auto cut = OpenSqliteStore(cut_db.path(), nullptr);
    REQUIRE(all);
    REQUIRE(cut);
    std::vector<Event> before;
    int64_t latest_exposure = 0;
    for (const Event& e : data.events) {
      if (e.ts_ms >= until) continue;
      before.push_back(e);
      if (e.type == EventType::kExposure) latest_exposure = std::max(latest_exposure, e.ts_ms);
    }
    REQUIRE(all->WriteEventBatches({&data.events})[0].status.ok());
    if (!before.empty()) REQUIRE(cut->WriteEventBatches({&before})[0].status.ok());
    ReportQuery bounded = Query();
    bounded.until_ms = until;
    bounded.segment_attributes = {"country"};
    ReportQuery unbounded = bounded;
    unbounded.until_ms = std::numeric_limits<int64_t>::max();
    for (const bool single : {true, false}) {
      bounded.single_threaded = unbounded.single_threaded = single;
      auto a = all->AggregateReport(bounded);
      auto b = cut->AggregateReport(unbounded);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(a->latest_exposure_ms == latest_exposure);
      CHECK(b->latest_exposure_ms == latest_exposure);
      CHECK(a->unique_users == b->unique_users);
      CHECK(a->total_exposures == b->total_exposures);
      CHECK(a->multi_variant_users == b->multi_variant_users);
      CHECK(a->latest_ms == b->latest_ms);
      CHECK(a->conversions_before_exposure == b->conversions_before_exposure);
      REQUIRE(a->variants.size() == b->variants.size());
      for (size_t v = 0; v < a->variants.size(); ++v) {
        CHECK(a->variants[v].users == b->variants[v].users);
        CHECK(a->variants[v].exposures == b->variants[v].exposures);
      }
      REQUIRE(a->totals.size() == b->totals.size());
      for (size_t m = 0; m < a->totals.size(); ++m) {
        for (size_t v = 0; v < 2; ++v) CheckMoments(a->totals[m][v], b->totals[m][v]);
      }
      CHECK(a->daily.size() == b->daily.size());
      CHECK(a->segments.size() == b->segments.size());
      if (until == kT) CHECK(a->unique_users == 0);
      if (until == kT + 30 * kDay) {
        auto c = all->AggregateReport(unbounded);
        REQUIRE(c.ok());
        CHECK(c->unique_users == a->unique_users);
      }
    }
  }
}
