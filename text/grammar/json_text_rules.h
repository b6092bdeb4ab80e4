// Shared pieces of JSON text in a Grammar, made once per grammar on first use: well-formed
// UTF-8 sequences, a JSON string character (plain or escaped), a character of a chosen set
// written the way JSON spells it (quote and backslash escaped, controls as \n or \u00XX), and
// bounded whitespace.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <vector>

#include "text/grammar/grammar.h"

namespace moestream {

// Characters by their decoded value: an ASCII set, optionally every non-ASCII character, and
// listed non-ASCII characters (as UTF-8).
struct CharClass {
  std::bitset<128> ascii;
  bool any_non_ascii = false;
  std::vector<std::string> non_ascii;
};

class JsonTextRules {
 public:
  explicit JsonTextRules(Grammar& g) : g_(g) {}
  Grammar& grammar() { return g_; }

  uint32_t utf8_multibyte();  // one well-formed non-ASCII UTF-8 character
  uint32_t string_char();     // any character inside a JSON string, escapes included
  uint32_t whitespace();      // at most kMaxWhitespace of space, tab, newline, carriage return
  // One character of `c` as it appears inside a JSON string; nullopt for an empty class.
  std::optional<Grammar::Sequence> char_of(const CharClass& c);

  static constexpr int kMaxWhitespace = 24;

 private:
  Grammar& g_;
  std::optional<uint32_t> utf8_, string_char_, whitespace_;
};

}  // namespace moestream
