// The DeepSeek-V3 tokenizer, built from a Hugging Face tokenizer.json: added tokens matched
// first, then the Split pre-tokenizer regexes (PCRE2), then byte-level BPE. Encoding gives the
// same ids as the reference implementation (@lenml/tokenizers, a port of transformers.js);
// decoding turns ids back into UTF-8 text. See docs/tokenizer.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/status.h"
#include "text/tokenizer/added_tokens.h"

namespace moestream {

struct EncodeOptions {
  bool add_bos = false;  // prepend the BOS token (chat templates write it themselves)
  // Recognize added-token text (e.g. "<｜User｜>") in the input. Turn off for untrusted text
  // that must not be able to inject control tokens; it is then encoded as plain text.
  bool match_added_tokens = true;
};

struct DecodeOptions {
  bool skip_special_tokens = false;  // drop tokens whose HF "special" flag is set
};

class Tokenizer {
 public:
  // `tokenizer_config_json` (optional) names the BOS/EOS tokens; without it they default
  // to DeepSeek's <｜begin▁of▁sentence｜> / <｜end▁of▁sentence｜> when present.
  static Result<Tokenizer> from_json(std::string_view tokenizer_json,
                                     std::string_view tokenizer_config_json = {});
  // Reads a tokenizer.json file (and tokenizer_config.json beside it, if there is one).
  static Result<Tokenizer> from_file(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Any bytes are accepted: ill-formed UTF-8 is first replaced by U+FFFD per maximal
  // subpart (what the reference sees when it reads the same bytes as UTF-8).
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // Lossy UTF-8: byte sequences the ids spell that are not valid UTF-8 become U+FFFD.
  // Ids the vocabulary does not have are skipped.
  std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

  // The bytes one token stands for (its raw bytes, not necessarily valid UTF-8 on its own);
  // empty for unknown ids and for special tokens when they are skipped.
  std::string_view token_bytes(int32_t id, const DecodeOptions& options = {}) const;

  // Id of an added token's exact text or of a vocabulary entry's bytes.
  std::optional<int32_t> token_id(std::string_view text) const;
  const AddedToken* added_token(int32_t id) const;
  bool is_special(int32_t id) const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  // One past the largest id the tokenizer knows.
  int32_t id_limit() const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moestream
