// Endpoint logic for /v1/analyses/ab, /v1/design/sample-size and
// /v1/design/sequential: validation (400 naming the field) and results checked
// against the same reference fixtures as the core.
#include <catch2/catch.hpp>

#include "api/resources/analyses_ab.h"
#include "fixtures.h"

namespace causeway::api {
namespace {

using stats::testing::LoadFixture;

const Json& Fixture(const char* section, size_t i) {
  return LoadFixture("fixtures.json")[section][i];
}

void ExpectError(const HandlerResult& r, const std::string& field) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == causeway::StatusCode::kInvalidArgument);
  CHECK(r.error().code_name() == "invalid_argument");
  CHECK(r.error().field() == field);
  CHECK_FALSE(r.error().message().empty());
}

TEST_CASE("analyses/ab binomial example from the issue matches statsmodels", "[api][stats]") {
  const Json body = Json::parse(R"({"metric_type":"binomial",
    "variants":[{"key":"control","n":10000,"conversions":1000},{"key":"treatment","n":10000,"conversions":1100}],
    "alpha":0.05,"sequential":{"method":"always_valid","expected_n":20000}})");
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  const Json& out = r.body();
  REQUIRE(out["comparisons"].size() == 1);
  const Json& c = out["comparisons"][0];
  const Json& e = Fixture("proportions", 0)["expected"];  // the same counts
  REQUIRE(Fixture("proportions", 0)["treatment"]["conversions"] == 1100);
  CHECK(c["variant"] == "treatment");
  CHECK(c["valid"] == true);
  CHECK(c["absolute"]["estimate"].get<double>() ==
        Approx(e["difference"].get<double>()).epsilon(1e-12));
  CHECK(c["absolute"]["ci"]["lower"].get<double>() ==
        Approx(e["ci"][0].get<double>()).epsilon(1e-9));
  CHECK(c["absolute"]["ci"]["upper"].get<double>() ==
        Approx(e["ci"][1].get<double>()).epsilon(1e-9));
  CHECK(c["p_value"].get<double>() == Approx(e["p_value"].get<double>()).epsilon(1e-8));
  CHECK(c["relative"]["estimate"].get<double>() ==
        Approx(e["relative"].get<double>()).epsilon(1e-9));
  CHECK(c["relative"]["ci"]["lower"].get<double>() ==
        Approx(e["relative_ci"][0].get<double>()).epsilon(1e-9));
  CHECK(c["significant"] == true);  // p = 0.021 < 0.05
  CHECK(c["p_value_adjusted"] == c["p_value"]);
  CHECK(out["multiple_testing"]["method"] == "none");
  // The always-valid interval is wider than the fixed-horizon one and not significant here.
  const Json& s = c["sequential"];
  CHECK(s["method"] == "always_valid");
  CHECK(s["absolute"]["ci"]["lower"].get<double>() < c["absolute"]["ci"]["lower"].get<double>());
  CHECK(s["absolute"]["ci"]["upper"].get<double>() > c["absolute"]["ci"]["upper"].get<double>());
  CHECK(s["p_value"].get<double>() > c["p_value"].get<double>());
  CHECK(c["chance_to_beat_control"].get<double>() > 0.95);
  CHECK(out["srm"].is_null());
}

TEST_CASE("analyses/ab mean metric: raw sums and mean/variance agree with statsmodels",
          "[api][stats]") {
  const Json& f = Fixture("means", 0);
  Json by_moments = {{"metric_type", "mean"}, {"alpha", f["alpha"]}, {"variants", Json::array()}};
  Json by_sums = by_moments;
  for (const char* arm : {"control", "treatment"}) {
    const Json& a = f[arm];
    by_moments["variants"].push_back(
        {{"key", arm}, {"n", a["n"]}, {"mean", a["mean"]}, {"variance", a["variance"]}});
    by_sums["variants"].push_back(
        {{"key", arm}, {"n", a["n"]}, {"sum", a["sum"]}, {"sum_squares", a["sum_squares"]}});
  }
  for (const Json& body : {by_moments, by_sums}) {
    const HandlerResult r = HandleAnalysesAb(body);
    REQUIRE(r.ok());
    const Json& c = r.body()["comparisons"][0];
    CHECK(c["absolute"]["df"].get<double>() ==
          Approx(f["expected"]["df"].get<double>()).epsilon(1e-7));
    CHECK(c["p_value"].get<double>() ==
          Approx(f["expected"]["p_value"].get<double>()).epsilon(1e-6));
    CHECK(c["absolute"]["ci"]["upper"].get<double>() ==
          Approx(f["expected"]["ci"][1].get<double>()).epsilon(1e-7));
  }
}

TEST_CASE("analyses/ab ratio metric with CUPED matches the statsmodels-derived reference",
          "[api][stats]") {
  const Json& f = Fixture("ratio_cuped", 0);
  Json body = {{"metric_type", "ratio"}, {"variants", Json::array()}};
  for (const char* arm : {"control", "treatment"}) {
    const Json& a = f[arm];
    const Json& xp = a["cross_products"];
    body["variants"].push_back(
        {{"key", arm},
         {"n", a["n"]},
         {"numerator_sum", a["numerator_sum"]},
         {"numerator_sum_squares", a["numerator_sum_squares"]},
         {"denominator_sum", a["denominator_sum"]},
         {"denominator_sum_squares", a["denominator_sum_squares"]},
         {"numerator_denominator_sum_product", a["numerator_denominator_sum_product"]},
         {"covariate_numerator_sum", a["covariate_sum"]},
         {"covariate_numerator_sum_squares", a["covariate_sum_squares"]},
         {"covariate_denominator_sum", a["covariate_denominator_sum"]},
         {"covariate_denominator_sum_squares", a["covariate_denominator_sum_squares"]},
         {"covariate_numerator_denominator_sum_product", xp["x_e"]},
         {"sum_products",
          {{"numerator_covariate_numerator", xp["y_x"]},
           {"numerator_covariate_denominator", xp["y_e"]},
           {"denominator_covariate_numerator", xp["d_x"]},
           {"denominator_covariate_denominator", xp["d_e"]}}}});
  }
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  const Json& c = r.body()["comparisons"][0];
  const Json& e = f["expected"]["ratio_cuped"];
  CHECK(c["cuped"]["theta"].get<double>() == Approx(e["theta"].get<double>()).epsilon(1e-7));
  CHECK(c["absolute"]["estimate"].get<double>() ==
        Approx(e["difference"].get<double>()).epsilon(1e-7));
  CHECK(c["absolute"]["std_error"].get<double>() ==
        Approx(e["std_error"].get<double>()).epsilon(1e-7));
  CHECK(c["cuped"]["variance_reduction"].get<double>() > 0);
}

TEST_CASE("analyses/ab SRM with weights and a multiple-testing correction", "[api][stats]") {
  const Json& f = Fixture("srm", 2);  // three variants, equal weights
  Json body = {
      {"metric_type", "binomial"}, {"multiple_testing", "holm"}, {"variants", Json::array()}};
  const char* keys[] = {"control", "b", "c"};
  for (size_t i = 0; i < 3; ++i) {
    const int64_t n = f["counts"][i];
    body["variants"].push_back({{"key", keys[i]},
                                {"n", n},
                                {"conversions", n / 10 + 20 * static_cast<int64_t>(i)},
                                {"weight", f["weights"][i]}});
  }
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  const Json& out = r.body();
  CHECK(out["srm"]["p_value"].get<double>() ==
        Approx(f["expected"]["p_value"].get<double>()).epsilon(1e-9));
  CHECK(out["srm"]["mismatch"] == (f["expected"]["p_value"].get<double>() < 0.001));
  CHECK(out["multiple_testing"]["method"] == "holm");
  CHECK(out["multiple_testing"]["comparisons"] == 2);
  REQUIRE(out["comparisons"].size() == 2);
  // Holm with two tests: the smaller p doubles, the larger is max(2 p_min, p_max).
  const double p1 = out["comparisons"][0]["p_value"], p2 = out["comparisons"][1]["p_value"];
  const double lo = std::min(p1, p2), hi = std::max(p1, p2);
  const double a1 = out["comparisons"][0]["p_value_adjusted"],
               a2 = out["comparisons"][1]["p_value_adjusted"];
  CHECK(std::min(a1, a2) == Approx(std::min(1.0, 2 * lo)));
  CHECK(std::max(a1, a2) == Approx(std::max(std::min(1.0, 2 * lo), hi)));
}

TEST_CASE("analyses/ab degenerate input is a result with a reason, not an error", "[api][stats]") {
  const Json body = Json::parse(R"({"metric_type":"mean",
    "variants":[{"key":"control","n":1,"mean":3,"variance":0},{"key":"t","n":50,"mean":3.2,"variance":1}]})");
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  const Json& c = r.body()["comparisons"][0];
  CHECK(c["valid"] == false);
  CHECK_FALSE(c["reason"].get<std::string>().empty());
  CHECK(c["significant"] == false);
}

TEST_CASE("analyses/ab rejects bad input naming the field", "[api][stats]") {
  auto ab = [](const char* variants, const char* extra = "") {
    return HandleAnalysesAb(Json::parse(std::string(R"({"metric_type":"binomial","variants":)") +
                                        variants + extra + "}"));
  };
  ExpectError(ab(R"([{"key":"a","n":-1,"conversions":0},{"key":"b","n":10,"conversions":1}])"),
              "variants[0].n");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":11}])"),
              "variants[1].conversions");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":-2},{"key":"b","n":10,"conversions":1}])"),
              "variants[0].conversions");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}])",
                 R"(,"alpha":1.5)"),
              "alpha");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}])",
                 R"(,"alpha":0)"),
              "alpha");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"a","n":10,"conversions":1}])"),
              "variants[1].key");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1}])"), "variants");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}])",
                 R"(,"colour":1)"),
              "colour");
  ExpectError(
      ab(R"([{"key":"a","n":10,"conversions":1,"mean":1},{"key":"b","n":10,"conversions":1}])"),
      "variants[0].mean");
  ExpectError(
      ab(R"([{"key":"a","n":10,"conversions":1,"weight":1},{"key":"b","n":10,"conversions":1}])"),
      "variants[1].weight");
  ExpectError(ab(R"([{"key":"a","n":10.5,"conversions":1},{"key":"b","n":10,"conversions":1}])"),
              "variants[0].n");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}])",
                 R"(,"sequential":{"method":"always_valid"})"),
              "sequential.expected_n");
  ExpectError(ab(R"([{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}])",
                 R"(,"sequential":{"method":"bayes","expected_n":10})"),
              "sequential.method");
  ExpectError(HandleAnalysesAb(Json::parse(R"({"metric_type":"mean",
    "variants":[{"key":"a","n":10,"mean":1,"variance":1},{"key":"b","n":10,"mean":1,"variance":-1}]})")),
              "variants[1].variance");
  ExpectError(HandleAnalysesAb(Json::parse(R"({"metric_type":"median","variants":[]})")),
              "metric_type");
  ExpectError(HandleAnalysesAb(Json::parse(R"({"variants":[]})")), "metric_type");
}

TEST_CASE("analyses/ab speaks the one inference vocabulary", "[api][stats]") {
  const Json body = Json::parse(R"({"metric_type":"binomial","alpha":0.1,
    "variants":[{"key":"control","n":10000,"conversions":1000},{"key":"treatment","n":10000,"conversions":1100}],
    "sequential":{"method":"always_valid","expected_n":20000}})");
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  const Json& c = r.body()["comparisons"][0];
  for (const Json* inference : {&c["absolute"], &c["relative"], &c["sequential"]["absolute"],
                                &c["sequential"]["relative"]}) {
    INFO(inference->dump());
    for (const char* field : {"estimate", "std_error", "ci", "p_value"}) {
      CHECK(inference->contains(field));
    }
    CHECK((*inference)["ci"]["level"].get<double>() == Approx(0.9));
    CHECK((*inference)["ci"]["lower"].get<double>() < (*inference)["ci"]["upper"].get<double>());
  }
  // No effect relative is no effect absolute: one test, one p-value.
  CHECK(c["relative"]["p_value"] == c["absolute"]["p_value"]);
  CHECK(c["sequential"]["absolute"]["p_value"] == c["sequential"]["p_value"]);
}

TEST_CASE("analyses/ab: an answer the data cannot give is valid:false with null inference",
          "[api][stats]") {
  const Json body = Json::parse(R"({"metric_type":"binomial",
    "variants":[{"key":"control","n":0,"conversions":0},{"key":"b","n":100,"conversions":10},
                {"key":"c","n":0,"conversions":0}]})");
  const HandlerResult r = HandleAnalysesAb(body);
  REQUIRE(r.ok());
  for (const Json& c : r.body()["comparisons"]) {
    CHECK(c["valid"] == false);
    CHECK_FALSE(c["reason"].get<std::string>().empty());
    CHECK(c["absolute"].is_null());
    CHECK(c["p_value"].is_null());
    CHECK(c["significant"] == false);
  }
}

TEST_CASE("stats endpoints refuse unknown fields at every depth", "[api][stats]") {
  const char* ab = R"({"metric_type":"binomial",
    "variants":[{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}],
    "sequential":{"method":"always_valid","expected_n":100,"methd":"x"}})";
  ExpectError(HandleAnalysesAb(Json::parse(ab)), "sequential.methd");
  ExpectError(HandleAnalysesAb(Json::parse(R"({"metric_type":"binomial",
    "variants":[{"key":"a","n":10,"conversions":1,"colour":1},{"key":"b","n":10,"conversions":1}]})")),
              "variants[0].colour");
  ExpectError(HandleAnalysesAb(Json::parse(R"({"metric_type":"binomial",
    "variants":[{"key":"a","n":10,"conversions":1},{"key":"b","n":10,"conversions":1}],
    "sequential":{"method":"group_sequential","looks":[0.5,1],"current_look":1,"expected_n":5}})")),
              "sequential.expected_n");
  ExpectError(HandleDesignSampleSize(Json::parse(
                  R"({"metric_type":"binomial","baseline_rate":0.1,"mde":0.01,"powr":0.9})")),
              "powr");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[1.0],"side":2})")), "side");
}

TEST_CASE("design/sample-size: a design the inputs cannot give is 422 naming the field",
          "[api][stats]") {
  // An effect a millionth of a standard deviation needs more than 1e15 users.
  const HandlerResult r = HandleDesignSampleSize(
      Json::parse(R"({"metric_type":"mean","standard_deviation":1000,"mde":0.000001})"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == causeway::StatusCode::kInsufficientData);
  CHECK(r.error().field() == "mde");
}

TEST_CASE("design/sequential reproduces rpact's boundaries for the issue's example",
          "[api][stats]") {
  for (const Json& d : LoadFixture("rpact_boundaries.json")["spending_designs"]) {
    if (d["name"] != "of_5_equal_2s" && d["name"] != "p_5_equal_2s" && d["name"] != "of_5_equal_1s")
      continue;
    CAPTURE(d["name"].get<std::string>());
    const Json body = {{"looks", d["looks"]},
                       {"alpha", d["alpha"]},
                       {"spending", d["spending"]},
                       {"sides", d["sides"]}};
    const HandlerResult r = HandleDesignSequential(body);
    REQUIRE(r.ok());
    const Json& looks = r.body()["looks"];
    REQUIRE(looks.size() == d["z"].size());
    for (size_t k = 0; k < looks.size(); ++k) {
      CHECK(looks[k]["z"].get<double>() == Approx(d["z"][k].get<double>()).margin(1e-3));
      CHECK(looks[k]["nominal_p"].get<double>() ==
            Approx(d["nominal_p"][k].get<double>()).epsilon(1e-3));
      CHECK(looks[k]["cumulative_alpha"].get<double>() ==
            Approx(d["cumulative_alpha"][k].get<double>()).epsilon(1e-6).margin(2e-8));
    }
  }
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[0.2,0.5,0.4,1.0]})")), "looks[2]");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[0,0.5,1.0]})")), "looks[0]");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[0.5,1.5]})")), "looks[1]");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[]})")), "looks");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[1.0],"alpha":-0.1})")), "alpha");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[1.0],"sides":3})")), "sides");
  ExpectError(HandleDesignSequential(Json::parse(R"({"looks":[1.0],"spending":"haybittle"})")),
              "spending");
}

TEST_CASE("analyses/ab group sequential look uses rpact's nominal levels", "[api][stats]") {
  const Json* design = nullptr;
  for (const Json& d : LoadFixture("rpact_boundaries.json")["spending_designs"]) {
    if (d["name"] == "of_5_equal_2s") design = &d;
  }
  REQUIRE(design != nullptr);
  // The issue's example: fixed-horizon two-sided p = 0.02108 (statsmodels).
  for (size_t look = 1; look <= 5; ++look) {
    CAPTURE(look);
    Json body = Json::parse(R"({"metric_type":"binomial",
      "variants":[{"key":"control","n":10000,"conversions":1000},{"key":"treatment","n":10000,"conversions":1100}]})");
    body["sequential"] = {
        {"method", "group_sequential"}, {"looks", (*design)["looks"]}, {"current_look", look}};
    const HandlerResult r = HandleAnalysesAb(body);
    REQUIRE(r.ok());
    const Json& s = r.body()["comparisons"][0]["sequential"];
    const double nominal = (*design)["nominal_p"][look - 1];
    CHECK(s["method"] == "group_sequential");
    CHECK(s["nominal_p"].get<double>() == Approx(nominal).epsilon(1e-3));
    CHECK(s["z_boundary"].get<double>() ==
          Approx((*design)["z"][look - 1].get<double>()).margin(1e-3));
    CHECK(s["significant"] ==
          (Fixture("proportions", 0)["expected"]["p_value"].get<double>() <= nominal));
  }
  const char* base = R"({"metric_type":"binomial",
      "variants":[{"key":"control","n":100,"conversions":10},{"key":"treatment","n":100,"conversions":11}],
      "sequential":)";
  ExpectError(HandleAnalysesAb(Json::parse(
                  std::string(base) +
                  R"({"method":"group_sequential","looks":[0.5,1.0],"current_look":3}})")),
              "sequential.current_look");
  ExpectError(HandleAnalysesAb(Json::parse(
                  std::string(base) +
                  R"({"method":"group_sequential","looks":[0.5,0.5],"current_look":1}})")),
              "sequential.looks[1]");
  ExpectError(HandleAnalysesAb(Json::parse(std::string(base) +
                                           R"({"method":"group_sequential","current_look":1}})")),
              "sequential.looks");
}

TEST_CASE("design/sample-size matches statsmodels", "[api][stats]") {
  const Json& f = Fixture("power", 0);  // binomial, 10% baseline, +1 point, two-sided 0.05
  REQUIRE(f["metric_type"] == "binomial");
  const Json n_body = {{"metric_type", "binomial"},
                       {"baseline_rate", f["baseline"]},
                       {"mde", f["effect"]},
                       {"alpha", f["alpha"]},
                       {"power", f["power_target"]}};
  const HandlerResult n = HandleDesignSampleSize(n_body);
  REQUIRE(n.ok());
  CHECK(n.body()["solved_for"] == "sample_size");
  CHECK(n.body()["n_control_exact"].get<double>() ==
        Approx(f["expected"]["n_control_for_target"].get<double>()).epsilon(1e-6));
  const Json p_body = {{"metric_type", "binomial"},
                       {"baseline_rate", f["baseline"]},
                       {"mde", f["effect"]},
                       {"n_control", f["n_control"]}};
  const HandlerResult p = HandleDesignSampleSize(p_body);
  REQUIRE(p.ok());
  CHECK(p.body()["power"].get<double>() ==
        Approx(f["expected"]["power"].get<double>()).epsilon(1e-9));
  const Json m_body = {
      {"metric_type", "binomial"}, {"baseline_rate", f["baseline"]}, {"n_control", f["n_control"]}};
  const HandlerResult m = HandleDesignSampleSize(m_body);
  REQUIRE(m.ok());
  CHECK(m.body()["mde"].get<double>() ==
        Approx(f["expected"]["mde_at_n"].get<double>()).epsilon(1e-6));

  ExpectError(HandleDesignSampleSize(
                  Json::parse(R"({"metric_type":"binomial","baseline_rate":1.5,"mde":0.01})")),
              "baseline_rate");
  ExpectError(
      HandleDesignSampleSize(Json::parse(R"({"metric_type":"binomial","baseline_rate":0.1})")),
      "mde");
  ExpectError(HandleDesignSampleSize(
                  Json::parse(R"({"metric_type":"mean","standard_deviation":-1,"mde":1})")),
              "standard_deviation");
  ExpectError(HandleDesignSampleSize(Json::parse(
                  R"({"metric_type":"mean","standard_deviation":1,"mde":1,"power":1.2})")),
              "power");
  ExpectError(HandleDesignSampleSize(Json::parse(
                  R"({"metric_type":"mean","standard_deviation":1,"relative_mde":0.1})")),
              "baseline_mean");
}

}  // namespace
}  // namespace causeway::api
