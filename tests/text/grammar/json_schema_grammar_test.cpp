#include "text/grammar/json_schema_grammar.h"

#include <doctest/doctest.h>

#include "text/grammar/grammar_test_support.h"

namespace moestream {
namespace {

using Json = nlohmann::ordered_json;
using testing::grammar_accepts;

GrammarAutomaton schema_automaton(const char* schema) {
  auto g = json_schema_grammar(Json::parse(schema));
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  return GrammarAutomaton(std::move(g).value());
}

TEST_CASE("json schema grammar: objects keep property order, required and optional members") {
  GrammarAutomaton a = schema_automaton(R"({"type":"object","properties":{
      "name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
      "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},
      "required":["name"],"additionalProperties":false})");
  for (const char* ok : {R"({"name":"x"})", R"({"name":"x","age":42})", R"({ "name" : "x" , "tags" : ["a","b"] })",
                         R"({"name":"","age":0,"tags":[]})", "{\n  \"name\": \"\\u00e9\\n\"\n}"}) {
    CHECK_MESSAGE(grammar_accepts(a, ok), ok);
  }
  for (const char* bad : {R"({})", R"({"age":1})", R"({"name":"x","age":151})", R"({"age":1,"name":"x"})",
                          R"({"name":"x","other":1})", R"({"name":"x","tags":["a","b","a"]})", R"({"name":"x",})",
                          R"({"name":"x"} )", R"({"name":"x\ud800"})"}) {
    CHECK_MESSAGE(!grammar_accepts(a, bad), bad);
  }
}

TEST_CASE("json schema grammar: anyOf, const, enum, $ref with recursion, formats, type lists") {
  GrammarAutomaton a = schema_automaton(R"({"$defs":{"node":{"type":"object","properties":{
      "v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},
      "required":["v","next"],"additionalProperties":false}},"$ref":"#/$defs/node"})");
  CHECK(grammar_accepts(a, R"({"v":1,"next":{"v":2,"next":null}})"));
  CHECK_FALSE(grammar_accepts(a, R"({"v":1,"next":{"v":2}})"));

  GrammarAutomaton f = schema_automaton(R"({"type":"object","properties":{
      "id":{"type":"string","format":"uuid"},"ip":{"format":"ipv4"},"when":{"type":"string","format":"date-time"},
      "mail":{"type":"string","format":"email"},"kind":{"const":"fixed"},"n":{"type":["number","null"]}},
      "required":["id","ip","when","mail","kind","n"]})");
  CHECK(grammar_accepts(f, R"({"id":"123e4567-e89b-12d3-a456-426614174000","ip":"192.168.0.255",)"
                           R"("when":"2024-02-28T23:59:59.5+01:00","mail":"a.b@example.com","kind":"fixed","n":null})"));
  CHECK_FALSE(grammar_accepts(f, R"({"id":"123e4567","ip":"192.168.0.255","when":"2024-02-28T23:59:59Z","mail":"a@b.c","kind":"fixed","n":1})"));
  CHECK_FALSE(grammar_accepts(f, R"({"id":"123e4567-e89b-12d3-a456-426614174000","ip":"256.1.1.1","when":"2024-02-28T23:59:59Z","mail":"a@b.c","kind":"fixed","n":1})"));
}

TEST_CASE("json schema grammar: JSON mode is any object, nested within the depth limit") {
  GrammarAutomaton a(json_object_grammar());
  CHECK(grammar_accepts(a, R"({"a":[1,-2.5,true,null,{"b":"c"}],"d":{}})"));
  CHECK(grammar_accepts(a, "{}"));
  CHECK_FALSE(grammar_accepts(a, "[]"));
  CHECK_FALSE(grammar_accepts(a, R"({"a":01})"));
  CHECK_FALSE(grammar_accepts(a, R"({"a":1}})"));
  std::string deep = "{\"a\":";
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) deep += "[";
  CHECK_FALSE(testing::grammar_allows_prefix(a, deep));
  // Whitespace is bounded.
  CHECK(grammar_accepts(a, "{" + std::string(JsonTextRules::kMaxWhitespace, ' ') + "}"));
  CHECK_FALSE(testing::grammar_allows_prefix(a, "{" + std::string(JsonTextRules::kMaxWhitespace + 1, ' ')));
}

TEST_CASE("json schema grammar: unsupported keywords are refused, naming the keyword and where it is") {
  const std::pair<const char*, const char*> refused[] = {
      {R"({"type":"object","properties":{"age":{"type":"integer","multipleOf":3}}})", "'multipleOf' at #/properties/age"},
      {R"({"oneOf":[{"type":"string"}]})", "'oneOf' at #"},
      {R"({"type":"array","items":{"not":{}}})", "'not' at #/items"},
      {R"({"type":"object","patternProperties":{}})", "'patternProperties'"},
      {R"({"type":"string","format":"uri"})", "format 'uri'"},
      {R"({"$ref":"#/$defs/missing"})", "names nothing"},
      {R"({"$ref":"http://example.com/s.json"})", "only local references"},
      {R"({"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},"$ref":"#/$defs/a"})", "refers to itself"},
      {R"j({"type":"string","pattern":"(?=x)"})j", "lookaround"},
      {R"({"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false})", "'b'"},
      {R"({"type":"integer","minimum":"1"})", "minimum must be a number"},
      {R"({"type":"object","properties":{"a":{}},"additionalProperties":true})", "additionalProperties"},
      {R"({"anyOf":[{"type":"string"}],"type":"string"})", "'anyOf' together with 'type'"},
      {R"({"type":"uuid"})", "unknown type 'uuid'"},
  };
  for (const auto& [schema, expect] : refused) {
    auto g = json_schema_grammar(Json::parse(schema));
    REQUIRE_MESSAGE(!g.ok(), schema);
    CHECK(g.status().code() == ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(g.status().message().find(expect) != std::string::npos, g.status().message(), " lacks ", expect);
  }
}

}  // namespace
}  // namespace moestream

namespace moestream {
namespace {

TEST_CASE("json schema grammar: enum values share their prefixes and are accepted exactly") {
  GrammarAutomaton a = schema_automaton(R"({"enum":["ab","abc","abd","","b",1,10,null,{"k":[1]},"ab"]})");
  for (const char* ok : {R"("ab")", R"("abc")", R"("abd")", R"("")", R"("b")", "1", "10", "null", R"({"k":[1]})"}) {
    CHECK_MESSAGE(testing::grammar_accepts(a, ok), ok);
  }
  for (const char* bad : {R"("a")", R"("abcd")", R"("abe")", "100", "0", R"({"k":[2]})", R"("b" )"}) {
    CHECK_MESSAGE(!testing::grammar_accepts(a, bad), bad);
  }
  // One reading at a time: after "ab the automaton is in one state with few stacks.
  const int32_t s = a.advance(a.start(), "\"ab", 3);
  REQUIRE(s >= 0);
  CHECK(a.distance(s) == 1);
}

}  // namespace
}  // namespace moestream
