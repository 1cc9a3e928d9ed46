// Every route of api/openapi.yaml refuses an unknown field and an unknown query
// parameter with a 400 that names it (docs/api.md, "Requests"). The routes are read
// from the OpenAPI document itself, so a new endpoint is covered the day it is
// documented (and server_test.cc checks that every served route is documented).
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

struct Operation {
  std::string method;  // GET, POST, PATCH, DELETE
  std::string path;    // as documented, with {parameters}
};

// Path items are "  /path:" lines; their operations are "    get:" lines below.
std::vector<Operation> DocumentedOperations() {
  std::ifstream in(CAUSEWAY_SOURCE_DIR "/api/openapi.yaml");
  std::vector<Operation> ops;
  std::string line, path;
  const std::regex path_line("^  (/[^:]*):\\s*$");
  const std::regex op_line("^    (get|post|patch|put|delete):\\s*$");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (!path.empty() && std::regex_match(line, m, op_line)) {
      std::string method = m[1];
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      ops.push_back({method, path});
    } else if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      path.clear();  // a new top-level section
    }
  }
  return ops;
}

std::string Fill(std::string path) {
  // Every {parameter} names an existing thing, so the request reaches its handler.
  path = std::regex_replace(path, std::regex("\\{key\\}"), "walk");
  return std::regex_replace(path, std::regex("\\{[a-z_]+\\}"), "walk");
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
  const std::vector<Operation> ops = DocumentedOperations();
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
