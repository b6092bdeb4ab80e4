// Runs a Grammar on bytes as a lazily built deterministic automaton. A parse position is a
// stack of grammar positions (a pushdown automaton); stacks are interned as linked nodes that
// share their tails, and a state is the sorted set of stacks the input so far allows (several
// when the grammar is ambiguous, e.g. anyOf). States are interned too, so a state is an int
// and each (state, byte) transition is computed once and then read from a table: walking the
// vocabulary trie costs one table read per trie node. Calls that end a rule return straight
// to its caller's caller (tail calls), so repetition does not grow the stack.
//
// Not thread-safe: TokenGrammar serializes access.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "text/grammar/grammar.h"

namespace moestream {

class GrammarAutomaton {
 public:
  static constexpr int32_t kDead = -1;

  explicit GrammarAutomaton(Grammar grammar);
  const Grammar& grammar() const { return grammar_; }

  int32_t start() const { return start_; }
  int32_t next(int32_t state, uint8_t byte) {
    auto& row = table_[static_cast<size_t>(state)];
    if (!row.empty() && row[byte] != kUnknown) return row[byte];
    const int32_t n = compute_next(state, byte);  // may add states (and table rows)
    auto& filled = table_[static_cast<size_t>(state)];
    if (filled.empty()) filled.assign(256, kUnknown);
    filled[byte] = n;
    return n;
  }
  int32_t next_token(int32_t state, int32_t token);  // a special token the grammar names
  int32_t advance(int32_t state, const char* bytes, size_t n);

  bool accepting(int32_t state) const { return states_[static_cast<size_t>(state)].front() == kEmptyStack; }
  // Accepting and nothing may follow: the output is complete.
  bool complete(int32_t state) const { return states_[static_cast<size_t>(state)].size() == 1 && accepting(state); }
  // The fewest bytes (special tokens count one) that complete the output from `state`.
  uint64_t distance(int32_t state) const { return state_distance_[static_cast<size_t>(state)]; }
  size_t state_count() const { return states_.size(); }

 private:
  static constexpr int32_t kUnknown = -2;
  static constexpr uint32_t kEmptyStack = 0;
  struct Node {
    uint32_t pos;
    uint32_t parent;
  };
  struct VectorHash {
    size_t operator()(const std::vector<uint32_t>& v) const;
  };

  const GrammarElement& at(uint32_t pos) const { return flat_[pos]; }
  uint32_t node(uint32_t pos, uint32_t parent);
  void expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out, int depth);
  int32_t intern(std::vector<uint32_t> stacks);
  int32_t compute_next(int32_t state, uint8_t byte);

  Grammar grammar_;
  std::vector<GrammarElement> flat_;           // every alternative, each followed by kEnd
  std::vector<std::vector<uint32_t>> starts_;  // rule -> flat index of each alternative
  std::vector<uint64_t> suffix_min_;           // flat index -> shortest rest of its alternative
  std::vector<Node> nodes_;
  std::vector<uint64_t> node_distance_;
  std::unordered_map<uint64_t, uint32_t> node_index_;
  std::vector<std::vector<uint32_t>> states_;
  std::vector<uint64_t> state_distance_;
  std::unordered_map<std::vector<uint32_t>, int32_t, VectorHash> state_index_;
  std::vector<std::vector<int32_t>> table_;
  std::unordered_set<uint64_t> expanded_;  // (pos, parent) pairs entered in this closure
  int32_t start_ = kDead;
};

}  // namespace moestream
