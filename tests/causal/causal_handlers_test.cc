// Endpoint logic for /v1/analyses/did and /v1/analyses/lift: parsing, validation with
// named fields, and that mpdta posted as is (CSV and JSON) gives the reference estimates.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "api/causal_handlers.h"
#include "test_data.h"

namespace causeway::api {
namespace {

using causal::testing::ReadReference;
using causal::testing::RelativeError;

std::string MpdtaCsv() {
  std::ifstream in(CAUSEWAY_DATA_DIR "/mpdta/mpdta.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::map<std::string, std::string> kMpdtaColumns = {{"unit", "countyreal"},
                                                          {"time", "year"},
                                                          {"outcome", "lemp"},
                                                          {"treatment_start", "first.treat"},
                                                          {"never_treated_value", "0"}};

TEST_CASE("mpdta.csv posted as is gives the R TWFE estimate", "[causal][api]") {
  const auto r = ReadReference("r_reference.txt");
  auto q = kMpdtaColumns;
  q["method"] = "twfe";
  HandlerResult res = HandleDid("text/csv; charset=utf-8", MpdtaCsv(), q);
  REQUIRE(res.ok());
  const Json& b = res.body();
  CHECK(RelativeError(b["estimate"].get<double>(), r.at("mpdta.twfe.estimate")) < 1e-8);
  CHECK(RelativeError(b["se"].get<double>(), r.at("mpdta.twfe.se")) < 1e-6);
  CHECK(b["units"] == 500);
  CHECK(b["clusters"] == 500);
  CHECK(b["df"] == 499);
  CHECK(b["ci"]["lower"].get<double>() < b["estimate"].get<double>());
  bool staggered = false;
  for (const auto& w : b["warnings"]) staggered |= (w["code"] == "staggered_timing");
  CHECK(staggered);
}

// mpdta with its county ids rewritten as labels ("county-8001"); when `from` > 0 only
// ids >= from are rewritten, so the column mixes integers and labels.
std::string LabelledMpdta(long from) {
  std::stringstream in(MpdtaCsv()), out;
  std::string line;
  std::getline(in, line);
  out << line << "\n";
  while (std::getline(in, line)) {
    size_t a = line.find(','), b = line.find(',', a + 1);
    std::string id = line.substr(a + 1, b - a - 1);
    if (std::stol(id) >= from) id = "county-" + id;
    out << line.substr(0, a + 1) << id << line.substr(b) << "\n";
  }
  return out.str();
}

TEST_CASE("CSV unit ids may be labels, or integers then labels", "[causal][api]") {
  auto q = kMpdtaColumns;
  q["method"] = "twfe";
  HandlerResult ints = HandleDid("text/csv", MpdtaCsv(), q);
  REQUIRE(ints.ok());
  for (long from : {0L, 30000L}) {
    HandlerResult labels = HandleDid("text/csv", LabelledMpdta(from), q);
    INFO(from);
    REQUIRE(labels.ok());
    CHECK(labels.body()["estimate"] == ints.body()["estimate"]);
    CHECK(labels.body()["se"] == ints.body()["se"]);
    CHECK(labels.body()["units"] == 500);
  }
  // Errors name the label as sent.
  std::string dup = "unit,time,outcome,treatment_start\ngeo-a,1,1,\ngeo-a,1,2,\ngeo-b,1,1,2\n";
  HandlerResult bad = HandleDid("text/csv", dup, {{"method", "twfe"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("'geo-a'") != std::string::npos);
}

TEST_CASE("CSV Callaway-Sant'Anna and event study return their series", "[causal][api]") {
  const auto cs = ReadReference("cs_reference.txt");
  auto q = kMpdtaColumns;
  q["method"] = "callaway_santanna";
  HandlerResult res = HandleDid("text/csv", MpdtaCsv(), q);
  REQUIRE(res.ok());
  CHECK(RelativeError(res.body()["estimate"].get<double>(), cs.at("never.group.estimate")) < 1e-10);
  CHECK(res.body()["group_time"].size() == 12);
  CHECK(res.body()["event_time"].size() == 7);
  CHECK(res.body()["df"].is_null());  // normal inference
  q["method"] = "event_study";
  q["min_event_time"] = "-3";
  HandlerResult es = HandleDid("text/csv", MpdtaCsv(), q);
  REQUIRE(es.ok());
  CHECK(es.body()["event_time"].size() == 7);  // -3(binned) .. 3
  CHECK(es.body()["event_time"][0]["event_time"] == -3);
  CHECK(es.body().contains("pretrend_test"));
}

TEST_CASE("JSON rows with 2x2 flags and string unit ids", "[causal][api]") {
  Json rows = Json::array();
  const double y[4][2] = {{1, 2}, {1.5, 2.1}, {2, 4}, {2.2, 4.5}};
  for (int u = 0; u < 4; ++u) {
    for (int t = 0; t < 2; ++t) {
      rows.push_back({{"store", "s" + std::to_string(u)},
                      {"week", t},
                      {"sales", y[u][t]},
                      {"treated", u >= 2},
                      {"post", t}});
    }
  }
  Json req = {{"method", "2x2"},
              {"columns", {{"unit", "store"}, {"time", "week"}, {"outcome", "sales"}}},
              {"rows", rows}};
  HandlerResult res = HandleDid("application/json", req.dump(), {});
  REQUIRE(res.ok());
  // (mean(4,4.5)-mean(2,2.2)) - (mean(2,2.1)-mean(1,1.5)) = 2.15 - 0.8
  CHECK(res.body()["estimate"].get<double>() == Approx(1.35).epsilon(1e-12));
  CHECK(res.body()["cells"]["treated_post"].get<double>() == Approx(4.25));
  bool few = false;
  for (const auto& w : res.body()["warnings"]) few |= (w["code"] == "few_clusters");
  CHECK(few);

  rows[5]["week"] = 0;  // s2 now has two week-0 rows
  req["rows"] = rows;
  HandlerResult dup = HandleDid("application/json", req.dump(), {});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().field() == "panel");
  CHECK(dup.error().message() == "duplicate (unit, time) row: unit 's2', time 0");
}

struct BadRequest {
  const char* name;
  std::string body;
  const char* field;
  const char* message_part;
};

TEST_CASE("Bad DiD requests are 400s naming the field", "[causal][api]") {
  const std::string rows =
      R"([{"unit":1,"time":1,"outcome":1,"treatment_start":2},{"unit":1,"time":2,"outcome":2,"treatment_start":2},
          {"unit":2,"time":1,"outcome":1},{"unit":2,"time":2,"outcome":1.5}])";
  const BadRequest cases[] = {
      {"no method", R"({"rows":[]})", "method", "required"},
      {"bad method", R"({"method":"ols","rows":[]})", "method", "unknown method"},
      {"not json", "{", "body", "not a JSON object"},
      {"no rows", R"({"method":"twfe","rows":[]})", "rows", "non-empty"},
      {"text outcome", R"({"method":"twfe","rows":[{"unit":1,"time":1,"outcome":"abc"}]})",
       "rows[0].outcome", "not a number"},
      {"missing time", R"({"method":"twfe","rows":[{"unit":1,"outcome":1}]})", "rows[0].time",
       "missing"},
      {"bad control group",
       R"({"method":"callaway_santanna","control_group":"x","rows":)" + rows + "}", "control_group",
       "not_yet_treated"},
      {"bad confidence", R"({"method":"twfe","confidence":2,"rows":)" + rows + "}", "options",
       "confidence"},
      {"no control",
       R"({"method":"twfe","rows":[{"unit":1,"time":1,"outcome":1,"treatment_start":2},{"unit":1,"time":2,"outcome":2,"treatment_start":2}]})",
       "panel", "no control unit"},
  };
  for (const BadRequest& c : cases) {
    INFO(c.name);
    HandlerResult res = HandleDid("application/json", c.body, {});
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == causeway::StatusCode::kInvalidArgument);
    CHECK(res.error().field() == c.field);
    CHECK_THAT(res.error().message(), Catch::Contains(c.message_part));
  }
  HandlerResult media = HandleDid("application/xml", "<x/>", {});
  REQUIRE_FALSE(media.ok());
  CHECK(media.error().code() == causeway::StatusCode::kUnsupportedMediaType);
}

TEST_CASE("Bad CSV panels name the row and column", "[causal][api]") {
  std::map<std::string, std::string> q = {{"method", "twfe"}};
  auto text = HandleDid("text/csv", "unit,time,outcome,treatment_start\n1,1,2.0,2\n1,2,x,2\n", q);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().field() == "rows[1].outcome");
  CHECK_THAT(text.error().message(), Catch::Contains("CSV line 3"));
  auto header = HandleDid("text/csv", "u,time,outcome\n1,1,2\n", q);
  REQUIRE_FALSE(header.ok());
  CHECK(header.error().field() == "columns");
  auto dup = HandleDid(
      "text/csv", "unit,time,outcome,treatment_start\n8001,2004,1,\n8001,2004,2,\n9,2004,1,2005\n",
      q);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message() == "duplicate (unit, time) row: unit 8001, time 2004");
  auto quoted =
      HandleDid("text/csv",
                "\"unit\",\"time\",\"outcome\",\"treatment_start\"\r\n1,1,1,\"2\"\r\n1,2,3,2\r\n"
                "2,1,1,\r\n2,2,1.5,\r\n3,1,0,\r\n3,2,0.2,\r\n",
                q);
  REQUIRE(quoted.ok());
  CHECK(quoted.body()["estimate"].get<double>() == Approx(2 - 0.35).epsilon(1e-12));
}

TEST_CASE("Lift from aggregate inputs", "[causal][api]") {
  const auto r = ReadReference("lift_reference.txt");
  Json body = {{"spend", r.at("strong.spend")}, {"reach", r.at("strong.reach")}};
  for (const std::string g : {"test", "holdout"}) {
    body[g] = {{"users", r.at("strong." + g + ".users")},
               {"conversions", r.at("strong." + g + ".conversions")},
               {"revenue", r.at("strong." + g + ".revenue")},
               {"revenue_sum_squares", r.at("strong." + g + ".revenue_sum_squares")}};
  }
  HandlerResult res = HandleLiftAggregate(body);
  REQUIRE(res.ok());
  const Json& b = res.body();
  CHECK(RelativeError(b["relative_lift"]["estimate"].get<double>(),
                      r.at("strong.relative_lift.estimate")) < 1e-9);
  CHECK(RelativeError(b["iroas"]["estimate"].get<double>(), r.at("strong.iroas.estimate")) < 1e-9);
  CHECK(RelativeError(b["cost_per_incremental_conversion"]["ci"]["upper"].get<double>(),
                      r.at("strong.cpic.ci_upper")) < 1e-9);
  CHECK(b["treatment_on_treated"]["reach"] == r.at("strong.reach"));

  body["holdout"].erase("users");
  HandlerResult bad = HandleLiftAggregate(body);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().field() == "holdout.users");
  body["holdout"]["users"] = 10;
  HandlerResult impossible = HandleLiftAggregate(body);
  REQUIRE_FALSE(impossible.ok());
  CHECK(impossible.error().field() == "holdout.conversions");
}

}  // namespace
}  // namespace causeway::api
