// The route table (api/routes.h). Each row's handler is the resource's function or a
// one-line adapter to it; what a route reads and who may call it is in the row.
#include "api/routes.h"

#include <array>

#include "api/http/log.h"
#include "api/http/prometheus.h"
#include "api/resources/alert_rules.h"
#include "api/resources/alerts.h"
#include "api/resources/analyses_ab.h"
#include "api/resources/analyses_attribution.h"
#include "api/resources/analyses_did.h"
#include "api/resources/analyses_geo.h"
#include "api/resources/assign.h"
#include "api/resources/events.h"
#include "api/resources/experiments.h"
#include "api/resources/features.h"
#include "api/resources/keys.h"
#include "api/resources/lift.h"
#include "api/resources/metric_series.h"
#include "api/resources/metrics.h"
#include "api/resources/monitors.h"
#include "api/resources/pages.h"
#include "api/resources/report.h"
#include "api/resources/webhooks.h"

namespace causeway::api {
namespace {

// Operations. /healthz also says whether API keys are checked, so the page opens
// without asking for a key on a server started with --insecure-no-auth.
HandlerResult Healthz(Services& s, const Call&) {
  return RawBody{s.auth_required ? R"({"status":"ok","auth_required":true})"
                                 : R"({"status":"ok","auth_required":false})"};
}
// GET /metrics is both Prometheus's scrape path and the metrics dashboard
// (issue 21): a request that accepts text/html (a browser; Prometheus asks for
// text/plain or OpenMetrics) gets the page, anything else the exposition text.
HandlerResult Prometheus(Services& s, const Call& c) {
  if (c.accept.find("text/html") != std::string::npos) return GetPage(s, c);
  return RawBody{s.metrics->RenderPrometheus(), "text/plain; version=0.0.4"};
}

// Events (api/resources/events.h) and metric definitions (api/resources/metrics.h).
HandlerResult PostEvents(Services& s, const Call& c) {
  return s.events->Ingest(c.body, c.scope == store::KeyScope::kClient);
}
HandlerResult PostMetric(Services& s, const Call& c) {
  return CreateMetric(*s.experiments, *c.json);
}
HandlerResult GetMetrics(Services& s, const Call&) { return ListMetrics(*s.experiments); }
HandlerResult GetOneMetric(Services& s, const Call& c) {
  return GetMetric(*s.experiments, c.path[0]);
}
HandlerResult GetExposures(Services& s, const Call& c) { return s.events->Exposures(c.path[0]); }
HandlerResult GetSeries(Services& s, const Call& c) {
  return MetricSeries(*s.store, *s.experiments, c.path[0], c.query);
}

// Alert rules on metrics (api/resources/alert_rules.h; issue 21).
HandlerResult PostAlertRule(Services& s, const Call& c) {
  return CreateAlertRule(*s.experiments, *c.json);
}
HandlerResult GetAlertRules(Services& s, const Call&) { return ListAlertRules(*s.experiments); }
HandlerResult GetOneAlertRule(Services& s, const Call& c) {
  return GetAlertRule(*s.experiments, c.path[0]);
}
HandlerResult PatchOneAlertRule(Services& s, const Call& c) {
  return PatchAlertRule(*s.experiments, c.path[0], *c.json);
}
HandlerResult DeleteOneAlertRule(Services& s, const Call& c) {
  return DeleteAlertRule(*s.experiments, c.path[0], c.body);
}

// Features and the SDK payload (api/resources/features.h; issue 22, docs/sdk.md).
HandlerResult PostFeature(Services& s, const Call& c) {
  return CreateFeature(*s.experiments, *c.json);
}
HandlerResult GetFeatures(Services& s, const Call&) { return ListFeatures(*s.experiments); }
HandlerResult GetOneFeature(Services& s, const Call& c) {
  return GetFeature(*s.experiments, c.path[0]);
}
HandlerResult PatchOneFeature(Services& s, const Call& c) {
  return PatchFeature(*s.experiments, c.path[0], *c.json);
}
HandlerResult DeleteOneFeature(Services& s, const Call& c) {
  return DeleteFeature(*s.experiments, c.path[0], c.body);
}
HandlerResult GetFeatureValue(Services& s, const Call& c) {
  return EvaluateFeatureRoute(*s.experiments, c.path[0], c.query);
}
HandlerResult GetSdkPayload(Services& s, const Call& c) {
  return SdkPayloadRoute(*s.experiments, *s.payloads, c.payload_key, c.if_none_match);
}
HandlerResult GetSdkStream(Services& s, const Call& c) {
  // A key checked at the start is checked as the stream runs (not with
  // --insecure-no-auth and a key that was never one).
  KeyAuthenticator* auth = c.scope == store::KeyScope::kClient ? s.auth : nullptr;
  return SdkStreamRoute(*s.experiments, *s.payloads, c.payload_key, auth, c.path[0]);
}

// Experiments (api/resources/experiments.h).
HandlerResult PostExperiment(Services& s, const Call& c) { return s.experiments->Create(*c.json); }
HandlerResult ListExperiments(Services& s, const Call&) { return s.experiments->List(); }
HandlerResult GetExperiment(Services& s, const Call& c) { return s.experiments->Get(c.path[0]); }
HandlerResult PatchExperiment(Services& s, const Call& c) {
  return s.experiments->Patch(c.path[0], *c.json);
}

// Reports on stored events (api/resources/report.h, api/resources/lift.h).
HandlerResult GetReport(Services& s, const Call& c) {
  return ExperimentReport(*s.store, *s.experiments, c.path[0], c.query);
}
HandlerResult GetLift(Services& s, const Call& c) {
  return ExperimentLift(*s.store, *s.experiments, c.path[0], c.query);
}

// Analyses on posted data (api/resources/analyses_ab.h, causal_handlers.h, geo_handlers.h,
// attribution_handler.h).
HandlerResult PostAb(Services&, const Call& c) { return HandleAnalysesAb(*c.json); }
HandlerResult PostSampleSize(Services&, const Call& c) { return HandleDesignSampleSize(*c.json); }
HandlerResult PostSequential(Services&, const Call& c) { return HandleDesignSequential(*c.json); }
HandlerResult PostDid(Services&, const Call& c) {
  return HandleDid(c.content_type, c.body, c.query);
}
HandlerResult PostSyntheticControl(Services&, const Call& c) {
  return HandleSyntheticControl(c.content_type, c.body, c.query);
}
HandlerResult PostGeoDesign(Services&, const Call& c) {
  return HandleGeoDesign(c.content_type, c.body, c.query);
}
HandlerResult PostLift(Services&, const Call& c) { return HandleLiftAggregate(*c.json); }
HandlerResult PostAttribution(Services&, const Call& c) {
  return HandleAttribution(c.content_type, c.body, c.query);
}

// API keys (api/resources/keys.h). Revocation is POST .../revoke, not DELETE: the key is kept
// and listed as revoked (an audit trail), and the call answers the key, as Stripe's
// state changes do (POST /v1/payment_intents/{id}/cancel).
HandlerResult ListKeys(Services& s, const Call&) { return s.keys->List(); }
HandlerResult PostKey(Services& s, const Call& c) { return s.keys->Create(*c.json); }
HandlerResult RevokeKey(Services& s, const Call& c) { return s.keys->Revoke(c.path[0], c.body); }

// Webhooks and the alert history (api/resources/webhooks.h, alerts.h; docs/alerts.md).
HandlerResult PostWebhook(Services& s, const Call& c) {
  return CreateWebhook(*s.store, s.allow_private_webhooks, *c.json);
}
HandlerResult GetWebhooks(Services& s, const Call&) { return ListWebhooks(*s.store); }
HandlerResult RemoveWebhook(Services& s, const Call& c) {
  return DeleteWebhook(*s.store, c.path[0], c.body);
}
HandlerResult PostWebhookTest(Services& s, const Call& c) {
  return TestWebhook(*s.store, *s.alerts, c.path[0], c.body);
}
HandlerResult GetAlerts(Services& s, const Call& c) { return ListAlerts(*s.store, c.query); }

// Monitor evaluation and experiment health (api/resources/monitors.h; docs/alerts.md).
HandlerResult PostEvaluate(Services& s, const Call& c) {
  return EvaluateMonitors(*s.monitors, c.query, c.body, NowMs());
}
HandlerResult GetHealth(Services& s, const Call& c) {
  return ExperimentHealth(*s.store, s.experiments->experiments(), c.path[0], NowMs());
}

using enum Access;
using enum Body;
constexpr Query kNoQuery = Query::kNone;
constexpr Query kQuery = Query::kRead;

constexpr std::array kRoutes = {
    RouteSpec{"GET", "/healthz", kPublic, kNoQuery, kNone, Healthz},
    RouteSpec{"GET", "/metrics", kPublic, kNoQuery, kNone, Prometheus},
    RouteSpec{"GET", "/v1/assign", kSdk, kQuery, kNone, GetAssign},
    RouteSpec{"POST", "/v1/assign", kSdk, kNoQuery, kJsonObject, PostAssign},
    RouteSpec{"POST", "/v1/events", kSdk, kNoQuery, kBytes, PostEvents},
    RouteSpec{"POST", "/v1/experiments", kAdmin, kNoQuery, kJsonObject, PostExperiment},
    RouteSpec{"GET", "/v1/experiments", kAdmin, kNoQuery, kNone, ListExperiments},
    RouteSpec{"GET", "/v1/experiments/{key}", kAdmin, kNoQuery, kNone, GetExperiment},
    RouteSpec{"PATCH", "/v1/experiments/{key}", kAdmin, kNoQuery, kJsonObject, PatchExperiment},
    RouteSpec{"GET", "/v1/experiments/{key}/exposures", kAdmin, kNoQuery, kNone, GetExposures},
    RouteSpec{"POST", "/v1/metrics", kAdmin, kNoQuery, kJsonObject, PostMetric},
    RouteSpec{"GET", "/v1/metrics", kAdmin, kNoQuery, kNone, GetMetrics},
    RouteSpec{"GET", "/v1/metrics/{key}", kAdmin, kNoQuery, kNone, GetOneMetric},
    RouteSpec{"GET", "/v1/metrics/{key}/series", kAdmin, kQuery, kNone, GetSeries},
    RouteSpec{"POST", "/v1/alerts/rules", kAdmin, kNoQuery, kJsonObject, PostAlertRule},
    RouteSpec{"GET", "/v1/alerts/rules", kAdmin, kNoQuery, kNone, GetAlertRules},
    RouteSpec{"GET", "/v1/alerts/rules/{key}", kAdmin, kNoQuery, kNone, GetOneAlertRule},
    RouteSpec{"PATCH", "/v1/alerts/rules/{key}", kAdmin, kNoQuery, kJsonObject, PatchOneAlertRule},
    RouteSpec{"DELETE", "/v1/alerts/rules/{key}", kAdmin, kNoQuery, kBytes, DeleteOneAlertRule},
    RouteSpec{"POST", "/v1/features", kAdmin, kNoQuery, kJsonObject, PostFeature},
    RouteSpec{"GET", "/v1/features", kAdmin, kNoQuery, kNone, GetFeatures},
    RouteSpec{"GET", "/v1/features/{key}", kAdmin, kNoQuery, kNone, GetOneFeature},
    RouteSpec{"PATCH", "/v1/features/{key}", kAdmin, kNoQuery, kJsonObject, PatchOneFeature},
    RouteSpec{"DELETE", "/v1/features/{key}", kAdmin, kNoQuery, kBytes, DeleteOneFeature},
    RouteSpec{"GET", "/v1/features/{key}/evaluate", kSdk, kQuery, kNone, GetFeatureValue},
    RouteSpec{"GET", "/api/features/{clientKey}", kClient, kNoQuery, kNone, GetSdkPayload},
    RouteSpec{"GET", "/sub/{clientKey}", kClient, kNoQuery, kNone, GetSdkStream},
    RouteSpec{"POST", "/v1/analyses/ab", kAdmin, kNoQuery, kJsonObject, PostAb},
    RouteSpec{"POST", "/v1/design/sample-size", kAdmin, kNoQuery, kJsonObject, PostSampleSize},
    RouteSpec{"POST", "/v1/design/sequential", kAdmin, kNoQuery, kJsonObject, PostSequential},
    RouteSpec{"POST", "/v1/analyses/did", kAdmin, kQuery, kPanel, PostDid},
    RouteSpec{"POST", "/v1/analyses/synthetic_control", kAdmin, kQuery, kPanel,
              PostSyntheticControl},
    RouteSpec{"POST", "/v1/design/geo", kAdmin, kQuery, kPanel, PostGeoDesign},
    RouteSpec{"POST", "/v1/analyses/lift", kAdmin, kNoQuery, kJsonObject, PostLift},
    RouteSpec{"POST", "/v1/analyses/attribution", kAdmin, kQuery, kAsSent, PostAttribution},
    RouteSpec{"GET", "/v1/experiments/{key}/report", kAdmin, kQuery, kNone, GetReport},
    RouteSpec{"GET", "/v1/experiments/{key}/lift", kAdmin, kQuery, kNone, GetLift},
    RouteSpec{"GET", "/v1/keys", kAdmin, kNoQuery, kNone, ListKeys},
    RouteSpec{"POST", "/v1/keys", kAdmin, kNoQuery, kJsonObject, PostKey},
    RouteSpec{"POST", "/v1/keys/{id}/revoke", kAdmin, kNoQuery, kBytes, RevokeKey},
    RouteSpec{"POST", "/v1/webhooks", kAdmin, kNoQuery, kJsonObject, PostWebhook},
    RouteSpec{"GET", "/v1/webhooks", kAdmin, kNoQuery, kNone, GetWebhooks},
    RouteSpec{"DELETE", "/v1/webhooks/{id}", kAdmin, kNoQuery, kBytes, RemoveWebhook},
    RouteSpec{"POST", "/v1/webhooks/{id}/test", kAdmin, kNoQuery, kBytes, PostWebhookTest},
    RouteSpec{"GET", "/v1/alerts", kAdmin, kQuery, kNone, GetAlerts},
    RouteSpec{"POST", "/v1/monitors/evaluate", kAdmin, kQuery, kBytes, PostEvaluate},
    RouteSpec{"GET", "/v1/experiments/{key}/health", kAdmin, kNoQuery, kNone, GetHealth},
    RouteSpec{"GET", "/", kPublic, kNoQuery, kNone, GetPage},
    RouteSpec{"GET", "/experiments", kPublic, kNoQuery, kNone, GetPage},
    RouteSpec{"GET", "/experiments/{key}", kPublic, kNoQuery, kNone, GetPage},
    RouteSpec{"GET", "/static/{file}", kPublic, kNoQuery, kNone, GetStaticFile},
};

}  // namespace

std::span<const RouteSpec> Routes() { return kRoutes; }

}  // namespace causeway::api
