// libFuzzer: the chat template a model's tokenizer_config.json names (runtime/model_tokenizer.h)
// is found or left empty for any bytes; hostile JSON is never walked past the depth limit.
#include <cstdint>
#include <string_view>

#include "runtime/model_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)moestream::chat_template_from_tokenizer_config(text);
  return 0;
}
