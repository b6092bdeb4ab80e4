// Shared by the grammar tests: does a grammar accept a whole byte string, and answers drawn
// at random under a token grammar's masks.
#pragma once

#include <doctest/doctest.h>

#include <bit>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "text/grammar/grammar_automaton.h"
#include "text/grammar/token_grammar.h"
#include "text/tokenizer/utf8.h"

namespace moestream::testing {

inline bool grammar_accepts(GrammarAutomaton& a, std::string_view text) {
  const int32_t s = a.advance(a.start(), text.data(), text.size());
  return s >= 0 && a.accepting(s);
}

// A prefix of some accepted string.
inline bool grammar_allows_prefix(GrammarAutomaton& a, std::string_view text) {
  return a.advance(a.start(), text.data(), text.size()) >= 0;
}

// The n-th allowed token of a mask (in id order), or -1.
inline int32_t nth_allowed(const std::vector<uint64_t>& mask, uint64_t n) {
  for (size_t w = 0; w < mask.size(); ++w) {
    const auto c = static_cast<uint64_t>(std::popcount(mask[w]));
    if (n < c) {
      uint64_t m = mask[w];
      for (uint64_t k = 0; k < n; ++k) m &= m - 1;
      return static_cast<int32_t>(w * 64 + static_cast<size_t>(std::countr_zero(m)));
    }
    n -= c;
  }
  return -1;
}

struct NoiseAnswer {
  std::string text;
  bool complete = false;          // the grammar accepts it as it stands
  int64_t tokens = 0;             // drawn, the end token included
  int64_t split_characters = 0;   // tokens that ended inside a multi-byte character
};

// Draws each token uniformly among those the mask allows (what a random-weight model amounts
// to, only harsher: it favours nothing) within `max_tokens`, until the end token or until
// nothing more may follow. Requires that the mask never removes every token and that every
// token it allows keeps the automaton alive.
inline NoiseAnswer noise_answer(TokenGrammar& tg, const TokenTrie& trie, std::mt19937_64& rng, int64_t max_tokens) {
  NoiseAnswer a;
  int32_t s = tg.start();
  std::vector<uint64_t> mask;
  for (int64_t n = 0; n < max_tokens; ++n) {
    tg.allowed(s, max_tokens - n, mask);
    uint64_t count = 0;
    for (uint64_t w : mask) count += static_cast<uint64_t>(std::popcount(w));
    REQUIRE(count > 0);  // the mask never removes every token
    const int32_t t = nth_allowed(mask, rng() % count);
    ++a.tokens;
    if (tg.is_end_token(t)) break;
    s = tg.advance(s, t);
    REQUIRE(s >= 0);
    const std::string bytes = trie.bytes_of(t);
    if (!utf8::is_valid(a.text + bytes)) ++a.split_characters;  // the next token must finish it
    a.text += bytes;
    if (tg.complete(s)) break;
  }
  a.complete = tg.accepting(s);
  return a;
}

}  // namespace moestream::testing
