#include "text/grammar/token_trie.h"

#include <algorithm>
#include <limits>

namespace moestream {

TokenTrie TokenTrie::build(const Tokenizer& tokenizer, int64_t vocab_size) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  const int32_t limit = static_cast<int32_t>(std::min<int64_t>(vocab_size, tokenizer.id_limit()));
  for (int32_t id = 0; id < limit; ++id) {
    if (tokenizer.added_token(id) != nullptr) continue;
    const std::string_view bytes = tokenizer.token_bytes(id);
    if (!bytes.empty() && bytes.size() <= std::numeric_limits<uint16_t>::max()) entries.emplace_back(bytes, id);
  }
  return from_sorted(std::move(entries), vocab_size);
}

TokenTrie TokenTrie::from_strings(std::span<const std::string_view> tokens) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!tokens[id].empty()) entries.emplace_back(tokens[id], static_cast<int32_t>(id));
  }
  return from_sorted(std::move(entries), static_cast<int64_t>(tokens.size()));
}

TokenTrie TokenTrie::from_sorted(std::vector<std::pair<std::string_view, int32_t>> entries, int64_t vocab_size) {
  // Sorted byte strings visit the trie in preorder: each entry adds the nodes past its longest
  // common prefix with the previous one, and a prefix comes before its extensions.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  TokenTrie t;
  t.vocab_size_ = vocab_size;
  std::vector<uint32_t> path;  // node index at each depth of the previous entry
  std::string_view prev;
  std::vector<uint32_t> token_node;
  for (const auto& [bytes, id] : entries) {
    size_t common = 0;
    while (common < prev.size() && common < bytes.size() && prev[common] == bytes[common]) ++common;
    // Nodes deeper than the common prefix are finished: their subtrees end here.
    for (size_t d = common; d < path.size(); ++d) t.end_[path[d]] = static_cast<uint32_t>(t.byte_.size());
    path.resize(common);
    for (size_t d = common; d < bytes.size(); ++d) {
      path.push_back(static_cast<uint32_t>(t.byte_.size()));
      t.byte_.push_back(static_cast<uint8_t>(bytes[d]));
      t.depth_.push_back(static_cast<uint16_t>(d + 1));
      t.end_.push_back(0);
      t.parent_.push_back(d == 0 ? std::numeric_limits<uint32_t>::max() : path[d - 1]);
      t.max_depth_ = std::max<uint16_t>(t.max_depth_, static_cast<uint16_t>(d + 1));
    }
    token_node.push_back(path.back());
    t.tokens_.push_back(id);
    prev = bytes;
  }
  for (uint32_t n : path) t.end_[n] = static_cast<uint32_t>(t.byte_.size());
  // Tokens are in node order already (entries sorted): count them per node.
  t.token_begin_.assign(t.byte_.size() + 1, 0);
  t.token_node_.assign(static_cast<size_t>(std::max<int64_t>(vocab_size, 0)), std::numeric_limits<uint32_t>::max());
  for (size_t i = 0; i < token_node.size(); ++i) {
    ++t.token_begin_[token_node[i] + 1];
    const auto id = static_cast<size_t>(t.tokens_[i]);
    if (id < t.token_node_.size()) t.token_node_[id] = token_node[i];
  }
  for (size_t i = 1; i < t.token_begin_.size(); ++i) t.token_begin_[i] += t.token_begin_[i - 1];
  return t;
}

std::string TokenTrie::bytes_of(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= token_node_.size()) return {};
  std::string out;
  for (uint32_t n = token_node_[static_cast<size_t>(id)]; n != std::numeric_limits<uint32_t>::max(); n = parent_[n]) {
    out.push_back(static_cast<char>(byte_[n]));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace moestream
