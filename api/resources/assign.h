// GET and POST /v1/assign: the variant of a user from the current assignment
// snapshot (assign::Assign: one atomic load, no lock, no I/O), written as JSON
// text without building a DOM (the hot path; docs/api.md, "Assignment").
#pragma once

#include "api/handler.h"

namespace causeway::api {

// GET /v1/assign?experiment=&user=[&log_exposure=true]
HandlerResult GetAssign(Services& services, const Call& call);
// POST /v1/assign {"user", "attributes"?, "experiments"?, "log_exposure"?}
HandlerResult PostAssign(Services& services, const Call& call);

}  // namespace causeway::api
