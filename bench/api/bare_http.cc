// bench_bare_http PORT [BACKLOG]: the reference for bench/api/assign_wrk.sh. Same
// cpp-httplib settings as api/http/server.cc (thread pool, TCP_NODELAY, keep-alive,
// listen backlog), no routing work, a constant JSON body of the size of an
// assignment answer. BACKLOG 5 reproduces cpp-httplib's own listen backlog.
#include <httplib.h>

#include <sys/socket.h>

#include <cstdlib>

#include "api/http/listen_backlog.h"

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8090;
  int backlog = argc > 2 ? std::atoi(argv[2]) : SOMAXCONN;
  httplib::Server http;
  http.new_task_queue = [] { return new httplib::ThreadPool(128); };
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1000000);
  http.set_keep_alive_timeout(30);
  const std::string body =
      "{\"experiment\":\"checkout\",\"user\":\"user-123456\",\"variant\":\"treatment\","
      "\"variant_index\":1,\"in_experiment\":true,\"hash_value\":0.4821,\"reason\":\"hashed\","
      "\"phase\":1}";
  http.Get("/v1/assign", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/json");
  });
  // The same backlog as Causeway (SOMAXCONN, not cpp-httplib's 5), or bursts of
  // new connections would measure SYN retransmits rather than the server.
  if (causeway::api::BindWithBacklog(http, "127.0.0.1", port, backlog) < 0) return 1;
  return http.listen_after_bind() ? 0 : 1;
}
