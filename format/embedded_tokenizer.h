// The DeepSeek-V3 tokenizer files (third_party/deepseek-v3-tokenizer), built into the binary so
// synthetic models and checkpoints without a tokenizer still get the real one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace moestream {

std::string_view embedded_tokenizer_json();
std::string_view embedded_tokenizer_config_json();

// How many token ids a tokenizer.json defines: the highest id in model.vocab or added_tokens,
// plus one. A container whose tokenizer defines more ids than its model's vocab_size is
// refused when written (a text prompt would produce ids the model cannot embed).
Result<int64_t> tokenizer_json_id_limit(std::string_view tokenizer_json);
// OK when the tokenizer is empty (none embedded) or defines at most vocab_size ids.
Status check_tokenizer_fits(std::string_view tokenizer_json, int64_t vocab_size);

struct TokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};

// The built-in tokenizer for a model of `vocab_size` token ids: unchanged when it fits (the
// real 129,280-token vocabulary); otherwise cut down for a synthetic model: the BPE vocabulary
// keeps its first ids and the merges among them, and the added tokens above the cut (chat and
// thinking markers) move to the top ids, so text and chat templates still tokenize and every
// id stays below vocab_size. An error when vocab_size is too small to hold even the bytes.
Result<TokenizerFiles> embedded_tokenizer_for_vocab(int64_t vocab_size);

}  // namespace moestream
