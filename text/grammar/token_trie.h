// The vocabulary's byte strings as a trie, laid out in preorder so a walk is a loop over an
// array: node i's subtree is [i, end(i)), and skipping a rejected prefix skips its subtree.
// Built once per tokenizer (129,280 entries take ~60 ms) and shared by every constraint.
// Added tokens (special or not) are left out: a grammar names those as tokens, never as bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer/tokenizer.h"

namespace moestream {

class TokenTrie {
 public:
  // Tokens [0, vocab_size) the tokenizer spells with plain bytes.
  static TokenTrie build(const Tokenizer& tokenizer, int64_t vocab_size);
  // From explicit byte strings, index = token id (empty: no token), for tests.
  static TokenTrie from_strings(std::span<const std::string_view> tokens);

  size_t size() const { return byte_.size(); }
  uint8_t byte(size_t node) const { return byte_[node]; }
  uint16_t depth(size_t node) const { return depth_[node]; }  // 1 for the first byte
  uint32_t end(size_t node) const { return end_[node]; }
  std::span<const int32_t> tokens_at(size_t node) const {
    return {tokens_.data() + token_begin_[node], tokens_.data() + token_begin_[node + 1]};
  }
  // The bytes of token `id`; empty when the trie does not hold it.
  std::string bytes_of(int32_t id) const;
  uint16_t max_depth() const { return max_depth_; }
  int64_t vocab_size() const { return vocab_size_; }
  size_t token_count() const { return tokens_.size(); }

 private:
  static TokenTrie from_sorted(std::vector<std::pair<std::string_view, int32_t>> entries, int64_t vocab_size);

  std::vector<uint8_t> byte_;
  std::vector<uint16_t> depth_;
  std::vector<uint32_t> end_;
  std::vector<uint32_t> token_begin_;  // size() + 1 entries
  std::vector<int32_t> tokens_;
  std::vector<uint32_t> parent_;      // per node; UINT32_MAX at depth 1
  std::vector<uint32_t> token_node_;  // per token id; UINT32_MAX when absent
  uint16_t max_depth_ = 0;
  int64_t vocab_size_ = 0;
};

}  // namespace moestream
