#include "api/server.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "api/attribution_handler.h"
#include "api/auth.h"
#include "api/causal_handlers.h"
#include "api/events.h"
#include "api/experiments.h"
#include "api/field_reader.h"
#include "api/geo_handlers.h"
#include "api/json_util.h"
#include "api/keys.h"
#include "api/lift.h"
#include "api/listen_backlog.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/report.h"
#include "api/stats_handlers.h"
#include "assign/engine.h"
#include "store/event_writer.h"
#include "store/open_store.h"
#include "web/assets.h"

namespace causeway::api {
namespace {

enum class Access { kPublic, kSdk, kAdmin };
// Whether a route's handler reads the query string (with a FieldReader, which
// refuses unknown names); any query parameter sent to a route that reads none is
// refused by Route() itself.
enum class Query { kNone, kRead };

constexpr const char* kJson = "application/json";
constexpr size_t kMaxBodyBytes = 50 * 1024 * 1024;  // DiD panels; events enforce 5 MB themselves

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The page's files allow scripts, styles, images and requests from this origin
// only: no inline script or style, no CDN, no framing (docs/web.md).
constexpr const char* kPageSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Serves an embedded file of the web page, revalidated by its ETag on every load
// (Cache-Control: no-cache), so a new binary's page is never mixed with an old one.
void RespondAsset(const httplib::Request& req, httplib::Response& res, const web::WebAsset& a) {
  res.set_header("Content-Security-Policy", kPageSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", a.etag);
  if (req.get_header_value("If-None-Match") == a.etag) {
    res.status = 304;
    return;
  }
  res.set_content(std::string(a.body()), a.content_type);
}

void RespondError(httplib::Response& res, const Status& e) {
  res.status = HttpStatus(e.code());
  if (e.code() == StatusCode::kUnavailable) res.set_header("Retry-After", "1");
  res.set_content(Dump(ErrorBody(e)), kJson);
}

void Respond(httplib::Response& res, const HandlerResult& r) {
  if (!r.ok()) return RespondError(res, r.error());
  res.status = r.http_status();
  res.set_content(Dump(r.body()), kJson);
}

// True when the request says its body is JSON (application/json or a +json type).
bool SaysJson(const httplib::Request& req) {
  const std::string header = req.get_header_value("Content-Type");  // returned by value
  std::string_view type = std::string_view(header).substr(0, header.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type == "application/json" || (type.size() > 5 && type.ends_with("+json"));
}

// The rule for JSON bodies (docs/api.md, "Requests"): a body is read as JSON
// whatever its Content-Type says, so curl's default form type works. When it is
// not JSON, a request that said application/json gets the parser's 400; any
// other gets 415 naming the header to send. `problem` is the parser's verdict on
// the whole document (field "").
Status BodyStatus(const httplib::Request& req, const Status& problem) {
  if (SaysJson(req) || !problem.field().empty() || problem.code() != StatusCode::kInvalidArgument ||
      Json::accept(req.body)) {
    return problem;
  }
  std::string sent = req.get_header_value("Content-Type");
  return Status(StatusCode::kUnsupportedMediaType,
                "the body is not JSON (" + problem.message() + ") and was sent as '" +
                    (sent.empty() ? std::string("no Content-Type") : sent) +
                    "'; send JSON with the header 'Content-Type: application/json'",
                "Content-Type");
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<store::Store> store;
  assign::SnapshotHolder snapshots;
  std::unique_ptr<store::EventWriter> writer;
  std::unique_ptr<ExperimentService> experiments;
  std::unique_ptr<EventService> events;
  std::unique_ptr<KeyAuthenticator> auth;
  MetricsRegistry metrics;
  std::vector<std::pair<std::string, std::string>> initial_keys;
  httplib::Server http;

  // The configuration poller (options.config_poll_ms): a thread that runs while
  // Run() serves.
  std::mutex poll_mu;
  std::condition_variable poll_cv;
  bool poll_stop = false;  // GUARDED_BY(poll_mu)
  std::thread poller;
  std::atomic<uint64_t>* config_reloads = nullptr;
  std::atomic<uint64_t>* config_refresh_failures = nullptr;

  // Every config_poll_ms, reloads experiments and metrics when another process
  // changed them (app::ConfigRefresher). API keys need no reload: a new key is
  // looked up on its first use, and KeyAuthenticator follows revocations by any
  // process through the store's revocation counter within 250 ms. Forgetting the
  // verified keys on every configuration change too would add nothing but a
  // store lookup per key, and a refusal of every key if the store went down
  // right after. While the store cannot be read the last configuration keeps
  // being served; one log line per failure streak.
  void PollConfig() {
    const auto interval = std::chrono::milliseconds(options.config_poll_ms);
    bool failing = false;
    std::unique_lock lock(poll_mu);
    while (!poll_cv.wait_for(lock, interval, [this] { return poll_stop; })) {
      lock.unlock();
      StatusOr<bool> reloaded = experiments->Refresh();
      if (reloaded.ok()) {
        if (*reloaded) config_reloads->fetch_add(1, std::memory_order_relaxed);
        if (failing) Log("info", "configuration refresh recovered", {});
        failing = false;
      } else {
        config_refresh_failures->fetch_add(1, std::memory_order_relaxed);
        if (!failing) {
          Log("error", "configuration refresh failed; serving the last loaded configuration",
              {{"error", reloaded.status().ToString()}});
        }
        failing = true;
      }
      lock.lock();
    }
  }

  void StartPolling() {
    if (options.config_poll_ms <= 0) return;
    {
      std::lock_guard lock(poll_mu);
      poll_stop = false;
    }
    poller = std::thread([this] { PollConfig(); });
  }

  void StopPolling() {
    if (!poller.joinable()) return;
    {
      std::lock_guard lock(poll_mu);
      poll_stop = true;
    }
    poll_cv.notify_all();
    poller.join();
  }

  using Fn = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Registers a route with authentication, metrics and exception safety around it.
  // Bodies of POST, PATCH and DELETE are read here, after authentication, through
  // cpp-httplib's content reader: its own reader refuses any
  // application/x-www-form-urlencoded body (curl's and urllib's default type) over
  // 8 KB with a 413 and parses such bodies into query parameters. Our body rules
  // are in BodyStatus().
  void Route(const char* method, const std::string& pattern, const std::string& route_name,
             Access access, Fn fn, Query query = Query::kNone) {
    RouteMetrics* m = metrics.Route(method, route_name);
    auto wrapped = [this, m, access, query, fn = std::move(fn), route_name](
                       const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader* content) {
      auto start = std::chrono::steady_clock::now();
      if (query == Query::kNone && !req.params.empty()) {
        RespondError(res, InvalidArgument(req.params.begin()->first,
                                          "unknown query parameter: this endpoint takes none"));
      } else if (Authorize(access, req, res)) {
        try {
          if (!content || ReadBody(req, res, *content)) fn(req, res);
        } catch (const std::exception& e) {
          Log("error", "handler threw", {{"route", route_name}, {"what", e.what()}});
          RespondError(res, Status(StatusCode::kInternal, "internal error"));
        }
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      m->Record(res.status, secs);
      if (options.access_log) {
        Log("info", "request",
            {{"method", req.method},
             {"path", req.path},
             {"status", res.status},
             {"ms", secs * 1e3}});
      }
    };
    std::string_view mth(method);
    if (mth == "GET") {
      http.Get(pattern, [wrapped](const httplib::Request& req, httplib::Response& res) {
        wrapped(req, res, nullptr);
      });
      return;
    }
    auto with_body = [wrapped](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& content) {
      wrapped(req, res, &content);
    };
    if (mth == "POST") http.Post(pattern, with_body);
    if (mth == "PATCH") http.Patch(pattern, with_body);
    if (mth == "DELETE") http.Delete(pattern, with_body);
  }

  // Reads the whole body into req.body; false (with the response written) when the
  // body exceeds the server's limit or the connection failed.
  static bool ReadBody(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& content) {
    std::string body;
    const bool ok = content([&](const char* data, size_t n) {
      body.append(data, n);
      return true;
    });
    if (!ok) {
      RespondError(res, Status(StatusCode::kPayloadTooLarge,
                               "request body exceeds the 50 MB limit or was cut short"));
      return false;
    }
    // cpp-httplib owns a mutable Request and hands handlers a const view; the body
    // is ours to fill because we asked to read it ourselves.
    const_cast<httplib::Request&>(req).body = std::move(body);
    return true;
  }

  bool Authorize(Access access, const httplib::Request& req, httplib::Response& res) {
    if (access == Access::kPublic || options.insecure_no_auth) return true;
    const std::string& header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
      RespondError(res,
                   Status(StatusCode::kUnauthenticated,
                          "missing API key: send 'Authorization: Bearer <key>'", "Authorization"));
      return false;
    }
    auto scope = auth->Lookup(std::string_view(header).substr(kBearer.size()));
    if (!scope) {
      RespondError(res, Status(StatusCode::kUnauthenticated, "unknown, expired or revoked API key",
                               "Authorization"));
      return false;
    }
    if (access == Access::kAdmin && *scope != store::KeyScope::kAdmin) {
      RespondError(res, Status(StatusCode::kPermissionDenied,
                               "this endpoint needs an admin key; an sdk key may only call "
                               "assignment and event ingestion",
                               "Authorization"));
      return false;
    }
    return true;
  }

  // Parses the body as a JSON object and calls fn(json), responding with its result.
  template <typename F>
  Fn JsonBody(F f) {
    return [f = std::move(f)](const httplib::Request& req, httplib::Response& res) {
      Json body;
      if (auto e = ParseJsonObject(req.body, &body)) return RespondError(res, BodyStatus(req, *e));
      Respond(res, f(req, body));
    };
  }

  // One assignment as a JSON object, written without building a DOM (hot path).
  static void AppendAssignment(std::string& out, std::string_view experiment, std::string_view user,
                               const assign::CompiledExperiment& x, const assign::Assignment& a) {
    out += "{\"experiment\":";
    AppendJsonString(out, experiment);
    out += ",\"user\":";
    AppendJsonString(out, user);
    if (a.variant_index >= 0) {
      out += ",\"variant\":";
      AppendJsonString(out, x.spec.variants[a.variant_index].key);
      out += ",\"variant_index\":";
      out += std::to_string(a.variant_index);
    } else {
      out += ",\"variant\":null,\"variant_index\":null";
    }
    out += a.in_experiment ? ",\"in_experiment\":true" : ",\"in_experiment\":false";
    // The engine hashes only users it gets as far as bucketing (docs/api.md).
    out += ",\"hash_value\":";
    if (a.reason == assign::AssignReason::kHashed || a.reason == assign::AssignReason::kCoverage) {
      AppendNumber(out, a.hash_value);
    } else {
      out += "null";
    }
    out += ",\"reason\":\"";
    out += assign::ReasonName(a.reason);
    out += "\",\"phase\":";
    out += std::to_string(x.spec.phase);
    out += '}';
  }

  static std::optional<Status> CheckUser(const std::string& user, const std::string& field) {
    if (user.empty() || user.size() > 256) {
      return InvalidArgument(field, "required: a non-empty user id of at most 256 bytes");
    }
    if (!IsValidUtf8(user)) return InvalidArgument(field, "must be valid UTF-8");
    return std::nullopt;
  }

  void GetAssign(const httplib::Request& req, httplib::Response& res) {
    FieldReader query = FieldReader::Query(req.params);
    std::string key, user;
    bool log_exposure = false;
    query.Required("experiment", &key).Required("user", &user);
    query.Optional("log_exposure", &log_exposure);
    if (Status s = query.Finish(); !s.ok()) return RespondError(res, s);
    if (auto e = CheckUser(user, "user")) return RespondError(res, *e);
    const assign::CompiledExperiment* x = snapshots.Current().Find(key);
    if (!x) {
      return RespondError(
          res, Status(StatusCode::kNotFound, "no experiment with key " + key, "experiment"));
    }
    assign::Assignment a = assign::Assign(*x, user, nullptr);
    std::string out;
    out.reserve(256);
    AppendAssignment(out, key, user, *x, a);
    if (log_exposure) {
      bool logged = a.in_experiment && LogExposure(*x, user, a);
      out.pop_back();
      out += logged ? ",\"exposure_logged\":true}" : ",\"exposure_logged\":false}";
    }
    res.set_content(std::move(out), kJson);
  }

  bool LogExposure(const assign::CompiledExperiment& x, std::string_view user,
                   const assign::Assignment& a) {
    return events->LogExposure(x.spec.key, x.spec.phase, user,
                               x.spec.variants[a.variant_index].key);
  }

  // Returns the serialised response body, or an error.
  std::variant<std::string, Status> PostAssign(const Json& body) {
    FieldReader r(body);
    std::string user;
    bool log_exposure = false;
    r.Required("user", &user).Optional("log_exposure", &log_exposure);
    const Json* attributes_json = r.Raw("attributes");
    r.Check(!attributes_json || attributes_json->is_object(), "attributes",
            "must be a JSON object");
    const assign::Snapshot& snapshot = snapshots.Current();
    std::vector<const assign::CompiledExperiment*> chosen;
    const bool listed = r.Present("experiments");
    r.Array("experiments", [&](const Json& k, const std::string& path, size_t) -> Status {
      if (!k.is_string()) return InvalidArgument(path, "must be a string");
      const auto* x = snapshot.Find(k.get_ref<const std::string&>());
      if (!x) return Status::NotFound("no experiment with key " + k.get<std::string>(), path);
      chosen.push_back(x);
      return Status::Ok();
    });
    if (Status s = r.Finish(); !s.ok()) return s;
    if (auto e = CheckUser(user, "user")) return *e;
    assign::Value attributes =
        attributes_json ? ToValue(*attributes_json) : assign::Value(assign::Value::Object{});
    if (!attributes.Find("id")) attributes.as_object().emplace_back("id", assign::Value(user));
    if (!listed) {
      for (const auto& x : snapshot.experiments()) {
        if (x.spec.status == assign::ExperimentStatus::kRunning) chosen.push_back(&x);
      }
    }
    std::string out = "{\"user\":";
    AppendJsonString(out, user);
    out += ",\"assignments\":[";
    for (size_t i = 0; i < chosen.size(); ++i) {
      const auto* x = chosen[i];
      assign::Assignment a = assign::Assign(*x, user, &attributes);
      if (i > 0) out += ',';
      AppendAssignment(out, x->spec.key, user, *x, a);
      if (log_exposure) {
        out.pop_back();
        out += a.in_experiment && LogExposure(*x, user, a) ? ",\"exposure_logged\":true}"
                                                           : ",\"exposure_logged\":false}";
      }
    }
    out += "]}";
    return out;
  }

  void RegisterRoutes() {
    const std::string key = "([A-Za-z0-9_.-]+)";
    Route("GET", "/healthz", "/healthz", Access::kPublic,
          [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{\"status\":\"ok\"}", kJson);
          });
    Route("GET", "/metrics", "/metrics", Access::kPublic,
          [this](const httplib::Request&, httplib::Response& res) {
            res.set_content(metrics.RenderPrometheus(), "text/plain; version=0.0.4");
          });
    Route(
        "GET", "/v1/assign", "/v1/assign", Access::kSdk,
        [this](const httplib::Request& req, httplib::Response& res) { GetAssign(req, res); },
        Query::kRead);
    Route("POST", "/v1/assign", "/v1/assign", Access::kSdk,
          [this](const httplib::Request& req, httplib::Response& res) {
            Json body;
            if (auto e = ParseJsonObject(req.body, &body)) {
              return RespondError(res, BodyStatus(req, *e));
            }
            auto r = PostAssign(body);
            if (auto* e = std::get_if<Status>(&r)) return RespondError(res, *e);
            res.set_content(std::move(std::get<std::string>(r)), kJson);
          });
    Route("POST", "/v1/events", "/v1/events", Access::kSdk,
          [this](const httplib::Request& req, httplib::Response& res) {
            HandlerResult r = events->Ingest(req.body);
            if (!r.ok()) return RespondError(res, BodyStatus(req, r.error()));
            Respond(res, r);
          });
    Route("POST", "/v1/experiments", "/v1/experiments", Access::kAdmin,
          JsonBody(
              [this](const httplib::Request&, const Json& b) { return experiments->Create(b); }));
    Route("GET", "/v1/experiments", "/v1/experiments", Access::kAdmin,
          [this](const httplib::Request&, httplib::Response& res) {
            Respond(res, experiments->List());
          });
    Route("GET", "/v1/experiments/" + key, "/v1/experiments/{key}", Access::kAdmin,
          [this](const httplib::Request& req, httplib::Response& res) {
            Respond(res, experiments->Get(req.matches[1].str()));
          });
    Route("PATCH", "/v1/experiments/" + key, "/v1/experiments/{key}", Access::kAdmin,
          JsonBody([this](const httplib::Request& req, const Json& b) {
            return experiments->Patch(req.matches[1].str(), b);
          }));
    Route("GET", "/v1/experiments/" + key + "/exposures", "/v1/experiments/{key}/exposures",
          Access::kAdmin, [this](const httplib::Request& req, httplib::Response& res) {
            Respond(res, events->Exposures(req.matches[1].str()));
          });
    Route("POST", "/v1/metrics", "/v1/metrics", Access::kAdmin,
          JsonBody(
              [this](const httplib::Request&, const Json& b) { return events->CreateMetric(b); }));
    Route("GET", "/v1/metrics", "/v1/metrics", Access::kAdmin,
          [this](const httplib::Request&, httplib::Response& res) {
            Respond(res, events->ListMetrics());
          });
    Route("GET", "/v1/metrics/" + key, "/v1/metrics/{key}", Access::kAdmin,
          [this](const httplib::Request& req, httplib::Response& res) {
            Respond(res, events->GetMetric(req.matches[1].str()));
          });
    RegisterAnalysisRoutes();
    RegisterKeyRoutes();
    RegisterPageRoutes();
  }

  // The web page (docs/web.md). Public: the pages and their scripts hold no data;
  // the page asks for an admin key and sends it to the /v1 endpoints itself. Every
  // page path serves the same document, which renders what its path names.
  void RegisterPageRoutes() {
    auto page = [](const httplib::Request& req, httplib::Response& res) {
      RespondAsset(req, res, *web::FindWebAsset("index.html"));
    };
    Route("GET", "/", "/", Access::kPublic, page);
    Route("GET", "/experiments", "/experiments", Access::kPublic, page);
    Route("GET", "/experiments/([A-Za-z0-9_.-]+)", "/experiments/{key}", Access::kPublic, page);
    Route("GET", "/static/([A-Za-z0-9_.-]+)", "/static/{file}", Access::kPublic,
          [](const httplib::Request& req, httplib::Response& res) {
            const web::WebAsset* a = web::FindWebAsset(req.matches[1].str());
            if (!a || std::string_view(a->name) == "index.html") {
              return RespondError(res, Status::NotFound("no such file", "file"));
            }
            RespondAsset(req, res, *a);
          });
  }

  // A route whose body is a panel, as JSON or CSV (options then in the query string).
  // A body of another declared type is read as JSON when it is JSON (the rule of
  // BodyStatus).
  using PanelHandler = HandlerResult (*)(std::string_view, std::string_view, const QueryParams&);
  void PanelRoute(const std::string& path, PanelHandler handler) {
    Route(
        "POST", path, path, Access::kAdmin,
        [handler](const httplib::Request& req, httplib::Response& res) {
          std::string type = req.get_header_value("Content-Type");
          if (!SaysJson(req) && type.rfind("text/csv", 0) != 0) {
            if (!Json::accept(req.body)) {
              return RespondError(
                  res, Status(StatusCode::kUnsupportedMediaType,
                              "send a panel as JSON with 'Content-Type: application/json' or "
                              "as CSV with 'Content-Type: text/csv'",
                              "Content-Type"));
            }
            type = "application/json";
          }
          Respond(res, handler(type, req.body, req.params));
        },
        Query::kRead);
  }

  // Analysis endpoints: pure JSON handlers of the stats and causal cores.
  void RegisterAnalysisRoutes() {
    Route("POST", "/v1/analyses/ab", "/v1/analyses/ab", Access::kAdmin,
          JsonBody([](const httplib::Request&, const Json& b) { return HandleAnalysesAb(b); }));
    Route(
        "POST", "/v1/design/sample-size", "/v1/design/sample-size", Access::kAdmin,
        JsonBody([](const httplib::Request&, const Json& b) { return HandleDesignSampleSize(b); }));
    Route(
        "POST", "/v1/design/sequential", "/v1/design/sequential", Access::kAdmin,
        JsonBody([](const httplib::Request&, const Json& b) { return HandleDesignSequential(b); }));
    PanelRoute("/v1/analyses/did", HandleDid);
    PanelRoute("/v1/analyses/synthetic_control", HandleSyntheticControl);
    PanelRoute("/v1/design/geo", HandleGeoDesign);
    Route("POST", "/v1/analyses/lift", "/v1/analyses/lift", Access::kAdmin,
          JsonBody([](const httplib::Request&, const Json& b) { return HandleLiftAggregate(b); }));
    // Conversion paths as JSON or CSV (api/attribution_handler.h decides by Content-Type).
    Route(
        "POST", "/v1/analyses/attribution", "/v1/analyses/attribution", Access::kAdmin,
        [](const httplib::Request& req, httplib::Response& res) {
          Respond(res,
                  HandleAttribution(req.get_header_value("Content-Type"), req.body, req.params));
        },
        Query::kRead);
    Route(
        "GET", "/v1/experiments/([A-Za-z0-9_.-]+)/report", "/v1/experiments/{key}/report",
        Access::kAdmin,
        [this](const httplib::Request& req, httplib::Response& res) {
          Respond(res, ExperimentReport(*store, *experiments, req.matches[1].str(), req.params));
        },
        Query::kRead);
    Route(
        "GET", "/v1/experiments/([A-Za-z0-9_.-]+)/lift", "/v1/experiments/{key}/lift",
        Access::kAdmin,
        [this](const httplib::Request& req, httplib::Response& res) {
          Respond(res, ExperimentLift(*store, *experiments, req.matches[1].str(), req.params));
        },
        Query::kRead);
  }

  // API key administration (api/keys.h). Revocation is POST .../revoke, not DELETE:
  // the key is not deleted but kept and listed as revoked (an audit trail), and the
  // call answers the key, as Stripe's state changes do (POST /v1/payment_intents/{id}/cancel).
  std::unique_ptr<KeyService> keys;
  void RegisterKeyRoutes() {
    keys = std::make_unique<KeyService>(store.get(), auth.get());
    Route("GET", "/v1/keys", "/v1/keys", Access::kAdmin,
          [this](const httplib::Request&, httplib::Response& res) { Respond(res, keys->List()); });
    Route("POST", "/v1/keys", "/v1/keys", Access::kAdmin,
          JsonBody([this](const httplib::Request&, const Json& b) { return keys->Create(b); }));
    Route("POST", "/v1/keys/([A-Za-z0-9_.-]+)/revoke", "/v1/keys/{id}/revoke", Access::kAdmin,
          [this](const httplib::Request& req, httplib::Response& res) {
            HandlerResult r = keys->Revoke(req.matches[1].str(), req.body);
            if (!r.ok()) return RespondError(res, BodyStatus(req, r.error()));
            Respond(res, r);
          });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  Stop();
  if (impl_->writer) impl_->writer->Stop();
}

const std::vector<std::pair<std::string, std::string>>& Server::initial_keys() const {
  return impl_->initial_keys;
}

std::unique_ptr<Server> Server::Open(const ServerOptions& options, std::string* error) {
  std::unique_ptr<store::Store> opened =
      store::OpenStore({options.db_path, options.clickhouse}, error);
  if (!opened) return nullptr;
  return Open(options, std::move(opened), error);
}

std::unique_ptr<Server> Server::Open(const ServerOptions& options,
                                     std::unique_ptr<store::Store> opened, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = std::move(opened);
  impl->writer = std::make_unique<store::EventWriter>(
      impl->store.get(), store::EventWriter::Options{options.max_queued_events, 100000});
  impl->experiments = std::make_unique<ExperimentService>(impl->store.get(), &impl->snapshots);
  if (!impl->experiments->Load(error)) return nullptr;
  impl->events = std::make_unique<EventService>(impl->store.get(), impl->writer.get(),
                                                impl->experiments.get());
  impl->events->accepted_counter = impl->metrics.Counter("events_accepted_total", "Events stored.");
  impl->events->duplicate_counter = impl->metrics.Counter(
      "events_duplicate_total", "Events skipped because their id was stored.");
  impl->events->rejected_counter =
      impl->metrics.Counter("events_rejected_total", "Events in batches rejected by validation.");
  impl->auth = std::make_unique<KeyAuthenticator>(impl->store.get());
  impl->config_reloads = impl->metrics.Counter(
      "config_reloads_total",
      "Reloads of experiments and metrics after the stored configuration changed.");
  impl->config_refresh_failures = impl->metrics.Counter(
      "config_refresh_failures_total", "Polls of the configuration version that failed.");

  auto key_count = impl->store->CountApiKeys();
  if (!key_count.ok()) {
    *error = "cannot read API keys: " + key_count.status().ToString();
    return nullptr;
  }
  if (*key_count == 0) {
    for (auto scope : {store::KeyScope::kAdmin, store::KeyScope::kSdk}) {
      std::string k;
      if (auto s = CreateApiKey(*impl->store, scope, &k); !s.ok()) {
        *error = "cannot create the first API keys: " + s.message();
        return nullptr;
      }
      impl->initial_keys.emplace_back(scope == store::KeyScope::kAdmin ? "admin" : "sdk", k);
    }
  }

  httplib::Server& http = impl->http;
  const size_t threads = options.threads ? options.threads : 128;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1000000);
  http.set_keep_alive_timeout(30);
  http.set_payload_max_length(kMaxBodyBytes);
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        // Failures cpp-httplib decided before any handler ran keep its HTTP status.
        Status e = Status::NotFound("no such endpoint");
        if (res.status == 413) {
          e = Status(StatusCode::kPayloadTooLarge, "request body exceeds the 50 MB limit");
        } else if (res.status != 404) {
          e = Status::InvalidArgument("", "the request could not be processed");
        }
        res.set_content(Dump(ErrorBody(e)), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(Dump(ErrorBody(Status(StatusCode::kInternal, "internal error"))), kJson);
      });
  impl->RegisterRoutes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::Bind() {
  // SOMAXCONN, not cpp-httplib's 5: bursts of short-lived connections (docs/running.md).
  return BindWithBacklog(impl_->http, impl_->options.host, impl_->options.port);
}

bool Server::Run() {
  const ServerOptions& o = impl_->options;
  if (o.clickhouse) {
    const store::ch::Endpoint& e = o.clickhouse->endpoint;
    Log("info", "serving",
        {{"store", "clickhouse"},
         {"clickhouse", "http://" + e.host + ":" + std::to_string(e.port)},
         {"database", e.database},
         {"cluster", o.clickhouse->cluster},
         {"auth", !o.insecure_no_auth}});
  } else {
    Log("info", "serving", {{"db", o.db_path}, {"auth", !o.insecure_no_auth}});
  }
  impl_->StartPolling();
  bool ok = impl_->http.listen_after_bind();
  impl_->StopPolling();
  impl_->writer->Stop();  // commit whatever is queued before returning
  return ok;
}

void Server::Stop() { impl_->http.stop(); }

bool Server::running() const { return impl_->http.is_running(); }

}  // namespace causeway::api
