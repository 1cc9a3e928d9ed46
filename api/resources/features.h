// Features with values and the SDK payload (issue 22; docs/sdk.md):
//   POST/GET /v1/features, GET/PATCH/DELETE /v1/features/{key} (admin),
//   GET /v1/features/{key}/evaluate?user=&attributes= (sdk),
//   GET /api/features/{clientKey} (a client key in the path): GrowthBook's payload,
//   with an ETag (If-None-Match -> 304), Cache-Control and CORS for browser SDKs.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"

namespace causeway::api {

HandlerResult CreateFeature(ExperimentService& experiments, const Json& body);  // 201
HandlerResult ListFeatures(ExperimentService& experiments);
HandlerResult GetFeature(ExperimentService& experiments, std::string_view key);
HandlerResult PatchFeature(ExperimentService& experiments, std::string_view key, const Json& body);
// The body may be empty or {}; any member is refused.
HandlerResult DeleteFeature(ExperimentService& experiments, std::string_view key,
                            std::string_view body);
HandlerResult EvaluateFeatureRoute(ExperimentService& experiments, std::string_view key,
                                   const QueryParams& query);

// The payload's body and ETag, rebuilt only when the features or the experiments
// changed (a generation of each). Thread-safe.
class PayloadCache {
 public:
  struct Entry {
    uint64_t features_generation = 0;
    uint64_t experiments_version = 0;
    std::string body;
    std::string etag;  // a strong validator: "\"<16 hex digits of SHA-256 of the body>\""
  };
  std::shared_ptr<const Entry> Get(ExperimentService& experiments);

 private:
  std::mutex mu_;
  std::shared_ptr<const Entry> entry_;  // GUARDED_BY(mu_)
};

HandlerResult SdkPayloadRoute(ExperimentService& experiments, PayloadCache& cache,
                              std::string_view if_none_match);

}  // namespace causeway::api
