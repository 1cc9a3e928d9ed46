// The sender against HTTP servers on loopback: retries until a 2xx, gives up after
// the retry window, never lets a hanging receiver hold up another, and checks the
// URL policy again at delivery time.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "app/alerts.h"
#include "notify/delivery_worker.h"
#include "notify/webhook_message.h"
#include "store/sqlite_store.h"

using namespace causeway;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// A receiver on 127.0.0.1 whose answer the test sets: a status, or a delay first.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.get_header_value("webhook-id");
      const int64_t ts = std::stoll(req.get_header_value("webhook-timestamp"));
      const bool signed_ok = req.get_header_value("webhook-signature") ==
                             *notify::SignWebhook(kSecret, id, ts, req.body);
      {
        std::lock_guard lock(mu);
        requests.push_back(id);
        if (!signed_ok) ++bad_signatures;
      }
      const auto delay = std::chrono::milliseconds(delay_ms.load());
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      std::lock_guard lock(mu);
      res.status = fail_first > 0 ? 503 : 204;
      if (fail_first > 0) --fail_first;
    });
    port = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hook"; }
  size_t count() {
    std::lock_guard lock(mu);
    return requests.size();
  }

  int port = 0;
  std::atomic<int> delay_ms{0};
  std::mutex mu;
  std::vector<std::string> requests;  // GUARDED_BY(mu)
  int fail_first = 0;                 // GUARDED_BY(mu)
  int bad_signatures = 0;             // GUARDED_BY(mu)

 private:
  httplib::Server server_;
  std::thread thread_;
};

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  Fixture() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("causeway-delivery-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(dir);
    std::string error;
    store = store::OpenSqliteStore((dir / "d.db").string(), &error);
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void Hook(const std::string& id, const std::string& url) {
    REQUIRE(store->CreateWebhook({id, url, {}, "standard", kSecret, "", 1}).ok());
  }
  store::DeliveryRow Delivery(const std::string& alert, const std::string& hook) {
    StatusOr<std::vector<store::DeliveryRow>> rows = store->ListDeliveries(alert);
    if (!rows.ok()) return {};
    for (const store::DeliveryRow& d : *rows) {
      if (d.webhook_id == hook) return d;
    }
    return {};
  }
  template <typename F>
  bool WaitFor(F&& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return done();
  }
};

notify::DeliveryOptions Fast() {
  notify::DeliveryOptions o;
  o.poll_ms = 20;
  o.retry.base_ms = 20;
  o.retry.cap_ms = 80;
  o.connect_timeout_ms = 500;
  o.timeout_ms = 500;
  o.threads = 4;
  o.per_webhook = 1;
  o.allow_private = true;
  return o;
}

}  // namespace

TEST_CASE("delivery: retried with back-off until the receiver answers 2xx, every attempt signed") {
  Fixture f;
  Receiver r;
  {
    std::lock_guard lock(r.mu);
    r.fail_first = 2;
  }
  f.Hook("wh_1", r.url());
  notify::DeliveryWorker worker(f.store.get(), Fast());
  app::AlertService alerts(f.store.get(), {{}, [&] { worker.Wake(); }});
  worker.Start();
  auto test = alerts.SendTest("wh_1");
  REQUIRE(test.ok());
  CHECK(f.WaitFor([&] { return f.Delivery(test->id, "wh_1").status == "delivered"; }, 5s));
  worker.Stop();
  const store::DeliveryRow d = f.Delivery(test->id, "wh_1");
  CHECK(d.attempts == 3);
  CHECK(d.last_http_status == 204);
  CHECK(d.last_error.empty());
  CHECK(d.delivered_ms > 0);
  std::lock_guard lock(r.mu);
  CHECK(r.requests == std::vector<std::string>(3, test->id));
  CHECK(r.bad_signatures == 0);
  CHECK(worker.delivered == 1);
}

TEST_CASE("delivery: given up as failed once the retry window after the alert has passed") {
  Fixture f;
  Receiver r;
  {
    std::lock_guard lock(r.mu);
    r.fail_first = 1'000'000;
  }
  f.Hook("wh_1", r.url());
  notify::DeliveryOptions o = Fast();
  o.retry.retry_for_ms = 300;
  notify::DeliveryWorker worker(f.store.get(), o);
  app::AlertService alerts(f.store.get(), {{}, [&] { worker.Wake(); }});
  worker.Start();
  auto test = alerts.SendTest("wh_1");
  CHECK(f.WaitFor([&] { return f.Delivery(test->id, "wh_1").status == "failed"; }, 5s));
  worker.Stop();
  const store::DeliveryRow d = f.Delivery(test->id, "wh_1");
  CHECK(d.attempts >= 3);
  CHECK(d.last_http_status == 503);
  CHECK(d.last_error == "HTTP 503");
  CHECK(d.last_attempt_ms - test->created_ms >= 300);
  CHECK(worker.failed == 1);
}

TEST_CASE("delivery: a hanging receiver does not hold up another webhook") {
  Fixture f;
  Receiver slow, quick;
  slow.delay_ms = 3000;
  f.Hook("wh_slow", slow.url());
  f.Hook("wh_quick", quick.url());
  notify::DeliveryOptions o = Fast();
  o.timeout_ms = 3000;
  o.threads = 3;
  notify::DeliveryWorker worker(f.store.get(), o);
  app::AlertService alerts(f.store.get(), {{}, [&] { worker.Wake(); }});
  worker.Start();
  for (int i = 0; i < 5; ++i) REQUIRE(alerts.SendTest("wh_slow").ok());
  REQUIRE(f.WaitFor([&] { return slow.count() >= 1; }, 2s));
  const auto start = std::chrono::steady_clock::now();
  auto test = alerts.SendTest("wh_quick");
  CHECK(f.WaitFor([&] { return f.Delivery(test->id, "wh_quick").status == "delivered"; }, 2s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 500ms);
  // The slow webhook has one delivery in flight (per_webhook = 1), not five.
  CHECK(slow.count() == 1);
  slow.delay_ms = 0;
  worker.Stop();
}

TEST_CASE("delivery: the URL policy is checked again before each attempt") {
  Fixture f;
  Receiver r;
  f.Hook("wh_1", r.url());  // stored as if created with --allow-private-webhooks
  notify::DeliveryOptions o = Fast();
  o.allow_private = false;  // ... and the server restarted without it
  notify::DeliveryWorker worker(f.store.get(), o);
  app::AlertService alerts(f.store.get(), {{}, [&] { worker.Wake(); }});
  worker.Start();
  auto test = alerts.SendTest("wh_1");
  CHECK(f.WaitFor([&] { return f.Delivery(test->id, "wh_1").attempts >= 1; }, 2s));
  worker.Stop();
  const store::DeliveryRow d = f.Delivery(test->id, "wh_1");
  CHECK(d.status == "pending");
  CHECK(d.last_error.find("loopback") != std::string::npos);
  CHECK(r.count() == 0);
}
