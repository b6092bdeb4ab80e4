#include "api/json_body.h"

#include <algorithm>

#include "platform/json_limits.h"

namespace moestream::api {

Result<nlohmann::ordered_json> parse_json_body(std::string_view text, size_t max_bytes, size_t max_depth) {
  JsonLimits limits = json_limits::kChatRequest;  // the one set of limits for request JSON
  limits.max_bytes = std::min<uint64_t>(limits.max_bytes, max_bytes);
  limits.max_depth = static_cast<uint32_t>(std::min<size_t>(limits.max_depth, max_depth));
  auto body = parse_json_with_limits<nlohmann::ordered_json>(text, limits, "the request body");
  if (!body.ok()) return corrupt(body.status().message());  // a malformed request: HTTP 400
  return body;
}

}  // namespace moestream::api
