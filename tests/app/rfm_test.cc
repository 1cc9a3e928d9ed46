// RFM scoring (app/rfm.h) against the R package `rfm` run on its own data set
// (tests/reference/app/rfm_reference.R -> rfm_reference.json; cross-checked by
// rfm_check.py) and the package's own test (tests/testthat/test-rfm-segment.R:
// 158 Champions with 1 234 orders and 120 178 revenue).
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "app/rfm.h"

namespace causeway::app {
namespace {

const std::string kDir = std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/app/";

// Days since 1970-01-01 of a YYYY-MM-DD date (proleptic Gregorian; H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Customer {
  int64_t last_day = INT64_MIN;
  int64_t orders = 0;
  double revenue = 0.0;
};

std::map<std::string, Customer> LoadOrders() {
  std::ifstream in(kDir + "rfm_data_orders.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);  // header
  std::map<std::string, Customer> customers;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string id, date, revenue;
    std::getline(row, id, ',');
    std::getline(row, date, ',');
    std::getline(row, revenue, ',');
    Customer& c = customers[id];
    const int64_t day = DaysFromCivil(std::stoi(date.substr(0, 4)), std::stoi(date.substr(5, 2)),
                                      std::stoi(date.substr(8, 2)));
    c.last_day = std::max(c.last_day, day);
    ++c.orders;
    c.revenue += std::stod(revenue);
  }
  return customers;
}

TEST_CASE("RFM scores and segments match the R package rfm", "[app][rfm]") {
  const auto customers = LoadOrders();
  std::ifstream ref_in(kDir + "rfm_reference.json");
  REQUIRE(ref_in.good());
  const nlohmann::json ref = nlohmann::json::parse(ref_in);
  const int64_t analysis_day = DaysFromCivil(2006, 12, 31);

  std::vector<std::string> ids;
  std::vector<RfmInput> users;
  for (const auto& [id, c] : customers) {
    ids.push_back(id);
    users.push_back({true, static_cast<double>(analysis_day - c.last_day), c.orders, c.revenue});
  }
  // Users without history are not scored and do not move the quantiles.
  users.push_back({false, 0.0, 0, 0.0});
  RfmBreaks breaks;
  const std::vector<RfmTier> tiers = ScoreRfm(users, &breaks);
  REQUIRE(tiers.size() == users.size());
  CHECK(tiers.back().segment == RfmSegment::kNoHistory);
  CHECK(tiers.back().recency_score == 0);

  // Breaks to 1e-12 relative (R and we compute (1 - h) x_lo + h x_hi the same way).
  for (int k = 0; k < 4; ++k) {
    CHECK(breaks.recency[k] == Approx(ref["breaks"]["recency"][k].get<double>()).epsilon(1e-12));
    CHECK(breaks.frequency[k] ==
          Approx(ref["breaks"]["frequency"][k].get<double>()).epsilon(1e-12));
    CHECK(breaks.monetary[k] == Approx(ref["breaks"]["monetary"][k].get<double>()).epsilon(1e-12));
  }
  // Every customer's scores and segment exactly.
  std::map<std::string, nlohmann::json> expected;
  for (const auto& c : ref["customers"]) expected[c["customer_id"]] = c;
  REQUIRE(expected.size() == ids.size());
  int mismatches = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const nlohmann::json& e = expected.at(ids[i]);
    const RfmTier& t = tiers[i];
    CHECK(users[i].recency_days == e["recency_days"].get<double>());
    const bool same = t.recency_score == e["r"].get<int>() &&
                      t.frequency_score == e["f"].get<int>() &&
                      t.monetary_score == e["m"].get<int>() &&
                      RfmSegmentName(t.segment) == e["segment"].get<std::string>();
    if (!same) {
      ++mismatches;
      UNSCOPED_INFO(ids[i] << ": ours " << t.recency_score << t.frequency_score << t.monetary_score
                           << " " << RfmSegmentName(t.segment) << ", R " << e.dump());
    }
  }
  CHECK(mismatches == 0);

  // The package's own test: Champions are 158 customers, 1 234 orders, 120 178 revenue.
  int64_t champions = 0, orders = 0;
  double revenue = 0.0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (tiers[i].segment != RfmSegment::kChampions) continue;
    ++champions;
    orders += users[i].frequency;
    revenue += users[i].monetary;
  }
  CHECK(champions == 158);
  CHECK(orders == 1234);
  CHECK(revenue == 120178.0);
}

TEST_CASE("RFM segment rules, ids and edge cases", "[app][rfm]") {
  // First match wins: 5/5/5 is a champion although loyal_customers also matches.
  CHECK(RfmSegmentOf(5, 5, 5) == RfmSegment::kChampions);
  CHECK(RfmSegmentOf(3, 4, 4) == RfmSegment::kLoyalCustomers);
  CHECK(RfmSegmentOf(5, 1, 1) == RfmSegment::kPotentialLoyalist);  // before new_customers
  CHECK(RfmSegmentOf(2, 2, 2) == RfmSegment::kNeedAttention);      // before lost
  CHECK(RfmSegmentOf(1, 5, 5) == RfmSegment::kAtRisk);             // before cant_lose_them
  CHECK(RfmSegmentOf(1, 1, 1) == RfmSegment::kLost);
  CHECK(RfmSegmentOf(5, 5, 1) == RfmSegment::kOthers);
  CHECK(RfmSegmentId(RfmSegment::kCantLoseThem) == "cant_lose_them");
  CHECK(RfmSegmentName(RfmSegment::kCantLoseThem) == "Can't Lose Them");
  CHECK(RfmSegmentId(RfmSegment::kNoHistory) == "no_history");

  // All values tied: every break is value + 1, so everyone is in the first bin.
  std::vector<RfmInput> tied(10, RfmInput{true, 3.0, 2, 10.0});
  for (const RfmTier& t : ScoreRfm(tied)) {
    CHECK(t.recency_score == 5);
    CHECK(t.frequency_score == 1);
    CHECK(t.monetary_score == 1);
    CHECK(t.segment == RfmSegment::kPotentialLoyalist);
  }
  // Nobody with history (or non-finite values): all no_history, NaN breaks.
  RfmBreaks b;
  const auto none = ScoreRfm({{false, 1, 1, 1}, {true, NAN, 1, 1}}, &b);
  CHECK(none[0].segment == RfmSegment::kNoHistory);
  CHECK(none[1].segment == RfmSegment::kNoHistory);
  CHECK(std::isnan(b.recency[0]));
  CHECK(ScoreRfm({}).empty());
}

TEST_CASE("RFM scoring of 1 M users is fast", "[app][rfm]") {
  std::vector<RfmInput> users(1000000);
  uint64_t s = 12345;
  for (auto& u : users) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    u.has_history = (s >> 60) != 0;
    u.recency_days = static_cast<double>((s >> 20) % 365);
    u.frequency = 1 + static_cast<int64_t>((s >> 40) % 20);
    u.monetary = static_cast<double>((s >> 8) % 100000) / 100.0;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto tiers = ScoreRfm(users);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("1 M users scored in " << seconds << " s");
  CHECK(tiers.size() == users.size());
  CHECK(seconds < 10.0);  // ~0.3 s in RelWithDebInfo on an idle core; catches O(n^2)
}

}  // namespace
}  // namespace causeway::app
