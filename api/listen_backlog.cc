#include "api/listen_backlog.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>

namespace causeway::api {

int BindWithBacklog(httplib::Server& http, const std::string& host, int port, int backlog) {
  // cpp-httplib creates one socket per getaddrinfo candidate, runs the socket
  // options on it, then binds and listens; it keeps the first that succeeds and
  // closes the others. So the last socket seen here is the bound one.
  socket_t bound = INVALID_SOCKET;
  http.set_socket_options([&bound](socket_t sock) {
    httplib::default_socket_options(sock);
    bound = sock;
  });
  int result = -1;
  if (port == 0) {
    result = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, port)) {
    result = port;
  }
  http.set_socket_options(httplib::default_socket_options);  // drops the reference to `bound`
  if (result < 0 || bound == INVALID_SOCKET) return -1;
  if (::listen(bound, backlog) != 0) return -1;  // errno from listen()
  return result;
}

}  // namespace causeway::api
