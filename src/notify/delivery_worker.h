// The outbox's sender (docs/alerts.md, "Delivery"): threads that POST every pending
// delivery of the store to its webhook, signed (webhook_message.h), and record each
// attempt.
//
// - One poll thread reads the due deliveries every poll_ms (or at once after Wake())
//   and hands them to a pool of sender threads; it never does network I/O itself.
// - A webhook has at most per_webhook deliveries in flight, each bounded by the
//   connect and read/write timeouts, so a slow or hanging receiver holds at most
//   per_webhook of the sender threads for at most the timeouts, and never the
//   server's request threads: assignment, ingestion and other receivers go on.
// - Before an attempt the delivery is leased in the store (its next attempt moved
//   past the attempt's longest duration), so another instance on the same store
//   does not send it at the same time; after it, the outcome is recorded: 2xx is
//   "delivered"; anything else is retried (backoff.h) until retry_for_ms after the
//   alert, then "failed". A crash mid-attempt leaves the delivery pending: it is
//   sent after the restart, once its lease has passed. Receivers see each alert at
//   least once, with one webhook-id, so one that deduplicates sees it once.
// - The URL is checked again before every attempt (url_policy.h) and the
//   connection goes to the address checked; redirects are not followed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "notify/backoff.h"
#include "store/store.h"

namespace causeway::notify {

struct DeliveryOptions {
  int64_t poll_ms = 1000;
  RetryPolicy retry;
  int64_t connect_timeout_ms = 5'000;
  int64_t timeout_ms = 10'000;  // read and write, each
  int threads = 16;             // sender threads
  int per_webhook = 2;          // deliveries in flight per webhook
  int64_t batch = 200;          // due deliveries read per poll
  bool allow_private = false;   // url_policy.h
};

class DeliveryWorker {
 public:
  DeliveryWorker(store::Store* store, DeliveryOptions options);
  ~DeliveryWorker();  // Stop()
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void Start();
  // Stops polling, lets attempts in flight finish (bounded by the timeouts) and joins.
  void Stop();
  // Polls now rather than at the next interval (after an alert was written).
  void Wake();

  const DeliveryOptions& options() const { return options_; }
  // Attempts made, deliveries delivered and given up, since Start (for /metrics).
  std::atomic<uint64_t> attempts{0}, delivered{0}, failed{0};

 private:
  struct Task {
    store::DeliveryRow delivery;
    store::WebhookRow webhook;
  };

  void PollLoop();
  void Poll();
  void SendLoop();
  void Attempt(const Task& task);
  // The delivery after an attempt that failed with `error` (status 0: no answer).
  store::DeliveryRow AfterFailure(store::DeliveryRow d, int64_t alert_created_ms, int64_t now_ms,
                                  int http_status, std::string error);
  double Uniform();

  store::Store* store_;
  const DeliveryOptions options_;

  std::mutex mu_;
  std::condition_variable poll_cv_, task_cv_;
  bool stop_ = true;                     // GUARDED_BY(mu_)
  bool wake_ = false;                    // GUARDED_BY(mu_)
  std::deque<Task> tasks_;               // GUARDED_BY(mu_)
  std::set<std::string> in_flight_;      // alert_id + "\n" + webhook_id; GUARDED_BY(mu_)
  std::map<std::string, int> per_hook_;  // in flight per webhook; GUARDED_BY(mu_)
  std::mt19937_64 rng_;                  // GUARDED_BY(mu_)
  std::thread poller_;
  std::vector<std::thread> senders_;
};

}  // namespace causeway::notify
