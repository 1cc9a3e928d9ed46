// The readers of src/io on their own: typed rows or a Status naming the row and
// column, the same rows from every input form, and never a crash on damaged input.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "io/attribution_paths.h"
#include "io/csv.h"
#include "io/event_reader.h"
#include "io/json_text.h"
#include "io/panel_reader.h"

namespace io = causeway::io;
using causeway::Status;
using causeway::StatusCode;
using causeway::StatusOr;

namespace {

constexpr int64_t kNow = 1'780'000'000'000;  // 2026-05-28

// One experiment "exp" with variants "a" and "b".
class OneExperiment : public io::ExposureTargets {
 public:
  bool HasExperiment(std::string_view e) const override { return e == "exp"; }
  bool HasVariant(std::string_view, std::string_view v) const override {
    return v == "a" || v == "b";
  }
  std::optional<std::string> VariantAt(std::string_view, uint64_t index) const override {
    if (index > 1) return std::nullopt;
    return index == 0 ? "a" : "b";
  }
};

std::string Exposure(const std::string& id, const std::string& extra = "") {
  return R"({"type":"exposure","id":")" + id +
         R"(","experiment":"exp","user":"u1","variant":"a","ts":1779999999000)" + extra + "}";
}

}  // namespace

TEST_CASE("ReadEvents: typed rows of a valid batch", "[io][events]") {
  const std::string body =
      R"({"events":[)" + Exposure("e1", R"(,"attributes":{"country":"FR","n":3})") +
      R"(,{"type":"conversion","id":"c1","user":"u1","event":"buy","value":12.5,"ts":1779999999500}]})";
  auto rows = io::ReadEvents(body, {}, OneExperiment(), kNow);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  const auto& x = (*rows)[0];
  CHECK(x.type == causeway::store::EventType::kExposure);
  CHECK(x.id == "e1");
  CHECK(x.experiment == "exp");
  CHECK(x.variant == "a");
  CHECK(x.user == "u1");
  CHECK(x.ts_ms == 1779999999000);
  CHECK(x.attributes == R"({"country":"FR","n":3})");
  const auto& c = (*rows)[1];
  CHECK(c.type == causeway::store::EventType::kConversion);
  CHECK(c.name == "buy");
  CHECK(c.value == 12.5);
}

TEST_CASE("ReadEvents: every problem of a batch, in order, naming event and field",
          "[io][events]") {
  const std::string body =
      R"({"events":[)" + Exposure("ok") + "," +
      R"({"type":"exposure","id":"","experiment":"nope","user":"u","variant":"z","ts":5})" + "," +
      R"({"type":"conversion","id":"c","user":"u","event":"buy","value":"x","ts":1779999999000,"colour":1})" +
      "," +
      R"({"type":"exposure","id":"e","experiment":"exp","user":"u","variant":"z","ts":1779999999000})" +
      R"(, 7]})";
  size_t rejected = 0;
  auto rows = io::ReadEvents(body, {}, OneExperiment(), kNow, &rejected);
  REQUIRE_FALSE(rows.ok());
  const Status& s = rows.status();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.field() == "events[1].id");
  CHECK(rejected == 5);
  std::vector<std::string> fields;
  for (const auto& v : s.violations()) fields.push_back(v.field);
  CHECK(fields == std::vector<std::string>{"events[1].id", "events[1].ts", "events[1].experiment",
                                           "events[2].colour", "events[2].value",
                                           "events[3].variant", "events[4]"});
  CHECK(s.violation_count() == 7);
}

TEST_CASE("ReadEvents: an exposure's variant as a GrowthBook SDK reports it", "[io][events]") {
  auto variant_of = [](const std::string& variant) -> StatusOr<std::string> {
    const std::string body =
        R"({"events":[{"type":"exposure","id":"e","experiment":"exp","user":"u","variant":)" +
        variant + R"(,"ts":1779999999000}]})";
    auto rows = io::ReadEvents(body, {}, OneExperiment(), kNow);
    if (!rows.ok()) return rows.status();
    return (*rows)[0].variant;
  };
  CHECK(*variant_of("0") == "a");  // the variation index
  CHECK(*variant_of("1") == "b");
  CHECK(*variant_of(R"("b")") == "b");  // the variation's meta key
  CHECK(*variant_of(R"("1")") == "b");  // the SDK's key of a variation without meta
  for (const char* bad : {"2", "-1", R"("2")", R"("01")", R"("")", "1.0", "true"}) {
    INFO(bad);
    auto v = variant_of(bad);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().field() == "events[0].variant");
  }
  CHECK(variant_of("2").status().message().find("no variant at index 2") != std::string::npos);
}

TEST_CASE("ReadEvents: limits and document errors", "[io][events]") {
  io::EventLimits small;
  small.max_events = 2;
  const std::string three =
      R"({"events":[)" + Exposure("1") + "," + Exposure("2") + "," + Exposure("3") + "]}";
  auto r = io::ReadEvents(three, small, OneExperiment(), kNow);
  CHECK(r.status().code() == StatusCode::kPayloadTooLarge);
  CHECK(r.status().field() == "events");
  small.max_body_bytes = 10;
  CHECK(io::ReadEvents(three, small, OneExperiment(), kNow).status().code() ==
        StatusCode::kPayloadTooLarge);
  CHECK(io::ReadEvents("{}", {}, OneExperiment(), kNow).status().field() == "events");
  CHECK(io::ReadEvents("[1]", {}, OneExperiment(), kNow).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(io::ReadEvents(R"({"events":[],"x":1})", {}, OneExperiment(), kNow).status().field() ==
        "x");
}

TEST_CASE("CsvRecords: RFC 4180 quotes, CRLF, and more quoted fields than its reserve",
          "[io][csv]") {
  std::string line;
  for (int i = 0; i < 100; ++i)
    line += (i ? "," : "") + std::string("\"v,") + std::to_string(i) + "\"";
  const std::string csv = "a,\"b \"\"q\"\"\",c\r\n" + line + "\n,,\n";
  io::CsvRecords records(csv);
  std::vector<std::string_view> f;
  REQUIRE(records.Next(&f));
  REQUIRE(f.size() == 3);
  CHECK(f[1] == "b \"q\"");
  CHECK(io::Trim(f[2]) == "c");
  REQUIRE(records.Next(&f));
  REQUIRE(f.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(f[i] == "v," + std::to_string(i));
  REQUIRE(records.Next(&f));
  CHECK(f.size() == 3);
  CHECK_FALSE(records.Next(&f));
}

TEST_CASE("panels: JSON rows and CSV of the same data give the same panel", "[io][panel]") {
  io::PanelColumns c;
  c.covariates = {"x"};
  c.weight = "w";
  const std::string csv =
      "unit,time,outcome,treatment_start,x,w\n"
      "geo-1,1,2.5,3,0.1,1\n"
      "geo-1,2,3.5,3,0.2,1\n"
      "\"geo,2\",1,1.5,,0.3,2\n"
      "\"geo,2\",2,1.25,NA,0.4,2\n";
  const auto json = nlohmann::json::parse(R"([
    {"unit": "geo-1", "time": 1, "outcome": 2.5, "treatment_start": 3, "x": 0.1, "w": 1},
    {"unit": "geo-1", "time": 2, "outcome": "3.5", "treatment_start": 3, "x": 0.2, "w": 1},
    {"unit": "geo,2", "time": 1, "outcome": 1.5, "treatment_start": null, "x": 0.3, "w": 2},
    {"unit": "geo,2", "time": 2, "outcome": 1.25, "x": 0.4, "w": 2}])");
  std::vector<std::string> names_csv, names_json;
  auto a = io::ParsePanelCsv(csv, c, &names_csv);
  auto b = io::PanelFromJsonRows(json, c, &names_json);
  REQUIRE(std::holds_alternative<causeway::causal::Panel>(a));
  REQUIRE(std::holds_alternative<causeway::causal::Panel>(b));
  const auto& p = std::get<causeway::causal::Panel>(a);
  const auto& q = std::get<causeway::causal::Panel>(b);
  CHECK(p.unit == q.unit);
  CHECK(p.time == q.time);
  CHECK(p.outcome == q.outcome);
  CHECK(p.treatment_start == q.treatment_start);
  CHECK(p.covariates == q.covariates);
  CHECK(p.weight == q.weight);
  CHECK(names_csv == names_json);
  CHECK(names_csv == std::vector<std::string>{"geo-1", "geo,2"});
  CHECK(p.treatment_start[2] == causeway::causal::kNeverTreated);
}

TEST_CASE("panels: errors name the row and column", "[io][panel]") {
  io::PanelColumns c;
  auto bad = io::ParsePanelCsv("unit,time,outcome,treated,post\n1,1,2,0,0\n1,2,x,0,1\n", c);
  REQUIRE(std::holds_alternative<Status>(bad));
  CHECK(std::get<Status>(bad).field() == "rows[1].outcome");
  CHECK(std::get<Status>(bad).message().find("CSV line 3") != std::string::npos);
  auto header = io::ParsePanelCsv("unit,time\n1,1\n", c);
  CHECK(std::get<Status>(header).field() == "columns");
  auto mixed = io::PanelFromJsonRows(
      nlohmann::json::parse(R"([{"unit":"a","time":1,"outcome":1,"treated":0,"post":0},
                                {"unit":2,"time":1,"outcome":1,"treated":0,"post":0}])"),
      c, nullptr);
  CHECK(std::get<Status>(mixed).field() == "rows[1].unit");
}

TEST_CASE("conversion paths: CSV and the one-pass JSON reader give the same table", "[io][paths]") {
  const std::string csv =
      "path,total_conversions,total_null,total_conversion_value\n"
      "search > social,3,7,30\n\"social > email\",1,0,12.5\r\nsearch > social,2,1,5\n";
  const std::string json = R"({"paths":[
      {"path":"search > social","total_conversions":3,"total_null":7,"total_conversion_value":30},
      {"path":"social > email","total_conversions":1,"total_null":0,"total_conversion_value":12.5},
      {"path":"search > social","total_conversions":2,"total_null":1,"total_conversion_value":5}]})";
  auto a = io::ReadPathsCsv(csv, ">");
  auto body = io::ReadPathsJsonFast(json);
  REQUIRE(body.has_value());
  auto b = io::PathTableFromRows(json, body->rows, ">");
  REQUIRE(std::holds_alternative<causeway::causal::PathTable>(a));
  REQUIRE(std::holds_alternative<causeway::causal::PathTable>(b));
  const auto& p = std::get<causeway::causal::PathTable>(a);
  const auto& q = std::get<causeway::causal::PathTable>(b);
  CHECK(p.channels == q.channels);
  CHECK(p.touches == q.touches);
  CHECK(p.offsets == q.offsets);
  CHECK(p.conversions == q.conversions);
  CHECK(p.nulls == q.nulls);
  CHECK(p.values == q.values);
  CHECK(p.rows == 3);
  CHECK(p.size() == 2);  // the repeated path adds up
  auto bad = io::ReadPathsCsv("path,total_conversions\na,1\nb,x\n", ">");
  CHECK(std::get<Status>(bad).field() == "paths[1].total_conversions");
  CHECK_FALSE(io::ReadPathsJsonFast(R"({"paths":[{"path":"caf\u00e9","total_conversions":1}]})"));
}

// Damages valid input at random (bytes flipped, cut, duplicated, quotes and huge
// numbers inserted, invalid UTF-8): every reader answers rows or a Status with a
// message, never crashes (the sanitizer build runs this too).
TEST_CASE("readers survive damaged input", "[io][fuzz]") {
  const std::string events =
      R"({"events":[)" + Exposure("e1", R"(,"attributes":{"k":"v"})") +
      R"(,{"type":"conversion","id":"c","user":"u","event":"b","value":1,"ts":1779999999000}]})";
  const std::string panel =
      "unit,time,outcome,treated,post\n1,1,2,0,0\n1,2,3,0,1\n2,1,1,1,0\n2,2,5,1,1\n";
  const std::string paths =
      R"({"method":"linear","paths":[{"path":"a > b","total_conversions":1,"total_null":2}]})";
  const std::string paths_csv = "path,total_conversions,total_null\n\"a > b\",1,2\nb,0,3\n";
  const std::vector<std::string> inserts = {"\"",      ",",     "\n",  "{",        "]",
                                            "\\u0000", "1e999", "-0",  "\xff\xfe", "\xc3",
                                            "null",    "NA",    "\r\n"};
  std::mt19937_64 rng(20261207);
  int answered = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    for (const std::string* base : {&events, &panel, &paths, &paths_csv}) {
      std::string s = *base;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits && !s.empty(); ++k) {
        const size_t at = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[at] = static_cast<char>(rng() % 256);
            break;
          case 1:
            s.resize(at);
            break;
          case 2:
            s.insert(at, inserts[rng() % inserts.size()]);
            break;
          default:
            s.insert(at, s.substr(at, rng() % 16));
            break;
        }
      }
      bool ok = false;
      std::string message;
      if (base == &events) {
        auto r = io::ReadEvents(s, {}, OneExperiment(), kNow);
        ok = r.ok();
        if (!ok) message = r.status().message();
      } else if (base == &panel) {
        auto r = io::ParsePanelCsv(s, {});
        ok = std::holds_alternative<causeway::causal::Panel>(r);
        if (!ok) message = std::get<Status>(r).message();
      } else if (base == &paths) {
        if (auto body = io::ReadPathsJsonFast(s)) {
          auto r = io::PathTableFromRows(s, body->rows, ">");
          ok = std::holds_alternative<causeway::causal::PathTable>(r);
          if (!ok) message = std::get<Status>(r).message();
        } else {
          ok = true;  // not of the fast reader's shape: the general reader takes it
        }
      } else {
        auto r = io::ReadPathsCsv(s, ">");
        ok = std::holds_alternative<causeway::causal::PathTable>(r);
        if (!ok) message = std::get<Status>(r).message();
      }
      if (!ok) REQUIRE_FALSE(message.empty());
      ++answered;
    }
  }
  CHECK(answered == 12000);
}

TEST_CASE("IsValidUtf8 follows RFC 3629", "[io]") {
  using causeway::io::IsValidUtf8;
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("\xc3\xa9"));                // é
  CHECK(IsValidUtf8("\xe2\x82\xac"));            // €
  CHECK(IsValidUtf8("\xf0\x9f\x98\x80"));        // U+1F600
  CHECK_FALSE(IsValidUtf8("\xc3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xc3\x28"));          // bad continuation
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xff"));
}
