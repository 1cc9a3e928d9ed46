// FieldReader: the one reader of request fields (api/codec/field_reader.h).
#include "api/codec/field_reader.h"

#include <catch2/catch.hpp>

using causeway::Status;
using causeway::StatusCode;
using causeway::api::FieldReader;
using causeway::api::Json;

namespace {

enum class Color { kRed, kBlue };

}  // namespace

TEST_CASE("field reader: reads what it is asked and refuses the rest") {
  const Json body = Json::parse(R"({"alpha": 0.1, "method": "x", "n": 12, "on": true,
                                    "nested": {"a": 1}, "list": [{"k": "v"}, {"k": "w"}]})");
  FieldReader r(body);
  double alpha = 0.05;
  std::string method;
  int64_t n = 0;
  bool on = false;
  std::optional<double> absent;
  double a = 0;
  std::vector<std::string> ks;
  r.Optional("alpha", &alpha).Required("method", &method).Optional("n", &n).Optional("on", &on);
  r.Optional("missing", &absent);
  r.Object("nested", [&](FieldReader& c) { c.Required("a", &a); });
  r.Array("list", [&](const Json& e, const std::string& path, size_t) {
    FieldReader item(e, path);
    std::string k;
    item.Required("k", &k);
    ks.push_back(k);
    return item.Finish();
  });
  REQUIRE(r.Finish().ok());
  CHECK(alpha == 0.1);
  CHECK(method == "x");
  CHECK(n == 12);
  CHECK(on);
  CHECK_FALSE(absent);
  CHECK(a == 1);
  CHECK(ks == std::vector<std::string>{"v", "w"});
}

TEST_CASE("field reader: unknown and misspelt fields are named, at any depth") {
  struct Case {
    const char* body;
    const char* field;
    const char* message_part;
  };
  const Case cases[] = {
      {R"({"alpha": 0.1, "contrl_group": "x"})", "contrl_group", "unknown field"},
      {R"({"nested": {"a": 1, "b": 2}})", "nested.b", "unknown field"},
      {R"({"list": [{"k": "v"}, {"k": "v", "z": 1}]})", "list[1].z", "unknown field"},
      {R"({"alpha": "0.1"})", "alpha", "must be a number"},
      {R"({"n": 1.5})", "n", "must be an integer"},
      {R"({"on": 1})", "on", "must be true or false"},
      {R"({"nested": 3})", "nested", "must be a JSON object"},
      {R"({"list": {}})", "list", "must be an array"},
      {R"({"color": "green"})", "color", "must be one of: red, blue"},
      {R"({})", "method", "is required"},
      {R"([1])", "", "must be a JSON object"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    const Json body = Json::parse(c.body);
    FieldReader r(body);
    double alpha = 0;
    int64_t n = 0;
    bool on = false;
    Color color = Color::kRed;
    std::string method = "default";
    r.Optional("alpha", &alpha).Optional("n", &n).Optional("on", &on);
    r.Enum("color", &color, {{"red", Color::kRed}, {"blue", Color::kBlue}});
    r.Object("nested", [&](FieldReader& o) { o.Optional("a", &alpha); });
    r.Array("list", [&](const Json& e, const std::string& path, size_t) {
      FieldReader item(e, path);
      std::string k;
      item.Optional("k", &k);
      return item.Finish();
    });
    if (std::string_view(c.field) == "method") r.Required("method", &method);
    Status s = r.Finish();
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.field() == c.field);
    CHECK_THAT(s.message(), Catch::Contains(c.message_part));
  }
}

TEST_CASE("field reader: the first problem wins, but an unknown member beats it") {
  const Json body = Json::parse(R"({"a": "x", "b": "y"})");
  FieldReader r(body);
  double a = 0, b = 0;
  r.Optional("a", &a).Optional("b", &b);
  CHECK(r.Finish().field() == "a");

  // "methd" makes "method" missing: naming the misspelling is the useful answer.
  const Json typo = Json::parse(R"({"methd": "twfe", "alpha": "high"})");
  FieldReader t(typo);
  std::string method;
  double alpha = 0;
  t.Required("method", &method).Optional("alpha", &alpha);
  Status s = t.Finish();
  CHECK(s.field() == "methd");
  CHECK_THAT(s.message(), Catch::Contains("unknown field"));
}

TEST_CASE("field reader: query parameters convert and refuse unknown names") {
  std::multimap<std::string, std::string> q = {
      {"alpha", "0.01"}, {"expected_n", "5000"}, {"cuped", "true"}, {"empty", ""}};
  FieldReader r = FieldReader::Query(q);
  double alpha = 0;
  int64_t n = 0;
  bool cuped = false;
  std::optional<std::string> empty;
  r.Optional("alpha", &alpha).Optional("expected_n", &n).Optional("cuped", &cuped);
  r.Optional("empty", &empty);
  REQUIRE(r.Finish().ok());
  CHECK(alpha == 0.01);
  CHECK(n == 5000);
  CHECK(cuped);
  CHECK_FALSE(empty);  // "empty=" counts as absent

  FieldReader unknown = FieldReader::Query(
      std::multimap<std::string, std::string>{{"alpha", "0.1"}, {"aplha", "0.1"}});
  unknown.Optional("alpha", &alpha);
  Status s = unknown.Finish();
  CHECK(s.field() == "aplha");
  CHECK_THAT(s.message(), Catch::Contains("unknown query parameter"));

  FieldReader twice = FieldReader::Query(
      std::multimap<std::string, std::string>{{"alpha", "0.1"}, {"alpha", "0.2"}});
  twice.Optional("alpha", &alpha);
  CHECK(twice.Finish().field() == "alpha");

  FieldReader bad = FieldReader::Query(std::map<std::string, std::string>{{"alpha", "0.1x"}});
  bad.Optional("alpha", &alpha);
  CHECK_THAT(bad.Finish().message(), Catch::Contains("must be a number"));
}
