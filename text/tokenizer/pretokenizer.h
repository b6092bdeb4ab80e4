// The pre-tokenizer of tokenizer.json: a Sequence of regex `Split` steps (behavior
// "Isolated", each applied to every piece the previous one produced), then ByteLevel with
// use_regex=false, which only maps bytes and so needs no work here (BPE runs on raw bytes).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <vector>

#include "platform/status.h"
#include "text/tokenizer/pcre2_regex.h"

namespace moestream {

class PreTokenizer {
 public:
  // `config` is tokenizer.json's "pre_tokenizer" value. Anything this class does not
  // implement exactly (other behaviors, invert, ByteLevel with its own regex...) is an error.
  static Result<PreTokenizer> from_json(const nlohmann::json& config);

  class Scratch {
   public:
    explicit Scratch(const PreTokenizer& pre_tokenizer);

   private:
    friend class PreTokenizer;
    std::vector<std::unique_ptr<Pcre2Regex::Scratch>> regex_scratch_;
    std::vector<std::string_view> pieces_, next_;
  };

  // Replaces `out` with the pieces of `text` (valid UTF-8), in order; they cover the text.
  void split(std::string_view text, Scratch& scratch, std::vector<std::string_view>* out) const;

  size_t step_count() const { return steps_.size(); }

 private:
  PreTokenizer() = default;
  Status add_step(const nlohmann::json& step);
  std::vector<Pcre2Regex> steps_;
};

}  // namespace moestream
