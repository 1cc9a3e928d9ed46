// The one way request input is read: a JSON body, a nested object, or the query
// string. Every field an endpoint accepts is read through a FieldReader, and
// Finish() refuses every member that was not read, so an unknown or misspelt
// field ("contrl_group") is a 400 naming it by construction, not by a check
// someone remembered to write (STYLE.md, "Errors").
//
//   FieldReader r(body);
//   double alpha = 0.05;
//   std::string method;
//   r.Optional("alpha", &alpha).Required("method", &method);
//   r.Check(alpha > 0 && alpha < 1, "alpha", "must be in (0, 1)");
//   if (Status s = r.Finish(); !s.ok()) return s;
//
// The first problem wins: later reads after a failure do nothing, so handler code
// reads straight through and checks once. An unknown member beats every other
// problem, because a misspelt name ("methd") is the likely cause of the others
// ("method is required"). Field paths in errors are JSON paths
// from the request root ("variants[1].n"). Query parameters are strings; numeric
// and boolean reads convert them ("0.05", "true"/"false"/"1"/"0").
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/handler.h"

namespace causeway::api {

class FieldReader {
 public:
  // Reads the members of `object`; an error at `path` when it is not an object.
  // REQUIRES: `object` outlives the reader.
  explicit FieldReader(const Json& object, std::string path = "");
  // Reads query parameters (cpp-httplib's Params is a multimap; a name given twice
  // is an error).
  static FieldReader Query(const std::multimap<std::string, std::string>& params);
  static FieldReader Query(const std::map<std::string, std::string>& params);

  FieldReader(FieldReader&&) = default;
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  // Optional reads leave *out untouched when the field is absent (or JSON null).
  FieldReader& Optional(std::string_view name, double* out);   // finite number
  FieldReader& Optional(std::string_view name, int64_t* out);  // integral number
  FieldReader& Optional(std::string_view name, bool* out);
  FieldReader& Optional(std::string_view name, std::string* out);
  template <typename T>
  FieldReader& Optional(std::string_view name, std::optional<T>* out) {
    Mark(name);
    if (!ok() || !Present(name)) return *this;
    T v{};
    Optional(name, &v);
    if (ok()) *out = std::move(v);
    return *this;
  }
  // As Optional, and an error naming the field when it is absent.
  template <typename T>
  FieldReader& Required(std::string_view name, T* out) {
    Mark(name);
    if (ok() && !Present(name)) return Fail(Status::InvalidArgument(PathOf(name), "is required"));
    return Optional(name, out);
  }

  // One of the listed names, mapped to its value: Enum("correction", &c, {{"holm", kHolm}}).
  template <typename E>
  FieldReader& Enum(std::string_view name, E* out,
                    std::initializer_list<std::pair<std::string_view, E>> values) {
    Mark(name);
    std::string s;
    const bool present = ok() && Present(name);
    Optional(name, &s);
    if (!ok() || !present) return *this;
    for (const auto& [text, value] : values) {
      if (text == s) {
        *out = value;
        return *this;
      }
    }
    std::string allowed;
    for (const auto& [text, value] : values) {
      allowed += allowed.empty() ? "" : ", ";
      allowed += text;
    }
    return Fail(Status::InvalidArgument(PathOf(name), "must be one of: " + allowed));
  }

  // A nested object: read(FieldReader&) reads its members, and its unknown members
  // are refused too. Absent: nothing happens (Required... : an error).
  template <typename F>
  FieldReader& Object(std::string_view name, F&& read, bool required = false) {
    const Json* v = Member(name, required);
    if (!v) return *this;
    FieldReader child(*v, PathOf(name));
    if (child.ok()) read(child);
    return Fail(child.Finish());
  }
  // An array; read(const Json& element, const std::string& path, size_t index) for
  // each element, returning a Status. Use FieldReader(element, path) inside for
  // arrays of objects.
  template <typename F>
  FieldReader& Array(std::string_view name, F&& read, bool required = false) {
    const Json* v = Member(name, required);
    if (!v) return *this;
    if (!v->is_array()) return Fail(Status::InvalidArgument(PathOf(name), "must be an array"));
    for (size_t i = 0; i < v->size() && ok(); ++i) {
      Fail(read((*v)[i], PathOf(name) + "[" + std::to_string(i) + "]", i));
    }
    return *this;
  }

  // The raw value of a member with its own decoder, marked as read; nullptr when
  // absent or JSON null.
  const Json* Raw(std::string_view name);

  // True when the member is present and not null (does not mark it read).
  bool Present(std::string_view name) const;
  // A rule across fields: fails with `message` at `name` unless `condition`.
  FieldReader& Check(bool condition, std::string_view name, std::string message);
  // Records `s` unless a problem was recorded first (OK statuses are ignored).
  FieldReader& Fail(Status s);

  bool ok() const { return status_.ok(); }
  // JSON path of a member of this object.
  std::string PathOf(std::string_view name) const;

  // An error naming the first member that was not read, else the first problem,
  // else OK.
  Status Finish() const;

 private:
  FieldReader() = default;
  const Json* Find(std::string_view name) const;
  // Raw(name), and an error when it is absent but `required`; nullptr when absent
  // or after a failure.
  const Json* Member(std::string_view name, bool required);
  FieldReader& Mark(std::string_view name);

  const Json* object_ = nullptr;
  Json owned_;  // the query parameters as an object of strings
  bool from_query_ = false;
  std::string path_;
  std::set<std::string, std::less<>> read_;
  Status status_;
};

// For POST and DELETE routes that take no fields: nothing for an empty body or {},
// else the parser's error or the first member named as unknown.
std::optional<Status> RefuseBodyMembers(std::string_view body);

}  // namespace causeway::api
