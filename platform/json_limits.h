// Limits for every JSON text the program reads (chat requests, config.json, safetensors
// headers, tokenizer.json, ...): a size limit and a nesting-depth limit, checked by a linear
// pre-scan before nlohmann parses, so that hostile input (100,000 nested brackets) is an error
// message instead of a stack overflow in the parser or in the code that walks the result.
// Future request bodies (the server) use the same entry point: parse_json_with_limits().
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace moestream {

struct JsonLimits {
  uint64_t max_bytes = uint64_t{64} << 20;  // 64 MiB: tokenizer.json is ~8 MiB
  uint32_t max_depth = 128;                 // the deepest real input (chat tool schemas) is < 20
  // Members of one object. nlohmann::ordered_json inserts in linear time, so an object with
  // 60,000 keys took 5 s to parse (quadratic); inputs read as ordered_json need a low limit.
  uint64_t max_object_members = uint64_t{1} << 20;
};

// Limits for the kinds of input the program reads; one place to change them.
namespace json_limits {
inline constexpr JsonLimits kConfig{uint64_t{16} << 20, 64, 1 << 20};            // config.json, tokenizer_config.json
inline constexpr JsonLimits kTokenizer{uint64_t{256} << 20, 64, 1 << 22};        // tokenizer.json (128K vocab)
inline constexpr JsonLimits kSafetensorsHeader{uint64_t{1} << 30, 16, 1 << 22};  // safetensors headers
inline constexpr JsonLimits kCheckpointIndex{uint64_t{256} << 20, 16, 1 << 22};  // model.safetensors.index.json
inline constexpr JsonLimits kChatRequest{uint64_t{64} << 20, 128, 4096};         // messages / tools / request bodies (ordered_json)
}  // namespace json_limits

// The pre-scan alone: OK when `text` is at most limits.max_bytes long, no bracket ([ or {)
// outside a string nests deeper than limits.max_depth and no object has more than
// limits.max_object_members members. `what` names the input in the message
// ("chat.json", "--messages"). Invalid JSON that is within the limits passes; the parser
// reports it. Linear time, constant memory.
Status check_json_limits(std::string_view text, const JsonLimits& limits, std::string_view what);

// Checks the limits, then parses. Errors are kInvalidArgument; callers that read files they
// consider corrupt can re-code them. Json is nlohmann::json or nlohmann::ordered_json.
template <typename Json = nlohmann::json>
Result<Json> parse_json_with_limits(std::string_view text, const JsonLimits& limits,
                                    std::string_view what) {
  MOESTREAM_TRY(check_json_limits(text, limits, what));
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument(std::string(what) + " is not valid JSON");
  return j;
}

}  // namespace moestream
