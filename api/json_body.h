// Parsing a JSON request body with limits: a size limit and a nesting-depth limit checked by
// a scan before the parser runs, so a hostile body (100,000 nested brackets) is a clear error,
// never a stack overflow. Thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "platform/status.h"

namespace moestream::api {

inline constexpr size_t kMaxJsonDepth = 128;

// kCorrupt with the reason for a body that is not JSON, too deep or too large.
Result<nlohmann::ordered_json> parse_json_body(std::string_view text, size_t max_bytes, size_t max_depth = kMaxJsonDepth);

}  // namespace moestream::api
