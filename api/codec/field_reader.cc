#include "api/codec/field_reader.h"

#include "api/codec/json_util.h"

#include <charconv>
#include <cmath>

namespace causeway::api {
namespace {

bool ParseDouble(std::string_view s, double* out) {
  const char* end = s.data() + s.size();
  auto r = std::from_chars(s.data(), end, *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == end;
}

}  // namespace

FieldReader::FieldReader(const Json& object, std::string path)
    : object_(&object), path_(std::move(path)) {
  if (!object.is_object()) {
    status_ = Status::InvalidArgument(
        path_, path_.empty() ? "request body must be a JSON object" : "must be a JSON object");
  }
}

FieldReader FieldReader::Query(const std::multimap<std::string, std::string>& params) {
  FieldReader r;
  r.from_query_ = true;
  r.owned_ = Json::object();
  for (const auto& [k, v] : params) {
    if (r.owned_.contains(k)) {
      r.Fail(Status::InvalidArgument(k, "query parameter given more than once"));
    }
    r.owned_[k] = v.empty() ? Json(nullptr) : Json(v);  // "alpha=" is absent
  }
  r.object_ = &r.owned_;
  return r;
}

FieldReader FieldReader::Query(const std::map<std::string, std::string>& params) {
  return Query(std::multimap<std::string, std::string>(params.begin(), params.end()));
}

std::string FieldReader::PathOf(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

const Json* FieldReader::Find(std::string_view name) const {
  if (!object_ || !object_->is_object()) return nullptr;
  auto it = object_->find(name);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool FieldReader::Present(std::string_view name) const { return Find(name) != nullptr; }

FieldReader& FieldReader::Mark(std::string_view name) {
  read_.emplace(name);
  return *this;
}

const Json* FieldReader::Raw(std::string_view name) {
  Mark(name);
  return ok() ? Find(name) : nullptr;
}

const Json* FieldReader::Member(std::string_view name, bool required) {
  const bool was_ok = ok();
  const Json* v = Raw(name);
  if (!v && was_ok && required) Fail(Status::InvalidArgument(PathOf(name), "is required"));
  return v;
}

FieldReader& FieldReader::Fail(Status s) {
  if (status_.ok() && !s.ok()) status_ = std::move(s);
  return *this;
}

FieldReader& FieldReader::Check(bool condition, std::string_view name, std::string message) {
  if (ok() && !condition) Fail(Status::InvalidArgument(PathOf(name), std::move(message)));
  return *this;
}

FieldReader& FieldReader::Optional(std::string_view name, double* out) {
  const Json* v = Raw(name);
  if (!v) return *this;
  double d = 0;
  if (v->is_number()) {
    d = v->get<double>();
  } else if (!(from_query_ && v->is_string() &&
               ParseDouble(v->get_ref<const std::string&>(), &d))) {
    return Fail(Status::InvalidArgument(PathOf(name), "must be a number"));
  }
  if (!std::isfinite(d)) return Fail(Status::InvalidArgument(PathOf(name), "must be finite"));
  *out = d;
  return *this;
}

FieldReader& FieldReader::Optional(std::string_view name, int64_t* out) {
  const Json* v = Raw(name);
  if (!v) return *this;
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Fail(Status::InvalidArgument(PathOf(name), "is too large"));
    }
    return *this;
  }
  double d = 0;
  if (v->is_number_float()) {
    d = v->get<double>();
  } else if (!(from_query_ && v->is_string() &&
               ParseDouble(v->get_ref<const std::string&>(), &d))) {
    return Fail(Status::InvalidArgument(PathOf(name), "must be an integer"));
  }
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) {
    return Fail(Status::InvalidArgument(PathOf(name), "must be an integer"));
  }
  *out = static_cast<int64_t>(d);
  return *this;
}

FieldReader& FieldReader::Optional(std::string_view name, bool* out) {
  const Json* v = Raw(name);
  if (!v) return *this;
  if (v->is_boolean()) {
    *out = v->get<bool>();
    return *this;
  }
  if (from_query_ && v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s == "true" || s == "1") return *out = true, *this;
    if (s == "false" || s == "0") return *out = false, *this;
  }
  return Fail(Status::InvalidArgument(PathOf(name), "must be true or false"));
}

FieldReader& FieldReader::Optional(std::string_view name, std::string* out) {
  const Json* v = Raw(name);
  if (!v) return *this;
  if (!v->is_string()) return Fail(Status::InvalidArgument(PathOf(name), "must be a string"));
  *out = v->get<std::string>();
  return *this;
}

Status FieldReader::Finish() const {
  if (object_ && object_->is_object()) {
    for (const auto& [k, v] : object_->items()) {
      if (!read_.contains(k)) {
        return Status::InvalidArgument(PathOf(k),
                                       from_query_ ? "unknown query parameter" : "unknown field");
      }
    }
  }
  return status_;
}

std::optional<Status> RefuseBodyMembers(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  Json parsed;
  if (auto e = ParseJsonObject(body, &parsed)) return *e;
  if (Status s = FieldReader(parsed).Finish(); !s.ok()) return s;
  return std::nullopt;
}

}  // namespace causeway::api
