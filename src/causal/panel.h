// A panel of (unit, time) observations for difference-in-differences, as columns.
//
// The caller (the api layer, a test, a benchmark) fills the columns; IndexPanel
// validates them and builds dense unit/time indices that every estimator shares.
// Treatment is described either by 2x2 flags (`treated`, `post`) or by the period a
// unit is first treated (`treatment_start`, kNeverTreated for never-treated units);
// the treatment indicator of a row is then D_it = 1[t >= treatment_start_i].
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "causal/result.h"

namespace causeway::causal {

// treatment_start of a unit that is never treated (treated "at infinity", so
// t >= start is false for every t).
inline constexpr int64_t kNeverTreated = std::numeric_limits<int64_t>::max();

struct Panel {
  std::vector<int64_t> unit;     // unit id per row (any integers; need not be dense)
  std::vector<int64_t> time;     // integer period per row (years, weeks, ...)
  std::vector<double> outcome;   // finite
  std::vector<uint8_t> treated;  // 2x2 flag per row (empty when not given)
  std::vector<uint8_t> post;     // 2x2 flag per row (empty when not given)
  // first treated period per row, constant within a unit; kNeverTreated if never.
  // Empty when the 2x2 flags are used instead.
  std::vector<int64_t> treatment_start;
  std::vector<std::vector<double>> covariates;  // covariates[j][row]
  std::vector<std::string> covariate_names;     // one per covariate column
  std::vector<double> weight;                   // empty: every row weighs 1; else > 0

  size_t rows() const { return outcome.size(); }
  bool has_flags() const { return !treated.empty(); }
  bool has_treatment_start() const { return !treatment_start.empty(); }
};

// Dense indices of a validated panel: unit_index[row] in [0, units), time_index[row] in
// [0, periods) with times sorted ascending. Cheap to copy around by reference.
struct PanelIndex {
  // Per-row indices. Left empty by RowIndices::kOnDemand when both direct tables exist;
  // UnitOf/TimeOf then give the index of a row's id.
  std::vector<int32_t> unit_index;
  std::vector<int32_t> time_index;
  std::vector<int64_t> unit_ids;    // unit_ids[u]: original id
  std::vector<int64_t> times;       // times[t]: original period, ascending
  std::vector<int64_t> unit_start;  // treatment_start per unit (if has_treatment_start)
  std::vector<int32_t> rows_per_unit;
  bool balanced = false;  // every unit observed in every period
  // Rows grouped by unit (each unit's rows consecutive, times strictly increasing):
  // run_units[k] is the unit of the k-th run, in row order; empty if not grouped. A
  // balanced grouped panel has row r at time index r % periods() of unit
  // run_units[r / periods()].
  std::vector<int32_t> run_units;
  int32_t connected_components = 1;  // of the bipartite unit-time graph (FE rank)

  // Direct id -> index tables, used when the id range is at most a few times the rows
  // (county codes, years, 0..n-1); empty when the ids are too sparse.
  int64_t unit_lo = 0, time_lo = 0;
  std::vector<int32_t> unit_table, time_table;

  int32_t units() const { return static_cast<int32_t>(unit_ids.size()); }
  int32_t periods() const { return static_cast<int32_t>(times.size()); }
  bool has_row_indices() const { return !unit_index.empty(); }
  bool has_tables() const { return !unit_table.empty() && !time_table.empty(); }
  bool grouped() const { return !run_units.empty(); }
  // Index of an id that occurs in the panel (requires has_tables()).
  int32_t UnitOf(int64_t id) const { return unit_table[static_cast<size_t>(id - unit_lo)]; }
  int32_t TimeOf(int64_t id) const { return time_table[static_cast<size_t>(id - time_lo)]; }
};

enum class RowIndices {
  kMaterialize,  // always fill unit_index and time_index
  kOnDemand,     // only when the ids are too sparse for direct tables (saves 8 bytes a row)
};

// Validates the columns and builds the index. Errors (field "panel" unless a column is
// named): mismatched column lengths, empty panel, non-finite outcome/covariate, weight
// <= 0, duplicate (unit, time) rows, treatment_start varying within a unit, flags that
// are neither 0 nor 1, and neither flags nor treatment_start given. `threads` as in
// DidOptions::threads.
Result<PanelIndex> IndexPanel(const Panel& panel, RowIndices rows = RowIndices::kMaterialize,
                              int threads = 0);

// Fills unit_index and time_index of an index built with RowIndices::kOnDemand.
void MaterializeRowIndices(const Panel& panel, PanelIndex* index);

}  // namespace causeway::causal
