#include "api/resources/features.h"

#include <atomic>

#include "api/codec/feature_codec.h"
#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/http/auth.h"
#include "api/http/log.h"
#include "crypto/crypto.h"

namespace causeway::api {

HandlerResult CreateFeature(ExperimentService& experiments, const Json& body) {
  app::FeatureConfig feature;
  if (Status s = DecodeFeature(body, &feature); !s.ok()) return s;
  auto created = experiments.features().Create(std::move(feature), NowMs());
  if (!created.ok()) return created.status();
  return HandlerResult(RenderFeature(*created), 201);
}

HandlerResult ListFeatures(ExperimentService& experiments) {
  Json list = Json::array();
  for (const auto& f : experiments.features().List()) list.push_back(RenderFeature(f));
  return Json{{"features", std::move(list)}};
}

HandlerResult GetFeature(ExperimentService& experiments, std::string_view key) {
  auto feature = experiments.features().Get(key);
  if (!feature.ok()) return feature.status();
  return RenderFeature(*feature);
}

HandlerResult PatchFeature(ExperimentService& experiments, std::string_view key, const Json& body) {
  app::FeaturePatch patch;
  if (Status s = DecodeFeaturePatch(body, &patch); !s.ok()) return s;
  auto feature = experiments.features().Patch(key, patch, NowMs());
  if (!feature.ok()) return feature.status();
  return RenderFeature(*feature);
}

HandlerResult DeleteFeature(ExperimentService& experiments, std::string_view key,
                            std::string_view body) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  if (Status s = experiments.features().Delete(key, NowMs()); !s.ok()) return s;
  return Json{{"key", std::string(key)}, {"deleted", true}};
}

HandlerResult EvaluateFeatureRoute(ExperimentService& experiments, std::string_view key,
                                   const QueryParams& query) {
  FieldReader q = FieldReader::Query(query);
  std::string user, attributes_text;
  q.Required("user", &user).Optional("attributes", &attributes_text);
  if (Status s = q.Finish(); !s.ok()) return s;
  if (user.empty() || user.size() > 256) {
    return InvalidArgument("user", "required: a non-empty user id of at most 256 bytes");
  }
  if (!IsValidUtf8(user)) return InvalidArgument("user", "must be valid UTF-8");
  assign::Value attributes{assign::Value::Object{}};
  if (!attributes_text.empty()) {
    Json a = Json::parse(attributes_text, nullptr, false);
    if (a.is_discarded() || !a.is_object()) {
      return InvalidArgument("attributes", "must be a JSON object (URL-encoded)");
    }
    attributes = ToValue(a);
  }
  if (!attributes.Find("id")) attributes.as_object().emplace_back("id", assign::Value(user));
  std::shared_ptr<const app::FeatureSet> set = experiments.features().Current();
  const app::CompiledFeature* f = set->Find(key);
  if (f == nullptr) return Status::NotFound("no feature with key " + std::string(key), "key");
  app::FeatureResult r =
      app::EvaluateFeature(f, user, &attributes, experiments.snapshots().Current());
  Json out = RenderFeatureResult(key, r);
  out["user"] = user;
  return out;
}

namespace {

// What a stream sends for a payload: one server-sent event.
std::shared_ptr<const std::string> EventFrame(const std::string& body) {
  return std::make_shared<const std::string>("event: features\ndata: " + body + "\n\n");
}

}  // namespace

std::shared_ptr<const PayloadCache::Entry> PayloadCache::Plain(ExperimentService& experiments) {
  std::shared_ptr<const app::FeatureSet> set = experiments.features().Current();
  const uint64_t version = experiments.snapshots().Current().version();
  {
    std::lock_guard lock(mu_);
    if (plain_ && plain_->features_generation == set->generation &&
        plain_->experiments_version == version) {
      return plain_;
    }
  }
  auto entry = std::make_shared<Entry>();
  entry->features_generation = set->generation;
  entry->experiments_version = version;
  entry->body =
      RenderSdkPayload(app::BuildSdkPayload(*set, experiments.experiments().List())).dump();
  entry->etag = "\"" + Sha256Hex(entry->body).substr(0, 32) + "\"";
  entry->frame = EventFrame(entry->body);
  std::lock_guard lock(mu_);
  // A concurrent build of a newer configuration wins; an older one never replaces it.
  if (!plain_ || plain_->features_generation < entry->features_generation ||
      plain_->experiments_version < entry->experiments_version) {
    plain_ = entry;
  }
  return entry;
}

namespace {

// GrowthBook's encryptedFeatures: base64(iv) "." base64(AES-128-CBC(features JSON)).
// The IV is the first 16 bytes of HMAC-SHA256(key, plaintext) (a synthetic IV):
// the same payload encrypts to the same text on every instance, so ETags agree,
// and only equal payloads share an IV.
std::optional<std::string> EncryptFeatures(const std::string& key_base64,
                                           const std::string& plaintext) {
  std::optional<std::string> key = crypto::Base64Decode(key_base64);
  if (!key || key->size() != 16) return std::nullopt;
  const std::string iv = crypto::HmacSha256(*key, plaintext).substr(0, 16);
  std::optional<std::string> ct = crypto::Aes128CbcEncrypt(*key, iv, plaintext);
  if (!ct) return std::nullopt;
  return crypto::Base64Encode(iv) + "." + crypto::Base64Encode(*ct);
}

}  // namespace

std::shared_ptr<const PayloadCache::Entry> PayloadCache::Get(ExperimentService& experiments,
                                                             const std::string& payload_key) {
  std::shared_ptr<const Entry> plain = Plain(experiments);
  if (payload_key.empty()) return plain;
  {
    std::lock_guard lock(mu_);
    auto it = encrypted_.find(payload_key);
    if (it != encrypted_.end() && it->second->features_generation == plain->features_generation &&
        it->second->experiments_version == plain->experiments_version) {
      return it->second;
    }
  }
  Json doc = Json::parse(plain->body);
  auto entry = std::make_shared<Entry>();
  entry->features_generation = plain->features_generation;
  entry->experiments_version = plain->experiments_version;
  std::optional<std::string> encrypted = EncryptFeatures(payload_key, doc["features"].dump());
  Json out = {{"status", 200},
              {"features", Json::object()},
              {"encryptedFeatures", encrypted ? Json(*encrypted) : Json(nullptr)},
              {"dateUpdated", doc["dateUpdated"]}};
  entry->body = out.dump();
  entry->etag = "\"" + Sha256Hex(entry->body).substr(0, 32) + "\"";
  entry->frame = EventFrame(entry->body);
  std::lock_guard lock(mu_);
  encrypted_[payload_key] = entry;
  return entry;
}

namespace {

// If-None-Match lists entity tags (weak ones with W/), or "*".
bool Matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match.find('*') != std::string_view::npos) return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

HandlerResult& PayloadHeaders(HandlerResult& r) {
  return r.Header("Access-Control-Allow-Origin", "*")
      .Header("Access-Control-Expose-Headers", "ETag, x-sse-support")
      // GrowthBook's SDKs open the stream (GET /sub/{clientKey}) only when told.
      .Header("x-sse-support", "enabled");
}

// One subscriber: sends the payload when its ETag changes.
class PayloadStream final : public ChunkSource {
 public:
  PayloadStream(ExperimentService& experiments, PayloadCache& cache, std::string payload_key,
                KeyAuthenticator* auth, std::string client_key)
      : experiments_(experiments),
        cache_(cache),
        payload_key_(std::move(payload_key)),
        auth_(auth),
        client_key_(std::move(client_key)) {}

  bool Poll(std::shared_ptr<const std::string>* out) override {
    static const auto kKeepAlive = std::make_shared<const std::string>(": keep-alive\n\n");
    const auto now = std::chrono::steady_clock::now();
    // A key revoked (or expired) while its stream is open ends the stream, checked
    // once a second (thousands of streams are polled every kStreamTickMs).
    if (auth_ && now >= next_check_) {
      if (!auth_->Verify(client_key_)) return false;
      next_check_ = now + std::chrono::seconds(1);
    }
    // Unchanged features and experiments: nothing to build or compare.
    const uint64_t features = experiments_.features().generation();
    const uint64_t version = experiments_.snapshots().Current().version();
    if (features != seen_features_ || version != seen_version_ || sent_etag_.empty()) {
      seen_features_ = features;
      seen_version_ = version;
      std::shared_ptr<const PayloadCache::Entry> e = cache_.Get(experiments_, payload_key_);
      if (e->etag != sent_etag_) {
        sent_etag_ = e->etag;
        last_write_ = now;
        *out = e->frame;
        return true;
      }
    }
    if (now - last_write_ >= std::chrono::seconds(15)) {
      last_write_ = now;
      *out = kKeepAlive;
    }
    return true;
  }

 private:
  ExperimentService& experiments_;
  PayloadCache& cache_;
  const std::string payload_key_;
  KeyAuthenticator* const auth_;
  const std::string client_key_;
  std::string sent_etag_;
  std::chrono::steady_clock::time_point last_write_;
  // Streams opened together check their keys at different ticks.
  std::chrono::steady_clock::time_point next_check_ =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(Stagger());
  uint64_t seen_features_ = 0;
  uint64_t seen_version_ = 0;

  static int Stagger() {
    static std::atomic<int> n{0};
    return (n.fetch_add(1, std::memory_order_relaxed) * 37) % 1000;
  }
};

}  // namespace

HandlerResult SdkPayloadRoute(ExperimentService& experiments, PayloadCache& cache,
                              const std::string& payload_key, std::string_view if_none_match) {
  std::shared_ptr<const PayloadCache::Entry> e = cache.Get(experiments, payload_key);
  HandlerResult r = Matches(if_none_match, e->etag) ? HandlerResult(RawBody{"", ""}, 304)
                                                    : HandlerResult(RawBody{e->body});
  // Revalidated on every fetch (cheap: a 304), so a change is seen at the next one.
  r.Header("ETag", e->etag).Header("Cache-Control", "public, max-age=0, must-revalidate");
  PayloadHeaders(r);
  return r;
}

HandlerResult SdkStreamRoute(ExperimentService& experiments, PayloadCache& cache,
                             const std::string& payload_key, KeyAuthenticator* auth,
                             const std::string& client_key) {
  HandlerResult r(
      StreamBody{std::make_shared<PayloadStream>(experiments, cache, payload_key, auth, client_key),
                 "text/event-stream"});
  r.Header("Cache-Control", "no-cache").Header("X-Accel-Buffering", "no");
  PayloadHeaders(r);
  return r;
}

}  // namespace causeway::api
