// Shared by the format tests: paths of the golden tiny checkpoints and a converted copy.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "interop/hf_converter.h"
#include "support/temp_dir.h"

namespace moestream::testing {

inline std::string golden_dir(const std::string& variant) {
  return std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/" + variant;
}

// Converts a golden variant into `dir` and returns the .mst path.
inline std::string convert_golden(const TempDir& dir, const std::string& variant,
                                  BlobCompression compression = BlobCompression::kNone) {
  ConvertOptions options;
  options.progress = false;
  options.writer.compression = compression;
  const std::string out = dir.file(variant + ".mst");
  auto summary = convert_hf_checkpoint(golden_dir(variant), out, options);
  REQUIRE_MESSAGE(summary.ok(), summary.status().to_string());
  return out;
}

}  // namespace moestream::testing
