#include "api/http/listen_backlog.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>

namespace causeway::api {
namespace {

// SO_REUSEADDR only: a restart binds at once despite connections in TIME_WAIT.
// cpp-httplib's default sets SO_REUSEPORT instead, with which a second server
// started on the same port would not fail but silently share the new
// connections with the first.
void ReuseAddress(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

int BindWithBacklog(httplib::Server& http, const std::string& host, int port, int backlog) {
  // cpp-httplib creates one socket per getaddrinfo candidate, runs the socket
  // options on it, then binds and listens; it keeps the first that succeeds and
  // closes the others. So the last socket seen here is the bound one.
  socket_t bound = INVALID_SOCKET;
  http.set_socket_options([&bound](socket_t sock) {
    ReuseAddress(sock);
    bound = sock;
  });
  int result = -1;
  if (port == 0) {
    result = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, port)) {
    result = port;
  }
  http.set_socket_options(ReuseAddress);  // drops the reference to `bound`
  if (result < 0 || bound == INVALID_SOCKET) return -1;
  if (::listen(bound, backlog) != 0) return -1;  // errno from listen()
  return result;
}

}  // namespace causeway::api
