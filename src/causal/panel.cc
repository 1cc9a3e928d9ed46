#include "causal/panel.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace causeway::causal {
namespace {

// Maps arbitrary int64 ids to dense indices 0..n-1 in ascending id order. Uses a direct
// table when the id range is small (the common case: county codes, years, 0..n-1).
struct DenseIds {
  std::vector<int64_t> sorted;
  std::vector<int32_t> index;  // one per input value
};

DenseIds Densify(const std::vector<int64_t>& ids) {
  DenseIds out;
  out.index.resize(ids.size());
  if (ids.empty()) return out;
  const auto [lo_it, hi_it] = std::minmax_element(ids.begin(), ids.end());
  const int64_t lo = *lo_it, hi = *hi_it;
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range < 4 * ids.size() + 1024) {
    std::vector<int32_t> table(range + 1, -1);
    for (int64_t id : ids) table[static_cast<size_t>(id - lo)] = 0;
    int32_t next = 0;
    for (size_t k = 0; k < table.size(); ++k) {
      if (table[k] == 0) {
        table[k] = next++;
        out.sorted.push_back(lo + static_cast<int64_t>(k));
      }
    }
    for (size_t r = 0; r < ids.size(); ++r) out.index[r] = table[static_cast<size_t>(ids[r] - lo)];
    return out;
  }
  out.sorted = ids;
  std::sort(out.sorted.begin(), out.sorted.end());
  out.sorted.erase(std::unique(out.sorted.begin(), out.sorted.end()), out.sorted.end());
  std::unordered_map<int64_t, int32_t> map;
  map.reserve(out.sorted.size() * 2);
  for (size_t k = 0; k < out.sorted.size(); ++k)
    map.emplace(out.sorted[k], static_cast<int32_t>(k));
  for (size_t r = 0; r < ids.size(); ++r) out.index[r] = map.at(ids[r]);
  return out;
}

int32_t Find(std::vector<int32_t>& parent, int32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

Result<PanelIndex> IndexPanel(const Panel& p) {
  const size_t n = p.rows();
  if (n == 0) return Error{"panel", "the panel has no rows"};
  auto length_error = [&](const char* column, size_t got) {
    return Error{column, std::string("column '") + column + "' has " + std::to_string(got) +
                             " values but the panel has " + std::to_string(n) + " rows"};
  };
  if (p.unit.size() != n) return length_error("unit", p.unit.size());
  if (p.time.size() != n) return length_error("time", p.time.size());
  if (!p.treated.empty() && p.treated.size() != n) return length_error("treated", p.treated.size());
  if (p.treated.size() != p.post.size()) {
    return Error{"post", "the 2x2 design needs both 'treated' and 'post' for every row"};
  }
  if (!p.treatment_start.empty() && p.treatment_start.size() != n) {
    return length_error("treatment_start", p.treatment_start.size());
  }
  if (!p.weight.empty() && p.weight.size() != n) return length_error("weight", p.weight.size());
  if (p.covariate_names.size() != p.covariates.size()) {
    return Error{"covariates", "one name is needed per covariate column"};
  }
  for (size_t j = 0; j < p.covariates.size(); ++j) {
    if (p.covariates[j].size() != n) {
      return Error{p.covariate_names[j], "covariate '" + p.covariate_names[j] + "' has " +
                                             std::to_string(p.covariates[j].size()) +
                                             " values but the panel has " + std::to_string(n) +
                                             " rows"};
    }
  }
  if (p.treated.empty() && p.treatment_start.empty()) {
    return Error{"panel", "give either 'treated' and 'post' flags or 'treatment_start' per unit"};
  }
  for (size_t r = 0; r < n; ++r) {
    if (!std::isfinite(p.outcome[r])) {
      return Error{"outcome", "outcome is not a finite number in row " + std::to_string(r)};
    }
  }
  for (size_t j = 0; j < p.covariates.size(); ++j) {
    for (size_t r = 0; r < n; ++r) {
      if (!std::isfinite(p.covariates[j][r])) {
        return Error{p.covariate_names[j], "covariate '" + p.covariate_names[j] +
                                               "' is not a finite number in row " +
                                               std::to_string(r)};
      }
    }
  }
  for (size_t r = 0; r < p.weight.size(); ++r) {
    if (!(p.weight[r] > 0) || !std::isfinite(p.weight[r])) {
      return Error{"weight", "weights must be positive and finite (row " + std::to_string(r) + ")"};
    }
  }
  for (size_t r = 0; r < p.treated.size(); ++r) {
    if (p.treated[r] > 1 || p.post[r] > 1) {
      return Error{"panel", "'treated' and 'post' must be 0 or 1 (row " + std::to_string(r) + ")"};
    }
  }

  PanelIndex ix;
  DenseIds units = Densify(p.unit);
  DenseIds times = Densify(p.time);
  ix.unit_index = std::move(units.index);
  ix.time_index = std::move(times.index);
  ix.unit_ids = std::move(units.sorted);
  ix.times = std::move(times.sorted);
  const size_t g = ix.unit_ids.size(), t = ix.times.size();
  if (g > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
    return Error{"panel", "too many units"};
  }

  // Duplicates: a (unit, time) bitmap when it fits, else sort the row keys.
  if (g * t <= 64 * n + (1u << 20)) {
    std::vector<uint8_t> seen(g * t, 0);
    for (size_t r = 0; r < n; ++r) {
      uint8_t& s = seen[static_cast<size_t>(ix.unit_index[r]) * t + ix.time_index[r]];
      if (s) {
        return Error{"panel", "duplicate (unit, time) row: unit " + std::to_string(p.unit[r]) +
                                  ", time " + std::to_string(p.time[r])};
      }
      s = 1;
    }
  } else {
    std::vector<uint64_t> keys(n);
    for (size_t r = 0; r < n; ++r) {
      keys[r] =
          static_cast<uint64_t>(ix.unit_index[r]) * t + static_cast<uint64_t>(ix.time_index[r]);
    }
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) {
      return Error{"panel", "duplicate (unit, time) row: unit " +
                                std::to_string(ix.unit_ids[*dup / t]) + ", time " +
                                std::to_string(ix.times[*dup % t])};
    }
  }

  ix.rows_per_unit.assign(g, 0);
  for (size_t r = 0; r < n; ++r) ++ix.rows_per_unit[ix.unit_index[r]];
  ix.balanced = (n == g * t);

  if (!p.treatment_start.empty()) {
    ix.unit_start.assign(g, 0);
    std::vector<uint8_t> set(g, 0);
    for (size_t r = 0; r < n; ++r) {
      const int32_t u = ix.unit_index[r];
      if (!set[u]) {
        set[u] = 1;
        ix.unit_start[u] = p.treatment_start[r];
      } else if (ix.unit_start[u] != p.treatment_start[r]) {
        return Error{"treatment_start", "treatment_start varies within unit " +
                                            std::to_string(p.unit[r]) +
                                            "; it must be the unit's first treated period"};
      }
    }
  }

  // Connected components of the unit-time bipartite graph: the two-way FE span
  // units + periods - components dimensions (Abowd, Creecy & Kramarz 2002).
  std::vector<int32_t> parent(g + t);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t r = 0; r < n; ++r) {
    int32_t a = Find(parent, ix.unit_index[r]);
    int32_t b = Find(parent, static_cast<int32_t>(g) + ix.time_index[r]);
    if (a != b) parent[a] = b;
  }
  int32_t components = 0;
  for (size_t k = 0; k < g + t; ++k)
    components += (Find(parent, static_cast<int32_t>(k)) == static_cast<int32_t>(k));
  ix.connected_components = components;
  return ix;
}

}  // namespace causeway::causal
