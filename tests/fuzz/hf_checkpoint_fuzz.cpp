// libFuzzer: a Hugging Face checkpoint directory (interop/hf_checkpoint.h) whose config.json
// and model.safetensors.index.json are arbitrary bytes must open or be refused, never crash.
// The input is split at the first NUL: config.json before it, the index after it.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "interop/hf_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/moestream-fuzz-ck-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  std::ofstream(dir + "/config.json", std::ios::binary | std::ios::trunc) << all.substr(0, nul);
  std::ofstream(dir + "/model.safetensors.index.json", std::ios::binary | std::ios::trunc)
      << (nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1));
  (void)moestream::HfCheckpoint::open(dir);
  return 0;
}
