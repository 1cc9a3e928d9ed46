// The streaming event parser must see each event as a DOM parse would.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "io/event_reader.h"

using causeway::io::ParseEventBatch;
using causeway::io::RawBatch;
using Kind = causeway::io::RawField::Kind;

TEST_CASE("event parser: fields, kinds and attributes") {
  RawBatch b;
  auto e = ParseEventBatch(R"({"events":[
    {"type":"conversion","id":"a","user":"u","event":"buy","value":1.5,"ts":1732300000000,
     "attributes":{"plan":"pro","n":3,"x":-2.5e3,"ok":true,"none":null,"q":"say \"hi\""}},
    {"type":"exposure","id":"b","user":"u","experiment":"x","variant":"t","ts":18446744073709551615},
    7,
    [1,2],
    {"type":"conversion","value":[1,{"a":2}],"attributes":{"deep":{"a":[1]},"arr":[1],"k":1},"zzz":{"a":1}},
    {"attributes":"flat?","ts":-5,"id":null}
  ]})",
                           &b);
  REQUIRE_FALSE(e);
  REQUIRE(b.has_events);
  REQUIRE(b.events_is_array);
  REQUIRE(b.events.size() == 6);
  const auto& c = b.events[0];
  CHECK(c.type.kind == Kind::kString);
  CHECK(c.type.str == "conversion");
  CHECK(c.value.kind == Kind::kFloat);
  CHECK(c.value.number() == 1.5);
  CHECK(c.ts.kind == Kind::kUInt);
  CHECK(c.ts.u == 1732300000000u);
  CHECK(c.has_attributes);
  CHECK(c.attributes_is_object);
  auto attrs = nlohmann::json::parse(c.attributes_json);
  CHECK(attrs == nlohmann::json::parse(
                     R"({"plan":"pro","n":3,"x":-2.5e3,"ok":true,"none":null,"q":"say \"hi\""})"));
  CHECK(b.events[1].ts.kind == Kind::kUInt);
  CHECK_FALSE(b.events[2].is_object);
  CHECK_FALSE(b.events[3].is_object);
  const auto& w = b.events[4];
  CHECK(w.value.kind == Kind::kArray);
  CHECK(w.nested_attributes == std::vector<std::string>{"deep", "arr"});
  CHECK(w.unknown_fields == std::vector<std::string>{"zzz"});
  CHECK(nlohmann::json::parse(w.attributes_json) == nlohmann::json::parse(R"({"k":1})"));
  const auto& f = b.events[5];
  CHECK(f.has_attributes);
  CHECK_FALSE(f.attributes_is_object);
  CHECK(f.ts.kind == Kind::kInt);
  CHECK(f.ts.i == -5);
  CHECK(f.id.kind == Kind::kNull);
  CHECK(f.user.kind == Kind::kAbsent);
}

TEST_CASE("event parser: document-level errors") {
  struct Case {
    const char* body;
    const char* field;
  };
  for (auto c : {Case{"", ""}, Case{"{", ""}, Case{"3", ""}, Case{"[1]", ""},
                 Case{"{\"events\":[]} x", ""}, Case{"{\"evnts\":[]}", "evnts"}}) {
    RawBatch b;
    auto e = ParseEventBatch(c.body, &b);
    INFO(c.body);
    REQUIRE(e);
    CHECK(e->code() == causeway::StatusCode::kInvalidArgument);
    CHECK(e->field() == c.field);
  }
  RawBatch b;
  REQUIRE_FALSE(ParseEventBatch(R"({"events":{"a":1}})", &b));
  CHECK(b.has_events);
  CHECK_FALSE(b.events_is_array);
  RawBatch none;
  REQUIRE_FALSE(ParseEventBatch("{}", &none));
  CHECK_FALSE(none.has_events);
}
