// The contract between HTTP routing (api/http/server.cc, api/routes.h) and endpoint logic.
//
// Endpoint logic is a function from parsed input to a HandlerResult: either a JSON
// body with a 2xx status, or a Status (src/common/status.h) naming the code, the
// field and the problem. Only api/http/errors.cc turns a Status into an HTTP status and
// the one error shape (DESIGN.md, "API conventions"):
//   {"error": {"code": "invalid_argument", "message": "...", "field": "variants[1].n"}}
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "store/store.h"

namespace causeway::api {

using Json = nlohmann::json;

inline Status InvalidArgument(std::string field, std::string message) {
  return Status::InvalidArgument(std::move(field), std::move(message));
}

// A body that is not JSON, or JSON already serialised (the hot paths write it
// without building a DOM), with its content type.
struct RawBody {
  std::string text;
  std::string content_type = "application/json";
};

// A response that stays open and carries what comes (server-sent events). The
// connection layer (api/http/connections.h) calls Poll once when the stream starts
// and then about every kStreamTickMs, from its stream thread: it must not block.
// It sets *out to what to send now (left null: nothing yet) and returns false to
// end the stream. The stream also ends when the client goes or the server stops;
// the source is then destroyed.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual bool Poll(std::shared_ptr<const std::string>* out) = 0;
};
inline constexpr int kStreamTickMs = 200;

struct StreamBody {
  std::shared_ptr<ChunkSource> source;
  std::string content_type;
};

class HandlerResult {
 public:
  HandlerResult(Json body, int http_status = 200)
      : http_status_(http_status), v_(std::move(body)) {}
  HandlerResult(RawBody body, int http_status = 200)
      : http_status_(http_status), v_(std::move(body)) {}
  HandlerResult(StreamBody body) : v_(std::move(body)) {}
  // REQUIRES: !error.ok()
  HandlerResult(Status error) : v_(std::move(error)) {}

  bool ok() const { return !std::holds_alternative<Status>(v_); }
  // The 2xx (or 304) status of a success. REQUIRES: ok()
  int http_status() const { return http_status_; }
  bool is_raw() const { return std::holds_alternative<RawBody>(v_); }
  bool is_stream() const { return std::holds_alternative<StreamBody>(v_); }
  // REQUIRES: is_stream()
  StreamBody& stream() { return std::get<StreamBody>(v_); }
  // REQUIRES: ok() && !is_raw() && !is_stream()
  const Json& body() const { return std::get<Json>(v_); }
  // REQUIRES: is_raw()
  RawBody& raw() { return std::get<RawBody>(v_); }
  // REQUIRES: !ok()
  const Status& error() const { return std::get<Status>(v_); }

  // Response headers beside Content-Type (ETag, Cache-Control, ...).
  HandlerResult& Header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  int http_status_ = 200;
  std::variant<Json, RawBody, StreamBody, Status> v_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// The HTTP status of a failure: the single table from canonical codes to HTTP
// (api/http/errors.cc; docs/api.md, "Errors").
int HttpStatus(StatusCode code);

// {"error": {"code", "message", "field"?, "details"?}} for a failed Status; the
// single place the error shape is built.
Json ErrorBody(const Status& s);

}  // namespace causeway::api

namespace causeway::assign {
class SnapshotHolder;
}
namespace causeway::store {
class Store;
}
namespace causeway::app {
class AlertService;
class MonitorService;
}  // namespace causeway::app

namespace causeway::api {

class EventService;
class ExperimentService;
class KeyAuthenticator;
class KeyService;
class MetricsRegistry;
class PayloadCache;

// Who may call a route: anyone, an sdk or admin key, or an admin key only
// (docs/running.md, "API keys"). With --insecure-no-auth nothing is checked.
// kClient: the path's first parameter is a client key (GET /api/features/{clientKey}).
enum class Access { kPublic, kSdk, kAdmin, kClient };

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
  std::string accept;  // the Accept header (GET /metrics: the page for a browser)
  // The caller's key scope (kAdmin on public routes and with --insecure-no-auth).
  store::KeyScope scope = store::KeyScope::kAdmin;
  // A client key's payload encryption key (GET /api/features/{clientKey}); "" for none.
  std::string payload_key;
};

// Who called: what Authorize verified of the key.
struct Caller {
  store::KeyScope scope = store::KeyScope::kAdmin;
  std::string payload_key;
};

// The services handlers call; owned by the server, shared by every request.
struct Services {
  store::Store* store = nullptr;
  assign::SnapshotHolder* snapshots = nullptr;
  ExperimentService* experiments = nullptr;
  EventService* events = nullptr;
  KeyService* keys = nullptr;
  MetricsRegistry* metrics = nullptr;
  bool auth_required = true;                // false with --insecure-no-auth
  app::AlertService* alerts = nullptr;      // records alerts; queues webhook deliveries
  bool allow_private_webhooks = false;      // --allow-private-webhooks (notify/url_policy.h)
  app::MonitorService* monitors = nullptr;  // rules, experiment monitors, rollouts
  PayloadCache* payloads = nullptr;         // GET /api/features/{clientKey}
  KeyAuthenticator* auth = nullptr;         // a stream's client key, checked as it runs
};

using Handler = HandlerResult (*)(Services&, const Call&);

}  // namespace causeway::api
