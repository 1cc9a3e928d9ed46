#include "store/event_writer.h"

namespace causeway::store {

EventWriter::EventWriter(Store* store, Options options)
    : store_(store), options_(options), thread_([this] { Run(); }) {}

EventWriter::~EventWriter() { Stop(); }

void EventWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t EventWriter::groups_committed() const {
  std::lock_guard lock(mu_);
  return groups_;
}

size_t EventWriter::queued_events() const {
  std::lock_guard lock(mu_);
  return queued_events_;
}

WriteResult EventWriter::Write(const std::vector<Event>& batch) {
  if (batch.empty()) return WriteResult{};
  Pending pending{&batch, {}, false};
  std::unique_lock lock(mu_);
  if (stopping_) return WriteResult{Status::Unavailable("server is shutting down"), 0, 0};
  if (queued_events_ > 0 && queued_events_ + batch.size() > options_.max_queued_events) {
    return WriteResult{Status::Unavailable("event queue is full"), 0, 0};
  }
  queue_.push_back(&pending);
  queued_events_ += batch.size();
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return pending.done; });
  return pending.result;
}

void EventWriter::Run() {
  std::vector<Pending*> group;
  std::vector<const std::vector<Event>*> batches;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t events = 0;
      group.clear();
      while (!queue_.empty() && (group.empty() || events + queue_.front()->events->size() <=
                                                      options_.max_group_events)) {
        events += queue_.front()->events->size();
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    batches.clear();
    for (Pending* p : group) batches.push_back(p->events);
    std::vector<WriteResult> results = store_->WriteEventBatches(batches);
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < group.size(); ++i) {
        group[i]->result = std::move(results[i]);
        group[i]->done = true;
        queued_events_ -= group[i]->events->size();
      }
      ++groups_;
    }
    done_cv_.notify_all();
  }
}

}  // namespace causeway::store
