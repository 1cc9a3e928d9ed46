#include "api/report.h"

#include <sstream>

#include "api/json_util.h"
#include "api/log.h"
#include "api/stats_handlers.h"
#include "stats/multiple_testing.h"
#include "stats/srm.h"

namespace causeway::api {
namespace {

constexpr double kDefaultExpectedN = 5000;  // GrowthBook's default sequential tuning

std::vector<std::string> SplitKeys(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Per-variant input of /v1/analyses/ab for one metric, from the store's aggregates.
StatusOr<Json> AnalysisVariants(store::Store& store, const Json& metric,
                                std::string_view experiment, int64_t since,
                                const std::vector<assign::VariantSpec>& variants) {
  int64_t window_ms = 0;
  if (metric["window_hours"].is_number()) {
    window_ms = static_cast<int64_t>(metric["window_hours"].get<double>() * 3600.0 * 1000.0);
  }
  const std::string type = metric["type"];
  const std::string event = metric["event"];
  Json out = Json::array();
  if (type == "ratio") {
    auto rows_or = store.RatioMetricStats(
        experiment, since, event, metric["denominator_event"].get<std::string>(), window_ms);
    if (!rows_or.ok()) return rows_or.status();
    const auto& rows = *rows_or;
    for (const auto& v : variants) {
      store::VariantRatioStats r;
      for (const auto& row : rows) {
        if (row.variant == v.key) r = row;
      }
      out.push_back({{"key", v.key},
                     {"n", r.users},
                     {"numerator_sum", r.numerator_sum},
                     {"numerator_sum_squares", r.numerator_sum_squares},
                     {"denominator_sum", r.denominator_sum},
                     {"denominator_sum_squares", r.denominator_sum_squares},
                     {"numerator_denominator_sum_product", r.numerator_denominator_sum_product}});
    }
    return out;
  }
  auto rows_or = store.MetricStats(experiment, since, event, window_ms);
  if (!rows_or.ok()) return rows_or.status();
  const auto& rows = *rows_or;
  for (const auto& v : variants) {
    store::VariantMetricStats m;
    for (const auto& row : rows) {
      if (row.variant == v.key) m = row;
    }
    Json j = {{"key", v.key}, {"n", m.users}};
    if (type == "binomial") {
      j["conversions"] = m.converted;
    } else if (type == "count") {
      j["sum"] = static_cast<double>(m.conversions);
      j["sum_squares"] = m.conversions_sum_squares;
    } else {  // mean
      j["sum"] = m.sum;
      j["sum_squares"] = m.sum_squares;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

HandlerResult ExperimentReport(store::Store& store, ExperimentService& experiments,
                               std::string_view key,
                               const std::map<std::string, std::string>& query) {
  for (const auto& [k, v] : query) {
    if (k != "metrics" && k != "alpha" && k != "expected_n" && k != "multiple_testing") {
      return InvalidArgument(k, "unknown query parameter");
    }
  }
  auto found = experiments.Find(key);
  if (auto* e = std::get_if<Status>(&found)) return *e;
  const ExperimentService::View& x = std::get<ExperimentService::View>(found);
  const std::vector<assign::VariantSpec>& variants = x.variants;
  const int64_t since = x.since_ms;

  std::optional<double> alpha_in, expected_n_in;
  if (auto e = QueryNumber(query, "alpha", &alpha_in)) return *e;
  if (auto e = QueryNumber(query, "expected_n", &expected_n_in)) return *e;
  const double alpha = alpha_in.value_or(0.05);
  const double expected_n = expected_n_in.value_or(kDefaultExpectedN);
  if (!(alpha > 0 && alpha < 1)) return InvalidArgument("alpha", "must be in (0, 1)");
  if (!(expected_n > 0)) return InvalidArgument("expected_n", "must be a positive number");
  std::string correction_name = "holm";
  if (auto it = query.find("multiple_testing"); it != query.end()) correction_name = it->second;
  stats::Correction correction;
  if (correction_name == "holm") {
    correction = stats::Correction::kHolm;
  } else if (correction_name == "benjamini_hochberg") {
    correction = stats::Correction::kBenjaminiHochberg;
  } else if (correction_name == "none") {
    correction = stats::Correction::kNone;
  } else {
    return InvalidArgument("multiple_testing", "must be holm, benjamini_hochberg or none");
  }

  std::vector<Json> metrics;
  if (auto it = query.find("metrics"); it != query.end()) {
    for (const auto& mk : SplitKeys(it->second)) {
      auto row = store.GetMetric(mk);
      if (!row.ok()) {
        if (row.status().code() != StatusCode::kNotFound) return row.status();
        return Status::NotFound("no metric with key " + mk, "metrics");
      }
      metrics.push_back(Json::parse(row->config));
    }
  } else {
    auto rows = store.ListMetrics();
    if (!rows.ok()) return rows.status();
    for (const auto& row : *rows) metrics.push_back(Json::parse(row.config));
  }

  // Exposures and the sample-ratio check on exposed users.
  auto exposures_or = store.SummarizeExposures(key, since);
  if (!exposures_or.ok()) return exposures_or.status();
  const store::ExposureSummary& exposures = *exposures_or;
  std::vector<int64_t> users;
  std::vector<double> weights;
  Json exposure_rows = Json::array();
  for (const auto& v : variants) {
    int64_t n = 0, count = 0;
    for (const auto& e : exposures.variants) {
      if (e.variant == v.key) n = e.users, count = e.exposures;
    }
    users.push_back(n);
    weights.push_back(v.weight);
    exposure_rows.push_back(
        {{"variant", v.key}, {"weight", v.weight}, {"exposures", count}, {"users", n}});
  }
  stats::SrmResult srm = stats::SampleRatioMismatch(users, weights);
  Json srm_json = {{"valid", srm.valid}, {"threshold", 0.001}};
  if (srm.valid) {
    srm_json.update({{"chi_square", srm.chi_square},
                     {"df", srm.df},
                     {"p_value", srm.p_value},
                     {"mismatch", srm.mismatch},
                     {"expected_users", srm.expected_counts}});
  } else {
    srm_json["reason"] = srm.reason;
  }

  // Analyse every metric; collect the p-values of the whole family.
  Json metric_results = Json::array();
  struct Slot {
    size_t metric, comparison;
  };
  std::vector<Slot> slots;
  std::vector<double> p_fixed, p_seq;
  for (size_t m = 0; m < metrics.size(); ++m) {
    const Json& metric = metrics[m];
    auto analysis_variants = AnalysisVariants(store, metric, key, since, variants);
    if (!analysis_variants.ok()) return analysis_variants.status();
    Json request = {{"metric_type", metric["type"] == "ratio"      ? "ratio"
                                    : metric["type"] == "binomial" ? "binomial"
                                                                   : "mean"},
                    {"variants", std::move(*analysis_variants)},
                    {"alpha", alpha},
                    {"sequential", {{"method", "always_valid"}, {"expected_n", expected_n}}},
                    {"multiple_testing", "none"}};
    Json entry = {{"metric", metric["key"]},
                  {"type", metric["type"]},
                  {"higher_is_better", metric["higher_is_better"]}};
    HandlerResult r = HandleAnalysesAb(request);
    if (!r.ok()) {
      // Degenerate data the analysis refuses (e.g. fewer than two users): say why.
      entry["valid"] = false;
      entry["reason"] = r.error().message();
      metric_results.push_back(std::move(entry));
      continue;
    }
    entry["valid"] = true;
    entry["variants"] = r.body()["variants"];
    entry["comparisons"] = r.body()["comparisons"];
    for (size_t c = 0; c < entry["comparisons"].size(); ++c) {
      const Json& comp = entry["comparisons"][c];
      if (!comp.value("valid", false) || !comp["p_value"].is_number() ||
          !comp["sequential"].value("valid", false)) {
        continue;
      }
      slots.push_back({m, c});
      p_fixed.push_back(comp["p_value"].get<double>());
      p_seq.push_back(comp["sequential"]["p_value"].get<double>());
    }
    metric_results.push_back(std::move(entry));
  }
  const std::vector<double> fixed_adj = stats::AdjustPValues(p_fixed, correction);
  const std::vector<double> seq_adj = stats::AdjustPValues(p_seq, correction);

  // Conclusions use the always-valid result: it stays valid however often the
  // report is read. Per treatment: ship when some metric is better and none worse.
  std::map<std::string, std::pair<int, int>> better_worse;
  for (size_t i = 0; i < slots.size(); ++i) {
    Json& comp = metric_results[slots[i].metric]["comparisons"][slots[i].comparison];
    const bool higher_is_better = metric_results[slots[i].metric]["higher_is_better"];
    comp["p_value_adjusted"] = fixed_adj[i];
    comp["significant"] = fixed_adj[i] < alpha;
    comp["sequential"]["p_value_adjusted"] = seq_adj[i];
    const bool seq_significant = seq_adj[i] < alpha;
    comp["sequential"]["significant"] = seq_significant;
    std::string conclusion = "inconclusive";
    if (seq_significant) {
      const bool up = comp["absolute"]["estimate"].get<double>() > 0;
      conclusion = up == higher_is_better ? "better" : "worse";
    }
    comp["conclusion"] = conclusion;
    auto& bw = better_worse[comp["variant"].get<std::string>()];
    if (conclusion == "better") ++bw.first;
    if (conclusion == "worse") ++bw.second;
  }
  for (auto& metric : metric_results) {
    if (!metric.contains("comparisons")) continue;
    for (auto& comp : metric["comparisons"]) {
      if (!comp.contains("conclusion")) comp["conclusion"] = "insufficient_data";
    }
  }
  Json decisions = Json::array();
  const bool srm_alarm = srm.valid && srm.mismatch;
  for (size_t v = 1; v < variants.size(); ++v) {
    auto bw = better_worse[variants[v].key];
    std::string decision, why;
    if (srm_alarm) {
      decision = "investigate";
      why =
          "sample ratio mismatch: the observed split of users does not match the weights, so "
          "assignment or exposure logging is broken and no effect can be trusted";
    } else if (bw.second > 0) {
      decision = "do_not_ship";
      why = std::to_string(bw.second) + " metric(s) significantly worse (always-valid, corrected)";
    } else if (bw.first > 0) {
      decision = "ship";
      why = std::to_string(bw.first) +
            " metric(s) significantly better and none worse (always-valid, corrected)";
    } else {
      decision = "keep_running";
      why = "no metric is significantly different yet";
    }
    decisions.push_back({{"variant", variants[v].key}, {"decision", decision}, {"why", why}});
  }

  return Json{{"experiment", key},
              {"phase", x.phase},
              {"status", x.status == assign::ExperimentStatus::kRunning   ? "running"
                         : x.status == assign::ExperimentStatus::kStopped ? "stopped"
                                                                          : "draft"},
              {"since", since > 0 ? Json(IsoTime(since)) : Json(nullptr)},
              {"control", variants[0].key},
              {"alpha", alpha},
              {"sequential", {{"method", "always_valid"}, {"expected_n", expected_n}}},
              {"multiple_testing",
               {{"method", correction_name},
                {"family", "every (metric, treatment) pair"},
                {"comparisons", slots.size()}}},
              {"exposures", exposure_rows},
              {"data_quality",
               {{"total_exposures", exposures.total_exposures},
                {"unique_users", exposures.unique_users},
                {"multi_variant_users", exposures.multi_variant_users}}},
              {"srm", srm_json},
              {"metrics", metric_results},
              {"decisions", decisions}};
}

}  // namespace causeway::api
