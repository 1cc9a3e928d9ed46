#include "api/http/server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "api/codec/json_util.h"
#include "api/http/auth.h"
#include "api/http/connections.h"
#include "api/http/listen_backlog.h"
#include "api/http/log.h"
#include "api/http/monitor_runtime.h"
#include "api/http/prometheus.h"
#include "api/resources/events.h"
#include "api/resources/experiments.h"
#include "api/resources/features.h"
#include "api/resources/keys.h"
#include "api/routes.h"
#include "app/alerts.h"
#include "assign/engine.h"
#include "notify/delivery_worker.h"
#include "store/event_writer.h"
#include "store/open_store.h"

namespace causeway::api {
namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kMaxBodyBytes = 50 * 1024 * 1024;  // DiD panels; events enforce 5 MB themselves

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void RespondError(httplib::Response& res, const Status& e) {
  res.status = HttpStatus(e.code());
  if (e.code() == StatusCode::kUnavailable) res.set_header("Retry-After", "1");
  res.set_content(Dump(ErrorBody(e)), kJson);
}

void Respond(httplib::Response& res, HandlerResult& r) {
  if (!r.ok()) return RespondError(res, r.error());
  res.status = r.http_status();
  for (const auto& [name, value] : r.headers()) res.set_header(name, value);
  if (r.is_stream()) {
    // The connection becomes the stream's (api/http/connections.h). Its body ends
    // when the connection does: no length, no chunks.
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + r.stream().content_type + "\r\n";
    for (const auto& [name, value] : r.headers()) head += name + ": " + value + "\r\n";
    head += "Connection: close\r\n\r\n";
    if (!EventedServer::TakeOver(std::move(head), r.stream().source)) {
      RespondError(res, Status::Unavailable("the server is stopping"));
    }
    return;
  }
  if (!r.is_raw()) return res.set_content(Dump(r.body()), kJson);
  if (res.status == 304) return;  // no body, no Content-Type
  res.set_content(std::move(r.raw().text), r.raw().content_type);
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
  // The outbox's sender, running while Run() serves, and the alerts that feed it.
  std::unique_ptr<notify::DeliveryWorker> deliveries;
  std::unique_ptr<app::AlertService> alerts;
  // Rules, experiment monitors and rollouts, evaluated by the scheduler while Run()
  // serves (options.monitor_scheduler) and by POST /v1/monitors/evaluate.
  std::unique_ptr<MonitorRuntime> monitors;
  MetricsRegistry metrics;
  std::vector<std::pair<std::string, std::string>> initial_keys;
  EventedServer http;

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

  void ExposeDeliveryCounters() {
    metrics.Expose("webhook_attempts_total", "Webhook delivery attempts.", &deliveries->attempts);
    metrics.Expose("webhook_delivered_total", "Webhook deliveries acknowledged with a 2xx.",
                   &deliveries->delivered);
    metrics.Expose("webhook_failed_total", "Webhook deliveries given up after their retries.",
                   &deliveries->failed);
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

  using Fn = std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;

  // Registers a route with authentication, metrics and exception safety around it.
  // Bodies of POST, PATCH and DELETE are read here, after authentication, through
  // cpp-httplib's content reader: its own reader refuses any
  // application/x-www-form-urlencoded body (curl's and urllib's default type) over
  // 8 KB with a 413 and parses such bodies into query parameters. Our body rules
  // are in BodyStatus().
  void Route(const char* method, const std::string& pattern, const std::string& route_name,
             Access access, Fn fn, Query query) {
    RouteMetrics* m = metrics.Route(method, route_name);
    auto wrapped = [this, m, access, query, fn = std::move(fn), route_name](
                       const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader* content) {
      auto start = std::chrono::steady_clock::now();
      if (query == Query::kNone && !req.params.empty()) {
        RespondError(res, InvalidArgument(req.params.begin()->first,
                                          "unknown query parameter: this endpoint takes none"));
      } else if (std::optional<Caller> caller = Authorize(access, route_name, req, res)) {
        try {
          if (!content || ReadBody(req, res, *content)) {
            content = nullptr;  // the body, if any, was read
            fn(req, res, *caller);
          }
        } catch (const std::exception& e) {
          Log("error", "handler threw", {{"route", route_name}, {"what", e.what()}});
          RespondError(res, Status(StatusCode::kInternal, "internal error"));
        }
      }
      // A body refused unread would be read as the next request: close instead.
      if (content && HasBody(req)) EventedServer::CloseAfter(res);
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

  static bool HasBody(const httplib::Request& req) {
    const std::string length = req.get_header_value("Content-Length");
    return (!length.empty() && length != "0") || req.has_header("Transfer-Encoding");
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

  // What the caller's key is, or nullopt with the refusal written. Scope kAdmin
  // for a public route and with --insecure-no-auth (nothing is restricted).
  std::optional<Caller> Authorize(Access access, std::string_view route,
                                  const httplib::Request& req, httplib::Response& res) {
    if (access == Access::kClient) {
      // The client key is the path's first parameter: public, in the SDK's URL.
      // Checked with --insecure-no-auth too: it names the payload's encryption.
      auto key = req.matches.size() > 1 ? auth->Verify(req.matches[1].str()) : std::nullopt;
      if (key && key->scope == store::KeyScope::kClient)
        return Caller{key->scope, key->payload_key};
      if (options.insecure_no_auth) return Caller{};
      RespondError(res, Status(StatusCode::kUnauthenticated,
                               "unknown, expired or revoked client key (POST /v1/keys "
                               "{\"scope\": \"client\"} creates one)",
                               "clientKey"));
      return std::nullopt;
    }
    if (access == Access::kPublic || options.insecure_no_auth) return Caller{};
    const std::string& header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
      RespondError(res,
                   Status(StatusCode::kUnauthenticated,
                          "missing API key: send 'Authorization: Bearer <key>'", "Authorization"));
      return std::nullopt;
    }
    auto scope = auth->Lookup(std::string_view(header).substr(kBearer.size()));
    if (!scope) {
      RespondError(res, Status(StatusCode::kUnauthenticated, "unknown, expired or revoked API key",
                               "Authorization"));
      return std::nullopt;
    }
    // A client key is public (it is in every browser that runs the SDK): it may
    // only send exposures (EventService::Ingest checks the events).
    if (*scope == store::KeyScope::kClient && route != "/v1/events") {
      RespondError(res, Status(StatusCode::kPermissionDenied,
                               "a client key may only fetch the SDK payload "
                               "(GET /api/features/{clientKey}) and send exposures "
                               "(POST /v1/events)",
                               "Authorization"));
      return std::nullopt;
    }
    if (access == Access::kAdmin && *scope != store::KeyScope::kAdmin) {
      RespondError(res, Status(StatusCode::kPermissionDenied,
                               "this endpoint needs an admin key; an sdk key may only call "
                               "assignment and event ingestion",
                               "Authorization"));
      return std::nullopt;
    }
    return Caller{*scope, ""};
  }

  // Registers every row of the route table (api/routes.h). A {parameter} of a
  // path matches one segment of letters, digits, '_', '.' and '-'.
  void RegisterRoutes() {
    // A browser posts exposures with a client key (docs/sdk.md, "Exposures back"):
    // a cross-origin POST with an Authorization header, so it asks first. The key
    // is a bearer token, never a cookie, so any origin may send it.
    http.Options("/v1/events", [](const httplib::Request&, httplib::Response& res) {
      res.status = 204;
      res.set_header("Access-Control-Allow-Origin", "*");
      res.set_header("Access-Control-Allow-Methods", "POST");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "86400");
    });
    for (const RouteSpec& spec : Routes()) {
      const std::string pattern = std::regex_replace(
          std::string(spec.path), std::regex("\\{[A-Za-z_]+\\}"), "([A-Za-z0-9_.-]+)");
      Route(
          spec.method, pattern, spec.path, spec.access,
          [this, &spec](const httplib::Request& req, httplib::Response& res, const Caller& caller) {
            Serve(spec, req, res, caller);
          },
          spec.query);
    }
  }

  // Reads what the row says of the request, calls its handler and responds.
  void Serve(const RouteSpec& spec, const httplib::Request& req, httplib::Response& res,
             const Caller& caller) {
    Call call{{},
              req.params,
              req.body,
              nullptr,
              req.get_header_value("Content-Type"),
              req.get_header_value("If-None-Match"),
              req.get_header_value("Accept"),
              caller.scope,
              caller.payload_key};
    for (size_t i = 1; i < req.matches.size(); ++i) call.path.push_back(req.matches[i].str());
    Json body;
    if (spec.body == Body::kJsonObject) {
      if (auto e = ParseJsonObject(req.body, &body)) return RespondError(res, BodyStatus(req, *e));
      call.json = &body;
    } else if (spec.body == Body::kPanel) {
      if (auto e = PanelContentType(req, &call.content_type)) return RespondError(res, *e);
    }
    if (spec.path == std::string_view("/v1/events")) {
      res.set_header("Access-Control-Allow-Origin", "*");  // see RegisterRoutes
    }
    HandlerResult r = spec.handler(services, call);
    if (!r.ok() && spec.body == Body::kBytes) return RespondError(res, BodyStatus(req, r.error()));
    Respond(res, r);
  }

  // A panel is JSON (application/json, or any type when the body is JSON: the rule
  // of BodyStatus) or CSV (text/csv); anything else is a 415.
  static std::optional<Status> PanelContentType(const httplib::Request& req, std::string* type) {
    if (SaysJson(req) || type->rfind("text/csv", 0) == 0) return std::nullopt;
    if (!Json::accept(req.body)) {
      return Status(StatusCode::kUnsupportedMediaType,
                    "send a panel as JSON with 'Content-Type: application/json' or "
                    "as CSV with 'Content-Type: text/csv'",
                    "Content-Type");
    }
    *type = "application/json";
    return std::nullopt;
  }

  std::unique_ptr<KeyService> keys;
  PayloadCache payloads;  // GET /api/features/{clientKey}
  Services services;

  // On an empty key table, one admin and one sdk key (printed once by `causeway serve`).
  bool CreateFirstKeys(std::string* error) {
    auto key_count = store->CountApiKeys();
    if (!key_count.ok()) {
      *error = "cannot read API keys: " + key_count.status().ToString();
      return false;
    }
    if (*key_count == 0) {
      for (auto scope : {causeway::store::KeyScope::kAdmin, causeway::store::KeyScope::kSdk}) {
        std::string k;
        if (auto s = CreateApiKey(*store, scope, &k); !s.ok()) {
          *error = "cannot create the first API keys: " + s.message();
          return false;
        }
        initial_keys.emplace_back(scope == causeway::store::KeyScope::kAdmin ? "admin" : "sdk", k);
      }
    }
    return true;
  }

  // Worker threads, keep-alive, body limit, and JSON answers for the failures
  // cpp-httplib decides before any handler runs.
  void ConfigureHttp() {
    ConnectionOptions connections;
    connections.threads = options.threads ? options.threads : 128;
    connections.max_connections = options.max_connections;
    connections.linger_ms = options.linger_ms;
    http.Configure(connections);
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

  if (!impl->CreateFirstKeys(error)) return nullptr;
  impl->ConfigureHttp();
  impl->keys = std::make_unique<KeyService>(impl->store.get(), impl->auth.get());
  impl->deliveries = std::make_unique<notify::DeliveryWorker>(impl->store.get(), options.webhooks);
  impl->alerts = std::make_unique<app::AlertService>(
      impl->store.get(),
      app::AlertService::Options{{}, [worker = impl->deliveries.get()] { worker->Wake(); }});
  impl->ExposeDeliveryCounters();
  impl->monitors = std::make_unique<MonitorRuntime>(impl->store.get(), impl->experiments.get(),
                                                    impl->alerts.get(), &impl->metrics);
  impl->services = {impl->store.get(),         &impl->snapshots,   impl->experiments.get(),
                    impl->events.get(),        impl->keys.get(),   &impl->metrics,
                    !options.insecure_no_auth, impl->alerts.get(), options.webhooks.allow_private,
                    impl->monitors->service(), &impl->payloads,    impl->auth.get()};
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
  impl_->deliveries->Start();
  if (o.monitor_scheduler) impl_->monitors->Start();
  impl_->http.StartLoops();
  bool ok = impl_->http.listen_after_bind();
  impl_->monitors->Stop();
  impl_->deliveries->Stop();
  impl_->StopPolling();
  impl_->writer->Stop();  // commit whatever is queued before returning
  return ok;
}

void Server::Stop() {
  impl_->http.StopLoops();  // closes idle connections and event streams
  impl_->http.stop();
}

bool Server::running() const { return impl_->http.is_running(); }

}  // namespace causeway::api
