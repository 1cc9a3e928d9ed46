#include "app/experiment_monitors.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/always_valid.h"
#include "stats/fixed_horizon.h"
#include "stats/moments.h"
#include "stats/ratio_cuped.h"
#include "stats/sequential_srm.h"

namespace causeway::app {
namespace {

namespace st = causeway::stats;

bool Probability(double x) { return x > 0.0 && x < 1.0; }

const MonitorState* Find(const std::vector<MonitorState>& states, const std::string& monitor) {
  for (const MonitorState& s : states) {
    if (s.monitor == monitor) return &s;
  }
  return nullptr;
}

// The previous state of `monitor` (inactive when never evaluated).
MonitorState Previous(const std::vector<MonitorState>& states, const std::string& monitor) {
  const MonitorState* s = Find(states, monitor);
  if (s) return *s;
  MonitorState fresh;
  fresh.monitor = monitor;
  return fresh;
}

// Analysed users per variant, as the report's SRM counts them: single-variant
// users of the variant (every metric counts the same users), or the distinct
// users logged in it when the query has no metric.
std::vector<int64_t> VariantUsers(const store::ReportAggregates& a) {
  std::vector<int64_t> users;
  for (size_t v = 0; v < a.variants.size(); ++v) {
    users.push_back(a.totals.empty() ? a.variants[v].users : a.totals[0][v].n);
  }
  return users;
}

void EvaluateSrm(const ExperimentMonitorConfig::Srm& c, const Experiment& x,
                 const store::ReportAggregates& a, MonitorEvaluation* e) {
  MonitorStatistic& s = e->statistic;
  s.counts = VariantUsers(a);
  for (const ExperimentVariant& v : x.variants) s.expected.push_back(v.weight.value_or(0.0));
  double total_weight = 0.0;
  for (double w : s.expected) total_weight += w;
  for (double& w : s.expected) w = total_weight > 0 ? w / total_weight : 0.0;
  for (int64_t n : s.counts) s.users += n;
  s.boundary = c.alpha;
  if (s.counts.size() != s.expected.size()) {
    e->reason = "the aggregates do not answer this experiment's variants";
    return;
  }
  if (std::any_of(s.expected.begin(), s.expected.end(), [](double w) { return !(w > 0.0); })) {
    e->reason = "a variant has weight 0";
    return;
  }
  e->evaluated = true;
  if (s.users < c.min_users) {
    e->reason = "not enough data";
    return;
  }
  st::SequentialSrmInput in{s.counts, s.expected, c.concentration, c.alpha};
  const st::SequentialSrmResult r = st::SequentialSrmBayesFactor(in);
  if (!r.valid) {
    e->reason = r.reason;
    return;
  }
  s.estimate = r.log_bayes_factor;
  s.e_value = r.e_value;
  s.p_value = r.p_value;
  e->condition = r.reject;
}

// The fixed-horizon comparison of treatment t with the control for the metric's
// type (relative effect and its delta-method standard error are what we use).
st::EffectResult Compare(const MetricDefinition& m, const store::UserMoments& c,
                         const store::UserMoments& t) {
  using M = store::UserMoments;
  const st::TestOptions options;  // the p-value and CI at 0.05 are not used
  switch (m.type) {
    case MetricType::kBinomial: {
      // Wald variances p (1 - p) / n, as CompareProportions; an arm with no (or
      // only) conversions would have variance 0, so its variance takes
      // p = (c + 1/2) / (n + 1) instead: a treatment that stopped converting
      // altogether is the harm to catch, not a case without a test.
      auto arm = [](const M& u) {
        const double n = static_cast<double>(u.n), conversions = u.sum[M::kYNum];
        const double p = n > 0 ? conversions / n : 0.0;
        const double q = conversions > 0 && conversions < n ? p : (conversions + 0.5) / (n + 1.0);
        return st::ArmEstimate{p, n > 0 ? q * (1.0 - q) / n : 0.0, u.n};
      };
      if (c.n < 2 || t.n < 2) return {};
      return st::CompareArmEstimates(arm(c), arm(t), options, /*use_welch_df=*/false);
    }
    case MetricType::kMean:
    case MetricType::kCount:
      return st::CompareMeans(
          st::MomentStats::FromSums(c.n, c.sum[M::kYNum], c.Cross(M::kYNum, M::kYNum)),
          st::MomentStats::FromSums(t.n, t.sum[M::kYNum], t.Cross(M::kYNum, M::kYNum)), options);
    case MetricType::kRatio: {
      auto ratio = [](const M& u) {
        Eigen::Matrix2d cross;
        cross << u.Cross(M::kYNum, M::kYNum), u.Cross(M::kYNum, M::kYDen),
            u.Cross(M::kYNum, M::kYDen), u.Cross(M::kYDen, M::kYDen);
        return st::RatioStats::FromSums(u.n, Eigen::Vector2d(u.sum[M::kYNum], u.sum[M::kYDen]),
                                        cross);
      };
      return st::CompareRatios(ratio(c), ratio(t), options);
    }
  }
  return {};
}

void EvaluateGuardrail(const ExperimentMonitorConfig::Guardrail& c, const Experiment& x,
                       const MetricDefinition& metric, const std::vector<store::UserMoments>& row,
                       MonitorEvaluation* e) {
  MonitorStatistic& s = e->statistic;
  s.boundary = c.alpha;
  double margin = 0.0;
  for (const GuardrailMetric& g : x.guardrail_metrics) {
    if (g.metric == metric.key) margin = g.margin.value_or(0.0);
  }
  const double sign = metric.higher_is_better ? 1.0 : -1.0;
  s.margin = -sign * margin;
  if (row.size() != x.variants.size() || row.size() < 2) {
    e->reason = "the aggregates do not answer this experiment's variants";
    return;
  }
  e->evaluated = true;
  const double expected_n =
      x.planned_sample_size ? static_cast<double>(*x.planned_sample_size) : c.expected_n;
  bool any = false;
  for (size_t t = 1; t < row.size(); ++t) {
    if (row[0].n < c.min_users_per_variant || row[t].n < c.min_users_per_variant) continue;
    const st::EffectResult r = Compare(metric, row[0], row[t]);
    if (!r.valid || !r.relative_valid) continue;
    const double total = static_cast<double>(row[0].n + row[t].n);
    const GuardrailHarmTest h =
        TestGuardrailHarm(r.relative, r.relative_std_error, total, metric.higher_is_better, margin,
                          c.alpha, expected_n);
    if (!h.valid) continue;
    // The treatment closest to harm: the smallest p-value (ties: the first).
    if (!any || h.p_value < s.p_value) {
      s.estimate = r.relative;
      s.std_error = r.relative_std_error;
      s.p_value = h.p_value;
      s.bound = sign * h.bound;  // back to the relative effect's own direction
      s.variant = x.variants[t].key;
      s.users = row[0].n + row[t].n;
    }
    any = true;
    e->condition = e->condition || h.harm;
  }
  if (!any) e->reason = "not enough data";
}

void EvaluateNoTraffic(const ExperimentMonitorConfig::NoTraffic& c, const Experiment& x,
                       const store::ReportAggregates& a, int64_t as_of_ms, MonitorEvaluation* e) {
  MonitorStatistic& s = e->statistic;
  e->evaluated = true;
  s.last_exposure_ms = a.latest_exposure_ms;
  s.users = a.unique_users;
  int64_t clock = std::max(a.latest_exposure_ms, x.updated_ms);
  clock = std::max(clock, x.created_ms);
  for (const Phase& p : x.phases) {
    if (p.phase == x.phase) clock = std::max(clock, p.started_ms);
  }
  s.estimate = static_cast<double>(as_of_ms - clock) / static_cast<double>(kMinuteMs);
  s.boundary = static_cast<double>(c.window_ms) / static_cast<double>(kMinuteMs);
  e->condition = as_of_ms - clock >= c.window_ms;
}

void EvaluateMultiExposure(const ExperimentMonitorConfig::MultiExposure& c,
                           const store::ReportAggregates& a, MonitorEvaluation* e) {
  MonitorStatistic& s = e->statistic;
  e->evaluated = true;
  s.users = a.unique_users;
  s.multi_variant_users = a.multi_variant_users;
  s.boundary = c.threshold;
  if (a.unique_users == 0) {
    e->reason = "not enough data";
    return;
  }
  s.estimate = static_cast<double>(a.multi_variant_users) / static_cast<double>(a.unique_users);
  if (a.multi_variant_users < c.min_users) {
    e->reason = "not enough data";
    return;
  }
  e->condition = s.estimate > c.threshold;
}

}  // namespace

const char* MonitorKindName(MonitorKind kind) {
  switch (kind) {
    case MonitorKind::kSrm:
      return "srm";
    case MonitorKind::kGuardrail:
      return "guardrail";
    case MonitorKind::kNoTraffic:
      return "no_traffic";
    case MonitorKind::kMultiExposure:
      return "multi_exposure";
  }
  return "unknown";
}

Status ValidateMonitorConfig(const ExperimentMonitorConfig& c) {
  if (c.interval_ms < kMinuteMs) {
    return Status::InvalidArgument("interval_ms", "must be at least 60000 (one minute)");
  }
  if (!Probability(c.srm.alpha)) return Status::InvalidArgument("srm.alpha", "must be in (0, 1)");
  if (!(c.srm.concentration > 0.0) || !std::isfinite(c.srm.concentration)) {
    return Status::InvalidArgument("srm.concentration", "must be positive");
  }
  if (c.srm.min_users < 0) return Status::InvalidArgument("srm.min_users", "must be >= 0");
  if (!(c.guardrail.alpha > 0.0 && c.guardrail.alpha < 0.5)) {
    return Status::InvalidArgument("guardrail.alpha", "must be in (0, 0.5) (one-sided)");
  }
  if (!(c.guardrail.expected_n >= 1.0) || !std::isfinite(c.guardrail.expected_n)) {
    return Status::InvalidArgument("guardrail.expected_n", "must be at least 1");
  }
  if (c.guardrail.min_users_per_variant < 2) {
    return Status::InvalidArgument("guardrail.min_users_per_variant", "must be at least 2");
  }
  if (c.no_traffic.window_ms < kMinuteMs) {
    return Status::InvalidArgument("no_traffic.window_ms", "must be at least 60000 (one minute)");
  }
  if (!Probability(c.multi_exposure.threshold)) {
    return Status::InvalidArgument("multi_exposure.threshold", "must be in (0, 1)");
  }
  if (c.multi_exposure.min_users < 1) {
    return Status::InvalidArgument("multi_exposure.min_users", "must be at least 1");
  }
  for (const auto& [field, value] : {std::pair<const char*, int64_t>{"srm.for_ms", c.srm.for_ms},
                                     {"guardrail.for_ms", c.guardrail.for_ms},
                                     {"no_traffic.for_ms", c.no_traffic.for_ms},
                                     {"multi_exposure.for_ms", c.multi_exposure.for_ms}}) {
    if (value < 0) return Status::InvalidArgument(field, "must be >= 0");
  }
  return Status::Ok();
}

GuardrailHarmTest TestGuardrailHarm(double relative, double relative_std_error, double total_n,
                                    bool higher_is_better, double margin, double alpha,
                                    double expected_n) {
  GuardrailHarmTest out;
  if (!std::isfinite(relative) || !(relative_std_error > 0.0) || !(margin >= 0.0)) {
    out.reason = "no relative effect";
    return out;
  }
  // H0: good + margin >= 0 against "less": the one-sided mixture test of the
  // shifted effect, whose upper confidence-sequence end minus the margin is the
  // good-direction effect's upper end.
  const double good = higher_is_better ? relative : -relative;
  st::EffectResult shifted;
  shifted.valid = true;
  shifted.difference = good + margin;
  shifted.std_error = relative_std_error;
  const st::AlwaysValidOptions options{alpha, expected_n, st::Alternative::kLess};
  const st::AlwaysValidResult r = st::AlwaysValid(shifted, total_n, options);
  if (!r.valid) {
    out.reason = r.reason;
    return out;
  }
  out.valid = true;
  out.rho = r.rho;
  out.p_value = r.p_value;
  out.bound = r.ci.upper - margin;
  out.harm = r.p_value <= alpha;
  return out;
}

MonitorState NextMonitorState(const MonitorState& previous, bool condition, int64_t for_ms,
                              int64_t as_of_ms, std::optional<MonitorTransition>* transition) {
  const AlertStateKind from = previous.state;
  AlertStateKind to = from;
  if (condition) {
    if (from == AlertStateKind::kInactive || from == AlertStateKind::kResolved) {
      to = for_ms == 0 ? AlertStateKind::kFiring : AlertStateKind::kPending;
    } else if (from == AlertStateKind::kPending && as_of_ms - previous.since_ms >= for_ms) {
      to = AlertStateKind::kFiring;
    }
  } else if (from == AlertStateKind::kPending || from == AlertStateKind::kResolved) {
    to = AlertStateKind::kInactive;
  } else if (from == AlertStateKind::kFiring) {
    to = AlertStateKind::kResolved;
  }
  MonitorState next = previous;
  transition->reset();
  if (to != from) {
    next.state = to;
    next.since_ms = as_of_ms;
    *transition = MonitorTransition{as_of_ms, from, to};
  }
  return next;
}

store::ReportQuery MonitorQuery(const Experiment& x,
                                const std::vector<MetricDefinition>& guardrails, int64_t as_of_ms) {
  store::ReportQuery q;
  q.experiment = x.key;
  q.since_ms = x.SinceMs();
  q.until_ms = as_of_ms;
  for (const ExperimentVariant& v : x.variants) q.variants.push_back(v.key);
  for (const MetricDefinition& m : guardrails) {
    store::AggregateMetric a;
    a.value = m.type == MetricType::kBinomial ? store::UserValue::kIndicator
              : m.type == MetricType::kCount  ? store::UserValue::kCount
                                              : store::UserValue::kSum;
    a.event = m.event;
    a.denominator_event = m.denominator_event;
    a.window_ms = m.window_hours ? static_cast<int64_t>(*m.window_hours * 3600.0 * 1000.0) : 0;
    q.metrics.push_back(std::move(a));
  }
  return q;
}

std::vector<MonitorEvaluation> EvaluateExperimentMonitors(
    const ExperimentMonitorConfig& config, const Experiment& x,
    const std::vector<MetricDefinition>& guardrails, const store::ReportAggregates& aggregates,
    const std::vector<MonitorState>& previous, int64_t as_of_ms) {
  std::vector<MonitorEvaluation> out;
  auto add = [&](MonitorKind kind, std::string monitor) -> MonitorEvaluation& {
    MonitorEvaluation& e = out.emplace_back();
    e.kind = kind;
    e.monitor = std::move(monitor);
    e.state = Previous(previous, e.monitor);
    return e;
  };
  if (config.srm.enabled) add(MonitorKind::kSrm, "srm");
  if (config.guardrail.enabled) {
    for (const MetricDefinition& m : guardrails) add(MonitorKind::kGuardrail, "guardrail:" + m.key);
  }
  if (config.no_traffic.enabled) add(MonitorKind::kNoTraffic, "no_traffic");
  if (config.multi_exposure.enabled) add(MonitorKind::kMultiExposure, "multi_exposure");

  const Status valid = ValidateMonitorConfig(config);
  const bool running = x.status == assign::ExperimentStatus::kRunning;
  size_t guardrail = 0;
  for (MonitorEvaluation& e : out) {
    if (!valid.ok()) {
      e.reason = "invalid configuration: " + valid.field() + " " + valid.message();
      continue;
    }
    if (!running) {
      e.reason = "not running";
      continue;
    }
    int64_t for_ms = 0;
    switch (e.kind) {
      case MonitorKind::kSrm:
        EvaluateSrm(config.srm, x, aggregates, &e);
        for_ms = config.srm.for_ms;
        break;
      case MonitorKind::kGuardrail: {
        const size_t m = guardrail++;
        if (m < aggregates.totals.size()) {
          EvaluateGuardrail(config.guardrail, x, guardrails[m], aggregates.totals[m], &e);
        } else {
          e.reason = "the aggregates do not answer this metric";
        }
        for_ms = config.guardrail.for_ms;
        break;
      }
      case MonitorKind::kNoTraffic:
        EvaluateNoTraffic(config.no_traffic, x, aggregates, as_of_ms, &e);
        for_ms = config.no_traffic.for_ms;
        break;
      case MonitorKind::kMultiExposure:
        EvaluateMultiExposure(config.multi_exposure, aggregates, &e);
        for_ms = config.multi_exposure.for_ms;
        break;
    }
    if (!e.evaluated) continue;
    e.state = NextMonitorState(e.state, e.condition, for_ms, as_of_ms, &e.transition);
  }
  return out;
}

}  // namespace causeway::app
