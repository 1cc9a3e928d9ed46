#include "api/report.h"

#include <sstream>

#include "api/analysis_codec.h"
#include "api/field_reader.h"
#include "api/log.h"
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

Json EncodeMetricReport(const app::MetricReport& m) {
  Json entry = {{"metric", m.metric.key},
                {"type", app::MetricTypeName(m.metric.type)},
                {"higher_is_better", m.metric.higher_is_better},
                {"valid", m.valid}};
  if (!m.valid) {
    entry["reason"] = m.reason;
    entry["variants"] = nullptr;
    entry["comparisons"] = nullptr;
    return entry;
  }
  Json variants = Json::array();
  for (const auto& v : m.analysis.variants) variants.push_back(EncodeVariantSummary(v));
  entry["variants"] = std::move(variants);
  Json comparisons = Json::array();
  for (size_t c = 0; c < m.analysis.comparisons.size(); ++c) {
    Json j = EncodeComparison(m.analysis.comparisons[c]);
    j["conclusion"] = app::ConclusionName(m.conclusions[c]);
    comparisons.push_back(std::move(j));
  }
  entry["comparisons"] = std::move(comparisons);
  return entry;
}

Json EncodeReport(const app::Report& r) {
  Json exposures = Json::array();
  for (const auto& e : r.exposures) {
    exposures.push_back({{"variant", e.variant},
                         {"weight", e.weight},
                         {"exposures", e.exposures},
                         {"users", e.users}});
  }
  Json srm = {{"valid", r.srm.valid}, {"threshold", r.options.srm_threshold}};
  if (r.srm.valid) {
    srm.update({{"chi_square", r.srm.chi_square},
                {"df", r.srm.df},
                {"p_value", r.srm.p_value},
                {"mismatch", r.srm.mismatch},
                {"expected_users", r.srm.expected_counts}});
  } else {
    srm["reason"] = r.srm.reason;
  }
  Json metrics = Json::array();
  for (const auto& m : r.metrics) metrics.push_back(EncodeMetricReport(m));
  Json decisions = Json::array();
  for (const auto& d : r.decisions) {
    decisions.push_back(
        {{"variant", d.variant}, {"decision", app::DecisionName(d.decision)}, {"why", d.why}});
  }
  return Json{{"experiment", r.experiment},
              {"phase", r.phase},
              {"status", app::StatusName(r.status)},
              {"since", r.since_ms > 0 ? Json(IsoTime(r.since_ms)) : Json(nullptr)},
              {"control", r.control},
              {"alpha", r.options.alpha},
              {"sequential", {{"method", "always_valid"}, {"expected_n", r.options.expected_n}}},
              {"multiple_testing",
               {{"method", CorrectionName(r.options.correction)},
                {"family", "every (metric, treatment) pair"},
                {"comparisons", r.comparisons}}},
              {"exposures", std::move(exposures)},
              {"data_quality",
               {{"total_exposures", r.total_exposures},
                {"unique_users", r.unique_users},
                {"multi_variant_users", r.multi_variant_users}}},
              {"srm", std::move(srm)},
              {"metrics", std::move(metrics)},
              {"decisions", std::move(decisions)}};
}

}  // namespace

HandlerResult ExperimentReport(store::Store& store, ExperimentService& experiments,
                               std::string_view key,
                               const std::multimap<std::string, std::string>& query) {
  FieldReader r = FieldReader::Query(query);
  app::ReportOptions options;
  std::optional<std::string> metric_keys;
  r.Optional("metrics", &metric_keys);
  r.Optional("alpha", &options.alpha);
  r.Optional("expected_n", &options.expected_n);
  r.Enum("multiple_testing", &options.correction,
         {{"holm", stats::Correction::kHolm},
          {"benjamini_hochberg", stats::Correction::kBenjaminiHochberg},
          {"none", stats::Correction::kNone}});
  if (Status s = r.Finish(); !s.ok()) return s;
  if (Status s = app::ValidateReportOptions(options); !s.ok()) return s;

  auto experiment = experiments.experiments().Get(key);
  if (!experiment.ok()) return experiment.status();
  std::vector<app::MetricDefinition> metrics;
  if (metric_keys) {
    for (const auto& mk : SplitKeys(*metric_keys)) {
      auto m = experiments.metrics().Get(mk);
      if (!m.ok()) {
        if (m.status().code() != StatusCode::kNotFound) return m.status();
        return Status::NotFound("no metric with key " + mk, "metrics");
      }
      metrics.push_back(std::move(*m));
    }
  } else {
    metrics = experiments.metrics().List();
  }
  auto report = app::BuildReport(store, *experiment, metrics, options);
  if (!report.ok()) return report.status();
  return EncodeReport(*report);
}

}  // namespace causeway::api
