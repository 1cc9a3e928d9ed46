#include "causal/attribution.h"

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace causeway::causal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string Plural(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

const char* AttributionMethodName(AttributionMethod m) {
  switch (m) {
    case AttributionMethod::kFirstTouch:
      return "first_touch";
    case AttributionMethod::kLastTouch:
      return "last_touch";
    case AttributionMethod::kLinear:
      return "linear";
    case AttributionMethod::kShapley:
      return "shapley";
    case AttributionMethod::kShapleyOrdered:
      return "shapley_ordered";
    case AttributionMethod::kMarkov:
      return "markov";
  }
  return "shapley";
}

std::optional<AttributionMethod> ParseAttributionMethod(std::string_view name) {
  for (auto m : {AttributionMethod::kFirstTouch, AttributionMethod::kLastTouch,
                 AttributionMethod::kLinear, AttributionMethod::kShapley,
                 AttributionMethod::kShapleyOrdered, AttributionMethod::kMarkov}) {
    if (name == AttributionMethodName(m)) return m;
  }
  return std::nullopt;
}

bool AttributionOptions::IsValid(std::string* why) const {
  if (methods.empty()) {
    *why = "methods must name at least one method";
    return false;
  }
  for (size_t i = 0; i < methods.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (methods[i] == methods[j]) {
        *why = std::string("methods names '") + AttributionMethodName(methods[i]) + "' twice";
        return false;
      }
    }
  }
  if (markov_order < 1 || markov_order > kMaxMarkovOrder) {
    *why = "order must be an integer from 1 to " + std::to_string(kMaxMarkovOrder);
    return false;
  }
  return true;
}

// ---- input ------------------------------------------------------------------------------

PathTableBuilder::PathTableBuilder(std::string separator) : separator_(std::move(separator)) {}

namespace {

// FNV-1a over the bytes, then a splitmix64 finaliser (the low bits index the table).
uint64_t HashName(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

uint64_t Mix(uint64_t h) {
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

}  // namespace

uint32_t PathTableBuilder::ChannelId(std::string_view name) {
  const uint64_t h = HashName(name);
  if (2 * (table_.channels.size() + 1) > channel_slots_.size()) {  // keep the load under 1/2
    std::vector<ChannelSlot> slots(std::max<size_t>(64, 2 * channel_slots_.size()));
    const size_t mask = slots.size() - 1;
    for (const ChannelSlot& s : channel_slots_) {
      if (s.id == 0) continue;
      size_t j = s.hash & mask;
      while (slots[j].id != 0) j = (j + 1) & mask;
      slots[j] = s;
    }
    channel_slots_.swap(slots);
  }
  const size_t mask = channel_slots_.size() - 1;
  size_t j = h & mask;
  for (; channel_slots_[j].id != 0; j = (j + 1) & mask) {
    const ChannelSlot& s = channel_slots_[j];
    if (s.hash == h && table_.channels[s.id - 1] == name) return s.id - 1;
  }
  const auto id = static_cast<uint32_t>(table_.channels.size());
  channel_slots_[j] = {h, id + 1};
  table_.channels.emplace_back(name);
  return id;
}

std::optional<Error> PathTableBuilder::Split(std::string_view path, std::vector<uint32_t>* ids) {
  ids->clear();
  if (Trim(path).empty()) return Error{"path", "the path is empty"};
  size_t start = 0;
  for (;;) {
    const size_t at = separator_.empty() ? std::string_view::npos : path.find(separator_, start);
    std::string_view name = Trim(
        path.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (name.empty()) {
      return Error{"path", "channel " + std::to_string(ids->size() + 1) +
                               " is empty (two separators in a row, or one at an end): '" +
                               std::string(path) + "'"};
    }
    ids->push_back(ChannelId(name));
    if (at == std::string_view::npos) break;
    start = at + separator_.size();
  }
  return std::nullopt;
}

std::optional<Error> PathTableBuilder::Add(std::string_view path, double conversions, double nulls,
                                           std::optional<double> value) {
  for (auto [name, x] :
       {std::pair{"total_conversions", conversions}, std::pair{"total_null", nulls}}) {
    if (!std::isfinite(x) || x < 0) return Error{name, "must be a finite number >= 0"};
  }
  if (conversions + nulls <= 0) {
    return Error{"",
                 "the row has no conversions and no nulls (total_conversions + total_null "
                 "is 0): it carries no journey; drop it"};
  }
  if (value_rows_ && *value_rows_ != value.has_value()) {
    return Error{"total_conversion_value",
                 value ? "is given on this row but not on the rows before it: give it on every "
                         "row or on none"
                       : "is missing on this row but given on the rows before it: give it on "
                         "every row or on none"};
  }
  value_rows_ = value.has_value();
  if (value) {
    if (!std::isfinite(*value) || *value < 0)
      return Error{"total_conversion_value", "must be a finite number >= 0"};
    if (*value > 0 && conversions == 0)
      return Error{"total_conversion_value", "is positive on a row with no conversions"};
  }
  if (pending_count_ == kPending) {
    AddToPath(pending_[first_pending_]);
    first_pending_ = (first_pending_ + 1) % kPending;
    --pending_count_;
  }
  PendingRow& row = pending_[(first_pending_ + pending_count_) % kPending];
  if (auto e = Split(path, &row.ids)) return e;
  const std::vector<uint32_t>& ids = row.ids;
  row.key = 0;
  row.packed = ids.size() <= 8;
  for (size_t i = 0; i < ids.size() && row.packed; ++i) {
    row.packed = ids[i] < 255;
    row.key |= static_cast<uint64_t>(ids[i] + 1) << (8 * i);
  }
  if (!row.packed) {
    row.key = 0x9E3779B97F4A7C15ull ^ ids.size();
    for (uint32_t id : ids) {
      row.key = (row.key ^ id) * 0xBF58476D1CE4E5B9ull;
      row.key ^= row.key >> 29;
    }
  }
  row.conversions = conversions;
  row.nulls = nulls;
  row.value = value.value_or(0);
  if (!path_slots_.empty()) {
    const PathSlot* slot = &path_slots_[Mix(row.key) & (path_slots_.size() - 1)];
    __builtin_prefetch(slot);
    __builtin_prefetch(reinterpret_cast<const char*>(slot + 1) - 1);
  }
  ++pending_count_;
  ++table_.rows;
  return std::nullopt;
}

void PathTableBuilder::AddToPath(const PendingRow& row) {
  if (2 * (paths_ + 1) > path_slots_.size()) {  // keep the load under 1/2
    std::vector<PathSlot> slots(std::max<size_t>(1024, 2 * path_slots_.size()));
    const size_t mask = slots.size() - 1;
    for (const PathSlot& s : path_slots_) {
      if (s.path == 0) continue;
      size_t j = Mix(s.key) & mask;
      while (slots[j].path != 0) j = (j + 1) & mask;
      slots[j] = s;
    }
    path_slots_.swap(slots);
  }
  const std::vector<uint32_t>& ids = row.ids;
  const size_t mask = path_slots_.size() - 1;
  size_t j = Mix(row.key) & mask;
  for (; path_slots_[j].path != 0; j = (j + 1) & mask) {
    const PathSlot& s = path_slots_[j];
    if (s.key != row.key || s.packed != row.packed) continue;
    const size_t p = s.path - 1;
    if (row.packed ||
        (table_.length(p) == ids.size() && std::equal(ids.begin(), ids.end(), table_.begin(p)))) {
      break;
    }
  }
  PathSlot& slot = path_slots_[j];
  if (slot.path == 0) {
    slot.key = row.key;
    slot.path = static_cast<uint32_t>(++paths_);
    slot.packed = row.packed ? 1 : 0;
    table_.touches.insert(table_.touches.end(), ids.begin(), ids.end());
    table_.offsets.push_back(table_.touches.size());
  }
  slot.conversions += row.conversions;
  slot.nulls += row.nulls;
  slot.value += row.value;
}

PathTable PathTableBuilder::Finish() && {
  for (; pending_count_ > 0; --pending_count_) {
    AddToPath(pending_[first_pending_]);
    first_pending_ = (first_pending_ + 1) % kPending;
  }
  table_.conversions.resize(paths_);
  table_.nulls.resize(paths_);
  table_.values.resize(paths_);
  for (const PathSlot& s : path_slots_) {
    if (s.path == 0) continue;
    table_.conversions[s.path - 1] = s.conversions;
    table_.nulls[s.path - 1] = s.nulls;
    table_.values[s.path - 1] = s.value;
  }
  table_.has_value = value_rows_.value_or(false);
  return std::move(table_);
}

// ---- heuristics and Shapley ---------------------------------------------------------------

namespace {

std::vector<ChannelCredit> Heuristic(const PathTable& t, AttributionMethod m) {
  std::vector<ChannelCredit> out(t.channels.size());
  for (size_t p = 0; p < t.size(); ++p) {
    const double c = t.conversions[p], v = t.values[p];
    if (c == 0) continue;
    const uint32_t* touch = t.begin(p);
    const size_t len = t.length(p);
    if (m == AttributionMethod::kFirstTouch || m == AttributionMethod::kLastTouch) {
      ChannelCredit& credit = out[m == AttributionMethod::kFirstTouch ? touch[0] : touch[len - 1]];
      credit.conversions += c;
      credit.value += v;
    } else {  // linear: every touch, repeats included
      const double share = 1.0 / static_cast<double>(len);
      for (size_t i = 0; i < len; ++i) {
        out[touch[i]].conversions += c * share;
        out[touch[i]].value += v * share;
      }
    }
  }
  return out;
}

// phi_j = sum_{p : j in C(p)} conv(p) / |C(p)|; with `ordered`, also split over the
// positions where j occurs (Zhao et al. 2018).
std::vector<ChannelCredit> Shapley(const PathTable& t, bool ordered, size_t max_len) {
  const size_t n = t.channels.size();
  std::vector<ChannelCredit> out(n);
  if (ordered) {
    for (auto& c : out) {
      c.by_touchpoint.assign(max_len, 0.0);
      if (t.has_value) c.by_touchpoint_value.assign(max_len, 0.0);
    }
  }
  std::vector<uint32_t> count(n, 0);  // occurrences of each channel in the current path
  std::vector<uint32_t> distinct;
  for (size_t p = 0; p < t.size(); ++p) {
    const double c = t.conversions[p], v = t.values[p];
    if (c == 0) continue;
    const uint32_t* touch = t.begin(p);
    const size_t len = t.length(p);
    distinct.clear();
    for (size_t i = 0; i < len; ++i) {
      if (count[touch[i]]++ == 0) distinct.push_back(touch[i]);
    }
    const double share = 1.0 / static_cast<double>(distinct.size());
    for (uint32_t j : distinct) {
      out[j].conversions += c * share;
      out[j].value += v * share;
    }
    if (ordered) {
      for (size_t i = 0; i < len; ++i) {
        const double w = share / count[touch[i]];
        out[touch[i]].by_touchpoint[i] += c * w;
        if (t.has_value) out[touch[i]].by_touchpoint_value[i] += v * w;
      }
    }
    for (uint32_t j : distinct) count[j] = 0;
  }
  return out;
}

// ---- Markov -------------------------------------------------------------------------------

// The chain of one order: states, the state sequence of every distinct path, and the
// counts the transition probabilities come from.
struct ChainData {
  size_t n_states = 0;                       // channel states, numbered 1..n_states (0 = start)
  std::vector<std::vector<uint32_t>> tuple;  // state -> its channels (index state - 1)
  std::vector<double> out_total;             // per state incl. start: weight leaving it
  std::vector<double> conv_end, null_end, value_end;  // per state: path ends there
  // Transient -> transient counts, keyed (from << 32 | to).
  std::vector<std::pair<uint64_t, double>> edges;
};

Result<ChainData> BuildChain(const PathTable& t, int order) {
  ChainData d;
  std::unordered_map<std::string, uint32_t> state_ids;
  const bool first_order = order == 1;
  if (first_order) {
    d.n_states = t.channels.size();
    for (uint32_t c = 0; c < d.n_states; ++c) d.tuple.push_back({c});
  }
  const size_t k = static_cast<size_t>(order);
  // Dense counts while the chain is small, else a hash map.
  std::vector<uint32_t> seq;
  std::string key;
  // Pass 1: state sequences (merged repeats), kept for pass 2.
  std::vector<uint32_t> seq_all;
  std::vector<size_t> seq_off{0};
  seq_all.reserve(t.touches.size());
  for (size_t p = 0; p < t.size(); ++p) {
    const uint32_t* touch = t.begin(p);
    const size_t len = t.length(p);
    const size_t windows = len <= k ? 1 : len - k + 1;
    uint32_t prev = 0;
    for (size_t w = 0; w < windows; ++w) {
      uint32_t s;
      if (first_order) {
        s = touch[w] + 1;
      } else {
        const size_t wl = std::min(k, len);
        key.assign(reinterpret_cast<const char*>(touch + w), wl * sizeof(uint32_t));
        auto [it, inserted] = state_ids.emplace(key, static_cast<uint32_t>(d.n_states + 1));
        if (inserted) {
          ++d.n_states;
          d.tuple.emplace_back(touch + w, touch + w + wl);
          if (d.n_states > kMaxMarkovStates) {
            return Error{"options.order", "a Markov chain of order " + std::to_string(order) +
                                              " on these paths has "
                                              "more than " +
                                              std::to_string(kMaxMarkovStates) +
                                              " states; use a lower "
                                              "order"};
          }
        }
        s = it->second;
      }
      if (s != prev) seq_all.push_back(s);
      prev = s;
    }
    seq_off.push_back(seq_all.size());
  }
  const size_t T = d.n_states + 1;  // transient: start + channel states
  d.out_total.assign(T, 0);
  d.conv_end.assign(T, 0);
  d.null_end.assign(T, 0);
  d.value_end.assign(T, 0);
  const bool dense = T <= 1024;
  std::vector<double> dense_counts(dense ? T * T : 0, 0.0);
  std::unordered_map<uint64_t, double> sparse_counts;
  auto add = [&](uint32_t from, uint32_t to, double w) {
    if (dense) {
      dense_counts[static_cast<size_t>(from) * T + to] += w;
    } else {
      sparse_counts[(static_cast<uint64_t>(from) << 32) | to] += w;
    }
  };
  for (size_t p = 0; p < t.size(); ++p) {
    const double w = t.conversions[p] + t.nulls[p];
    uint32_t from = 0;
    for (size_t i = seq_off[p]; i < seq_off[p + 1]; ++i) {
      add(from, seq_all[i], w);
      d.out_total[from] += w;
      from = seq_all[i];
    }
    d.out_total[from] += w;
    d.conv_end[from] += t.conversions[p];
    d.null_end[from] += t.nulls[p];
    d.value_end[from] += t.values[p];
  }
  if (dense) {
    for (size_t i = 0; i < T; ++i) {
      for (size_t j = 0; j < T; ++j) {
        if (dense_counts[i * T + j] != 0)
          d.edges.emplace_back((static_cast<uint64_t>(i) << 32) | j, dense_counts[i * T + j]);
      }
    }
  } else {
    d.edges.assign(sparse_counts.begin(), sparse_counts.end());
    std::sort(d.edges.begin(), d.edges.end());
  }
  return d;
}

// Absorption into (conversion) from (start), and the expected value, on the chain
// restricted to the transient states with keep[s] (start is always kept; a transition into
// a dropped state goes to (null)). Solves (I - Q) [x, x_v] = [r, r_v].
std::pair<double, double> Absorb(const ChainData& d, const std::vector<char>& keep) {
  const size_t T = d.n_states + 1;
  std::vector<int> index(T, -1);
  int m = 0;
  for (size_t s = 0; s < T; ++s) {
    if (keep[s]) index[s] = m++;
  }
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(m, 2);
  for (size_t s = 0; s < T; ++s) {
    if (index[s] < 0 || d.out_total[s] == 0) continue;
    rhs(index[s], 0) = d.conv_end[s] / d.out_total[s];
    rhs(index[s], 1) = d.value_end[s] / d.out_total[s];
  }
  auto for_each_edge = [&](auto&& f) {
    for (const auto& [key, count] : d.edges) {
      const uint32_t from = static_cast<uint32_t>(key >> 32), to = static_cast<uint32_t>(key);
      if (index[from] < 0 || index[to] < 0) continue;
      f(index[from], index[to], count / d.out_total[from]);
    }
  };
  Eigen::MatrixXd x;
  if (m <= 600) {
    Eigen::MatrixXd a = Eigen::MatrixXd::Identity(m, m);
    for_each_edge([&](int i, int j, double q) { a(i, j) -= q; });
    x = a.partialPivLu().solve(rhs);
  } else {
    std::vector<Eigen::Triplet<double>> entries;
    entries.reserve(d.edges.size() + static_cast<size_t>(m));
    for (int i = 0; i < m; ++i) entries.emplace_back(i, i, 1.0);
    for_each_edge([&](int i, int j, double q) { entries.emplace_back(i, j, -q); });
    Eigen::SparseMatrix<double> a(m, m);
    a.setFromTriplets(entries.begin(), entries.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu;
    lu.compute(a);
    x = lu.solve(rhs);
  }
  return {x(index[0], 0), x(index[0], 1)};
}

Result<MethodAttribution> Markov(const PathTable& t, const AttributionOptions& o,
                                 double total_conversions, double total_value) {
  auto built = BuildChain(t, o.markov_order);
  if (!built.ok()) return built.error();
  const ChainData& d = built.value();
  const size_t n = t.channels.size(), T = d.n_states + 1;
  MethodAttribution out;
  out.method = AttributionMethod::kMarkov;
  out.channels.resize(n);
  MarkovChain chain;
  chain.order = o.markov_order;

  std::vector<char> keep(T, 1);
  const auto [p_conv, e_value] = Absorb(d, keep);
  chain.conversion_probability = p_conv;
  chain.expected_value = e_value;
  // Which states hold each channel.
  std::vector<std::vector<uint32_t>> holding(n);
  for (size_t s = 1; s < T; ++s) {
    for (uint32_t c : d.tuple[s - 1]) {
      if (holding[c].empty() || holding[c].back() != s)
        holding[c].push_back(static_cast<uint32_t>(s));
    }
  }
  double sum_re = 0, sum_re_value = 0;
  for (size_t c = 0; c < n; ++c) {
    for (uint32_t s : holding[c]) keep[s] = 0;
    const auto [p, v] = Absorb(d, keep);
    for (uint32_t s : holding[c]) keep[s] = 1;
    ChannelCredit& credit = out.channels[c];
    credit.conversion_probability_without = p;
    credit.removal_effect = p_conv > 0 ? std::max(0.0, 1 - p / p_conv) : 0;
    credit.removal_effect_value = e_value > 0 ? std::max(0.0, 1 - v / e_value) : 0;
    sum_re += credit.removal_effect;
    sum_re_value += credit.removal_effect_value;
  }
  for (auto& credit : out.channels) {
    credit.conversions = sum_re > 0 ? total_conversions * credit.removal_effect / sum_re : 0;
    credit.value = sum_re_value > 0 ? total_value * credit.removal_effect_value / sum_re_value : 0;
  }

  chain.states.reserve(T + 2);
  chain.states.push_back("(start)");
  for (size_t s = 1; s < T; ++s) {
    std::string name;
    for (uint32_t c : d.tuple[s - 1]) {
      if (!name.empty()) name += " > ";
      name += t.channels[c];
    }
    chain.states.push_back(std::move(name));
  }
  chain.states.push_back("(conversion)");
  chain.states.push_back("(null)");
  if (o.transition_matrix) {
    const uint32_t conv = static_cast<uint32_t>(T), null = static_cast<uint32_t>(T + 1);
    size_t e = 0;
    for (uint32_t s = 0; s < T; ++s) {
      for (; e < d.edges.size() && (d.edges[e].first >> 32) == s; ++e) {
        const uint32_t to = static_cast<uint32_t>(d.edges[e].first);
        chain.transitions.push_back({s, to, d.edges[e].second, d.edges[e].second / d.out_total[s]});
      }
      if (d.conv_end[s] > 0)
        chain.transitions.push_back({s, conv, d.conv_end[s], d.conv_end[s] / d.out_total[s]});
      if (d.null_end[s] > 0)
        chain.transitions.push_back({s, null, d.null_end[s], d.null_end[s] / d.out_total[s]});
    }
  }
  out.markov = std::move(chain);
  return out;
}

}  // namespace

Result<AttributionSummary> Attribute(const PathTable& t, const AttributionOptions& o) {
  std::string why;
  if (!o.IsValid(&why)) {
    const std::string field = why.rfind("order", 0) == 0 ? "options.order" : "options.methods";
    return Error{field, why};
  }
  AttributionSummary s;
  for (size_t p = 0; p < t.size(); ++p) {
    s.total_conversions += t.conversions[p];
    s.total_nulls += t.nulls[p];
    s.total_value += t.values[p];
    s.max_path_length = std::max(s.max_path_length, t.length(p));
  }
  if (t.size() == 0) return InsufficientData("paths", "no paths");
  if (s.total_conversions <= 0) {
    return InsufficientData("paths",
                            "no path has a conversion (total_conversions is 0 on every row): "
                            "there is nothing to attribute");
  }
  for (AttributionMethod m : o.methods) {
    MethodAttribution a;
    a.method = m;
    switch (m) {
      case AttributionMethod::kFirstTouch:
      case AttributionMethod::kLastTouch:
      case AttributionMethod::kLinear:
        a.channels = Heuristic(t, m);
        break;
      case AttributionMethod::kShapley:
      case AttributionMethod::kShapleyOrdered:
        a.channels = Shapley(t, m == AttributionMethod::kShapleyOrdered, s.max_path_length);
        break;
      case AttributionMethod::kMarkov: {
        auto r = Markov(t, o, s.total_conversions, s.total_value);
        if (!r.ok()) return r.error();
        a = std::move(r).value();
        if (s.total_nulls == 0) {
          s.warnings.push_back(
              {"no_null_paths",
               "total_null is 0 on every row, so every journey in the chain converts and a "
               "removal effect only measures how many journeys pass through a channel; export "
               "the paths that did not convert too"});
        }
        break;
      }
    }
    s.methods.push_back(std::move(a));
  }
  // Channels seen only on paths that never converted get nothing from the path-based
  // methods; say so rather than let a zero look like a measurement.
  std::vector<char> converted(t.channels.size(), 0);
  for (size_t p = 0; p < t.size(); ++p) {
    if (t.conversions[p] == 0) continue;
    for (size_t i = 0; i < t.length(p); ++i) converted[t.begin(p)[i]] = 1;
  }
  const size_t never = static_cast<size_t>(std::count(converted.begin(), converted.end(), 0));
  if (never > 0) {
    std::string names;
    for (size_t c = 0, shown = 0; c < converted.size() && shown < 5; ++c) {
      if (converted[c]) continue;
      names += (shown++ ? ", '" : "'") + t.channels[c] + "'";
    }
    s.warnings.push_back({"channels_without_conversions",
                          Plural(never, "channel") + " (" + names + (never > 5 ? ", ..." : "") +
                              ") appear only on paths without conversions and get 0"});
  }
  return s;
}

}  // namespace causeway::causal
