#include "causal/did_common.h"

namespace causeway::causal {

Result<DidSummary> EstimateCallawaySantAnna(const Panel&, const DidOptions&) {
  return Error{"method", "not implemented yet"};
}

}  // namespace causeway::causal
