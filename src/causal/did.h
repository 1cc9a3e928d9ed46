// Difference-in-differences estimators on panels: 2x2, two-way fixed effects, event
// study and Callaway & Sant'Anna (2021) group-time ATTs.
//
// Usage:
//   causal::DidOptions options;                 // documented defaults below
//   options.method = causal::DidMethod::kTwfe;
//   causal::Result<causal::DidSummary> r = causal::EstimateDid(panel, options);
//   if (!r.ok()) { /* r.error().field, r.error().message */ }
//
// Pure: no I/O, no globals; safe to call concurrently on different or the same const
// panels. Degenerate input returns an Error, never throws: kInvalidInput for malformed
// panels and options (duplicate rows, bad lengths, out-of-range options),
// kInsufficientData for well-formed panels that cannot answer (no treated unit, no
// control unit, no pre- or post-period, a singular design, fewer than 2 clusters).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "causal/did_types.h"
#include "causal/panel.h"
#include "causal/result.h"

namespace causeway::causal {

// Dispatches on options.method.
Result<DidSummary> EstimateDid(const Panel& panel, const DidOptions& options);

Result<DidSummary> Estimate2x2(const Panel& panel, const DidOptions& options);
Result<DidSummary> EstimateTwfe(const Panel& panel, const DidOptions& options);
Result<DidSummary> EstimateEventStudy(const Panel& panel, const DidOptions& options);
Result<DidSummary> EstimateCallawaySantAnna(const Panel& panel, const DidOptions& options);

}  // namespace causeway::causal
