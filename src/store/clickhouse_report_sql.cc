#include "store/clickhouse_report_sql.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "store/clickhouse_client.h"

namespace causeway::store::ch {
namespace {

// Contribution row kinds (the first element of each row tuple).
enum Kind : int {
  kVariantCounts = 0,  // v = variant: [exposures, 1 (user)]
  kUser = 1,           // v = status: [1, exposures, override, 0]; day = day0 (status 0)
  kDaily = 2,          // m, v, day: [n, sums(4), cross(10)] increments
  kTotal = 3,          // m, v: [n, sums, cross, conversions before exposure]
  kSegment = 4,        // m, v, seg: [n, sums, cross]
};
// User status (v of kUser rows).
enum UserStatus : int { kAnalysed = 0, kMultiVariant = 1, kUnknownVariant = 2 };

constexpr const char* kDayMs = "86400000";

std::string Str(size_t i) { return std::to_string(i); }

// floor(t / day) for any sign, as store/report_aggregates.cc's DayOf.
std::string DayExpr(const std::string& t) {
  return "intDiv(" + t + " - if(" + t + " < 0, 86399999, 0), " + kDayMs + ")";
}

// The 15 moment values [n, sums(4), cross(10)] of the quantities q (4 expressions),
// as UserMoments::AddUser(q) would add them.
std::vector<std::string> UserValues(const std::string& n, const std::vector<std::string>& q) {
  std::vector<std::string> v{n};
  for (const auto& x : q) v.push_back(x);
  for (int i = 0; i < 4; ++i) {
    for (int j = i; j < 4; ++j) v.push_back(q[size_t(i)] + " * " + q[size_t(j)]);
  }
  return v;
}

// The 15 values UserMoments::AddChange(before, after) adds (n unchanged).
std::vector<std::string> ChangeValues(const std::vector<std::string>& b,
                                      const std::vector<std::string>& a) {
  std::vector<std::string> v{"0"};
  for (size_t i = 0; i < 4; ++i) v.push_back(a[i] + " - " + b[i]);
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = i; j < 4; ++j) {
      v.push_back(a[i] + " * " + a[j] + " - " + b[i] + " * " + b[j]);
    }
  }
  return v;
}

class Levels;

// The contribution rows as parallel arrays, one per column (kind, m, v, day,
// seg, lat and the values val0..val15), each the concatenation of row groups:
// a single row, or one row per element of an array. Parallel arrays of plain
// numbers keep ClickHouse 18.16's lambdas cheap (no tuples, and no array
// captured by a lambda, which it would copy for every element).
constexpr size_t kValues = 16;  // [n, sums(4), cross(10), conversions before exposure]

class Columns {
 public:
  // One row: every argument a scalar expression.
  void Single(int kind, const std::string& m, const std::string& v, const std::string& day,
              const std::string& seg, const std::vector<std::string>& values,
              const std::string& lat) {
    Push(0, "[toUInt8(" + std::to_string(kind) + ")]");
    Push(1, "[toUInt16(" + m + ")]");
    Push(2, "[toUInt16(" + v + ")]");
    Push(3, "[toInt64(" + day + ")]");
    Push(4, "[toString(" + seg + ")]");
    Push(5, "[toInt64(" + lat + ")]");
    for (size_t i = 0; i < kValues; ++i) {
      Push(6 + i, "[toFloat64(" + (i < values.size() ? values[i] : std::string("0")) + ")]");
    }
  }
  // One row per element: `args` are lambda parameters over the arrays `arrays`
  // (of one length); m is a literal, v a scalar column, day and values
  // expressions of the parameters.
  void PerElement(int kind, const std::string& m, const std::string& v, const std::string& day,
                  const std::string& args, const std::string& arrays,
                  const std::vector<std::string>& values) {
    auto map = [&](const std::string& expr) {
      return "arrayMap((" + args + ") -> " + expr + ", " + arrays + ")";
    };
    Push(0, map("toUInt8(" + std::to_string(kind) + ")"));
    Push(1, map("toUInt16(" + m + ")"));
    Push(2, map("toUInt16(" + v + ")"));
    Push(3, map("toInt64(" + day + ")"));
    Push(4, map("''"));
    Push(5, map("toInt64(0)"));
    for (size_t i = 0; i < kValues; ++i) {
      Push(6 + i, map("toFloat64(" + (i < values.size() ? values[i] : std::string("0")) + ")"));
    }
  }
  // "c<i>" = arrayConcat(...) for every column, naming `captured` (scalar
  // columns the lambdas use) outside of them.
  void AddTo(size_t level, const std::vector<std::string>& captured, Levels* l) const;
  static constexpr size_t kColumns = 6 + kValues;

 private:
  void Push(size_t column, std::string expr) { parts_[column].push_back(std::move(expr)); }
  std::array<std::vector<std::string>, 6 + kValues> parts_;
};

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

void Columns::AddTo(size_t level, const std::vector<std::string>& captured, Levels* l) const {
  for (size_t c = 0; c < kColumns; ++c) {
    std::string concat = "arrayConcat(";
    for (size_t i = 0; i < parts_[c].size(); ++i) concat += (i > 0 ? ", " : "") + parts_[c][i];
    l->Add(level, Keep(concat + ")", captured), "c" + Str(c));
  }
}

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

std::string Where(const ReportQuery& q, const std::vector<std::string>& names) {
  std::string w = "(type = 0 AND key = " + Quote(q.experiment) +
                  " AND ts >= " + std::to_string(q.since_ms) + ")";
  if (!names.empty()) {
    w += " OR (type = 1 AND key IN (";
    for (size_t k = 0; k < names.size(); ++k) {
      if (k > 0) w += ", ";
      w += Quote(names[k]);
    }
    w += "))";
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

UserMoments MomentsOf(const std::vector<double>& v) {
  UserMoments m;
  m.n = std::llround(v[0]);
  for (size_t i = 0; i < m.sum.size(); ++i) m.sum[i] = v[1 + i];
  for (size_t i = 0; i < m.cross.size(); ++i) m.cross[i] = v[5 + i];
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

// Every per-user column of the report (UserCore, the events of `names`, each
// metric's m<i>_yn/yd/xn/xd) and, at level 9, `contributions`.
Levels UserLevels(const ReportQuery& q, const std::vector<std::string>& names) {
  Levels l(10);
  AddUserCore(q, &l);
  const std::string day0 = DayExpr("t0");
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
  std::string override_expr = "0";
  if (!q.override_users.empty()) {
    override_expr = "has([";
    for (size_t i = 0; i < q.override_users.size(); ++i) {
      override_expr += (i > 0 ? ", " : "") + Quote(q.override_users[i]);
    }
    override_expr += "], uid)";
  }

  Columns rows;
  std::vector<std::string> captured{"t0", "ex_i", "vi", "st"};  // named by the rows' lambdas
  // Per variant logged: its exposures and the user.
  rows.PerElement(kVariantCounts, "0", "i - 1", "0", "i", "ex_known",
                  {"arrayCount(x -> x = i, ex_i)", "1"});
  rows.Single(kUser, "0", "st", "if(st = 0, " + day0 + ", 0)", "''",
              {"1", "length(ex_i)", override_expr, "0"}, "lat");

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
    const std::string M = Str(m), a = index_of(metric.event);
    const std::string p = "m" + M + "_";  // column prefix
    const std::string end = metric.window_ms > 0 ? "t0 + " + std::to_string(metric.window_ms)
                                                 : std::string("9223372036854775807");
    const std::string in_window = "t >= t0 AND t < " + end;
    // Numerator events in the window: times, days and the running value.
    l.Add(4, Keep("arrayFilter(t -> " + in_window + ", et" + a + ")", {"t0"}), p + "nt");
    l.Add(4, Keep("arrayFilter((x, t) -> " + in_window + ", ev" + a + ", et" + a + ")", {"t0"}),
          p + "nv");
    l.Add(5, "arrayMap(t -> " + DayExpr("t") + ", " + p + "nt)", p + "nd");
    switch (metric.value) {
      case UserValue::kIndicator:
        l.Add(5, "arrayMap(x -> 1., " + p + "nv)", p + "nc");
        break;
      case UserValue::kCount:
        l.Add(5, "arrayMap(i -> toFloat64(i), arrayEnumerate(" + p + "nv))", p + "nc");
        break;
      case UserValue::kSum:
        l.Add(5, "arrayCumSum(" + p + "nv)", p + "nc");
        break;
    }
    const bool ratio = metric.denominator_event.has_value();
    const std::string b = ratio ? index_of(*metric.denominator_event) : std::string();
    if (ratio) {
      l.Add(4, Keep("arrayFilter(t -> " + in_window + ", et" + b + ")", {"t0"}), p + "dt");
      l.Add(4, Keep("arrayFilter((x, t) -> " + in_window + ", ev" + b + ", et" + b + ")", {"t0"}),
            p + "dv");
      l.Add(5, "arrayMap(t -> " + DayExpr("t") + ", " + p + "dt)", p + "dd");
      l.Add(5, "arrayCumSum(" + p + "dv)", p + "dc");
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
        xd = "arraySum(arrayFilter((x, t) -> " + in_lookback + ", ev" + b + ", et" + b + "))";
      }
    }
    l.Add(4, Keep("toFloat64(" + xn + ")", {"t0"}), p + "xn");
    l.Add(4, Keep("toFloat64(" + xd + ")", {"t0"}), p + "xd");
    // Final values, and the value after each day that has events.
    l.Add(6, "if(length(" + p + "nc) > 0, " + p + "nc[-1], 0.)", p + "yn");
    l.Add(6, ratio ? "if(length(" + p + "dc) > 0, " + p + "dc[-1], 0.)" : std::string("0."),
          p + "yd");
    l.Add(6,
          "arraySort(arrayDistinct(" +
              (ratio ? "arrayConcat(" + p + "nd, " + p + "dd)" : p + "nd") + "))",
          p + "days");
    l.Add(7,
          Keep("arrayMap(d -> toFloat64(arrayElement(arrayFilter((c, e) -> e <= d, " + p + "nc, " +
                   p + "nd), -1)), " + p + "days)",
               {p + "nc", p + "nd"}),
          p + "an");
    l.Add(7,
          ratio ? Keep("arrayMap(d -> toFloat64(arrayElement(arrayFilter((c, e) -> e <= d, " + p +
                           "dc, " + p + "dd), -1)), " + p + "days)",
                       {p + "dc", p + "dd"})
                : "arrayMap(d -> 0., " + p + "days)",
          p + "ad");
    l.Add(8, "arrayPopBack(arrayPushFront(" + p + "an, 0.))", p + "bn");
    l.Add(8, "arrayPopBack(arrayPushFront(" + p + "ad, 0.))", p + "bd");

    const std::vector<std::string> q_init{"0.", "0.", p + "xn", p + "xd"};
    const std::vector<std::string> q_final{p + "yn", p + "yd", p + "xn", p + "xd"};
    const std::vector<std::string> before{"b1", "b2", p + "xn", p + "xd"};
    const std::vector<std::string> after{"a1", "a2", p + "xn", p + "xd"};
    for (const char* c : {"xn", "xd"}) captured.push_back(p + c);
    rows.Single(kDaily, M, "vi", day0, "''", UserValues("1", q_init), "0");
    rows.PerElement(kDaily, M, "vi", "d", "d, a1, b1, a2, b2",
                    p + "days, " + p + "an, " + p + "bn, " + p + "ad, " + p + "bd",
                    ChangeValues(before, after));
    std::vector<std::string> total = UserValues("1", q_final);
    total.push_back("arrayCount(t -> t < t0, et" + a + ")");
    rows.Single(kTotal, M, "vi", "0", "''", total, "0");
    if (!q.segment_attributes.empty()) {
      rows.Single(kSegment, M, "vi", "0", "seg_key", UserValues("1", q_final), "0");
    }
  }
  rows.AddTo(9, captured, &l);
  return l;
}

}  // namespace

std::string ReportSql(const ReportQuery& q, std::string_view table,
                      const std::vector<std::string>& names) {
  const Levels l = UserLevels(q, names);

  std::string join, sums;
  for (size_t c = 0; c < Columns::kColumns; ++c) {
    static const char* kNames[] = {"kind", "m", "v", "day", "seg", "lat"};
    join += (c > 0 ? ", c" : "c") + Str(c) + " AS " +
            (c < 6 ? std::string(kNames[c]) : "val" + Str(c - 6));
    if (c >= 6) sums += ", sum(val" + Str(c - 6) + ")";
  }
  return "SELECT kind, m, v, day, seg, max(lat)" + sums + " FROM (" +
         l.Sql(std::string(table) + " WHERE " + Where(q, names)) + ") ARRAY JOIN " + join +
         " WHERE kind <= 1 OR st = 0 GROUP BY kind, m, v, day, seg";
}

std::string HistoryUsersSql(const ReportQuery& q, std::string_view table,
                            const std::vector<std::string>& names, size_t history) {
  Levels l = UserLevels(q, names);
  const std::string h = Str(history);
  l.Add(9, Keep("arrayFilter(t -> t < t0, et" + h + ")", {"t0"}), "h_t");
  l.Add(9, Keep("arrayFilter((x, t) -> t < t0, ev" + h + ", et" + h + ")", {"t0"}), "h_v");
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
  std::string source = std::string(table) + " WHERE type = 0 AND key = " + Quote(q.experiment) +
                       " AND ts >= " + std::to_string(q.since_ms);
  if (every > 1) source += " AND cityHash64(uid) % " + std::to_string(every) + " = 0";
  return "SELECT uid, vi FROM (" + l.Sql(source) + ") WHERE st = 0";
}

StatusOr<ReportAggregates> ReadReportRows(const ReportQuery& q,
                                          const std::vector<std::vector<std::string>>& rows) {
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
  std::vector<double> vals;
  for (const auto& r : rows) {
    int64_t kind, m, v, day, lat;
    bool parsed = r.size() == Columns::kColumns && ParseInt(r[0], &kind) && ParseInt(r[1], &m) &&
                  ParseInt(r[2], &v) && ParseInt(r[3], &day) && ParseInt(r[5], &lat);
    vals.assign(kValues, 0.0);
    for (size_t i = 0; parsed && i < kValues; ++i) parsed = ParseDouble(r[6 + i], &vals[i]);
    if (!parsed) return Status::Internal("clickhouse: an unexpected row in the report's answer");
    const size_t mi = static_cast<size_t>(m), vi = static_cast<size_t>(v);
    const bool metric_row = kind == kDaily || kind == kTotal || kind == kSegment;
    if ((metric_row && (mi >= nm || vi >= nv)) || (kind == kVariantCounts && vi >= nv) ||
        kind < 0 || kind > kSegment) {
      return Status::Internal("clickhouse: a report row out of range");
    }
    switch (kind) {
      case kVariantCounts:
        out.variants[vi].exposures += std::llround(vals[0]);
        out.variants[vi].users += std::llround(vals[1]);
        break;
      case kUser: {
        const int64_t users = std::llround(vals[0]);
        out.unique_users += users;
        out.total_exposures += std::llround(vals[1]);
        out.override_users += std::llround(vals[2]);
        if (v == kMultiVariant) out.multi_variant_users += users;
        if (v == kUnknownVariant) out.unknown_variant_users += users;
        if (v == kAnalysed) days.try_emplace(day, fresh());
        out.latest_ms = std::max(out.latest_ms, lat);
        break;
      }
      case kDaily: {
        auto it = days.try_emplace(day, fresh()).first;
        it->second[mi][vi].Add(MomentsOf(vals));
        break;
      }
      case kTotal:
        out.totals[mi][vi].Add(MomentsOf(vals));
        out.conversions_before_exposure[mi] += std::llround(vals[15]);
        break;
      case kSegment: {
        auto it =
            segments.try_emplace(SegmentLabel(r[4], q.segment_attributes.size()), fresh()).first;
        it->second[mi][vi].Add(MomentsOf(vals));
        break;
      }
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
