// The one route table: every endpoint Causeway serves, the scope of API key it
// needs, what it reads of a request and the function that answers it. The HTTP
// server (api/http/server.cc) registers exactly these rows; tests walk them against
// api/openapi.yaml, so a route is documented, served and scoped in one place.
#pragma once

#include <span>

#include "api/handler.h"

namespace causeway::api {

struct RouteSpec {
  const char* method;  // GET, POST, PATCH, DELETE
  const char* path;    // as api/openapi.yaml writes it, {parameters} included
  Access access;
  Query query;
  Body body;
  Handler handler;
};

// Every route, in registration order.
std::span<const RouteSpec> Routes();

}  // namespace causeway::api
