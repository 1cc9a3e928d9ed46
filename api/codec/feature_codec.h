// JSON codecs of features (issue 22): requests and stored text to the application
// layer's structs (src/app/feature_service.h) and back, and the SDK payload in
// GrowthBook's format. Decoding reads every field through FieldReader, so unknown
// fields are refused; the product rules (types, experiments) are the app layer's.
#pragma once

#include <string>
#include <string_view>

#include "api/handler.h"
#include "app/feature_service.h"

namespace causeway::api {

// POST /v1/features (and stored features).
Status DecodeFeature(const Json& body, app::FeatureConfig* out);
// PATCH /v1/features/{key}: value_type, default_value, rules, description.
Status DecodeFeaturePatch(const Json& body, app::FeaturePatch* out);
// The feature with created_at and updated_at when `with_times`.
Json RenderFeature(const app::FeatureConfig& feature, bool with_times = true);
// GET /v1/features/{key}/evaluate's answer.
Json RenderFeatureResult(std::string_view key, const app::FeatureResult& result);
// GrowthBook's payload: {"status": 200, "features": {...}, "dateUpdated": "..."}.
Json RenderSdkPayload(const app::SdkPayload& payload);

class JsonFeatureCodec : public app::FeatureCodec {
 public:
  std::string EncodeFeature(const app::FeatureConfig& feature) const override;
  StatusOr<app::FeatureConfig> DecodeFeature(std::string_view text) const override;
};

}  // namespace causeway::api
