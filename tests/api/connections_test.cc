// Connections that stay open (issue 22 part 5, api/http/connections.h): idle
// keep-alive connections and event streams hold no worker thread, the connection
// limit answers 503 and closes, pipelined requests are answered in order, and a
// refused body never becomes the next request. The 5 000-stream figures are
// bench/api/connections.sh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "test_server.h"

namespace causeway {
namespace {

using testing::TestServer;
using Clock = std::chrono::steady_clock;

// A raw client socket: what a browser, an SDK or a bad client sends.
class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_), connected_(o.connected_), got_(std::move(o.got_)) {
    o.fd_ = -1;
  }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(connected_, o.connected_);
    std::swap(got_, o.got_);
    return *this;
  }

  bool connected() const { return connected_; }
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until `needle` arrived (true), the peer closed or `ms` passed.
  bool ReadUntil(const std::string& needle, int ms) {
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (got_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0 || !Read(static_cast<int>(left.count()))) return false;
    }
    return true;
  }
  // True when the peer closed within `ms` (what it sent before is kept).
  bool ClosedWithin(int ms) {
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      got_.append(buf, static_cast<size_t>(n));
    }
    return false;
  }
  const std::string& got() const { return got_; }
  void Clear() { got_.clear(); }

 private:
  bool Read(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string got_;
};

std::string Get(const std::string& path, const std::string& key = "") {
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!key.empty()) r += "Authorization: Bearer " + key + "\r\n";
  return r + "\r\n";
}

api::ServerOptions Small(size_t threads, size_t max_connections = 0) {
  api::ServerOptions o;
  o.threads = threads;
  o.max_connections = max_connections;
  o.monitor_scheduler = false;
  return o;
}

void RunningExperiment(const TestServer& s) {
  REQUIRE(s.Post("/v1/experiments", s.admin_key,
                 {{"key", "btn"},
                  {"variants", {{{"key", "control"}}, {{"key", "blue"}}}},
                  {"status", "running"}})
              .status == 201);
}

TEST_CASE("connections: idle keep-alive connections hold no worker thread", "[connections]") {
  TestServer s(Small(2));
  RunningExperiment(s);
  std::vector<Socket> idle;
  for (int i = 0; i < 200; ++i) {
    Socket c(s.port);
    REQUIRE(c.connected());
    REQUIRE(c.Send(Get("/healthz")));
    REQUIRE(c.ReadUntil("\r\n\r\n", 5000));
    CHECK(c.got().rfind("HTTP/1.1 200", 0) == 0);
    idle.push_back(std::move(c));
  }
  // Two workers, 200 open connections: a new client is still answered at once.
  const auto start = Clock::now();
  for (int i = 0; i < 50; ++i) {
    auto r = s.Get("/v1/assign?experiment=btn&user=u" + std::to_string(i), s.sdk_key);
    REQUIRE(r.status == 200);
  }
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  // And every idle connection still takes its next request.
  for (Socket& c : idle) {
    c.Clear();
    REQUIRE(c.Send(Get("/healthz")));
    CHECK(c.ReadUntil("\r\n\r\n", 5000));
  }
}

TEST_CASE("connections: pipelined requests are answered in order", "[connections]") {
  TestServer s(Small(2));
  Socket c(s.port);
  REQUIRE(c.Send(Get("/healthz") + Get("/v1/nope") + Get("/v1/assign?experiment=x&user=u")));
  REQUIRE(c.ReadUntil("missing API key", 5000));
  const std::string& got = c.got();
  const size_t first = got.find("HTTP/1.1 200"), second = got.find("HTTP/1.1 404"),
               third = got.find("HTTP/1.1 401");
  CHECK(first == 0);
  CHECK(second != std::string::npos);
  CHECK(third != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
}

TEST_CASE("connections: a body refused unread closes its connection", "[connections]") {
  TestServer s(Small(2));
  Socket c(s.port);
  const std::string body = "{\"events\":[]}";
  // Wrong key: refused before the body is read; the next request on the socket
  // must not be parsed out of the body.
  REQUIRE(
      c.Send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
             "Content-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body + Get("/healthz")));
  CHECK(c.ClosedWithin(3000));
  CHECK(c.got().rfind("HTTP/1.1 401", 0) == 0);
  CHECK(c.got().find("Connection: close") != std::string::npos);
  CHECK(c.got().find("HTTP/1.1 400") == std::string::npos);
}

TEST_CASE("connections: beyond max_connections, a 503 and the connection closed", "[connections]") {
  TestServer s(Small(2, 10));
  std::vector<Socket> open;
  for (int i = 0; i < 10; ++i) {
    Socket c(s.port);
    REQUIRE(c.Send(Get("/healthz")));
    REQUIRE(c.ReadUntil("\r\n\r\n", 5000));
    open.push_back(std::move(c));
  }
  Socket refused(s.port);
  REQUIRE(refused.Send(Get("/healthz")));
  CHECK(refused.ClosedWithin(3000));  // never a hang
  CHECK(refused.got().rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.got().find("\"code\":\"unavailable\"") != std::string::npos);
  CHECK(refused.got().find("Retry-After: 1") != std::string::npos);
  // Closed connections free their places.
  open.erase(open.begin(), open.begin() + 5);
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {  // the server sees the closes
    Socket c(s.port);
    c.Send(Get("/healthz"));
    served = c.ReadUntil("HTTP/1.1 200", 2000);
    if (!served) ::usleep(20000);
  }
  CHECK(served);
}

TEST_CASE("connections: 200 streams on two workers, one change reaches all", "[connections]") {
  TestServer s(Small(2));
  RunningExperiment(s);
  REQUIRE(s.Post("/v1/features", s.admin_key,
                 {{"key", "banner"}, {"value_type", "string"}, {"default_value", "v1"}})
              .status == 201);
  auto key = s.Post("/v1/keys", s.admin_key, {{"scope", "client"}});
  REQUIRE(key.status == 201);
  const std::string client = key.body["key"];
  std::vector<Socket> streams;
  for (int i = 0; i < 200; ++i) {
    Socket c(s.port);
    REQUIRE(c.Send(Get("/sub/" + client)));
    streams.push_back(std::move(c));
  }
  for (Socket& c : streams) {
    REQUIRE(c.ReadUntil("\"defaultValue\":\"v1\"", 5000));
    CHECK(c.got().rfind("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream", 0) == 0);
  }
  // The workers are free for everything else.
  auto a = s.Get("/v1/assign?experiment=btn&user=u1", s.sdk_key);
  CHECK(a.status == 200);
  const auto start = Clock::now();
  REQUIRE(s.Patch("/v1/features/banner", s.admin_key, {{"default_value", "v2"}}).status == 200);
  int reached = 0;
  for (Socket& c : streams) reached += c.ReadUntil("\"defaultValue\":\"v2\"", 2000);
  CHECK(reached == 200);
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  // A revoked key ends its streams.
  REQUIRE(s.Call("POST", "/v1/keys/" + key.body["id"].get<std::string>() + "/revoke", s.admin_key)
              .status == 200);
  CHECK(streams.front().ClosedWithin(2000));
}

}  // namespace
}  // namespace causeway
