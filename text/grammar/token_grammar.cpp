#include "text/grammar/token_grammar.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace moestream {
namespace {

// Masks are 16 KB at 129K tokens: past this many the cache starts over (memory stays bounded).
constexpr size_t kMaxCachedMasks = 2048;  // 32 MB of masks at 129K tokens

void set_bit(std::vector<uint64_t>& bits, int32_t id) {
  bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (static_cast<unsigned>(id) & 63);
}

}  // namespace

TokenGrammar::TokenGrammar(Grammar grammar, std::shared_ptr<const TokenTrie> trie, std::vector<int32_t> end_tokens,
                           size_t max_states)
    : automaton_(std::move(grammar)), trie_(std::move(trie)), end_tokens_(std::move(end_tokens)), max_states_(max_states) {
  const Grammar& g = automaton_.grammar();
  for (uint32_t r = 0; r < g.rule_count(); ++r) {
    for (const auto& alt : g.alternatives(r)) {
      for (const auto& e : alt) {
        if (e.kind == GrammarElement::Kind::kToken) grammar_tokens_.push_back(static_cast<int32_t>(e.value));
      }
    }
  }
  std::sort(grammar_tokens_.begin(), grammar_tokens_.end());
  grammar_tokens_.erase(std::unique(grammar_tokens_.begin(), grammar_tokens_.end()), grammar_tokens_.end());
  std::erase_if(end_tokens_, [&](int32_t t) { return t < 0 || t >= trie_->vocab_size(); });
  start_ = automaton_.start();
}

bool TokenGrammar::is_end_token(int32_t token) const {
  return std::find(end_tokens_.begin(), end_tokens_.end(), token) != end_tokens_.end();
}

void TokenGrammar::walk(int32_t state, int64_t budget, std::vector<uint64_t>& bits, uint64_t& max_distance) {
  ++stats_.trie_walks;
  bits.assign(static_cast<size_t>((trie_->vocab_size() + 63) / 64), 0);
  max_distance = 0;
  if (state < 0) return;
  const auto fits = [&](int32_t s) { return budget < 0 || automaton_.distance(s) + 1 <= static_cast<uint64_t>(budget); };
  walk_states_.assign(static_cast<size_t>(trie_->max_depth()) + 1, kDead);
  walk_states_[0] = state;
  const size_t n = trie_->size();
  for (size_t i = 0; i < n;) {
    const int32_t s = automaton_.next(walk_states_[trie_->depth(i) - 1], trie_->byte(i));
    if (s == kDead) {
      i = trie_->end(i);
      continue;
    }
    walk_states_[trie_->depth(i)] = s;
    const auto tokens = trie_->tokens_at(i);
    if (!tokens.empty() && fits(s)) {
      max_distance = std::max(max_distance, automaton_.distance(s));
      for (int32_t t : tokens) set_bit(bits, t);
    }
    ++i;
  }
  for (int32_t t : grammar_tokens_) {
    if (t >= trie_->vocab_size()) continue;
    const int32_t s = automaton_.next_token(state, t);
    if (s != kDead && fits(s)) {
      max_distance = std::max(max_distance, automaton_.distance(s));
      set_bit(bits, t);
    }
  }
  if (automaton_.accepting(state)) {
    for (int32_t t : end_tokens_) set_bit(bits, t);
  }
}

void TokenGrammar::evict_older_half() {
  std::vector<uint64_t> ages;
  ages.reserve(cache_.size());
  for (const auto& [key, m] : cache_) ages.push_back(m.last_used);
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2), ages.end());
  const uint64_t median = ages[ages.size() / 2];
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.last_used < median; });
  if (cache_.size() >= kMaxCachedMasks) cache_.clear();  // all of one age
}

const TokenGrammar::CachedMask& TokenGrammar::cached(int32_t state, int64_t budget) {
  const auto lookup = [&](int64_t b) -> const CachedMask& {
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(state)) << 32) | static_cast<uint64_t>(std::max<int64_t>(b, 0));
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      ++stats_.cache_hits;
      it->second.last_used = stats_.masks;
      return it->second;
    }
    if (cache_.size() >= kMaxCachedMasks) evict_older_half();
    CachedMask m;
    walk(state, b, m.bits, m.max_distance);
    m.last_used = stats_.masks;
    return cache_.emplace(key, std::move(m)).first->second;
  };
  const CachedMask& free = lookup(-1);
  if (budget < 0 || free.max_distance + 1 <= static_cast<uint64_t>(budget)) return free;
  // The budget binds: this state's mask for this budget. If nothing can complete in time the
  // answer will be cut at the limit anyway: never mask every token.
  const CachedMask& tight = lookup(budget);
  const bool any = std::any_of(tight.bits.begin(), tight.bits.end(), [](uint64_t w) { return w != 0; });
  return any ? tight : lookup(-1);
}

void TokenGrammar::allowed(int32_t state, int64_t budget, std::vector<uint64_t>& mask) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.masks;
  mask = cached(state, budget).bits;
}

int64_t TokenGrammar::mask_logits(int32_t state, int64_t budget, std::span<float> logits) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (automaton_.state_count() > max_states_) return -1;
  ++stats_.masks;
  const std::vector<uint64_t>& bits = cached(state, budget).bits;
  constexpr float kMinus = -std::numeric_limits<float>::infinity();
  int64_t allowed = 0;
  const size_t n = logits.size();
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t word = w < bits.size() ? bits[w] : 0;
    allowed += std::popcount(word);
    if (word == ~uint64_t{0}) continue;
    const size_t end = std::min(n, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i) {
      if (!((word >> (i & 63)) & 1)) logits[i] = kMinus;
    }
  }
  return allowed;
}

int32_t TokenGrammar::advance(int32_t state, int32_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state < 0) return kDead;
  if (is_end_token(token)) return automaton_.accepting(state) ? state : kDead;
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(state)) << 32) | static_cast<uint32_t>(token);
  if (auto it = token_next_.find(key); it != token_next_.end()) return it->second;
  int32_t next = kDead;
  if (std::binary_search(grammar_tokens_.begin(), grammar_tokens_.end(), token)) {
    next = automaton_.next_token(state, token);
  } else {
    const std::string bytes = trie_->bytes_of(token);
    if (!bytes.empty()) next = automaton_.advance(state, bytes.data(), bytes.size());
  }
  if (token_next_.size() >= (1u << 20)) token_next_.clear();
  token_next_.emplace(key, next);
  return next;
}

bool TokenGrammar::accepting(int32_t state) {
  std::lock_guard<std::mutex> lock(mutex_);
  return state >= 0 && automaton_.accepting(state);
}

bool TokenGrammar::complete(int32_t state) {
  std::lock_guard<std::mutex> lock(mutex_);
  return state >= 0 && automaton_.complete(state);
}

uint64_t TokenGrammar::distance(int32_t state) {
  std::lock_guard<std::mutex> lock(mutex_);
  return state >= 0 ? automaton_.distance(state) : std::numeric_limits<uint64_t>::max();
}

TokenGrammarStats TokenGrammar::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  TokenGrammarStats s = stats_;
  s.states = automaton_.state_count();
  return s;
}

}  // namespace moestream
