// How request bodies are read whatever their Content-Type (docs/api.md, "Requests"):
// JSON is read as JSON; a body that is not JSON gets 400 when it said it was
// JSON and 415 naming the header otherwise; never cpp-httplib's form-size 413.
#include <catch2/catch.hpp>

#include <chrono>

#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

std::string Batch(size_t n, const std::string& prefix) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Json events = Json::array();
  for (size_t i = 0; i < n; ++i) {
    events.push_back({{"type", "conversion"},
                      {"id", prefix + std::to_string(i)},
                      {"user", "user-" + std::to_string(i % 97)},
                      {"event", "purchase"},
                      {"value", 19.99},
                      {"ts", now}});
  }
  return Json{{"events", events}}.dump();
}

}  // namespace

TEST_CASE("a 1000-event batch with curl's default content type is accepted") {
  TestServer s;
  const std::string body = Batch(1000, "form-");
  REQUIRE(body.size() > 64 * 1024);  // far beyond cpp-httplib's 8 KB form limit
  for (const char* type : {"application/x-www-form-urlencoded", "", "text/plain"}) {
    INFO(type);
    auto r =
        s.Call("POST", "/v1/events", s.sdk_key, Batch(1000, std::string("t") + type + "-"), type);
    INFO(r.raw);
    CHECK(r.status == 200);
    CHECK(r.body["accepted"] == 1000);
  }
}

TEST_CASE("a body that is not JSON: 400 when it said JSON, 415 naming the header otherwise") {
  TestServer s;
  struct Case {
    const char* method;
    const char* path;
  };
  for (Case c : {Case{"POST", "/v1/events"}, Case{"POST", "/v1/experiments"},
                 Case{"POST", "/v1/assign"}, Case{"POST", "/v1/analyses/ab"},
                 Case{"POST", "/v1/analyses/did"}, Case{"PATCH", "/v1/experiments/x"}}) {
    INFO(c.method << " " << c.path);
    const std::string& key = std::string_view(c.path).starts_with("/v1/events") ||
                                     std::string_view(c.path).starts_with("/v1/assign")
                                 ? s.sdk_key
                                 : s.admin_key;
    auto said_json = s.Call(c.method, c.path, key, "key=value&x=1", "application/json");
    INFO(said_json.raw);
    CHECK(said_json.status == 400);
    CHECK(said_json.body["error"]["code"] == "invalid_argument");
    auto form = s.Call(c.method, c.path, key, "key=value&x=1", "application/x-www-form-urlencoded");
    INFO(form.raw);
    CHECK(form.status == 415);
    CHECK(form.body["error"]["code"] == "unsupported_media_type");
    CHECK(form.body["error"]["field"] == "Content-Type");
    CHECK_THAT(form.body["error"]["message"].get<std::string>(),
               Catch::Contains("Content-Type: application/json"));
  }
}

TEST_CASE("JSON sent without a JSON content type is read as JSON everywhere") {
  TestServer s;
  const Json experiment = {{"key", "form-exp"},
                           {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                           {"status", "running"}};
  auto created = s.Call("POST", "/v1/experiments", s.admin_key, experiment.dump(),
                        "application/x-www-form-urlencoded");
  INFO(created.raw);
  CHECK(created.status == 201);
  auto assigned =
      s.Call("POST", "/v1/assign", s.sdk_key, R"({"user": "42", "experiments": ["form-exp"]})",
             "application/x-www-form-urlencoded");
  INFO(assigned.raw);
  CHECK(assigned.status == 200);
  CHECK(assigned.body["assignments"].size() == 1);
  // A JSON panel with a form type is a JSON panel, not form fields or query parameters.
  Json rows = Json::array();
  for (int unit = 0; unit < 6; ++unit) {
    for (int t = 0; t < 4; ++t) {
      rows.push_back(
          {{"unit", unit},
           {"time", t},
           {"outcome", unit + t + (unit < 3 && t >= 2 ? 1.0 : 0.0) + 0.01 * (unit * t % 3)},
           {"treated", unit < 3 ? 1 : 0},
           {"post", t >= 2 ? 1 : 0}});
    }
  }
  auto did =
      s.Call("POST", "/v1/analyses/did", s.admin_key,
             Json{{"method", "2x2"}, {"rows", rows}}.dump(), "application/x-www-form-urlencoded");
  INFO(did.raw);
  CHECK(did.status == 200);
}
