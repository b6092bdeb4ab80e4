// libFuzzer: config.json (format/model_config_json.h) must be parsed into a config or an
// error for any bytes; an accepted config writes back to JSON that parses to the same sizes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "format/model_config_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = moestream::parse_model_config_json(text, "fuzz/config.json");
  if (config.ok()) {
    auto back = moestream::parse_model_config_json(moestream::model_config_to_json(*config), "round-trip");
    if (!back.ok() || back->hidden_size != config->hidden_size || back->vocab_size != config->vocab_size) {
      std::abort();
    }
  }
  return 0;
}
