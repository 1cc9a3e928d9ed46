// The listen backlog: connections that arrive while every worker is busy, or before
// the server accepts at all, wait in the kernel's accept queue instead of having
// their SYNs dropped (docs/running.md, "Listen backlog").
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "api/http/listen_backlog.h"
#include "api/http/server.h"

namespace {

// net.core.somaxconn: the kernel caps every listen backlog at it.
int SoMaxConn() {
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int n = 0;
  in >> n;
  return n > 0 ? n : 4096;
}

// Starts a non-blocking TCP connect to 127.0.0.1:port; returns the socket or -1.
int StartConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits until every socket's connect has finished or `deadline` passes; returns how
// many connected.
int AwaitConnected(const std::vector<int>& fds, std::chrono::steady_clock::time_point deadline) {
  std::vector<pollfd> pending;
  for (int fd : fds) pending.push_back({fd, POLLOUT, 0});
  int connected = 0;
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    if (::poll(pending.data(), pending.size(), 50) < 0 && errno != EINTR) break;
    std::vector<pollfd> still;
    for (const pollfd& p : pending) {
      if (p.revents == 0) {
        still.push_back({p.fd, POLLOUT, 0});
        continue;
      }
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error == 0 && (p.revents & POLLOUT)) ++connected;
    }
    pending.swap(still);
  }
  return connected;
}

// Reads until the peer closes (blocking, 30 s timeout).
std::string ReadToEnd(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) reply.append(buf, n);
  return reply;
}

// Client sockets and the database directory, released however the test ends.
struct Scratch {
  std::filesystem::path dir;
  std::vector<int> fds;
  ~Scratch() {
    for (int fd : fds) ::close(fd);
    std::filesystem::remove_all(dir);
  }
};

}  // namespace

TEST_CASE("the listen backlog holds hundreds of connections before any is accepted") {
  // Bound but not yet running, the server accepts nothing, so a connection completes
  // its handshake only while the accept queue, whose length is the listen backlog, has
  // room. With cpp-httplib's own backlog of 5, six connect and the kernel drops the
  // other SYNs, and every retransmission too since nothing drains the queue. The
  // outcome does not depend on timing: the deadline only bounds how long a failure
  // takes to show.
  const int connections = std::min(256, SoMaxConn());
  if (connections < 256) WARN("net.core.somaxconn caps the backlog at " << connections);

  Scratch scratch;
  scratch.dir =
      std::filesystem::temp_directory_path() / ("causeway-backlog-" + std::to_string(::getpid()));
  std::filesystem::remove_all(scratch.dir);
  causeway::api::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.db_path = (scratch.dir / "causeway.db").string();
  options.threads = 16;
  std::string error;
  auto server = causeway::api::Server::Open(options, &error);
  if (!server) FAIL("Server::Open: " << error);
  int port = server->Bind();
  REQUIRE(port > 0);

  std::vector<int>& fds = scratch.fds;
  for (int i = 0; i < connections; ++i) {
    int fd = StartConnect(port);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  REQUIRE(AwaitConnected(fds, deadline) == connections);

  // Once it runs, the server answers every queued connection with far fewer threads.
  std::thread runner([&] { server->Run(); });
  while (!server->running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Every request first, then the replies: workers take the connections in queue order.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  int sent = 0, answered = 0;
  for (int fd : fds) {
    sent += ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  }
  for (int fd : fds) answered += ReadToEnd(fd).rfind("HTTP/1.1 200 OK\r\n", 0) == 0;
  server->Stop();
  runner.join();
  CHECK(sent == connections);
  CHECK(answered == connections);
}

TEST_CASE("a second server on a port in use fails instead of sharing it") {
  // With SO_REUSEPORT (cpp-httplib's default) the second bind would succeed and the
  // kernel would split the new connections between the two servers.
  httplib::Server first, second;
  const int port = causeway::api::BindWithBacklog(first, "127.0.0.1", 0);
  REQUIRE(port > 0);
  errno = 0;
  CHECK(causeway::api::BindWithBacklog(second, "127.0.0.1", port) == -1);
  CHECK(errno == EADDRINUSE);
}

TEST_CASE("a server binds again at once over connections left in TIME_WAIT") {
  int port = 0;
  {
    httplib::Server http;
    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    port = causeway::api::BindWithBacklog(http, "127.0.0.1", 0);
    REQUIRE(port > 0);
    std::thread runner([&] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/");
    REQUIRE(res);
    CHECK(res->status == 200);
    http.stop();  // the server closes first: its side of the connection is in TIME_WAIT
    runner.join();
  }
  httplib::Server again;
  CHECK(causeway::api::BindWithBacklog(again, "127.0.0.1", port) == port);
}
