#include "api/codec/json_util.h"

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

std::optional<Status> ParseJsonObject(std::string_view body, Json* out) {
  *out = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return InvalidArgument("", "request body is not valid JSON");
  if (!out->is_object()) return InvalidArgument("", "request body must be a JSON object");
  return std::nullopt;
}

}  // namespace causeway::api
