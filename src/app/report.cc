#include "app/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>

#include "app/monitoring.h"
#include "app/rfm.h"
#include "app/services.h"
#include "assign/engine.h"
#include "stats/always_valid.h"
#include "stats/group_sequential.h"

namespace causeway::app {
namespace {

// Exposures whose attributes are read to list the attribute names.
constexpr int64_t kAttributeSample = 1000;
// At most this many attribute names are listed.
constexpr size_t kMaxAttributeNames = 50;

// The distinct member names of the attribute objects, in byte order.
std::vector<std::string> AttributeNames(const std::vector<std::string>& attributes) {
  std::set<std::string> names;
  for (const std::string& a : attributes) {
    for (std::string& k : store::FlatJsonKeys(a)) names.insert(std::move(k));
  }
  std::vector<std::string> out(names.begin(), names.end());
  if (out.size() > kMaxAttributeNames) out.resize(kMaxAttributeNames);
  return out;
}

namespace st = causeway::stats;
using store::UserMoments;

constexpr int64_t kDayMs = 86'400'000;
constexpr double kInf = std::numeric_limits<double>::infinity();

bool IsAttributeName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------ analysis input

bool Covariate(const ReportedMetric& m, const ReportOptions& o) {
  return o.cuped && m.metric.cuped_lookback_days > 0;
}

// The analysis input of one metric from per-variant moments; with_covariate adds
// the pre-period covariate (CUPED). Binomial metrics with a covariate are analysed
// as means of 0/1 values (the same z-test asymptotically, and CUPED applies).
AbInput InputOf(const MetricDefinition& m, const std::vector<std::string>& variants,
                const std::vector<double>& weights, const std::vector<UserMoments>& moments,
                bool with_covariate) {
  AbInput in;
  if (m.type == MetricType::kRatio) {
    in.type = AbMetricType::kRatio;
  } else if (m.type == MetricType::kBinomial && !with_covariate) {
    in.type = AbMetricType::kBinomial;
  } else {
    in.type = AbMetricType::kMean;
  }
  for (size_t v = 0; v < variants.size(); ++v) {
    const UserMoments& u = moments[v];
    AbVariant a;
    a.key = variants[v];
    a.n = u.n;
    if (weights[v] > 0) a.weight = weights[v];
    const double y = u.sum[0], yd = u.sum[1], x = u.sum[2], xd = u.sum[3];
    switch (in.type) {
      case AbMetricType::kBinomial:
        a.conversions = static_cast<int64_t>(std::llround(y));
        break;
      case AbMetricType::kMean:
        a.moments = st::MomentStats::FromSums(u.n, y, u.Cross(0, 0));
        if (with_covariate) {
          Eigen::Matrix2d c;
          c << u.Cross(0, 0), u.Cross(0, 2), u.Cross(0, 2), u.Cross(2, 2);
          a.cuped_mean = st::CupedMeanStats::FromSums(u.n, Eigen::Vector2d(y, x), c);
        }
        break;
      case AbMetricType::kRatio: {
        Eigen::Matrix2d c;
        c << u.Cross(0, 0), u.Cross(0, 1), u.Cross(0, 1), u.Cross(1, 1);
        a.ratio = st::RatioStats::FromSums(u.n, Eigen::Vector2d(y, yd), c);
        if (with_covariate) {
          Eigen::Matrix4d c4;
          for (int i = 0; i < 4; ++i) {
            for (int j = 0; j < 4; ++j) c4(i, j) = u.Cross(i, j);
          }
          a.cuped_ratio = st::CupedRatioStats::FromSums(u.n, Eigen::Vector4d(y, yd, x, xd), c4);
        }
        break;
      }
    }
    in.variants.push_back(std::move(a));
  }
  return in;
}

// CUPED is used when asked, the metric has a lookback, and the covariate varies in
// every variant (a pre-period with data); otherwise the reason.
std::string CupedBlocker(const MetricDefinition& m, const std::vector<UserMoments>& moments) {
  for (const UserMoments& u : moments) {
    if (u.n < 2) return "too few users for a covariate";
    const double n = static_cast<double>(u.n);
    const double var_x = u.Cross(2, 2) - u.sum[2] * u.sum[2] / n;
    const double var_xd =
        m.type == MetricType::kRatio ? u.Cross(3, 3) - u.sum[3] * u.sum[3] / n : 1.0;
    if (!(var_x > 1e-12 * std::max(1.0, u.Cross(2, 2))) || !(var_xd > 0)) {
      return "no pre-period data: the covariate does not vary in every variant";
    }
  }
  return "";
}

// ------------------------------------------------------------ per metric

struct DailyComparison {  // one treatment's cumulative fixed-horizon result per day
  std::vector<int64_t> users;
  std::vector<st::EffectResult> effect;
};

st::EffectResult CompareTwo(const AbInput& in, size_t t, double alpha) {
  AbInput two;
  two.type = in.type;
  two.variants = {in.variants[0], in.variants[t]};
  two.variants[0].weight.reset();
  two.variants[1].weight.reset();
  AbOptions o;
  o.alpha = alpha;
  o.correction = st::Correction::kNone;
  auto s = AnalyzeAb(two, o);
  st::EffectResult r;
  if (!s.ok()) {
    r.reason = s.status().message();
    return r;
  }
  const AbComparison& c = s->comparisons[0];
  r.valid = c.valid;
  r.reason = c.reason;
  r.difference = c.absolute.estimate;
  r.std_error = c.absolute.std_error;
  r.p_value = c.p_value;
  r.ci = c.absolute.ci;
  r.relative_valid = c.relative_valid;
  r.relative = c.relative.estimate;
  r.relative_std_error = c.relative.std_error;
  r.relative_ci = c.relative.ci;
  return r;
}

Inference FromEffect(const st::EffectResult& r, st::Interval ci, st::Interval rel, double level,
                     double p, std::optional<Inference>* relative) {
  if (r.relative_valid) *relative = Inference{r.relative, r.relative_std_error, rel, level, p};
  return Inference{r.difference, r.std_error, ci, level, p};
}

// A p-value or fraction in a sentence: 3 significant digits.
std::string Short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// Orientation: +1 when higher is better, -1 otherwise (so that "good" is positive).
double Sign(const MetricDefinition& m) { return m.higher_is_better ? 1.0 : -1.0; }

struct Family {                                  // indices of comparisons corrected together
  std::vector<std::pair<size_t, size_t>> slots;  // (metric, comparison)
};

}  // namespace

Status ValidateReportOptions(const ReportOptions& options) {
  if (!(options.alpha > 0 && options.alpha < 0.5)) {
    return Status::InvalidArgument("alpha", "must be in (0, 0.5)");
  }
  if (!(options.expected_n > 0)) {
    return Status::InvalidArgument("expected_n", "must be a positive number");
  }
  if (options.segment_by.size() > 2) {
    return Status::InvalidArgument("segment", "at most two attributes (segment=country,platform)");
  }
  for (const std::string& a : options.segment_by) {
    if (!IsAttributeName(a)) {
      return Status::InvalidArgument("segment",
                                     "attribute names are 1-64 letters, digits, '_', '-' or '.'");
    }
  }
  if (options.segment_rfm && !options.segment_by.empty()) {
    return Status::InvalidArgument("segment", "rfm cannot be combined with attributes");
  }
  return Status::Ok();
}

StatusOr<Report> BuildReport(store::Store& store, const Experiment& x,
                             const std::vector<ReportedMetric>& metrics,
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
  report.plan.planned_sample_size = x.planned_sample_size;
  report.plan.planned_end_ms = x.planned_end_ms;
  report.plan.group_sequential = x.planned_sample_size || x.planned_end_ms;

  std::vector<std::string> variants;
  std::vector<double> weights;
  for (const auto& v : x.variants) {
    variants.push_back(v.key);
    weights.push_back(v.weight.value_or(0.0));
  }

  // ---- the store's pass
  store::ReportQuery query;
  query.experiment = x.key;
  query.since_ms = report.since_ms;
  query.variants = variants;
  for (const ReportedMetric& rm : metrics) {
    const MetricDefinition& m = rm.metric;
    store::AggregateMetric a;
    a.value = m.type == MetricType::kBinomial ? store::UserValue::kIndicator
              : m.type == MetricType::kCount  ? store::UserValue::kCount
                                              : store::UserValue::kSum;
    a.event = m.event;
    a.denominator_event = m.denominator_event;
    a.window_ms = m.window_hours ? static_cast<int64_t>(*m.window_hours * 3600.0 * 1000.0) : 0;
    a.lookback_ms =
        Covariate(rm, options) ? static_cast<int64_t>(m.cuped_lookback_days * kDayMs) : 0;
    query.metrics.push_back(std::move(a));
  }
  query.segment_attributes = options.segment_by;
  std::optional<std::string> rfm_event;
  if (options.segment_rfm) {
    rfm_event = options.rfm_event;
    if (!rfm_event) {
      for (const ReportedMetric& rm : metrics) {
        if (rm.role == MetricRole::kGoal) {
          rfm_event = rm.metric.event;
          break;
        }
      }
    }
    if (!rfm_event && !metrics.empty()) rfm_event = metrics.front().metric.event;
    if (!rfm_event) {
      return Status::InvalidArgument("segment", "segment=rfm needs a metric (or rfm_event)");
    }
    query.history_event = rfm_event;
    query.segment_by_history = [](const std::vector<store::UserHistory>& users,
                                  std::vector<std::string>* labels,
                                  std::vector<uint16_t>* segment_of_user) {
      std::vector<RfmInput> inputs;
      inputs.reserve(users.size());
      for (const store::UserHistory& u : users) {
        inputs.push_back({u.has_history, u.recency_days, u.frequency, u.monetary});
      }
      const std::vector<RfmTier> tiers = ScoreRfm(inputs);
      labels->clear();
      for (int k = 0; k < kRfmSegmentCount; ++k) {
        labels->emplace_back(RfmSegmentId(static_cast<RfmSegment>(k)));
      }
      segment_of_user->resize(users.size());
      for (size_t i = 0; i < tiers.size(); ++i) {
        (*segment_of_user)[i] = static_cast<uint16_t>(tiers[i].segment);
      }
    };
  }
  Experiment hashed = x;
  hashed.status = assign::ExperimentStatus::kRunning;
  hashed.condition.reset();  // the exposure's attributes are not the assignment's
  const assign::CompiledExperiment compiled = assign::CompileExperiment(ToAssignSpec(hashed));
  query.expected_variant = [&compiled](std::string_view user) {
    return assign::Assign(compiled, user, nullptr).variant_index;
  };
  query.is_override = [&x](std::string_view user) {
    return x.overrides.find(std::string(user)) != x.overrides.end();
  };
  for (const auto& [user, variant] : x.overrides) query.override_users.push_back(user);
  auto agg = store.AggregateReport(query);
  if (!agg.ok()) return agg.status();
  auto sample =
      store.SampleExposureAttributes(report.experiment, report.since_ms, kAttributeSample);
  if (!sample.ok()) return sample.status();
  report.attributes = AttributeNames(*sample);

  // ---- exposures, SRM, data quality
  std::vector<int64_t> users;
  for (size_t v = 0; v < variants.size(); ++v) {
    ExposureRow row{variants[v], weights[v], agg->variants[v].exposures, 0};
    // Analysed users: single-variant users of this variant (the SRM counts them).
    row.users = metrics.empty() ? agg->variants[v].users : agg->totals[0][v].n;
    users.push_back(row.users);
    report.exposures.push_back(std::move(row));
  }
  DataQuality& q = report.data_quality;
  q.total_exposures = agg->total_exposures;
  q.unique_users = agg->unique_users;
  q.multi_variant_users = agg->multi_variant_users;
  q.unknown_variant_users = agg->unknown_variant_users;
  q.wrong_variant_users = agg->wrong_variant_users;
  q.override_users = agg->override_users;
  for (int64_t c : agg->conversions_before_exposure) q.conversions_before_exposure += c;
  report.srm = st::SampleRatioMismatch(users, weights, options.srm_threshold);
  if (agg->unique_users == 0) {
    report.notes.push_back(
        "no exposures yet: send exposure events (POST /v1/events) or call log_exposure from the "
        "SDK; every metric is insufficient_data until users are exposed");
  }
  if (q.wrong_variant_users > 0) {
    report.notes.push_back(std::to_string(q.wrong_variant_users) +
                           " users were logged in a variant other than the one the experiment's "
                           "hash gives them (a client logging the wrong variant?)");
  }
  if (agg->wrong_variant_sample_every > 1) {
    report.notes.push_back("wrong_variant_users is estimated from one analysed user in " +
                           std::to_string(agg->wrong_variant_sample_every) +
                           " (a sample by hash of the user id), times " +
                           std::to_string(agg->wrong_variant_sample_every));
  }

  // ---- cumulative daily moments (prefix sums of the increments)
  const size_t days = agg->daily.size();
  if (days > 0) report.first_day = agg->first_day;
  // Prefix sums in place: daily[d] becomes the statistics at the end of day d.
  auto& cumulative = agg->daily;  // [day][metric][variant]
  for (size_t d = 1; d < days; ++d) {
    for (size_t m = 0; m < metrics.size(); ++m) {
      for (size_t v = 0; v < variants.size(); ++v) cumulative[d][m][v].Add(cumulative[d - 1][m][v]);
    }
  }
  std::vector<int64_t> users_by_day(days, 0);
  if (!metrics.empty()) {
    for (size_t d = 0; d < days; ++d) {
      for (size_t v = 0; v < variants.size(); ++v) users_by_day[d] += cumulative[d][0][v].n;
    }
  }

  // ---- the plan's looks: one per completed UTC day (app/monitoring.h)
  const int64_t today = options.now_ms >= 0 ? options.now_ms / kDayMs : 0;
  std::vector<DailyLook> daily_looks;
  for (size_t d = 0; d < days; ++d) {
    if (agg->first_day + static_cast<int64_t>(d) > today - 1) break;
    daily_looks.push_back({static_cast<int>(d), users_by_day[d], kNaN});
  }
  MonitoringPlan mplan;
  mplan.planned_sample_size = x.planned_sample_size;
  if (x.planned_end_ms && days > 0) {
    const int64_t from = agg->first_day * kDayMs;
    mplan.planned_days = static_cast<int>(
        std::clamp<int64_t>((*x.planned_end_ms - from + kDayMs - 1) / kDayMs, 1, 100'000));
  }
  mplan.alpha = options.alpha;
  // ---- per metric: the headline analysis
  size_t goal_count = 0, secondary_count = 0;
  for (const ReportedMetric& rm : metrics) {
    if (rm.role == MetricRole::kGoal || rm.role == MetricRole::kOther) ++goal_count;
    if (rm.role == MetricRole::kSecondary) ++secondary_count;
  }
  const size_t m_treat = report.treatments.size();
  const size_t goal_m = std::max<size_t>(1, goal_count * m_treat);
  const size_t secondary_m = std::max<size_t>(1, secondary_count * m_treat);
  report.plan.goal_comparisons = goal_count * m_treat;

  // Group-sequential schedules: two-sided at alpha / m for goals (Bonferroni) and
  // for secondaries, one-sided at alpha for guardrails.
  MonitoringResult goal_sched, secondary_sched, guardrail_sched;
  if (report.plan.group_sequential && !daily_looks.empty()) {
    MonitoringPlan p = mplan;
    p.comparisons = static_cast<int>(goal_m);
    goal_sched = PlanLooks(daily_looks, p);
    p.comparisons = static_cast<int>(secondary_m);
    secondary_sched = PlanLooks(daily_looks, p);
    p.comparisons = 1;
    p.sides = 1;
    guardrail_sched = PlanLooks(daily_looks, p);
    if (goal_sched.valid) {
      for (const LookResult& l : goal_sched.looks) report.plan.looks += l.is_look ? 1 : 0;
      report.plan.information_fraction = std::min(1.0, goal_sched.looks.back().observed_fraction);
      report.plan.reached = goal_sched.reached;
      if (goal_sched.final_look) {
        report.plan.final_look_day = agg->first_day + goal_sched.looks[*goal_sched.final_look].day;
        report.plan.information_fraction = 1.0;
      }
    }
  }
  if (report.plan.group_sequential && !report.plan.reached && x.planned_end_ms &&
      options.now_ms >= *x.planned_end_ms) {
    report.plan.reached = true;  // the date passed (with no data on its last days)
  }

  Family goals, secondaries;
  for (size_t mi = 0; mi < metrics.size(); ++mi) {
    const ReportedMetric& rm = metrics[mi];
    MetricReport entry;
    entry.metric = rm.metric;
    entry.role = rm.role;
    entry.margin = rm.margin;
    const std::vector<UserMoments>& totals = agg->totals[mi];
    bool covariate = false;
    if (Covariate(rm, options)) {
      entry.cuped.lookback_days = rm.metric.cuped_lookback_days;
      entry.cuped.reason = CupedBlocker(rm.metric, totals);
      covariate = entry.cuped.reason.empty();
      entry.cuped.applied = covariate;
    } else {
      entry.cuped.reason = options.cuped ? "the metric has no lookback (cuped_lookback_days = 0)"
                                         : "turned off (cuped=false)";
    }
    const AbInput input = InputOf(rm.metric, variants, weights, totals, covariate);
    AbOptions ab;
    ab.alpha = options.alpha;
    ab.correction = st::Correction::kNone;
    ab.srm_threshold = options.srm_threshold;
    if (!report.plan.group_sequential) ab.always_valid = AlwaysValidPlan{options.expected_n};
    auto analysis = AnalyzeAb(input, ab);
    if (!analysis.ok()) {
      entry.reason = analysis.status().message();
      report.metrics.push_back(std::move(entry));
      continue;
    }
    entry.valid = true;
    entry.analysis = std::move(*analysis);
    if (rm.metric.type == MetricType::kBinomial) {  // keep the counts when analysed as a mean
      for (size_t v = 0; v < variants.size(); ++v) {
        entry.analysis.variants[v].conversions =
            static_cast<int64_t>(std::llround(totals[v].sum[0]));
      }
    }
    if (covariate && !entry.analysis.comparisons.empty() && entry.analysis.comparisons[0].cuped) {
      entry.cuped.variance_reduction = entry.analysis.comparisons[0].cuped->variance_reduction;
    }

    // Daily series per treatment, and the group-sequential looks.
    const double sign = Sign(rm.metric);
    for (size_t t = 1; t < variants.size(); ++t) {
      SeriesOfTreatment series;
      series.variant = variants[t];
      std::vector<st::EffectResult> by_day(days);
      for (size_t d = 0; d < days; ++d) {
        const std::vector<UserMoments>& day_moments = cumulative[d][mi];
        const AbInput din = InputOf(rm.metric, variants, weights, day_moments, covariate);
        by_day[d] = CompareTwo(din, t, options.alpha);
        SeriesPoint p;
        p.day = agg->first_day + static_cast<int64_t>(d);
        p.users = day_moments[0].n + day_moments[t].n;
        const st::EffectResult& r = by_day[d];
        p.valid = r.valid;
        if (r.valid && !report.plan.group_sequential) {
          st::AlwaysValidOptions av{options.alpha, options.expected_n, st::Alternative::kTwoSided};
          const auto s = st::AlwaysValid(r, static_cast<double>(p.users), av);
          if (s.valid) {
            p.absolute =
                FromEffect(r, s.ci, s.relative_ci, 1 - options.alpha, s.p_value, &p.relative);
            if (!s.relative_valid) p.relative.reset();
            p.significant = s.p_value < options.alpha / static_cast<double>(goal_m);
          } else {
            p.valid = false;
          }
        } else if (r.valid) {
          p.absolute =
              FromEffect(r, r.ci, r.relative_ci, 1 - options.alpha, r.p_value, &p.relative);
        }
        series.points.push_back(std::move(p));
      }
      AbComparison& comp = entry.analysis.comparisons[t - 1];
      const MonitoringResult& sched =
          rm.role == MetricRole::kSecondary ? secondary_sched : goal_sched;
      if (report.plan.group_sequential && comp.valid && sched.valid) {
        // Crossing when |z| >= c_k at a look (two-sided, alpha / m).
        std::vector<double> z(sched.looks.size(), kNaN);
        for (size_t k = 0; k < sched.looks.size(); ++k) {
          const st::EffectResult& r = by_day[static_cast<size_t>(sched.looks[k].day)];
          if (r.valid && r.std_error > 0) z[k] = r.difference / r.std_error;
        }
        const MonitoringResult monitored = ApplyLooks(sched, z);
        for (size_t k = 0; k < monitored.looks.size(); ++k) {
          const LookResult& look = monitored.looks[k];
          const size_t d = static_cast<size_t>(look.day);
          const st::EffectResult& r = by_day[d];
          SeriesPoint& p = series.points[d];
          p.information_fraction = look.information_fraction;
          p.z_boundary = look.z_boundary;
          p.significant = look.crossed;
          if (!r.valid) continue;
          // No alpha spendable yet (c = +inf): the repeated interval is unbounded.
          const double c = look.z_boundary;
          st::Interval ci{r.difference - c * r.std_error, r.difference + c * r.std_error};
          st::Interval rel{r.relative - c * r.relative_std_error,
                           r.relative + c * r.relative_std_error};
          p.absolute =
              FromEffect(r, ci, rel, 1 - monitored.alpha_per_comparison, r.p_value, &p.relative);
        }
        // The verdict is the first crossing (it stops the test); the interval shown is
        // the repeated confidence interval at the latest look, valid at every look.
        std::optional<size_t> latest;
        for (size_t k = monitored.looks.size(); k-- > 0;) {
          if (monitored.looks[k].is_look) {
            latest = k;
            break;
          }
        }
        if (latest) {
          const LookResult& look = monitored.looks[*latest];
          const size_t d = static_cast<size_t>(look.day);
          GroupSequentialComparison g;
          g.spending = st::SpendingFunction::kObrienFleming;
          g.alpha = monitored.alpha_per_comparison;
          for (size_t k = 0; k <= *latest; ++k) {
            if (!monitored.looks[k].is_look) continue;
            ++g.look;
            if (monitored.first_crossing && k == *monitored.first_crossing) g.crossed_look = g.look;
          }
          g.information_fraction = look.information_fraction;
          g.z_boundary = look.z_boundary;
          g.nominal_p = look.nominal_p;
          g.cumulative_alpha = look.cumulative_alpha;
          g.p_value = by_day[d].p_value;
          g.significant = monitored.first_crossing.has_value();
          if (by_day[d].valid) {
            g.absolute = series.points[d].absolute;
            g.relative = series.points[d].relative;
          }
          if (g.significant) {
            const size_t c = static_cast<size_t>(monitored.looks[*monitored.first_crossing].day);
            g.direction = by_day[c].difference > 0 ? 1 : -1;
          }
          comp.group_sequential = g;
        }
      }
      // Guardrails: one-sided checks against the margin, on the relative effect.
      std::optional<GuardrailCheck> check;
      if (rm.role == MetricRole::kGuardrail && comp.valid && comp.relative_valid) {
        GuardrailCheck gc;
        gc.margin = rm.margin;
        const double margin = rm.margin.value_or(0.0);
        if (report.plan.group_sequential) {
          // One-sided at alpha: non-inferiority when (good + margin) / se crosses
          // upwards, harm when it crosses downwards; the first crossing stops.
          if (guardrail_sched.valid) {
            std::vector<double> up(guardrail_sched.looks.size(), kNaN), down = up;
            for (size_t k = 0; k < guardrail_sched.looks.size(); ++k) {
              const st::EffectResult& r = by_day[static_cast<size_t>(guardrail_sched.looks[k].day)];
              if (!r.valid || !r.relative_valid || !(r.relative_std_error > 0)) continue;
              const double good = sign * r.relative;
              up[k] = (good + margin) / r.relative_std_error;
              down[k] = -up[k];
              const double c = guardrail_sched.looks[k].z_boundary;
              if (guardrail_sched.looks[k].is_look && std::isfinite(c)) {
                gc.worst_bound = good - c * r.relative_std_error;
                gc.best_bound = good + c * r.relative_std_error;
              }
            }
            const MonitoringResult ni = ApplyLooks(guardrail_sched, up);
            const MonitoringResult harm = ApplyLooks(guardrail_sched, down);
            const size_t never = SIZE_MAX;
            const size_t ni_at = ni.first_crossing.value_or(never);
            const size_t harm_at = harm.first_crossing.value_or(never);
            gc.harm = harm_at != never && harm_at <= ni_at;
            gc.non_inferior = rm.margin && ni_at != never && ni_at < harm_at;
          }
        } else {
          st::EffectResult r;
          r.valid = true;
          r.difference = comp.absolute.estimate;
          r.std_error = comp.absolute.std_error;
          r.relative_valid = true;
          r.relative = comp.relative.estimate;
          r.relative_std_error = comp.relative.std_error;
          const double total =
              static_cast<double>(entry.analysis.variants[0].n + entry.analysis.variants[t].n);
          st::AlwaysValidOptions up{options.alpha, options.expected_n, st::Alternative::kGreater};
          st::AlwaysValidOptions down{options.alpha, options.expected_n, st::Alternative::kLess};
          const auto lo = st::AlwaysValid(r, total, up);    // lower bound of the relative
          const auto hi = st::AlwaysValid(r, total, down);  // upper bound
          if (lo.valid && hi.valid && lo.relative_valid && hi.relative_valid) {
            const double lower = lo.relative_ci.lower, upper = hi.relative_ci.upper;
            gc.worst_bound = sign > 0 ? lower : -upper;
            gc.best_bound = sign > 0 ? upper : -lower;
            gc.harm = gc.best_bound < -margin;
            gc.non_inferior = rm.margin && gc.worst_bound > -margin;
          }
        }
        check = gc;
      }
      entry.guardrails.push_back(check);
      entry.series.push_back(std::move(series));
      if (comp.valid) {
        if (rm.role == MetricRole::kGoal || rm.role == MetricRole::kOther) {
          goals.slots.emplace_back(report.metrics.size(), t - 1);
        } else if (rm.role == MetricRole::kSecondary) {
          secondaries.slots.emplace_back(report.metrics.size(), t - 1);
        }
      }
    }
    report.metrics.push_back(std::move(entry));
  }

  // ---- corrections (always-valid p-values; group-sequential uses alpha / m)
  auto correct = [&](const Family& family) {
    std::vector<double> p_fixed, p_seq;
    for (auto [m, c] : family.slots) {
      const AbComparison& comp = report.metrics[m].analysis.comparisons[c];
      p_fixed.push_back(comp.p_value);
      p_seq.push_back(comp.always_valid && comp.always_valid->valid ? comp.always_valid->p_value
                                                                    : 1.0);
    }
    const auto fixed_adj = st::AdjustPValues(p_fixed, options.correction);
    const auto seq_adj = st::AdjustPValues(p_seq, options.correction);
    for (size_t i = 0; i < family.slots.size(); ++i) {
      auto [m, c] = family.slots[i];
      MetricReport& metric = report.metrics[m];
      metric.analysis.correction_applied = options.correction;
      AbComparison& comp = metric.analysis.comparisons[c];
      comp.p_value_adjusted = fixed_adj[i];
      comp.significant = fixed_adj[i] < options.alpha;
      if (comp.always_valid && comp.always_valid->valid) {
        comp.always_valid->p_value_adjusted = seq_adj[i];
        comp.always_valid->significant = seq_adj[i] < options.alpha;
      }
    }
  };
  correct(goals);
  correct(secondaries);
  report.comparisons = goals.slots.size();
  // Guardrails are each tested on their own (one-sided): no correction, so a harm
  // is not hidden by the number of guardrails.
  for (MetricReport& metric : report.metrics) {
    if (!metric.valid) continue;
    for (size_t c = 0; c < metric.analysis.comparisons.size(); ++c) {
      AbComparison& comp = metric.analysis.comparisons[c];
      if (metric.role == MetricRole::kGuardrail && comp.valid) {
        comp.p_value_adjusted = comp.p_value;
        comp.significant = comp.p_value < options.alpha;
        if (comp.always_valid && comp.always_valid->valid) {
          comp.always_valid->p_value_adjusted = comp.always_valid->p_value;
          comp.always_valid->significant = comp.always_valid->p_value < options.alpha;
        }
      }
      metric.conclusions.push_back(Conclude(comp, metric.metric.higher_is_better));
    }
  }

  // ---- segments
  if (!agg->segments.empty() || options.segment_rfm || !options.segment_by.empty()) {
    SegmentReport seg;
    seg.by = options.segment_rfm ? std::vector<std::string>{"rfm"} : options.segment_by;
    seg.max_levels = options.max_segment_levels;
    seg.rfm_event = rfm_event;
    // Keep the largest levels; fold the rest into "other".
    std::vector<size_t> order(agg->segments.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const bool oa = agg->segments[a].label == "other", ob = agg->segments[b].label == "other";
      if (oa != ob) return ob;  // "other" last
      return agg->segments[a].users() > agg->segments[b].users();
    });
    std::vector<store::SegmentAggregate> kept;
    std::optional<store::SegmentAggregate> other;
    seg.folded_levels = agg->folded_levels;
    for (size_t i : order) {
      store::SegmentAggregate& s = agg->segments[i];
      if (s.users() == 0 && options.segment_rfm) continue;  // an unused tier
      if (kept.size() < options.max_segment_levels && s.label != "other") {
        kept.push_back(std::move(s));
        continue;
      }
      if (s.label != "other") ++seg.folded_levels;
      if (!other) {
        other = std::move(s);
        other->label = "other";
      } else {
        for (size_t m = 0; m < other->metrics.size(); ++m) {
          for (size_t v = 0; v < other->metrics[m].size(); ++v)
            other->metrics[m][v].Add(s.metrics[m][v]);
        }
      }
    }
    if (other) kept.push_back(std::move(*other));
    const size_t levels = std::max<size_t>(1, kept.size());
    seg.srm_threshold = options.srm_threshold / static_cast<double>(levels);
    Family family;
    for (const store::SegmentAggregate& s : kept) {
      SegmentLevel level;
      level.label = s.label;
      level.users = s.users();
      std::vector<int64_t> level_users;
      for (size_t v = 0; v < variants.size(); ++v) {
        level_users.push_back(s.metrics.empty() ? 0 : s.metrics[0][v].n);
      }
      level.srm = st::SampleRatioMismatch(level_users, weights, seg.srm_threshold);
      for (size_t mi = 0; mi < metrics.size(); ++mi) {
        MetricReport entry;
        entry.metric = metrics[mi].metric;
        entry.role = metrics[mi].role;
        entry.margin = metrics[mi].margin;
        const bool covariate = report.metrics[mi].cuped.applied &&
                               CupedBlocker(metrics[mi].metric, s.metrics[mi]).empty();
        entry.cuped = report.metrics[mi].cuped;
        entry.cuped.applied = covariate;
        AbOptions ab;
        ab.alpha = options.alpha;
        ab.correction = st::Correction::kNone;
        ab.always_valid = AlwaysValidPlan{options.expected_n};
        auto analysis =
            AnalyzeAb(InputOf(metrics[mi].metric, variants, weights, s.metrics[mi], covariate), ab);
        if (!analysis.ok()) {
          entry.reason = analysis.status().message();
        } else {
          entry.valid = true;
          entry.analysis = std::move(*analysis);
          if (covariate && entry.analysis.comparisons[0].cuped) {
            entry.cuped.variance_reduction =
                entry.analysis.comparisons[0].cuped->variance_reduction;
          }
        }
        level.metrics.push_back(std::move(entry));
      }
      seg.levels.push_back(std::move(level));
    }
    // One family over every (level, metric, treatment), always-valid p-values.
    std::vector<double> p;
    std::vector<AbComparison*> slots;
    for (SegmentLevel& level : seg.levels) {
      for (MetricReport& m : level.metrics) {
        if (!m.valid) continue;
        m.analysis.correction_applied = options.correction;
        for (AbComparison& c : m.analysis.comparisons) {
          if (!c.valid || !c.always_valid || !c.always_valid->valid) continue;
          slots.push_back(&c);
          p.push_back(c.always_valid->p_value);
        }
      }
    }
    const auto adj = st::AdjustPValues(p, options.correction);
    for (size_t i = 0; i < slots.size(); ++i) {
      slots[i]->always_valid->p_value_adjusted = adj[i];
      slots[i]->always_valid->significant = adj[i] < options.alpha;
      slots[i]->p_value_adjusted = adj[i];
      slots[i]->significant = adj[i] < options.alpha;
    }
    seg.comparisons = slots.size();
    for (SegmentLevel& level : seg.levels) {
      for (MetricReport& m : level.metrics) {
        for (const AbComparison& c : m.analysis.comparisons) {
          m.conclusions.push_back(Conclude(c, m.metric.higher_is_better));
        }
      }
    }
    report.segments = std::move(seg);
  }

  report.decisions = Decide(report);
  return report;
}

Conclusion Conclude(const AbComparison& c, bool higher_is_better) {
  if (!c.valid) return Conclusion::kInsufficientData;
  int direction = 0;
  if (c.group_sequential) {
    direction = c.group_sequential->direction;
  } else if (c.always_valid && c.always_valid->valid) {
    if (c.always_valid->significant) direction = c.absolute.estimate > 0 ? 1 : -1;
  } else {
    return Conclusion::kInsufficientData;
  }
  if (direction == 0) return Conclusion::kInconclusive;
  return (direction > 0) == higher_is_better ? Conclusion::kBetter : Conclusion::kWorse;
}

std::vector<Decision> Decide(const Report& report) {
  const bool srm_alarm = report.srm.valid && report.srm.mismatch;
  std::vector<Decision> out;
  for (size_t t = 0; t < report.treatments.size(); ++t) {
    const std::string& variant = report.treatments[t];
    std::vector<std::string> better, worse, harmed, pending, goals;
    for (const MetricReport& m : report.metrics) {
      const bool goal = m.role == MetricRole::kGoal || m.role == MetricRole::kOther;
      if (goal) goals.push_back(m.metric.key);
      if (!m.valid || t >= m.conclusions.size()) continue;
      const Conclusion c = m.conclusions[t];
      if (goal && c == Conclusion::kBetter) better.push_back(m.metric.key);
      if (goal && c == Conclusion::kWorse) worse.push_back(m.metric.key);
      if (m.role == MetricRole::kGuardrail && t < m.guardrails.size() && m.guardrails[t]) {
        const GuardrailCheck& g = *m.guardrails[t];
        if (g.harm) harmed.push_back(m.metric.key);
        if (g.margin && !g.non_inferior && !g.harm) pending.push_back(m.metric.key);
      }
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
      return s;
    };
    const std::string method =
        report.plan.group_sequential ? "group-sequential, O'Brien-Fleming" : "always-valid";
    Decision d{variant, DecisionKind::kKeepRunning, "keep_running", ""};
    if (srm_alarm) {
      d.decision = DecisionKind::kInvalidSrm;
      d.rule = "srm";
      d.why =
          "sample ratio mismatch (p = " + Short(report.srm.p_value) +
          "): the observed split of users does not match the weights, so assignment or exposure "
          "logging is broken and no effect can be trusted; fix it and start a new phase";
    } else if (!worse.empty() || !harmed.empty()) {
      d.decision = DecisionKind::kStopHarm;
      d.rule = !worse.empty() ? "goal_worse" : "guardrail_harm";
      d.why = !worse.empty()
                  ? "goal metric(s) " + join(worse) + " significantly worse (" + method +
                        ", corrected across goal metrics x treatments)"
                  : "guardrail(s) " + join(harmed) +
                        " significantly worse than their margin allows (one-sided, " + method + ")";
    } else if (!better.empty() && pending.empty()) {
      d.decision = DecisionKind::kShip;
      d.rule = "goal_better";
      d.why = "goal metric(s) " + join(better) + " significantly better, none worse (" + method +
              ", corrected across goal metrics x treatments), and no guardrail harmed";
    } else if (!better.empty()) {
      d.rule = "guardrail_pending";
      d.why = "goal metric(s) " + join(better) + " significantly better, but guardrail(s) " +
              join(pending) + " have not yet shown non-inferiority within their margin";
    } else if (report.plan.reached) {
      d.decision = DecisionKind::kNoEffect;
      d.rule = "plan_reached";
      d.why = "the planned " +
              std::string(report.plan.planned_sample_size ? "sample size" : "end date") +
              " was reached and no goal metric moved significantly (" + method + ")";
    } else if (goals.empty()) {
      d.rule = "no_metrics";
      d.why = "no metrics to decide on: name goal_metrics on the experiment";
    } else {
      d.why = "no goal metric is significantly different yet (" + method + ")" +
              (report.plan.group_sequential ? std::string("; information fraction ") +
                                                  (std::isnan(report.plan.information_fraction)
                                                       ? "0"
                                                       : Short(report.plan.information_fraction))
                                            : std::string());
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
    case DecisionKind::kStopHarm:
      return "stop_harm";
    case DecisionKind::kNoEffect:
      return "no_effect";
    case DecisionKind::kInvalidSrm:
      return "invalid_srm";
    case DecisionKind::kKeepRunning:
      break;
  }
  return "keep_running";
}

const char* RoleName(MetricRole role) {
  switch (role) {
    case MetricRole::kGoal:
      return "goal";
    case MetricRole::kSecondary:
      return "secondary";
    case MetricRole::kGuardrail:
      return "guardrail";
    case MetricRole::kOther:
      break;
  }
  return "other";
}

ReportedMetric::Role RoleOf(const Experiment& experiment, const std::string& key) {
  for (const auto& g : experiment.goal_metrics) {
    if (g == key) return {MetricRole::kGoal, std::nullopt};
  }
  for (const auto& g : experiment.secondary_metrics) {
    if (g == key) return {MetricRole::kSecondary, std::nullopt};
  }
  for (const auto& g : experiment.guardrail_metrics) {
    if (g.metric == key) return {MetricRole::kGuardrail, g.margin};
  }
  return {MetricRole::kOther, std::nullopt};
}

StatusOr<std::vector<ReportedMetric>> SelectReportMetrics(
    const Experiment& experiment, const std::optional<std::vector<std::string>>& keys,
    const MetricService& metrics) {
  const Experiment& x = experiment;
  std::vector<std::string> selected;
  if (keys) {
    selected = *keys;
  } else if (!x.goal_metrics.empty() || !x.secondary_metrics.empty() ||
             !x.guardrail_metrics.empty()) {
    selected = x.goal_metrics;
    selected.insert(selected.end(), x.secondary_metrics.begin(), x.secondary_metrics.end());
    for (const auto& g : x.guardrail_metrics) selected.push_back(g.metric);
  } else {
    for (const auto& m : metrics.List()) selected.push_back(m.key);
  }
  std::vector<ReportedMetric> out;
  for (const auto& key : selected) {
    auto m = metrics.Get(key);
    if (!m.ok()) {
      if (m.status().code() != StatusCode::kNotFound) return m.status();
      return Status::NotFound("no metric with key " + key, "metrics");
    }
    const ReportedMetric::Role role = RoleOf(x, key);
    out.push_back({std::move(*m), role.role, role.margin});
  }
  return out;
}

}  // namespace causeway::app
