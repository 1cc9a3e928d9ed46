#include "api/resources/report.h"

#include <cmath>
#include <sstream>

#include "api/codec/analysis_codec.h"
#include "api/codec/field_reader.h"
#include "api/http/log.h"
#include "app/report.h"

namespace causeway::api {
namespace {

std::vector<std::string> SplitKeys(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(); }

std::string Date(int64_t day) { return IsoTime(day * 86'400'000).substr(0, 10); }

Json EncodeSrm(const stats::SrmResult& srm, double threshold) {
  Json j = {{"valid", srm.valid}, {"threshold", threshold}};
  if (srm.valid) {
    j.update({{"chi_square", srm.chi_square},
              {"df", srm.df},
              {"p_value", srm.p_value},
              {"mismatch", srm.mismatch},
              {"expected_users", srm.expected_counts}});
  } else {
    j["reason"] = srm.reason;
  }
  return j;
}

Json EncodeSeries(const app::SeriesOfTreatment& s) {
  Json points = Json::array();
  for (const app::SeriesPoint& p : s.points) {
    Json j = {{"date", Date(p.day)}, {"users", p.users}, {"valid", p.valid}};
    j["absolute"] = p.valid ? EncodeInference(p.absolute) : Json();
    j["relative"] = p.valid && p.relative ? EncodeInference(*p.relative) : Json();
    j["information_fraction"] = Num(p.information_fraction);
    j["z_boundary"] = Num(p.z_boundary);
    j["significant"] = p.significant;
    points.push_back(std::move(j));
  }
  return Json{{"variant", s.variant}, {"points", std::move(points)}};
}

Json EncodeMetricReport(const app::MetricReport& m, bool with_series) {
  Json entry = {{"metric", m.metric.key},
                {"name", m.metric.name.value_or(m.metric.key)},
                {"role", app::RoleName(m.role)},
                {"margin", m.margin ? Json(*m.margin) : Json()},
                {"type", app::MetricTypeName(m.metric.type)},
                {"higher_is_better", m.metric.higher_is_better},
                {"valid", m.valid}};
  Json cuped = {{"applied", m.cuped.applied},
                {"lookback_days", m.cuped.lookback_days},
                {"variance_reduction", Num(m.cuped.variance_reduction)}};
  if (!m.cuped.applied && !m.cuped.reason.empty()) cuped["reason"] = m.cuped.reason;
  entry["cuped"] = std::move(cuped);
  if (!m.valid) {
    entry["reason"] = m.reason;
    entry["variants"] = nullptr;
    entry["comparisons"] = nullptr;
    if (with_series) entry["series"] = Json::array();
    return entry;
  }
  Json variants = Json::array();
  for (const auto& v : m.analysis.variants) variants.push_back(EncodeVariantSummary(v));
  entry["variants"] = std::move(variants);
  Json comparisons = Json::array();
  for (size_t c = 0; c < m.analysis.comparisons.size(); ++c) {
    Json j = EncodeComparison(m.analysis.comparisons[c]);
    if (!j.contains("chance_to_beat_control")) j["chance_to_beat_control"] = nullptr;
    j["conclusion"] = app::ConclusionName(m.conclusions[c]);
    if (c < m.guardrails.size() && m.guardrails[c]) {
      const app::GuardrailCheck& g = *m.guardrails[c];
      j["guardrail"] = {{"margin", g.margin ? Json(*g.margin) : Json()},
                        {"harm", g.harm},
                        {"non_inferior", g.margin ? Json(g.non_inferior) : Json()},
                        {"worst_bound", Num(g.worst_bound)},
                        {"best_bound", Num(g.best_bound)}};
    }
    comparisons.push_back(std::move(j));
  }
  entry["comparisons"] = std::move(comparisons);
  if (with_series) {
    Json series = Json::array();
    for (const auto& s : m.series) series.push_back(EncodeSeries(s));
    entry["series"] = std::move(series);
  }
  return entry;
}

Json EncodeExposures(const std::vector<app::ExposureRow>& rows) {
  Json exposures = Json::array();
  for (const auto& e : rows) {
    exposures.push_back({{"variant", e.variant},
                         {"weight", e.weight},
                         {"exposures", e.exposures},
                         {"users", e.users}});
  }
  return exposures;
}

Json EncodeDecisions(const std::vector<app::Decision>& rows) {
  Json decisions = Json::array();
  for (const auto& d : rows) {
    decisions.push_back({{"variant", d.variant},
                         {"decision", app::DecisionName(d.decision)},
                         {"rule", d.rule},
                         {"why", d.why}});
  }
  return decisions;
}

Json EncodePlan(const app::PlanSummary& p) {
  return {{"planned_sample_size", p.planned_sample_size ? Json(*p.planned_sample_size) : Json()},
          {"planned_end", p.planned_end_ms ? Json(IsoTime(*p.planned_end_ms)) : Json()},
          {"information_fraction", Num(p.information_fraction)},
          {"reached", p.reached},
          {"looks", p.looks},
          {"final_look", p.final_look_day ? Json(Date(*p.final_look_day)) : Json()}};
}

// How the report's sequential inference is made: group-sequential under a plan,
// else always-valid.
Json EncodeSequential(const app::Report& r) {
  const app::PlanSummary& p = r.plan;
  if (p.group_sequential) {
    return {{"method", "group_sequential"},
            {"spending", "obrien_fleming"},
            {"looks", "one per completed UTC calendar day with new users"},
            {"alpha_per_goal_comparison",
             r.options.alpha / static_cast<double>(std::max<size_t>(1, p.goal_comparisons))},
            {"description",
             "Lan-DeMets O'Brien-Fleming alpha spending at the observed information "
             "fraction (users so far / planned), one look per calendar day, Bonferroni "
             "across goal metrics x treatments; the verdict is frozen at the final look"}};
  }
  return {{"method", "always_valid"},
          {"expected_n", r.options.expected_n},
          {"description",
           "mixture SPRT confidence sequences (valid at every read), corrected across "
           "goal metrics x treatments; give the experiment a plan (planned_sample_size or "
           "planned_end) for group-sequential monitoring with more power"}};
}

Json EncodeDataQuality(const app::DataQuality& q) {
  return {{"total_exposures", q.total_exposures},
          {"unique_users", q.unique_users},
          {"multi_variant_users", q.multi_variant_users},
          {"unknown_variant_users", q.unknown_variant_users},
          {"wrong_variant_users", q.wrong_variant_users},
          {"override_users", q.override_users},
          {"conversions_before_exposure", q.conversions_before_exposure}};
}

Json EncodeSegments(const app::SegmentReport& s, stats::Correction correction) {
  Json levels = Json::array();
  for (const app::SegmentLevel& l : s.levels) {
    Json lm = Json::array();
    for (const auto& m : l.metrics) lm.push_back(EncodeMetricReport(m, false));
    levels.push_back({{"segment", l.label},
                      {"users", l.users},
                      {"srm", EncodeSrm(l.srm, s.srm_threshold)},
                      {"metrics", std::move(lm)}});
  }
  return {{"by", s.by},
          {"max_levels", s.max_levels},
          {"folded_levels", s.folded_levels},
          {"other", std::to_string(s.folded_levels) + " levels folded into \"other\""},
          {"rfm_event", s.rfm_event ? Json(*s.rfm_event) : Json()},
          {"srm_threshold", s.srm_threshold},
          {"multiple_testing",
           {{"method", CorrectionName(correction)},
            {"family", "every (segment, metric, treatment), always-valid p-values"},
            {"comparisons", s.comparisons}}},
          {"levels", std::move(levels)}};
}

Json EncodeReport(const app::Report& r) {
  Json metrics = Json::array();
  for (const auto& m : r.metrics) metrics.push_back(EncodeMetricReport(m, true));
  Json out{{"experiment", r.experiment},
           {"phase", r.phase},
           {"status", app::StatusName(r.status)},
           {"since", r.since_ms > 0 ? Json(IsoTime(r.since_ms)) : Json(nullptr)},
           {"control", r.control},
           {"alpha", r.options.alpha},
           {"plan", EncodePlan(r.plan)},
           {"sequential", EncodeSequential(r)},
           {"multiple_testing",
            {{"method", CorrectionName(r.options.correction)},
             {"family",
              "goal metrics x treatments (secondary metrics: their own family; "
              "guardrails: each one-sided, uncorrected)"},
             {"comparisons", r.comparisons}}},
           {"exposures", EncodeExposures(r.exposures)},
           {"data_quality", EncodeDataQuality(r.data_quality)},
           {"srm", EncodeSrm(r.srm, r.options.srm_threshold)},
           {"metrics", std::move(metrics)},
           {"attributes", r.attributes},
           {"notes", r.notes},
           {"decisions", EncodeDecisions(r.decisions)}};
  if (r.segments) out["segments"] = EncodeSegments(*r.segments, r.options.correction);
  return out;
}

// Decodes the report's query into its options and the metric keys asked (absent:
// the experiment's own).
Status DecodeReportQuery(const std::multimap<std::string, std::string>& query,
                         app::ReportOptions* options,
                         std::optional<std::vector<std::string>>* metric_keys) {
  FieldReader r = FieldReader::Query(query);
  std::optional<std::string> metrics, segment;
  r.Optional("metrics", &metrics);
  r.Optional("alpha", &options->alpha);
  r.Optional("expected_n", &options->expected_n);
  r.Optional("cuped", &options->cuped);
  r.Optional("segment", &segment);
  r.Enum("multiple_testing", &options->correction,
         {{"holm", stats::Correction::kHolm},
          {"benjamini_hochberg", stats::Correction::kBenjaminiHochberg},
          {"none", stats::Correction::kNone}});
  if (Status s = r.Finish(); !s.ok()) return s;
  if (segment) {
    if (*segment == "rfm") {
      options->segment_rfm = true;
    } else {
      options->segment_by = SplitKeys(*segment);
      if (options->segment_by.empty()) {
        return Status::InvalidArgument("segment", "name one or two attributes, or rfm");
      }
    }
  }
  if (metrics) *metric_keys = SplitKeys(*metrics);
  return Status::Ok();
}

}  // namespace

HandlerResult ExperimentReport(store::Store& store, ExperimentService& experiments,
                               std::string_view key,
                               const std::multimap<std::string, std::string>& query) {
  app::ReportOptions options;
  std::optional<std::vector<std::string>> metric_keys;
  if (Status s = DecodeReportQuery(query, &options, &metric_keys); !s.ok()) return s;
  options.now_ms = NowMs();
  if (Status s = app::ValidateReportOptions(options); !s.ok()) return s;

  auto experiment = experiments.experiments().Get(key);
  if (!experiment.ok()) return experiment.status();
  auto metrics = app::SelectReportMetrics(*experiment, metric_keys, experiments.metrics());
  if (!metrics.ok()) return metrics.status();
  auto report = app::BuildReport(store, *experiment, *metrics, options);
  if (!report.ok()) return report.status();
  return EncodeReport(*report);
}

}  // namespace causeway::api
