// JSON encoding of the application layer's analysis results (src/app/): one place
// where the API vocabulary is spelt (docs/api.md, "Vocabulary"):
//   {"estimate", "std_error", "ci": {"lower", "upper", "level"}, "p_value"}
// Values that are not available (NaN) and open interval ends (+-inf) are null.
#pragma once

#include <string_view>

#include "api/handler.h"
#include "app/ab_analysis.h"

namespace causeway::api {

// A finite number, else null.
Json Number(double v);
Json EncodeInference(const app::Inference& inference);
Json EncodeVariantSummary(const app::VariantSummary& variant);
// One treatment-vs-control comparison. A comparison the data cannot give is
// {"valid": false, "reason", ...} with its inference fields null.
Json EncodeComparison(const app::AbComparison& comparison);

std::string_view AlternativeName(stats::Alternative alternative);
std::string_view CorrectionName(stats::Correction correction);
std::string_view SpendingName(stats::SpendingFunction spending);
std::string_view AbMetricTypeName(app::AbMetricType type);

}  // namespace causeway::api
