// Connections that stay open (issue 22 part 5; docs/architecture.md, "Connections").
//
// cpp-httplib parses requests, routes and writes responses; this class replaces
// its connection handling, where every open connection holds a worker thread for
// as long as it is kept alive. Here a worker thread holds a connection only while
// a request on it is being read, handled and answered:
//
//  - An idle keep-alive connection waits in an epoll set (the idle loop, one
//    thread); when it becomes readable it goes to the worker pool for one request,
//    and back to the set after it. Idle connections past the keep-alive timeout are
//    closed.
//  - A server-sent-event stream (a handler's ChunkSource) leaves the pool after its
//    request: the stream loop (one thread, non-blocking sockets) writes its frames,
//    polls every source each kStreamTickMs, and drops a client that goes or that
//    falls more than max_stream_backlog bytes behind.
//  - Every client socket (busy, idle or streaming) counts against max_connections;
//    a connection beyond it is answered 503 with a JSON error and closed at once.
//
// Thread-safety: TakeOver is called from handlers on worker threads; the rest
// from the server's owner.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "api/handler.h"

namespace causeway::api {

struct ConnectionOptions {
  size_t threads = 128;        // workers: requests in progress, not open connections
  size_t max_connections = 0;  // 0: the process's descriptor limit less 256
  int keep_alive_timeout_sec = 30;
  size_t keep_alive_max_count = 1000000;
  int read_timeout_sec = 5;             // for the rest of a request once its first byte came
  int write_timeout_sec = 5;            // for a response (a stream never blocks its thread)
  size_t max_stream_backlog = 8 << 20;  // bytes queued for a slow stream client
  // After a response, the worker waits this long for the connection's next request
  // before parking it, while at most 3/4 of the workers are busy: a busy keep-alive
  // client then costs no trip through the idle loop (two thread wake-ups) per
  // request. 0: park at once.
  int linger_ms = 0;
};

class EventedServer : public httplib::Server {
 public:
  EventedServer();
  ~EventedServer() override;

  // Before StartLoops. Raises the descriptor limit to its hard limit when
  // options.max_connections is 0.
  void Configure(ConnectionOptions options);

  // Starts the idle and stream loops; call before listen_after_bind().
  void StartLoops();
  // Closes idle connections and streams and stops both loops; then stop() the
  // server. Idempotent.
  void StopLoops();

  // From a handler: once this request is answered, the connection writes `head`
  // (a status line and headers, ending in a blank line) and then what `source`
  // gives, until the client goes. Whatever cpp-httplib writes for the request's
  // own response is discarded. False (nothing changes) off a connection of an
  // EventedServer or while stopping.
  static bool TakeOver(std::string head, std::shared_ptr<ChunkSource> source);

  // From a handler: close the connection once this request is answered (its body
  // was not read, so the connection cannot carry another request). Sets the
  // response's Connection: close.
  static void CloseAfter(httplib::Response& res);

  struct Conn;

 private:
  class IdleLoop;
  class StreamLoop;
  class Pool;

  bool process_and_close_socket(socket_t sock) override;
  void Serve(std::unique_ptr<Conn> conn);
  bool MayLinger() const;
  void Dispatch(std::unique_ptr<Conn> conn);
  void Close(std::unique_ptr<Conn> conn);

  ConnectionOptions options_;
  std::atomic<size_t> open_{0};
  std::atomic<size_t> busy_{0};  // workers in Serve
  std::atomic<bool> stopping_{false};
  // The worker pool of the running listen; null before and after it. The idle loop
  // enqueues under pool_mu_, and the pool's shutdown clears it under pool_mu_.
  std::mutex pool_mu_;
  httplib::TaskQueue* pool_ = nullptr;  // GUARDED_BY(pool_mu_)
  std::unique_ptr<IdleLoop> idle_;
  std::unique_ptr<StreamLoop> streams_;
  static thread_local Conn* current_;  // the connection this worker serves
};

}  // namespace causeway::api
