// A JSON request body through the project's JSON limits (platform/json_limits.h: size, depth,
// members per object), so a hostile body is a clear error and never a stack overflow or a
// quadratic parse. Errors are kCorrupt (HTTP 400). Thread-safe.
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
