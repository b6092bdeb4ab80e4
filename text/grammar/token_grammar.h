// A grammar bound to a vocabulary: which tokens may come next in a state (a mask over every
// token id, from one walk of the token trie through the automaton, cached per state), and the
// state after a token. The end tokens (EOS, stop tokens) are allowed exactly where the grammar
// accepts. With a token budget, only tokens after which the output can still be completed in
// the tokens left are allowed (every byte is a token in a byte-level vocabulary, so the
// shortest completion in bytes bounds the tokens it needs): the answer always closes.
//
// Thread-safe (one lock): many requests share one TokenGrammar and its caches.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "text/grammar/grammar.h"
#include "text/grammar/grammar_automaton.h"
#include "text/grammar/token_trie.h"

namespace moestream {

struct TokenGrammarStats {
  uint64_t masks = 0;         // mask requests
  uint64_t cache_hits = 0;    // of those, answered from the per-state cache
  uint64_t trie_walks = 0;    // walks of the token trie
  uint64_t states = 0;        // automaton states built so far
};

class TokenGrammar {
 public:
  static constexpr int32_t kDead = GrammarAutomaton::kDead;

  TokenGrammar(Grammar grammar, std::shared_ptr<const TokenTrie> trie, std::vector<int32_t> end_tokens,
               size_t max_states = kMaxStates);

  int32_t start() const { return start_; }
  // The tokens allowed in `state` as a bitset (bit i of word i/64): with budget >= 1, only
  // those that leave a completion of at most budget - 1 bytes; budget < 0: no limit.
  void allowed(int32_t state, int64_t budget, std::vector<uint64_t>& mask);
  // Sets the logits of every token not allowed to -inf; returns how many are allowed, or -1
  // (logits untouched) once the automaton has outgrown max_states: a grammar so ambiguous
  // (e.g. ".{0,1000}x.{0,1000}") that its states would take memory without bound.
  int64_t mask_logits(int32_t state, int64_t budget, std::span<float> logits);
  static constexpr size_t kMaxStates = size_t{1} << 16;  // ~64 MB of transition tables at most
  size_t max_states() const { return max_states_; }
  // The state after `token` (kDead when it is not allowed; an end token keeps the state).
  int32_t advance(int32_t state, int32_t token);
  bool accepting(int32_t state);
  bool complete(int32_t state);  // nothing but the end may follow
  uint64_t distance(int32_t state);
  bool is_end_token(int32_t token) const;
  TokenGrammarStats stats();
  int64_t vocab_size() const { return trie_->vocab_size(); }

 private:
  struct CachedMask {
    std::vector<uint64_t> bits;
    uint64_t max_distance = 0;  // the longest completion any allowed token leaves
    uint64_t last_used = 0;     // stats_.masks when it last answered
  };
  // One trie walk: tokens whose bytes lead somewhere live (and within the budget, if >= 0).
  void walk(int32_t state, int64_t budget, std::vector<uint64_t>& bits, uint64_t& max_distance);
  // The mask for `state` under `budget` (< 0: none), from the cache or one walk; a budget that
  // does not bind shares the state's unlimited mask.
  const CachedMask& cached(int32_t state, int64_t budget);
  void evict_older_half();  // the less recently used half of the masks

  std::mutex mutex_;
  GrammarAutomaton automaton_;
  std::shared_ptr<const TokenTrie> trie_;
  std::vector<int32_t> end_tokens_;
  std::vector<int32_t> grammar_tokens_;  // special tokens the grammar names
  std::unordered_map<uint64_t, CachedMask> cache_;  // (state, budget or 0) -> mask
  std::vector<int32_t> walk_states_;
  std::unordered_map<uint64_t, int32_t> token_next_;  // (state, token) -> state
  TokenGrammarStats stats_;
  int32_t start_ = kDead;
  size_t max_states_ = kMaxStates;
};

}  // namespace moestream
