// The one route table: every endpoint Causeway serves, the scope of API key it
// needs, what it reads of a request and the function that answers it. The HTTP
// server (api/server.cc) registers exactly these rows; tests walk them against
// api/openapi.yaml, so a route is documented, served and scoped in one place.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/handler.h"

namespace causeway::assign {
class SnapshotHolder;
}
namespace causeway::store {
class Store;
}

namespace causeway::api {

class EventService;
class ExperimentService;
class KeyService;
class MetricsRegistry;

// Who may call a route: anyone, an sdk or admin key, or an admin key only
// (docs/running.md, "API keys"). With --insecure-no-auth nothing is checked.
enum class Access { kPublic, kSdk, kAdmin };

// Whether a route's handler reads the query string (through a FieldReader, which
// refuses unknown names); any query parameter sent to a route that reads none is
// refused before its handler runs.
enum class Query { kNone, kRead };

// What a route reads of the body, read after authentication (docs/api.md, "Requests").
enum class Body {
  kNone,        // GET: nothing
  kJsonObject,  // a JSON object whatever the Content-Type; parsed before the handler
  kBytes,       // the handler parses the bytes; its errors follow the JSON body rule
  kPanel,       // a panel as JSON or text/csv (options then in the query string)
  kAsSent,      // the handler reads the bytes by their Content-Type (attribution)
};

// Query parameters as cpp-httplib gives them (a name may repeat; FieldReader refuses it).
using QueryParams = std::multimap<std::string, std::string>;

// What a handler sees of a request.
struct Call {
  std::vector<std::string> path;  // the path's {parameters}, in order
  const QueryParams& query;
  std::string_view body;
  const Json* json = nullptr;  // Body::kJsonObject: the parsed body
  std::string content_type;    // Body::kPanel: "application/json" or "text/csv"
  std::string if_none_match;
};

// The services handlers call; owned by the server, shared by every request.
struct Services {
  store::Store* store = nullptr;
  assign::SnapshotHolder* snapshots = nullptr;
  ExperimentService* experiments = nullptr;
  EventService* events = nullptr;
  KeyService* keys = nullptr;
  MetricsRegistry* metrics = nullptr;
  bool auth_required = true;  // false with --insecure-no-auth
};

using Handler = HandlerResult (*)(Services&, const Call&);

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
