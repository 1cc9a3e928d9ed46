#include "api/resources/features.h"

#include "api/codec/feature_codec.h"
#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/http/auth.h"
#include "api/http/log.h"

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
  if (Status s = experiments.features().Delete(key); !s.ok()) return s;
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

std::shared_ptr<const PayloadCache::Entry> PayloadCache::Get(ExperimentService& experiments) {
  std::shared_ptr<const app::FeatureSet> set = experiments.features().Current();
  const uint64_t version = experiments.snapshots().Current().version();
  std::lock_guard lock(mu_);
  if (entry_ && entry_->features_generation == set->generation &&
      entry_->experiments_version == version) {
    return entry_;
  }
  auto entry = std::make_shared<Entry>();
  entry->features_generation = set->generation;
  entry->experiments_version = version;
  entry->body =
      RenderSdkPayload(app::BuildSdkPayload(*set, experiments.experiments().List())).dump();
  entry->etag = "\"" + Sha256Hex(entry->body).substr(0, 32) + "\"";
  entry_ = entry;
  return entry;
}

namespace {

// If-None-Match lists entity tags (weak ones with W/), or "*".
bool Matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match.find('*') != std::string_view::npos) return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

HandlerResult SdkPayloadRoute(ExperimentService& experiments, PayloadCache& cache,
                              std::string_view if_none_match) {
  std::shared_ptr<const PayloadCache::Entry> e = cache.Get(experiments);
  HandlerResult r = Matches(if_none_match, e->etag) ? HandlerResult(RawBody{"", ""}, 304)
                                                    : HandlerResult(RawBody{e->body});
  // Revalidated on every fetch (cheap: a 304), so a change is seen at the next one.
  r.Header("ETag", e->etag)
      .Header("Cache-Control", "public, max-age=0, must-revalidate")
      .Header("Access-Control-Allow-Origin", "*")
      .Header("Access-Control-Expose-Headers", "ETag");
  return r;
}

}  // namespace causeway::api
