#include "text/grammar/json_schema_grammar.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "text/grammar/number_grammar.h"
#include "text/grammar/regex_grammar.h"

namespace moestream {
namespace {

using Json = nlohmann::ordered_json;

const std::set<std::string>& annotations() {
  static const std::set<std::string> k{"title", "description", "default", "examples", "$schema", "$id",
                                       "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
  return k;
}

const std::set<std::string>& supported() {
  static const std::set<std::string> k{"type", "properties", "required", "additionalProperties", "items",
                                       "minItems", "maxItems", "enum", "const", "pattern", "format",
                                       "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
                                       "exclusiveMaximum", "anyOf", "$ref"};
  return k;
}

// Anchored patterns for the formats: a subset of each format that validators accept (e.g.
// days 01-28, so every month has them).
const char* format_pattern(const std::string& f) {
  if (f == "email") return "^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9-]{1,63}(\\.[a-zA-Z0-9-]{1,63}){1,4}$";
  if (f == "uuid") return "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
  if (f == "date") return "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$";
  if (f == "time") return "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
  if (f == "date-time") {
    return "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
           "(\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
  }
  if (f == "ipv4") return "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$";
  if (f == "ipv6") return "^([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}$";
  if (f == "hostname") return "^[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,3}$";
  return nullptr;
}

Status unsupported(const std::string& what, const std::string& where) {
  return invalid_argument(what + " at " + where);
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Result<int64_t> count_of(const Json& s, const char* key, const std::string& where) {
  const Json& v = s.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    return invalid_argument(std::string(key) + " must be a non-negative integer at " + where);
  }
  return v.get<int64_t>();
}

// The alternatives of values[lo, hi) (sorted, sharing their first `depth` bytes) past that
// prefix, as a prefix tree: values that share a prefix share its states, so a long enum is
// one reading at a time instead of one per value.
uint32_t prefix_tree(Grammar& g, const std::vector<std::string>& values, size_t lo, size_t hi, size_t depth) {
  std::vector<Grammar::Sequence> alts;
  if (lo < hi && values[lo].size() == depth) alts.push_back({}), ++lo;
  while (lo < hi) {
    size_t end = lo + 1;
    while (end < hi && values[end][depth] == values[lo][depth]) ++end;
    // The longest prefix the group [lo, end) shares (sorted: the first and the last bound it).
    const std::string& a = values[lo];
    const std::string& b = values[end - 1];
    size_t common = depth + 1;
    while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
    Grammar::Sequence seq = g.literal(std::string_view(a).substr(depth, common - depth));
    if (end - lo > 1 || a.size() > common) seq.push_back(Grammar::ref(prefix_tree(g, values, lo, end, common)));
    alts.push_back(std::move(seq));
    lo = end;
  }
  return g.rule("literals", std::move(alts));
}

uint32_t literal_set(Grammar& g, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return prefix_tree(g, values, 0, values.size(), 0);
}

// `min_key` / `max_key` of `s` (absent: 0, and -1 for unbounded), each at most `cap`.
Result<std::pair<int64_t, int64_t>> count_range(const Json& s, const char* min_key, const char* max_key, int64_t cap,
                                                const std::string& where) {
  int64_t lo = 0, hi = -1;
  if (s.contains(min_key)) {
    MOESTREAM_ASSIGN_OR_RETURN(lo, count_of(s, min_key, where));
  }
  if (s.contains(max_key)) {
    MOESTREAM_ASSIGN_OR_RETURN(hi, count_of(s, max_key, where));
  }
  if (lo > cap || hi > cap) {
    return unsupported(std::string(min_key) + "/" + max_key + " above " + std::to_string(cap) + " are not supported", where);
  }
  if (hi >= 0 && hi < lo) return invalid_argument(std::string(max_key) + " is below " + min_key + " at " + where);
  return std::pair<int64_t, int64_t>(lo, hi);
}

}  // namespace

JsonSchemaCompiler::JsonSchemaCompiler(Grammar& g, const Json& root) : g_(g), root_(root), text_(g) {}

Result<uint32_t> JsonSchemaCompiler::value(const Json& s, const std::string& where) {
  if (s.is_boolean()) {
    if (s.get<bool>()) return any_value();
    return invalid_argument("the schema 'false' matches nothing at " + where);
  }
  if (!s.is_object()) return invalid_argument("a schema must be an object at " + where);
  bool constrained = false;  // any keyword besides annotations
  for (const auto& [key, v] : s.items()) {
    if (annotations().count(key)) continue;
    if (!supported().count(key)) return unsupported("unsupported keyword '" + key + "'", where);
    constrained = true;
  }
  const auto siblings_of = [&](const char* only) -> Status {
    for (const auto& [key, v] : s.items()) {
      if (key != only && !annotations().count(key)) {
        return unsupported(std::string("'") + only + "' together with '" + key + "' is not supported", where);
      }
    }
    return ok_status();
  };
  if (s.contains("$ref")) {
    MOESTREAM_TRY(siblings_of("$ref"));
    if (!s["$ref"].is_string()) return invalid_argument("$ref must be a string at " + where);
    return ref(s["$ref"].get<std::string>(), where);
  }
  if (s.contains("anyOf")) {
    MOESTREAM_TRY(siblings_of("anyOf"));
    const Json& list = s["anyOf"];
    if (!list.is_array() || list.empty()) return invalid_argument("anyOf must be a non-empty array at " + where);
    std::vector<Grammar::Sequence> alts;
    for (size_t i = 0; i < list.size(); ++i) {
      MOESTREAM_ASSIGN_OR_RETURN(uint32_t r, value(list[i], where + "/anyOf/" + std::to_string(i)));
      alts.push_back({Grammar::ref(r)});
    }
    return g_.rule("anyOf", std::move(alts));
  }
  if (s.contains("const")) return literal_set(g_, {s["const"].dump()});
  if (s.contains("enum")) {
    const Json& list = s["enum"];
    if (!list.is_array() || list.empty()) return invalid_argument("enum must be a non-empty array at " + where);
    std::vector<std::string> values;
    for (const auto& v : list) values.push_back(v.dump());
    return literal_set(g_, std::move(values));
  }
  if (!constrained) return any_value();
  if (s.contains("type")) {
    const Json& t = s["type"];
    if (t.is_string()) return typed(t.get<std::string>(), s, where);
    if (!t.is_array() || t.empty()) return invalid_argument("type must be a string or a non-empty array at " + where);
    std::vector<Grammar::Sequence> alts;
    for (const auto& one : t) {
      if (!one.is_string()) return invalid_argument("type must list strings at " + where);
      MOESTREAM_ASSIGN_OR_RETURN(uint32_t r, typed(one.get<std::string>(), s, where));
      alts.push_back({Grammar::ref(r)});
    }
    return g_.rule("types", std::move(alts));
  }
  // No type: the keywords say which.
  for (const char* k : {"properties", "required", "additionalProperties"}) {
    if (s.contains(k)) return typed("object", s, where);
  }
  for (const char* k : {"items", "minItems", "maxItems"}) {
    if (s.contains(k)) return typed("array", s, where);
  }
  for (const char* k : {"pattern", "format", "minLength", "maxLength"}) {
    if (s.contains(k)) return typed("string", s, where);
  }
  return typed("number", s, where);
}

Result<uint32_t> JsonSchemaCompiler::typed(const std::string& type, const Json& s, const std::string& where) {
  if (type == "object") return object(s, where);
  if (type == "array") return array(s, where);
  if (type == "string") return string(s, where);
  if (type == "boolean") return g_.rule("boolean", {g_.literal("true"), g_.literal("false")});
  if (type == "null") return g_.rule("null", {g_.literal("null")});
  if (type != "integer" && type != "number") return unsupported("unknown type '" + type + "'", where);
  NumberBounds b;
  const auto number_at = [&](const char* key) -> Result<double> {
    if (!s[key].is_number()) return invalid_argument(std::string(key) + " must be a number at " + where);
    return s[key].get<double>();
  };
  if (s.contains("minimum")) {
    MOESTREAM_ASSIGN_OR_RETURN(b.minimum, number_at("minimum"));
  }
  if (s.contains("maximum")) {
    MOESTREAM_ASSIGN_OR_RETURN(b.maximum, number_at("maximum"));
  }
  for (const bool lower : {true, false}) {
    const char* key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
    if (!s.contains(key)) continue;
    std::optional<double>& bound = lower ? b.minimum : b.maximum;
    bool& exclusive = lower ? b.exclusive_minimum : b.exclusive_maximum;
    if (s[key].is_boolean()) {  // draft 4: a flag on minimum / maximum
      exclusive = s[key].get<bool>() && bound.has_value();
      continue;
    }
    MOESTREAM_ASSIGN_OR_RETURN(double v, number_at(key));
    if (!bound || (lower ? v >= *bound : v <= *bound)) {
      bound = v;
      exclusive = true;
    }
  }
  auto r = number_rule(g_, type == "integer", b);
  if (!r.ok()) return invalid_argument(r.status().message() + " at " + where);
  return r;
}

Result<uint32_t> JsonSchemaCompiler::ref(const std::string& pointer, const std::string& where) {
  if (auto it = refs_.find(pointer); it != refs_.end()) return it->second;
  if (pointer.empty() || pointer[0] != '#') {
    return unsupported("$ref '" + pointer + "' (only local references '#...' are supported)", where);
  }
  const Json* target = nullptr;
  try {
    target = &root_.at(nlohmann::ordered_json::json_pointer(pointer.substr(1)));
  } catch (const std::exception&) {
    return invalid_argument("$ref '" + pointer + "' names nothing in the schema at " + where);
  }
  // The rule exists before its body so a recursive schema refers back to it.
  const uint32_t r = g_.new_rule("ref");
  refs_.emplace(pointer, r);
  MOESTREAM_ASSIGN_OR_RETURN(uint32_t body, value(*target, pointer));
  g_.add_alternative(r, {Grammar::ref(body)});
  return r;
}

uint32_t JsonSchemaCompiler::members(const std::vector<std::tuple<std::string, uint32_t, bool>>& props,
                                     std::optional<uint32_t> extra) {
  Grammar& g = g_;
  const auto ws = Grammar::ref(text_.whitespace());
  Grammar::Sequence sep{ws, g.byte(','), ws};
  const auto kv = [&](const Grammar::Sequence& key, uint32_t value_rule) {
    Grammar::Sequence s = key;
    s.insert(s.end(), {ws, g.byte(':'), ws, Grammar::ref(value_rule)});
    return s;
  };
  // rest[i]: members i.. after one was written; first[i]: the first member from i on (none:
  // nothing can be written from i on).
  std::optional<uint32_t> first;
  uint32_t rest = g.rule("rest", {{}});
  if (extra) {
    Grammar::Sequence extra_kv = kv({Grammar::ref(any_string())}, *extra);
    Grammar::Sequence again = sep;
    again.insert(again.end(), extra_kv.begin(), extra_kv.end());
    rest = g.star(again, "more");
    extra_kv.push_back(Grammar::ref(rest));
    first = g.rule("first", {extra_kv});
  }
  bool all_optional = true;
  for (size_t i = props.size(); i-- > 0;) {
    const auto& [key, value_rule, required] = props[i];
    all_optional = all_optional && !required;
    Grammar::Sequence this_kv = kv(g.literal(key), value_rule);
    this_kv.push_back(Grammar::ref(rest));
    Grammar::Sequence after_sep = sep;
    after_sep.insert(after_sep.end(), this_kv.begin(), this_kv.end());
    std::vector<Grammar::Sequence> rest_alts{after_sep}, first_alts{this_kv};
    if (!required) {
      rest_alts.push_back({Grammar::ref(rest)});
      if (first) first_alts.push_back({Grammar::ref(*first)});
    }
    rest = g.rule("rest", std::move(rest_alts));
    first = g.rule("first", std::move(first_alts));
  }
  std::vector<Grammar::Sequence> body;
  if (all_optional) body.push_back({g.byte('}')});
  if (first) body.push_back({Grammar::ref(*first), ws, g.byte('}')});
  return g.rule("object", {{g.byte('{'), ws, Grammar::ref(g.rule("members", std::move(body)))}});
}

Result<uint32_t> JsonSchemaCompiler::object(const Json& s, const std::string& where) {
  std::vector<std::tuple<std::string, uint32_t, bool>> props;
  std::set<std::string> required;
  if (s.contains("required")) {
    if (!s["required"].is_array()) return invalid_argument("required must be an array at " + where);
    for (const auto& r : s["required"]) {
      if (!r.is_string()) return invalid_argument("required must list strings at " + where);
      required.insert(r.get<std::string>());
    }
  }
  std::set<std::string> declared;
  if (s.contains("properties")) {
    if (!s["properties"].is_object()) return invalid_argument("properties must be an object at " + where);
    for (const auto& [name, sub] : s["properties"].items()) {
      MOESTREAM_ASSIGN_OR_RETURN(uint32_t r, value(sub, where + "/properties/" + pointer_token(name)));
      props.emplace_back(Json(name).dump(), r, required.count(name) > 0);
      declared.insert(name);
    }
  }
  std::optional<uint32_t> extra;
  if (s.contains("additionalProperties")) {
    const Json& a = s["additionalProperties"];
    if (!(a.is_boolean() && !a.get<bool>())) {
      if (!declared.empty()) {
        return unsupported("additionalProperties other than false together with properties is not supported", where);
      }
      MOESTREAM_ASSIGN_OR_RETURN(extra, value(a, where + "/additionalProperties"));
    }
  } else if (declared.empty()) {
    extra = any_value(1);  // no properties named: any members
  }
  for (const auto& name : required) {
    if (!declared.count(name) && !extra) {
      return invalid_argument("required names '" + name + "', which properties does not define, at " + where);
    }
    if (!declared.count(name)) {
      return unsupported("required '" + name + "' outside properties is not supported", where);
    }
  }
  return members(props, extra);
}

Result<uint32_t> JsonSchemaCompiler::array(const Json& s, const std::string& where) {
  uint32_t item = 0;
  if (s.contains("items")) {
    if (s["items"].is_array()) return unsupported("items as an array (tuple validation) is not supported", where);
    MOESTREAM_ASSIGN_OR_RETURN(item, value(s["items"], where + "/items"));
  } else {
    item = any_value(1);
  }
  MOESTREAM_ASSIGN_OR_RETURN(const auto items, count_range(s, "minItems", "maxItems", 1000, where));
  return array_of(item, items.first, items.second);
}

uint32_t JsonSchemaCompiler::array_of(uint32_t item, int64_t lo, int64_t hi) {
  const auto ws = Grammar::ref(text_.whitespace());
  std::vector<Grammar::Sequence> body;
  if (lo == 0) body.push_back({g_.byte(']')});
  if (hi != 0) {
    const Grammar::Sequence more{ws, g_.byte(','), ws, Grammar::ref(item)};
    const uint32_t tail = g_.repeat(more, std::max<int64_t>(lo - 1, 0), hi < 0 ? -1 : hi - 1, "items");
    body.push_back({Grammar::ref(item), Grammar::ref(tail), ws, g_.byte(']')});
  }
  return g_.rule("array", {{g_.byte('['), ws, Grammar::ref(g_.rule("elements", std::move(body)))}});
}

Result<uint32_t> JsonSchemaCompiler::string(const Json& s, const std::string& where) {
  const bool has_length = s.contains("minLength") || s.contains("maxLength");
  uint32_t content = 0;
  if (s.contains("pattern") || s.contains("format")) {
    if (s.contains("pattern") && s.contains("format")) return unsupported("pattern together with format is not supported", where);
    if (has_length) return unsupported("minLength/maxLength together with pattern or format are not supported", where);
    std::string pattern;
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return invalid_argument("pattern must be a string at " + where);
      pattern = s["pattern"].get<std::string>();
    } else {
      if (!s["format"].is_string()) return invalid_argument("format must be a string at " + where);
      const char* p = format_pattern(s["format"].get<std::string>());
      if (p == nullptr) return unsupported("unsupported format '" + s["format"].get<std::string>() + "'", where);
      pattern = p;
    }
    auto r = pattern_rule(text_, pattern);
    if (!r.ok()) return invalid_argument(r.status().message() + " at " + where);
    content = *r;
  } else {
    MOESTREAM_ASSIGN_OR_RETURN(const auto length, count_range(s, "minLength", "maxLength", 10000, where));
    content = g_.repeat({Grammar::ref(text_.string_char())}, length.first, length.second, "chars");
  }
  return g_.rule("string", {{g_.byte('"'), Grammar::ref(content), g_.byte('"')}});
}

uint32_t JsonSchemaCompiler::any_string() {
  if (!any_string_) {
    any_string_ = g_.rule("string", {{g_.byte('"'), Grammar::ref(g_.star({Grammar::ref(text_.string_char())}, "chars")),
                                      g_.byte('"')}});
  }
  return *any_string_;
}

uint32_t JsonSchemaCompiler::any_value(int depth) {
  depth = std::min(depth, kMaxJsonDepth);
  std::optional<uint32_t>& memo = any_value_[static_cast<size_t>(depth)];
  if (memo) return *memo;
  std::vector<Grammar::Sequence> alts;
  if (depth < kMaxJsonDepth) {
    alts.push_back({Grammar::ref(any_object(depth))});
    alts.push_back({Grammar::ref(any_array(depth))});
  }
  alts.push_back({Grammar::ref(any_string())});
  alts.push_back({Grammar::ref(number_rule(g_, false, {}).value())});
  alts.push_back(g_.literal("true"));
  alts.push_back(g_.literal("false"));
  alts.push_back(g_.literal("null"));
  return *(memo = g_.rule("value", std::move(alts)));
}

uint32_t JsonSchemaCompiler::any_object(int depth) {
  std::optional<uint32_t>& memo = any_object_[static_cast<size_t>(std::min(depth, kMaxJsonDepth))];
  if (!memo) memo = members({}, any_value(depth + 1));
  return *memo;
}

uint32_t JsonSchemaCompiler::any_array(int depth) {
  std::optional<uint32_t>& memo = any_array_[static_cast<size_t>(std::min(depth, kMaxJsonDepth))];
  if (!memo) memo = array_of(any_value(depth + 1), 0, -1);
  return *memo;
}

Result<Grammar> json_schema_grammar(const Json& schema) {
  Grammar g;
  JsonSchemaCompiler c(g, schema);
  MOESTREAM_ASSIGN_OR_RETURN(uint32_t r, c.value(schema));
  g.set_root(r);
  const std::string bad = g.left_recursive_rule();
  if (!bad.empty()) return invalid_argument("$ref: a schema that refers to itself before any value is written");
  return g;
}

Grammar json_object_grammar() {
  Grammar g;
  const Json none;
  JsonSchemaCompiler c(g, none);
  g.set_root(c.any_object(0));
  return g;
}

}  // namespace moestream
