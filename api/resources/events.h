// POST /v1/events: validation of whole batches, then a durable group commit.
// Also the log_exposure path of assignment and the exposure summary.
#pragma once

#include <atomic>
#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"
#include "io/event_reader.h"
#include "store/event_writer.h"

namespace causeway::api {

// Limits of one batch (io/event_reader.h).
using EventLimits = io::EventLimits;

class EventService {
 public:
  EventService(store::Store* store, store::EventWriter* writer, ExperimentService* experiments,
               EventLimits limits = {})
      : store_(store), writer_(writer), experiments_(experiments), limits_(limits) {}

  // POST /v1/events. Nothing of a batch is stored unless all of it is valid.
  // `exposures_only`: the caller holds a client key (a browser), which may send
  // exposures and nothing else; a batch with a conversion is refused whole (403
  // naming events[i].type).
  HandlerResult Ingest(std::string_view body, bool exposures_only = false);

  // Exposure of `user` to the current phase of `experiment`, with an id derived
  // from (experiment, phase, user) so repeated assignments dedupe. Blocks until
  // durable. Returns false when the writer refused (queue full / shutting down).
  bool LogExposure(std::string_view experiment, int phase, std::string_view user,
                   std::string_view variant);

  // GET /v1/experiments/{key}/exposures
  HandlerResult Exposures(std::string_view key);

  std::atomic<uint64_t>* accepted_counter = nullptr;  // optional Prometheus counters
  std::atomic<uint64_t>* duplicate_counter = nullptr;
  std::atomic<uint64_t>* rejected_counter = nullptr;

 private:
  store::Store* store_;
  store::EventWriter* writer_;
  ExperimentService* experiments_;
  EventLimits limits_;
};

// The id used for exposures logged by the assignment endpoints.
std::string DerivedExposureId(std::string_view experiment, int phase, std::string_view user);

}  // namespace causeway::api
