// bench_bare_http PORT: the reference for bench/api/assign_wrk.sh. Same
// cpp-httplib settings as api/server.cc (thread pool, TCP_NODELAY, keep-alive),
// no routing work, a constant JSON body of the size of an assignment answer.
#include <httplib.h>

#include <cstdlib>

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8090;
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
  return http.listen("127.0.0.1", port) ? 0 : 1;
}
