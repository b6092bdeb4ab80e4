// libFuzzer: tokenizer.json + tokenizer_config.json (text/tokenizer/tokenizer.h) must load or
// be refused for any bytes; a tokenizer that loads must encode and decode without crashing.
// The input is split at the first NUL: tokenizer.json before it, tokenizer_config.json after.
#include <cstdint>
#include <string_view>

#include "text/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view tokenizer_json = all.substr(0, nul);
  const std::string_view config_json = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  auto tokenizer = moestream::Tokenizer::from_json(tokenizer_json, config_json);
  if (tokenizer.ok()) {
    auto ids = tokenizer->encode("Hello <｜User｜> wörld 123");
    (void)tokenizer->decode(ids);
  }
  return 0;
}
