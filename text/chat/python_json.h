// JSON written the way Python's json.dumps writes it with default arguments (", " and ": "
// separators, ASCII only with \uXXXX escapes, keys in their original order). The DeepSeek
// tool prompt embeds json.dumps(parameters), so the bytes must match to be in distribution.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moestream {

std::string python_json_dumps(const nlohmann::ordered_json& value);

}  // namespace moestream
