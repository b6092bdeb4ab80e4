// Shared by the tokenizer tests: the vendored DeepSeek-V3(.1) tokenizer, loaded once.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "text/tokenizer/tokenizer.h"
#include "support/file_contents.h"

namespace moestream::testing {

inline std::string vendored_tokenizer_dir() {
  return std::string(MOESTREAM_SOURCE_DIR) + "/third_party/deepseek-v3-tokenizer";
}

inline const Tokenizer& deepseek_tokenizer() {
  static const Tokenizer* tokenizer = [] {
    auto loaded = Tokenizer::from_file(vendored_tokenizer_dir() + "/tokenizer.json");
    REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
    return new Tokenizer(std::move(loaded).value());
  }();
  return *tokenizer;
}

}  // namespace moestream::testing
