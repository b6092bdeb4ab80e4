// Shared by the grammar tests: does a grammar accept a whole byte string.
#pragma once

#include <string_view>

#include "text/grammar/grammar_automaton.h"

namespace moestream::testing {

inline bool grammar_accepts(GrammarAutomaton& a, std::string_view text) {
  const int32_t s = a.advance(a.start(), text.data(), text.size());
  return s >= 0 && a.accepting(s);
}

// A prefix of some accepted string.
inline bool grammar_allows_prefix(GrammarAutomaton& a, std::string_view text) {
  return a.advance(a.start(), text.data(), text.size()) >= 0;
}

}  // namespace moestream::testing
