// Added tokens (tokenizer.json "added_tokens": special ones like <｜begin▁of▁sentence｜> and
// non-special ones like <｜User｜> or <think>) are found in the raw text before anything
// else, leftmost-longest, as the reference does; the text between them is ordinary text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moestream {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;  // the HF flag: decode(skip_special_tokens) drops these
};

class AddedTokenMatcher {
 public:
  void add(int32_t id, std::string_view content);

  struct Match {
    size_t begin = 0;
    size_t length = 0;
    int32_t id = -1;
  };
  // The leftmost match at or after `from`, the longest of those starting there.
  std::optional<Match> find(std::string_view text, size_t from) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node index
    int32_t token_id = -1;
  };
  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};
};

}  // namespace moestream
