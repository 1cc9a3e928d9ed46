// Features with values and the SDK payload (issue 22; docs/sdk.md):
//   POST/GET /v1/features, GET/PATCH/DELETE /v1/features/{key} (admin),
//   GET /v1/features/{key}/evaluate?user=&attributes= (sdk),
//   GET /api/features/{clientKey} (a client key in the path): GrowthBook's payload,
//   with an ETag (If-None-Match -> 304), Cache-Control and CORS for browser SDKs.
#pragma once

#include <chrono>
#include <map>
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
// changed (a generation of each); per payload key for encrypted payloads. Also the
// source of the server-sent-event streams (GET /sub/{clientKey}). Thread-safe.
class PayloadCache {
 public:
  struct Entry {
    uint64_t features_generation = 0;
    uint64_t experiments_version = 0;
    std::string body;
    std::string etag;  // a strong validator: "\"<32 hex digits of SHA-256 of the body>\""
    std::shared_ptr<const std::string> frame;  // the body as a server-sent event
  };
  // payload_key: "" for the plain payload, else the base64 AES-128 key of a client
  // key: the body then has encryptedFeatures instead of features.
  std::shared_ptr<const Entry> Get(ExperimentService& experiments, const std::string& payload_key);

 private:
  std::shared_ptr<const Entry> Plain(ExperimentService& experiments);

  std::mutex mu_;
  std::shared_ptr<const Entry> plain_;                             // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<const Entry>> encrypted_;  // GUARDED_BY(mu_)
};

HandlerResult SdkPayloadRoute(ExperimentService& experiments, PayloadCache& cache,
                              const std::string& payload_key, std::string_view if_none_match);
// GET /sub/{clientKey}: text/event-stream; `event: features` with the payload on
// connect and after every change (checked every kStreamTickMs), a comment every
// 15 s to keep proxies from closing it. Streams count against the server's
// connection limit (api/http/connections.h), which answers 503 beyond it.
// `auth`: when set, the stream ends once `client_key` is no longer active.
HandlerResult SdkStreamRoute(ExperimentService& experiments, PayloadCache& cache,
                             const std::string& payload_key, KeyAuthenticator* auth,
                             const std::string& client_key);

}  // namespace causeway::api
