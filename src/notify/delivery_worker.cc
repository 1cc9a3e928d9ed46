#include "notify/delivery_worker.h"

#include <httplib.h>

#include <chrono>
#include <utility>

#include "notify/url_policy.h"
#include "notify/webhook_message.h"

namespace causeway::notify {
namespace {

constexpr const char* kUserAgent = "Causeway-Webhooks/1";
constexpr size_t kMaxErrorBytes = 300;
// A delivery whose alert is not stored (a ClickHouse write cut short before the
// alert: docs/clickhouse.md) is retried this many times, then given up.
constexpr int kMaxAttemptsWithoutAlert = 50;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Key(const store::DeliveryRow& d) { return d.alert_id + "\n" + d.webhook_id; }

std::string Clip(std::string s) {
  if (s.size() > kMaxErrorBytes) s.resize(kMaxErrorBytes);
  return s;
}

// cpp-httplib's client parses status lines with a function-local static std::regex
// in libcpp-httplib.so, which ThreadSanitizer cannot see initialised, and reports
// the first concurrent uses as a race (see tests/api/crash_test.cc). One request to
// a server of our own on loopback, before the sender threads start, initialises it
// in an order TSan sees. Once per process; a few milliseconds.
void InitialiseHttpClient() {
  static std::once_flag once;
  std::call_once(once, [] {
    httplib::Server server;
    server.Get("/", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    const int port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) return;
    std::thread t([&] { server.listen_after_bind(); });
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(1, 0);
    for (int i = 0; i < 100 && !client.Get("/"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // until it listens
    }
    server.stop();
    t.join();
  });
}

void SetTimeout(httplib::Client& client, int64_t connect_ms, int64_t io_ms) {
  client.set_connection_timeout(connect_ms / 1000, (connect_ms % 1000) * 1000);
  client.set_read_timeout(io_ms / 1000, (io_ms % 1000) * 1000);
  client.set_write_timeout(io_ms / 1000, (io_ms % 1000) * 1000);
}

}  // namespace

DeliveryWorker::DeliveryWorker(store::Store* store, DeliveryOptions options)
    : store_(store), options_(std::move(options)), rng_(std::random_device{}()) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  InitialiseHttpClient();
  std::lock_guard lock(mu_);
  if (!stop_) return;
  stop_ = false;
  poller_ = std::thread([this] { PollLoop(); });
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    senders_.emplace_back([this] { SendLoop(); });
  }
}

void DeliveryWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  poll_cv_.notify_all();
  task_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  for (auto& t : senders_) t.join();
  senders_.clear();
  std::lock_guard lock(mu_);
  tasks_.clear();
  in_flight_.clear();
  per_hook_.clear();
}

void DeliveryWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  poll_cv_.notify_all();
}

double DeliveryWorker::Uniform() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void DeliveryWorker::PollLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_ = false;
    lock.unlock();
    Poll();
    lock.lock();
    poll_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(options_.poll_ms, 1)),
                      [this] { return stop_ || wake_; });
  }
}

// Reads the due deliveries and queues those not in flight whose webhook has room.
// A store error is retried at the next poll.
void DeliveryWorker::Poll() {
  StatusOr<std::vector<store::DeliveryRow>> due = store_->DueDeliveries(NowMs(), options_.batch);
  if (!due.ok() || due->empty()) return;
  StatusOr<std::vector<store::WebhookRow>> hooks = store_->ListWebhooks();
  if (!hooks.ok()) return;
  std::map<std::string, const store::WebhookRow*> by_id;
  for (const store::WebhookRow& w : *hooks) by_id[w.id] = &w;
  std::lock_guard lock(mu_);
  for (store::DeliveryRow& d : *due) {
    auto hook = by_id.find(d.webhook_id);
    if (hook == by_id.end()) continue;  // deleted meanwhile: its deliveries are dropped
    int& busy = per_hook_[d.webhook_id];
    if (busy >= std::max(1, options_.per_webhook)) continue;
    if (!in_flight_.insert(Key(d)).second) continue;
    ++busy;
    tasks_.push_back(Task{std::move(d), *hook->second});
  }
  task_cv_.notify_all();
}

void DeliveryWorker::SendLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    task_cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (stop_) return;
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    Attempt(task);
    lock.lock();
    in_flight_.erase(Key(task.delivery));
    if (--per_hook_[task.webhook.id] <= 0) per_hook_.erase(task.webhook.id);
    wake_ = true;  // room for this webhook's next delivery
    poll_cv_.notify_all();
  }
}

store::DeliveryRow DeliveryWorker::AfterFailure(store::DeliveryRow d, int64_t alert_created_ms,
                                                int64_t now_ms, int http_status,
                                                std::string error) {
  d.last_http_status = http_status;
  d.last_error = Clip(std::move(error));
  std::optional<int64_t> next =
      NextAttemptMs(options_.retry, alert_created_ms, now_ms, d.attempts, Uniform());
  if (next) {
    d.next_attempt_ms = *next;
  } else {
    d.status = "failed";
    failed.fetch_add(1, std::memory_order_relaxed);
  }
  return d;
}

void DeliveryWorker::Attempt(const Task& task) {
  store::DeliveryRow d = task.delivery;
  const int64_t start_ms = NowMs();
  // The lease: no other instance picks the delivery up while this attempt runs.
  store::DeliveryRow lease = d;
  lease.next_attempt_ms =
      start_ms + options_.connect_timeout_ms + 2 * options_.timeout_ms + options_.poll_ms;
  if (!store_->RecordDeliveryAttempt(lease).ok()) return;  // the store is down: next poll
  attempts.fetch_add(1, std::memory_order_relaxed);
  ++d.attempts;
  d.last_attempt_ms = start_ms;
  StatusOr<store::AlertRow> alert = store_->GetAlert(d.alert_id);
  if (!alert.ok()) {
    const bool give_up = d.attempts >= kMaxAttemptsWithoutAlert;
    d = AfterFailure(std::move(d), give_up ? start_ms - options_.retry.retry_for_ms : start_ms,
                     start_ms, 0, "the alert is not stored: " + alert.status().message());
    (void)store_->RecordDeliveryAttempt(d);
    return;
  }
  StatusOr<WebhookUrl> url = ParseWebhookUrl(task.webhook.url);
  StatusOr<std::vector<std::string>> addresses =
      url.ok() ? ResolveWebhookHost(*url, options_.allow_private) : url.status();
  const std::string body = AlertBody(*alert, task.webhook.format);
  const int64_t timestamp_s = NowMs() / 1000;
  StatusOr<std::string> signature = SignWebhook(task.webhook.secret, alert->id, timestamp_s, body);
  if (!addresses.ok() || !signature.ok()) {
    const Status& why = !addresses.ok() ? addresses.status() : signature.status();
    d = AfterFailure(std::move(d), alert->created_ms, NowMs(), 0, why.message());
    (void)store_->RecordDeliveryAttempt(d);
    return;
  }
  httplib::Client client(url->Origin());
  SetTimeout(client, options_.connect_timeout_ms, options_.timeout_ms);
  client.set_follow_location(false);
  client.set_hostname_addr_map({{url->host, addresses->front()}});  // the address checked
  const httplib::Headers headers = {{"webhook-id", alert->id},
                                    {"webhook-timestamp", std::to_string(timestamp_s)},
                                    {"webhook-signature", *signature},
                                    {"User-Agent", kUserAgent}};
  httplib::Result res = client.Post(url->target, headers, body, "application/json");
  const int64_t end_ms = NowMs();
  if (res && res->status >= 200 && res->status < 300) {
    d.status = "delivered";
    d.delivered_ms = end_ms;
    d.last_http_status = res->status;
    d.last_error.clear();
    delivered.fetch_add(1, std::memory_order_relaxed);
  } else if (res) {
    d = AfterFailure(std::move(d), alert->created_ms, end_ms, res->status,
                     "HTTP " + std::to_string(res->status));
  } else {
    d = AfterFailure(std::move(d), alert->created_ms, end_ms, 0,
                     "no answer: " + httplib::to_string(res.error()));
  }
  (void)store_->RecordDeliveryAttempt(d);
}

}  // namespace causeway::notify
