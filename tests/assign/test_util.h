// Helpers shared by the assignment tests: JSON fixtures -> assign::Value.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "assign/value.h"

namespace causeway::assign::testing {

// Converts parsed JSON into the engine's Value, keeping object member order
// (nlohmann::ordered_json preserves it as written in the file).
inline Value ToValue(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Value::Array a;
      for (const auto& e : j) a.push_back(ToValue(e));
      return Value(std::move(a));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value::Object o;
      for (const auto& [k, v] : j.items()) o.emplace_back(k, ToValue(v));
      return Value(std::move(o));
    }
    default:
      throw std::runtime_error("unsupported JSON type");
  }
}

// Parses a JSON literal written in a test.
inline Value V(const char* json) { return ToValue(nlohmann::ordered_json::parse(json)); }

inline nlohmann::ordered_json LoadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::ordered_json::parse(in);
}

inline const nlohmann::ordered_json& GrowthBookCases() {
  static const nlohmann::ordered_json cases =
      LoadJson(std::string(CAUSEWAY_DATA_DIR) + "/growthbook/growthbook-cases.json");
  return cases;
}

}  // namespace causeway::assign::testing
