// The Causeway HTTP server: routing, authentication, metrics and error mapping.
// This is the only place HandlerResults become HTTP responses.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "notify/delivery_worker.h"
#include "store/open_store.h"

namespace causeway::api {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;                           // 0: any free port (tests)
  std::string db_path = "data/causeway.db";  // the SQLite store, unless `clickhouse` is set
  // The ClickHouse store (docs/clickhouse.md) instead of SQLite when set.
  std::optional<store::ClickHouseOptions> clickhouse;
  bool insecure_no_auth = false;  // local trials only: no API keys checked
  size_t threads = 0;             // worker threads, for requests in progress; 0: 128
  // Client sockets open at once (busy, idle keep-alive and event streams); beyond
  // it a connection is answered 503 and closed. 0: the descriptor limit (raised to
  // its hard limit) less 256 (api/http/connections.h).
  size_t max_connections = 0;
  // How long a worker waits for a keep-alive connection's next request before
  // handing it to the idle loop (api/http/connections.h).
  int linger_ms = 100;
  bool access_log = false;            // one log line per request
  size_t max_queued_events = 500000;  // back-pressure threshold of the event writer
  // How often the store's configuration version is read, to follow experiments,
  // metrics and keys changed by other instances on the same store
  // (docs/architecture.md, "Several instances"); 0: never (a single instance).
  int config_poll_ms = 1000;
  // The webhook sender (notify/delivery_worker.h): back-off, poll interval, timeouts,
  // and allow_private (--allow-private-webhooks), also applied when webhooks are created.
  notify::DeliveryOptions webhooks;
  // Evaluates alert rules every minute and experiment monitors and rollouts every
  // 5 minutes at wall-clock time (app/monitor_scheduler.h); --no-monitor-scheduler
  // turns it off (then only POST /v1/monitors/evaluate evaluates).
  bool monitor_scheduler = true;
};

class Server {
 public:
  // Opens the store (store::OpenStore), loads experiments and, on an empty database, creates one
  // admin and one sdk key (see initial_keys()). nullptr and *error on failure.
  static std::unique_ptr<Server> Open(const ServerOptions& options, std::string* error);
  // The same on a store the caller opened (options.db_path and clickhouse are then
  // only named in the start-up log line).
  static std::unique_ptr<Server> Open(const ServerOptions& options,
                                      std::unique_ptr<store::Store> store, std::string* error);
  ~Server();

  // Keys created at first start: (scope, key). Printed once by `causeway serve`.
  const std::vector<std::pair<std::string, std::string>>& initial_keys() const;

  // Binds the listening socket; returns the port or -1.
  int Bind();
  // Serves until Stop(); then drains the event writer. Returns false on a socket error.
  bool Run();
  // Thread-safe; async-signal-unsafe (call from a normal thread).
  void Stop();
  bool running() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeway::api
