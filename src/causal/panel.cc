#include "causal/panel.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "causal/parallel.h"

namespace causeway::causal {
namespace {

// Maps arbitrary int64 ids to dense indices 0..n-1 in ascending id order. Uses a direct
// table when the id range is small (the common case: county codes, years, 0..n-1), a
// sorted list and hash map otherwise.
struct DenseIds {
  std::vector<int64_t> sorted;
  int64_t lo = 0;
  std::vector<int32_t> table;  // table[id - lo] (direct mode), else empty
  std::unordered_map<int64_t, int32_t> map;
};

DenseIds Densify(const std::vector<int64_t>& ids, int64_t lo, int64_t hi) {
  DenseIds out;
  out.lo = lo;
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range < 4 * ids.size() + 1024) {
    out.table.assign(range + 1, -1);
    int32_t* table = out.table.data();
    for (int64_t id : ids) table[static_cast<size_t>(id - lo)] = 0;
    int32_t next = 0;
    for (size_t k = 0; k < out.table.size(); ++k) {
      if (table[k] == 0) {
        table[k] = next++;
        out.sorted.push_back(lo + static_cast<int64_t>(k));
      }
    }
    return out;
  }
  out.sorted = ids;
  std::sort(out.sorted.begin(), out.sorted.end());
  out.sorted.erase(std::unique(out.sorted.begin(), out.sorted.end()), out.sorted.end());
  out.map.reserve(out.sorted.size() * 2);
  for (size_t k = 0; k < out.sorted.size(); ++k) {
    out.map.emplace(out.sorted[k], static_cast<int32_t>(k));
  }
  return out;
}

// Dense row indices from the two maps; the direct-table case is the hot one.
void FillIndices(const std::vector<int64_t>& ids, const DenseIds& dense,
                 std::vector<int32_t>* out) {
  const size_t n = ids.size();
  out->resize(n);
  int32_t* dst = out->data();
  if (dense.table.empty()) {
    for (size_t r = 0; r < n; ++r) dst[r] = dense.map.at(ids[r]);
    return;
  }
  const int32_t* table = dense.table.data();
  const int64_t lo = dense.lo;
  for (size_t r = 0; r < n; ++r) dst[r] = table[static_cast<size_t>(ids[r] - lo)];
}

int32_t Find(std::vector<int32_t>& parent, int32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

Result<PanelIndex> IndexPanel(const Panel& p, RowIndices rows, int threads) {
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
  // One fused pass: finite outcomes and the id ranges. The failing row is searched for
  // only when there is one.
  // The same pass notes where runs of one unit start and whether, inside every run,
  // times strictly increase and treatment_start stays put: then the panel is grouped
  // (the usual layout, sorted by unit and time) if no unit has two runs, which needs
  // only the run list later, not another pass.
  const std::vector<size_t> bounds = ChunkBounds(n, ChunkCount(n, threads));
  struct Ranges {
    int64_t unit_lo, unit_hi, time_lo, time_hi;
    bool finite = true;
    bool ordered = true;  // within-run checks passed and few enough runs
    std::vector<size_t> run_starts;
  };
  std::vector<Ranges> ranges(bounds.size() - 1);
  RunChunks(bounds, [&](unsigned chunk, size_t begin, size_t end) {
    const int64_t* unit = p.unit.data();
    const int64_t* time = p.time.data();
    const int64_t* start = p.treatment_start.empty() ? nullptr : p.treatment_start.data();
    const double* outcome = p.outcome.data();
    Ranges& out = ranges[chunk];
    int64_t ulo = unit[begin], uhi = unit[begin], tlo = time[begin], thi = time[begin];
    bool ok = true, ordered = true;
    // Runs of one row (one period per unit, or shuffled rows) are not worth a list.
    const size_t max_runs = (end - begin) / 2 + 1;
    for (size_t r = begin; r < end; ++r) {
      ulo = std::min(ulo, unit[r]);
      uhi = std::max(uhi, unit[r]);
      tlo = std::min(tlo, time[r]);
      thi = std::max(thi, time[r]);
      ok &= std::isfinite(outcome[r]);
      if (r > 0 && unit[r] == unit[r - 1]) {
        ordered &= time[r] > time[r - 1];
        if (start) ordered &= start[r] == start[r - 1];
      } else if (ordered) {
        out.run_starts.push_back(r);
        ordered = out.run_starts.size() <= max_runs;
      }
    }
    out.unit_lo = ulo;
    out.unit_hi = uhi;
    out.time_lo = tlo;
    out.time_hi = thi;
    out.finite = ok;
    out.ordered = ordered;
  });
  int64_t unit_lo = ranges[0].unit_lo, unit_hi = ranges[0].unit_hi;
  int64_t time_lo = ranges[0].time_lo, time_hi = ranges[0].time_hi;
  bool finite = true, ordered = true;
  for (const Ranges& c : ranges) {
    unit_lo = std::min(unit_lo, c.unit_lo);
    unit_hi = std::max(unit_hi, c.unit_hi);
    time_lo = std::min(time_lo, c.time_lo);
    time_hi = std::max(time_hi, c.time_hi);
    finite &= c.finite;
    ordered &= c.ordered;
  }
  if (!finite) {
    for (size_t r = 0; r < n; ++r) {
      if (!std::isfinite(p.outcome[r])) {
        return Error{"outcome", "outcome is not a finite number in row " + std::to_string(r)};
      }
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
  DenseIds units = Densify(p.unit, unit_lo, unit_hi);
  DenseIds times = Densify(p.time, time_lo, time_hi);
  ix.unit_ids = std::move(units.sorted);
  ix.times = std::move(times.sorted);
  const size_t g = ix.unit_ids.size(), t = ix.times.size();
  if (g > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
    return Error{"panel", "too many units"};
  }
  const bool tables = !units.table.empty() && !times.table.empty();
  if (!tables || rows == RowIndices::kMaterialize) {
    FillIndices(p.unit, units, &ix.unit_index);
    FillIndices(p.time, times, &ix.time_index);
  }
  if (tables) {
    ix.unit_lo = units.lo;
    ix.time_lo = times.lo;
    ix.unit_table = std::move(units.table);
    ix.time_table = std::move(times.table);
  }

  // One pass over the rows: duplicate (unit, time) cells in a bitmap (sorted keys when
  // the grid is too sparse for one), rows per unit, and a constant treatment_start per
  // unit (a unit's first row sets it).
  const bool bitmap = g * t <= 8 * (64 * n + (1u << 20));
  if (!bitmap) {
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
  std::vector<uint64_t> seen;
  ix.rows_per_unit.assign(g, 0);
  if (!p.treatment_start.empty()) ix.unit_start.assign(g, kNeverTreated);
  auto scan = [&](auto unit_of, auto time_of) -> std::optional<Error> {
    if (bitmap) seen.assign((g * t + 63) / 64, 0);
    uint64_t* cells = seen.data();
    int32_t* rows_per_unit = ix.rows_per_unit.data();
    int64_t* unit_start = ix.unit_start.data();
    const int64_t* start = p.treatment_start.empty() ? nullptr : p.treatment_start.data();
    for (size_t r = 0; r < n; ++r) {
      const int32_t u = unit_of(r);
      if (bitmap) {
        const size_t cell = static_cast<size_t>(u) * t + static_cast<size_t>(time_of(r));
        const uint64_t bit = uint64_t{1} << (cell & 63);
        if (cells[cell >> 6] & bit) {
          return Error{"panel", "duplicate (unit, time) row: unit " + std::to_string(p.unit[r]) +
                                    ", time " + std::to_string(p.time[r])};
        }
        cells[cell >> 6] |= bit;
      }
      if (start) {
        if (rows_per_unit[u] == 0) {
          unit_start[u] = start[r];
        } else if (unit_start[u] != start[r]) {
          return Error{"treatment_start", "treatment_start varies within unit " +
                                              std::to_string(p.unit[r]) +
                                              "; it must be the unit's first treated period"};
        }
      }
      ++rows_per_unit[u];
    }
    return std::nullopt;
  };
  // Grouped rows (see the first pass) cannot hold a duplicate cell: each unit is one
  // run with strictly increasing times, so the run list replaces the bitmap. Anything
  // else falls back to the full scan, which also names the offending row.
  auto scan_grouped = [&]() {
    if (!ordered) return false;
    const int64_t* start = p.treatment_start.empty() ? nullptr : p.treatment_start.data();
    // A chunk inside one long run has no run start of its own.
    std::vector<size_t> run_starts = std::move(ranges[0].run_starts);
    for (size_t c = 1; c < ranges.size(); ++c) {
      run_starts.insert(run_starts.end(), ranges[c].run_starts.begin(), ranges[c].run_starts.end());
    }
    run_starts.push_back(n);
    for (size_t k = 0; k + 1 < run_starts.size(); ++k) {
      const size_t r = run_starts[k];
      const int32_t u = ix.has_row_indices() ? ix.unit_index[r] : ix.UnitOf(p.unit[r]);
      if (ix.rows_per_unit[u] != 0) return false;
      ix.rows_per_unit[u] = static_cast<int32_t>(run_starts[k + 1] - r);
      if (start) ix.unit_start[u] = start[r];
      ix.run_units.push_back(u);
    }
    return true;
  };
  ix.run_units.reserve(g);
  if (!scan_grouped()) {
    ix.run_units.clear();
    std::fill(ix.rows_per_unit.begin(), ix.rows_per_unit.end(), 0);
    std::optional<Error> bad;
    if (ix.has_row_indices()) {
      bad = scan([&](size_t r) { return ix.unit_index[r]; },
                 [&](size_t r) { return ix.time_index[r]; });
    } else {
      bad = scan([&](size_t r) { return ix.UnitOf(p.unit[r]); },
                 [&](size_t r) { return ix.TimeOf(p.time[r]); });
    }
    if (bad) return *bad;
  }
  ix.balanced = (n == g * t);

  if (ix.balanced) {
    // Every (unit, time) cell is observed: the unit-time graph is complete, connected.
    ix.connected_components = 1;
    return ix;
  }
  // Connected components of the unit-time bipartite graph: the two-way FE span
  // units + periods - components dimensions (Abowd, Creecy & Kramarz 2002).
  std::vector<int32_t> parent(g + t);
  std::iota(parent.begin(), parent.end(), 0);
  const bool materialized = ix.has_row_indices();
  for (size_t r = 0; r < n; ++r) {
    const int32_t u = materialized ? ix.unit_index[r] : ix.UnitOf(p.unit[r]);
    const int32_t s = materialized ? ix.time_index[r] : ix.TimeOf(p.time[r]);
    int32_t a = Find(parent, u);
    int32_t b = Find(parent, static_cast<int32_t>(g) + s);
    if (a != b) parent[a] = b;
  }
  int32_t components = 0;
  for (size_t k = 0; k < g + t; ++k)
    components += (Find(parent, static_cast<int32_t>(k)) == static_cast<int32_t>(k));
  ix.connected_components = components;
  return ix;
}

void MaterializeRowIndices(const Panel& panel, PanelIndex* ix) {
  if (ix->has_row_indices()) return;
  const size_t n = panel.rows();
  ix->unit_index.resize(n);
  ix->time_index.resize(n);
  for (size_t r = 0; r < n; ++r) {
    ix->unit_index[r] = ix->UnitOf(panel.unit[r]);
    ix->time_index[r] = ix->TimeOf(panel.time[r]);
  }
}

}  // namespace causeway::causal
