#include "api/codec/json_util.h"

#include <cmath>

namespace causeway::api {

assign::Value ToValue(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return assign::Value();
    case Json::value_t::boolean:
      return assign::Value(j.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return assign::Value(j.get<double>());
    case Json::value_t::string:
      return assign::Value(j.get<std::string>());
    case Json::value_t::array: {
      assign::Value::Array a;
      a.reserve(j.size());
      for (const auto& e : j) a.push_back(ToValue(e));
      return assign::Value(std::move(a));
    }
    case Json::value_t::object: {
      assign::Value::Object o;
      o.reserve(j.size());
      for (const auto& [k, v] : j.items()) o.emplace_back(k, ToValue(v));
      return assign::Value(std::move(o));
    }
    case Json::value_t::binary:
      break;
  }
  return assign::Value();
}

Json FromValue(const assign::Value& v) {
  switch (v.type()) {
    case assign::Value::Type::kNull:
      return nullptr;
    case assign::Value::Type::kBool:
      return v.as_bool();
    case assign::Value::Type::kNumber: {
      const double d = v.as_number();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
        return static_cast<int64_t>(d);
      }
      return d;
    }
    case assign::Value::Type::kString:
      return v.as_string();
    case assign::Value::Type::kArray: {
      Json a = Json::array();
      for (const auto& e : v.as_array()) a.push_back(FromValue(e));
      return a;
    }
    case assign::Value::Type::kObject: {
      Json o = Json::object();
      for (const auto& [k, e] : v.as_object()) o[k] = FromValue(e);
      return o;
    }
  }
  return nullptr;
}

std::optional<Status> ParseJsonObject(std::string_view body, Json* out) {
  *out = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return InvalidArgument("", "request body is not valid JSON");
  if (!out->is_object()) return InvalidArgument("", "request body must be a JSON object");
  return std::nullopt;
}

}  // namespace causeway::api
