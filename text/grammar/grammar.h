// A context-free grammar over bytes, the form every output constraint compiles to (JSON
// schemas, JSON mode, regex patterns, tool calls). A rule is a list of alternatives; an
// alternative is a sequence of elements: a set of bytes, a special token (a symbol the byte
// trie never produces, e.g. <｜tool▁calls▁begin｜>) or another rule. Repetition is spelled with
// right-recursive helper rules; left recursion is not allowed (the builders never make it).
// GrammarAutomaton runs it; this file only holds and builds it.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moestream {

using ByteSet = std::bitset<256>;

struct GrammarElement {
  enum class Kind : uint8_t { kBytes, kToken, kRule, kEnd };
  Kind kind = Kind::kEnd;
  uint32_t value = 0;  // index into byte_sets, a token id, or a rule index
};

class Grammar {
 public:
  using Sequence = std::vector<GrammarElement>;

  uint32_t new_rule(std::string name);
  void add_alternative(uint32_t rule, Sequence sequence);
  // A new rule with these alternatives.
  uint32_t rule(std::string name, std::vector<Sequence> alternatives);

  GrammarElement bytes(const ByteSet& set);
  GrammarElement byte(uint8_t b);
  GrammarElement byte_range(uint8_t first, uint8_t last);
  static GrammarElement token(int32_t id) { return {GrammarElement::Kind::kToken, static_cast<uint32_t>(id)}; }
  static GrammarElement ref(uint32_t rule) { return {GrammarElement::Kind::kRule, rule}; }
  Sequence literal(std::string_view text);

  // Rules for repetition of `item` (a sequence): zero or more, optional, and min..max times
  // (max < 0: unbounded). Bounded repeats nest optionals, so a state counts what is left.
  uint32_t star(const Sequence& item, std::string name = "star");
  uint32_t optional(const Sequence& item, std::string name = "opt");
  uint32_t repeat(const Sequence& item, int64_t min, int64_t max, std::string name = "rep");

  void set_root(uint32_t rule) { root_ = rule; }
  uint32_t root() const { return root_; }
  size_t rule_count() const { return rules_.size(); }
  const std::vector<Sequence>& alternatives(uint32_t rule) const { return rules_[rule]; }
  const std::string& rule_name(uint32_t rule) const { return names_[rule]; }
  const ByteSet& byte_set(uint32_t index) const { return byte_sets_[index]; }

  // Shortest byte (or special-token) length each rule can produce; UINT32_MAX for a rule that
  // produces nothing finite. Computed on demand by a fixpoint.
  std::vector<uint64_t> min_lengths() const;

  // The name of a rule that can reach itself without reading a byte (left recursion, which
  // the automaton cannot run), or empty.
  std::string left_recursive_rule() const;

  // A readable dump (for tests and error messages).
  std::string to_string() const;

 private:
  std::vector<std::vector<Sequence>> rules_;
  std::vector<std::string> names_;
  std::vector<ByteSet> byte_sets_;
  uint32_t root_ = 0;
};

}  // namespace moestream
