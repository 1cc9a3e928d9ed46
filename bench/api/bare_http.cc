// bench_bare_http PORT [BACKLOG [PAYLOAD_FILE]]: the reference for
// bench/api/assign_wrk.sh and payload_wrk.sh. Same cpp-httplib settings as
// api/http/server.cc (thread pool, TCP_NODELAY, keep-alive, listen backlog), no
// routing work: /v1/assign answers a constant JSON body of the size of an
// assignment answer; /api/features/{key} answers PAYLOAD_FILE's bytes with a
// constant ETag, and 304 to If-None-Match with it. BACKLOG 5 reproduces
// cpp-httplib's own listen backlog.
#include <httplib.h>

#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

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
  std::string payload = "{}";
  if (argc > 3) {
    std::ifstream in(argv[3], std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    payload = text.str();
  }
  const std::string etag = "\"0123456789abcdef0123456789abcdef\"";
  http.Get("/api/features/([A-Za-z0-9_]+)",
           [&](const httplib::Request& req, httplib::Response& res) {
             res.set_header("ETag", etag);
             if (req.get_header_value("If-None-Match") == etag) {
               res.status = 304;
               return;
             }
             res.set_content(payload, "application/json");
           });
  // The same backlog as Causeway (SOMAXCONN, not cpp-httplib's 5), or bursts of
  // new connections would measure SYN retransmits rather than the server.
  if (causeway::api::BindWithBacklog(http, "127.0.0.1", port, backlog) < 0) return 1;
  return http.listen_after_bind() ? 0 : 1;
}
