#include "text/tokenizer/added_tokens.h"

namespace moestream {

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, index] : nodes_[node].children) {
    if (b == byte) return index;
  }
  return -1;
}

void AddedTokenMatcher::add(int32_t id, std::string_view content) {
  if (content.empty()) return;
  first_byte_[static_cast<uint8_t>(content[0])] = true;
  int32_t node = 0;
  for (char c : content) {
    auto byte = static_cast<uint8_t>(c);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[node].children.emplace_back(byte, next);
      nodes_.push_back(Node{});
    }
    node = next;
  }
  nodes_[node].token_id = id;  // a later duplicate of the same text wins, as in a Map
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::find(std::string_view text,
                                                                 size_t from) const {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = from; i < text.size(); ++i) {
    if (!first_byte_[data[i]]) continue;
    Match best;
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      node = child(node, data[j]);
      if (node < 0) break;
      if (nodes_[node].token_id >= 0) {
        best = {i, j + 1 - i, nodes_[node].token_id};
      }
    }
    if (best.id >= 0) return best;
  }
  return std::nullopt;
}

}  // namespace moestream
