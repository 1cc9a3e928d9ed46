// Access to the committed reference fixtures in tests/reference/stats/.
#pragma once

#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace causeway::stats::testing {

inline const nlohmann::json& LoadFixture(const std::string& name) {
  static std::map<std::string, nlohmann::json>* cache = new std::map<std::string, nlohmann::json>();
  auto it = cache->find(name);
  if (it != cache->end()) return it->second;
  const std::string path = std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/stats/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return cache->emplace(name, nlohmann::json::parse(in)).first->second;
}

// Interval ends stored as null mean infinite; `sign` says which infinity.
inline double OrInfinity(const nlohmann::json& v, double sign) {
  return v.is_null() ? sign * std::numeric_limits<double>::infinity() : v.get<double>();
}

}  // namespace causeway::stats::testing
