// GrowthBook condition evaluation (packages/sdk-js/src/mongrule.ts) on
// assign::Value, including the JavaScript coercions it relies on.
//
// GrowthBook's evaluator is written in JavaScript and leans on the language:
// `value + ""` (ToString), `value * 1` (ToNumber), `<` between mixed types
// (Abstract Relational Comparison, ECMA-262 §7.2.13), `===` (identity for
// arrays and objects), JSON.stringify equality. The helpers in the anonymous
// namespace reproduce exactly those operations for JSON-shaped values, so the
// evaluator below can follow mongrule.ts function by function.
#include "assign/condition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex>
// (std::function in _State) at -O1 with sanitizers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace causeway::assign {

namespace {

const Value& NullValue() {
  static const Value kNull;
  return kNull;
}

// ---------------------------------------------------------------------------
// JavaScript coercions (ECMA-262) restricted to JSON values.

// Number::toString(10), ECMA-262 §6.1.6.1.20: shortest round-trip digits,
// fixed notation for 1e-7 <= |x| < 1e21, exponent notation otherwise.
std::string JsNumberToString(double x) {
  if (std::isnan(x)) return "NaN";
  if (x == 0) return "0";  // also -0
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  std::string out;
  if (x < 0) {
    out.push_back('-');
    x = -x;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // d.ddde±XX
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  const std::string_view exp_text = sci.substr(e_pos + 1);
  std::from_chars(exp_text.data() + (exp_text[0] == '+' ? 1 : 0), exp_text.data() + exp_text.size(),
                  exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

void AppendJsString(const Value& v, std::string* out);

// ToString(value), as `value + ""` and String(value) compute it. Arrays join
// their elements with "," (null elements become ""), objects are
// "[object Object]".
std::string JsToString(const Value& v) {
  std::string out;
  AppendJsString(v, &out);
  return out;
}

void AppendJsString(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      *out += "null";
      return;
    case Value::Type::kBool:
      *out += v.as_bool() ? "true" : "false";
      return;
    case Value::Type::kNumber:
      *out += JsNumberToString(v.as_number());
      return;
    case Value::Type::kString:
      *out += v.as_string();
      return;
    case Value::Type::kArray: {
      bool first = true;
      for (const Value& e : v.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        if (!e.is_null()) AppendJsString(e, out);
      }
      return;
    }
    case Value::Type::kObject:
      *out += "[object Object]";
      return;
  }
}

// JS WhiteSpace and LineTerminator code points that StringToNumber trims:
// ASCII space, tab, LF, VT, FF, CR and, in UTF-8, U+00A0, U+FEFF, U+2028, U+2029.
constexpr std::string_view kJsSpaces[] = {
    " ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xEF\xBB\xBF", "\xE2\x80\xA8", "\xE2\x80\xA9"};

std::string_view TrimJsWhitespace(std::string_view s) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view ws : kJsSpaces) {
      if (s.starts_with(ws)) {
        s.remove_prefix(ws.size());
        changed = true;
      }
      if (s.ends_with(ws)) {
        s.remove_suffix(ws.size());
        changed = true;
      }
    }
  }
  return s;
}

// StringToNumber, ECMA-262 §7.1.4.1.1: trims white space; "" -> 0; 0x/0o/0b
// integers; optional sign with a decimal literal or Infinity; anything else NaN.
double JsStringToNumber(std::string_view s) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  s = TrimJsWhitespace(s);
  if (s.empty()) return 0;
  if (s.size() > 2 && s[0] == '0') {
    int base = 0;
    if (s[1] == 'x' || s[1] == 'X') base = 16;
    if (s[1] == 'o' || s[1] == 'O') base = 8;
    if (s[1] == 'b' || s[1] == 'B') base = 2;
    if (base != 0) {
      double result = 0;
      for (char c : s.substr(2)) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0 || d >= base) return kNaN;
        result = result * base + d;
      }
      return result;
    }
  }
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "Infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  // StrUnsignedDecimalLiteral: digits [. digits] [e [sign] digits], or . digits [...]
  size_t i = 0;
  size_t mantissa_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return kNaN;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return kNaN;
  }
  if (i != s.size()) return kNaN;
  double result = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), result);
  if (res.ec == std::errc::result_out_of_range) {
    // Overflow to Infinity, underflow to 0, as JS does; strtod reports both.
    result = std::strtod(std::string(s).c_str(), nullptr);
  }
  return negative ? -result : result;
}

// ToNumber(value), as `value * 1` computes it.
double JsToNumber(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return 0;
    case Value::Type::kBool:
      return v.as_bool() ? 1 : 0;
    case Value::Type::kNumber:
      return v.as_number();
    case Value::Type::kString:
      return JsStringToNumber(v.as_string());
    case Value::Type::kArray:
      return JsStringToNumber(JsToString(v));
    case Value::Type::kObject:
      return std::numeric_limits<double>::quiet_NaN();
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// ToBoolean(value): `!!value`.
bool JsTruthy(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return v.as_bool();
    case Value::Type::kNumber:
      return v.as_number() != 0 && !std::isnan(v.as_number());
    case Value::Type::kString:
      return !v.as_string().empty();
    default:
      return true;
  }
}

// `a === b`. Arrays and objects compare by identity in JS; an attribute and a
// condition operand are never the same object, so they are never equal.
bool JsStrictEquals(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Type::kNumber:
      return a.as_number() == b.as_number();
    case Value::Type::kString:
      return a.as_string() == b.as_string();
    default:
      return false;
  }
}

// True for the keys JS enumerates first, in ascending numeric order: canonical
// array indices ("0", "17"; not "01" or "4294967295").
bool IsArrayIndexKey(std::string_view k) {
  if (k.empty() || k.size() > 10) return false;
  if (k.size() > 1 && k[0] == '0') return false;
  uint64_t n = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n < 4294967295ull;
}

// Object members in JS property order (OrdinaryOwnPropertyKeys): array-index
// keys ascending, then the other keys in insertion order.
std::vector<const std::pair<std::string, Value>*> JsPropertyOrder(const Value::Object& o) {
  std::vector<const std::pair<std::string, Value>*> out;
  out.reserve(o.size());
  std::vector<std::pair<uint64_t, const std::pair<std::string, Value>*>> index_keys;
  for (const auto& member : o) {
    if (IsArrayIndexKey(member.first)) {
      index_keys.emplace_back(std::stoull(member.first), &member);
    }
  }
  std::sort(index_keys.begin(), index_keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [n, member] : index_keys) out.push_back(member);
  for (const auto& member : o) {
    if (!IsArrayIndexKey(member.first)) out.push_back(&member);
  }
  return out;
}

// JSON.stringify(a) === JSON.stringify(b) for JSON values: structural equality
// with object members compared in JS property order.
bool JsonStringifyEquals(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kArray: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonStringifyEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Type::kObject: {
      if (a.as_object().size() != b.as_object().size()) return false;
      const auto x = JsPropertyOrder(a.as_object());
      const auto y = JsPropertyOrder(b.as_object());
      for (size_t i = 0; i < x.size(); ++i) {
        if (x[i]->first != y[i]->first || !JsonStringifyEquals(x[i]->second, y[i]->second)) {
          return false;
        }
      }
      return true;
    }
    case Value::Type::kNumber:
      return a.as_number() == b.as_number();
    default:
      return JsStrictEquals(a, b);
  }
}

// ToPrimitive(value, number) for JSON values: arrays and objects become strings.
struct Primitive {
  bool is_string = false;
  double number = 0;
  std::string_view str;
  std::string owned;
};

void ToPrimitive(const Value& v, Primitive* p) {
  switch (v.type()) {
    case Value::Type::kString:
      p->is_string = true;
      p->str = v.as_string();
      return;
    case Value::Type::kArray:
    case Value::Type::kObject:
      p->is_string = true;
      p->owned = JsToString(v);
      p->str = p->owned;
      return;
    default:
      p->number = JsToNumber(v);
      return;
  }
}

// Abstract Relational Comparison `a < b` (ECMA-262 §7.2.13): 1 true, 0 false,
// -1 undefined (a NaN was involved). Two strings compare lexicographically,
// anything else numerically.
int JsLessThan(const Value& a, const Value& b) {
  Primitive pa;
  Primitive pb;
  ToPrimitive(a, &pa);
  ToPrimitive(b, &pb);
  if (pa.is_string && pb.is_string) return pa.str < pb.str ? 1 : 0;
  const double x = pa.is_string ? JsStringToNumber(pa.str) : pa.number;
  const double y = pb.is_string ? JsStringToNumber(pb.str) : pb.number;
  if (std::isnan(x) || std::isnan(y)) return -1;
  return x < y ? 1 : 0;
}

// String.prototype.toLowerCase, ASCII letters only (docs/assignment.md).
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool AsciiEqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// GrowthBook util.ts paddedVersionString(): strip a leading "v" and "+build",
// split on "-" and ".", append "~" to a plain x.y.z, left-pad numeric parts to
// width 5 with spaces, join with "-".
std::string PaddedVersionString(std::string_view input) {
  if (input.empty()) input = "0";
  if (input[0] == 'v') input.remove_prefix(1);
  const size_t plus = input.find('+');
  if (plus != std::string_view::npos) input = input.substr(0, plus);
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= input.size(); ++i) {
    if (i == input.size() || input[i] == '-' || input[i] == '.') {
      parts.push_back(input.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() == 3) parts.push_back("~");
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('-');
    const std::string_view p = parts[i];
    bool numeric = !p.empty();
    for (char c : p) numeric = numeric && c >= '0' && c <= '9';
    if (numeric && p.size() < 5) out.append(5 - p.size(), ' ');
    out += p;
  }
  return out;
}

std::string PaddedVersionOf(const Value& v) {
  // `typeof input === "number"` -> input + ""; falsy or non-string -> "0".
  if (v.is_number()) return PaddedVersionString(JsNumberToString(v.as_number()));
  if (!v.is_string()) return PaddedVersionString("0");
  return PaddedVersionString(v.as_string());
}

// ---------------------------------------------------------------------------
// Regular expressions.

using RegexTable = std::unordered_map<const Value*, std::regex>;

std::optional<std::regex> CompileRegex(const std::string& pattern, bool insensitive) {
  try {
    auto flags = std::regex::ECMAScript;
    if (insensitive) flags |= std::regex::icase;
    return std::regex(pattern, flags);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

// Compiled regex for an operand: from the Condition's table when it was parsed,
// else from a per-thread cache (as mongrule.ts getRegex caches). nullptr when
// the pattern does not compile.
const std::regex* LookupRegex(const Value& operand, bool insensitive, const RegexTable* table) {
  if (table != nullptr) {
    const auto it = table->find(&operand);
    if (it != table->end()) return &it->second;
  }
  thread_local std::unordered_map<std::string, std::optional<std::regex>> cache;
  std::string key = operand.as_string();
  key += insensitive ? "/i" : "/";
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= 1024) cache.clear();
    it = cache.emplace(std::move(key), CompileRegex(operand.as_string(), insensitive)).first;
  }
  return it->second ? &*it->second : nullptr;
}

// ---------------------------------------------------------------------------
// The evaluator: one function per function of mongrule.ts.

struct EvalContext {
  const SavedGroups* saved_groups = nullptr;
  const RegexTable* regexes = nullptr;
};

bool EvalConditionImpl(const Value& obj, const Value& condition, const EvalContext& ctx);
bool EvalConditionValue(const Value& condition, const Value& value, const EvalContext& ctx,
                        bool insensitive = false);

// getPath(): follows a dot path through objects (and arrays: index keys and
// "length"); missing -> null. `scratch` holds a computed array length.
const Value& GetPath(const Value& obj, std::string_view path, Value* scratch) {
  const Value* current = &obj;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (current->is_object()) {
      // JSON.parse keeps the last of duplicate keys.
      const Value* found = nullptr;
      for (const auto& [k, v] : current->as_object()) {
        if (k == part) found = &v;
      }
      if (found == nullptr) return NullValue();
      current = found;
    } else if (current->is_array()) {
      const auto& arr = current->as_array();
      if (part == "length") {
        *scratch = Value(static_cast<double>(arr.size()));
        current = scratch;
      } else if (IsArrayIndexKey(part) && std::stoull(std::string(part)) < arr.size()) {
        current = &arr[std::stoull(std::string(part))];
      } else {
        return NullValue();
      }
    } else {
      return NullValue();
    }
    if (dot == std::string_view::npos) return *current;
    start = dot + 1;
  }
}

// isOperatorObject(): an object with at least one key, all starting with "$".
bool IsOperatorObject(const Value& v) {
  if (!v.is_object() || v.as_object().empty()) return false;
  for (const auto& [k, unused] : v.as_object()) {
    if (k.empty() || k[0] != '$') return false;
  }
  return true;
}

// getType()
std::string_view JsTypeName(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "boolean";
    case Value::Type::kNumber:
      return "number";
    case Value::Type::kString:
      return "string";
    case Value::Type::kArray:
      return "array";
    case Value::Type::kObject:
      return "object";
  }
  return "unknown";
}

bool FoldedEquals(const Value& a, const Value& b, bool insensitive) {
  if (insensitive && a.is_string() && b.is_string()) {
    return AsciiEqualsIgnoreCase(a.as_string(), b.as_string());
  }
  return JsStrictEquals(a, b);
}

// isIn(): membership, or intersection when the attribute is an array.
bool IsIn(const Value& actual, const Value::Array& expected, bool insensitive) {
  if (actual.is_array()) {
    for (const Value& el : actual.as_array()) {
      for (const Value& exp : expected) {
        if (FoldedEquals(el, exp, insensitive)) return true;
      }
    }
    return false;
  }
  for (const Value& exp : expected) {
    if (FoldedEquals(actual, exp, insensitive)) return true;
  }
  return false;
}

// isInAll(): every expected condition value matches some element.
bool IsInAll(const Value& actual, const Value::Array& expected, const EvalContext& ctx,
             bool insensitive) {
  if (!actual.is_array()) return false;
  for (const Value& exp : expected) {
    bool passed = false;
    for (const Value& el : actual.as_array()) {
      if (EvalConditionValue(exp, el, ctx, insensitive)) {
        passed = true;
        break;
      }
    }
    if (!passed) return false;
  }
  return true;
}

// elemMatch(): some truthy element matches (an operator object is applied to
// the element itself, anything else is a condition on the element's fields).
bool ElemMatch(const Value& actual, const Value& expected, const EvalContext& ctx) {
  if (!actual.is_array()) return false;
  const bool operators = IsOperatorObject(expected);
  for (const Value& el : actual.as_array()) {
    if (!JsTruthy(el)) continue;
    if (operators ? EvalConditionValue(expected, el, ctx) : EvalConditionImpl(el, expected, ctx)) {
      return true;
    }
  }
  return false;
}

const Value::Array* SavedGroup(const Value& id, const EvalContext& ctx) {
  if (ctx.saved_groups == nullptr) return nullptr;
  const auto it = ctx.saved_groups->find(id.is_string() ? id.as_string() : JsToString(id));
  if (it == ctx.saved_groups->end() || !it->second.is_array()) return nullptr;
  return &it->second.as_array();
}

bool RegexTest(const Value& expected, const Value& actual, bool insensitive,
               const EvalContext& ctx) {
  if (!expected.is_string()) return false;  // JS: expected.replace is not a function
  const std::regex* re = LookupRegex(expected, insensitive, ctx.regexes);
  if (re == nullptr) return false;
  try {
    if (actual.is_string()) return std::regex_search(actual.as_string(), *re);
    return std::regex_search(JsToString(actual), *re);  // RegExp.test(String(actual))
  } catch (const std::regex_error&) {
    return false;  // complexity/stack limits while matching
  }
}

// evalOperatorCondition()
bool EvalOperator(std::string_view op, const Value& actual, const Value& expected,
                  const EvalContext& ctx) {
  if (op == "$veq") return PaddedVersionOf(actual) == PaddedVersionOf(expected);
  if (op == "$vne") return PaddedVersionOf(actual) != PaddedVersionOf(expected);
  if (op == "$vgt") return PaddedVersionOf(actual) > PaddedVersionOf(expected);
  if (op == "$vgte") return PaddedVersionOf(actual) >= PaddedVersionOf(expected);
  if (op == "$vlt") return PaddedVersionOf(actual) < PaddedVersionOf(expected);
  if (op == "$vlte") return PaddedVersionOf(actual) <= PaddedVersionOf(expected);
  if (op == "$eq") return JsStrictEquals(actual, expected);
  if (op == "$ne") return !JsStrictEquals(actual, expected);
  if (op == "$lt") return JsLessThan(actual, expected) == 1;
  if (op == "$gt") return JsLessThan(expected, actual) == 1;
  if (op == "$lte") return JsLessThan(expected, actual) == 0;  // !(b < a), undefined -> false
  if (op == "$gte") return JsLessThan(actual, expected) == 0;
  if (op == "$exists") return JsTruthy(expected) ? !actual.is_null() : actual.is_null();
  if (op == "$in" || op == "$ini") {
    return expected.is_array() && IsIn(actual, expected.as_array(), op == "$ini");
  }
  if (op == "$nin" || op == "$nini") {
    return expected.is_array() && !IsIn(actual, expected.as_array(), op == "$nini");
  }
  if (op == "$inGroup" || op == "$notInGroup") {
    const Value::Array* group = SavedGroup(expected, ctx);
    const bool in = group != nullptr && IsIn(actual, *group, false);
    return op == "$inGroup" ? in : !in;
  }
  if (op == "$not") return !EvalConditionValue(expected, actual, ctx);
  if (op == "$size") {
    if (!actual.is_array()) return false;
    return EvalConditionValue(expected, Value(static_cast<double>(actual.as_array().size())), ctx);
  }
  if (op == "$elemMatch") return ElemMatch(actual, expected, ctx);
  if (op == "$all" || op == "$alli") {
    return expected.is_array() && IsInAll(actual, expected.as_array(), ctx, op == "$alli");
  }
  if (op == "$regex" || op == "$regexi") return RegexTest(expected, actual, op == "$regexi", ctx);
  if (op == "$type") return expected.is_string() && JsTypeName(actual) == expected.as_string();
  return false;  // unknown operator
}

// evalConditionValue()
bool EvalConditionValue(const Value& condition, const Value& value, const EvalContext& ctx,
                        bool insensitive) {
  switch (condition.type()) {
    case Value::Type::kString:
      if (value.is_string()) {
        return insensitive ? AsciiEqualsIgnoreCase(value.as_string(), condition.as_string())
                           : value.as_string() == condition.as_string();
      }
      return insensitive ? AsciiLower(JsToString(value)) == AsciiLower(condition.as_string())
                         : JsToString(value) == condition.as_string();
    case Value::Type::kNumber:
      return JsToNumber(value) == condition.as_number();
    case Value::Type::kBool:
      return !value.is_null() && JsTruthy(value) == condition.as_bool();
    case Value::Type::kNull:
      return value.is_null();
    default:
      break;
  }
  if (!IsOperatorObject(condition)) return JsonStringifyEquals(value, condition);
  for (const auto& [op, expected] : condition.as_object()) {
    if (!EvalOperator(op, value, expected, ctx)) return false;
  }
  return true;
}

bool EvalOr(const Value& obj, const Value& conditions, const EvalContext& ctx) {
  if (!conditions.is_array() || conditions.as_array().empty()) return true;
  for (const Value& c : conditions.as_array()) {
    if (EvalConditionImpl(obj, c, ctx)) return true;
  }
  return false;
}

bool EvalAnd(const Value& obj, const Value& conditions, const EvalContext& ctx) {
  if (!conditions.is_array()) return true;
  for (const Value& c : conditions.as_array()) {
    if (!EvalConditionImpl(obj, c, ctx)) return false;
  }
  return true;
}

// evalCondition()
bool EvalConditionImpl(const Value& obj, const Value& condition, const EvalContext& ctx) {
  if (condition.is_null()) return false;  // JS throws on Object.entries(null)
  if (condition.is_array()) {
    // Object.entries of an array: index keys as attribute paths.
    const auto& arr = condition.as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      Value scratch;
      if (!EvalConditionValue(arr[i], GetPath(obj, std::to_string(i), &scratch), ctx)) {
        return false;
      }
    }
    return true;
  }
  if (!condition.is_object()) return true;  // no own enumerable entries
  for (const auto& [k, v] : condition.as_object()) {
    if (k == "$or") {
      if (!EvalOr(obj, v, ctx)) return false;
    } else if (k == "$nor") {
      if (EvalOr(obj, v, ctx)) return false;
    } else if (k == "$and") {
      if (!EvalAnd(obj, v, ctx)) return false;
    } else if (k == "$not") {
      if (EvalConditionImpl(obj, v, ctx)) return false;
    } else {
      Value scratch;
      if (!EvalConditionValue(v, GetPath(obj, k, &scratch), ctx)) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Strict validation for Condition::Parse.

class Validator {
 public:
  explicit Validator(RegexTable* regexes) : regexes_(regexes) {}

  // A condition: {path: condition value, $and/$or/$nor: [conditions], $not: condition}.
  bool Condition(const Value& c, const std::string& path) {
    if (!c.is_object()) return Fail(path, "a condition must be an object");
    for (const auto& [k, v] : c.as_object()) {
      const std::string child = path + "." + k;
      if (k == "$and" || k == "$or" || k == "$nor") {
        if (!v.is_array()) return Fail(child, k + " needs an array of conditions");
        for (size_t i = 0; i < v.as_array().size(); ++i) {
          if (!Condition(v.as_array()[i], child + "[" + std::to_string(i) + "]")) return false;
        }
      } else if (k == "$not") {
        if (!Condition(v, child)) return false;
      } else {
        // Any other key is an attribute path, "$"-prefixed ones included
        // (GrowthBook treats e.g. "$groups" as an attribute name).
        if (k.empty()) return Fail(child, "empty attribute path");
        if (!ConditionValue(v, child)) return false;
      }
    }
    return true;
  }

  // A condition value: a literal (compared as GrowthBook does) or an operator object.
  bool ConditionValue(const Value& v, const std::string& path) {
    if (!v.is_object() || v.as_object().empty()) return true;
    size_t operators = 0;
    for (const auto& [k, unused] : v.as_object()) {
      if (!k.empty() && k[0] == '$') ++operators;
    }
    if (operators == 0) return true;  // literal object, compared with JSON equality
    if (operators != v.as_object().size()) {
      return Fail(path,
                  "mixes $operators and plain fields (GrowthBook would compare it literally)");
    }
    for (const auto& [op, arg] : v.as_object()) {
      if (!Operator(op, arg, path + "." + op)) return false;
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool Operator(const std::string& op, const Value& arg, const std::string& path) {
    if (op == "$eq" || op == "$ne") {
      if (arg.is_array() || arg.is_object()) {
        return Fail(path, op + " needs a string, number, boolean or null");
      }
      return true;
    }
    if (op == "$lt" || op == "$lte" || op == "$gt" || op == "$gte") {
      if (!arg.is_number() && !arg.is_string()) return Fail(path, op + " needs a number or string");
      return true;
    }
    if (op == "$veq" || op == "$vne" || op == "$vgt" || op == "$vgte" || op == "$vlt" ||
        op == "$vlte") {
      if (!arg.is_string()) return Fail(path, op + " needs a version string");
      return true;
    }
    if (op == "$in" || op == "$nin" || op == "$ini" || op == "$nini") {
      if (!arg.is_array()) return Fail(path, op + " needs an array");
      return true;
    }
    if (op == "$all" || op == "$alli") {
      if (!arg.is_array()) return Fail(path, op + " needs an array");
      for (size_t i = 0; i < arg.as_array().size(); ++i) {
        if (!ConditionValue(arg.as_array()[i], path + "[" + std::to_string(i) + "]")) return false;
      }
      return true;
    }
    if (op == "$inGroup" || op == "$notInGroup") {
      if (!arg.is_string()) return Fail(path, op + " needs a saved group id (string)");
      return true;
    }
    if (op == "$exists") {
      if (!arg.is_bool()) return Fail(path, "$exists needs true or false");
      return true;
    }
    if (op == "$type") {
      static constexpr std::string_view kTypes[] = {"string", "number", "boolean",
                                                    "array",  "object", "null"};
      if (arg.is_string()) {
        for (std::string_view t : kTypes) {
          if (arg.as_string() == t) return true;
        }
      }
      return Fail(path, "$type needs one of string, number, boolean, array, object, null");
    }
    if (op == "$regex" || op == "$regexi") {
      if (!arg.is_string()) return Fail(path, op + " needs a pattern string");
      std::optional<std::regex> re = CompileRegex(arg.as_string(), op == "$regexi");
      if (!re) return Fail(path, "invalid regular expression \"" + arg.as_string() + "\"");
      regexes_->emplace(&arg, std::move(*re));
      return true;
    }
    if (op == "$not") return ConditionValue(arg, path);
    if (op == "$size") {
      if (!arg.is_number() && !IsOperatorObject(arg)) {
        return Fail(path, "$size needs a number or an operator object");
      }
      return ConditionValue(arg, path);
    }
    if (op == "$elemMatch") {
      if (!arg.is_object()) return Fail(path, "$elemMatch needs an object");
      return IsOperatorObject(arg) ? ConditionValue(arg, path) : Condition(arg, path);
    }
    return Fail(path, "unknown operator " + op);
  }

  bool Fail(const std::string& path, const std::string& problem) {
    error_ = path + ": " + problem;
    return false;
  }

  RegexTable* regexes_;
  std::string error_;
};

}  // namespace

bool EvalCondition(const Value& attributes, const Value& condition,
                   const SavedGroups* saved_groups) {
  EvalContext ctx;
  ctx.saved_groups = saved_groups;
  return EvalConditionImpl(attributes, condition, ctx);
}

int CompareVersions(std::string_view a, std::string_view b) {
  const int c = PaddedVersionString(a).compare(PaddedVersionString(b));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct Condition::Impl {
  Value condition;
  RegexTable regexes;  // keyed by the address of each $regex operand inside `condition`
};

std::shared_ptr<const Condition> Condition::Parse(const Value& condition, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->condition = condition;  // validate the stored copy so the regex keys point into it
  Validator validator(&impl->regexes);
  if (!validator.Condition(impl->condition, "condition")) {
    if (error != nullptr) *error = validator.error();
    return nullptr;
  }
  return std::shared_ptr<const Condition>(new Condition(std::move(impl)));
}

Condition::Condition(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Condition::~Condition() = default;

bool Condition::Matches(const Value& attributes) const { return Matches(attributes, nullptr); }

bool Condition::Matches(const Value& attributes, const SavedGroups* saved_groups) const {
  EvalContext ctx;
  ctx.saved_groups = saved_groups;
  ctx.regexes = &impl_->regexes;
  return EvalConditionImpl(attributes, impl_->condition, ctx);
}

const Value& Condition::condition() const { return impl_->condition; }

}  // namespace causeway::assign
