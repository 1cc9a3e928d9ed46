// Every route of api/openapi.yaml refuses an unknown field and an unknown query
// parameter with a 400 that names it (docs/api.md, "Requests"). The routes are read
// from the OpenAPI document itself, so a new endpoint is covered the day it is
// documented (tests/api/openapi_doc.h reads them; server_test.cc checks that the
// document and the served routes are the same set).
#include <catch2/catch.hpp>

#include <regex>
#include <vector>

#include "openapi_doc.h"
#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::Operation;
using causeway::testing::TestServer;

namespace {

std::string Fill(std::string path) {
  // Every {parameter} names an existing thing, so the request reaches its handler.
  path = std::regex_replace(path, std::regex("\\{key\\}"), "walk");
  return std::regex_replace(path, std::regex("\\{[A-Za-z_]+\\}"), "walk");
}

}  // namespace

TEST_CASE("every documented route refuses unknown fields and query parameters, naming them") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key,
                 {{"key", "walk"},
                  {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                  {"status", "running"}})
              .status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "walk"}, {"type", "binomial"}, {"event", "purchase"}})
              .status == 201);
  const causeway::testing::OpenApiOperations doc = causeway::testing::ReadOpenApiOperations();
  CHECK(doc.unread.empty());
  const std::vector<Operation>& ops = doc.operations;
  REQUIRE(ops.size() >= 18);
  size_t bodies = 0, queries = 0;
  for (const Operation& op : ops) {
    if (op.path == "/healthz" || op.path == "/metrics") continue;  // plain-text probes
    const std::string path = Fill(op.path);
    const std::string& key =
        op.path.starts_with("/v1/assign") || op.path == "/v1/events" ? s.sdk_key : s.admin_key;
    {
      INFO(op.method << " " << path << "?zz_unknown_param=1");
      auto r = s.Call(op.method, path + "?zz_unknown_param=1", key, "{}");
      INFO(r.raw);
      CHECK(r.status == 400);
      CHECK(r.body["error"]["code"] == "invalid_argument");
      CHECK(r.body["error"]["field"] == "zz_unknown_param");
      ++queries;
    }
    if (op.method != "GET") {
      INFO(op.method << " " << path << " {\"zz_unknown_field\": 1}");
      auto r = s.Call(op.method, path, key, R"({"zz_unknown_field": 1})");
      INFO(r.raw);
      CHECK(r.status == 400);
      CHECK(r.body["error"]["code"] == "invalid_argument");
      CHECK(r.body["error"]["field"] == "zz_unknown_field");
      ++bodies;
    }
  }
  CHECK(queries >= 14);
  CHECK(bodies >= 7);
}
