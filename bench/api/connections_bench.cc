// bench_connections: connections that stay open (issue 22 part 5), against a
// running `causeway serve` (bench/api/connections.sh starts one).
//
//   bench_connections PORT ADMIN_KEY CLIENT_KEY SERVER_PID LOAD SECONDS
//                     [STREAMS=5000] [IDLE=1000] [SDK_KEY]
// LOAD is a wrk command, or paced:CLIENTS:RATE (needs SDK_KEY).
//
// 1. The reference, in the same run: GET /v1/assign from wrk's 64 keep-alive
//    connections (LOAD, the wrk command connections.sh gives) for SECONDS,
//    nothing else open: requests/s, p50, p99.
// 2. STREAMS server-sent-event subscribers (GET /sub/CLIENT_KEY) and IDLE idle
//    keep-alive connections are opened and stay open; the server's resident memory
//    before and after gives the memory per connection.
// 3. The same assign load again; halfway, a feature is changed through the admin
//    API, and the time until every subscriber has the new payload is measured.
// Prints the figures, the p99 ratio and whether the goals hold (p99 < 5 ms, all
// subscribers within 2 s).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

struct Load {
  double rps = 0, p50_ms = 0, p99_ms = 0;
  size_t errors = 0;
};

// wrk's latency as milliseconds: "1.74ms", "850.00us", "1.02s".
double Millis(const std::string& text) {
  const double v = std::atof(text.c_str());
  if (text.find("us") != std::string::npos) return v / 1000;
  if (text.find("ms") != std::string::npos) return v;
  return v * 1000;
}

// "paced:CLIENTS:RATE": CLIENTS keep-alive clients (one thread each), each sending
// GET /v1/assign at RATE requests per second on a fixed schedule, so the latency is
// the server's and not a saturated queue's. Latency counts from the scheduled time
// (no coordinated omission).
Load PacedLoad(int port, const std::string& key, int clients, double rate, double seconds) {
  std::vector<std::vector<double>> lat(clients);
  std::atomic<size_t> errors{0};
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  const auto period = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      const httplib::Headers h = {{"Authorization", "Bearer " + key}};
      const auto offset = period * (static_cast<double>(t) / clients);
      for (int i = 0;; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(offset + period * i);
        if (due > start + std::chrono::duration<double>(seconds)) break;
        std::this_thread::sleep_until(due);
        auto r = c.Get(
            "/v1/assign?experiment=checkout&user=p" + std::to_string(t) + "-" + std::to_string(i),
            h);
        lat[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
        if (!r || r->status != 200) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Load out;
  out.errors = errors;
  if (all.empty()) return out;
  out.rps = static_cast<double>(all.size()) / seconds;
  out.p50_ms = all[all.size() / 2];
  out.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return out;
}

std::string g_port, g_sdk_key;  // for a paced load

// Runs `command` (wrk with --latency, from connections.sh) and reads its figures,
// or a paced load ("paced:CLIENTS:RATE"); `halfway` runs once at the middle of
// `seconds`, on its own thread.
Load RunLoad(const std::string& command, double seconds,
             const std::function<void()>& halfway = {}) {
  std::thread middle;
  if (halfway) {
    middle = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds / 2));
      halfway();
    });
  }
  Load out;
  int clients = 0;
  double rate = 0;
  if (std::sscanf(command.c_str(), "paced:%d:%lf", &clients, &rate) == 2) {
    out = PacedLoad(std::atoi(g_port.c_str()), g_sdk_key, clients, rate, seconds);
  } else if (FILE* p = ::popen(command.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      const std::string l(line);
      char unit[64];
      double v = 0;
      if (std::sscanf(line, " Requests/sec: %lf", &v) == 1) out.rps = v;
      if (std::sscanf(line, " 50%% %63s", unit) == 1) out.p50_ms = Millis(unit);
      if (std::sscanf(line, " 99%% %63s", unit) == 1) out.p99_ms = Millis(unit);
      if (l.find("Non-2xx") != std::string::npos || l.find("Socket errors") != std::string::npos) {
        out.errors++;
        std::fputs(line, stdout);
      }
    }
    ::pclose(p);
  }
  if (middle.joinable()) middle.join();
  return out;
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not inherited by wrk
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// The subscribers: one epoll thread reads them all and counts the payloads each
// has received, and when it got the one that carries `marker`.
class Subscribers {
 public:
  Subscribers(int port, const std::string& client_key, int n)
      : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
    const std::string request = "GET /sub/" + client_key +
                                " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    for (int i = 0; i < n; ++i) {
      const int fd = Connect(port);
      if (fd < 0) continue;
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(subs_.size());
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      Sub s;
      s.fd = fd;
      subs_.push_back(std::move(s));
    }
    reader_ = std::thread([this] { Read(); });
  }
  ~Subscribers() {
    stop_ = true;
    reader_.join();
    for (auto& s : subs_) ::close(s.fd);
    ::close(ep_);
  }
  size_t size() const { return subs_.size(); }

  // Subscribers that received at least one payload / have `marker`, and the
  // latest time one got `marker`.
  size_t WithPayload() {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(
        std::count_if(subs_.begin(), subs_.end(), [](const Sub& s) { return s.payloads > 0; }));
  }
  void Watch(const std::string& marker) {
    std::lock_guard lock(mu_);
    marker_ = marker;
  }
  size_t Marked(Clock::time_point* last) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const Sub& s : subs_) {
      if (s.marked) {
        n++;
        *last = std::max(*last, s.marked_at);
      }
    }
    return n;
  }
  size_t Closed() {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(
        std::count_if(subs_.begin(), subs_.end(), [](const Sub& s) { return s.closed; }));
  }

 private:
  struct Sub {
    int fd = -1;
    int payloads = 0;
    bool marked = false;
    bool closed = false;
    Clock::time_point marked_at;
    std::string tail;  // the last bytes, for a marker across reads
  };

  void Read() {
    epoll_event events[512];
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      const int n = ::epoll_wait(ep_, events, 512, 100);
      for (int i = 0; i < n; ++i) {
        Sub& s = subs_[events[i].data.u32];
        const ssize_t k = ::recv(s.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        std::lock_guard lock(mu_);
        if (k <= 0) {
          if (k == 0) {
            s.closed = true;
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, s.fd, nullptr);
          }
          continue;
        }
        std::string text = s.tail + std::string(buf.data(), static_cast<size_t>(k));
        for (size_t at = 0; (at = text.find("event: features", at)) != std::string::npos; ++at) {
          if (at + 15 > s.tail.size()) s.payloads++;  // not counted with the tail
        }
        if (!marker_.empty() && !s.marked && text.find(marker_) != std::string::npos) {
          s.marked = true;
          s.marked_at = Clock::now();
        }
        s.tail = text.substr(text.size() > 64 ? text.size() - 64 : 0);
      }
    }
  }

  const int ep_;
  std::vector<Sub> subs_;
  std::mutex mu_;
  std::string marker_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr,
                 "usage: bench_connections PORT ADMIN_KEY CLIENT_KEY SERVER_PID LOAD SECONDS "
                 "[STREAMS] [IDLE]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string admin = argv[2], client = argv[3];
  const int pid = std::atoi(argv[4]);
  const std::string load = argv[5];
  const double seconds = std::atof(argv[6]);
  const int n_streams = argc > 7 ? std::atoi(argv[7]) : 5000;
  const int n_idle = argc > 8 ? std::atoi(argv[8]) : 1000;
  g_port = argv[1];
  g_sdk_key = argc > 9 ? argv[9] : "";
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);

  const Load base = RunLoad(load, seconds);
  std::printf("reference: GET /v1/assign (%s), nothing else open\n", load.c_str());
  std::printf("  %10.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %zu\n", base.rps, base.p50_ms,
              base.p99_ms, base.errors);

  const long rss0 = RssKb(pid);
  Subscribers subs(port, client, n_streams);
  std::vector<int> idle;
  const std::string ping = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  char buf[4096];
  for (int i = 0; i < n_idle; ++i) {
    const int fd = Connect(port);
    if (fd < 0 || ::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) < 0 ||
        ::recv(fd, buf, sizeof buf, 0) <= 0) {
      if (fd >= 0) ::close(fd);
      continue;
    }
    idle.push_back(fd);
  }
  const auto wait_end = Clock::now() + std::chrono::seconds(20);
  while (subs.WithPayload() < subs.size() && Clock::now() < wait_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const long rss1 = RssKb(pid);
  std::printf(
      "open: %zu of %d subscribers with their first payload, %zu of %d idle keep-alive "
      "connections\n",
      subs.WithPayload(), n_streams, idle.size(), n_idle);
  const size_t open = subs.size() + idle.size();
  std::printf("server memory: %ld -> %ld kB resident, %.1f kB per open connection\n", rss0, rss1,
              open ? static_cast<double>(rss1 - rss0) / static_cast<double>(open) : 0.0);

  const Load steady = RunLoad(load, seconds);
  std::printf("with them open, no change: GET /v1/assign, the same load\n");
  std::printf(
      "  %10.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %zu   p99 ratio to the "
      "reference %.2f\n",
      steady.rps, steady.p50_ms, steady.p99_ms, steady.errors, steady.p99_ms / base.p99_ms);

  const std::string marker = "bench-" + std::to_string(::getpid());
  Clock::time_point changed;
  const Load loaded = RunLoad(load, seconds, [&] {
    subs.Watch(marker);
    httplib::Client c("127.0.0.1", port);
    changed = Clock::now();
    auto res = c.Patch("/v1/features/banner", {{"Authorization", "Bearer " + admin}},
                       "{\"default_value\":\"" + marker + "\"}", "application/json");
    if (!res || res->status != 200) std::fprintf(stderr, "PATCH failed\n");
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Clock::time_point last = changed;
  const size_t marked = subs.Marked(&last);
  const double delivery_ms = std::chrono::duration<double, std::milli>(last - changed).count();
  int idle_alive = 0;
  for (int fd : idle) {
    if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) > 0 &&
        ::recv(fd, buf, sizeof buf, 0) > 0)
      idle_alive++;
  }
  std::printf("with them open and one change sent to every subscriber halfway:\n");
  std::printf(
      "  %10.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %zu   p99 ratio to the "
      "reference %.2f\n",
      loaded.rps, loaded.p50_ms, loaded.p99_ms, loaded.errors, loaded.p99_ms / base.p99_ms);
  std::printf(
      "update: %zu of %zu subscribers had it %.0f ms after the PATCH was sent; %zu "
      "streams closed; %d of %zu idle connections still answer\n",
      marked, subs.size(), delivery_ms, subs.Closed(), idle_alive, idle.size());
  const bool ok = steady.p99_ms < 5.0 && marked == static_cast<size_t>(n_streams) &&
                  delivery_ms < 2000 && loaded.errors == 0 && steady.errors == 0;
  std::printf("goals (steady p99 < 5 ms, all %d subscribers within 2 s, no errors): %s\n",
              n_streams, ok ? "met" : "NOT met");
  for (int fd : idle) ::close(fd);
  return 0;
}
