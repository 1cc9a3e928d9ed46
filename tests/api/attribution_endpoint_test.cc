// POST /v1/analyses/attribution: JSON and CSV forms, several methods at once, rows that
// add up, bad rows named (paths[i].column), unknown fields, 422 without conversions, and
// one round trip over HTTP with the admin key.
#include <catch2/catch.hpp>

#include "api/resources/analyses_attribution.h"
#include "test_server.h"

namespace causeway::api {
namespace {

using Query = std::multimap<std::string, std::string>;

HandlerResult Post(const Json& body) {
  return HandleAttribution("application/json", body.dump(), {});
}

void CheckError(const HandlerResult& r, StatusCode code, const std::string& field) {
  REQUIRE(!r.ok());
  INFO(r.error().message());
  CHECK(r.error().code() == code);
  CHECK(r.error().field() == field);
}

Json Channel(const Json& body, const std::string& method, const std::string& name) {
  for (const Json& c : body["attributions"][method]["channels"]) {
    if (c["channel"] == name) return c;
  }
  FAIL("no channel " << name << " under " << method);
  return {};
}

// The removal-effect worked example of docs/causal.md (Puzyrov 2019), the same path on
// two rows.
const Json kPaths = Json::array({
    {{"path", "google ads"}, {"total_conversions", 2}, {"total_null", 0}},
    {{"path", "mailing"}, {"total_conversions", 1}, {"total_null", 0}},
    {{"path", "google ads > mailing"}, {"total_conversions", 1}, {"total_null", 0}},
    {{"path", "google ads"}, {"total_conversions", 0}, {"total_null", 1}},
});

TEST_CASE("attribution: JSON with several methods", "[api][attribution]") {
  auto r = Post({{"methods", {"markov", "shapley", "last_touch"}}, {"paths", kPaths}});
  INFO((r.ok() ? r.body().dump() : r.error().message()));
  REQUIRE(r.ok());
  const Json& b = r.body();
  CHECK(b["total_conversions"] == 4.0);
  CHECK(b["total_null"] == 1.0);
  CHECK(b["total_conversion_value"].is_null());
  CHECK(b["rows"] == 4);
  CHECK(b["distinct_paths"] == 3);
  CHECK(Channel(b, "markov", "google ads")["conversions"].get<double>() == Approx(2.4));
  CHECK(Channel(b, "markov", "google ads")["removal_effect"].get<double>() == Approx(0.75));
  CHECK(Channel(b, "markov", "mailing")["share"].get<double>() == Approx(0.4));
  CHECK(b["attributions"]["markov"]["conversion_probability"].get<double>() == Approx(0.8));
  CHECK(b["attributions"]["markov"]["transition_matrix"].size() == 6);
  CHECK(Channel(b, "shapley", "google ads")["conversions"].get<double>() == Approx(2.5));
  CHECK(Channel(b, "last_touch", "mailing")["conversions"].get<double>() == Approx(2.0));
  CHECK(b["attributions"].size() == 3);
  CHECK(b["warnings"].is_array());
}

TEST_CASE("attribution: CSV with options in the query", "[api][attribution]") {
  const std::string csv =
      "path,total_conversions,total_null,total_conversion_value\r\n"
      "\"search > social\",3,10,30\r\n"
      "search,1,5,12.5\r\n"
      "social > email > search,2,0,40\r\n";
  auto r = HandleAttribution("text/csv; charset=utf-8", csv,
                             Query{{"methods", "shapley_ordered,linear"}});
  INFO((r.ok() ? r.body().dump() : r.error().message()));
  REQUIRE(r.ok());
  const Json& b = r.body();
  CHECK(b["total_conversion_value"].get<double>() == Approx(82.5));
  // search: 3/2 + 1 + 2/3 under Shapley; by touchpoint: 1.5 at 1, 1 at 1, 2/3 at 3.
  const Json search = Channel(b, "shapley_ordered", "search");
  CHECK(search["conversions"].get<double>() == Approx(1.5 + 1 + 2.0 / 3));
  CHECK(search["by_touchpoint"][0].get<double>() == Approx(2.5));
  CHECK(search["by_touchpoint"][2].get<double>() == Approx(2.0 / 3));
  CHECK(search["conversion_value"].get<double>() == Approx(15 + 12.5 + 40.0 / 3));
  CHECK(Channel(b, "linear", "email")["conversions"].get<double>() == Approx(2.0 / 3));
}

TEST_CASE("attribution: bad rows are 400s naming the row", "[api][attribution]") {
  auto row = [](Json p) { return Json{{"method", "shapley"}, {"paths", Json::array({p})}}; };
  CheckError(Post(row({{"path", "a >  > b"}, {"total_conversions", 1}})),
             StatusCode::kInvalidArgument, "paths[0].path");
  CheckError(Post(row({{"path", "a"}, {"total_conversions", -1}})), StatusCode::kInvalidArgument,
             "paths[0].total_conversions");
  CheckError(Post(row({{"path", "a"}, {"total_conversions", 0}, {"total_null", 0}})),
             StatusCode::kInvalidArgument, "paths[0]");
  CheckError(Post(row({{"path", "a"}, {"total_conversions", 1}, {"nulls", 3}})),
             StatusCode::kInvalidArgument, "paths[0].nulls");
  Json two = {
      {"method", "shapley"},
      {"paths",
       {{{"path", "a"}, {"total_conversions", 1}}, {{"path", "b"}, {"total_conversions", "x"}}}}};
  CheckError(Post(two), StatusCode::kInvalidArgument, "paths[1].total_conversions");
  // CSV: the data row index, and the CSV line in the message.
  auto csv = HandleAttribution("text/csv", "path,total_conversions\na,1\n>b,2\n",
                               Query{{"method", "linear"}});
  CheckError(csv, StatusCode::kInvalidArgument, "paths[1].path");
  CHECK(csv.error().message().find("CSV line 3") != std::string::npos);
  CheckError(HandleAttribution("text/csv", "path,conversions\na,1\n", Query{{"method", "linear"}}),
             StatusCode::kInvalidArgument, "columns");
}

TEST_CASE("attribution: options and insufficient data", "[api][attribution]") {
  CheckError(Post({{"method", "shapley"}, {"paths", kPaths}, {"zz", 1}}),
             StatusCode::kInvalidArgument, "zz");
  CheckError(Post({{"paths", kPaths}}), StatusCode::kInvalidArgument, "method");
  CheckError(Post({{"method", "markov"}, {"methods", {"shapley"}}, {"paths", kPaths}}),
             StatusCode::kInvalidArgument, "methods");
  CheckError(Post({{"method", "time_decay"}, {"paths", kPaths}}), StatusCode::kInvalidArgument,
             "method");
  CheckError(Post({{"methods", {"shapley", "bogus"}}, {"paths", kPaths}}),
             StatusCode::kInvalidArgument, "methods[1]");
  CheckError(Post({{"method", "markov"}, {"order", 7}, {"paths", kPaths}}),
             StatusCode::kInvalidArgument, "order");
  CheckError(
      HandleAttribution("application/json", Json{{"method", "shapley"}, {"paths", kPaths}}.dump(),
                        Query{{"order", "2"}}),
      StatusCode::kInvalidArgument, "order");
  CheckError(Post({{"method", "shapley"},
                   {"paths", {{{"path", "a"}, {"total_conversions", 0}, {"total_null", 4}}}}}),
             StatusCode::kInsufficientData, "paths");
  CheckError(HandleAttribution("text/plain", "path,total_conversions\na,1\n", {}),
             StatusCode::kUnsupportedMediaType, "Content-Type");
  // Second order and the separator option.
  auto r = Post({{"method", "markov"},
                 {"order", 2},
                 {"separator", "|"},
                 {"transition_matrix", false},
                 {"paths",
                  {{{"path", "x|y|z"}, {"total_conversions", 1}},
                   {{"path", "y|z"}, {"total_null", 1}, {"total_conversions", 0}},
                   {{"path", "x|y"}, {"total_null", 1}, {"total_conversions", 0}}}}});
  REQUIRE(r.ok());
  CHECK(r.body()["attributions"]["markov"]["order"] == 2);
  CHECK(r.body()["attributions"]["markov"]["transition_matrix"].empty());
  CHECK(Channel(r.body(), "markov", "x")["conversions"].get<double>() == Approx(0.2));
}

// The handler reads the usual JSON body in one pass and any other through nlohmann's DOM
// and FieldReader. Each body below is sent as written and with its "paths" key spelled
// with an escape (the same JSON value, which the one-pass reader leaves to the general
// one): answers and errors must be the same.
TEST_CASE("attribution: the one-pass JSON reader answers as the general reader",
          "[api][attribution]") {
  std::string many = R"({"method": "linear", "paths": [)";
  for (int i = 0; i < 20; ++i) {
    many += std::string(i ? ", " : "") + R"({"path": ")" + (i == 12 ? "a > > b" : "a > b") +
            R"(", "total_conversions": 1})";
  }
  many += "]}";
  const std::vector<std::string> bodies = {
      Json{{"methods", {"markov", "shapley"}}, {"paths", kPaths}}.dump(),
      R"({"paths":[{"path":"a>b","total_conversions":2,"total_null":1.5e0,
          "total_conversion_value":10},{"total_conversion_value":null,"path":" b ",
          "total_conversions":-0,"total_null":3}],"separator":">","method":"shapley"})",
      R"({"method": "markov", "separator": "|", "paths": [{"path": "x|y", "total_conversions": 1,
          "total_null": null}, {"path": "y", "total_conversions": 0, "total_null": 2}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 1, "total_null": 1,
          "total_null": 2}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 1,
          "total_conversion_value": 3}, {"path": "b", "total_conversions": 1}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": "1"}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": null}]})",
      R"({"method": "linear", "paths": [{"path": "a"}]})",
      R"({"method": "linear", "paths": [{"path": 5, "total_conversions": 1}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 1, "nulls": 2}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 01}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 1}]} x)",
      R"({"method": "linear", "paths": []})",
      R"({"method": "linear", "paths": {"path": "a"}})",
      R"({"method": "linear", "paths": [["a", 1]]})",
      R"({"method": "linear", "zz": [1, {"a": "}"}], "paths": [{"path": "a",
          "total_conversions": 1}]})",
      R"({"methods": ["shapley", "bogus"], "paths": [{"path": "a", "total_conversions": 1}]})",
      R"({"method": "linear", "method": "shapley", "paths": [{"path": "a",
          "total_conversions": 1}]})",
      R"({"method": "linear", "paths": [{"path": "a", "total_conversions": 1}],
          "paths": [{"path": "b", "total_conversions": 1}]})",
      R"({"method": "linear", "paths": [{"path": "caf\u00e9 > a", "total_conversions": 1}]})",
      many,
  };
  for (const std::string& body : bodies) {
    const size_t at = body.find(R"("paths")");
    REQUIRE(at != std::string::npos);
    std::string general = body;
    general.replace(at, 7, R"("pat\u0068s")");
    INFO(body);
    const HandlerResult a = HandleAttribution("application/json", body, {});
    const HandlerResult b = HandleAttribution("application/json", general, {});
    REQUIRE(a.ok() == b.ok());
    if (a.ok()) {
      CHECK(a.body() == b.body());
    } else {
      CHECK(a.error().code() == b.error().code());
      CHECK(a.error().field() == b.error().field());
      CHECK(a.error().message() == b.error().message());
    }
  }
  const HandlerResult r = HandleAttribution("application/json", many, {});
  CheckError(r, StatusCode::kInvalidArgument, "paths[12].path");
}

TEST_CASE("attribution over HTTP needs the admin key", "[api][attribution]") {
  testing::TestServer s;
  const std::string body = Json{{"method", "markov"}, {"paths", kPaths}}.dump();
  auto ok = s.Call("POST", "/v1/analyses/attribution", s.admin_key, body);
  INFO(ok.raw);
  CHECK(ok.status == 200);
  CHECK(ok.body["attributions"]["markov"]["channels"].size() == 2);
  CHECK(s.Call("POST", "/v1/analyses/attribution", s.sdk_key, body).status == 403);
  auto csv = s.Call("POST", "/v1/analyses/attribution?method=first_touch", s.admin_key,
                    "path,total_conversions,total_null\na > b,2,1\nb,1,1\n", "text/csv");
  INFO(csv.raw);
  CHECK(csv.status == 200);
  CHECK(csv.body["attributions"]["first_touch"]["channels"][0]["conversions"] == 2.0);
}

}  // namespace
}  // namespace causeway::api
