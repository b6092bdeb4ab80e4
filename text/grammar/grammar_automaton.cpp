#include "text/grammar/grammar_automaton.h"

#include <algorithm>
#include <limits>

namespace moestream {
namespace {

// Deeper than any grammar the builders make; only a left-recursive or empty-looping grammar
// gets here, and it loses that branch instead of the process.
constexpr int kMaxExpandDepth = 2000;

}  // namespace

size_t GrammarAutomaton::VectorHash::operator()(const std::vector<uint32_t>& v) const {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ v.size();
  for (uint32_t x : v) h = (h ^ x) * 0x100000001b3ull + (h >> 29);
  return static_cast<size_t>(h);
}

GrammarAutomaton::GrammarAutomaton(Grammar grammar) : grammar_(std::move(grammar)) {
  const std::vector<uint64_t> min_len = grammar_.min_lengths();
  constexpr uint64_t kInf = std::numeric_limits<uint32_t>::max();
  starts_.resize(grammar_.rule_count());
  for (uint32_t r = 0; r < grammar_.rule_count(); ++r) {
    for (const auto& alt : grammar_.alternatives(r)) {
      starts_[r].push_back(static_cast<uint32_t>(flat_.size()));
      flat_.insert(flat_.end(), alt.begin(), alt.end());
      flat_.push_back({GrammarElement::Kind::kEnd, 0});
    }
  }
  suffix_min_.assign(flat_.size(), 0);
  for (size_t i = flat_.size(); i-- > 0;) {
    const auto& e = flat_[i];
    if (e.kind == GrammarElement::Kind::kEnd) continue;
    const uint64_t self = e.kind == GrammarElement::Kind::kRule ? min_len[e.value] : 1;
    suffix_min_[i] = std::min(kInf, self + suffix_min_[i + 1]);
  }
  nodes_.push_back({0, 0});  // kEmptyStack: the whole output matched
  node_distance_.push_back(0);
  std::vector<uint32_t> first;
  if (grammar_.root() < grammar_.rule_count()) {
    expanded_.clear();
    for (uint32_t s : starts_[grammar_.root()]) expand(s, kEmptyStack, first, 0);
  }
  start_ = intern(std::move(first));
}

uint32_t GrammarAutomaton::node(uint32_t pos, uint32_t parent) {
  const uint64_t key = (static_cast<uint64_t>(pos) << 32) | parent;
  auto it = node_index_.find(key);
  if (it != node_index_.end()) return it->second;
  const auto id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({pos, parent});
  node_distance_.push_back(suffix_min_[pos] + node_distance_[parent]);
  node_index_.emplace(key, id);
  return id;
}

// Adds every stack that can read its next terminal after entering `pos` with `parent` below.
void GrammarAutomaton::expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out, int depth) {
  if (depth > kMaxExpandDepth) return;
  // Entering the same position on the same stack twice adds nothing (ambiguous empty paths).
  if (!expanded_.insert((static_cast<uint64_t>(pos) << 32) | parent).second) return;
  while (at(pos).kind == GrammarElement::Kind::kEnd) {
    if (parent == kEmptyStack) {
      out.push_back(kEmptyStack);
      return;
    }
    pos = nodes_[parent].pos;
    parent = nodes_[parent].parent;
  }
  const GrammarElement& e = at(pos);
  if (e.kind != GrammarElement::Kind::kRule) {
    out.push_back(node(pos, parent));
    return;
  }
  // Return to pos + 1, or (a tail call) straight to our own caller.
  const uint32_t ret = at(pos + 1).kind == GrammarElement::Kind::kEnd ? parent : node(pos + 1, parent);
  for (uint32_t s : starts_[e.value]) expand(s, ret, out, depth + 1);
}

int32_t GrammarAutomaton::intern(std::vector<uint32_t> stacks) {
  if (stacks.empty()) return kDead;
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  auto it = state_index_.find(stacks);
  if (it != state_index_.end()) return it->second;
  const auto id = static_cast<int32_t>(states_.size());
  uint64_t d = std::numeric_limits<uint64_t>::max();
  for (uint32_t n : stacks) d = std::min(d, node_distance_[n]);
  state_distance_.push_back(d);
  state_index_.emplace(stacks, id);
  states_.push_back(std::move(stacks));
  table_.emplace_back();
  return id;
}

int32_t GrammarAutomaton::compute_next(int32_t state, uint8_t byte) {
  std::vector<uint32_t> out;
  const std::vector<uint32_t> stacks = states_[static_cast<size_t>(state)];  // intern may grow states_
  expanded_.clear();
  for (uint32_t n : stacks) {
    if (n == kEmptyStack) continue;
    const GrammarElement& e = at(nodes_[n].pos);
    if (e.kind == GrammarElement::Kind::kBytes && grammar_.byte_set(e.value).test(byte)) {
      expand(nodes_[n].pos + 1, nodes_[n].parent, out, 0);
    }
  }
  return intern(std::move(out));
}

int32_t GrammarAutomaton::next_token(int32_t state, int32_t token) {
  if (state < 0) return kDead;
  std::vector<uint32_t> out;
  const std::vector<uint32_t> stacks = states_[static_cast<size_t>(state)];
  expanded_.clear();
  for (uint32_t n : stacks) {
    if (n == kEmptyStack) continue;
    const GrammarElement& e = at(nodes_[n].pos);
    if (e.kind == GrammarElement::Kind::kToken && e.value == static_cast<uint32_t>(token)) {
      expand(nodes_[n].pos + 1, nodes_[n].parent, out, 0);
    }
  }
  return intern(std::move(out));
}

int32_t GrammarAutomaton::advance(int32_t state, const char* bytes, size_t n) {
  for (size_t i = 0; i < n && state >= 0; ++i) state = next(state, static_cast<uint8_t>(bytes[i]));
  return state;
}

}  // namespace moestream
