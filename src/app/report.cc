#include "app/report.h"

#include <map>

namespace causeway::app {
namespace {

int64_t WindowMs(const MetricDefinition& m) {
  return m.window_hours ? static_cast<int64_t>(*m.window_hours * 3600.0 * 1000.0) : 0;
}

// The analysis input of one metric from the store's per-variant aggregates; a
// variant without rows has no users.
StatusOr<AbInput> MetricInput(store::Store& store, const Experiment& x, const MetricDefinition& m) {
  AbInput in;
  const int64_t since = x.SinceMs();
  if (m.type == MetricType::kRatio) {
    in.type = AbMetricType::kRatio;
    auto rows = store.RatioMetricStats(x.key, since, m.event, m.denominator_event.value_or(""),
                                       WindowMs(m));
    if (!rows.ok()) return rows.status();
    for (const auto& v : x.variants) {
      store::VariantRatioStats r;
      for (const auto& row : *rows) {
        if (row.variant == v.key) r = row;
      }
      AbVariant a;
      a.key = v.key;
      a.n = r.users;
      Eigen::Matrix2d cross;
      cross << r.numerator_sum_squares, r.numerator_denominator_sum_product,
          r.numerator_denominator_sum_product, r.denominator_sum_squares;
      a.ratio = stats::RatioStats::FromSums(
          r.users, Eigen::Vector2d(r.numerator_sum, r.denominator_sum), cross);
      in.variants.push_back(std::move(a));
    }
    return in;
  }
  in.type = m.type == MetricType::kBinomial ? AbMetricType::kBinomial : AbMetricType::kMean;
  auto rows = store.MetricStats(x.key, since, m.event, WindowMs(m));
  if (!rows.ok()) return rows.status();
  for (const auto& v : x.variants) {
    store::VariantMetricStats s;
    for (const auto& row : *rows) {
      if (row.variant == v.key) s = row;
    }
    AbVariant a;
    a.key = v.key;
    a.n = s.users;
    switch (m.type) {
      case MetricType::kBinomial:
        a.conversions = s.converted;
        break;
      case MetricType::kCount:
        a.moments = stats::MomentStats::FromSums(s.users, static_cast<double>(s.conversions),
                                                 s.conversions_sum_squares);
        break;
      case MetricType::kMean:
      case MetricType::kRatio:
        a.moments = stats::MomentStats::FromSums(s.users, s.sum, s.sum_squares);
        break;
    }
    in.variants.push_back(std::move(a));
  }
  return in;
}

}  // namespace

Status ValidateReportOptions(const ReportOptions& options) {
  if (!(options.alpha > 0 && options.alpha < 1)) {
    return Status::InvalidArgument("alpha", "must be in (0, 1)");
  }
  if (!(options.expected_n > 0)) {
    return Status::InvalidArgument("expected_n", "must be a positive number");
  }
  return Status::Ok();
}

StatusOr<Report> BuildReport(store::Store& store, const Experiment& x,
                             const std::vector<MetricDefinition>& metrics,
                             const ReportOptions& options) {
  if (Status s = ValidateReportOptions(options); !s.ok()) return s;
  Report report;
  report.experiment = x.key;
  report.phase = x.phase;
  report.status = x.status;
  report.since_ms = x.SinceMs();
  report.control = x.variants.front().key;
  for (size_t i = 1; i < x.variants.size(); ++i) report.treatments.push_back(x.variants[i].key);
  report.options = options;

  // Exposures and the sample-ratio check on exposed users.
  auto exposures = store.SummarizeExposures(x.key, report.since_ms);
  if (!exposures.ok()) return exposures.status();
  std::vector<int64_t> users;
  std::vector<double> weights;
  for (const auto& v : x.variants) {
    ExposureRow row{v.key, v.weight.value_or(0.0), 0, 0};
    for (const auto& e : exposures->variants) {
      if (e.variant == v.key) row.users = e.users, row.exposures = e.exposures;
    }
    users.push_back(row.users);
    weights.push_back(row.weight);
    report.exposures.push_back(std::move(row));
  }
  report.total_exposures = exposures->total_exposures;
  report.unique_users = exposures->unique_users;
  report.multi_variant_users = exposures->multi_variant_users;
  report.srm = stats::SampleRatioMismatch(users, weights, options.srm_threshold);

  // Analyse every metric (no correction within a metric); collect the family.
  AbOptions ab;
  ab.alpha = options.alpha;
  ab.correction = stats::Correction::kNone;
  ab.always_valid = AlwaysValidPlan{options.expected_n};
  struct Slot {
    size_t metric, comparison;
  };
  std::vector<Slot> slots;
  std::vector<double> p_fixed, p_seq;
  for (size_t m = 0; m < metrics.size(); ++m) {
    MetricReport entry;
    entry.metric = metrics[m];
    auto input = MetricInput(store, x, metrics[m]);
    if (!input.ok()) return input.status();
    auto analysis = AnalyzeAb(*input, ab);
    if (!analysis.ok()) {
      // Data the analysis refuses: say why, and report the other metrics.
      entry.reason = analysis.status().message();
      report.metrics.push_back(std::move(entry));
      continue;
    }
    entry.valid = true;
    entry.analysis = std::move(*analysis);
    for (size_t c = 0; c < entry.analysis.comparisons.size(); ++c) {
      const AbComparison& comp = entry.analysis.comparisons[c];
      if (!comp.valid || !comp.always_valid || !comp.always_valid->valid) continue;
      slots.push_back({m, c});
      p_fixed.push_back(comp.p_value);
      p_seq.push_back(comp.always_valid->p_value);
    }
    report.metrics.push_back(std::move(entry));
  }
  report.comparisons = slots.size();
  const std::vector<double> fixed_adj = stats::AdjustPValues(p_fixed, options.correction);
  const std::vector<double> seq_adj = stats::AdjustPValues(p_seq, options.correction);
  for (MetricReport& metric : report.metrics) {
    metric.analysis.correction_applied = options.correction;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    AbComparison& comp = report.metrics[slots[i].metric].analysis.comparisons[slots[i].comparison];
    comp.p_value_adjusted = fixed_adj[i];
    comp.significant = fixed_adj[i] < options.alpha;
    comp.always_valid->p_value_adjusted = seq_adj[i];
    comp.always_valid->significant = seq_adj[i] < options.alpha;
  }
  for (MetricReport& metric : report.metrics) {
    for (const AbComparison& comp : metric.analysis.comparisons) {
      metric.conclusions.push_back(Conclude(comp, metric.metric.higher_is_better));
    }
  }
  report.decisions = Decide(report);
  return report;
}

Conclusion Conclude(const AbComparison& c, bool higher_is_better) {
  if (!c.valid || !c.always_valid || !c.always_valid->valid) {
    return Conclusion::kInsufficientData;
  }
  if (!c.always_valid->significant) return Conclusion::kInconclusive;
  const bool up = c.absolute.estimate > 0;
  return up == higher_is_better ? Conclusion::kBetter : Conclusion::kWorse;
}

std::vector<Decision> Decide(const Report& report) {
  std::map<std::string, std::pair<int, int>> better_worse;
  for (const MetricReport& m : report.metrics) {
    for (size_t c = 0; c < m.conclusions.size(); ++c) {
      auto& bw = better_worse[m.analysis.comparisons[c].variant];
      if (m.conclusions[c] == Conclusion::kBetter) ++bw.first;
      if (m.conclusions[c] == Conclusion::kWorse) ++bw.second;
    }
  }
  const bool srm_alarm = report.srm.valid && report.srm.mismatch;
  std::vector<Decision> out;
  for (const std::string& variant : report.treatments) {
    const auto [better, worse] = better_worse[variant];
    Decision d{variant, DecisionKind::kKeepRunning, "no metric is significantly different yet"};
    if (srm_alarm) {
      d.decision = DecisionKind::kInvestigate;
      d.why =
          "sample ratio mismatch: the observed split of users does not match the weights, so "
          "assignment or exposure logging is broken and no effect can be trusted";
    } else if (worse > 0) {
      d.decision = DecisionKind::kDoNotShip;
      d.why = std::to_string(worse) + " metric(s) significantly worse (always-valid, corrected)";
    } else if (better > 0) {
      d.decision = DecisionKind::kShip;
      d.why = std::to_string(better) +
              " metric(s) significantly better and none worse (always-valid, corrected)";
    }
    out.push_back(std::move(d));
  }
  return out;
}

const char* ConclusionName(Conclusion c) {
  switch (c) {
    case Conclusion::kBetter:
      return "better";
    case Conclusion::kWorse:
      return "worse";
    case Conclusion::kInconclusive:
      return "inconclusive";
    case Conclusion::kInsufficientData:
      break;
  }
  return "insufficient_data";
}

const char* DecisionName(DecisionKind d) {
  switch (d) {
    case DecisionKind::kShip:
      return "ship";
    case DecisionKind::kDoNotShip:
      return "do_not_ship";
    case DecisionKind::kInvestigate:
      return "investigate";
    case DecisionKind::kKeepRunning:
      break;
  }
  return "keep_running";
}

}  // namespace causeway::app
