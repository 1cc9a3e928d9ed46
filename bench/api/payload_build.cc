// bench_payload_build [FEATURES] [EXPERIMENTS]: the time to build the SDK payload
// (app::BuildSdkPayload, then api::RenderSdkPayload and its JSON text) for FEATURES
// features (default 1000) over EXPERIMENTS running experiments (default 50), and to
// encrypt it for an encrypting client key. The reference, timed in the same run, is
// nlohmann::json writing the same document (the floor for any payload of that
// text). The payload is built once per configuration change and then cached.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/codec/feature_codec.h"
#include "api/codec/json_util.h"
#include "app/feature_service.h"
#include "crypto/crypto.h"

using namespace causeway;
using Clock = std::chrono::steady_clock;

namespace {

template <typename F>
double BestSeconds(int reps, F f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int n_features = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int n_experiments = argc > 2 ? std::atoi(argv[2]) : 50;
  std::vector<app::Experiment> experiments(n_experiments);
  for (int e = 0; e < n_experiments; ++e) {
    app::Experiment& x = experiments[e];
    x.key = "experiment-" + std::to_string(e);
    x.variants = {{"control", 0.5, {}, {}}, {"treatment", 0.5, {}, {}}};
    x.status = assign::ExperimentStatus::kRunning;
    if (e % 5 == 0) x.overrides = {{"qa-1", "treatment"}, {"qa-2", "control"}};
    if (e % 3 == 0) x.condition = api::ToValue(api::Json{{"country", {{"$in", {"FR", "DE"}}}}});
  }
  app::FeatureSet set;
  for (int f = 0; f < n_features; ++f) {
    app::Feature feature;
    feature.key = "feature-" + std::to_string(f);
    feature.value_type = app::FeatureValueType::kString;
    feature.default_value = api::ToValue("off");
    app::ForceRule force;
    force.value = api::ToValue("on");
    force.condition = api::ToValue(api::Json{{"plan", "pro"}});
    feature.rules.push_back(force);
    app::RolloutRule rollout;
    rollout.value = api::ToValue("rolling");
    rollout.coverage = 0.2;
    feature.rules.push_back(rollout);
    app::ExperimentRule rule{experiments[f % n_experiments].key,
                             {api::ToValue("a"), api::ToValue("b")}};
    feature.rules.push_back(rule);
    set.features.emplace(feature.key, app::CompileFeature(feature));
    set.configs.emplace(feature.key, app::FeatureConfig{feature, "", 0, 0});
  }

  std::string text;
  const double build = BestSeconds(
      5, [&] { text = api::RenderSdkPayload(app::BuildSdkPayload(set, experiments)).dump(); });
  const api::Json doc = api::Json::parse(text);
  std::string again;
  const double reference = BestSeconds(5, [&] { again = doc.dump(); });
  const std::string key(16, 'k');
  std::string sealed;
  const double encrypt = BestSeconds(5, [&] {
    const std::string iv = crypto::HmacSha256(key, text).substr(0, 16);
    sealed = crypto::Base64Encode(iv) + "." +
             crypto::Base64Encode(*crypto::Aes128CbcEncrypt(key, iv, text));
  });
  std::printf("payload of %d features over %d experiments: %zu bytes\n", n_features, n_experiments,
              text.size());
  std::printf("build + render + text   %8.2f ms\n", build * 1e3);
  std::printf("reference: nlohmann dump of the same document %8.2f ms   ratio %.2f\n",
              reference * 1e3, build / reference);
  std::printf("encrypt (HMAC IV + AES-128-CBC + base64) %8.2f ms\n", encrypt * 1e3);
  return again.size() == text.size() && !sealed.empty() ? 0 : 1;
}
