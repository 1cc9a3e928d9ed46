// Readers of unit × time panels (docs/causal.md, "API"): JSON rows or CSV text in,
// a causal::Panel out, or a Status naming the row and column (`rows[12].outcome`)
// or the header problem (`columns`). Used by the DiD, synthetic control and geo
// design endpoints. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "causal/panel.h"
#include "common/status.h"

namespace causeway::io {

// Which input column plays which role, and how never-treated units are marked.
struct PanelColumns {
  std::string unit = "unit", time = "time", outcome = "outcome";
  std::string treated = "treated", post = "post", treatment_start = "treatment_start";
  std::string weight;                          // "" = unweighted
  std::vector<std::string> covariates;         // extra numeric columns
  std::optional<int64_t> never_treated_value;  // e.g. 0 in mpdta's first.treat
  // false: a panel without treatment columns is read as never treated (a history for
  // /v1/design/geo) instead of refused.
  bool require_treatment = true;
};

// Reads JSON rows (objects) into a panel with the same rules as the CSV form: unit ids
// integers or strings (unit_names[id] is the label when strings), the `treated` column
// selects 2x2 flags, otherwise `treatment_start` (absent or null = never treated).
std::variant<causal::Panel, Status> PanelFromJsonRows(const nlohmann::json& rows,
                                                      const PanelColumns& columns,
                                                      std::vector<std::string>* unit_names);
// Parses CSV text (header line, comma separated, RFC 4180 quotes) into a panel. Unit
// ids may be integers or labels ("geo-07"); labels are mapped to dense integers and,
// when unit_names is given, unit_names[id] is the label.
std::variant<causal::Panel, Status> ParsePanelCsv(std::string_view csv, const PanelColumns& columns,
                                                  std::vector<std::string>* unit_names = nullptr);

}  // namespace causeway::io
