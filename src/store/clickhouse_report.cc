#include "store/clickhouse_report.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <future>
#include <limits>
#include <map>
#include <mutex>

#include "store/clickhouse_report_sql.h"

namespace causeway::store {
namespace {

// The wrong-variant check hashes user ids in C++ (the assignment is not SQL):
// it reads the analysed users' ids, all of them up to this many per shard, else
// a deterministic sample by hash of about this many, and scales the count.
constexpr int64_t kCheckedUsersPerShard = 250'000;

// Runs f(shard) on every shard at once and returns the results in shard order.
template <typename F>
auto OnShards(const std::vector<Shard>& shards, F f) {
  using R = decltype(f(shards[0]));
  std::vector<std::future<R>> parts;
  for (size_t i = 1; i < shards.size(); ++i) {
    parts.push_back(std::async(std::launch::async, [&f, &shards, i] { return f(shards[i]); }));
  }
  std::vector<R> out;
  out.push_back(f(shards[0]));
  for (auto& p : parts) out.push_back(p.get());
  return out;
}

// At most this many queries of a report run at once on a shard, and at most
// this many buckets per shard.
constexpr size_t kMaxWorkers = 8;
constexpr size_t kMaxBuckets = 256;

// The first number in the first row of `rows`, or `otherwise`.
int64_t FirstNumber(const StatusOr<std::vector<std::vector<std::string>>>& rows,
                    int64_t otherwise) {
  if (!rows.ok() || rows->size() != 1 || rows->front().size() != 1) return otherwise;
  return std::strtoll(rows->front()[0].c_str(), nullptr, 10);
}

StatusOr<ReportAggregates> ShardReport(const Shard& shard, const ReportQuery& query,
                                       const std::vector<std::string>& names) {
  // As many queries at once as the server runs threads per query (its
  // max_threads): after its per-user GROUP BY, a query of 18.16 runs in one thread.
  const size_t workers = static_cast<size_t>(std::clamp<int64_t>(
      FirstNumber(shard.client->Rows("SELECT value FROM system.settings WHERE name = "
                                     "'max_threads'"),
                  1),
      1, kMaxWorkers));
  // Buckets of users of about rows_per_bucket events each, so that a query's
  // per-user arrays stay within a bounded memory; a whole number of waves of
  // `workers`. The table's size bounds the events read: count them only when
  // it is large.
  size_t buckets = workers;
  const int64_t per_bucket = std::max<int64_t>(1, shard.rows_per_bucket);
  const int64_t table_rows = FirstNumber(
      shard.client->Rows("SELECT sum(rows) FROM system.parts WHERE active AND database = "
                         "currentDatabase() AND table = " +
                         ch::Quote(shard.table)),
      std::numeric_limits<int64_t>::max());
  if (!names.empty() && table_rows > static_cast<int64_t>(workers) * per_bucket) {
    auto counted = shard.client->Rows(ch::ReportEventCountSql(query, shard.table, names));
    if (!counted.ok()) return counted.status();
    const int64_t events = FirstNumber(counted, 0);
    const size_t waves =
        static_cast<size_t>((events + per_bucket * static_cast<int64_t>(workers) - 1) /
                            (per_bucket * static_cast<int64_t>(workers)));
    buckets = std::clamp<size_t>(waves * workers, workers, kMaxBuckets);
  }
  const ch::ReportSql sql = ch::ReportQueries(query, shard.table, names, buckets);
  // Smaller blocks keep 18.16's per-function column copies in cache (15-30 % at
  // 10 M events, docs/performance.md).
  const std::vector<std::pair<std::string, std::string>> settings{{"max_block_size", "8192"}};
  using Rows = std::vector<std::vector<std::string>>;
  // Every query of the report and where its rows go, taken in order by
  // `workers` threads; after a failure no further query starts.
  ch::ReportRows rows;
  std::vector<std::pair<const std::string*, Rows*>> queries{{&sql.users, &rows.users}};
  for (size_t b = 0; b < sql.changes.size(); ++b) {
    queries.emplace_back(&sql.changes[b], &rows.changes);
    if (b < sql.segments.size()) queries.emplace_back(&sql.segments[b], &rows.segments);
  }
  std::vector<StatusOr<Rows>> results(queries.size(), Status::Internal("not run"));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex failure_mu;
  Status failure;  // the first query's error
  auto work = [&] {
    while (!failed) {
      const size_t i = next++;
      if (i >= queries.size()) return;
      results[i] = shard.client->Rows(*queries[i].first, settings);
      if (!results[i].ok()) {
        std::lock_guard lock(failure_mu);
        if (failure.ok()) failure = results[i].status();
        failed = true;
      }
    }
  };
  std::vector<std::future<void>> running;
  for (size_t w = 1; w < std::min(workers, queries.size()); ++w) {
    running.push_back(std::async(std::launch::async, work));
  }
  work();
  for (auto& r : running) r.get();
  if (!failure.ok()) return failure;
  for (size_t i = 0; i < queries.size(); ++i) {
    for (auto& row : *results[i]) queries[i].second->push_back(std::move(row));
  }
  auto agg = ch::ReadReportRows(query, rows);
  if (!agg.ok() || !query.expected_variant) return agg;
  int64_t analysed = 0;
  if (!agg->totals.empty()) {
    for (const UserMoments& m : agg->totals[0]) analysed += m.n;
  } else {
    analysed = agg->unique_users - agg->multi_variant_users - agg->unknown_variant_users;
  }
  if (analysed == 0) return agg;
  const int64_t every =
      std::max<int64_t>(1, (analysed + kCheckedUsersPerShard - 1) / kCheckedUsersPerShard);
  auto users = shard.client->Rows(ch::AnalysedUsersSql(query, shard.table, every));
  if (!users.ok()) return users.status();
  int64_t wrong = 0;
  for (const auto& row : *users) {
    if (row.size() != 2) return Status::Internal("clickhouse: an unexpected row of users");
    if (query.expected_variant(row[0]) != std::atoi(row[1].c_str())) ++wrong;
  }
  agg->wrong_variant_users = wrong * every;
  agg->wrong_variant_sample_every = std::max(agg->wrong_variant_sample_every, every);
  return agg;
}

// Segments by each analysed user's history before exposure (RFM): the scoring
// ranks every exposed user, so it runs here on per-user rows (id, status,
// variant, history and each metric's four values), read from every shard and put
// in user id order as the SQLite store reads them. Costs a row per exposed user.
Status AddHistorySegments(const std::vector<Shard>& shards, const ReportQuery& query,
                          std::vector<std::string> names, ReportAggregates* total) {
  size_t history = static_cast<size_t>(std::find(names.begin(), names.end(), *query.history_event) -
                                       names.begin());
  if (history == names.size()) names.push_back(*query.history_event);
  auto parts = OnShards(shards, [&](const Shard& s) {
    return s.client->Rows(ch::HistoryUsersSql(query, s.table, names, history));
  });
  std::vector<std::vector<std::string>> rows;
  for (auto& p : parts) {
    if (!p.ok()) return p.status();
    for (auto& r : *p) rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.at(0) < b.at(0); });
  const size_t nm = query.metrics.size(), nv = query.variants.size();
  std::vector<UserHistory> histories;
  histories.reserve(rows.size());
  for (const auto& r : rows) {
    if (r.size() != 6 + 4 * nm) return Status::Internal("clickhouse: an unexpected history row");
    UserHistory h;
    h.frequency = std::atoll(r[3].c_str());
    h.has_history = h.frequency > 0;
    h.recency_days = static_cast<double>(std::atoll(r[4].c_str())) / 86'400'000.0;
    h.monetary = std::strtod(r[5].c_str(), nullptr);
    histories.push_back(h);
  }
  std::vector<std::string> labels;
  std::vector<uint16_t> segment_of_user;
  query.segment_by_history(histories, &labels, &segment_of_user);
  if (segment_of_user.size() != rows.size()) {
    return Status::Internal("the history segmenter did not label every user");
  }
  total->segments.clear();
  for (const std::string& label : labels) {
    total->segments.push_back(SegmentAggregate{
        label, std::vector<std::vector<UserMoments>>(nm, std::vector<UserMoments>(nv))});
  }
  for (size_t u = 0; u < rows.size(); ++u) {
    const auto& r = rows[u];
    if (r[1] != "0") continue;  // not analysed (multi-variant or unknown variant)
    const size_t v = static_cast<size_t>(std::atoll(r[2].c_str()));
    const size_t s = segment_of_user[u];
    if (v >= nv || s >= labels.size())
      return Status::Internal("clickhouse: a history row out of range");
    for (size_t m = 0; m < nm; ++m) {
      std::array<double, 4> q{};
      for (size_t k = 0; k < 4; ++k) q[k] = std::strtod(r[6 + 4 * m + k].c_str(), nullptr);
      total->segments[s].metrics[m][v].AddUser(q);
    }
  }
  return Status::Ok();
}

ReportQuery StatsQuery(std::string_view experiment, int64_t since_ms,
                       std::vector<std::string> variants) {
  ReportQuery q;
  q.experiment = std::string(experiment);
  q.since_ms = since_ms;
  q.variants = std::move(variants);
  return q;
}

// The variants logged in the experiment's exposures, in byte order.
StatusOr<std::vector<std::string>> LoggedVariants(const std::vector<Shard>& shards,
                                                  std::string_view experiment, int64_t since_ms) {
  auto summary = ClickHouseSummarizeExposures(shards, experiment, since_ms);
  if (!summary.ok()) return summary.status();
  std::vector<std::string> out;
  for (const auto& v : summary->variants) out.push_back(v.variant);
  return out;
}

}  // namespace

StatusOr<ReportAggregates> ClickHouseAggregateReport(const std::vector<Shard>& shards,
                                                     const ReportQuery& query) {
  if (shards.empty()) return Status::Internal("clickhouse: no shards");
  const ReportAccumulator layout(query);
  const std::vector<std::string> names = layout.EventNames();
  auto parts = OnShards(shards, [&](const Shard& s) { return ShardReport(s, query, names); });
  for (auto& p : parts) {
    if (!p.ok()) return p.status();
  }
  ReportAggregates total = std::move(*parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) MergeAggregates(&total, std::move(*parts[i]));
  if (parts.size() > 1) {
    std::sort(
        total.segments.begin(), total.segments.end(),
        [](const SegmentAggregate& a, const SegmentAggregate& b) { return a.label < b.label; });
  }
  if (query.history_event && query.segment_by_history) {
    if (Status s = AddHistorySegments(shards, query, names, &total); !s.ok()) return s;
  }
  return total;
}

StatusOr<ExposureSummary> ClickHouseSummarizeExposures(const std::vector<Shard>& shards,
                                                       std::string_view experiment,
                                                       int64_t since_ms) {
  const std::string where = " WHERE type = 0 AND key = " + ch::Quote(experiment) +
                            " AND ts >= " + std::to_string(since_ms);
  struct Part {
    std::vector<std::vector<std::string>> variants, users;
  };
  auto parts = OnShards(shards, [&](const Shard& s) -> StatusOr<Part> {
    // Exposures are counted by distinct event id: a retried batch is stored
    // twice until ClickHouse merges its parts.
    auto v = s.client->Rows("SELECT variant, uniqExact(id), uniqExact(uid) FROM " + s.table +
                            where + " GROUP BY variant");
    if (!v.ok()) return v.status();
    auto u = s.client->Rows(
        "SELECT count(), countIf(nv > 1) FROM (SELECT uniqExact(variant) AS nv "
        "FROM " +
        s.table + where + " GROUP BY uid)");
    if (!u.ok()) return u.status();
    return Part{std::move(*v), std::move(*u)};
  });
  std::map<std::string, VariantExposure> variants;
  ExposureSummary out;
  for (auto& p : parts) {
    if (!p.ok()) return p.status();
    for (const auto& row : p->variants) {
      if (row.size() != 3) return Status::Internal("clickhouse: an unexpected exposure row");
      VariantExposure& v = variants[row[0]];
      v.variant = row[0];
      v.exposures += std::atoll(row[1].c_str());
      v.users += std::atoll(row[2].c_str());
      out.total_exposures += std::atoll(row[1].c_str());
    }
    if (p->users.size() != 1 || p->users[0].size() != 2) {
      return Status::Internal("clickhouse: an unexpected user count row");
    }
    out.unique_users += std::atoll(p->users[0][0].c_str());
    out.multi_variant_users += std::atoll(p->users[0][1].c_str());
  }
  for (auto& [name, v] : variants) out.variants.push_back(std::move(v));
  return out;
}

StatusOr<std::vector<std::string>> ClickHouseSampleExposureAttributes(
    const std::vector<Shard>& shards, std::string_view experiment, int64_t since_ms,
    int64_t limit) {
  auto parts = OnShards(shards, [&](const Shard& s) {
    // Along the sort key (type, key, uid, ...): a few granules, whatever the table's size.
    return s.client->Rows("SELECT attrs FROM (SELECT attrs FROM " + s.table +
                          " WHERE type = 0 AND key = " + ch::Quote(experiment) +
                          " AND ts >= " + std::to_string(since_ms) + " LIMIT " +
                          std::to_string(limit) + ") WHERE attrs != ''");
  });
  std::vector<std::string> out;
  for (auto& p : parts) {
    if (!p.ok()) return p.status();
    for (auto& row : *p) {
      if (row.size() != 1) return Status::Internal("clickhouse: an unexpected attributes row");
      out.push_back(std::move(row[0]));
    }
  }
  return out;
}

StatusOr<std::vector<VariantMetricStats>> ClickHouseMetricStats(const std::vector<Shard>& shards,
                                                                std::string_view experiment,
                                                                int64_t since_ms,
                                                                std::string_view event,
                                                                int64_t window_ms) {
  auto variants = LoggedVariants(shards, experiment, since_ms);
  if (!variants.ok()) return variants.status();
  ReportQuery q = StatsQuery(experiment, since_ms, std::move(*variants));
  for (UserValue kind : {UserValue::kIndicator, UserValue::kCount, UserValue::kSum}) {
    AggregateMetric m;
    m.value = kind;
    m.event = std::string(event);
    m.window_ms = window_ms;
    q.metrics.push_back(m);
  }
  auto agg = ClickHouseAggregateReport(shards, q);
  if (!agg.ok()) return agg.status();
  std::vector<VariantMetricStats> out;
  for (size_t v = 0; v < q.variants.size(); ++v) {
    const UserMoments &any = agg->totals[0][v], &count = agg->totals[1][v],
                      &sum = agg->totals[2][v];
    if (any.n == 0) continue;  // no single-variant user
    out.push_back(VariantMetricStats{q.variants[v], any.n, std::llround(any.sum[0]),
                                     std::llround(count.sum[0]), sum.sum[0], sum.Cross(0, 0),
                                     count.Cross(0, 0)});
  }
  return out;
}

StatusOr<std::vector<VariantRatioStats>> ClickHouseRatioMetricStats(
    const std::vector<Shard>& shards, std::string_view experiment, int64_t since_ms,
    std::string_view numerator_event, std::string_view denominator_event, int64_t window_ms) {
  auto variants = LoggedVariants(shards, experiment, since_ms);
  if (!variants.ok()) return variants.status();
  ReportQuery q = StatsQuery(experiment, since_ms, std::move(*variants));
  AggregateMetric m;
  m.value = UserValue::kSum;
  m.event = std::string(numerator_event);
  m.denominator_event = std::string(denominator_event);
  m.window_ms = window_ms;
  q.metrics.push_back(m);
  auto agg = ClickHouseAggregateReport(shards, q);
  if (!agg.ok()) return agg.status();
  std::vector<VariantRatioStats> out;
  for (size_t v = 0; v < q.variants.size(); ++v) {
    const UserMoments& s = agg->totals[0][v];
    if (s.n == 0) continue;
    out.push_back(VariantRatioStats{q.variants[v], s.n, s.sum[0], s.Cross(0, 0), s.sum[1],
                                    s.Cross(1, 1), s.Cross(0, 1)});
  }
  return out;
}

}  // namespace causeway::store
