#include "api/http/connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace causeway::api {

using Clock = std::chrono::steady_clock;

struct EventedServer::Conn {
  int fd = -1;
  std::string in;            // bytes read from the socket and not yet consumed
  size_t in_off = 0;         // the first unconsumed byte of `in`
  size_t served = 0;         // requests answered on this connection
  bool close_after = false;  // CloseAfter: this request's body was left unread
  bool in_epoll = false;
  Clock::time_point idle_since;
  // Set by TakeOver: the connection becomes a stream after this request.
  bool taken = false;
  std::string head;
  std::shared_ptr<ChunkSource> source;

  bool has_unread() const { return in_off < in.size(); }
};

thread_local EventedServer::Conn* EventedServer::current_ = nullptr;

namespace {

// Waits up to `timeout_ms` for `events` on fd; false on timeout or error.
bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

void AddressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
    port = ntohs(in->sin6_port);
  }
  ip = text;
}

// cpp-httplib's view of a connection: reads are buffered in the Conn, so bytes of
// a pipelined next request survive between requests.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(EventedServer::Conn& c, const ConnectionOptions& o)
      : c_(c), read_ms_(o.read_timeout_sec * 1000), write_ms_(o.write_timeout_sec * 1000) {}

  bool is_readable() const override { return c_.has_unread() || WaitFor(c_.fd, POLLIN, read_ms_); }
  bool is_writable() const override { return c_.taken || WaitFor(c_.fd, POLLOUT, write_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!c_.has_unread()) {
      c_.in.clear();
      c_.in_off = 0;
      if (!WaitFor(c_.fd, POLLIN, read_ms_)) return -1;
      char buf[4096];
      ssize_t n;
      do {
        n = ::recv(c_.fd, buf, sizeof buf, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      c_.in.assign(buf, static_cast<size_t>(n));
    }
    const size_t k = std::min(size, c_.in.size() - c_.in_off);
    std::memcpy(ptr, c_.in.data() + c_.in_off, k);
    c_.in_off += k;
    return static_cast<ssize_t>(k);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (c_.taken) return static_cast<ssize_t>(size);  // the stream writes its own head
    if (!WaitFor(c_.fd, POLLOUT, write_ms_)) return -1;
    ssize_t n;
    do {
      n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(c_.fd, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(c_.fd, false, ip, port);
  }
  socket_t socket() const override { return c_.fd; }

 private:
  EventedServer::Conn& c_;
  const int read_ms_;
  const int write_ms_;
};

// An epoll set and an eventfd that wakes its waiter.
struct Epoll {
  Epoll() : fd(::epoll_create1(EPOLL_CLOEXEC)), wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake;
    ::epoll_ctl(fd, EPOLL_CTL_ADD, wake, &ev);
  }
  ~Epoll() {
    ::close(wake);
    ::close(fd);
  }
  void Wake() const {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake, &one, sizeof one);
  }
  void Drain() const {
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(wake, &v, sizeof v);
  }
  bool Set(int op, int sock, uint32_t events) const {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = sock;
    return ::epoll_ctl(fd, op, sock, &ev) == 0;
  }
  const int fd;
  const int wake;
};

// A loop's thread, its epoll set and its stop flag: what the idle and the stream
// loops share.
struct LoopThread {
  // False when already stopped; else stops the thread (woken, joined).
  bool Stop() {
    {
      std::lock_guard lock(mu);
      if (stopped) return false;
      stopped = true;
    }
    ep.Wake();
    if (thread.joinable()) thread.join();
    return true;
  }
  bool Stopped() {
    std::lock_guard lock(mu);
    return stopped;
  }

  Epoll ep;
  std::thread thread;
  std::mutex mu;
  bool stopped = false;  // GUARDED_BY(mu)
};

size_t DefaultMaxConnections() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 768;
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = std::min<rlim_t>(r.rlim_max, 1 << 20);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  return r.rlim_cur > 512 ? static_cast<size_t>(r.rlim_cur) - 256 : 256;
}

}  // namespace

// ------------------------------------------------------------------ the idle loop

class EventedServer::IdleLoop {
 public:
  explicit IdleLoop(EventedServer& server) : server_(server) {}
  ~IdleLoop() { Stop(); }

  void Start() {
    loop_.thread = std::thread([this] { Run(); });
  }

  // Waits for the connection's next request (or its end, or its timeout).
  void Park(std::unique_ptr<Conn> c) {
    std::unique_lock lock(loop_.mu);
    if (loop_.stopped) {
      lock.unlock();
      return server_.Close(std::move(c));
    }
    c->idle_since = Clock::now();
    const int fd = c->fd;
    const int op = c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    c->in_epoll = true;
    idle_[fd] = std::move(c);
    if (!loop_.ep.Set(op, fd, EPOLLIN | EPOLLRDHUP | EPOLLONESHOT)) {
      std::unique_ptr<Conn> failed = std::move(idle_[fd]);
      idle_.erase(fd);
      lock.unlock();
      server_.Close(std::move(failed));
    }
  }

  void Stop() {
    if (!loop_.Stop()) return;
    std::lock_guard lock(loop_.mu);
    for (auto& [fd, c] : idle_) server_.Close(std::move(c));
    idle_.clear();
  }

 private:
  void Run() {
    epoll_event events[256];
    auto next_sweep = Clock::now() + std::chrono::seconds(1);
    for (;;) {
      const int n = ::epoll_wait(loop_.ep.fd, events, 256, 1000);
      if (loop_.Stopped()) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == loop_.ep.wake) continue;
        std::unique_ptr<Conn> c = Take(events[i].data.fd);
        if (c) server_.Dispatch(std::move(c));
      }
      if (Clock::now() >= next_sweep) {
        Sweep();
        next_sweep = Clock::now() + std::chrono::seconds(1);
      }
    }
  }

  std::unique_ptr<Conn> Take(int fd) {
    std::lock_guard lock(loop_.mu);
    auto it = idle_.find(fd);
    if (it == idle_.end()) return nullptr;
    std::unique_ptr<Conn> c = std::move(it->second);
    idle_.erase(it);
    return c;
  }

  // Closes connections idle past the keep-alive timeout.
  void Sweep() {
    const auto deadline =
        Clock::now() - std::chrono::seconds(server_.options_.keep_alive_timeout_sec);
    std::vector<std::unique_ptr<Conn>> expired;
    {
      std::lock_guard lock(loop_.mu);
      for (auto it = idle_.begin(); it != idle_.end();) {
        if (it->second->idle_since < deadline) {
          expired.push_back(std::move(it->second));
          it = idle_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& c : expired) server_.Close(std::move(c));
  }

  EventedServer& server_;
  LoopThread loop_;
  std::unordered_map<int, std::unique_ptr<Conn>> idle_;  // GUARDED_BY(loop_.mu)
};

// ---------------------------------------------------------------- the stream loop

class EventedServer::StreamLoop {
 public:
  explicit StreamLoop(EventedServer& server) : server_(server) {}
  ~StreamLoop() { Stop(); }

  void Start() {
    loop_.thread = std::thread([this] { Run(); });
  }

  void Add(std::unique_ptr<Conn> c) {
    std::unique_lock lock(loop_.mu);
    if (loop_.stopped) {
      lock.unlock();
      return server_.Close(std::move(c));
    }
    incoming_.push_back(std::move(c));
    loop_.ep.Wake();
  }

  void Stop() {
    if (!loop_.Stop()) return;
    std::lock_guard lock(loop_.mu);
    for (auto& c : incoming_) server_.Close(std::move(c));
    incoming_.clear();
    for (auto& [fd, s] : subs_) server_.Close(std::move(s.conn));
    subs_.clear();
  }

 private:
  struct Sub {
    std::unique_ptr<Conn> conn;
    std::deque<std::shared_ptr<const std::string>> out;
    size_t off = 0;      // bytes of out.front() already sent
    size_t backlog = 0;  // bytes queued
    bool want_out = false;
  };

  void Run() {
    epoll_event events[256];
    auto next_tick = Clock::now();
    for (;;) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
      const int n = ::epoll_wait(loop_.ep.fd, events, 256,
                                 static_cast<int>(std::max<int64_t>(0, wait.count())));
      std::vector<int> drop;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == loop_.ep.wake) {
          loop_.ep.Drain();
          if (!Admit()) return;
          continue;
        }
        auto it = subs_.find(fd);
        if (it != subs_.end() && !OnEvent(it->second, events[i].events)) drop.push_back(fd);
      }
      if (Clock::now() >= next_tick) {
        for (auto& [fd, s] : subs_) {
          if (!Poll(s)) drop.push_back(fd);
        }
        next_tick = Clock::now() + std::chrono::milliseconds(kStreamTickMs);
      }
      for (int fd : drop) Drop(fd);
    }
  }

  // Moves new streams in; false once stopped.
  bool Admit() {
    std::vector<std::unique_ptr<Conn>> fresh;
    {
      std::lock_guard lock(loop_.mu);
      if (loop_.stopped) return false;
      fresh.swap(incoming_);
    }
    for (auto& c : fresh) {
      const int fd = c->fd;
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      Sub& s = subs_[fd];
      s.conn = std::move(c);
      // A set of its own: the idle loop's registration stays disarmed (one-shot).
      const bool ok = loop_.ep.Set(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP);
      if (!ok || !Send(s, std::make_shared<const std::string>(std::move(s.conn->head))) ||
          !Poll(s)) {
        Drop(fd);
      }
    }
    return true;
  }

  // Sends what the source has now; false to end the stream.
  bool Poll(Sub& s) {
    std::shared_ptr<const std::string> frame;
    return s.conn->source->Poll(&frame) && Send(s, std::move(frame));
  }

  // A client's bytes are read and ignored; false when it went.
  bool OnEvent(Sub& s, uint32_t events) {
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) return false;
    if (events & EPOLLIN) {
      char buf[1024];
      for (;;) {
        const ssize_t n = ::recv(s.conn->fd, buf, sizeof buf, 0);
        if (n == 0) return false;
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          return false;
        }
      }
    }
    return (events & EPOLLOUT) == 0 || Flush(s);
  }

  // Queues `frame` (null: nothing) and writes what the socket takes; false to drop.
  bool Send(Sub& s, std::shared_ptr<const std::string> frame) {
    if (frame && !frame->empty()) {
      s.backlog += frame->size();
      if (s.backlog > server_.options_.max_stream_backlog) return false;  // too slow
      s.out.push_back(std::move(frame));
    }
    return Flush(s);
  }

  bool Flush(Sub& s) {
    while (!s.out.empty()) {
      const std::string& f = *s.out.front();
      const ssize_t n = ::send(s.conn->fd, f.data() + s.off, f.size() - s.off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        if (!s.want_out) s.want_out = loop_.ep.Set(EPOLL_CTL_MOD, s.conn->fd, kWithOut);
        return s.want_out;
      }
      s.off += static_cast<size_t>(n);
      if (s.off == f.size()) {
        s.backlog -= f.size();
        s.off = 0;
        s.out.pop_front();
      }
    }
    if (s.want_out) s.want_out = !loop_.ep.Set(EPOLL_CTL_MOD, s.conn->fd, EPOLLIN | EPOLLRDHUP);
    return true;
  }

  void Drop(int fd) {
    auto it = subs_.find(fd);
    if (it == subs_.end()) return;
    std::unique_ptr<Conn> c = std::move(it->second.conn);
    subs_.erase(it);
    server_.Close(std::move(c));
  }

  static constexpr uint32_t kWithOut = EPOLLIN | EPOLLOUT | EPOLLRDHUP;

  EventedServer& server_;
  LoopThread loop_;
  std::vector<std::unique_ptr<Conn>> incoming_;  // GUARDED_BY(loop_.mu)
  std::unordered_map<int, Sub> subs_;            // the loop thread's
};

// ------------------------------------------------------------------- the server

// cpp-httplib's pool, which forgets the server once it shuts down: from then on
// Dispatch closes connections instead of queueing them.
class EventedServer::Pool final : public httplib::TaskQueue {
 public:
  Pool(EventedServer& server, size_t threads) : server_(server), inner_(threads) {}
  void enqueue(std::function<void()> fn) override { inner_.enqueue(std::move(fn)); }
  void shutdown() override {
    {
      std::lock_guard lock(server_.pool_mu_);
      server_.pool_ = nullptr;
    }
    inner_.shutdown();
  }

 private:
  EventedServer& server_;
  httplib::ThreadPool inner_;
};

EventedServer::EventedServer()
    : idle_(std::make_unique<IdleLoop>(*this)), streams_(std::make_unique<StreamLoop>(*this)) {
  Configure(ConnectionOptions{});
}

void EventedServer::Configure(ConnectionOptions options) {
  options_ = options;
  if (options_.max_connections == 0) options_.max_connections = DefaultMaxConnections();
  new_task_queue = [this] {
    auto* pool = new Pool(*this, options_.threads);
    std::lock_guard lock(pool_mu_);
    pool_ = pool;
    return pool;
  };
}

EventedServer::~EventedServer() { StopLoops(); }

void EventedServer::StartLoops() {
  idle_->Start();
  streams_->Start();
}

void EventedServer::StopLoops() {
  stopping_.store(true);
  idle_->Stop();
  streams_->Stop();
}

bool EventedServer::TakeOver(std::string head, std::shared_ptr<ChunkSource> source) {
  Conn* c = current_;
  if (!c || c->taken) return false;
  c->taken = true;
  c->head = std::move(head);
  c->source = std::move(source);
  return true;
}

void EventedServer::CloseAfter(httplib::Response& res) {
  res.set_header("Connection", "close");
  if (current_) current_->close_after = true;
}

// Called by cpp-httplib's accept loop, on a worker, for each new connection.
bool EventedServer::process_and_close_socket(socket_t sock) {
  if (open_.fetch_add(1) >= options_.max_connections || stopping_.load()) {
    static const std::string kRefusal = [] {
      const std::string body =
          "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many open connections on "
          "this instance; retry in a second\"}}";
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    [[maybe_unused]] ssize_t n = ::send(sock, kRefusal.data(), kRefusal.size(), MSG_NOSIGNAL);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    open_.fetch_sub(1);
    return true;
  }
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto c = std::make_unique<Conn>();
  c->fd = sock;
  // A request already sent is served now; otherwise its connection waits idle.
  if (WaitFor(sock, POLLIN, 0)) {
    Serve(std::move(c));
  } else {
    idle_->Park(std::move(c));
  }
  return true;
}

// Whether a worker may wait for this connection's next request: only while at
// most three quarters of the workers are busy, so lingering never delays others.
bool EventedServer::MayLinger() const {
  return options_.linger_ms > 0 &&
         busy_.load(std::memory_order_relaxed) <= options_.threads * 3 / 4;
}

void EventedServer::Serve(std::unique_ptr<Conn> c) {
  busy_.fetch_add(1, std::memory_order_relaxed);
  struct Done {
    std::atomic<size_t>& busy;
    ~Done() { busy.fetch_sub(1, std::memory_order_relaxed); }
  } done{busy_};
  current_ = c.get();
  for (;;) {
    ConnStream stream(*c, options_);
    bool closed = false;
    const bool last = stopping_.load() || ++c->served >= options_.keep_alive_max_count;
    const bool ok = process_request(stream, last, closed, nullptr);
    if (c->taken) {
      current_ = nullptr;
      return streams_->Add(std::move(c));
    }
    if (!ok || closed || last || c->close_after) break;
    if (!c->has_unread() && !(MayLinger() && WaitFor(c->fd, POLLIN, options_.linger_ms))) {
      current_ = nullptr;
      return idle_->Park(std::move(c));
    }
  }
  current_ = nullptr;
  Close(std::move(c));
}

void EventedServer::Dispatch(std::unique_ptr<Conn> c) {
  std::unique_lock lock(pool_mu_);
  if (!pool_ || stopping_.load()) {
    lock.unlock();
    return Close(std::move(c));
  }
  // std::function needs a copyable callable: the connection travels as a pointer.
  Conn* raw = c.release();
  pool_->enqueue([this, raw] { Serve(std::unique_ptr<Conn>(raw)); });
}

void EventedServer::Close(std::unique_ptr<Conn> c) {
  if (!c) return;
  ::shutdown(c->fd, SHUT_RDWR);
  ::close(c->fd);
  open_.fetch_sub(1);
}

}  // namespace causeway::api
