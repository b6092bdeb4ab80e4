#include "text/grammar/regex_grammar.h"

#include <doctest/doctest.h>

#include <string>

#include "text/grammar/grammar_test_support.h"

namespace moestream {
namespace {

using testing::grammar_accepts;

// The grammar of a JSON string (quotes included) whose content matches `pattern`.
Result<GrammarAutomaton> pattern_string(const std::string& pattern) {
  Grammar g;
  JsonTextRules text(g);
  auto r = pattern_rule(text, pattern);
  if (!r.ok()) return r.status();
  g.set_root(g.rule("string", {{g.byte('"'), Grammar::ref(*r), g.byte('"')}}));
  return GrammarAutomaton(g);
}

TEST_CASE("regex grammar: anchored patterns accept exactly their strings, written as JSON") {
  struct Case {
    const char* pattern;
    std::vector<const char*> accept, reject;
  };
  const Case cases[] = {
      {"^[A-Z]{2}-\\d{3,4}$", {"\"AB-123\"", "\"XY-0000\""}, {"\"ab-123\"", "\"AB-12\"", "\"AB-12345\"", "\"AB123\""}},
      {"^(cat|dog)s?$", {"\"cat\"", "\"dogs\""}, {"\"cats!\"", "\"bird\"", "\"\""}},
      {"^a.c$", {"\"abc\"", "\"a\\\"c\"", "\"a\\\\c\"", "\"aéc\""}, {"\"ac\"", "\"a\\nc\""}},
      {"^[^a-z]+$", {"\"ABC 123\"", "\"日本\""}, {"\"aB\""}},
      {"^\\w+@\\w+\\.com$", {"\"joe@mail.com\""}, {"\"joe@mail.org\"", "\"@mail.com\""}},
      {"^(?:ab)*$", {"\"\"", "\"abab\""}, {"\"aba\""}},
      {"^x\\sy$", {"\"x y\"", "\"x\\ty\"", "\"x\\ny\""}, {"\"xy\""}},
      {"^\\u00e9+$", {"\"éé\""}, {"\"e\""}},
  };
  for (const auto& c : cases) {
    auto a = pattern_string(c.pattern);
    REQUIRE_MESSAGE(a.ok(), c.pattern << ": " << a.status().to_string());
    for (const char* s : c.accept) CHECK_MESSAGE(grammar_accepts(*a, s), c.pattern << " should accept " << s);
    for (const char* s : c.reject) CHECK_MESSAGE(!grammar_accepts(*a, s), c.pattern << " should reject " << s);
  }
}

TEST_CASE("regex grammar: an unanchored pattern may sit anywhere in the string") {
  auto a = pattern_string("[0-9]{3}");
  REQUIRE(a.ok());
  CHECK(grammar_accepts(*a, "\"abc123xyz\""));
  CHECK(grammar_accepts(*a, "\"123\""));
  CHECK_FALSE(grammar_accepts(*a, "\"12x3\""));
}

TEST_CASE("regex grammar: what the subset cannot do is refused with a reason") {
  const char* refused[] = {"(a)\\1", "(?=a)b", "\\bword", "a**", "[z-a]", "(ab", "ab)", "a{3,2}", "(a*)*",
                           "x{2000}", "[а-я]", "^a^b", "\\q"};
  for (const char* p : refused) {
    auto a = pattern_string(p);
    CHECK_MESSAGE(!a.ok(), std::string(p));
    if (!a.ok()) CHECK(a.status().message().rfind("pattern: ", 0) == 0);
  }
}

}  // namespace
}  // namespace moestream
