// The route table (api/routes.h) against the OpenAPI document: every row is
// documented with its method and path, and the document's `security: []` marks
// exactly the rows anyone may call. (server_test.cc checks the served routes the
// same way through /metrics.)
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>

#include "api/routes.h"
#include "openapi_doc.h"

using causeway::api::Access;
using causeway::api::Routes;

TEST_CASE("the route table and api/openapi.yaml name the same operations and public ones") {
  const auto doc = causeway::testing::ReadOpenApiOperations();
  REQUIRE(doc.unread.empty());
  std::set<std::pair<std::string, std::string>> documented, documented_public;
  for (const auto& op : doc.operations) {
    documented.insert({op.method, op.path});
    if (op.is_public) documented_public.insert({op.method, op.path});
  }
  std::set<std::pair<std::string, std::string>> served, served_public;
  for (const auto& r : Routes()) {
    INFO(r.method << " " << r.path);
    CHECK(served.insert({r.method, r.path}).second);  // no row twice
    // A client key travels in the path, not in Authorization (security: []).
    if (r.access == Access::kPublic || r.access == Access::kClient) {
      served_public.insert({r.method, r.path});
    }
  }
  CHECK(served.size() >= 30);
  CHECK(served == documented);
  CHECK(served_public == documented_public);
  CHECK(served_public.count({"GET", "/healthz"}) == 1);
}
