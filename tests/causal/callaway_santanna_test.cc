// Callaway & Sant'Anna against an independent pandas script (each ATT(g,t) as its 2x2
// comparison of means, aggregations as in did's compute.aggte.R), the published did
// README values for mpdta, and recovery of known effects on synthetic staggered data.
#include <catch2/catch.hpp>

#include <random>

#include "causal/did.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

using testing::LoadMpdta;
using testing::ReadReference;
using testing::RelativeError;

DidSummary RunCs(const Panel& p, ControlGroup control) {
  DidOptions options;
  options.method = DidMethod::kCallawaySantAnna;
  options.control_group = control;
  auto r = EstimateDid(p, options);
  REQUIRE(r.ok());
  return r.value();
}

TEST_CASE("C&S ATT(g,t) on mpdta equal the 2x2 comparisons of means", "[causal][cs]") {
  const auto ref = ReadReference("cs_reference.txt");
  for (auto [prefix, control] : {std::pair{"never", ControlGroup::kNeverTreated},
                                 std::pair{"notyet", ControlGroup::kNotYetTreated}}) {
    INFO(prefix);
    const DidSummary s = RunCs(LoadMpdta(), control);
    const std::string p = prefix;
    REQUIRE(s.group_time.size() == 12);  // 3 cohorts x 4 periods (varying base)
    for (const GroupTimeAtt& gt : s.group_time) {
      const std::string cell = std::to_string(gt.group) + "." + std::to_string(gt.time);
      INFO(cell);
      CHECK(RelativeError(gt.inference.estimate, ref.at(p + ".att." + cell)) < 1e-10);
      CHECK(RelativeError(gt.inference.se, ref.at(p + ".se." + cell)) < 1e-8);
    }
    CHECK(RelativeError(s.simple->estimate, ref.at(p + ".simple.estimate")) < 1e-10);
    CHECK(RelativeError(s.simple->se, ref.at(p + ".simple.se")) < 1e-8);
    CHECK(RelativeError(s.group->estimate, ref.at(p + ".group.estimate")) < 1e-10);
    CHECK(RelativeError(s.group->se, ref.at(p + ".group.se")) < 1e-8);
    CHECK(RelativeError(s.dynamic->estimate, ref.at(p + ".dynamic.estimate")) < 1e-10);
    CHECK(RelativeError(s.dynamic->se, ref.at(p + ".dynamic.se")) < 1e-8);
    for (const CohortEstimate& c : s.by_cohort) {
      const std::string k = p + ".group." + std::to_string(c.group);
      CHECK(RelativeError(c.inference.estimate, ref.at(k + ".estimate")) < 1e-10);
      CHECK(RelativeError(c.inference.se, ref.at(k + ".se")) < 1e-8);
    }
    for (const EventTimeEstimate& e : s.event_time) {
      const std::string k = p + ".dynamic." + std::to_string(e.event_time);
      CHECK(RelativeError(e.inference.estimate, ref.at(k + ".estimate")) < 1e-10);
      CHECK(RelativeError(e.inference.se, ref.at(k + ".se")) < 1e-8);
    }
    REQUIRE(s.pretrend);
    CHECK(RelativeError(s.pretrend->statistic, ref.at(p + ".pretrend.statistic")) < 1e-8);
    CHECK(s.pretrend->df == ref.at(p + ".pretrend.df"));
    CHECK(s.att.estimate == s.group->estimate);  // default headline: group aggregation
    CHECK(std::isinf(s.att.df));
  }
}

TEST_CASE("C&S on mpdta reproduces the published did README estimates", "[causal][cs]") {
  // github.com/bcallaway11/did README (att_gt(yname = "lemp", ..., xformla = ~1) with
  // never-treated controls): ATT(g,t) and aggregations printed to 4 decimals.
  const DidSummary s = RunCs(LoadMpdta(), ControlGroup::kNeverTreated);
  const std::map<std::pair<int64_t, int64_t>, double> published = {
      {{2004, 2004}, -0.0105}, {{2004, 2005}, -0.0704}, {{2004, 2006}, -0.1373},
      {{2004, 2007}, -0.1008}, {{2006, 2004}, 0.0065},  {{2006, 2005}, -0.0028},
      {{2006, 2006}, -0.0046}, {{2006, 2007}, -0.0412}, {{2007, 2004}, 0.0305},
      {{2007, 2005}, -0.0027}, {{2007, 2006}, -0.0311}, {{2007, 2007}, -0.0261}};
  for (const GroupTimeAtt& gt : s.group_time) {
    CHECK(std::fabs(gt.inference.estimate - published.at({gt.group, gt.time})) <= 0.00005 + 1e-12);
  }
  CHECK(std::fabs(s.group->estimate - (-0.031)) <= 0.0005);
  CHECK(std::fabs(s.dynamic->estimate - (-0.0772)) <= 0.00005);
  CHECK(std::fabs(s.simple->estimate - (-0.04)) <= 0.0005);
  CHECK(s.treated_units == 191);
  CHECK(s.control_units == 309);
}

// Staggered synthetic panel with known, time-varying cohort effects:
//   ATT(g, t) = tau_g * (1 + (t - g)) for t >= g, tau = {2, 1, 0.5} for g = {4, 6, 8},
// unit and time effects, N(0, 0.1^2) noise, 1/4 never treated.
Panel StaggeredPanel() {
  std::mt19937_64 rng(20261123);
  std::normal_distribution<double> noise(0, 0.1), alpha(0, 1);
  const int64_t cohorts[4] = {0, 4, 6, 8};
  const double tau[4] = {0, 2.0, 1.0, 0.5};
  Panel p;
  for (int64_t i = 0; i < 400; ++i) {
    const int c = static_cast<int>(i % 4);
    const double a = alpha(rng);
    for (int64_t t = 1; t <= 10; ++t) {
      const double effect = c > 0 && t >= cohorts[c] ? tau[c] * (1.0 + double(t - cohorts[c])) : 0;
      p.unit.push_back(i);
      p.time.push_back(t);
      p.outcome.push_back(a + 0.3 * double(t) + effect + noise(rng));
      p.treatment_start.push_back(c == 0 ? kNeverTreated : cohorts[c]);
    }
  }
  return p;
}

double TrueAtt(int64_t g, int64_t t) {
  const double tau = g == 4 ? 2.0 : g == 6 ? 1.0 : 0.5;
  return t >= g ? tau * (1.0 + double(t - g)) : 0.0;
}

TEST_CASE("C&S recovers known time-varying cohort effects where TWFE is biased", "[causal][cs]") {
  const Panel p = StaggeredPanel();
  const DidSummary cs = RunCs(p, ControlGroup::kNeverTreated);
  for (const GroupTimeAtt& gt : cs.group_time) {
    INFO(gt.group << "," << gt.time);
    CHECK(std::fabs(gt.inference.estimate - TrueAtt(gt.group, gt.time)) < 0.05);
  }
  // Truth of the simple aggregation: cohort-size-weighted mean of post ATT(g,t); equal
  // cohort sizes, so the mean over post cells.
  double truth = 0;
  int cells = 0;
  for (int64_t g : {4, 6, 8}) {
    for (int64_t t = g; t <= 10; ++t) {
      truth += TrueAtt(g, t);
      ++cells;
    }
  }
  truth /= cells;
  CHECK(std::fabs(cs.simple->estimate - truth) < 0.02);
  CHECK(std::fabs(cs.simple->estimate - truth) < 3 * cs.simple->se + 1e-3);

  const auto not_yet = RunCs(p, ControlGroup::kNotYetTreated);
  CHECK(std::fabs(not_yet.simple->estimate - truth) < 0.02);

  auto twfe = EstimateTwfe(p, DidOptions{});
  REQUIRE(twfe.ok());
  // TWFE uses already-treated units as controls: visibly biased downwards here.
  CHECK(truth - twfe.value().att.estimate > 1.0);
  CHECK(std::fabs(twfe.value().att.estimate - truth) > 10 * twfe.value().att.se);
  bool warned = false;
  for (const auto& w : twfe.value().warnings) warned |= (w.code == "staggered_timing");
  CHECK(warned);
}

TEST_CASE("C&S universal base period normalises g-1 to zero", "[causal][cs]") {
  DidOptions options;
  options.method = DidMethod::kCallawaySantAnna;
  options.base_period = BasePeriod::kUniversal;
  auto r = EstimateDid(LoadMpdta(), options);
  REQUIRE(r.ok());
  const auto ref = ReadReference("cs_reference.txt");
  for (const GroupTimeAtt& gt : r.value().group_time) {
    if (gt.time == gt.group - 1) {
      CHECK(gt.inference.estimate == 0);
    } else if (gt.post) {  // post cells do not depend on the base-period choice
      const std::string cell = std::to_string(gt.group) + "." + std::to_string(gt.time);
      CHECK(RelativeError(gt.inference.estimate, ref.at("never.att." + cell)) < 1e-10);
    }
  }
}

}  // namespace
}  // namespace causeway::causal
