// Endpoint logic of /v1/analyses/synthetic_control and /v1/design/geo: Prop 99 posted
// as CSV and as JSON rows gives synthdid's estimates; fields are validated by name.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "api/resources/analyses_geo.h"
#include "test_data.h"

namespace causeway::api {
namespace {

using causal::testing::ReadReference;

// The shipped file with ';' turned into ',' (what a user does before posting it).
std::string Prop99Csv() {
  std::ifstream in(CAUSEWAY_DATA_DIR "/california_prop99/california_prop99.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  for (char& c : s) c = c == ';' ? ',' : c;
  return s;
}

QueryParams Prop99Query(std::string method) {
  return {{"method", std::move(method)}, {"unit", "State"},        {"time", "Year"},
          {"outcome", "PacksPerCapita"}, {"treatment", "treated"}, {"placebo_replications", "100"}};
}

TEST_CASE("Prop 99 as CSV: synthdid's estimates, California's counterfactual",
          "[causal][api][synthetic]") {
  const auto ref = ReadReference("synthdid_reference.txt");
  const std::string csv = Prop99Csv();
  for (auto [method, key] : {std::pair{"synthetic_did", "sdid"},
                             std::pair{"synthetic_control", "sc"}, std::pair{"did", "did"}}) {
    HandlerResult r = HandleSyntheticControl("text/csv", csv, Prop99Query(method));
    REQUIRE(r.ok());
    const Json& j = r.body();
    CHECK(j["estimate"].get<double>() ==
          Approx(ref.at(std::string("prop99.") + key + ".estimate")).epsilon(1e-9));
    CHECK(j["std_error"].get<double>() > 0);
    CHECK(j["ci"]["level"].get<double>() == Approx(0.95));
    CHECK(j["treated_units"] == 1);
    CHECK(j["control_units"] == 38);
    CHECK(j["first_treated_period"] == 1989);
    CHECK(j["series"].size() == 31);
    CHECK(j["donor_weights"].size() == 38);
    CHECK(j["donor_weights"][0]["unit"].is_string());
    CHECK(j["placebo"]["replications"] == 100);
    CHECK(j["total_effect"]["estimate"].get<double>() ==
          Approx(j["estimate"].get<double>() * 12).epsilon(1e-12));
    CHECK(j["lift"]["estimate"].get<double>() < 0);
    CHECK(j["inference_method"].get<std::string>().find("placebo") != std::string::npos);
  }
  // SDID's largest donor weights on Prop 99 (synthdid_controls): Nevada, New Hampshire, ...
  HandlerResult r = HandleSyntheticControl("text/csv", csv, Prop99Query("synthetic_did"));
  REQUIRE(r.ok());
  const Json& top = r.body()["donor_weights"][0];
  CHECK(top["weight"].get<double>() ==
        Approx(ref.at("prop99.sdid.omega." + top["unit"].get<std::string>())).margin(1e-9));
  CHECK(r.body()["time_weights"].size() == 19);
}

TEST_CASE("synthetic_control: JSON rows, options and errors by name", "[causal][api][synthetic]") {
  Json rows = Json::array();
  for (int u = 0; u < 8; ++u) {
    for (int t = 0; t < 10; ++t) {
      rows.push_back(
          {{"geo", "g" + std::to_string(u)},
           {"week", t},
           {"sales", 100 + 3 * u + t + ((u * 7 + t * 3) % 5) + (u == 7 && t >= 7 ? 9 : 0)},
           {"start", u == 7 ? Json(7) : Json(nullptr)}});
    }
  }
  Json body = {
      {"method", "synthetic_did"},
      {"columns",
       {{"unit", "geo"}, {"time", "week"}, {"outcome", "sales"}, {"treatment_start", "start"}}},
      {"alpha", 0.1},
      {"placebo_replications", 20},
      {"rows", rows}};
  HandlerResult r = HandleSyntheticControl("application/json", body.dump(), {});
  REQUIRE(r.ok());
  CHECK(r.body()["ci"]["level"].get<double>() == Approx(0.9));
  CHECK(r.body()["post_periods"] == 3);

  SECTION("unknown field") {
    body["placebo_replicatons"] = 3;
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "placebo_replicatons");
  }
  SECTION("unknown method") {
    body["method"] = "synth";
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "method");
  }
  SECTION("intercept is for synthetic_control only") {
    body["intercept"] = true;
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "intercept");
    body["method"] = "synthetic_control";
    CHECK(HandleSyntheticControl("application/json", body.dump(), {}).ok());
  }
  SECTION("too few replications") {
    body["placebo_replications"] = 1;
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "placebo_replications");
  }
  SECTION("staggered adoption: 422") {
    body["rows"][0]["start"] = 5;
    for (auto& row : body["rows"]) {
      if (row["geo"] == "g0") row["start"] = 5;
    }
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == StatusCode::kInsufficientData);
  }
  SECTION("a query parameter on a JSON body") {
    HandlerResult e = HandleSyntheticControl("application/json", body.dump(), {{"alpha", "0.1"}});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "alpha");
  }
  SECTION("neither JSON nor CSV: 415") {
    HandlerResult e = HandleSyntheticControl("text/plain", body.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == StatusCode::kUnsupportedMediaType);
  }

  SECTION("design: history without treatment columns, treated units by label") {
    Json design = {{"columns", {{"unit", "geo"}, {"time", "week"}, {"outcome", "sales"}}},
                   {"treated_units", {"g2", "g5"}},
                   {"test_length", 2},
                   {"simulations", 3},
                   {"placebo_replications", 10},
                   {"lifts", {0, 0.05, 0.5}},
                   {"rows", rows}};
    for (auto& row : design["rows"]) row.erase("start");
    HandlerResult d = HandleGeoDesign("application/json", design.dump(), {});
    REQUIRE(d.ok());
    const Json& j = d.body();
    CHECK(j["method"] == "synthetic_did");
    CHECK(j["treated_units"] == Json({"g2", "g5"}));
    CHECK(j["control_units"] == 6);
    CHECK(j["simulations"].size() == 3);
    CHECK(j["power_curve"].size() == 3);
    CHECK(j["power_curve"][2]["power"].get<double>() >= j["power_curve"][1]["power"].get<double>());
    design["treated_units"] = {"g2", "nowhere"};
    HandlerResult e = HandleGeoDesign("application/json", design.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "treated_units[1]");
    design.erase("test_length");
    e = HandleGeoDesign("application/json", design.dump(), {});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field() == "test_length");
  }
}

TEST_CASE("design as CSV: query options", "[causal][api][synthetic]") {
  const std::string csv = Prop99Csv();
  QueryParams q = {{"unit", "State"},
                   {"time", "Year"},
                   {"outcome", "PacksPerCapita"},
                   {"treated_units", "California,Utah"},
                   {"test_length", "3"},
                   {"simulations", "2"},
                   {"placebo_replications", "10"},
                   {"lifts", "0,0.1"},
                   {"method", "synthetic_control"}};
  HandlerResult d = HandleGeoDesign("text/csv", csv, q);
  REQUIRE(d.ok());
  CHECK(d.body()["treated_units"] == Json({"California", "Utah"}));
  CHECK(d.body()["control_units"] == 37);
  CHECK(d.body()["simulations"][0]["last_period"] == 2000);
  q.erase("lifts");
  q.insert({"lifts", "0,x"});
  HandlerResult e = HandleGeoDesign("text/csv", csv, q);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().field() == "lifts");
}

}  // namespace
}  // namespace causeway::api
