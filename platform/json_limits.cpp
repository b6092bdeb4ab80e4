#include "platform/json_limits.h"

#include <vector>

namespace moestream {

Status check_json_limits(std::string_view text, const JsonLimits& limits, std::string_view what) {
  if (text.size() > limits.max_bytes) {
    return invalid_argument(std::string(what) + " is too large: " + std::to_string(text.size()) +
                            " bytes, the limit is " + std::to_string(limits.max_bytes));
  }
  uint32_t depth = 0;
  bool in_string = false, escaped = false;
  // Per open bracket: the members counted so far for an object, or ~0 for an array.
  constexpr uint64_t kArray = ~uint64_t{0};
  std::vector<uint64_t> members;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > limits.max_depth) {
          return invalid_argument(std::string(what) + " nests deeper than " +
                                  std::to_string(limits.max_depth) + " levels of [ and { (at byte " +
                                  std::to_string(i) + ")");
        }
        members.push_back(c == '{' ? 0 : kArray);
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        if (!members.empty()) members.pop_back();
        break;
      case ':':  // one per object member, outside strings
        if (!members.empty() && members.back() != kArray && ++members.back() > limits.max_object_members) {
          return invalid_argument(std::string(what) + " has an object with more than " +
                                  std::to_string(limits.max_object_members) + " members (at byte " +
                                  std::to_string(i) + ")");
        }
        break;
      default:
        break;
    }
  }
  return ok_status();
}

}  // namespace moestream
