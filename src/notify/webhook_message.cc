#include "notify/webhook_message.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "crypto/crypto.h"

namespace causeway::notify {
namespace {

using Json = nlohmann::json;
constexpr std::string_view kSecretPrefix = "whsec_";

Json Statistic(const std::string& payload) {
  if (payload.empty()) return nullptr;
  Json j = Json::parse(payload, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

}  // namespace

StatusOr<std::string> NewWebhookSecret() {
  std::optional<std::string> key = crypto::RandomBytes(32);
  if (!key) return Status::Internal("no system randomness");
  return std::string(kSecretPrefix) + crypto::Base64Encode(*key);
}

StatusOr<std::string> SignWebhook(std::string_view secret, std::string_view id, int64_t timestamp_s,
                                  std::string_view body) {
  if (secret.starts_with(kSecretPrefix)) secret.remove_prefix(kSecretPrefix.size());
  std::optional<std::string> key = crypto::Base64Decode(secret);
  if (!key || key->empty()) {
    return Status::InvalidArgument("secret", "must be whsec_ followed by base64");
  }
  std::string message;
  message.reserve(id.size() + body.size() + 24);
  message.append(id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  return "v1," + crypto::Base64Encode(crypto::HmacSha256(*key, message));
}

std::string IsoTimeMs(int64_t ms) {
  const int64_t ms_part = ((ms % 1000) + 1000) % 1000;
  const std::time_t secs = static_cast<std::time_t>((ms - ms_part) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms_part));
  return buf;
}

std::string AlertBody(const store::AlertRow& a, std::string_view format) {
  const Json statistic = Statistic(a.payload);
  if (format == "slack") {
    std::string text = "Causeway alert: " + a.kind + " " + a.state + " for " + a.subject_kind +
                       " " + a.subject + " (monitor " + a.monitor + ") at " + IsoTimeMs(a.at_ms);
    if (!statistic.is_null())
      text += "\n" + statistic.dump(-1, ' ', false, Json::error_handler_t::replace);
    return Json{{"text", text}}.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  Json data = {{"id", a.id},
               {"kind", a.kind},
               {"subject_kind", a.subject_kind},
               {"subject", a.subject},
               {"monitor", a.monitor},
               {"state", a.state},
               {"at_ms", a.at_ms},
               {"created_ms", a.created_ms},
               {"statistic", statistic}};
  if (a.subject_kind == "experiment" || a.subject_kind == "rule" || a.subject_kind == "webhook") {
    data[a.subject_kind] = a.subject;  // "experiment": key, "rule": key, "webhook": id
  }
  Json body = {{"type", "alert." + a.kind}, {"timestamp", IsoTimeMs(a.at_ms)}, {"data", data}};
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace causeway::notify
