#include "store/report_aggregates.h"

#include <algorithm>

namespace causeway::store {
namespace {

constexpr int64_t kDayMs = 86'400'000;

int64_t DayOf(int64_t ts_ms) {
  return ts_ms >= 0 ? ts_ms / kDayMs : -((-ts_ms + kDayMs - 1) / kDayMs);
}

// The value of `events` over [from, to) (to <= from: empty) by `kind`.
double WindowValue(UserValue kind, const std::vector<ReportAccumulator::TimedValue>& events,
                   int64_t from, int64_t to) {
  double count = 0, sum = 0;
  for (const auto& e : events) {
    if (e.ts_ms < from) continue;
    if (e.ts_ms >= to) break;
    count += 1;
    sum += e.value;
  }
  switch (kind) {
    case UserValue::kIndicator:
      return count > 0 ? 1.0 : 0.0;
    case UserValue::kCount:
      return count;
    case UserValue::kSum:
      break;
  }
  return sum;
}

double Step(UserValue kind, double current, double value) {
  switch (kind) {
    case UserValue::kIndicator:
      return 1.0;
    case UserValue::kCount:
      return current + 1.0;
    case UserValue::kSum:
      break;
  }
  return current + value;
}

// Appends the UTF-8 encoding of code point `cp`.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A JSON string starting at json[*pos] == '"', decoded; advances past it.
bool ReadString(std::string_view json, size_t* pos, std::string* out) {
  out->clear();
  size_t i = *pos + 1;
  auto hex4 = [&](size_t at, uint32_t* v) {
    if (at + 4 > json.size()) return false;
    *v = 0;
    for (size_t k = at; k < at + 4; ++k) {
      const char c = json[k];
      *v <<= 4;
      if (c >= '0' && c <= '9')
        *v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  };
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= json.size()) return false;
    const char e = json[i + 1];
    i += 2;
    switch (e) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(i, &cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= json.size() && json[i] == '\\' &&
            json[i + 1] == 'u') {
          uint32_t low = 0;
          if (hex4(i + 2, &low) && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        out->push_back(e);  // \" \\ \/
    }
  }
  return false;
}

}  // namespace

namespace {

// Calls f(name, value) for each member of a flat JSON object, in order (value
// nullopt for null); f returns false to stop. Returns false when the text is not
// a flat object (up to where it stopped).
template <typename F>
bool ForEachFlatJsonMember(std::string_view json, F f) {
  auto skip = [&](size_t* i) {
    while (*i < json.size() &&
           (json[*i] == ' ' || json[*i] == '\t' || json[*i] == '\n' || json[*i] == '\r')) {
      ++*i;
    }
  };
  size_t i = 0;
  skip(&i);
  if (i >= json.size() || json[i] != '{') return false;
  ++i;
  skip(&i);
  if (i < json.size() && json[i] == '}') return true;  // {}
  std::string name, value;
  while (true) {
    skip(&i);
    if (i >= json.size() || json[i] != '"') return false;
    if (!ReadString(json, &i, &name)) return false;
    skip(&i);
    if (i >= json.size() || json[i] != ':') return false;
    ++i;
    skip(&i);
    if (i >= json.size()) return false;
    std::optional<std::string> v;
    if (json[i] == '"') {
      if (!ReadString(json, &i, &value)) return false;
      v = value;
    } else {
      const size_t start = i;
      while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ' ') ++i;
      const std::string_view text = json.substr(start, i - start);
      if (text.empty() || text[0] == '{' || text[0] == '[') return false;
      if (text != "null") v = std::string(text);
    }
    if (!f(name, v)) return true;
    skip(&i);
    if (i < json.size() && json[i] == '}') return true;
    if (i >= json.size() || json[i] != ',') return false;
    ++i;
  }
}

}  // namespace

std::optional<std::string> FlatJsonValue(std::string_view json, std::string_view key) {
  std::optional<std::string> out;
  ForEachFlatJsonMember(json, [&](const std::string& name, std::optional<std::string>& v) {
    if (name != key) return true;
    out = std::move(v);
    return false;
  });
  return out;
}

std::vector<std::string> FlatJsonKeys(std::string_view json) {
  std::vector<std::string> out;
  ForEachFlatJsonMember(json, [&](const std::string& name, const std::optional<std::string>&) {
    out.push_back(name);
    return true;
  });
  return out;
}

int64_t SegmentAggregate::users() const {
  int64_t n = 0;
  if (!metrics.empty()) {
    for (const UserMoments& m : metrics.front()) n += m.n;
  }
  return n;
}

ReportAccumulator::ReportAccumulator(const ReportQuery& query) : query_(query) {
  auto event_index = [&](const std::string& name) {
    auto it = std::find(events_.begin(), events_.end(), name);
    if (it != events_.end()) return static_cast<int>(it - events_.begin());
    events_.push_back(name);
    return static_cast<int>(events_.size() - 1);
  };
  for (const AggregateMetric& m : query.metrics) {
    const int num = event_index(m.event);
    const int den = m.denominator_event ? event_index(*m.denominator_event) : -1;
    metric_events_.emplace_back(num, den);
  }
  const size_t nv = query.variants.size(), nm = query.metrics.size();
  out_.variants.assign(nv, VariantCounts{});
  out_.conversions_before_exposure.assign(nm, 0);
  out_.totals.assign(nm, std::vector<UserMoments>(nv));
  seen_variant_.assign(nv, 0);
}

int ReportAccumulator::VariantIndex(std::string_view variant) const {
  // Experiments have a handful of variants: a scan beats hashing a copy.
  for (size_t v = 0; v < query_.variants.size(); ++v) {
    if (query_.variants[v] == variant) return static_cast<int>(v);
  }
  return -1;
}

int ReportAccumulator::SegmentIndex(const std::string& label) {
  auto it = level_index_.find(label);
  if (it != level_index_.end()) return it->second;
  auto add = [&](const std::string& l) {
    SegmentAggregate s;
    s.label = l;
    s.metrics.assign(query_.metrics.size(), std::vector<UserMoments>(query_.variants.size()));
    out_.segments.push_back(std::move(s));
    return static_cast<int>(out_.segments.size() - 1);
  };
  if (level_index_.size() >= query_.max_tracked_levels) {
    ++out_.folded_levels;
    if (other_level_ < 0) other_level_ = add("other");
    level_index_.emplace(label, other_level_);  // counted once per distinct label
    return other_level_;
  }
  const int i = add(label);
  level_index_.emplace(label, i);
  return i;
}

void ReportAccumulator::SetSegments(const std::vector<std::string>& labels) {
  for (const std::string& l : labels) SegmentIndex(l);
}

std::vector<std::vector<UserMoments>>& ReportAccumulator::Day(int64_t day) {
  auto fresh = [&] {
    return std::vector<std::vector<UserMoments>>(query_.metrics.size(),
                                                 std::vector<UserMoments>(query_.variants.size()));
  };
  if (out_.daily.empty()) {
    out_.first_day = day;
    out_.daily.push_back(fresh());
  }
  while (day < out_.first_day) {  // an earlier day: prepend (rare, bounded by the days)
    out_.daily.insert(out_.daily.begin(), fresh());
    --out_.first_day;
  }
  while (day >= out_.first_day + static_cast<int64_t>(out_.daily.size())) {
    out_.daily.push_back(fresh());
  }
  return out_.daily[static_cast<size_t>(day - out_.first_day)];
}

void ReportAccumulator::AddUser(std::string_view user,
                                const std::vector<std::string_view>& exposure_variants, int64_t t0,
                                int segment, const std::vector<std::vector<TimedValue>>& events) {
  ++out_.unique_users;
  out_.total_exposures += static_cast<int64_t>(exposure_variants.size());
  out_.latest_ms = std::max(out_.latest_ms, t0);
  // Exposure counts per logged variant; users seen in several variants.
  std::fill(seen_variant_.begin(), seen_variant_.end(), 0);
  int distinct = 0;
  bool unknown = false;
  for (std::string_view v : exposure_variants) {
    const int index = VariantIndex(v);
    if (index < 0) {
      unknown = true;
      continue;
    }
    const size_t i = static_cast<size_t>(index);
    ++out_.variants[i].exposures;
    if (!seen_variant_[i]) {
      seen_variant_[i] = 1;
      ++out_.variants[i].users;
      ++distinct;
    }
  }
  const bool override_user = query_.is_override && query_.is_override(user);
  if (override_user) ++out_.override_users;
  if (distinct + (unknown ? 1 : 0) > 1) {
    ++out_.multi_variant_users;
    return;
  }
  if (unknown) {
    ++out_.unknown_variant_users;
    return;
  }
  const size_t variant = static_cast<size_t>(VariantIndex(exposure_variants[0]));
  if (query_.expected_variant && query_.expected_variant(user) != static_cast<int>(variant)) {
    ++out_.wrong_variant_users;
  }

  for (const auto& list : events) {
    if (!list.empty()) out_.latest_ms = std::max(out_.latest_ms, list.back().ts_ms);
  }
  const int64_t day0 = DayOf(t0);
  for (size_t m = 0; m < query_.metrics.size(); ++m) {
    const AggregateMetric& metric = query_.metrics[m];
    const auto [num, den] = metric_events_[m];
    const auto& num_events = events[static_cast<size_t>(num)];
    const int64_t end = metric.window_ms > 0 ? t0 + metric.window_ms : INT64_MAX;
    for (const auto& e : num_events) {
      if (e.ts_ms >= t0) break;
      ++out_.conversions_before_exposure[m];
    }
    std::array<double, 4> q{};  // y_num, y_den, x_num, x_den
    if (metric.lookback_ms > 0) {
      q[2] = WindowValue(metric.value, num_events, t0 - metric.lookback_ms, t0);
      if (den >= 0) {
        q[3] = WindowValue(UserValue::kSum, events[static_cast<size_t>(den)],
                           t0 - metric.lookback_ms, t0);
      }
    }
    // Entering at day0 with y = 0; then every event in the window changes y on its day.
    {
      UserMoments& d = Day(day0)[m][variant];
      d.AddUser(q);
    }
    // Merge the numerator and denominator events in time order.
    const std::vector<TimedValue> none;
    const auto& den_events = den >= 0 ? events[static_cast<size_t>(den)] : none;
    size_t i = 0, j = 0;
    while (i < num_events.size() && num_events[i].ts_ms < t0) ++i;
    while (j < den_events.size() && den_events[j].ts_ms < t0) ++j;
    std::array<double, 4> before = q;
    int64_t open_day = INT64_MIN;
    auto flush = [&] {
      if (open_day != INT64_MIN && before != q) Day(open_day)[m][variant].AddChange(before, q);
      before = q;
    };
    while (true) {
      const bool has_num = i < num_events.size() && num_events[i].ts_ms < end;
      const bool has_den = j < den_events.size() && den_events[j].ts_ms < end;
      if (!has_num && !has_den) break;
      const bool take_num = has_num && (!has_den || num_events[i].ts_ms <= den_events[j].ts_ms);
      const TimedValue& e = take_num ? num_events[i++] : den_events[j++];
      const int64_t day = DayOf(e.ts_ms);
      if (day != open_day) {
        flush();
        open_day = day;
      }
      if (take_num) {
        q[0] = Step(metric.value, q[0], e.value);
      } else {
        q[1] += e.value;
      }
    }
    flush();
    out_.totals[m][variant].AddUser(q);
    if (segment >= 0) out_.segments[static_cast<size_t>(segment)].metrics[m][variant].AddUser(q);
  }
  if (query_.metrics.empty()) Day(day0);
}

ReportAggregates ReportAccumulator::Finish() { return std::move(out_); }

void MergeAggregates(ReportAggregates* total, ReportAggregates&& part) {
  auto add = [](std::vector<std::vector<UserMoments>>* into,
                const std::vector<std::vector<UserMoments>>& from) {
    for (size_t m = 0; m < from.size(); ++m) {
      for (size_t v = 0; v < from[m].size(); ++v) (*into)[m][v].Add(from[m][v]);
    }
  };
  for (size_t v = 0; v < part.variants.size(); ++v) {
    total->variants[v].exposures += part.variants[v].exposures;
    total->variants[v].users += part.variants[v].users;
  }
  total->total_exposures += part.total_exposures;
  total->unique_users += part.unique_users;
  total->multi_variant_users += part.multi_variant_users;
  total->unknown_variant_users += part.unknown_variant_users;
  total->wrong_variant_users += part.wrong_variant_users;
  total->wrong_variant_sample_every =
      std::max(total->wrong_variant_sample_every, part.wrong_variant_sample_every);
  total->override_users += part.override_users;
  for (size_t m = 0; m < part.conversions_before_exposure.size(); ++m) {
    total->conversions_before_exposure[m] += part.conversions_before_exposure[m];
  }
  total->latest_ms = std::max(total->latest_ms, part.latest_ms);
  total->latest_exposure_ms = std::max(total->latest_exposure_ms, part.latest_exposure_ms);
  add(&total->totals, part.totals);
  if (!part.daily.empty()) {
    if (total->daily.empty()) {
      total->first_day = part.first_day;
      total->daily = std::move(part.daily);
    } else {
      const int64_t first = std::min(total->first_day, part.first_day);
      const int64_t last = std::max(total->first_day + static_cast<int64_t>(total->daily.size()),
                                    part.first_day + static_cast<int64_t>(part.daily.size()));
      std::vector<std::vector<std::vector<UserMoments>>> merged(
          static_cast<size_t>(last - first),
          std::vector<std::vector<UserMoments>>(total->totals.size(),
                                                std::vector<UserMoments>(total->variants.size())));
      for (size_t d = 0; d < total->daily.size(); ++d) {
        add(&merged[static_cast<size_t>(total->first_day - first) + d], total->daily[d]);
      }
      for (size_t d = 0; d < part.daily.size(); ++d) {
        add(&merged[static_cast<size_t>(part.first_day - first) + d], part.daily[d]);
      }
      total->first_day = first;
      total->daily = std::move(merged);
    }
  }
  for (SegmentAggregate& s : part.segments) {
    auto it = std::find_if(total->segments.begin(), total->segments.end(),
                           [&](const SegmentAggregate& t) { return t.label == s.label; });
    if (it == total->segments.end()) {
      total->segments.push_back(std::move(s));
    } else {
      add(&it->metrics, s.metrics);
    }
  }
  total->folded_levels += part.folded_levels;
}

}  // namespace causeway::store
