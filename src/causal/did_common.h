// Helpers shared by the DiD estimators (internal to the causal core).
#pragma once

#include <vector>

#include "causal/did_types.h"
#include "causal/panel.h"

namespace causeway::causal {

// First treated period per unit (kNeverTreated if never): treatment_start when given,
// else the earliest period with treated = 1 and post = 1.
std::vector<int64_t> UnitStarts(const Panel& panel, const PanelIndex& ix);

// Distinct first-treatment periods that fall inside the observed window
// (first period, last period]: the cohorts whose switch is observed.
std::vector<int64_t> ObservedCohorts(const std::vector<int64_t>& starts, const PanelIndex& ix);

// "few_clusters" (< 30) and "unbalanced_panel" warnings.
void AddDesignWarnings(const PanelIndex& ix, int64_t clusters, std::vector<Warning>* warnings);

}  // namespace causeway::causal
