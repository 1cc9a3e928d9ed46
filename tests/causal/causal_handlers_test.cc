// Endpoint logic for /v1/analyses/did and /v1/analyses/lift: parsing, validation with
// named fields, and that mpdta posted as is (CSV and JSON) gives the reference estimates.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "api/resources/analyses_did.h"
#include "test_data.h"

namespace causeway::api {
namespace {

using causal::testing::ReadReference;
using causal::testing::RelativeError;
using causeway::StatusCode;

std::string MpdtaCsv() {
  std::ifstream in(CAUSEWAY_DATA_DIR "/mpdta/mpdta.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const QueryParams kMpdtaColumns = {{"unit", "countyreal"},
                                   {"time", "year"},
                                   {"outcome", "lemp"},
                                   {"treatment_start", "first.treat"},
                                   {"never_treated_value", "0"}};

// kMpdtaColumns plus the given parameters.
QueryParams MpdtaQuery(std::initializer_list<std::pair<const std::string, std::string>> extra) {
  QueryParams q = kMpdtaColumns;
  q.insert(extra.begin(), extra.end());
  return q;
}

TEST_CASE("mpdta.csv posted as is gives the R TWFE estimate", "[causal][api]") {
  const auto r = ReadReference("r_reference.txt");
  HandlerResult res =
      HandleDid("text/csv; charset=utf-8", MpdtaCsv(), MpdtaQuery({{"method", "twfe"}}));
  REQUIRE(res.ok());
  const Json& b = res.body();
  CHECK(RelativeError(b["estimate"].get<double>(), r.at("mpdta.twfe.estimate")) < 1e-8);
  CHECK(RelativeError(b["std_error"].get<double>(), r.at("mpdta.twfe.se")) < 1e-6);
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
  const QueryParams q = MpdtaQuery({{"method", "twfe"}});
  HandlerResult ints = HandleDid("text/csv", MpdtaCsv(), q);
  REQUIRE(ints.ok());
  for (long from : {0L, 30000L}) {
    HandlerResult labels = HandleDid("text/csv", LabelledMpdta(from), q);
    INFO(from);
    REQUIRE(labels.ok());
    CHECK(labels.body()["estimate"] == ints.body()["estimate"]);
    CHECK(labels.body()["std_error"] == ints.body()["std_error"]);
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
  HandlerResult res =
      HandleDid("text/csv", MpdtaCsv(), MpdtaQuery({{"method", "callaway_santanna"}}));
  REQUIRE(res.ok());
  CHECK(RelativeError(res.body()["estimate"].get<double>(), cs.at("never.group.estimate")) < 1e-10);
  CHECK(res.body()["group_time"].size() == 12);
  CHECK(res.body()["event_time"].size() == 7);
  CHECK(res.body()["df"].is_null());  // normal inference
  HandlerResult es = HandleDid("text/csv", MpdtaCsv(),
                               MpdtaQuery({{"method", "event_study"}, {"min_event_time", "-3"}}));
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
      {"bad confidence", R"({"method":"twfe","confidence":2,"rows":)" + rows + "}", "confidence",
       "(0, 1)"},
      {"bad alpha", R"({"method":"twfe","alpha":0,"rows":)" + rows + "}", "alpha", "(0, 1)"},
      {"alpha and confidence",
       R"({"method":"twfe","alpha":0.05,"confidence":0.95,"rows":)" + rows + "}", "confidence",
       "not both"},
      {"misspelt option",
       R"({"method":"callaway_santanna","contrl_group":"not_yet_treated","rows":)" + rows + "}",
       "contrl_group", "unknown field"},
      {"unknown column role",
       R"({"method":"twfe","columns":{"unit":"unit","outcom":"y"},"rows":)" + rows + "}",
       "columns.outcom", "unknown field"},
      {"role outside columns", R"({"method":"twfe","unit":"unit","rows":)" + rows + "}", "unit",
       "unknown field"},
      {"covariate not a name", R"({"method":"twfe","covariates":["x",1],"rows":)" + rows + "}",
       "covariates[1]", "column name"},
      {"weight twice",
       R"({"method":"twfe","weight":"w","columns":{"weight":"v"},"rows":)" + rows + "}", "weight",
       "once"},
      {"event window", R"({"method":"event_study","min_event_time":2,"rows":)" + rows + "}",
       "min_event_time", "reference_period"},
  };
  for (const BadRequest& c : cases) {
    INFO(c.name);
    HandlerResult res = HandleDid("application/json", c.body, {});
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == causeway::StatusCode::kInvalidArgument);
    CHECK(HttpStatus(res.error().code()) == 400);
    CHECK(res.error().field() == c.field);
    CHECK_THAT(res.error().message(), Catch::Contains(c.message_part));
  }
  HandlerResult media = HandleDid("application/xml", "<x/>", {});
  REQUIRE_FALSE(media.ok());
  CHECK(media.error().code() == causeway::StatusCode::kUnsupportedMediaType);
}

TEST_CASE("Bad CSV panels name the row and column", "[causal][api]") {
  const QueryParams q = {{"method", "twfe"}};
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

// Every object in `j` that reports an estimate has the shared Inference names, and no
// object anywhere uses the names of v1's first draft (se, p, f_p).
void CheckInferenceNames(const Json& j, const std::string& path = "") {
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      CheckInferenceNames(j[i], path + "[" + std::to_string(i) + "]");
    return;
  }
  if (!j.is_object()) return;
  INFO(path);
  for (const char* old : {"se", "p", "f_p", "confidence"}) CHECK_FALSE(j.contains(old));
  if (j.contains("estimate") && j.contains("ci")) {
    CHECK(j.contains("std_error"));
    CHECK(j.contains("p_value"));
    if (j["ci"].is_object()) {
      CHECK(j["ci"].contains("lower"));
      CHECK(j["ci"].contains("upper"));
      CHECK(j["ci"].contains("level"));
    }
  }
  for (const auto& [k, v] : j.items()) CheckInferenceNames(v, path + "." + k);
}

TEST_CASE("DiD answers the shared inference names", "[causal][api]") {
  for (const char* method : {"twfe", "event_study", "callaway_santanna"}) {
    INFO(method);
    HandlerResult res = HandleDid("text/csv", MpdtaCsv(), MpdtaQuery({{"method", method}}));
    REQUIRE(res.ok());
    const Json& b = res.body();
    CheckInferenceNames(b);
    CHECK(b["std_error"].is_number());
    CHECK(b["p_value"].is_number());
    CHECK(b["ci"]["level"] == 0.95);
    if (b.contains("pretrend_test")) {
      CHECK(b["pretrend_test"]["p_value"].is_number());
      CHECK(b["pretrend_test"]["f_p_value"].is_number());
    }
    for (const char* series : {"event_time", "group_time", "by_cohort", "coefficients"}) {
      for (const Json& e : b.value(series, Json::array())) CHECK(e["valid"] == true);
    }
  }
}

TEST_CASE("alpha and its synonym confidence give the same answer; never both", "[causal][api]") {
  HandlerResult by_alpha =
      HandleDid("text/csv", MpdtaCsv(), MpdtaQuery({{"method", "event_study"}, {"alpha", "0.1"}}));
  HandlerResult by_level = HandleDid(
      "text/csv", MpdtaCsv(), MpdtaQuery({{"method", "event_study"}, {"confidence", "0.9"}}));
  REQUIRE(by_alpha.ok());
  REQUIRE(by_level.ok());
  CHECK(by_alpha.body() == by_level.body());
  CHECK(by_alpha.body()["ci"]["level"].get<double>() == Approx(0.9));
  HandlerResult by_default =
      HandleDid("text/csv", MpdtaCsv(), MpdtaQuery({{"method", "event_study"}}));
  REQUIRE(by_default.ok());
  CHECK(by_default.body()["ci"]["level"] == 0.95);
  CHECK(by_default.body()["ci"]["lower"].get<double>() <
        by_alpha.body()["ci"]["lower"].get<double>());

  HandlerResult both =
      HandleDid("text/csv", MpdtaCsv(),
                MpdtaQuery({{"method", "twfe"}, {"alpha", "0.05"}, {"confidence", "0.95"}}));
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().code() == StatusCode::kInvalidArgument);
  CHECK(both.error().field() == "confidence");

  // The JSON form reads the same names from the body.
  const std::string rows =
      R"([{"u":1,"t":1,"y":1.0,"d":0,"p":0},{"u":1,"t":2,"y":3.1,"d":0,"p":1},
          {"u":2,"t":1,"y":2.0,"d":0,"p":0},{"u":2,"t":2,"y":3.9,"d":0,"p":1},
          {"u":3,"t":1,"y":1.5,"d":1,"p":0},{"u":3,"t":2,"y":5.0,"d":1,"p":1},
          {"u":4,"t":1,"y":0.5,"d":1,"p":0},{"u":4,"t":2,"y":4.2,"d":1,"p":1}])";
  const std::string columns =
      R"("columns":{"unit":"u","time":"t","outcome":"y","treated":"d","post":"p"})";
  auto post = [&](const std::string& level) {
    return HandleDid("application/json",
                     R"({"method":"2x2",)" + columns + level + R"(,"rows":)" + rows + "}", {});
  };
  HandlerResult a = post(R"(,"alpha":0.2)"), c = post(R"(,"confidence":0.8)");
  REQUIRE(a.ok());
  REQUIRE(c.ok());
  CHECK(a.body() == c.body());
  CHECK(a.body()["ci"]["level"].get<double>() == Approx(0.8));
  HandlerResult ac = post(R"(,"alpha":0.2,"confidence":0.8)");
  REQUIRE_FALSE(ac.ok());
  CHECK(ac.error().field() == "confidence");
}

TEST_CASE("Unknown query parameters are 400s naming them", "[causal][api]") {
  struct Case {
    const char* name;
    QueryParams query;
    const char* field;
  };
  const Case cases[] = {
      {"misspelt option", MpdtaQuery({{"method", "callaway_santanna"}, {"contrl_group", "x"}}),
       "contrl_group"},
      {"misspelt role", MpdtaQuery({{"method", "twfe"}, {"outcom", "lemp"}}), "outcom"},
      {"body-only field", MpdtaQuery({{"method", "twfe"}, {"rows", "[]"}}), "rows"},
      {"given twice", MpdtaQuery({{"method", "twfe"}, {"method", "2x2"}}), "method"},
      {"bad number", MpdtaQuery({{"method", "event_study"}, {"min_event_time", "-3x"}}),
       "min_event_time"},
      {"bad enum", MpdtaQuery({{"method", "callaway_santanna"}, {"aggregation", "weekly"}}),
       "aggregation"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    HandlerResult res = HandleDid("text/csv", MpdtaCsv(), c.query);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == StatusCode::kInvalidArgument);
    CHECK(res.error().field() == c.field);
  }
  // With a JSON body every option is in the body: any query parameter is unknown.
  HandlerResult json =
      HandleDid("application/json", R"({"method":"twfe","rows":[]})", {{"method", "twfe"}});
  REQUIRE_FALSE(json.ok());
  CHECK(json.error().field() == "method");
  CHECK_THAT(json.error().message(), Catch::Contains("unknown query parameter"));
}

// A panel of 4 units x 3 periods as CSV; `start` gives each unit's treatment_start
// ("" = never treated).
std::string StaggeredCsv(const std::vector<std::string>& start) {
  std::string csv = "unit,time,outcome,treatment_start\n";
  for (size_t u = 0; u < start.size(); ++u) {
    for (int t = 1; t <= 3; ++t) {
      const double y = 1.0 + 0.3 * static_cast<double>(u) + 0.5 * t + 0.1 * ((u * 7 + t * 3) % 5);
      csv += std::to_string(u) + "," + std::to_string(t) + "," + std::to_string(y) + "," +
             start[u] + "\n";
    }
  }
  return csv;
}

TEST_CASE("A well-formed panel the data cannot answer is 422 insufficient_data", "[causal][api]") {
  const std::vector<std::string> never = {"", "", "", ""};
  const std::vector<std::string> all_at_2 = {"2", "2", "2", "2"};
  const std::vector<std::string> from_first = {"1", "1", "", ""};
  struct Case {
    const char* name;
    const char* method;
    std::vector<std::string> start;
    const char* message_part;
  };
  const Case cases[] = {
      {"twfe, no treated unit", "twfe", never, "no treated unit"},
      {"twfe, no control unit", "twfe", all_at_2, "no control unit"},
      {"twfe, no pre-period", "twfe", from_first, "no pre-period"},
      {"event study, no treated unit", "event_study", never, "no treated unit"},
      {"event study, no control unit", "event_study", all_at_2, "no control unit"},
      {"C&S, no treated unit", "callaway_santanna", never, "no treated unit"},
      {"C&S, no control unit", "callaway_santanna", all_at_2, "no control unit"},
      {"2x2, no treated unit", "2x2", never, "no treated unit"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    HandlerResult res = HandleDid("text/csv", StaggeredCsv(c.start), {{"method", c.method}});
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == StatusCode::kInsufficientData);
    CHECK(HttpStatus(res.error().code()) == 422);
    CHECK(res.error().field() == "panel");
    CHECK_THAT(res.error().message(), Catch::Contains(c.message_part));
  }
  // The JSON form, with 2x2 flags: nobody treated, nobody untreated.
  for (int treated : {0, 1}) {
    Json rows = Json::array();
    for (int u = 0; u < 3; ++u) {
      for (int t = 0; t < 2; ++t) {
        rows.push_back({{"unit", u},
                        {"time", t},
                        {"outcome", u + t * 0.7 + (u % 2) * 0.1 * t},
                        {"treated", treated},
                        {"post", t}});
      }
    }
    Json req = {{"method", "2x2"}, {"rows", rows}};
    HandlerResult res = HandleDid("application/json", req.dump(), {});
    INFO(treated);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == StatusCode::kInsufficientData);
    CHECK(res.error().field() == "panel");
    CHECK_THAT(res.error().message(),
               Catch::Contains(treated ? "no control unit" : "no treated unit"));
  }
  // Malformed input stays 400 (duplicate rows: see "Bad CSV panels").
}

TEST_CASE("Event times the data cannot give are valid:false with a reason", "[causal][api]") {
  // Two cohorts and no never-treated unit: with unit and time effects, event-time
  // dummies are collinear (a linear trend in t - g is absorbed), so one is dropped.
  std::string csv = "unit,time,outcome,treatment_start\n";
  for (int u = 0; u < 6; ++u) {
    const int start = u < 3 ? 3 : 4;
    for (int t = 1; t <= 5; ++t) {
      const double y = u * 0.4 + t * 0.25 + (t >= start ? 1.0 : 0.0) + 0.05 * ((u * 5 + t * 3) % 7);
      csv += std::to_string(u) + "," + std::to_string(t) + "," + std::to_string(y) + "," +
             std::to_string(start) + "\n";
    }
  }
  HandlerResult res = HandleDid("text/csv", csv, {{"method", "event_study"}});
  REQUIRE(res.ok());
  int invalid = 0;
  for (const Json& e : res.body()["event_time"]) {
    INFO(e.dump());
    if (e["valid"] == false) {
      ++invalid;
      CHECK(e["reason"].is_string());
      CHECK(e["estimate"].is_null());
      CHECK(e["std_error"].is_null());
      CHECK(e["p_value"].is_null());
      CHECK(e["ci"].is_null());
    } else {
      CHECK(e["std_error"].is_number());
    }
  }
  CHECK(invalid >= 1);
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

  CheckInferenceNames(b);
  CHECK(b["rate_difference"]["p_value"].is_number());
  CHECK(b["incremental_conversions"]["p_value"].get<double>() ==
        Approx(b["rate_difference"]["p_value"].get<double>()).epsilon(1e-12));
  CHECK(b["relative_lift"]["ci"]["level"] == 0.95);

  Json by_alpha = body, by_level = body;
  by_alpha["alpha"] = 0.1;
  by_level["confidence"] = 0.9;
  HandlerResult a = HandleLiftAggregate(by_alpha), c = HandleLiftAggregate(by_level);
  REQUIRE(a.ok());
  REQUIRE(c.ok());
  CHECK(a.body() == c.body());
  by_alpha["confidence"] = 0.9;
  HandlerResult both = HandleLiftAggregate(by_alpha);
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().field() == "confidence");

  struct Case {
    const char* name;
    Json patch;  // merged into the body
    const char* field;
    StatusCode code;
  };
  const Case cases[] = {
      {"unknown field", {{"spnd", 10}}, "spnd", StatusCode::kInvalidArgument},
      {"unknown group field",
       {{"test", {{"user", 10}}}},
       "test.user",
       StatusCode::kInvalidArgument},
      {"negative users",
       {{"holdout", {{"users", -1}}}},
       "holdout.users",
       StatusCode::kInvalidArgument},
      {"no users",
       {{"holdout", {{"users", 0}, {"conversions", 0}}}},
       "holdout.users",
       StatusCode::kInsufficientData},
      {"no holdout conversions",
       {{"holdout", {{"conversions", 0}}}},
       "holdout.conversions",
       StatusCode::kInsufficientData},
      {"reach out of range", {{"reach", 1.5}}, "reach", StatusCode::kInvalidArgument},
  };
  for (const Case& k : cases) {
    INFO(k.name);
    Json patched = body;
    patched.merge_patch(k.patch);
    HandlerResult res = HandleLiftAggregate(patched);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().field() == k.field);
    CHECK(res.error().code() == k.code);
  }

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
