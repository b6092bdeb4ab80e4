// libFuzzer: the shared JSON entry point (platform/json_limits.h) must turn any bytes into a
// value or an error, never a crash; whatever it accepts stays within the depth limit, so
// walking and dumping the result is safe.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/json_limits.h"

namespace {

size_t depth_of(const nlohmann::json& j) {
  size_t deepest = 0;
  if (j.is_structured()) {
    for (const auto& child : j) deepest = std::max(deepest, depth_of(child));
    return deepest + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const moestream::JsonLimits limits{1 << 20, 16};
  auto j = moestream::parse_json_with_limits(text, limits, "fuzz");
  if (j.ok()) {
    if (depth_of(*j) > limits.max_depth) std::abort();
    (void)j->dump();
  }
  auto o = moestream::parse_json_with_limits<nlohmann::ordered_json>(text, limits, "fuzz");
  if (o.ok() != j.ok()) std::abort();
  return 0;
}
