// Incremental detokenization for generation: push token ids as they are sampled and get
// back the text that can be shown now (see Utf8StreamDecoder). The concatenation of every
// push() and finish() equals Tokenizer::decode of all the ids.
#pragma once

#include <cstdint>
#include <string>

#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/utf8_stream_decoder.h"

namespace moestream {

class TokenStreamDecoder {
 public:
  explicit TokenStreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {})
      : tokenizer_(tokenizer), options_(options) {}

  std::string push(int32_t id) { return utf8_.push(tokenizer_.token_bytes(id, options_)); }
  std::string finish() { return utf8_.finish(); }

 private:
  const Tokenizer& tokenizer_;
  DecodeOptions options_;
  Utf8StreamDecoder utf8_;
};

}  // namespace moestream
