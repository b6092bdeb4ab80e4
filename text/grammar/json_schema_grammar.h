// JSON Schema (the subset strict structured output needs) and JSON mode compiled to a Grammar.
// Supported: type (one or a list), object (properties in their order, required,
// additionalProperties false / absent = no others when properties are given; a map of any keys
// when only additionalProperties or nothing is given), array (items, minItems, maxItems),
// string (pattern, format email / uuid / date-time / date / time / ipv4 / ipv6 / hostname,
// minLength, maxLength), number / integer (minimum, maximum, exclusiveMinimum,
// exclusiveMaximum), boolean, null, enum, const, anyOf, $ref into $defs / definitions / the
// root; annotations (title, description, default, examples, ...) are ignored. Any other
// keyword is refused, naming it and where it is, before anything is generated.
// Whitespace between tokens is bounded; free-form values nest at most kMaxJsonDepth deep.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "platform/status.h"
#include "text/grammar/grammar.h"
#include "text/grammar/json_text_rules.h"

namespace moestream {

inline constexpr int kMaxJsonDepth = 6;

// Compiles schemas into one grammar (several can share it, e.g. a rule per tool).
class JsonSchemaCompiler {
 public:
  // `root` resolves "$ref": "#..." pointers; it must outlive the compiler.
  JsonSchemaCompiler(Grammar& g, const nlohmann::ordered_json& root);
  // A rule for one JSON value valid against `schema`; errors are kInvalidArgument and name
  // the keyword and its JSON pointer (`where`).
  Result<uint32_t> value(const nlohmann::ordered_json& schema, const std::string& where = "#");
  // Any JSON value / object (JSON mode), nested at most kMaxJsonDepth.
  uint32_t any_value(int depth = 0);
  uint32_t any_object(int depth = 0);
  JsonTextRules& text() { return text_; }

 private:
  Result<uint32_t> object(const nlohmann::ordered_json& s, const std::string& where);
  Result<uint32_t> array(const nlohmann::ordered_json& s, const std::string& where);
  Result<uint32_t> string(const nlohmann::ordered_json& s, const std::string& where);
  Result<uint32_t> typed(const std::string& type, const nlohmann::ordered_json& s, const std::string& where);
  Result<uint32_t> ref(const std::string& pointer, const std::string& where);
  uint32_t any_string();
  uint32_t any_array(int depth);
  // "[" items "]" with lo..hi items (hi < 0: unbounded).
  uint32_t array_of(uint32_t item, int64_t lo, int64_t hi);
  // "{" members "}" from an ordered list of (key literal, value rule, required) and an
  // optional rule for any other member's value.
  uint32_t members(const std::vector<std::tuple<std::string, uint32_t, bool>>& props, std::optional<uint32_t> extra);

  Grammar& g_;
  const nlohmann::ordered_json& root_;
  JsonTextRules text_;
  std::map<std::string, uint32_t> refs_;
  // Rules for free-form values, objects and arrays by nesting depth (made once each).
  std::array<std::optional<uint32_t>, kMaxJsonDepth + 1> any_value_, any_object_, any_array_;
  std::optional<uint32_t> any_string_;
  int ref_depth_ = 0;
};

// The whole output is one value valid against `schema`.
Result<Grammar> json_schema_grammar(const nlohmann::ordered_json& schema);
// The whole output is one JSON object (response_format json_object).
Grammar json_object_grammar();

}  // namespace moestream
