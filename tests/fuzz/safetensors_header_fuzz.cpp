// libFuzzer: the safetensors header parser must reject any bytes without crashing, and every
// entry it accepts must lie inside the (claimed) file.
#include <cstdint>
#include <cstdlib>

#include "interop/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The data section is 64 bytes, so offsets beyond it must be refused.
  const uint64_t file_size = 8 + size + 64;
  auto header = moestream::parse_safetensors_header(data, size, file_size, "fuzz.safetensors");
  if (header.ok()) {
    for (const auto& e : header->entries) {
      if (e.offset < 8 + size || e.offset + e.size > file_size) std::abort();
      if (e.numel() * moestream::dtype_size(e.dtype) != e.size) std::abort();
    }
  }
  return 0;
}
