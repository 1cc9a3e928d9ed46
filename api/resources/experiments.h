// HTTP codecs of experiment configurations and metric definitions. The product
// rules (validation, phases, the re-randomisation rule, snapshot publishing) are
// the application layer's (src/app/services.h); this class decodes requests,
// calls it, and encodes the answers. Thread-safe (the app services are).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/codec/alert_rule_codec.h"
#include "api/codec/config_codec.h"
#include "api/codec/feature_codec.h"
#include "api/handler.h"
#include "app/alert_rule_service.h"
#include "app/config_refresher.h"
#include "app/feature_service.h"
#include "app/services.h"
#include "assign/engine.h"
#include "store/store.h"

namespace causeway::api {

class ExperimentService {
 public:
  ExperimentService(store::Store* store, assign::SnapshotHolder* snapshots)
      : experiments_(store, snapshots, &codec_),
        metrics_(store, &codec_),
        refresher_(store, &metrics_, &experiments_),
        alert_rules_(store, &metrics_, &rule_codec_),
        features_(store, &experiments_, &feature_codec_) {
    experiments_.SetMetricCatalog(&metrics_);
    refresher_.SetFeatures(&features_);
  }

  // Loads every stored experiment and metric and publishes the first snapshot.
  bool Load(std::string* error);
  // Reloads both when another process changed the stored configuration
  // (app::ConfigRefresher::Poll): true when it reloaded. Not concurrently with Load.
  StatusOr<bool> Refresh() { return refresher_.Poll(); }

  HandlerResult Create(const Json& body);                       // POST /v1/experiments
  HandlerResult List();                                         // GET /v1/experiments
  HandlerResult Get(std::string_view key);                      // GET /v1/experiments/{key}
  HandlerResult Patch(std::string_view key, const Json& body);  // PATCH /v1/experiments/{key}

  // What the analysis endpoints need of an experiment, with the start of its
  // current phase; a 404 naming `key` if unknown.
  struct View {
    std::string key;
    int phase = 1;
    // Lower bound on exposure timestamps for analyses (app::Experiment::SinceMs).
    int64_t since_ms = 0;
    assign::ExperimentStatus status = assign::ExperimentStatus::kDraft;
    std::vector<assign::VariantSpec> variants;
  };
  std::variant<View, Status> Find(std::string_view key);

  // The typed services, for handlers that compose them (the report).
  const app::ExperimentService& experiments() const { return experiments_; }
  app::ExperimentService& experiments() { return experiments_; }  // monitors apply rollouts
  app::MetricService& metrics() { return metrics_; }
  app::AlertRuleService& alert_rules() { return alert_rules_; }  // issue 21
  app::FeatureService& features() { return features_; }          // issue 22
  const assign::SnapshotHolder& snapshots() const { return experiments_.snapshots(); }

 private:
  JsonConfigCodec codec_;
  app::ExperimentService experiments_;
  app::MetricService metrics_;
  app::ConfigRefresher refresher_;
  JsonAlertRuleCodec rule_codec_;
  app::AlertRuleService alert_rules_;
  JsonFeatureCodec feature_codec_;
  app::FeatureService features_;
};

}  // namespace causeway::api
