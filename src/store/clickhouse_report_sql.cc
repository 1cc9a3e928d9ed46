#include "store/clickhouse_report_sql.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <utility>

#include "store/clickhouse_client.h"

namespace causeway::store::ch {
namespace {

// User status (st).
enum UserStatus : int { kAnalysed = 0, kMultiVariant = 1, kUnknownVariant = 2 };

constexpr const char* kDayMs = "86400000";

std::string Str(size_t i) { return std::to_string(i); }

// floor(t / day) for any sign, as store/report_aggregates.cc's DayOf.
std::string DayExpr(const std::string& t) {
  return "intDiv(" + t + " - if(" + t + " < 0, 86399999, 0), " + kDayMs + ")";
}

// The 14 sums [sums(4), cross(10)] of the quantities q (4 expressions) that
// UserMoments::AddUser(q) adds, as aggregate expressions.
std::vector<std::string> MomentSums(const std::vector<std::string>& q) {
  std::vector<std::string> v;
  for (const auto& x : q) v.push_back("sum(" + x + ")");
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = i; j < 4; ++j) v.push_back("sum(" + q[i] + " * " + q[j] + ")");
  }
  return v;
}

// `expr`, also naming `columns` outside of its lambdas: ClickHouse 18.16 prunes
// a subquery's columns that the outer query names only inside a lambda
// ("Unknown identifier"), so every column a lambda captures is named here too.
std::string Keep(const std::string& expr, const std::vector<std::string>& columns) {
  std::string out = "tupleElement(tuple(" + expr;
  for (const auto& c : columns) out += ", " + c;
  return out + "), 1)";
}

std::string VariantList(const ReportQuery& q) {
  std::string out = "[";
  for (size_t i = 0; i < q.variants.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(q.variants[i]);
  }
  return out + "]";
}

// The per-user query as nested SELECTs: level 0 groups the events by user,
// each further level adds columns computed from the previous ones. ClickHouse
// 18.16 expands aliases within one SELECT into whole expression trees, so long
// alias chains in one level cost seconds of query analysis; across levels they
// are plain columns.
class Levels {
 public:
  explicit Levels(size_t n) : items_(n) {}
  void Add(size_t level, const std::string& expr, const std::string& alias) {
    items_[level].push_back(expr + " AS " + alias);
  }
  // "SELECT uid, <level 0> FROM source GROUP BY uid HAVING ...", wrapped by each level.
  std::string Sql(const std::string& source_and_where) const {
    std::string sql = "SELECT uid, " + Join(items_[0]) + " FROM " + source_and_where +
                      " GROUP BY uid HAVING length(ex_v_raw) > 0";
    for (size_t i = 1; i < items_.size(); ++i) {
      if (!items_[i].empty()) sql = "SELECT *, " + Join(items_[i]) + " FROM (" + sql + ")";
    }
    return sql;
  }

 private:
  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i > 0 ? ", " : "") + v[i];
    return out;
  }
  std::vector<std::vector<std::string>> items_;
};

// The per-user columns shared by the report and the analysed-users query:
// exposures, status, variant index and t0 (t0, ex_*, st at level 4, vi at 5).
void AddUserCore(const ReportQuery& q, Levels* l) {
  l->Add(0, "minIf(ts, type = 0)", "t0");
  l->Add(0, "groupArrayIf(variant, type = 0)", "ex_v_raw");
  l->Add(0, "groupArrayIf(cityHash64(id), type = 0)", "ex_h");
  l->Add(1, "arrayFilter((x, u) -> u = 1, ex_v_raw, arrayEnumerateUniq(ex_h))", "ex_v");
  l->Add(2, "arrayMap(x -> indexOf(" + VariantList(q) + ", x), ex_v)", "ex_i");
  l->Add(3, "arrayDistinct(arrayFilter(x -> x > 0, ex_i))", "ex_known");
  l->Add(3, "has(ex_i, 0)", "ex_unknown");
  l->Add(4,
         "multiIf(length(ex_known) + ex_unknown > 1, " + std::to_string(kMultiVariant) +
             ", ex_unknown, " + std::to_string(kUnknownVariant) + ", " + std::to_string(kAnalysed) +
             ")",
         "st");
  l->Add(5, "if(st = 0, ex_i[1] - 1, 0)", "vi");
}

// " AND ts < until_ms" when the query has an upper bound, else "".
std::string UntilSql(const ReportQuery& q) {
  return q.until_ms == std::numeric_limits<int64_t>::max()
             ? std::string()
             : " AND ts < " + std::to_string(q.until_ms);
}

// The experiment's exposures in the query's time bounds.
std::string ExposuresWhere(const ReportQuery& q) {
  return "type = 0 AND key = " + Quote(q.experiment) + " AND ts >= " + std::to_string(q.since_ms) +
         UntilSql(q);
}

std::string Where(const ReportQuery& q, const std::vector<std::string>& names) {
  std::string w = "(" + ExposuresWhere(q) + ")";
  if (!names.empty()) {
    w += " OR (type = 1 AND key IN (";
    for (size_t k = 0; k < names.size(); ++k) {
      if (k > 0) w += ", ";
      w += Quote(names[k]);
    }
    w += ")" + UntilSql(q) + ")";
  }
  return w;
}

bool ParseDouble(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

bool ParseInt(const std::string& s, int64_t* v) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *v);
  return ec == std::errc() && p == end;
}

// Moments from n and the 14 sums at v[0..13].
UserMoments MomentsOf(int64_t n, const double* v) {
  UserMoments m;
  m.n = n;
  for (size_t i = 0; i < m.sum.size(); ++i) m.sum[i] = v[i];
  for (size_t i = 0; i < m.cross.size(); ++i) m.cross[i] = v[m.sum.size() + i];
  return m;
}

// The label of a segment key: the raw JSON values of the attributes (joined by
// "\n"), decoded as FlatJsonValue decodes them on SQLite.
std::string SegmentLabel(const std::string& key, size_t attributes) {
  std::string label;
  size_t start = 0;
  for (size_t i = 0; i < attributes; ++i) {
    size_t end = key.find('\n', start);
    if (end == std::string::npos) end = key.size();
    const std::string raw = key.substr(start, end - start);
    start = end + 1;
    if (i > 0) label += " / ";
    std::optional<std::string> v;
    if (!raw.empty()) v = FlatJsonValue("{\"a\":" + raw + "}", "a");
    label += v.value_or("(none)");
  }
  return label;
}

}  // namespace

namespace {

// Every per-user column of the report. After UserCore (t0, ex_*, st, vi):
//   et<k>, ev<k>    each event name's events, retried ones dropped, by time;
//   lat             the latest event read;
//   seg_key         the first exposure's segment attributes (when segmented);
// and per metric (prefix m<i>_):
//   yn, yd, xn, xd  the final y (numerator, denominator) and CUPED covariate;
//   cb              numerator events before t0;
//   days            the days on which y changes, in order, and per such day the
//   d1, d2          changes of y_num and y_den, and of their products
//   q11, q12, q22   (y_num², y_num·y_den, y_den²) since the day before.
// 1 when the user has an override, else 0.
std::string OverrideExpr(const ReportQuery& q) {
  if (q.override_users.empty()) return "toUInt8(0)";
  std::string out = "has([";
  for (size_t i = 0; i < q.override_users.size(); ++i) {
    out += (i > 0 ? ", " : "") + Quote(q.override_users[i]);
  }
  return out + "], uid)";
}

Levels UserLevels(const ReportQuery& q, const std::vector<std::string>& names) {
  Levels l(12);
  AddUserCore(q, &l);
  // Each event name's events: deduplicated by id (a retried batch is stored
  // twice until ClickHouse merges its parts), sorted by time: et<k>, ev<k>.
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string c = "type = 1 AND key = " + Quote(names[k]);
    const std::string K = Str(k);
    l.Add(0, "groupArrayIf(ts, " + c + ")", "rt" + K);
    l.Add(0, "groupArrayIf(value, " + c + ")", "rv" + K);
    l.Add(0, "groupArrayIf(cityHash64(id), " + c + ")", "rh" + K);
    l.Add(1, "arrayEnumerateUniq(rh" + K + ")", "ru" + K);
    l.Add(2, "arrayFilter((x, u) -> u = 1, rt" + K + ", ru" + K + ")", "ut" + K);
    l.Add(2, "arrayFilter((x, u) -> u = 1, rv" + K + ", ru" + K + ")", "uv" + K);
    l.Add(3, "arraySort(ut" + K + ")", "et" + K);
    l.Add(3, "arraySort((x, t) -> t, uv" + K + ", ut" + K + ")", "ev" + K);
  }
  // latest_ms: t0 of every user, and the latest event of analysed users.
  std::string lat = "t0";
  for (size_t k = 0; k < names.size(); ++k) {
    lat = "greatest(" + lat + ", if(st = 0 AND length(et" + Str(k) + ") > 0, et" + Str(k) +
          "[-1], t0))";
  }
  l.Add(5, lat, "lat");

  if (!q.segment_attributes.empty()) {
    l.Add(0, "argMinIf(attrs, (ts, variant, attrs), type = 0)", "a0");
    std::string key;
    for (size_t i = 0; i < q.segment_attributes.size(); ++i) {
      if (i > 0) key += ", '\\n', ";
      key += "visitParamExtractRaw(a0, " + Quote(q.segment_attributes[i]) + ")";
    }
    l.Add(1, q.segment_attributes.size() > 1 ? "concat(" + key + ")" : key, "seg_key");
  }

  ReportAccumulator layout(q);  // only for the metric -> event index mapping
  const auto& event_names = layout.EventNames();
  auto index_of = [&](const std::string& name) {
    return Str(static_cast<size_t>(std::find(event_names.begin(), event_names.end(), name) -
                                   event_names.begin()));
  };
  for (size_t m = 0; m < q.metrics.size(); ++m) {
    const AggregateMetric& metric = q.metrics[m];
    const std::string a = index_of(metric.event);
    const std::string p = "m" + Str(m) + "_";  // column prefix
    const std::string end = metric.window_ms > 0 ? "t0 + " + std::to_string(metric.window_ms)
                                                 : std::string("9223372036854775807");
    const std::string in_window = "t >= t0 AND t < " + end;
    // Numerator events in the window (times nt, values nv), what each adds to
    // y_num (na: 1 for the first (indicator), 1 (count), its value (sum)), and
    // the final y_num straight from them (yn: the users query needs no running
    // values).
    l.Add(4, Keep("arrayFilter(t -> " + in_window + ", et" + a + ")", {"t0"}), p + "nt");
    l.Add(4, Keep("arrayFilter((x, t) -> " + in_window + ", ev" + a + ", et" + a + ")", {"t0"}),
          p + "nv");
    switch (metric.value) {
      case UserValue::kIndicator:
        l.Add(5, "arrayMap(i -> toFloat64(i = 1), arrayEnumerate(" + p + "nt))", p + "na");
        l.Add(5, "toFloat64(length(" + p + "nt) > 0)", p + "yn");
        break;
      case UserValue::kCount:
        l.Add(5, "arrayMap(t -> 1., " + p + "nt)", p + "na");
        l.Add(5, "toFloat64(length(" + p + "nt))", p + "yn");
        break;
      case UserValue::kSum:
        l.Add(5, "arrayMap(x -> toFloat64(x), " + p + "nv)", p + "na");
        l.Add(5, "toFloat64(arraySum(" + p + "nv))", p + "yn");
        break;
    }
    // The running y_num (ca) and y_den (cd) after each event, by time, and the
    // day of each event (dy).
    const bool ratio = metric.denominator_event.has_value();
    if (ratio) {
      const std::string b = index_of(*metric.denominator_event);
      l.Add(4, Keep("arrayFilter(t -> " + in_window + ", et" + b + ")", {"t0"}), p + "dt");
      l.Add(4, Keep("arrayFilter((x, t) -> " + in_window + ", ev" + b + ", et" + b + ")", {"t0"}),
            p + "dv");
      l.Add(5, "arrayConcat(" + p + "nt, " + p + "dt)", p + "t");
      l.Add(6, "arrayConcat(" + p + "na, arrayMap(t -> 0., " + p + "dt))", p + "a");
      l.Add(6, "arrayConcat(arrayMap(t -> 0., " + p + "nt), " + p + "dv)", p + "b");
      l.Add(7, "arrayCumSum(arraySort((x, t) -> t, " + p + "a, " + p + "t))", p + "ca");
      l.Add(7, "arrayCumSum(arraySort((x, t) -> t, " + p + "b, " + p + "t))", p + "cd");
      l.Add(7, "arrayMap(t -> " + DayExpr("t") + ", arraySort(" + p + "t))", p + "dy");
    } else {
      l.Add(7, "arrayCumSum(" + p + "na)", p + "ca");
      l.Add(7, "arrayMap(t -> " + DayExpr("t") + ", " + p + "nt)", p + "dy");
    }
    // The CUPED covariate over [t0 - lookback, t0).
    std::string xn = "0.", xd = "0.";
    if (metric.lookback_ms > 0) {
      const std::string in_lookback =
          "t >= t0 - " + std::to_string(metric.lookback_ms) + " AND t < t0";
      switch (metric.value) {
        case UserValue::kIndicator:
          xn = "arrayExists(t -> " + in_lookback + ", et" + a + ")";
          break;
        case UserValue::kCount:
          xn = "arrayCount(t -> " + in_lookback + ", et" + a + ")";
          break;
        case UserValue::kSum:
          xn = "arraySum(arrayFilter((x, t) -> " + in_lookback + ", ev" + a + ", et" + a + "))";
          break;
      }
      if (ratio) {
        const std::string b = index_of(*metric.denominator_event);
        xd = "arraySum(arrayFilter((x, t) -> " + in_lookback + ", ev" + b + ", et" + b + "))";
      }
    }
    l.Add(4, Keep("toFloat64(" + xn + ")", {"t0"}), p + "xn");
    l.Add(4, Keep("toFloat64(" + xd + ")", {"t0"}), p + "xd");
    l.Add(4, Keep("arrayCount(t -> t < t0, et" + a + ")", {"t0"}), p + "cb");
    // The final y_den; the last event of each day (ls) and the running values
    // then.
    l.Add(5, ratio ? "toFloat64(arraySum(" + p + "dv))" : std::string("0."), p + "yd");
    l.Add(8,
          "arrayMap((d, e) -> d != e, " + p + "dy, arrayPopFront(arrayPushBack(" + p +
              "dy, toInt64(-9223372036854775807))))",
          p + "ls");
    l.Add(9, "arrayFilter((d, l) -> l, " + p + "dy, " + p + "ls)", p + "days");
    l.Add(9, "arrayFilter((c, l) -> l, " + p + "ca, " + p + "ls)", p + "an");
    l.Add(10, "arrayPopBack(arrayPushFront(" + p + "an, 0.))", p + "bn");
    l.Add(11, "arrayMap((a, b) -> a - b, " + p + "an, " + p + "bn)", p + "d1");
    l.Add(11, "arrayMap((a, b) -> a * a - b * b, " + p + "an, " + p + "bn)", p + "q11");
    if (ratio) {
      l.Add(9, "arrayFilter((c, l) -> l, " + p + "cd, " + p + "ls)", p + "ad");
      l.Add(10, "arrayPopBack(arrayPushFront(" + p + "ad, 0.))", p + "bd");
      l.Add(11, "arrayMap((a, b) -> a - b, " + p + "ad, " + p + "bd)", p + "d2");
      l.Add(11, "arrayMap((a, b) -> a * a - b * b, " + p + "ad, " + p + "bd)", p + "q22");
      l.Add(11,
            "arrayMap((a1, b1, a2, b2) -> a1 * a2 - b1 * b2, " + p + "an, " + p + "bn, " + p +
                "ad, " + p + "bd)",
            p + "q12");
    } else {
      for (const char* c : {"d2", "q22", "q12"}) {
        l.Add(11, "arrayMap(d -> 0., " + p + "days)", p + c);
      }
    }
  }
  return l;
}

}  // namespace

namespace {

// The changes and segments queries over `users` (the per-user subquery).
void AddBucket(const ReportQuery& q, const std::string& users, ReportSql* out) {
  const size_t nm = q.metrics.size();
  // Changes: the analysed users' rows, ARRAY JOINed: per user one marker row
  // (m = 255: the latest event read), and per metric the row of its entry on the
  // day of t0 (e = 1: n and the covariate) and a row per day y changes.
  // Each row's covariates (cx, cy) come along as columns, so the sums multiply
  // columns (no per-row choice of the metric's column). Without metrics, one
  // marker row per user (m = 255) carries the latest event read.
  std::string cm, cd, ce, cx, cy, cc, c1, c2, c11, c12, c22;
  auto add = [](std::string* to, const std::string& part) {
    *to += (to->empty() ? "" : ", ") + part;
  };
  if (nm == 0) {
    add(&cm, "[toUInt8(255)]");
    add(&cd, "[toInt64(0)]");
    for (auto* c : {&ce, &cx, &cy, &cc, &c1, &c2, &c11, &c12, &c22}) add(c, "[0.]");
  }
  for (size_t m = 0; m < nm; ++m) {
    const std::string p = "m" + Str(m) + "_";
    auto fill = [&](const std::string& entry, const std::string& change) {
      return "[" + entry + "], arrayResize(emptyArrayFloat64(), length(" + p + "days), " + change +
             ")";
    };
    add(&cm, "[toUInt8(" + Str(m) + ")], arrayResize(emptyArrayUInt8(), length(" + p +
                 "days), toUInt8(" + Str(m) + "))");
    add(&cd, "[toInt64(day0)], " + p + "days");
    add(&ce, fill("1.", "0."));
    add(&cx, fill(p + "xn", p + "xn"));
    add(&cy, fill(p + "xd", p + "xd"));
    add(&cc, fill("toFloat64(" + p + "cb)", "0."));
    add(&c1, "[0.], " + p + "d1");
    add(&c2, "[0.], " + p + "d2");
    add(&c11, "[0.], " + p + "q11");
    add(&c12, "[0.], " + p + "q12");
    add(&c22, "[0.], " + p + "q22");
  }
  std::string arrays;
  for (const auto& [expr, alias] : std::vector<std::pair<std::string, std::string>>{{cm, "m"},
                                                                                    {cd, "d"},
                                                                                    {ce, "e"},
                                                                                    {cx, "xn"},
                                                                                    {cy, "xd"},
                                                                                    {cc, "cb"},
                                                                                    {c1, "d1"},
                                                                                    {c2, "d2"},
                                                                                    {c11, "q11"},
                                                                                    {c12, "q12"},
                                                                                    {c22, "q22"}}) {
    arrays += ", arrayConcat(" + expr + ") AS a_" + alias;
  }
  std::string join;
  for (const char* alias : {"m", "d", "e", "xn", "xd", "cb", "d1", "d2", "q11", "q12", "q22"}) {
    join += std::string(join.empty() ? "" : ", ") + "a_" + alias + " AS " + alias;
  }
  out->changes.push_back(
      "SELECT m, vi, d, sum(e), sum(e * xn), sum(e * xd), sum(e * xn * xn), sum(e * xn * xd), "
      "sum(e * xd * xd), sum(d1), sum(d2), sum(q11), sum(q12), sum(q22), sum(xn * d1), "
      "sum(xd * d1), sum(xn * d2), sum(xd * d2), sum(cb), max(lat) FROM (SELECT vi, lat, " +
      DayExpr("t0") + " AS day0" + arrays + " FROM (" + users + ") WHERE st = 0) ARRAY JOIN " +
      join + " GROUP BY m, vi, d");

  // Segments: the analysed users' final values per (variant, segment).
  if (!q.segment_attributes.empty()) {
    std::string s = "SELECT vi, seg_key, count()";
    for (size_t m = 0; m < nm; ++m) {
      const std::string p = "m" + Str(m) + "_";
      for (const auto& e : MomentSums({p + "yn", p + "yd", p + "xn", p + "xd"})) s += ", " + e;
    }
    out->segments.push_back(s + " FROM (" + users + ") WHERE st = 0 GROUP BY vi, seg_key");
  }
}

}  // namespace

ReportSql ReportQueries(const ReportQuery& q, std::string_view table,
                        const std::vector<std::string>& names, size_t buckets) {
  const std::string day0 = "if(st = 0, " + DayExpr("t0") + ", 0)";
  ReportSql out;

  // Users: exposures only, one row per (status, variant, day of t0).
  {
    Levels l(6);
    AddUserCore(q, &l);
    l.Add(1, OverrideExpr(q), "ov");
    l.Add(0, "max(ts)", "t_last");  // the source is exposures only
    const std::string source = std::string(table) + " WHERE " + ExposuresWhere(q);
    out.users = "SELECT st, vi, " + day0 + " AS day, count(), sum(length(ex_i)), sum(ov), max(t0)";
    for (size_t v = 0; v < q.variants.size(); ++v) {
      out.users +=
          ", sum(countEqual(ex_i, " + Str(v + 1) + ")), sum(has(ex_i, " + Str(v + 1) + "))";
    }
    out.users += ", max(t_last) FROM (" + l.Sql(source) + ") GROUP BY st, vi, day";
  }
  if (names.empty()) return out;

  const Levels l = UserLevels(q, names);
  buckets = std::max<size_t>(buckets, 1);
  for (size_t b = 0; b < buckets; ++b) {
    std::string where = Where(q, names);
    if (buckets > 1) {
      where = "(" + where + ") AND cityHash64(uid) % " + Str(buckets) + " = " + Str(b);
    }
    AddBucket(q, l.Sql(std::string(table) + " WHERE " + where), &out);
  }
  return out;
}

std::string ReportEventCountSql(const ReportQuery& q, std::string_view table,
                                const std::vector<std::string>& names) {
  return "SELECT count() FROM " + std::string(table) + " WHERE " + Where(q, names);
}

std::string HistoryUsersSql(const ReportQuery& q, std::string_view table,
                            const std::vector<std::string>& names, size_t history) {
  Levels l = UserLevels(q, names);
  const std::string h = Str(history);
  l.Add(4, Keep("arrayFilter(t -> t < t0, et" + h + ")", {"t0"}), "h_t");
  l.Add(4, Keep("arrayFilter((x, t) -> t < t0, ev" + h + ", et" + h + ")", {"t0"}), "h_v");
  std::string sql =
      "SELECT uid, st, vi, length(h_t), if(length(h_t) > 0, t0 - h_t[-1], 0), arraySum(h_v)";
  for (size_t m = 0; m < q.metrics.size(); ++m) {
    const std::string p = "m" + Str(m) + "_";
    sql += ", " + p + "yn, " + p + "yd, " + p + "xn, " + p + "xd";
  }
  return sql + " FROM (" + l.Sql(std::string(table) + " WHERE " + Where(q, names)) + ")";
}

std::string AnalysedUsersSql(const ReportQuery& q, std::string_view table, int64_t every) {
  Levels l(6);
  AddUserCore(q, &l);
  std::string source = std::string(table) + " WHERE " + ExposuresWhere(q);
  if (every > 1) source += " AND cityHash64(uid) % " + std::to_string(every) + " = 0";
  return "SELECT uid, vi FROM (" + l.Sql(source) + ") WHERE st = 0";
}

StatusOr<ReportAggregates> ReadReportRows(const ReportQuery& q, const ReportRows& rows) {
  const size_t nv = q.variants.size(), nm = q.metrics.size();
  ReportAggregates out;
  out.variants.assign(nv, VariantCounts{});
  out.conversions_before_exposure.assign(nm, 0);
  out.totals.assign(nm, std::vector<UserMoments>(nv));
  std::map<int64_t, std::vector<std::vector<UserMoments>>> days;
  std::map<std::string, std::vector<std::vector<UserMoments>>> segments;
  auto fresh = [&] {
    return std::vector<std::vector<UserMoments>>(nm, std::vector<UserMoments>(nv));
  };
  const Status bad = Status::Internal("clickhouse: an unexpected row in the report's answer");
  const Status out_of_range = Status::Internal("clickhouse: a report row out of range");
  auto in_range = [&](int64_t v) { return v >= 0 && static_cast<size_t>(v) < nv; };
  std::vector<double> vals;
  // Users: st, vi, day, users, exposures, overrides, max t0, per variant
  // (exposures, users), the latest exposure.
  for (const auto& r : rows.users) {
    int64_t st, v, day, n, lat, last_exposure;
    if (r.size() != 8 + 2 * nv || !ParseInt(r[0], &st) || !ParseInt(r[1], &v) ||
        !ParseInt(r[2], &day) || !ParseInt(r[3], &n) || !ParseInt(r[6], &lat) ||
        !ParseInt(r.back(), &last_exposure)) {
      return bad;
    }
    if (!in_range(v)) return out_of_range;
    vals.assign(r.size(), 0.0);
    for (size_t i = 4; i + 1 < r.size(); ++i) {
      if (i != 6 && !ParseDouble(r[i], &vals[i])) return bad;
    }
    out.latest_exposure_ms = std::max(out.latest_exposure_ms, last_exposure);
    out.unique_users += n;
    out.total_exposures += std::llround(vals[4]);
    out.override_users += std::llround(vals[5]);
    out.latest_ms = std::max(out.latest_ms, lat);
    for (size_t j = 0; j < nv; ++j) {
      out.variants[j].exposures += std::llround(vals[7 + 2 * j]);
      out.variants[j].users += std::llround(vals[8 + 2 * j]);
    }
    if (st == kMultiVariant) out.multi_variant_users += n;
    if (st == kUnknownVariant) out.unknown_variant_users += n;
    if (st == kAnalysed) days.try_emplace(day, fresh());
  }
  // Changes: m, vi, d, then n, the covariate sums (xn, xd, xn², xn·xd, xd²) of
  // the users entering on day d, the changes (Δy_num, Δy_den, Δy_num²,
  // Δ(y_num·y_den), Δy_den², xn·Δy_num, xd·Δy_num, xn·Δy_den, xd·Δy_den), the
  // conversions before exposure of the entering users, and the latest event.
  for (const auto& r : rows.changes) {
    int64_t m, v, day, lat;
    if (r.size() != 20 || !ParseInt(r[0], &m) || !ParseInt(r[1], &v) || !ParseInt(r[2], &day) ||
        !ParseInt(r[19], &lat)) {
      return bad;
    }
    double c[16];
    for (size_t i = 0; i < 16; ++i) {
      if (!ParseDouble(r[3 + i], &c[i])) return bad;
    }
    if (!in_range(v)) return out_of_range;
    out.latest_ms = std::max(out.latest_ms, lat);
    if (m == 255) continue;  // the per-user marker: the latest event only
    if (m < 0 || static_cast<size_t>(m) >= nm) return out_of_range;
    using M = UserMoments;
    M d;  // UserMoments::AddUser(0, 0, xn, xd) of the entering users, plus AddChange
    d.n = std::llround(c[0]);
    d.sum[M::kXNum] = c[1];
    d.sum[M::kXDen] = c[2];
    d.cross[size_t(M::Index(M::kXNum, M::kXNum))] = c[3];
    d.cross[size_t(M::Index(M::kXNum, M::kXDen))] = c[4];
    d.cross[size_t(M::Index(M::kXDen, M::kXDen))] = c[5];
    d.sum[M::kYNum] = c[6];
    d.sum[M::kYDen] = c[7];
    d.cross[size_t(M::Index(M::kYNum, M::kYNum))] = c[8];
    d.cross[size_t(M::Index(M::kYNum, M::kYDen))] = c[9];
    d.cross[size_t(M::Index(M::kYDen, M::kYDen))] = c[10];
    d.cross[size_t(M::Index(M::kYNum, M::kXNum))] = c[11];
    d.cross[size_t(M::Index(M::kYNum, M::kXDen))] = c[12];
    d.cross[size_t(M::Index(M::kYDen, M::kXNum))] = c[13];
    d.cross[size_t(M::Index(M::kYDen, M::kXDen))] = c[14];
    out.conversions_before_exposure[size_t(m)] += std::llround(c[15]);
    // The final statistics are the sum of the daily increments.
    out.totals[size_t(m)][size_t(v)].Add(d);
    days.try_emplace(day, fresh()).first->second[size_t(m)][size_t(v)].Add(d);
  }
  // Segments: vi, key, users, then per metric the 14 sums of its final values.
  for (const auto& r : rows.segments) {
    int64_t v, n;
    if (r.size() != 3 + 14 * nm || !ParseInt(r[0], &v) || !ParseInt(r[2], &n)) return bad;
    if (!in_range(v)) return out_of_range;
    vals.assign(r.size(), 0.0);
    for (size_t i = 3; i < r.size(); ++i) {
      if (!ParseDouble(r[i], &vals[i])) return bad;
    }
    auto it = segments.try_emplace(SegmentLabel(r[1], q.segment_attributes.size()), fresh()).first;
    for (size_t m = 0; m < nm; ++m) {
      it->second[m][size_t(v)].Add(MomentsOf(n, vals.data() + 3 + 14 * m));
    }
  }
  if (!days.empty()) {
    out.first_day = days.begin()->first;
    const int64_t last = days.rbegin()->first;
    out.daily.assign(static_cast<size_t>(last - out.first_day + 1), fresh());
    for (auto& [day, moments] : days) {
      out.daily[static_cast<size_t>(day - out.first_day)] = std::move(moments);
    }
  }
  // Levels in label order; beyond max_tracked_levels folded into "other".
  for (auto& [label, moments] : segments) {
    if (out.segments.size() < q.max_tracked_levels) {
      out.segments.push_back(SegmentAggregate{label, std::move(moments)});
      continue;
    }
    if (out.segments.size() == q.max_tracked_levels) {
      out.segments.push_back(SegmentAggregate{"other", fresh()});
    }
    ++out.folded_levels;
    auto& other = out.segments.back().metrics;
    for (size_t m = 0; m < nm; ++m) {
      for (size_t v = 0; v < nv; ++v) other[m][v].Add(moments[m][v]);
    }
  }
  return out;
}

}  // namespace causeway::store::ch
