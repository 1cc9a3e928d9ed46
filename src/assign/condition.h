// Targeting conditions in GrowthBook's condition syntax (MongoDB-style).
//
// Semantics follow GrowthBook's SDK (packages/sdk-js/src/mongrule.ts,
// evalCondition): operators $eq $ne $gt $gte $lt $lte $in $nin $exists $type
// $regex $and $or $nor $not $elemMatch $size $all $veq $vne $vgt $vgte $vlt
// $vlte (and $inGroup/$notInGroup with saved groups), dot paths into nested
// attributes. docs/assignment.md lists any deliberate difference.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "assign/value.h"

namespace causeway::assign {

// Saved groups for $inGroup / $notInGroup: group id -> array of member values.
using SavedGroups = std::unordered_map<std::string, Value>;

// Evaluates a condition exactly as GrowthBook's evalCondition does (an unknown
// operator or an invalid regex makes that sub-condition false; nothing throws).
bool EvalCondition(const Value& attributes, const Value& condition,
                   const SavedGroups* saved_groups = nullptr);

// Compares two version strings the way GrowthBook's paddedVersionString does:
// negative, zero or positive like strcmp.
int CompareVersions(std::string_view a, std::string_view b);

// A condition checked once for well-formedness and prepared for fast repeated
// evaluation (regexes compiled once). Immutable and thread-safe after Parse.
class Condition {
 public:
  // Returns nullptr and sets *error to "<json path>: <problem>" when the condition
  // is malformed: not an object, unknown $operator, wrong operand type (e.g. $in
  // without an array, $regex that does not compile, $and without an array).
  static std::shared_ptr<const Condition> Parse(const Value& condition, std::string* error);

  // Same result as EvalCondition(attributes, condition()).
  bool Matches(const Value& attributes) const;
  // Same result as EvalCondition(attributes, condition(), saved_groups).
  bool Matches(const Value& attributes, const SavedGroups* saved_groups) const;

  const Value& condition() const;

  ~Condition();

 private:
  struct Impl;
  explicit Condition(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeway::assign
